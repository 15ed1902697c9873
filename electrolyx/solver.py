"""Newton driver on PETSc SNES: options from the case, convergence checks, statistics.

:class:`NewtonSolver` wraps :class:`dolfinx.fem.petsc.NonlinearProblem`. It records the residual
norm of every Newton iteration and the linear iterations, and turns a diverged solve into a
:class:`NewtonFailure` carrying PETSc's converged reason and the residual history (``solve`` in
dolfinx does not raise by itself).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from petsc4py import PETSc

if TYPE_CHECKING:
    import dolfinx.fem

from .errors import CaseError
from .petsc_options import petsc_option_problems, unique_prefix

__all__ = ["NewtonFailure", "NewtonSolver", "SolverStatistics", "petsc_options_from_case"]

_LINEAR_SOLVERS: dict[str, dict[str, Any]] = {
    "mumps": {"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"},
    "superlu_dist": {
        "ksp_type": "preonly",
        "pc_type": "lu",
        "pc_factor_mat_solver_type": "superlu_dist",
    },
    "gmres-ilu": {"ksp_type": "gmres", "pc_type": "ilu", "ksp_rtol": 1e-10},
    "gmres-asm": {
        "ksp_type": "gmres",
        "pc_type": "asm",
        "sub_pc_type": "ilu",
        "ksp_rtol": 1e-10,
        "ksp_gmres_restart": 200,
    },
}

_REASONS = {v: k for k, v in PETSc.SNES.ConvergedReason.__dict__.items() if not k.startswith("_")}


def petsc_options_from_case(solver: Mapping[str, Any]) -> dict[str, Any]:
    """PETSc SNES/KSP options for a case's ``[solver]`` table.

    The named ``linear_solver`` preset and the Newton settings come first; entries of
    ``[solver.petsc]`` are applied on top, so they override anything here. They are checked
    against the allow-list of :mod:`electrolyx.petsc_options` (also done when the case is
    loaded; checked again here so that no other caller passes anything else to PETSc).

    Raises:
        CaseError: naming every option that is not allowed.
    """
    problems = petsc_option_problems(solver.get("petsc", {}))
    if problems:
        raise CaseError(problems)
    options: dict[str, Any] = {
        "snes_type": "newtonls",
        "snes_linesearch_type": solver["line_search"],
        "snes_rtol": solver["relative_tolerance"],
        "snes_atol": solver["absolute_tolerance"],
        "snes_stol": 1e-12,  # relative Newton step: ends stagnation at round-off
        "snes_max_it": solver["max_iterations"],
    }
    options.update(_LINEAR_SOLVERS[solver["linear_solver"]])
    options.update(solver.get("petsc", {}))
    return options


@dataclass
class SolverStatistics:
    """Counters accumulated over all solves of one :class:`NewtonSolver`."""

    solves: int = 0
    newton_iterations: int = 0
    linear_iterations: int = 0
    failures: int = 0
    last_reason: str = ""
    last_residuals: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "solves": self.solves,
            "newton_iterations": self.newton_iterations,
            "linear_iterations": self.linear_iterations,
            "failed_solves": self.failures,
            "last_converged_reason": self.last_reason,
            "last_residual_history": self.last_residuals,
        }


class NewtonFailure(RuntimeError):
    """Newton's method did not converge; carries PETSc's reason and the residual history."""

    def __init__(self, reason: str, residuals: Sequence[float], where: str = "", message: str = ""):
        self.reason = reason
        self.residuals = list(residuals)
        self.where = where
        history = ", ".join(f"{r:.3e}" for r in self.residuals) or "none"
        at = f" at {where}" if where else ""
        # A time integrator that gave up after cutting its step explains itself (message).
        super().__init__(
            message
            or f"Newton did not converge{at}: PETSc reason {reason}; residual norms: {history}"
        )


class NewtonSolver:
    """Newton's method with line search for F(u) = 0, assembled by dolfinx, solved by SNES.

    Args:
        residual: Residual form F (or blocks of forms).
        unknown: The unknown function(s).
        bcs: Dirichlet conditions.
        options: PETSc options for the SNES and its KSP/PC (see :func:`petsc_options_from_case`).
        name: Base of the PETSc options prefix (made unique per instance).
        jacobian: Jacobian form(s); derived automatically when ``None``.
        entity_maps: Entity maps for mixed-domain forms.
        matrix_kind: PETSc matrix type of the Jacobian (dolfinx's ``kind``; None: AIJ).
        cells_per_chunk: Assemble the residual and Jacobian over chunks of at most this many
            cells, each chunk's coefficients packed alone
            (:class:`electrolyx.chunked_assembly.ChunkedResidual`; one residual form, Jacobian
            derived, no entity maps). None, or a mesh of one chunk: dolfinx's assembly.
    """

    def __init__(
        self,
        residual: Any,
        unknown: Any,
        bcs: Sequence[dolfinx.fem.DirichletBC],
        options: Mapping[str, Any],
        name: str = "electrolyx",
        jacobian: Any = None,
        entity_maps: Sequence[Any] | None = None,
        matrix_kind: str | None = None,
        cells_per_chunk: int | None = None,
    ):
        # Imported here: importing electrolyx.solver (for NewtonFailure, by every model) stays
        # free of dolfinx.fem.petsc's import (C declarations parsed, see
        # electrolyx.block_assembly).
        import dolfinx.fem.petsc

        self.prefix = unique_prefix(name)
        chunked = None
        if cells_per_chunk is not None and jacobian is None and entity_maps is None:
            from .chunked_assembly import ChunkedResidual, chunk_count

            chunks = chunk_count(unknown.function_space.mesh, cells_per_chunk)
            if chunks > 1:
                chunked = ChunkedResidual(residual, unknown, chunks)
                residual, jacobian = chunked.residual, chunked.jacobian
        self.problem = dolfinx.fem.petsc.NonlinearProblem(
            residual,
            unknown,
            bcs=list(bcs),
            J=jacobian,
            kind=matrix_kind,
            petsc_options_prefix=self.prefix,
            petsc_options=dict(options),
            entity_maps=entity_maps,
        )
        self.snes = self.problem.solver
        if chunked is not None:
            # dolfinx's callbacks would assemble the whole forms (every cell packed at once).
            conditions = list(bcs)
            self.snes.setFunction(
                lambda _snes, x, b: chunked.assemble_residual(x, b, conditions), self.problem.b
            )
            self.snes.setJacobian(
                lambda _snes, x, matrix, _p: chunked.assemble_jacobian(x, matrix, conditions),
                self.problem.A,
                self.problem.P_mat,
            )
        self.chunks = len(chunked.residual_chunks) if chunked is not None else 1
        self.statistics = SolverStatistics()
        # The monitor holds the list, not the solver: a callback that refers back to its owner
        # closes a cycle through the SNES's C side, which the collector cannot always break
        # (on several ranks petsc4py defers the destruction of a dropped object).
        self._residuals: list[float] = []
        residuals = self._residuals
        self.snes.setMonitor(lambda _snes, _it, norm: residuals.append(float(norm)))

    def release(self) -> None:
        """Destroy the SNES (its KSP and preconditioner), the Jacobian and the work vectors.

        Explicitly, so that their memory is freed at once on every rank (petsc4py defers the
        destruction of a dropped object that lives on several ranks). The statistics stay;
        the solver cannot solve again.
        """
        if self.problem is None:
            return
        problem, self.problem = self.problem, None
        for item in (problem.solver, problem.A, problem.P_mat, problem.b, problem.x):
            if item is not None:
                item.destroy()
        self.snes = None

    def solve(self, where: str = "") -> int:
        """Solve from the current iterate; return the number of Newton iterations.

        Raises:
            NewtonFailure: when SNES reports divergence (the unknown then holds the last iterate).
            RuntimeError: after :meth:`release`.
        """
        if self.problem is None:
            raise RuntimeError("this Newton solver was released (NewtonSolver.release)")
        self._residuals.clear()
        self.problem.solve()
        reason_code = self.snes.getConvergedReason()
        iterations = self.snes.getIterationNumber()
        stats = self.statistics
        stats.solves += 1
        stats.newton_iterations += iterations
        stats.linear_iterations += self.snes.getLinearSolveIterations()
        stats.last_reason = _REASONS.get(reason_code, str(reason_code))
        stats.last_residuals = list(self._residuals)
        if reason_code <= 0:
            stats.failures += 1
            raise NewtonFailure(stats.last_reason, self._residuals, where)
        return iterations
