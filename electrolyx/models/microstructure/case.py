"""The microstructure-resolved half cell as a case-file model (``[case] model = "microstructure"``).

Places the particles (rank 0), meshes them with gmsh, builds :class:`ResolvedHalfCell` with the
parameter set or BPX file of the case, discharges it on the shared integrator (PETSc TS) and
writes the time series and the fields of both phases.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mpi4py import MPI

import dolfinx

from ...checkpoint import RunInterrupted, fingerprint
from ...errors import CaseError
from ...meshes.packing import Packing
from ...output import PhaseTimer, ResultWriter
from ...parameters import BPXError, parameter_set, read_bpx
from ...parameters.base import CellParameters
from ...parameters.by_name import parameter_names
from ...progress import Progress
from ...settings.common import kinetics_from_table
from ..base import Model
from ..homogenise import packed_mesh
from .cell import ResolvedHalfCell
from .connectivity import particles_connected_to_collector
from .discharge import discharge
from .solver_options import petsc_options

__all__ = ["MicrostructureHalfCell"]


#: What a checkpoint keeps of the cell besides its unknowns and the integrator's history.
_CELL_STATE = (
    "time_s",
    "charge_passed_C",
    "applied_current_A",
    "current_A",
    "state_voltage_V",
    "resistance_ohm",
)


class MicrostructureHalfCell(Model):
    """Galvanostatic discharge of a resolved positive-electrode half cell (case model)."""

    name = "microstructure"
    description = "Microstructure-resolved half cell (particles, pores, lithium counter electrode)"

    def __init__(self, settings: dict[str, Any], case_dir: Path, comm: MPI.Comm):
        super().__init__(settings, case_dir, comm)
        self.packing: Packing | None = None
        self.cell: ResolvedHalfCell | None = None

    def build_mesh(self) -> dolfinx.mesh.Mesh:
        """Place the particles (rank 0), mesh them with gmsh and build the half cell."""
        m = self.settings["microstructure"]
        self.packing, mesh_data = packed_mesh(
            self.comm,
            m,
            separator_thickness=m["separator_thickness"],
            ghost_mode="shared_facet",
            log=self.log,
        )
        p = self.settings["parameters"]
        parameters = self._parameters()
        self.cell = ResolvedHalfCell(
            mesh_data,
            parameters,
            depth_m=m["depth"] if m["depth"] is not None else m["box"][1],
            temperature_K=p["temperature"],
            initial_stoichiometry=p["initial_stoichiometry"],
            double_layer=p["double_layer"],
            lithium_exchange_current_density=p["lithium_exchange_current_density"],
            petsc_options=petsc_options(self.settings["solver"]),
            # The positive electrode takes lithium in on discharge: Tafel's cathodic branch.
            kinetics=kinetics_from_table(
                self.settings["interface"], parameters.positive, "cathodic"
            ),
            particles=self.packing,
        )
        return mesh_data.mesh

    def _parameters(self) -> CellParameters:
        """The set named by ``parameters.set`` or read from ``parameters.bpx_file``.

        Only its positive electrode and electrolyte are used (the counter electrode is lithium).
        """
        p = self.settings["parameters"]
        if p["bpx_file"] is not None:
            try:
                return read_bpx(self.case_dir / p["bpx_file"])
            except BPXError as error:
                raise CaseError([f"parameters.bpx_file: {error}"]) from None
        return parameter_set(p["set"])

    @property
    def mesh(self) -> dolfinx.mesh.Mesh:
        """The distributed parent mesh (after :meth:`build_mesh`)."""
        assert self.cell is not None, "build_mesh first"
        return self.cell.mesh

    def unknowns(self) -> int:
        """Global number of unknowns of the four fields."""
        assert self.cell is not None, "build_mesh first"
        return sum(V.dofmap.index_map.size_global for V in self.cell.spaces)

    def parameter_names(self) -> dict[str, Any]:
        """Every PyBaMM/BPX name of the case's set with its value.

        (The microstructure uses the set's positive electrode and electrolyte.)
        """
        return parameter_names(self._parameters())

    def diagnostics(self) -> dict[str, Any]:
        """Particles, volumes, interface area, capacity and the applied current."""
        cell = self.cell
        assert cell is not None and self.packing is not None, "build_mesh first"
        connected = particles_connected_to_collector(self.packing)
        volume = self.packing.radii**self.packing.dim
        return {
            "particles": len(self.packing.radii),
            "particles_connected_to_collector": int(connected.sum()),
            "connected_particle_volume_fraction": float(volume[connected].sum() / volume.sum()),
            "particle_volume_m3": cell.particle_volume_m3,
            "electrolyte_volume_m3": cell.electrolyte_volume_m3,
            "interface_area_m2": cell.interface_area_m2,
            "collector_contact_area_m2": cell.collector_area_m2,
            "capacity_Ah": cell.capacity_Ah,
            "applied_current_A": self._current_A(),
        }

    # -- checkpoints (electrolyx.checkpoint) ---------------------------------------------------
    _resume: tuple[dict[str, Any], dict[str, Any]] | None = None

    def resumable(self) -> bool:
        """The discharge resumes exactly from its integrator's history (replayed steps)."""
        return self.cell is not None

    def checkpoint_fingerprint(self) -> str:
        """Sizes and coordinates of this rank's owned dofs, every field."""
        return fingerprint(
            [
                V.tabulate_dof_coordinates()[: V.dofmap.index_map.size_local]
                for V in self.cell.spaces
            ]
        )

    def _state(self, integrator, end_s: float, rows: int) -> tuple[dict, dict]:
        """The discharge's state after an accepted step: (scalars, this rank's arrays)."""
        cell = self.cell
        history = integrator.history()
        state = {name: getattr(cell, name) for name in _CELL_STATE}
        arrays = {"history.states": history.states}
        for i, function in enumerate(cell.u):
            arrays[f"unknown.{i}"] = function.x.array.copy()
        return {
            "model": "microstructure",
            "time_s": float(cell.time_s),
            "cell": state,
            "integrator": {**history.scalars(), "end_s": end_s},
            "rows": rows,
        }, arrays

    def resume_from(self, scalars: dict[str, Any], arrays: dict[str, Any]) -> None:
        """Load a checkpoint's state into the cell; :meth:`run` goes on from it."""
        cell = self.cell
        for name, value in scalars["cell"].items():
            setattr(cell, name, value)
        for i, function in enumerate(cell.u):
            function.x.array[:] = arrays[f"unknown.{i}"]
        self._resume = (scalars, arrays)

    def _current_A(self) -> float:
        assert self.cell is not None
        return self.settings["discharge"]["c_rate"] * self.cell.one_c_current_A

    def run(
        self, writer: ResultWriter, timer: PhaseTimer, log: Callable[[str], None]
    ) -> dict[str, Any]:
        """Discharge until the cut-off; stream timeseries.csv, write fields of both phases."""
        cell = self.cell
        assert cell is not None, "build_mesh first"
        d, output = self.settings["discharge"], self.settings["output"]
        current = self._current_A()
        cutoff = d["cutoff_voltage"] or cell.parameters.lower_voltage_cutoff_V
        duration = d["duration"] or 1.2 * 3600.0 / d["c_rate"]
        fields = cell.physical_fields()
        writers = []
        if output["fields"]:
            writer.set_fields(fields["electrolyte"])
            particles = dolfinx.io.VTXWriter(
                self.comm, writer.path / "fields" / "particles.bp", fields["particles"]
            )
            writers.append(particles)
        # Profiles sample the pore phase (points inside particles are left out).
        writer.set_profiles(cell.electrolyte_mesh, output["profiles"])
        resume, self._resume = self._resume, None
        steps = [0 if resume is None else resume[0]["rows"]]

        def write_fields() -> None:
            fresh = cell.physical_fields()
            for phase in fields:
                for target, source in zip(fields[phase], fresh[phase], strict=True):
                    target.x.array[:] = source.x.array
            writer.write_profiles(cell.time_s, {f.name: f for f in fields["electrolyte"]})
            if output["fields"]:
                writer.write_fields(cell.time_s)
                for vtx in writers:
                    vtx.write(cell.time_s)

        progress = Progress(log, 1)
        progress.step(0, f"Discharge at {d['c_rate']:g}C until {cutoff:.4g} V", 0.0, duration)

        def on_row(row: dict[str, float]) -> None:
            writer.add_timeseries_row(row)
            if steps[0] % output["field_every"] == 0:
                write_fields()
            steps[0] += 1
            progress.update(row["time_s"], f"{row['voltage_V']:.4f} V", cell.newton_iterations)

        control = self.checkpoint_control

        def checkpoint(integrator, end_s: float) -> bool:
            return control.at_step(
                integrator.checkpointable(), lambda: self._state(integrator, end_s, steps[0])
            )

        with timer.phase("solve"), progress:
            termination = discharge(
                cell,
                current,
                cutoff,
                duration,
                d["time_step"],
                halvings=self.settings["solver"]["continuation_steps"],
                on_row=on_row,
                checkpoint=checkpoint if control is not None else None,
                resume=None if resume is None else (resume[0]["integrator"], resume[1]),
            )
            progress.close(termination)
        if termination == "checkpoint":
            raise RunInterrupted(control.signal_number)
        if (steps[0] - 1) % output["field_every"] != 0:
            write_fields()  # the final state, unless just written
        for vtx in writers:
            vtx.close()
        state = cell.state()
        lithium = state.lithium_electrolyte_mol + state.lithium_particles_mol
        log(
            f"{termination} at t = {cell.time_s:.1f} s, V = {state.voltage_V:.4f} V, "
            f"{cell.charge_passed_C / 3600:.4e} Ah"
        )
        return {
            "termination": termination,
            "newton_iterations": cell.newton_iterations,
            "failed_solves": cell.failed_solves,
            "final_lithium_mol": lithium,
        }
