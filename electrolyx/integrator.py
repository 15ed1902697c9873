"""One time integrator for every model: variable-step BDF1/BDF2 with events and step cutting.

A model hands the integrator an :class:`ImplicitProblem`: its named unknowns, the
:class:`BDFTimeDerivative` its forms use for d/dt, and a Newton solve. The integrator owns the
history of accepted states and

* proposes each step from a local error estimate (:class:`BDFStepController`) on the
  differential unknowns, starting at first order after every restart;
* cuts a step by 4 when Newton fails, down to a smallest step, then raises :class:`StepFailure`
  saying when and with which step;
* lands steps exactly on requested times (output times, drive-cycle breakpoints, the end);
* locates events (a scalar function of the state crossing zero: a voltage cut-off, a current
  limit) in time by Illinois regula falsi on the step length;
* hands out states at regular times (rows of a time series) interpolated between accepted
  steps, so that the spacing of the outputs never limits the step.

Time discretisation of a differential unknown with value v (see :class:`BDFTimeDerivative`):

    dv/dt ~ (a0 v_n+1 + a1 v_n + a2 v_n-1) / dt,
    BDF1: (1, -1, 0);  BDF2 with omega = dt / dt_prev: ((1+2w)/(1+w), -(1+w), w^2/(1+w)).

PETSc TS was evaluated for the same role (bench/README.md, "Time integration").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mpi4py import MPI

import numpy as np
from dolfinx import fem

from .time_stepping import BDFStepController, extrapolate
from .unknowns import Unknowns

__all__ = [
    "AdaptiveBDF",
    "BDFTimeDerivative",
    "ImplicitProblem",
    "IntegratorStatistics",
    "StepFailure",
    "bdf_coefficients",
]


INTERPOLATION_POINTS = 4


class StepFailure(RuntimeError):
    """Newton did not converge even at the smallest allowed time step."""


def bdf_coefficients(dt: float, previous_dt: float | None) -> tuple[float, float, float]:
    """(a0, a1, a2) of variable-step BDF2, or BDF1 when ``previous_dt`` is None."""
    if previous_dt is None:
        return (1.0, -1.0, 0.0)
    omega = dt / previous_dt
    return ((1 + 2 * omega) / (1 + omega), -(1 + omega), omega**2 / (1 + omega))


class BDFTimeDerivative:
    """d/dt of the unknowns' physical values by variable-step BDF, as UFL expressions.

    The forms are compiled once with the coefficients and the step as ``fem.Constant`` and the
    two previous states as functions; :meth:`set_step` updates them before each solve.

    Args:
        mesh: Mesh of the constants.
        unknowns: The problem's unknowns.
    """

    def __init__(self, mesh, unknowns: Unknowns):
        self.unknowns = unknowns
        self.coefficients = [fem.Constant(mesh, c) for c in (1.0, -1.0, 0.0)]
        self.time_step = fem.Constant(mesh, 1.0)
        self.previous = [[fem.Function(V) for V in unknowns.spaces] for _ in range(2)]

    def rate(self, name: str):
        """d(value)/dt of the unknown ``name`` [its unit per second]."""
        unknown = self.unknowns[name]
        return unknown.scale * self.rate_of(name, lambda u: u)

    def rate_of(self, name: str, transform: Callable[[Any], Any]):
        """Time derivative d f(u)/dt of a function f of the unknown ``name`` (e.g. exp(u)).

        Args:
            name: The unknown u.
            transform: f, applied to u and to its previous states (UFL in, UFL out).
        """
        i = self.unknowns.position(name)
        a0, a1, a2 = self.coefficients
        change = (
            a0 * transform(self.unknowns[name].function)
            + a1 * transform(self.previous[0][i])
            + a2 * transform(self.previous[1][i])
        )
        return change / self.time_step

    def steady(self) -> None:
        """Zero every time derivative (a steady-state solve with the same forms)."""
        for constant in self.coefficients:
            constant.value = 0.0

    def set_step(self, dt: float, coefficients, states: Sequence[Sequence[np.ndarray]]) -> None:
        """Step length, BDF coefficients and the previous states (newest first)."""
        self.time_step.value = dt
        for constant, value in zip(self.coefficients, coefficients, strict=True):
            constant.value = value
        for functions, state in zip(self.previous, states, strict=False):
            for function, values in zip(functions, state, strict=True):
                function.x.array[:] = values

    def values(self) -> tuple[float, float, float]:
        """The present coefficients (a0, a1, a2)."""
        return tuple(float(c.value) for c in self.coefficients)


class ImplicitProblem(Protocol):
    """What the integrator needs of a model."""

    unknowns: Unknowns
    time_derivative: BDFTimeDerivative
    comm: MPI.Comm

    def newton_solve(self, dt: float) -> tuple[bool, int]:
        """Newton from the present unknowns; (converged, iterations)."""


@dataclass
class IntegratorStatistics:
    """Counters over a run (rejected: by the error estimate or a Newton failure)."""

    accepted_steps: int = 0
    rejected_steps: int = 0
    newton_failures: int = 0
    newton_iterations: int = 0


class AdaptiveBDF:
    """Adaptive BDF1/BDF2 integration of an :class:`ImplicitProblem`.

    Args:
        problem: The model.
        controller: Error estimate and step proposal.
        max_order: 2 (BDF2 after the first step) or 1 (implicit Euler throughout).
        step_cut: Factor on the step after a Newton failure.
        max_step_cuts: Consecutive cuts of one step before :class:`StepFailure` (None: until
            the step falls below the controller's smallest step).
        fixed_step: No error control: every step tries the controller's largest step (cut only
            where Newton fails, shortened only to land on requested times).
    """

    def __init__(
        self,
        problem: ImplicitProblem,
        controller: BDFStepController,
        max_order: int = 2,
        step_cut: float = 0.25,
        max_step_cuts: int | None = None,
        fixed_step: bool = False,
    ):
        if max_order not in (1, 2):
            raise ValueError(f"max_order = {max_order}: allowed 1 or 2")
        self.problem = problem
        self.controller = controller
        self.max_order = max_order
        self.step_cut = step_cut
        self.max_step_cuts = max_step_cuts
        self.fixed_step = fixed_step
        self.statistics = IntegratorStatistics()
        self.history: list[tuple[float, list[np.ndarray]]] = []
        #: Called before each solve with the step's end time (time-dependent data, e.g. a
        #: current that follows a drive cycle).
        self.before_step: Callable[[float], None] = lambda end_time: None
        #: Called after every accepted step with its length (the model's bookkeeping).
        self.on_accept: Callable[[float], None] = lambda dt: None
        #: Called after ``on_accept`` and the interpolated outputs of the step, with its length
        #: (the model records the accepted state).
        self.on_step_output: Callable[[float], None] = lambda dt: None
        #: Called at each multiple of :attr:`interpolation_interval` passed by a step (after
        #: ``on_accept``), with the unknowns set to the interpolated state there (restored
        #: afterwards).
        self.on_interpolated: Callable[[float], None] = lambda time: None
        #: Spacing of the interpolated outputs [s] (None: none); steps are not limited by it.
        self.interpolation_interval: float | None = None
        #: Called after every accepted step that does not end the run (its outputs written and
        #: :attr:`next_step_s` set), where :meth:`snapshot` resumes the run exactly; True stops
        #: :meth:`run` (which returns "checkpoint").
        self.checkpoint: Callable[[], bool] | None = None
        #: The step :meth:`run` tries next.
        self.next_step_s = controller.initial_step_s

    def snapshot(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The run's state between two steps: (scalars, this rank's arrays).

        The history of accepted states (the step formula and Newton's extrapolated guess read
        it), the next step, the statistics and the controller's order.
        """
        scalars = {
            "times": [float(t) for t, _ in self.history],
            "next_step_s": float(self.next_step_s),
            "statistics": dict(vars(self.statistics)),
            "controller_order": getattr(self.controller, "_order", None),
        }
        arrays = {
            f"history.{k}.{i}": values
            for k, (_, state) in enumerate(self.history)
            for i, values in enumerate(state)
        }
        return scalars, arrays

    def restore(self, scalars: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Load a :meth:`snapshot` (the unknowns hold the last state; set them separately)."""
        fields = len(self.problem.unknowns)
        self.history = [
            (float(t), [np.array(arrays[f"history.{k}.{i}"]) for i in range(fields)])
            for k, t in enumerate(scalars["times"])
        ]
        self.next_step_s = float(scalars["next_step_s"])
        self.statistics = IntegratorStatistics(**scalars["statistics"])
        if scalars["controller_order"] is not None:
            self.controller._order = scalars["controller_order"]

    @property
    def time(self) -> float:
        """Time of the last accepted state [s]."""
        return self.history[-1][0]

    def restart(self, time: float) -> None:
        """Forget the history: the present unknowns are the state at ``time`` (first order)."""
        self.history = [(time, self.problem.unknowns.state())]

    def shift_history(self, position: int, shift: float) -> None:
        """Subtract ``shift`` from the unknown at ``position`` in every stored state."""
        for _, state in self.history:
            state[position] -= shift

    def try_step(self, dt: float, order: int, guess: Sequence[np.ndarray]) -> bool:
        """Solve one step of ``dt`` from the last accepted state; True if Newton converged."""
        t1, newest = self.history[-1]
        previous_dt = t1 - self.history[-2][0] if order == 2 else None
        states = [newest] if order == 1 else [newest, self.history[-2][1]]
        self.problem.time_derivative.set_step(dt, bdf_coefficients(dt, previous_dt), states)
        self.before_step(t1 + dt)
        unknowns = self.problem.unknowns
        unknowns.set_state(guess)
        converged, iterations = self.problem.newton_solve(dt)
        self.statistics.newton_iterations += iterations
        finite = all(np.isfinite(u.function.x.array).all() for u in unknowns)
        return converged and self.problem.comm.allreduce(finite, op=MPI.LAND)

    def _accept(self, dt: float) -> None:
        start = self.history[-1][0]
        time = start + dt
        self.history = [*self.history[-3:], (time, self.problem.unknowns.state())]
        self.statistics.accepted_steps += 1
        self.on_accept(dt)
        self._interpolate(start, time)
        self.on_step_output(dt)

    def _interpolate(self, start: float, end: float) -> None:
        """Outputs at the multiples of the interpolation interval in (start, end).

        The state there is the cubic Lagrange polynomial through the last (up to four)
        accepted states, one order above the BDF2 step so that interpolation adds little to
        its error (measured on the DFN's 1C discharge: 0.17 mV at most between 60 s steps,
        against 0.74 mV with the quadratic through three).
        """
        interval = self.interpolation_interval
        if interval is None:
            return
        unknowns = self.problem.unknowns
        first = math.floor(start / interval + 1e-9) + 1
        times = [k * interval for k in range(first, math.ceil(end / interval - 1e-9))]
        if not times:
            return
        accepted = unknowns.state()
        for time in times:
            unknowns.set_state(extrapolate(self.history, time, INTERPOLATION_POINTS))
            self.on_interpolated(time)
        unknowns.set_state(accepted)

    def run(
        self,
        end_time: float,
        event: Callable[[], float] | None = None,
        output_times: Sequence[float] = (),
        landing_times: Sequence[float] = (),
        on_output: Callable[[], None] = lambda: None,
        first_step_s: float | None = None,
    ) -> str:
        """Integrate until ``end_time`` or the event; "time", "event" or "checkpoint".

        Args:
            end_time: Where to stop [s].
            event: g(state) > 0 while the run may go on; the step where it reaches 0 is
                shortened to end on it (to 1e-5 s or |g| < 1e-9).
            output_times: Times the steps land on, where ``on_output`` is called.
            landing_times: Further times the steps land on (breakpoints of the data).
            on_output: Called at output times, at the end and at the event.
            first_step_s: The first step (default the controller's initial step; a resumed
                run passes the :attr:`next_step_s` of its snapshot).
        """
        controller = self.controller
        unknowns = self.problem.unknowns
        everything = list(range(len(unknowns)))
        dt = controller.initial_step_s if first_step_s is None else first_step_s
        stops = sorted(float(t) for t in (*output_times, *landing_times) if t < end_time)
        stops.append(end_time)
        g_before = event() if event is not None else None
        if g_before is not None and g_before <= 0:
            return "event"
        cuts = 0
        while True:
            t1 = self.history[-1][0]
            target = next(t for t in stops if t > t1 + 1e-12)
            dt = min(dt, target - t1)
            order = 2 if len(self.history) >= 2 and self.max_order == 2 else 1
            guess = controller.predict(self.history, t1 + dt, everything)
            if not self.try_step(dt, order, guess):
                self.statistics.rejected_steps += 1
                self.statistics.newton_failures += 1
                cuts += 1
                too_many = self.max_step_cuts is not None and cuts > self.max_step_cuts
                if too_many or dt * self.step_cut < controller.min_step_s:
                    raise StepFailure(
                        f"Newton failed at t = {t1:.6g} s with a step of {dt:.3g} s "
                        f"after {cuts - 1} cuts"
                    )
                dt *= self.step_cut
                continue
            cuts = 0
            error = 0.0
            if not self.fixed_step:
                error = controller.error(
                    self.history,
                    t1 + dt,
                    unknowns.state(),
                    unknowns.differential,
                    self.problem.comm,
                )
            if error > 1.0:
                self.statistics.rejected_steps += 1
                dt = controller.next_step(dt, error, order)
                continue
            g = event() if event is not None else None
            if g is not None and g <= 0:
                dt = self._locate_event(dt, order, g_before, g, event)
                self._accept(dt)
                on_output()
                return "event"
            self._accept(dt)
            g_before = g
            now = self.time
            at_end = now >= end_time - 1e-12
            if at_end or any(abs(now - t) < 1e-9 for t in output_times):
                on_output()
            if at_end:
                return "time"
            dt = (
                controller.max_step_s if self.fixed_step else controller.next_step(dt, error, order)
            )
            self.next_step_s = dt
            if self.checkpoint is not None and self.checkpoint():
                return "checkpoint"

    def _locate_event(self, dt, order, g_lo, g_hi, event) -> float:
        """Step length that ends on the event (Illinois regula falsi); its state is set."""
        lo, hi = 0.0, dt
        t1 = self.history[-1][0]
        everything = list(range(len(self.problem.unknowns)))
        side = 0
        trial = hi
        for _ in range(60):
            trial = hi - g_hi * (hi - lo) / (g_hi - g_lo)
            guess = self.controller.predict(self.history, t1 + trial, everything)
            if not self.try_step(trial, order, guess):
                raise StepFailure(f"Newton failed while locating an event near t = {t1:.6g} s")
            g = event()
            if abs(g) < 1e-9 or hi - lo < 1e-5:
                break
            if np.sign(g) == np.sign(g_hi):
                hi, g_hi = trial, g
                if side == -1:
                    g_lo *= 0.5
                side = -1
            else:
                lo, g_lo = trial, g
                if side == 1:
                    g_hi *= 0.5
                side = 1
        return trial
