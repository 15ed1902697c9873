"""Integrator layer of the PNP model: the steady solve with continuation and the transient march.

Steady: Newton from the uniform bulk state; if it fails, the boundary potentials and charges are
ramped up from zero, halving failed steps. Transient: PETSc TS (the shared
:class:`electrolyx.ts_integrator.TSIntegrator`, BDF of adaptive step) on dc_k/dt through the
projected concentrations a_k (:mod:`.problem`), so that the amount of each species changes only
through the boundaries (to the Newton tolerance). The steps land on the field-output times, so
that every written state is a solved one (a row at every step). A march can be checkpointed
and resumed exactly (TS's replay history, docs/checkpoint.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from petsc4py import PETSc

import numpy as np

from ...solver import NewtonFailure, NewtonSolver, petsc_options_from_case
from ...ts_integrator import IntegrationFailure, ReplayHistory, TSIntegrator
from .problem import PROJECTED, UNKNOWN, PNPProblem

__all__ = ["BDF_ORDER", "output_times", "solve_steady", "solve_transient"]

#: BDF order of the transient march (see bench/README.md, "PNP on TS").
BDF_ORDER = 3


def solve_steady(
    problem: PNPProblem,
    solver: NewtonSolver,
    max_halvings: int,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Solve the steady problem; return the continuation history.

    Raises:
        NewtonFailure: if neither Newton nor continuation converged.
    """
    for rate in problem.time_derivative.functions:
        rate.x.array[:] = 0.0  # d a_k / dt = 0: the steady equations
    problem.set_ramp(1.0)
    problem.set_bulk_state()
    history: list[dict[str, Any]] = []
    try:
        its = solver.solve(where="steady solve")
        history.append({"ramp": 1.0, "newton_iterations": its})
        log(f"steady solve converged in {its} Newton iterations")
        return {"continuation": history}
    except NewtonFailure as failure:
        log(f"{failure}; retrying by continuation in the boundary potentials")
        history.append({"ramp": 1.0, "failed": failure.reason})
    problem.set_bulk_state()
    done, step, halvings = 0.0, 0.25, 0
    saved = problem.solution.x.array.copy()
    while done < 1.0:
        target = min(1.0, done + step)
        problem.set_ramp(target)
        try:
            its = solver.solve(where=f"continuation step to {target:.4g} of the load")
        except NewtonFailure as failure:
            history.append({"ramp": target, "failed": failure.reason})
            problem.solution.x.array[:] = saved
            halvings += 1
            step *= 0.5
            if halvings > max_halvings:
                raise NewtonFailure(
                    failure.reason,
                    failure.residuals,
                    f"continuation: stuck at {done:.4g} of the boundary potentials after "
                    f"{max_halvings} step halvings (last step {2 * step:.3g})",
                ) from None
            log(f"continuation step to {target:.4g} failed; halving the step")
            continue
        history.append({"ramp": target, "newton_iterations": its})
        log(f"continuation: {target:.4g} of the boundary potentials reached ({its} its)")
        done = target
        saved = problem.solution.x.array.copy()
        step *= 2.0
    return {"continuation": history}


def output_times(study: dict[str, Any], charging_time: float) -> np.ndarray:
    """Times at which fields and profiles are written in a transient study."""
    if study["output_times"] is not None:
        return np.unique(np.asarray(study["output_times"], dtype=float))
    first = study["initial_step"] or 1e-3 * charging_time
    end = study["end_time"]
    decades = max(math.log10(end / first), 1e-12)
    count = max(int(math.ceil(decades * study["outputs_per_decade"])), 1)
    return np.unique(np.append(np.logspace(math.log10(first), math.log10(end), count), end))


