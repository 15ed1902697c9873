"""The Doyle-Fuller-Newman model as a case-file model (``[case] model = "dfn"``).

Wraps :class:`electrolyx.models.dfn.DFN`: reads the parameter set, mesh resolution, protocol and
time-stepping settings from the validated case, streams ``timeseries.csv`` (``time_s,
voltage_V, current_A, discharge_capacity_Ah`` and particle averages, lithium inventory, step
index), and writes profiles and fields at t = 0, the requested times, step ends and events.
Fields live on the whole cell: solid-phase quantities are NaN in the separator. In 2D/3D
(``[geometry]``) the fields are maps of the in-plane non-uniformity: interfacial current density,
particle stoichiometry (local state of charge) and the current density in the foils.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mpi4py import MPI

import dolfinx
import numpy as np
from dolfinx import fem

from .. import parameters as parameter_sets
from ..constants import FARADAY
from ..drive_cycle import read_drive_cycle
from ..experiment import parse_experiment, repeat
from ..output import PhaseTimer, ResultWriter
from ..parameters import CellParameters
from ..schema import CaseError
from ..solver import NewtonFailure
from .base import Model
from .dfn import (
    DFN,
    NODAL_FIELDS,
    CellGeometry,
    CurrentCollectorFoil,
    DFNResolution,
    LithiumCounterElectrode,
    StepFailure,
    TabPlacement,
)
from .dfn_schema import PARAMETER_SETS, SCHEMA

__all__ = ["DFNCase", "read_drive_cycle"]


_FIELDS = {
    "electrolyte_concentration_mol_m3": "electrolyte_concentration_mol_m3",
    "electrolyte_potential_V": "electrolyte_potential_V",
    "solid_potential_V": ("negative_electrode_potential_V", "positive_electrode_potential_V"),
    "particle_surface_concentration_mol_m3": (
        "negative_particle_surface_concentration_mol_m3",
        "positive_particle_surface_concentration_mol_m3",
    ),
    "interfacial_current_density_A_m2": (
        "negative_interfacial_current_density_A_m2",
        "positive_interfacial_current_density_A_m2",
    ),
}


class DFNCase(Model):
    """Doyle-Fuller-Newman cell under a protocol of current, power and voltage steps."""

    name = "dfn"
    description = "Doyle-Fuller-Newman lithium-ion cell (porous electrodes, particles, kinetics)"
    schema = SCHEMA

    @classmethod
    def check_consistency(cls, settings: dict[str, Any], case_dir: Path) -> None:
        """The protocol sentences must parse; drive-cycle and BPX files must be readable."""
        cls._read_parameters(settings, case_dir)
        cls._counter_electrode(settings)
        cls._geometry(settings)
        experiment = settings["experiment"]
        if not experiment["steps"] and experiment["drive_cycle"] is None:
            raise CaseError(["experiment: give steps, a drive_cycle file, or both"])
        if experiment["steps"]:
            try:
                parse_experiment(experiment["steps"])
            except ValueError as error:
                raise CaseError([f"experiment.steps: {error}"]) from None
        if experiment["drive_cycle"] is not None:
            try:
                read_drive_cycle(case_dir / experiment["drive_cycle"])
            except (OSError, ValueError) as error:
                raise CaseError([f"experiment.drive_cycle: {error}"]) from None

    @staticmethod
    def _counter_electrode(settings: dict[str, Any]) -> LithiumCounterElectrode | None:
        """The lithium-metal counter electrode of a half cell (``[cell]``), None for a full cell.

        Raises:
            CaseError: naming the key, for a half cell without j0_Li or a full cell with one.
        """
        cell = settings["cell"]
        j0 = cell["lithium_exchange_current_density"]
        if cell["configuration"] == "full":
            if j0 is not None:
                raise CaseError(
                    ['cell.lithium_exchange_current_density: only with configuration = "half"']
                )
            return None
        if j0 is None:
            raise CaseError(
                ['cell.lithium_exchange_current_density: required with configuration = "half"']
            )
        return LithiumCounterElectrode(j0)

    @staticmethod
    def _geometry(settings: dict[str, Any]) -> CellGeometry | None:
        """The 2D/3D stack of ``[geometry]``, None in 1D.

        Raises:
            CaseError: naming the key, the value and what is allowed.
        """
        g = settings["geometry"]
        dimension = g["dimension"]
        half = settings["cell"]["configuration"] == "half"
        errors = []
        if dimension == 1:
            extra = [
                key
                for key in ("height", "width", "negative_tab", "positive_tab")
                if g[key] is not None
            ]
            extra += [k for k in ("negative_foil_thickness", "positive_foil_thickness") if g[k]]
            extra += ["tabs"] if g["tabs"] else []
            errors += [
                f"geometry.{key} = {g[key]}: only with dimension = 2 or 3 (dimension is 1)"
                for key in extra
            ]
            if errors:
                raise CaseError(errors)
            return None
        if g["height"] is None:
            errors.append(f"geometry.height: required with dimension = {dimension}")
        if dimension == 2 and g["width"] is not None:
            errors.append("geometry.width: only with dimension = 3 (2D is a cross-section)")
        if dimension == 3 and g["width"] is None:
            errors.append("geometry.width: required with dimension = 3")
        if half and g["negative_foil_thickness"] > 0:
            errors.append(
                f"geometry.negative_foil_thickness = {g['negative_foil_thickness']}: a half "
                "cell has no negative foil (allowed: 0)"
            )
        spans = {}
        for side in ("negative", "positive"):
            key = f"{side}_tab"
            if not g["tabs"] or (side == "negative" and half):
                if g[key] is not None:
                    errors.append(f"geometry.{key}: only with tabs = true (and a {side} foil)")
                continue
            if g[f"{side}_foil_thickness"] == 0:
                errors.append(
                    f"geometry.tabs = true: needs geometry.{side}_foil_thickness > 0 "
                    "(a tab leaves its foil)"
                )
            span = g[key]
            if dimension == 2:
                if span is not None:
                    errors.append(f"geometry.{key}: only in 3D (a 2D tab is the foil's end)")
                spans[side] = TabPlacement()
                continue
            width = g["width"] or 0.0
            if span is None or len(span) != 2 or not 0 <= span[0] < span[1] <= width:
                errors.append(
                    f"geometry.{key} = {span}: give [start, end] with 0 <= start < end <= "
                    f"width ({width} m)"
                )
                continue
            spans[side] = TabPlacement(*span)
        if errors:
            raise CaseError(errors)

        def foil(side: str) -> CurrentCollectorFoil | None:
            thickness = g[f"{side}_foil_thickness"]
            if thickness == 0:
                return None
            return CurrentCollectorFoil(thickness, g[f"{side}_foil_conductivity"], g["foil_cells"])

        return CellGeometry(
            height_m=g["height"],
            height_cells=g["height_cells"],
            width_m=g["width"] if dimension == 3 else None,
            width_cells=g["width_cells"],
            negative_foil=foil("negative"),
            positive_foil=foil("positive"),
            negative_tab=spans.get("negative"),
            positive_tab=spans.get("positive"),
            tab_length_m=g["tab_length"],
            tab_cells=g["tab_cells"],
        )

    @staticmethod
    def _read_parameters(settings: dict[str, Any], case_dir: Path) -> CellParameters:
        """The built-in set named by ``parameters.set``, or the cell of ``parameters.bpx_file``.

        Raises:
            CaseError: naming the key, for an unreadable or invalid BPX file, or an initial
                state of charge without one.
        """
        physics = settings["parameters"]
        if physics["bpx_file"] is None:
            if physics["initial_state_of_charge"] is not None:
                raise CaseError(["parameters.initial_state_of_charge: only with bpx_file"])
            return getattr(parameter_sets, PARAMETER_SETS[physics["set"]])()
        try:
            return parameter_sets.read_bpx(
                case_dir / physics["bpx_file"], physics["initial_state_of_charge"]
            )
        except parameter_sets.BPXError as error:
            raise CaseError([f"parameters.bpx_file: {error}"]) from None

    def __init__(self, settings: dict[str, Any], case_dir: Path, comm: MPI.Comm):
        super().__init__(settings, case_dir, comm)
        self.parameters = self._read_parameters(settings, case_dir)
        experiment = settings["experiment"]
        self.steps = (
            parse_experiment(repeat(experiment["steps"], experiment["repeat"]))
            if experiment["steps"]
            else []
        )
        self.drive_cycle = (
            read_drive_cycle(case_dir / experiment["drive_cycle"])
            if experiment["drive_cycle"] is not None
            else None
        )
        self.model: DFN | None = None

    def build_mesh(self) -> dolfinx.mesh.Mesh:
        """Build the DFN (mesh, submeshes, forms)."""
        mesh = self.settings["mesh"]
        stepping = self.settings["time_stepping"]
        physics = self.settings["parameters"]
        self.model = DFN(
            self.parameters,
            DFNResolution(
                mesh["negative_cells"],
                mesh["separator_cells"],
                mesh["positive_cells"],
                mesh["negative_radial_points"],
                mesh["positive_radial_points"],
                mesh["radial_surface_refinement"],
            ),
            comm=self.comm,
            double_layer=physics["double_layer"],
            temperature_K=physics["temperature"],
            relative_tolerance=stepping["relative_tolerance"],
            absolute_tolerance=stepping["absolute_tolerance"],
            max_step_s=stepping["max_step"],
            counter_electrode=self._counter_electrode(self.settings),
            geometry=self._geometry(self.settings),
        )
        return self.model.mesh

    @property
    def mesh(self) -> dolfinx.mesh.Mesh:
        """The cell mesh (negative electrode | separator | positive electrode)."""
        return self.model.mesh

    def unknowns(self) -> int:
        """Global number of unknowns of all fields (six; four in a half cell)."""
        return sum(
            V.dofmap.index_map.size_global * V.dofmap.index_map_bs for V in self.model.spaces
        )

    def diagnostics(self) -> dict[str, Any]:
        """Capacities, time scales, the parameter set's source and the geometry."""
        p = self.parameters
        area = p.electrode_area_m2
        capacity = {}
        diffusion_time = {}
        electrodes = [("negative", p.negative), ("positive", p.positive)]
        if self.model is not None and self.model.half_cell:
            electrodes = electrodes[1:]
        for name, electrode in electrodes:
            charge = (
                electrode.active_material_volume_fraction
                * electrode.max_concentration_mol_m3
                * electrode.thickness_m
                * area
                * FARADAY
                / 3600.0
            )
            capacity[f"{name}_electrode_capacity_Ah"] = charge
            diffusion_time[f"{name}_particle_diffusion_time_s"] = float(
                electrode.particle_radius_m**2
                / electrode.particle_diffusivity(electrode.initial_concentration_mol_m3)
            )
        return {
            "parameter_set": p.name,
            "parameter_source": p.citation,
            "nominal_capacity_Ah": p.nominal_capacity_Ah,
            "one_c_current_A": p.one_c_current_A(),
            "electrode_area_m2": area,
            "cell_thickness_m": p.thickness_m if self.model is None else self.model.length_m,
            **capacity,
            **diffusion_time,
            "steps": [s.text for s in self.steps],
            **self._geometry_diagnostics(),
        }

    def _geometry_diagnostics(self) -> dict[str, Any]:
        model = self.model
        if model is None or model.geometry is None:
            return {"dimension": 1}
        return {
            "dimension": model.geometry.dimension,
            "modelled_electrode_area_m2": model.modelled_area_m2,
            "layer_pairs_of_the_cell": model.area_scale,
            "positive_terminal": model.positive_terminal,
            "positive_terminal_area_m2": model.terminal_area_m2,
            "negative_terminal": model.negative_terminal,
            "profile_line_in_plane_point_m": model.profile_point().tolist(),
        }

    def _output_functions(self) -> dict[str, fem.Function]:
        space = fem.functionspace(self.mesh, ("Lagrange", 1))
        if self.model.geometry is None:
            return {name: fem.Function(space, name=name) for name in _FIELDS}
        functions = {name: fem.Function(space, name=name) for name in NODAL_FIELDS}
        if any(e.foil is not None for e in self.model.electrodes):
            gdim = self.mesh.geometry.dim
            vectors = fem.functionspace(self.mesh, ("Lagrange", 1, (gdim,)))
            name = "collector_current_density_A_m2"
            functions[name] = fem.Function(vectors, name=name)
        return functions

    def _fill(self, functions: dict[str, fem.Function]) -> None:
        """Nodal values of the whole-cell output fields (1D: from the model's profiles)."""
        if self.model.geometry is not None:
            fields = self.model.nodal_fields(functions["solid_potential_V"].function_space)
            for name, values in fields.items():
                functions[name].x.array[:] = values
            if "collector_current_density_A_m2" in functions:
                function = functions["collector_current_density_A_m2"]
                current = self.model.collector_current_density(function.function_space)
                function.x.array[:] = current.reshape(-1)
            return
        profiles = self.model.profiles()
        for name, source in _FIELDS.items():
            function = functions[name]
            x = function.function_space.tabulate_dof_coordinates()[:, 0]
            values = np.full(x.shape, np.nan)
            # (A half cell has no negative-electrode profiles.)
            for key in (source,) if isinstance(source, str) else source:
                if key not in profiles:
                    continue
                xs, vs = profiles[key]
                inside = (x >= xs[0] - 1e-15) & (x <= xs[-1] + 1e-15)
                values[inside] = np.interp(x[inside], xs, vs)
            function.x.array[:] = values

    def run(
        self, writer: ResultWriter, timer: PhaseTimer, log: Callable[[str], None]
    ) -> dict[str, Any]:
        """Run the protocol, streaming the time series and writing profiles and fields."""
        model = self.model
        output = self.settings["output"]
        with timer.phase("forms"):
            functions = self._output_functions()
            writer.set_profiles(self.mesh, output["profiles"])
            if output["fields"]:
                writer.set_fields(list(functions.values()))
        solution = model.solution
        output_time = 0.0
        # A half cell has no negative particles: no column for them.
        negative_column = "average_negative_particle_concentration_mol_m3"
        dissolved_column = "lithium_dissolved_mol"
        skipped = {negative_column} if model.half_cell else {dissolved_column}

        last_progress = MPI.Wtime()

        def observe(kind: str) -> None:
            nonlocal output_time, last_progress
            start = MPI.Wtime()
            if kind == "row":
                i = len(solution.time_s) - 1
                if start - last_progress > 15.0:
                    # Progress of long (2D/3D) runs, every 15 s of wall time (rank 0 prints).
                    last_progress = start
                    log(
                        f"t = {solution.time_s[i]:.6g} s, {solution.voltage_V[i]:.5f} V, "
                        f"{solution.discharge_capacity_Ah[i]:.5g} A h, "
                        f"protocol step {solution.step_index[i] + 1}, "
                        f"{solution.newton_iterations} Newton iterations so far"
                    )
                row = {
                    "time_s": solution.time_s[i],
                    "voltage_V": solution.voltage_V[i],
                    "current_A": solution.current_A[i],
                    "discharge_capacity_Ah": solution.discharge_capacity_Ah[i],
                    "average_negative_particle_concentration_mol_m3": (
                        solution.average_negative_particle_concentration_mol_m3[i]
                    ),
                    "average_positive_particle_concentration_mol_m3": (
                        solution.average_positive_particle_concentration_mol_m3[i]
                    ),
                    "lithium_mol": solution.lithium_mol[i],
                    dissolved_column: solution.lithium_dissolved_mol[i],
                    "step_index": solution.step_index[i],
                }
                writer.add_timeseries_row(
                    {key: value for key, value in row.items() if key not in skipped}
                )
            else:
                self._fill(functions)
                scalars = {
                    name: f for name, f in functions.items() if f.function_space.value_size == 1
                }
                writer.write_profiles(model.time_s, scalars)
                writer.write_fields(model.time_s)
            output_time += MPI.Wtime() - start

        model.observer = observe
        with timer.phase("solve"):
            try:
                model.run_experiment(self.steps, output_times_s=output["profile_times"])
                if self.drive_cycle is not None:
                    start = model.time_s
                    model.drive_cycle(
                        *self.drive_cycle,
                        output_times_s=[t - start for t in output["profile_times"] if t > start],
                    )
            except StepFailure as failure:
                raise NewtonFailure("step failure", [], where=str(failure)) from failure
            finally:
                model.observer = None
        timer.seconds["solve"] -= output_time
        timer.seconds["output"] = timer.seconds.get("output", 0.0) + output_time
        lithium = np.asarray(solution.lithium_mol)
        # In a half cell the lithium dissolved from the metal joins the inventory.
        dissolved = np.asarray(solution.lithium_dissolved_mol)
        log(
            f"{len(solution.time_s)} times, end {solution.time_s[-1]:.6g} s at "
            f"{solution.voltage_V[-1]:.6g} V, discharge capacity "
            f"{solution.discharge_capacity_Ah[-1]:.6g} A h"
        )
        return {
            "time_steps": len(solution.time_s) - 1,
            "rejected_steps": solution.rejected_steps,
            "newton_iterations": solution.newton_iterations,
            "termination_of_last_step": solution.termination,
            "lithium_inventory": {
                "initial_mol": float(lithium[0]),
                "final_mol": float(lithium[-1]),
                "lithium_metal_dissolved_mol": float(dissolved[-1]),
                "max_relative_change": float(
                    np.max(np.abs(lithium - dissolved - lithium[0])) / lithium[0]
                ),
            },
            "reaction_current_A": model.reaction_current_A(),
        }
