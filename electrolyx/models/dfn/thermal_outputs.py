"""Thermal outputs of a DFN cell: heat by source, temperatures and the energy balance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mpi4py import MPI

import numpy as np
from dolfinx import fem

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
        compile_ = lambda form: fem.form(form, entity_maps=maps)  # noqa: E731
        # The heat by source, compiled as one module (electrolyx.jit).
        heat = forms(
            [sum(q * m for q, m in pairs) if pairs else None for pairs in sources.values()],
            entity_maps=maps,
        )
        self._heat = dict(zip(sources, heat, strict=True))
        self.thermal: CellThermal | None = problem.thermal
        thermal = self.thermal
        if thermal is None:
            return
        T = thermal.temperature
        mesh = problem.layout.mesh
        one = fem.Constant(mesh, 1.0)
        if thermal.model.model == "lumped":
            volume = problem.integral(fem.form(one * problem.dx))
            self._average = compile_(T / volume * problem.dx)
        else:
            # The mean over the stack and its collectors (thickness-weighted, as PyBaMM's
            # "Volume-averaged cell temperature"; in 2D/3D the foils and tabs are cells of the
            # mesh), and the stored heat [J per m2 in 1D, J for the mesh in 2D/3D].
            faces = thermal._faces
            weights = [
                (thickness, ds)
                for thickness, (_, _, _, ds) in zip(thermal._face_thickness, faces, strict=True)
                if thickness > 0.0
            ]
            volume = one * problem.dx
            for thickness, ds in weights:
                volume += thickness * one * ds
            total = problem.integral(fem.form(volume))
            average = T * problem.dx
            for thickness, ds in weights:
                average += thickness * T * ds
            self._average = compile_((1.0 / total) * average)
            T0 = thermal.initial_K
            stored = sum(c * (T - T0) * dx for c, _, dx in thermal._regions)
            stored += sum(c * (T - T0) * ds for _, _, c, ds in faces if c != 0.0)
            self._stored = compile_(stored)
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
        self._generated = unknowns["heat_generated"]
        self._removed = unknowns["heat_removed"]

    def heat_W(self) -> dict[str, float]:
        """Heat generated in the whole cell by source and in total [W] (collective)."""
        scale = self.problem.layout.area_scale
        values = {
            f"heat_{name}_W": 0.0 if form is None else self.problem.integral(form) * scale
            for name, form in self._heat.items()
        }
        values["heat_total_W"] = sum(values.values())
        return values

    def _real_values(self, *unknowns) -> list[float]:
        """Physical values of one-dof unknowns (each owned by one rank; one reduction)."""
        local = np.zeros(2 * len(unknowns))
        for i, unknown in enumerate(unknowns):
            if unknown.space.dofmap.index_map.size_local > 0:
                local[2 * i : 2 * i + 2] = unknown.function.x.array[0], 1.0
        total = np.empty_like(local)
        self.problem.comm.Allreduce(local, total, op=MPI.SUM)
        return [
            unknown.scale * (total[2 * i] / total[2 * i + 1] + unknown.offset_value())
            for i, unknown in enumerate(unknowns)
        ]

    def temperatures(self) -> dict[str, float]:
        """Volume-averaged and highest temperature [K] and where it is (x [m]) (collective).

        The lumped model has one temperature: no position.
        """
        thermal = self.thermal
        if thermal is None:
            return {}
        problem = self.problem
        average = problem.integral(self._average)
        if thermal.model.model == "lumped":
            return {"temperature_K": average, "max_temperature_K": average}
        unknown = problem.unknowns["temperature"]
        points = self._points
        owned = len(points)
        values = unknown.physical_array()[:owned]
        comm = problem.comm
        high = comm.allreduce(float(values.max()) if owned else -np.inf, op=MPI.MAX)
        # Where: of the nodes within TIE_K of the highest, the first by (x, y, z), so that
        # equal temperatures (t = 0) give the same place on any partition.
        near = values[self._by_position] >= high - TIE_K
        local = tuple(points[self._by_position[near.argmax()]]) if near.any() else None
        where = min(point for point in comm.allgather(local) if point is not None)
        # Where: x through the stack; in 2D/3D also y (and z) in the plane.
        names = ["max_temperature_position_m", "max_temperature_y_m", "max_temperature_z_m"]
        return {
            "temperature_K": average,
            "max_temperature_K": float(high),
            **{name: float(value) for name, value in zip(names, where, strict=False)},
        }

    def energy_J(self) -> dict[str, float]:
        """Heat generated, removed and stored since t = 0 [J] (whole cell; collective)."""
        thermal = self.thermal
        if thermal is None:
            return {}
        problem = self.problem
        generated, removed = self._real_values(self._generated, self._removed)
        if thermal.model.model == "lumped":
            (T,) = self._real_values(problem.unknowns["temperature"])
            stored = thermal.heat_capacity_J_K * (T - thermal.initial_K)
        else:
            stored = problem.integral(self._stored) * problem.layout.area_scale
        return {
            "heat_generated_J": generated,
            "heat_removed_J": removed,
            "heat_stored_J": stored,
        }

    def row(self) -> dict[str, float]:
        """The time-series columns: heat by source, temperatures, energies."""
        return {**self.heat_W(), **self.temperatures(), **self.energy_J()}
