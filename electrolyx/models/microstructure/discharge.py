"""Galvanostatic discharge of a resolved half cell on the shared time integrator (PETSc TS)."""

from __future__ import annotations

from collections.abc import Callable

from ...solver import NewtonFailure
from ...ts_integrator import Event, IntegrationFailure, ReplayHistory, TSIntegrator
from .cell import ResolvedHalfCell

__all__ = ["discharge", "step_with_halving"]


def step_with_halving(
    cell: ResolvedHalfCell,
    time_step_s: float,
    current_A: float,
    halvings: int,
    on_failure: Callable[[NewtonFailure, float], None] | None = None,
) -> tuple[float, int]:
    """One step of ``cell``, halved up to ``halvings`` times while Newton fails.

    For benchmarks that time single steps (``bench/microstructure_3d.py``); a discharge runs
    the steps in one integration (:func:`discharge`).

    Args:
        cell: The half cell.
        time_step_s: Step length tried first [s].
        current_A: Applied current, positive on discharge.
        halvings: How often the step may be halved.
        on_failure: Called with the failure and the halved step before each retry.

    Returns:
        The step length taken and the Newton iterations of the successful try.

    Raises:
        NewtonFailure: from the last try (the state before the step is kept).
    """
    for attempt in range(halvings + 1):
        try:
            return time_step_s, cell.step(time_step_s, current_A)
        except NewtonFailure as failure:
            if attempt == halvings:
                raise
            time_step_s /= 2
            if on_failure:
                on_failure(failure, time_step_s)
    raise AssertionError("unreachable")


def discharge(
    cell: ResolvedHalfCell,
    current_A: float,
    cutoff_voltage_V: float,
    duration_s: float,
    time_step_s: float,
    *,
    halvings: int = 8,
    on_row: Callable[[dict[str, float]], None] | None = None,
    checkpoint: Callable[[TSIntegrator, float], bool] | None = None,
    resume: tuple[dict, dict] | None = None,
) -> str:
    """Galvanostatic discharge until the cut-off voltage (located in time) or the duration.

    Implicit Euler (BDF order 1 of :class:`~electrolyx.ts_integrator.TSIntegrator`, which
    keeps the discrete lithium balance exact step by step) at fixed steps of ``time_step_s``,
    each halved up to ``halvings`` times while Newton fails (the next step tries the full
    step again); the cut-off is located in time by TSEvent.

    Args:
        cell: The half cell, at its initial state.
        current_A: Applied current, positive on discharge.
        cutoff_voltage_V: The discharge stops when the voltage reaches it.
        duration_s: Longest discharge time.
        time_step_s: Time step.
        halvings: How often one step may be halved.
        on_row: Called with every recorded row (t = 0 included).
        checkpoint: Called with the integrator and the end time after every accepted step
            (rows written); True stops the discharge ("checkpoint"). The integrator's
            :meth:`~TSIntegrator.history` resumes it where :meth:`~TSIntegrator.checkpointable`.
        resume: (scalars, arrays): :meth:`ReplayHistory.scalars` with the end time under
            ``"end_s"`` and this rank's states under ``"history.states"``: the discharge goes
            on from there (the cell's bookkeeping already loaded), bit for bit as the
            uninterrupted one.

    Returns:
        Why it ended: "cutoff", "time" or "checkpoint".

    Raises:
        NewtonFailure: a step failed after ``halvings`` halvings (the rows so far are kept).
    """

    def row() -> dict[str, float]:
        state = cell.state()
        return {
            "time_s": cell.time_s,
            "voltage_V": state.voltage_V,
            "current_A": current_A if cell.time_s > 0 else 0.0,
            "discharge_capacity_Ah": cell.charge_passed_C / 3600.0,
            "interface_current_A": state.interface_current_A,
            "counter_electrode_current_A": state.counter_electrode_current_A,
            "lithium_electrolyte_mol": state.lithium_electrolyte_mol,
            "lithium_particles_mol": state.lithium_particles_mol,
            "average_stoichiometry": state.average_stoichiometry,
        }

    integrator = cell.integrator
    cell.applied_current_A = current_A
    replay = None
    if resume is None:
        end_s = cell.time_s + duration_s
        if on_row:
            on_row(row())
        if cell.voltage_V <= cutoff_voltage_V:
            return "cutoff"
    else:
        scalars, arrays = resume
        end_s = scalars["end_s"]
        replay = ReplayHistory.from_scalars(scalars, arrays["history.states"])

    def accepted(t: float) -> None:
        cell.accepted(t)
        if on_row:
            on_row(row())

    cutoff = Event(lambda t: cell.voltage_V - cutoff_voltage_V, -1, True, "cutoff")
    rejections, integrator.max_step_rejections = integrator.max_step_rejections, halvings
    try:
        result = integrator.integrate(
            cell.time_s,
            end_s,
            events=[cutoff],
            on_step=accepted,
            checkpoint=None if checkpoint is None else lambda t: checkpoint(integrator, end_s),
            replay=replay,
            fixed_step_s=time_step_s,
            step_cut=0.5,
            initial_guess=cell.predict_voltage,
            # The cut-off in time to 1e-5 s or |V - V_cut| < 1e-9 V.
            event_tolerance=1e-9,
            event_min_step_s=1e-5,
        )
    except IntegrationFailure as failure:
        raise NewtonFailure("diverged", [], str(failure)) from None
    finally:
        integrator.max_step_rejections = rejections
    return {"event": "cutoff", "time": "time", "checkpoint": "checkpoint"}[result.reason]
