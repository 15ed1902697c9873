"""Integrator layer of the PNP model: the steady solve with continuation and the transient march.

Steady: Newton from the uniform bulk state; if it fails, the boundary potentials and charges are
ramped up from zero, halving failed steps. Transient: the shared adaptive BDF integrator
(:class:`electrolyx.integrator.AdaptiveBDF`) on dc_k/dt with c_k = c_ref exp(u_k), so that the
amount of each species changes only through the boundaries (to the Newton tolerance).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ...integrator import AdaptiveBDF, StepFailure
from ...solver import NewtonFailure, NewtonSolver
from ...time_stepping import BDFStepController
from .problem import PNPProblem

__all__ = ["TimeStepper", "output_times", "solve_steady", "solve_transient"]


class TimeStepper:
    """What the integrator needs: the problem's unknowns and time derivative, and Newton."""

    def __init__(self, problem: PNPProblem, solver: NewtonSolver):
        self.unknowns = problem.unknowns
        self.time_derivative = problem.time_derivative
        self.comm = problem.comm
        self.solver = solver
        self.last_failure: NewtonFailure | None = None

    def newton_solve(self, dt: float) -> tuple[bool, int]:
        """One Newton solve of a time step; (converged, iterations)."""
        try:
            iterations = self.solver.solve(where=f"a step of {dt:.3g} s")
        except NewtonFailure as failure:
            self.last_failure = failure
            return False, len(failure.residuals)
        return True, iterations


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
    problem.time_derivative.steady()
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


def solve_transient(
    problem: PNPProblem,
    solver: NewtonSolver,
    study: dict[str, Any],
    on_step: Callable[[float, bool], None],
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """March from the uniform bulk state to ``end_time`` (:class:`AdaptiveBDF`).

    Args:
        problem: The PNP problem.
        solver: Newton solver of its residual.
        study: The ``[study]`` settings.
        on_step: Called after every accepted step with (time, is_output_time).
        log: Progress messages (rank 0 prints).

    Raises:
        NewtonFailure: when a step still fails after ``max_step_cuts`` cuts; everything
            written for earlier steps is kept.
    """
    end = study["end_time"]
    charging_time = problem.scales.time
    controller = BDFStepController(
        relative_tolerance=study["relative_tolerance"],
        absolute_tolerance=study["absolute_tolerance"],
        initial_step_s=study["initial_step"] or 1e-3 * charging_time,
        max_step_s=study["max_step"] or end / 20,
        min_step_s=1e-12 * charging_time,
    )
    stepper = TimeStepper(problem, solver)
    integrator = AdaptiveBDF(stepper, controller, max_step_cuts=study["max_step_cuts"])
    problem.set_ramp(1.0)
    problem.set_bulk_state()
    integrator.restart(0.0)
    on_step(0.0, True)
    outputs = [t for t in output_times(study, charging_time) if t > 0.0]
    next_report = [0.1]

    def accepted(dt: float) -> None:
        t = integrator.time
        is_output = any(abs(t - o) <= 1e-9 * o for o in outputs)
        on_step(t, is_output)
        if t >= next_report[0] * end or is_output:
            statistics = integrator.statistics
            log(
                f"t = {t:.4g} s ({100 * t / end:.0f} %), step {dt:.3g} s, "
                f"{statistics.accepted_steps} steps accepted, "
                f"{statistics.rejected_steps} rejected"
            )
            while next_report[0] * end <= t:
                next_report[0] += 0.1

    integrator.on_accept = accepted
    try:
        integrator.run(end, output_times=outputs)
    except StepFailure as failure:
        last = stepper.last_failure
        raise NewtonFailure(
            last.reason if last else "diverged", last.residuals if last else [], str(failure)
        ) from None
    statistics = integrator.statistics
    return {
        "accepted_steps": statistics.accepted_steps,
        "rejected_steps": statistics.rejected_steps - statistics.newton_failures,
        "step_cuts": statistics.newton_failures,
    }