class NewtonVerdict:
    """Newton's convergence test of the transient march (a ``SNES.ConvergedReason``).

    Converged when the scaled residual is below the absolute tolerance *and* the Newton steps
    have converged: the last one below ``step_tolerance`` (2-norm of the scaled unknowns, psi
    and ln c in units of V_T and 1), or no longer shrinking (at least halving) and below
    ``noise``. The residual alone does not tell: the rows of a species are proportional to
    its concentration, so where it is depleted (the anions in the extended space-charge layer
    past Sand's time, c- ~ 1e-60..1e-140 c0) any ln c- satisfies them to any absolute
    tolerance, and a residual test left ln c- there unconverged (or accepted TS's predictor
    with no iteration at all): noise that the local-error test of ln c- saw, rejecting steps
    until they were 1e-10 s. Newton's step is scale-free (the LU solve divides those rows by
    their own size), so it converges there too, down to a floor: past 270 s the step in
    ln c- stagnates at 1e-5 where c- ~ 1e-83 c0, 350 lambda_D from the metal, while the
    residual is 3e-12 (the ``noise`` that is accepted, far below TS's local-error tolerance
    of ln c-, 1e-4 + 1e-4 |ln c-|). Where the residual's round-off floor lies above the
    tolerance, a step below 1e-12 of the unknowns with a residual below ``floor`` is
    converged too.

    Args:
        absolute_tolerance: The case's ``[solver] absolute_tolerance``.
        step_tolerance: A last Newton step below this is converged.
        noise: A last Newton step below this that no longer shrinks is converged.
        floor: Largest residual accepted at a round-off-sized Newton step.
    """

    def __init__(
        self,
        absolute_tolerance: float,
        step_tolerance: float = 1e-8,
        noise: float = 1e-3,
        floor: float = 1e-6,
    ):
        self.absolute_tolerance = absolute_tolerance
        self.step_tolerance = step_tolerance
        self.noise = noise
        self.floor = floor
        self._last_step = np.inf

    def __call__(
        self, iteration: int, x_norm: float, step_norm: float, norm: float, dt: float
    ) -> int:
        reason = PETSc.SNES.ConvergedReason
        if not np.isfinite(norm):
            return reason.DIVERGED_FNORM_NAN
        last, self._last_step = self._last_step, step_norm
        if iteration == 0:
            self._last_step = np.inf
            return reason.ITERATING  # one Newton step at least: the predictor is not judged
        if norm < self.absolute_tolerance:
            if step_norm < self.step_tolerance:
                return reason.CONVERGED_FNORM_ABS
            if step_norm < self.noise and step_norm > 0.5 * last:
                return reason.CONVERGED_SNORM_RELATIVE
        if step_norm < 1e-12 * x_norm:
            return reason.CONVERGED_SNORM_RELATIVE if norm < self.floor else reason.DIVERGED_DTOL
        return reason.ITERATING


