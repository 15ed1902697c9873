"""Galvanostatic discharge of a resolved half cell on the shared time integrator."""

from __future__ import annotations

from collections.abc import Callable

from ...integrator import AdaptiveBDF, StepFailure
from ...solver import NewtonFailure
from ...time_stepping import BDFStepController
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

    For benchmarks that time single steps (``bench/microstructure_3d.py``); a discharge runs on
    :class:`electrolyx.integrator.AdaptiveBDF` (:func:`discharge`).

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
    checkpoint: Callable[[AdaptiveBDF, float], bool] | None = None,
    resume: tuple[dict, dict] | None = None,
) -> str:
    """Galvanostatic discharge until the cut-off voltage (located in time) or the duration.

    Implicit Euler (the first order of :class:`~electrolyx.integrator.AdaptiveBDF`, which keeps
    the discrete lithium balance exact step by step) at steps of ``time_step_s``, each halved up
    to ``halvings`` times while Newton fails; the cut-off is located by regula falsi.

    Args:
        cell: The half cell, at its initial state.
        current_A: Applied current, positive on discharge.
        cutoff_voltage_V: The discharge stops when the voltage reaches it.
        duration_s: Longest discharge time.
        time_step_s: Time step.
        halvings: How often one step may be halved.
        on_row: Called with every recorded row (t = 0 included).
        checkpoint: Called with the integrator and the end time after every accepted step
            (rows written) that does not end the discharge; True stops it ("checkpoint").
        resume: (scalars, arrays) of :meth:`AdaptiveBDF.snapshot` with the end time under
            ``"end_s"``: the discharge goes on from there (the cell's state already loaded).

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

    controller = BDFStepController(initial_step_s=time_step_s, max_step_s=time_step_s)
    integrator = AdaptiveBDF(
        cell, controller, max_order=1, step_cut=0.5, max_step_cuts=halvings, fixed_step=True
    )
    cell.applied_current_A = current_A
    first_step = None
    if resume is None:
        end_s = cell.time_s + duration_s
        integrator.restart(cell.time_s)
    else:
        scalars, arrays = resume
        integrator.restore(scalars, arrays)
        end_s, first_step = scalars["end_s"], integrator.next_step_s
    if checkpoint is not None:
        integrator.checkpoint = lambda: checkpoint(integrator, end_s)

    def accepted(dt: float) -> None:
        cell.accepted(dt)
        if on_row:
            on_row(row())

    integrator.on_accept = accepted
    if on_row and resume is None:
        on_row(row())

    def above_cutoff() -> float:
        return float(cell.terminal_voltage.value) * cell.thermal_voltage_ref - cutoff_voltage_V

    try:
        termination = integrator.run(end_s, above_cutoff, first_step_s=first_step)
    except StepFailure as failure:
        last = getattr(cell, "last_failure", None)
        raise NewtonFailure(
            last.reason if last else "diverged", last.residuals if last else [], str(failure)
        ) from None
    return "cutoff" if termination == "event" else termination
