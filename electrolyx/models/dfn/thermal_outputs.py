"""Thermal outputs of a DFN cell: heat by source, temperatures and the energy balance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mpi4py import MPI

import numpy as np
from dolfinx import fem

from electrolyx.form_sums import sum_forms
from electrolyx.jit import forms

if TYPE_CHECKING:
    from .thermal import CellThermal

__all__ = ["ThermalOutputs"]

#: Temperatures closer than this to the highest count as equal for its position [K].
TIE_K = 1e-9


class ThermalOutputs:
    """Heat by source [W], temperatures and the energy balance, from the problem's forms."""

    def __init__(self, problem, sources: dict[str, list[tuple]]):
        self.problem = problem
        maps = problem.entity_maps
        heat = [sum_forms(q * m for q, m in pairs) if pairs else None for pairs in sources.values()]
        self.thermal: CellThermal | None = problem.thermal
        thermal = self.thermal
        #: The stored heat's form (2D/3D and x-full; the lumped model's is C (T - T0)).
        self._stored: fem.Form | None = None
        if thermal is None:
            # The heat by source, compiled as one module (electrolyx.jit).
            self._heat = dict(zip(sources, forms(heat, entity_maps=maps), strict=True))
            return
        T = thermal.temperature
        mesh = problem.layout.mesh
        one = fem.Constant(mesh, 1.0)
        # The volume the mean temperature is over (set once it is integrated, below).
        volume = fem.Constant(mesh, 1.0)
        stored = None
        lumped = thermal.model.model == "lumped"
        # The mean over the stack and its collectors (thickness-weighted, as PyBaMM's
        # "Volume-averaged cell temperature"; in 2D/3D the foils and tabs are cells of the
        # mesh): each collector lumped on a face weighs with its thickness.
        weights = (
            []
            if lumped
            else [
                (thickness, ds)
                for thickness, (_, _, _, ds) in zip(
                    thermal._face_thickness, thermal._faces, strict=True
                )
                if thickness > 0.0
            ]
        )

        def over_the_cell(f):
            """Integral of f over the cells, plus each lumped face's thickness times f's there."""
            return sum_forms([f * problem.dx] + [thickness * f * ds for thickness, ds in weights])

        volume_form = over_the_cell(one)
        if lumped:
            average = T / volume * problem.dx
        else:
            average = (1.0 / volume) * over_the_cell(T)
            # The stored heat [J per m2 in 1D, J for the mesh in 2D/3D].
            faces = thermal._faces
            T0 = thermal.initial_K
            stored = sum_forms(
                [c * (T - T0) * dx for c, _, dx in thermal._regions]
                + [c * (T - T0) * ds for _, _, c, ds in faces if c != 0.0]
            )
        # All compiled as one module (electrolyx.jit): one look-up in the form cache.
        heat, volume_form, self._average, self._stored, cooling = forms(
            [heat, volume_form, average, stored, list(thermal.cooling_W.values())],
            entity_maps=maps,
        )
        self._heat = dict(zip(sources, heat, strict=True))
        #: The heat removed through each cooled boundary [W, whole cell] (lumped: "cell").
        self._cooling = dict(zip(thermal.cooling_W, cooling, strict=True))
        #: Their columns (none for the lumped model's one cooling, which is heat_removed_W).
        self._cooling_columns = (
            [] if lumped else [f"heat_removed_{name}_W" for name in thermal.cooling_W]
        )
        volume.value = problem.integral(volume_form)
        if self._stored is not None:
            space = problem.unknowns["temperature"].space
            # The owned nodes' coordinates, for where the highest temperature is (the mesh
            # does not move).
            owned = space.dofmap.index_map.size_local
            dimension = problem.layout.mesh.geometry.dim
            self._points = space.tabulate_dof_coordinates()[:owned, :dimension]
            #: The owned nodes by (x, y, z) (where the highest temperature is: the first of
            #: those within TIE_K of it in this order).
            self._by_position = np.lexsort(self._points.T[::-1])
        unknowns = problem.unknowns
        #: The one-dof unknowns read at each row: generated and removed heat [J] (and the
        #: lumped temperature [K]).
        self._one_dof = [unknowns["heat_generated"], unknowns["heat_removed"]]
        if lumped:
            self._one_dof.append(unknowns["temperature"])
        #: Their values' storage (a view that never moves) on the rank that owns each, else None.
        self._one_dof_values = [
            unknown.function.x.array if unknown.space.dofmap.index_map.size_local > 0 else None
            for unknown in self._one_dof
        ]

    def heat_W(self) -> dict[str, float]:
        """Heat generated in the whole cell by source and in total [W] (collective)."""
        return self._evaluate()[0]

    def temperatures(self) -> dict[str, float]:
        """Volume-averaged and highest temperature [K] and where it is (x [m]) (collective).

        The lumped model has one temperature: no position.
        """
        return self._evaluate()[1]

    def energy_J(self) -> dict[str, float]:
        """Heat generated, removed and stored since t = 0 [J] (whole cell; collective)."""
        return self._evaluate()[2]

    def cooling_W(self) -> dict[str, float]:
        """Heat removed now [W], in all and through each cooled boundary (collective).

        ``heat_removed_W`` (the rate of ``heat_removed_J``) and, with named boundaries (x-full,
        2d, 3d), ``heat_removed_<boundary>_W`` of each boundary with h > 0: area_scale int h
        (T - T_amb) ds, the terms of the removed heat's row (negative where heat flows in).
        """
        return self._evaluate()[3]

    def row(self) -> dict[str, float]:
        """The time-series columns: heat by source, temperatures, energies (collective)."""
        heat, temperatures, energy, cooling = self._evaluate()
        return {**heat, **cooling, **temperatures, **energy}

    def _evaluate(self) -> tuple[dict[str, float], ...]:
        """Heat by source [W], temperatures [K] (and where), energies [J] and cooling [W].

        Collective; the last three empty without a thermal model.

        Every integral is assembled on each rank's cells and facets, and all of them are
        summed over the ranks in one reduction (none on one rank), together with the one-dof
        unknowns (the generated and removed heat; the lumped temperature): each is owned by
        one rank, which adds (value, 1), the others (0, 0). A row of the 1D x-full cell takes
        ~85 us this way, ~113 us with a reduction and a dictionary per quantity.
        """
        problem = self.problem
        thermal = self.thermal
        local = [
            0.0 if form is None else problem.local_integral(form) for form in self._heat.values()
        ]
        if thermal is not None:
            local.append(problem.local_integral(self._average))
            if self._stored is not None:
                local.append(problem.local_integral(self._stored))
            local += [problem.local_integral(form) for form in self._cooling.values()]
            for values in self._one_dof_values:
                local += [0.0, 0.0] if values is None else [float(values[0]), 1.0]
        sums = problem.sum_over_ranks(local)
        scale = problem.layout.area_scale
        heat = {
            f"heat_{name}_W": value * scale
            for name, value in zip(self._heat, sums, strict=False)  # the heat's sums come first
        }
        heat["heat_total_W"] = sum(heat.values())
        if thermal is None:
            return heat, {}, {}, {}
        sums = sums[len(self._heat) :]
        average = sums.pop(0)
        stored = None if self._stored is None else sums.pop(0) * scale
        through = [sums.pop(0) for _ in self._cooling]
        cooling = {"heat_removed_W": float(sum(through))}
        cooling.update(zip(self._cooling_columns, through, strict=False))
        generated, removed, *temperature = (
            unknown.scale * (sums[2 * i] / sums[2 * i + 1] + unknown.offset_value())
            for i, unknown in enumerate(self._one_dof)
        )
        if thermal.model.model == "lumped":
            stored = thermal.heat_capacity_J_K * (temperature[0] - thermal.initial_K)
            temperatures = {"temperature_K": average, "max_temperature_K": average}
        else:
            temperatures = {"temperature_K": average, **self._highest()}
        energy = {"heat_generated_J": generated, "heat_removed_J": removed, "heat_stored_J": stored}
        return heat, temperatures, energy, cooling

    def _highest(self) -> dict[str, float]:
        """The highest nodal temperature [K] and where it is (x, and y, z in 2D/3D) [m].

        Where: of the nodes within TIE_K of the highest, the first by (x, y, z), so that equal
        temperatures (t = 0) give the same place on any partition. On one rank no reduction
        (a 1D x-full row: 14 -> 8 us).
        """
        problem = self.problem
        order = self._by_position
        unknown = problem.unknowns["temperature"]
        # The owned nodes' temperatures in (x, y, z) order.
        values = unknown.physical_array()[order] if len(order) else np.zeros(0)
        comm = problem.comm
        if comm.size == 1:
            high = float(values.max())
        else:
            high = comm.allreduce(float(values.max()) if len(values) else -np.inf, op=MPI.MAX)
        near = values >= high - TIE_K
        # (Python floats: numpy scalars would be pickled through their reducers, ~10 us.)
        local = tuple(self._points[order[near.argmax()]].tolist()) if near.any() else None
        if comm.size > 1:
            local = min(point for point in comm.allgather(local) if point is not None)
        # Where: x through the stack; in 2D/3D also y (and z) in the plane.
        names = ["max_temperature_position_m", "max_temperature_y_m", "max_temperature_z_m"]
        return {"max_temperature_K": high, **dict(zip(names, local, strict=False))}