def solve_transient(
    problem: PNPProblem,
    settings: dict[str, Any],
    on_step: Callable[[float, bool], None],
    log: Callable[[str], None] = lambda _: None,
    on_progress: Callable[[float, int], None] | None = None,
    checkpoint: Callable[[TSIntegrator, float], bool] | None = None,
    resume: ReplayHistory | None = None,
) -> dict[str, Any]:
    """March from the uniform bulk state to ``end_time`` (:class:`TSIntegrator`).

    The t = 0 row is the uniform bulk state (before the step of the boundary potentials, as
    the steady solve's initial guess). The potential is then made consistent with the bulk
    concentrations and the boundary data (Gauss's law alone: the state at t = 0+), and TS
    integrates with the local error of the potential and the log-concentrations controlled
    (max norm).

    Args:
        problem: The PNP problem.
        settings: The case settings (``[study]`` and ``[solver]`` are used).
        on_step: Called after every accepted step (and at t = 0) with (time, is_output_time).
        log: Messages (rank 0 prints).
        on_progress: Called after every accepted step with (time, Newton iterations so far),
            for the progress line.
        checkpoint: Called after every accepted step (after ``on_step``) with the integrator
            and the time, where a checkpoint may read :meth:`TSIntegrator.history` when
            :meth:`TSIntegrator.checkpointable`; True stops the march there (a signal).
        resume: The history of a checkpoint: the march continues from it (no t = 0 row, no
            consistent initialisation; TS replays the stored steps first, see
            :mod:`electrolyx.ts_integrator`), to the uninterrupted run's steps.

    Raises:
        NewtonFailure: when a step is still rejected after ``max_step_cuts`` cuts in a row;
            everything written for earlier steps is kept.
    """
    study = settings["study"]
    end = study["end_time"]
    charging_time = problem.scales.time
    unknowns = problem.unknowns
    field, projected = unknowns.position(UNKNOWN), unknowns.position(PROJECTED)
    n_species = len(problem.species)
    # Error control on the fields and on the metal potential of a current-controlled electrode
    # (its faradaic charge Q_F follows from them: dQ_F/dt = j).
    metals = [unknowns.position(u) for u in problem.metal_potential_unknowns.values()]
    integrator = TSIntegrator(
        problem.residuals,
        unknowns.functions,
        problem.time_derivative.functions,
        bcs=[*problem.bcs, *problem.projected_bcs],
        differential=[field, *metals],
        order=BDF_ORDER,
        relative_tolerance=study["relative_tolerance"],
        absolute_tolerance=study["absolute_tolerance"],
        # Full Newton steps from TS's predictor (TS cuts a step whose Newton fails): a line
        # search fails where the residual is at its round-off floor, before NewtonVerdict
        # could judge the step. ``line_search`` is that of the steady solve.
        snes_options={
            **petsc_options_from_case(settings["solver"]),
            "snes_linesearch_type": "basic",
        },
        convergence_test=NewtonVerdict(settings["solver"]["absolute_tolerance"]),
        max_step_rejections=study["max_step_cuts"],
        update=problem.set_time,
        comm=problem.comm,
        name="pnp",
    )
    problem.set_ramp(1.0)
    problem.set_bulk_state()
    if resume is None:
        # The t = 0 row: the uniform bulk state before the step of the boundary data (no
        # rates).
        on_step(0.0, True)
        # Held: the concentrations and the faradaic charges passed (none yet); the metal's
        # charge is then that of the bulk state at zero overpotential (the current balance).
        charges = [unknowns.position(u) for u in problem.faradaic_charge_unknowns.values()]
        held = [(field, 1 + k) for k in range(n_species)] + [projected, *charges]
        try:
            integrator.make_consistent(0.0, held=held)
        except IntegrationFailure as failure:
            raise NewtonFailure("diverged", [], f"initial potential: {failure}") from None
    outputs = [t for t in output_times(study, charging_time) if t > 0.0]

    def accepted(t: float) -> None:
        on_step(t, any(abs(t - o) <= 1e-9 * o for o in outputs))
        if on_progress is not None:
            on_progress(t, integrator.totals["newton_iterations"])

    try:
        result = integrator.integrate(
            0.0,
            end,
            on_step=accepted,
            landing_times=sorted({*outputs, *problem.boundaries.kinks(end)}),
            initial_step_s=study["initial_step"] or 1e-3 * charging_time,
            max_step_s=study["max_step"] or end / 20,
            rates_at_steps=True,
            checkpoint=None if checkpoint is None else lambda t: checkpoint(integrator, t),
            replay=resume,
        )
    except IntegrationFailure as failure:
        raise NewtonFailure("diverged", [], str(failure)) from None
    # Totals of the whole march (those of a resumed run include the interrupted run's); the
    # evaluations include the consistent initialisation's.
    return {
        "integrator": f"PETSc TS BDF{BDF_ORDER}",
        "accepted_steps": integrator.totals["steps"],
        "rejected_steps": integrator.totals["rejected_steps"],
        "newton_iterations": integrator.totals["newton_iterations"],
        "residual_evaluations": integrator.counts["residual"],
        "jacobian_evaluations": integrator.counts["jacobian"],
        "stopped_at_checkpoint": result.reason == "checkpoint",
    }
