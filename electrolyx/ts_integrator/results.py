"""What an integration reports: events to locate, the outcome of a call and its failure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from petsc4py import PETSc

from ..integrator import StepFailure

#: New TSs one :meth:`TSIntegrator.integrate` call may start to locate an event (see there).
EVENT_RESTARTS = 3

#: PETSc's PETSC_ERR_PLIB: TSEvent's consistency checks ("Inconsistent time value when
#: performing 'revisiting'") raise it.
_PETSC_ERR_PLIB = 77


class _EventLocationStopped(Exception):
    """PETSc's TSEvent stopped on its "revisiting" step (see :meth:`TSIntegrator.integrate`)."""

    def __init__(self, result: IntegrationResult, pending: list[float], error: PETSc.Error):
        super().__init__(str(error))
        self.result, self.pending, self.error = result, pending, error


class IntegrationFailure(StepFailure):
    """Newton failed on every retry of a step (or of a consistent initialisation)."""


@dataclass(frozen=True)
class AffineIndicator:
    """An event's indicator as an affine function of a scalar form's value S at the state.

        g = sign * (h((S + offset) * scale) - cut),  h = |.| if ``absolute``, else identity;

    the offset read from its constant at each evaluation (None: 0). The terminal voltage
    above a cut-off is one (S the terminal potential in thermal voltages, offset the
    potential offset, scale the thermal voltage); so is a current magnitude below a limit.
    Where it can, :class:`TSIntegrator` evaluates such an event in C (no Python in TSEvent's
    calls); it must then give what :attr:`Event.indicator` gives, bit for bit.
    """

    form: Any
    scale: float
    cut: float
    sign: float = 1.0
    offset: Any = None
    absolute: bool = False


@dataclass
class Event:
    """A zero crossing of g(t, u) located in time.

    Attributes:
        indicator: g(t), called with the state loaded into the unknowns (and the integrator's
            ``update(t)`` applied), on every rank (collective if it assembles); the same value
            on all ranks.
        direction: -1: only crossings from positive to negative; +1: negative to positive;
            0: both.
        terminal: Stop the integration at the event (else record it and go on).
        name: Label reported in :attr:`IntegrationResult.event`.
        affine: The same g as an :class:`AffineIndicator` (optional), which the integrator may
            evaluate in C instead of calling ``indicator``.
    """

    indicator: Callable[[float], float]
    direction: int = 0
    terminal: bool = True
    name: str = "event"
    affine: AffineIndicator | None = None


@dataclass
class IntegrationResult:
    """Outcome and statistics of one :meth:`TSIntegrator.integrate` call.

    Attributes:
        time: Time reached (the event time if a terminal event stopped it).
        reason: "time" (end time reached), "event" (terminal event), "stop" (user stop) or
            "checkpoint" (the ``checkpoint`` callback asked to stop).
        event: Name of the terminal event, or "".
        event_times: Times of all located events (terminal and non-terminal), with names.
        steps: Accepted steps (event-location trial steps that were accepted included).
        rejected_steps: Steps rejected by the error test or a failed Newton solve.
        newton_iterations: Newton iterations of all solves.
        residual_evaluations: Residual assemblies.
        jacobian_evaluations: Jacobian assemblies.
        wall_time_s: Wall-clock time of the call.
        last_step_s: The step size TS proposed last (a good first step for a next call).
        restarts: New TSs started to locate an event after PETSc's TSEvent stopped (see
            :meth:`TSIntegrator.integrate`).
    """

    time: float = 0.0
    reason: str = ""
    event: str = ""
    event_times: list[tuple[float, str]] = field(default_factory=list)
    steps: int = 0
    rejected_steps: int = 0
    newton_iterations: int = 0
    residual_evaluations: int = 0
    jacobian_evaluations: int = 0
    wall_time_s: float = 0.0
    last_step_s: float = 0.0
    restarts: int = 0
