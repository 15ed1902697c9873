"""The PNP case model (``[case] model = "pnp"``): checks, diagnostics and the study.

Ties the layers together: settings (:mod:`.scales`) -> geometry and mesh (:mod:`.geometry`) ->
problem (:mod:`.problem`, :mod:`.boundaries`) -> integrator (:mod:`.solve`) -> outputs
(:mod:`.outputs`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mpi4py import MPI

import dolfinx
import numpy as np
from dolfinx import fem

from ...checkpoint import RunInterrupted, fingerprint
from ...errors import CaseError
from ...mesh_input import mesh_boundary_names
from ...output import PhaseTimer, ResultWriter
from ...petsc_options import reuse_across_solves
from ...progress import Progress
from ...solver import NewtonSolver, SolverStatistics, petsc_options_from_case
from ...ts_integrator import ReplayHistory, TSIntegrator
from ..base import Model, require_boundaries
from . import solve
from .boundaries import CHARGED_KINDS
from .geometry import PNPGeometry
from .outputs import PNPOutputs
from .problem import PNPProblem
from .scales import PNPScales

#: The steady solver assembles its residual and Jacobian over chunks of this many cells, each
#: chunk's coefficients packed alone (electrolyx.chunked_assembly): at 1.1 M unknowns on 2
#: ranks the whole mesh's packing was a 100 MiB transient a rank (bench/README.md); a chunk's
#: is 7 MiB. Meshes of fewer cells a rank assemble as dolfinx does.
ASSEMBLY_CHUNK_CELLS = 65536

__all__ = ["PoissonNernstPlanck"]


class PoissonNernstPlanck(Model):
    """Steady or transient Poisson-Nernst-Planck with log-concentration unknowns."""

    name = "pnp"
    description = "Poisson-Nernst-Planck ion transport where electroneutrality fails"

    @classmethod
    def check_consistency(cls, settings: dict[str, Any], case_dir: Path) -> None:
        """The mesh file exists; boundaries name boundaries the generator makes.

        The rules across keys that need only the settings (charged, electroneutral species, a
        potential reference, reacting species, conductance keys) are validators of
        :class:`electrolyx.settings.pnp.PNPSettings`.
        """
        problems = []
        boundaries = settings["boundaries"]
        mesh = settings["mesh"]
        if mesh["generator"] == "gmsh_file":
            if not (case_dir / mesh["path"]).is_file():
                problems.append(f"mesh.path = {mesh['path']!r}: no such file in {case_dir}")
        names = mesh_boundary_names(mesh)
        if names is not None:
            try:
                require_boundaries(boundaries, names)
            except CaseError as error:
                problems.extend(error.problems)
            conductance = settings["output"]["conductance"]
            if conductance["boundary"] is not None and conductance["boundary"] not in names:
                problems.append(
                    f"output.conductance.boundary = {conductance['boundary']!r}: allowed one of "
                    + ", ".join(repr(n) for n in names)
                )
        if problems:
            raise CaseError(problems)

    def __init__(self, settings: dict[str, Any], case_dir: Path, comm: MPI.Comm):
        super().__init__(settings, case_dir, comm)
        self.scales = PNPScales.from_settings(settings)
        self.species = settings["species"]
        self.geometry: PNPGeometry | None = None
        self.problem: PNPProblem | None = None
        self._outputs: PNPOutputs | None = None
        self.solver: NewtonSolver | None = None

    # -- geometry and mesh -----------------------------------------------------------------
    def build_mesh(self) -> dolfinx.mesh.Mesh:
        """Make the mesh by gmsh (or read the .msh file) and distribute it."""
        self.geometry = PNPGeometry(
            self.settings, self.case_dir, self.comm, self.scales.debye_length, self.log
        )
        return self.geometry.mesh

    @property
    def mesh(self) -> dolfinx.mesh.Mesh:
        """The distributed mesh (after :meth:`build_mesh`)."""
        assert self.geometry is not None, "build_mesh first"
        return self.geometry.mesh

    @property
    def mesh_data(self) -> dolfinx.io.gmsh.MeshData | None:
        """The mesh with its named groups (None before :meth:`build_mesh`)."""
        return None if self.geometry is None else self.geometry.mesh_data

    def facet_groups(self) -> list[str]:
        """Names of the mesh's boundary (facet) groups."""
        return self.geometry.facet_groups()

    def cell_groups(self) -> list[str]:
        """Names of the mesh's regions (cell groups)."""
        return self.geometry.cell_groups()

    def _facets(self, name: str) -> np.ndarray:
        return self.geometry.facets(name)

    def unknowns(self) -> int:
        """Global unknowns: 1 + N per mesh vertex, 1 + 2N in a transient study (P1).

        One potential and N log-concentrations; a transient study adds the N projected
        concentrations (:mod:`.problem`).
        """
        per_vertex = 1 + len(self.species)
        if self.settings["study"]["type"] == "transient":
            per_vertex += len(self.species)
        return self.mesh.topology.index_map(0).size_global * per_vertex

    def smallest_feature(self) -> float:
        """Smallest geometric length: channel height, pore diameter, or the domain extent."""
        return self.geometry.smallest_feature()

    def diagnostics(self) -> dict[str, Any]:
        """Debye length, thermal voltage, feature sizes and the electroneutrality verdict.

        Before the mesh is built (``electrolyx check`` without ``--mesh``) only the scales
        that need no geometry.
        """
        s = self.scales
        scales: dict[str, Any] = {
            "debye_length_m": s.debye_length,
            "thermal_voltage_V": s.thermal_voltage,
            "ionic_strength_mol_m3": 0.5 * s.concentration,
            "debye_charging_time_s": s.time,
        }
        if self.geometry is None:
            return scales
        feature = self.smallest_feature()
        ratio = s.debye_length / feature
        charged = [
            name for name, b in self.settings["boundaries"].items() if b["kind"] in CHARGED_KINDS
        ]
        if ratio >= 0.01:
            verdict = (
                f"PNP required: the Debye length is {ratio:.3g} of the smallest feature "
                "(double layers fill a significant part of the domain)"
            )
        elif charged:
            verdict = (
                f"electroneutral model adequate in the bulk (lambda_D/feature = {ratio:.3g} < "
                f"0.01), but the charged boundaries {charged} carry double layers that only "
                "PNP resolves"
            )
        else:
            verdict = f"electroneutral model adequate (lambda_D/feature = {ratio:.3g} < 0.01)"
        out: dict[str, Any] = {
            **scales,
            "smallest_feature_m": feature,
            "largest_extent_m": float(self.geometry.bounding_box_sides().max()),
            "debye_length_over_smallest_feature": ratio,
            "electroneutrality_verdict": verdict,
        }
        for name, b in self.settings["boundaries"].items():
            if b.get("potential") is not None:
                out[f"potential_{name}_over_thermal_voltage"] = b["potential"] / s.thermal_voltage
        velocity = self.settings["flow"]["velocity"]
        if velocity is not None:
            speed = float(np.linalg.norm(velocity))
            out["peclet_number_debye"] = speed * s.debye_length / s.diffusivity
            out["peclet_number_feature"] = speed * feature / s.diffusivity
        mesh_settings = self.settings["mesh"]
        if mesh_settings["generator"] == "interval" and mesh_settings["first_cell_size"]:
            out["first_cell_size_over_debye_length"] = (
                mesh_settings["first_cell_size"] / s.debye_length
            )
        return out

    # -- checkpoints (electrolyx.checkpoint) -------------------------------------------------
    _resume: ReplayHistory | None = None

    def resumable(self) -> bool:
        """A transient study can be resumed, unless its PETSc options reuse solver state.

        At an accepted step that :meth:`TSIntegrator.checkpointable` allows, the checkpoint
        holds TS's last accepted states (:class:`ReplayHistory`); the resumed march replays
        them. Options that keep a Jacobian or preconditioner from one step to the next
        (:func:`electrolyx.petsc_options.reuse_across_solves`) would make the resumed run
        differ: such a run stops at once at a signal, without a checkpoint (and
        ``checkpoint_every`` is refused with them when the case is loaded).
        """
        return (
            self.geometry is not None
            and self.settings["study"]["type"] == "transient"
            and not reuse_across_solves(self.settings["solver"]["petsc"])
        )

    def checkpoint_fingerprint(self) -> str:
        """Sizes and coordinates of this rank's owned P1 nodes (every unknown is P1 on them)."""
        space = fem.functionspace(self.mesh, ("Lagrange", 1))
        return fingerprint([space.tabulate_dof_coordinates()[: space.dofmap.index_map.size_local]])

    def _checkpoint_state(self, integrator: TSIntegrator, t: float) -> tuple[dict, dict]:
        """(scalars, this rank's arrays) at an accepted step: TS's replay history."""
        history = integrator.history()
        scalars = {"model": "pnp", "time_s": float(t), "history": history.scalars()}
        return scalars, {"history.states": history.states}

    def resume_from(self, scalars: dict[str, Any], arrays: dict[str, Any]) -> None:
        """Load a checkpoint's history: :meth:`run` continues the march from it."""
        if scalars.get("model") != "pnp":
            raise ValueError("not a checkpoint of a PNP transient")
        self._resume = ReplayHistory.from_scalars(scalars["history"], arrays["history.states"])

    # -- problem and integrator ------------------------------------------------------------
    def prepare(self) -> None:
        """Build the function spaces and the scaled weak forms.

        For a steady study also the steady Newton solver (with its Jacobian); a transient
        march builds its own integrator (:meth:`solve_transient`). The outputs are built at
        their first use (:attr:`outputs`).
        """
        self.problem = PNPProblem(self.settings, self.geometry, self.scales)
        self.solver = None
        self._outputs = None
        if self.settings["study"]["type"] == "steady":
            self._steady_solver()

    @property
    def outputs(self) -> PNPOutputs:
        """Output fields, columns, probes and conductance, built at their first use.

        A steady run builds them after its solve, with the Newton solver released
        (:meth:`release_solver`): their fields and forms (24 MiB at 224 k unknowns) are then
        not held through the solve, and the transients of their evaluation (every cell's
        coefficients packed) come on top of the mesh and spaces alone, not of the Jacobian and
        preconditioner (bench/README.md, "The steady 3D PNP's whole run").
        """
        if self._outputs is None:
            self._outputs = PNPOutputs(self.problem)
        return self._outputs

    def release_solver(self) -> None:
        """Destroy the steady Newton solver's PETSc objects; its statistics are kept."""
        if self.solver is not None:
            self.solver.release()

    def _steady_solver(self) -> NewtonSolver:
        """The steady problem's Newton solver, made at the first need."""
        if self.solver is not None:
            return self.solver
        options = petsc_options_from_case(self.settings["solver"])
        # With the electrochemical-potential preconditioner the Jacobian is stored by its
        # (1 + N) x (1 + N) nodal blocks (BAIJ): assembled in half the time of AIJ, which
        # inserts value by value (bench/README.md); the preconditioner reads its scalar blocks
        # from it a slab of rows at a time. Other preconditioners (ILU, LU) keep AIJ.
        python_pc = str(options.get("pc_python_type", ""))
        blocked = python_pc.endswith("ElectrochemicalPotentialPC")
        self.solver = NewtonSolver(
            self.problem.steady_residual,
            self.problem.solution,
            self.problem.bcs,
            options,
            name="pnp",
            matrix_kind="baij" if blocked else None,
            cells_per_chunk=ASSEMBLY_CHUNK_CELLS,
        )
        return self.solver

    def solve(self, log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
        """Solve the steady problem (after :meth:`prepare`); return continuation details.

        Raises:
            NewtonFailure: if neither Newton nor continuation converged.
        """
        max_halvings = self.settings["solver"]["continuation_steps"]
        return solve.solve_steady(self.problem, self._steady_solver(), max_halvings, log)

    def output_times(self) -> np.ndarray:
        """Times at which fields and profiles are written in a transient study."""
        return solve.output_times(self.settings["study"], self.scales.time)

    def solve_transient(
        self,
        on_step: Callable[[float, bool], None],
        log: Callable[[str], None] = lambda _: None,
        on_progress: Callable[[float, int], None] | None = None,
        checkpoint: Callable[[TSIntegrator, float], bool] | None = None,
        resume: ReplayHistory | None = None,
    ) -> dict[str, Any]:
        """March from the bulk state to ``end_time`` (see :func:`.solve.solve_transient`)."""
        return solve.solve_transient(
            self.problem, self.settings, on_step, log, on_progress, checkpoint, resume
        )

    # -- outputs ---------------------------------------------------------------------------
    @property
    def output_space(self) -> fem.FunctionSpace:
        """P1 space of the output fields (after :meth:`prepare`)."""
        return self.problem.output_space

    @property
    def potential(self) -> fem.Function:
        """Electric potential phi [V] (after :meth:`update_outputs`)."""
        return self.outputs.potential

    @property
    def concentrations(self) -> list[fem.Function]:
        """Concentration of each species [mol/m3] (after :meth:`update_outputs`)."""
        return self.outputs.concentrations

    @property
    def _measures(self) -> dict[str, float]:
        return self.outputs.measures

    def update_outputs(self) -> dict[str, float]:
        """Fill the SI output fields from the solution; return the scalar outputs."""
        return self.outputs.update()

    def output_fields(self) -> list[fem.Function]:
        """Fields written to ParaView files and sampled along profiles."""
        return self.outputs.fields()

    def run(
        self, writer: ResultWriter, timer: PhaseTimer, log: Callable[[str], None]
    ) -> dict[str, Any]:
        """Solve the steady or transient problem and write the outputs."""
        steady = self.settings["study"]["type"] == "steady"
        fields: list[fem.Function] = []

        def set_outputs() -> None:
            fields.extend(self.output_fields())
            writer.set_profiles(self.mesh, self.settings["output"]["profiles"])
            if self.settings["output"]["fields"]:
                writer.set_fields(fields)

        with timer.phase("forms"):
            self.prepare()
            if not steady:
                set_outputs()

        def write(t: float, fields_too: bool) -> dict[str, float]:
            row = {"time_s": t, **self.update_outputs()}
            writer.add_timeseries_row(row)
            if fields_too:
                writer.write_profiles(t, {f.name: f for f in fields})
                writer.write_fields(t)
            return row

        if steady:
            with timer.phase("solve"):
                details = self.solve(log)
            # The one solve is done: its Jacobian and preconditioner make way for the outputs.
            self.release_solver()
            with timer.phase("output"):
                set_outputs()
                row = write(0.0, True)
            for key, value in row.items():
                if key != "time_s":
                    log(f"{key} = {value:.6g}")
        else:
            output_time = 0.0
            end_time = self.settings["study"]["end_time"]
            progress = Progress(log, 1)
            progress.step(0, f"transient from the bulk state to {end_time:g} s", 0.0, end_time)

            def on_step(t: float, is_output: bool) -> None:
                nonlocal output_time
                start = MPI.Wtime()
                row = write(t, is_output)
                output_time += MPI.Wtime() - start
                # Headline: the first output column (surface charge, else a current).
                name, value = next(((k, v) for k, v in row.items() if k != "time_s"), ("", 0))
                headline[0] = f"{name} = {value:.5g}" if name else ""

            headline = [""]

            def on_progress(t: float, newton_iterations: int) -> None:
                progress.update(t, headline[0], newton_iterations)

            control = self.checkpoint_control
            checkpoint = None
            if control is not None:

                def checkpoint(integrator: TSIntegrator, t: float) -> bool:
                    return control.at_step(
                        integrator.checkpointable(),
                        lambda: self._checkpoint_state(integrator, t),
                    )

            resume, self._resume = self._resume, None
            with timer.phase("solve"), progress:
                details = self.solve_transient(on_step, log, on_progress, checkpoint, resume)
            timer.seconds["solve"] -= output_time
            timer.seconds["output"] = timer.seconds.get("output", 0.0) + output_time
            if details.pop("stopped_at_checkpoint"):
                raise RunInterrupted(control.signal_number)
        # (a transient march reports its own counts over the steady solver's zeros)
        statistics = SolverStatistics() if self.solver is None else self.solver.statistics
        return {**statistics.as_dict(), **details}
