"""The Doyle-Fuller-Newman model as a case-file model (``[case] model = "dfn"``).

Wraps :class:`electrolyx.models.dfn.DFN`: reads the parameter set, mesh resolution, protocol and
time-stepping settings from the validated case, streams ``timeseries.csv`` (``time_s,
voltage_V, current_A, discharge_capacity_Ah`` and particle averages, lithium inventory, step
index), and writes profiles and fields at t = 0, the requested times, step ends and events.
Fields live on the whole cell: solid-phase quantities are NaN in the separator. In 2D/3D
(``[geometry]``) the fields are maps of the in-plane non-uniformity: interfacial current density,
particle stoichiometry (local state of charge) and the current density in the foils.

The model's objects built from the settings, and the checks that need the parameter set, are in
:mod:`.case_inputs`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mpi4py import MPI

import dolfinx
import numpy as np
from dolfinx import fem

from ...constants import FARADAY
from ...drive_cycle import read_drive_cycle
from ...errors import CaseError
from ...experiment import parse_experiment, repeat
from ...output import PhaseTimer, ResultWriter
from ...parameters.by_name import (
    parameter_names,
)
from ...progress import Progress
from ...solver import NewtonFailure
from ..base import Model
from . import (
    DFN,
    DFNResolution,
    StepFailure,
)
from .case_inputs import CaseInputs, _check_voltage_window
from .cycles import CycleLog
from .problem import ELECTROLYTE_LAW_FLOOR

__all__ = ["DFNCase", "read_drive_cycle"]


class DFNCase(CaseInputs, Model):
    """Doyle-Fuller-Newman cell under a protocol of current, power and voltage steps."""

    name = "dfn"
    description = "Doyle-Fuller-Newman lithium-ion cell (porous electrodes, particles, kinetics)"

    @classmethod
    def check_consistency(cls, settings: dict[str, Any], case_dir: Path) -> None:
        """BPX and drive-cycle files must be readable; full-cell voltages in the set's window.

        The rules that need only the settings (half-cell keys, geometry, protocol sentences)
        are validators of :class:`electrolyx.settings.dfn.DFNSettings`.
        """
        parameters = cls._read_parameters(settings, case_dir)
        cls._check_mechanics(settings, parameters)
        cls._check_side_reactions(settings, parameters)
        cls._check_thermal(settings, parameters)
        experiment = settings["experiment"]
        # The window is the full cell's; a half cell (against lithium) has its own.
        if experiment["steps"] and settings["cell"]["configuration"] == "full":
            _check_voltage_window(parse_experiment(experiment["steps"]), parameters)
        if experiment["drive_cycle"] is not None:
            try:
                read_drive_cycle(case_dir / experiment["drive_cycle"])
            except (OSError, ValueError) as error:
                raise CaseError([f"experiment.drive_cycle: {error}"]) from None

    def __init__(self, settings: dict[str, Any], case_dir: Path, comm: MPI.Comm):
        super().__init__(settings, case_dir, comm)
        self.parameters = self._read_parameters(settings, case_dir)
        self._stack = None  # the cell elasticity of [elasticity], built with the outputs
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
            order=stepping["order"],
            first_step_s=stepping["first_step"],
            max_step_growth=stepping["max_step_growth"],
            integrator=stepping["integrator"],
            counter_electrode=self._counter_electrode(self.settings),
            geometry=self._geometry(self.settings),
            kinetics=self._kinetics(),
            row_interval_s=self.settings["output"]["row_interval"],
            mechanics=self._mechanics(self.settings),
            side_reactions=self._side_reactions(self.settings, self.parameters),
            thermal=self._thermal(self.settings),
            electrolyte_unknown=stepping["electrolyte_unknown"],
        )
        # The profiles go to profiles.csv (run), not into the model's solution as well.
        self.model.record_profiles = False
        return self.model.mesh

    @property
    def mesh(self) -> dolfinx.mesh.Mesh:
        """The cell mesh (negative electrode | separator | positive electrode)."""
        return self.model.mesh

    def unknowns(self) -> int:
        """Global number of unknowns of all fields (six; a half cell: five on TS, four on BDF2)."""
        return sum(
            V.dofmap.index_map.size_global * V.dofmap.index_map_bs for V in self.model.spaces
        )

    def parameter_names(self) -> dict[str, Any]:
        """Every PyBaMM/BPX name of the case's set with its value (after the overrides)."""
        return parameter_names(self.parameters)

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

    def _stack_elasticity(self):
        """The cell elasticity of ``[elasticity]`` (:mod:`.stack_elasticity`), or None."""
        table = self.settings["elasticity"]
        if not table["solve"]:
            return None
        from ..elasticity import ElasticMaterial
        from .stack_elasticity import StackElasticity

        layers = ("negative_electrode", "separator", "positive_electrode")
        layers += ("negative_foil", "positive_foil")
        materials = {
            name: ElasticMaterial(table[name]["youngs_modulus"], table[name]["poissons_ratio"])
            for name in layers
        }
        return StackElasticity(
            self.model,
            materials,
            table["casing"],
            table["stack_pressure"],
            linear_solver=table["linear_solver"],
        )

    # -- checkpoints (see electrolyx.models.dfn.checkpointing) ---------------------------------
    def resumable(self) -> bool:
        """The cell's runs can be resumed (on TS and on the BDF2 loop)."""
        return self.model is not None and self.model.resumable

    def checkpoint_fingerprint(self) -> str:
        """The cell's fingerprint (its unknowns' dofs on this rank)."""
        return self.model.checkpoint_fingerprint()

    def resume_from(self, scalars: dict[str, Any], arrays: dict[str, Any]) -> None:
        """Load a checkpoint's state into the cell."""
        self.model.resume_from(scalars, arrays)

    def _output_functions(self) -> dict[str, fem.Function]:
        space = fem.functionspace(self.mesh, ("Lagrange", 1))
        names = self.model.outputs.nodal_field_names
        functions = {}
        if self._stack is not None:
            # First, so that a report renders them among its first fields.
            functions["von_mises_stress_Pa"] = self._stack.von_mises
            functions["displacement_m"] = self._stack.displacement
        functions.update({name: fem.Function(space, name=name) for name in names})
        if any(e.foil is not None for e in self.model.electrodes):
            gdim = self.mesh.geometry.dim
            vectors = fem.functionspace(self.mesh, ("Lagrange", 1, (gdim,)))
            name = "collector_current_density_A_m2"
            functions[name] = fem.Function(vectors, name=name)
        return functions

    def _fill(self, functions: dict[str, fem.Function]) -> None:
        """Nodal values of the whole-cell output fields, from the model's own expressions."""
        if self._stack is not None:
            self._stack.update()
        fields = self.model.nodal_fields(functions["solid_potential_V"].function_space)
        for name, values in fields.items():
            functions[name].x.array[:] = values
        if "collector_current_density_A_m2" in functions:
            function = functions["collector_current_density_A_m2"]
            current = self.model.collector_current_density(function.function_space)
            function.x.array[:] = current.reshape(-1)

    def _elasticity_columns(self) -> dict[str, float]:
        """The cell elasticity at the present state: face displacement, largest von Mises."""
        if self._stack is None:
            return {}
        self._stack.update()
        return {
            "stack_face_displacement_m": self._stack.face_displacement_m(),
            "max_von_mises_stress_Pa": self._stack.max_von_mises_Pa(),
        }

    def _report(self, progress: Progress, row: int) -> None:
        """Progress at a row of the time series: the step, its time, the voltage, Newton."""
        solution = self.model.solution
        index = solution.step_index[row]
        if index != progress.index:
            start = solution.time_s[row - 1] if row > 0 else solution.time_s[row]
            if index < len(self.steps):
                step = self.steps[index]
                text, duration = step.text, step.duration_s
            else:
                assert self.drive_cycle is not None
                text, duration = "drive cycle", float(self.drive_cycle[0][-1])
            progress.step(index, text, start, None if duration is None else start + duration)
        progress.update(
            solution.time_s[row],
            f"{solution.voltage_V[row]:.4f} V, {solution.current_A[row]:.4g} A",
            solution.newton_iterations,
        )

    def run(
        self, writer: ResultWriter, timer: PhaseTimer, log: Callable[[str], None]
    ) -> dict[str, Any]:
        """Run the protocol, streaming the time series and writing profiles and fields."""
        model = self.model
        output = self.settings["output"]
        with timer.phase("forms"):
            self._stack = self._stack_elasticity()
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

        progress = Progress(log, len(self.steps) + (self.drive_cycle is not None))
        # Where the concentration falls below the laws' floor, 1e-6 c_e0, the electrolyte is
        # depleted (with the log-concentration unknown it stays positive but collapses there):
        # the first row there is reported (run.json "electrolyte_depletion", and in the stop
        # reason).
        depleted_below = (
            ELECTROLYTE_LAW_FLOOR * model.parameters.electrolyte.initial_concentration_mol_m3
        )
        # A repeated protocol: one row per cycle in cycles.csv, from the timeseries' rows.
        experiment = self.settings["experiment"]
        cycles = None
        if experiment["steps"] and experiment["repeat"] > 1:
            cycles = CycleLog(
                len(experiment["steps"]),
                lambda row: writer.add_table_row("cycles.csv", row),
                log,
            )

        def observe(kind: str) -> None:
            nonlocal output_time
            start = MPI.Wtime()
            if kind == "row":
                minimum, where = model.outputs.minimum_electrolyte_concentration()
                if minimum < depleted_below and solution.electrolyte_depletion is None:
                    solution.electrolyte_depletion = {
                        "time_s": float(solution.time_s[-1]),
                        "position_m": [float(v) for v in where],
                        "threshold_mol_m3": depleted_below,
                    }
                i = len(solution.time_s) - 1
                self._report(progress, i)
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
                    # Particle mechanics, at the state of the row (interpolated rows too).
                    **model.outputs.particle_stresses_Pa(),
                    **model.outputs.particle_cracks(),
                    **(
                        {"cell_thickness_change_m": model.outputs.cell_thickness_change_m()}
                        if model.outputs.has_thickness_change
                        else {}
                    ),
                    # Lithium plating and SEI (when on), at the state of the row.
                    **model.outputs.degradation.values(),
                    "minimum_electrolyte_concentration_mol_m3": minimum,
                    # Heat by source, temperatures, energy balance (thermal models).
                    **model.outputs.thermal.row(),
                    **self._elasticity_columns(),
                    **model.outputs.degradation.plating_overpotential_minimum(solution.time_s[i]),
                    "step_index": solution.step_index[i],
                }
                writer.add_timeseries_row(
                    {key: value for key, value in row.items() if key not in skipped}
                )
                if cycles is not None:
                    cycles.add(row, solution.stop_reason)
            else:
                self._fill(functions)
                scalars = {
                    name: f for name, f in functions.items() if f.function_space.value_size == 1
                }
                writer.write_profiles(model.time_s, scalars)
                writer.write_fields(model.time_s)
            output_time += MPI.Wtime() - start

        model.observer = observe
        model.checkpoint_control = self.checkpoint_control
        with timer.phase("solve"):
            try:
                model.run_experiment(self.steps, output_times_s=output["profile_times"])
                if self.drive_cycle is not None:
                    start = model.drive_cycle_start_s()
                    model.drive_cycle(
                        *self.drive_cycle,
                        output_times_s=[t - start for t in output["profile_times"] if t > start],
                    )
            except StepFailure as failure:
                progress.close("failed")
                if cycles is not None:
                    cycles.finish(f"the DFN gave up: {failure}")
                raise NewtonFailure(
                    "step failure", [], where=str(failure), message=f"the DFN gave up: {failure}"
                ) from failure
            except BaseException:  # a Newton failure, Ctrl-C, SIGTERM: the line says so
                progress.close("stopped")
                raise
            finally:
                progress.close()
                model.observer = None
        if cycles is not None:
            cycles.finish(solution.stop_reason)
        timer.seconds["solve"] -= output_time
        timer.seconds["output"] = timer.seconds.get("output", 0.0) + output_time
        depletion = solution.electrolyte_depletion
        # Plated, dead and SEI lithium join the inventory (0 without side reactions).
        lithium = np.asarray(solution.lithium_mol) + solution.lithium_in_side_reactions_mol
        # In a half cell the lithium dissolved from the metal joins the inventory.
        dissolved = np.asarray(solution.lithium_dissolved_mol)
        log(
            f"{len(solution.time_s)} times, end {solution.time_s[-1]:.6g} s at "
            f"{solution.voltage_V[-1]:.6g} V, discharge capacity "
            f"{solution.discharge_capacity_Ah[-1]:.6g} A h"
        )
        return {
            "time_steps": solution.accepted_steps,
            "rejected_steps": solution.rejected_steps,
            "newton_iterations": solution.newton_iterations,
            "termination_of_last_step": solution.termination,
            "stop_reason": solution.stop_reason
            + (
                f" (the electrolyte was depleted from t = {depletion['time_s']:.6g} s at "
                f"x = {1e6 * depletion['position_m'][0]:.4g} um)"
                if depletion
                else ""
            ),
            "electrolyte_depletion": depletion,
            "lithium_inventory": {
                "initial_mol": float(lithium[0]),
                "final_mol": float(lithium[-1]),
                "lithium_metal_dissolved_mol": float(dissolved[-1]),
                "side_reactions_mol": float(solution.lithium_in_side_reactions_mol[-1]),
                "max_relative_change": float(
                    np.max(np.abs(lithium - dissolved - lithium[0])) / lithium[0]
                ),
            },
            "reaction_current_A": model.reaction_current_A(),
            # First row with phi_s - phi_e < 0 in the negative electrode (plating on only).
            **(
                {"plating_onset": model.outputs.degradation.plating_onset}
                if model.outputs.degradation.has_plating
                else {}
            ),
            **self._energy_balance(),
        }

    def _energy_balance(self) -> dict[str, Any]:
        """Thermal models: heat generated, removed and stored [J] at the end, and the balance."""
        energy = self.model.outputs.thermal.energy_J()
        if not energy:
            return {}
        generated = energy["heat_generated_J"]
        imbalance = generated - energy["heat_stored_J"] - energy["heat_removed_J"]
        balance = {
            "energy_balance": {
                **energy,
                "relative_error": abs(imbalance) / abs(generated) if generated else 0.0,
            }
        }
        thermal = self.model.problem.thermal
        if thermal.model.model in ("2d", "3d"):
            # What the resolved layers of the pair amount to (foils included).
            in_plane, through = thermal.effective_conductivities_W_m_K()
            balance["stack_thermal_conductivity_W_m_K"] = {
                "in_plane": in_plane,
                "through_plane": through,
            }
        return balance
