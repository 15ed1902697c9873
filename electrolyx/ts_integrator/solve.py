"""One PETSc TS from start to end: options, tolerances, events, outputs, checkpoints, replay.

:meth:`TSIntegrator.integrate` calls it, again after TSEvent stopped on a revisiting step.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from petsc4py import PETSc

import numpy as np

from .assembly import _snes_reason
from .history import _REPLAY_TOLERANCE, ReplayHistory
from .results import (
    _PETSC_ERR_PLIB,
    Event,
    IntegrationFailure,
    IntegrationResult,
    _EventLocationStopped,
)

if TYPE_CHECKING:
    from ..compiled_assembly import IndicatorFunction


class TSSolve:
    """One TS of :meth:`TSIntegrator.integrate` (see the package docstring)."""

    def _integrate_once(
        self,
        t0: float,
        t_end: float,
        events: Sequence[Event],
        output_times: Sequence[float],
        on_output: Callable[[float], None] | None,
        on_step: Callable[[float], None] | None,
        stop: Callable[[float], bool] | None,
        landing_times: Sequence[float],
        initial_step_s: float,
        max_step_s: float | None,
        event_tolerance: float,
        event_min_step_s: float,
        rates_at_steps: bool,
        checkpoint: Callable[[float], bool] | None,
        replay: ReplayHistory | None,
        fixed_step_s: float | None,
        step_cut: float,
        initial_guess: Callable[[PETSc.Vec], None] | None,
        last_state_guess: Callable[[np.ndarray, int], bool] | None,
    ) -> IntegrationResult:
        """One TS from t0 (:meth:`integrate` starts another on :class:`_EventLocationStopped`)."""
        counts0 = dict(self.counts)
        result = IntegrationResult()
        x = self.x
        self._state_loaded = None  # (see _state_at)
        self._ring.clear()
        self._steps_in_call = 0
        self._locating = False
        # A new TS and Newton solver: the next Jacobian assembles every row.
        self._step_key = None
        if self.on_step_rows is not None:
            self.on_step_rows(None, False)
        if fixed_step_s is not None:
            initial_step_s = min(fixed_step_s, t_end - t0)
        if replay is not None:
            # Bit for bit the stored oldest state (no Dirichlet values re-applied).
            t0 = float(replay.times[0])
            initial_step_s = float(replay.times[1] - replay.times[0])
            x.getArray()[:] = replay.states[0]
        else:
            self._store(self.unknowns, x)
            self._assembler.set_bc(x)
        ts = PETSc.TS().create(self.comm)
        ts.setOptionsPrefix(self.prefix)
        ts.setProblemType(PETSc.TS.ProblemType.NONLINEAR)
        f = x.duplicate()
        ts.setIFunction(self._residual, f)
        ts.setIJacobian(self._jacobian, self.matrix, self.matrix)
        ts.setTime(t0)
        ts.setMaxTime(t_end)
        ts.setTimeStep(initial_step_s)
        ts.setMaxSteps(10**9)
        ts.setMaxSNESFailures(-1)
        ts.setMaxStepRejections(self.max_step_rejections)
        ts.setErrorIfStepFails(False)
        ts.setExactFinalTime(PETSc.TS.ExactFinalTime.MATCHSTEP)
        options = PETSc.Options()
        keys = {
            "ts_adapt_type": "basic" if fixed_step_s is None else "none",
            "ts_adapt_scale_solve_failed": step_cut,
            "ts_adapt_wnormtype": self.norm,
            "ts_adapt_clip": f"0.1,{self.max_step_growth}",
            **({"ts_adapt_dt_max": max_step_s} if max_step_s is not None else {}),
            **self.ts_options,
        }
        if self.scheme == "bdf":
            ts.setType(PETSc.TS.Type.BDF)
            keys.setdefault("ts_bdf_order", int(self.order))
            # Newton starts from the BDF polynomial extrapolated to the new time (a better guess
            # for the algebraic unknowns than the last state where they change fast).
            keys.setdefault("ts_bdf_initial_guess_extrapolate", self.extrapolate)
        elif self.scheme == "arkimex":
            ts.setType(PETSc.TS.Type.ARKIMEX)
            ts.setARKIMEXType(str(self.order))
            ts.setARKIMEXFullyImplicit(True)
        else:
            raise ValueError(f"unknown scheme {self.scheme!r} (bdf or arkimex)")
        if events:
            keys["ts_event_dt_min"] = event_min_step_s
        for key, value in keys.items():
            options[f"{self.prefix}{key}"] = value
        # Local-error tolerances: zero on the algebraic entries (left out of the norm).
        vatol, vrtol = x.duplicate(), x.duplicate()
        atol = np.full(self._differential.size, self.atol)
        for index, value in self.field_atol.items():
            atol[self._mask([index])] = value
        vatol.getArray()[:] = np.where(self._differential, atol, 0.0)
        vrtol.getArray()[:] = np.where(self._differential, self.rtol, 0.0)
        replay_tolerance = None
        if replay is not None:
            # Every replay step is accepted (its result is replaced by the stored state).
            replay_tolerance = x.duplicate()
            replay_tolerance.set(_REPLAY_TOLERANCE)
            ts.setTolerances(rtol=replay_tolerance, atol=replay_tolerance)
        else:
            ts.setTolerances(rtol=vrtol, atol=vatol)
        snes = ts.getSNES()
        self._configure_snes(
            snes, self.prefix, step=ts.getTimeStep, quadrature=bool(self._quadrature)
        )
        # Newton failures of TS when the last state was accepted (last_state_guess).
        failures_at_acceptance = [0]
        if initial_guess is not None or last_state_guess is not None:

            def guess(snes, x):
                if last_state_guess is not None:
                    start = (
                        bool(self._ring)
                        and not replaying[0]
                        and last_state_guess(
                            self._ring[-1][1], ts.getSNESFailures() - failures_at_acceptance[0]
                        )
                    )
                    self._start_from_last_state(snes, x, start)
                if initial_guess is not None:
                    initial_guess(x)

            snes.setInitialGuess(guess)
        totals0 = dict(self.totals)
        # Steps, rejections and Newton iterations of TS not counted (those of a replay).
        uncounted = {
            "steps": 0,
            "rejected_steps": 0,
            "newton_iterations": 0,
            "linear_iterations": 0,
        }
        replaying = [replay is not None]
        replayed = [0]

        def update_totals() -> None:
            if replaying[0]:
                return
            self.totals["steps"] = totals0["steps"] + ts.getStepNumber() - uncounted["steps"]
            self.totals["rejected_steps"] = (
                totals0["rejected_steps"] + ts.getStepRejections() - uncounted["rejected_steps"]
            )
            self.totals["newton_iterations"] = (
                totals0["newton_iterations"]
                + ts.getSNESIterations()
                - uncounted["newton_iterations"]
            )
            self.totals["linear_iterations"] = (
                totals0["linear_iterations"]
                + ts.getKSPIterations()
                - uncounted["linear_iterations"]
            )

        indicator_in_c = None
        if events:
            directions = [e.direction for e in events]
            terminate = [e.terminal for e in events]
            accepted_values = [None]
            latest_values = [None]

            def indicator(ts, t, u, values):
                if replaying[0]:
                    # The stored state of this replay step (the first call: the start).
                    k = 0 if latest_values[0] is None else replayed[0] + 1
                    work.getArray()[:] = replay.states[k]
                    t, u = float(replay.times[k]), work
                self._state_at(t, u)
                latest = [float(event.indicator(t)) for event in events]
                values[:] = latest
                if latest_values[0] is None:
                    accepted_values[0] = latest
                elif any(
                    abs(value) <= event_tolerance or _sign(value) != _sign(before)
                    for value, before in zip(latest, accepted_values[0], strict=True)
                ):
                    # A sign change (or a zero) since the last accepted step: TSEvent locates
                    # it with trial steps from now on, which a replay would not repeat.
                    self._locating = True
                latest_values[0] = latest

            def postevent(ts, fired, t, u, forward):
                for k in fired:
                    result.event_times.append((t, events[k].name))
                    if events[k].terminal:
                        result.event = events[k].name

            # In C where the events are affine in scalar forms (not while replaying: the
            # Python indicator reads the stored states then).
            if replay is None:
                indicator_in_c = self._indicator_in_c(events, event_tolerance)
            if indicator_in_c is None:
                ts.setEventHandler(directions, terminate, indicator, postevent)
            else:
                _set_event_handler(ts, directions, terminate, indicator_in_c)
            ts.setEventTolerances(tol=event_tolerance)
        resume_time = float(replay.times[-1]) if replay is not None else t0
        pending = sorted(float(t) for t in output_times if resume_time < t <= t_end)
        work = x.duplicate()
        stopped = []
        checkpointed = []

        def remember(t: float) -> None:
            """The accepted state into the history of the call."""
            self._steps_in_call += 1
            self._next_step_s = ts.getTimeStep()
            last_step = t - self._ring[-1][0] if self._ring else self._next_step_s
            self._adapt_clear = self._adapt_keeps_nothing(t, self._next_step_s, last_step)
            self._ring.append((t, ts.getSolution().getArray(readonly=True).copy()))
            failures_at_acceptance[0] = ts.getSNESFailures()
            if events and latest_values[0] is not None:
                accepted_values[0] = latest_values[0]
            if indicator_in_c is not None:
                indicator_in_c.accept()

        def replay_step(ts) -> None:
            """Overwrite a replay step's result with the stored state, time and next step."""
            replayed[0] += 1
            k = replayed[0]
            self._state_loaded = None  # (the solution's values change under the same state)
            solution = ts.getSolution()
            # TSPostStep restarts TSBDF (order 1, history dropped) when the solution's object
            # state changed in the callback: the stored values go in under the same state.
            # (Cached norms of the solution vector go stale; neither TSBDF nor TSAdapt reads
            # them: the history is combined by VecMAXPY, error norms are taken entrywise.)
            state = solution.stateGet()
            solution.getArray()[:] = replay.states[k]
            solution.stateSet(state)
            ts.setTime(float(replay.times[k]))
            last = k == len(replay.times) - 1
            next_step = replay.next_step_s if last else replay.times[k + 1] - replay.times[k]
            ts.setTimeStep(float(next_step))
            remember(float(replay.times[k]))
            if not last:
                return
            # The history now holds original states only: go on as the original run.
            replaying[0] = False
            ts.setStepLimits(*step_limits)
            self._steps_in_call = replay.steps_in_call
            ts.setTolerances(rtol=vrtol, atol=vatol)
            uncounted["steps"] = ts.getStepNumber()
            uncounted["rejected_steps"] = ts.getStepRejections()
            uncounted["newton_iterations"] = ts.getSNESIterations()
            uncounted["linear_iterations"] = ts.getKSPIterations()
            totals0.update(replay.totals)
            self.totals.update(replay.totals)
            self.counts.update(replay.counts)
            counts0.update(replay.counts)

        def poststep(ts):
            if indicator_in_c is not None:
                self._take_indicator_state(indicator_in_c, ts)
            self._count_compiled_calls()
            if replaying[0]:
                replay_step(ts)
                return
            update_totals()
            t, t_prev = ts.getTime(), ts.getPrevTime()
            if fixed_step_s is not None and not self._locating and t < t_end:
                # Back to the fixed step after a cut, shortened to end on t_end.
                ts.setTimeStep(min(fixed_step_s, t_end - t))
            remember(t)
            while pending and pending[0] <= t * (1 + 1e-14) + 1e-14:
                t_out = pending.pop(0)
                if abs(t_out - t) <= 1e-12 * max(1.0, abs(t)) or t_out < t_prev:
                    self._state_at(t, ts.getSolution())
                else:
                    ts.interpolate(t_out, work)
                    self._state_at(t_out, work)
                if on_output is not None:
                    on_output(t_out)
            if on_step is not None or stop is not None:
                self._state_at(t, ts.getSolution())
                if rates_at_steps:
                    self._load_step_rates(ts)
                if on_step is not None:
                    on_step(t)
                if stop is not None and stop(t):
                    stopped.append(t)
                    ts.setConvergedReason(PETSc.TS.ConvergedReason.CONVERGED_USER)
            if checkpoint is not None and not stopped:
                self._state_at(t, ts.getSolution())
                if checkpoint(t):
                    checkpointed.append(t)
                    ts.setConvergedReason(PETSc.TS.ConvergedReason.CONVERGED_USER)

        if rates_at_steps:
            self._last_rates = (self._duplicate(x), self._duplicate(x))
        ts.setPostStep(poststep)
        ts.setFromOptions()
        for key in keys:
            del options[f"{self.prefix}{key}"]
        landings = sorted(float(t) for t in landing_times if t0 < t < t_end)
        if replay is not None:
            # Landing times inside the replayed steps were landed on by the original run.
            landings = [t for t in landings if t > resume_time]
        self._evaluation_points = [*landings, float(t_end)]
        step_limits = ts.getStepLimits()
        if replay is not None:
            # Replay proposals stay below a quarter of the way to the next landing time, so
            # that TSAdapt cuts none and caches no step (see _adapt_keeps_nothing); the
            # proposals are replaced by the stored steps anyway.
            target = self._next_evaluation_point(resume_time)
            if target is not None:
                ts.setStepLimits(
                    step_limits[0], max(0.25 * (target - resume_time), 2 * step_limits[0])
                )
        if landings:
            # The steps land on these times (MATCHSTEP), the history is kept across them.
            ts.setEvaluationTimes([t0, *landings, t_end])
        ts.setSolution(x)
        self._compiled_residual(ts, f)
        self._compiled_jacobian(ts)
        if indicator_in_c is not None:
            indicator_in_c.watch(self._c_residual, self._c_jacobian)
        self._c_indicator = indicator_in_c

        def after_c_events() -> None:
            """What the C indicator found, as the Python one leaves it: location, fired events."""
            if indicator_in_c is not None:
                self._locating = self._locating or indicator_in_c.locating
                t, fired = indicator_in_c.fired()
                if fired:
                    postevent(ts, fired, t, None, True)

        try:
            ts.solve(x)
        except PETSc.Error as error:
            after_c_events()
            self._state_loaded = None
            self._iterate_once = False
            self._release_compiled_callbacks()
            self._drop_linear_solver()
            if not (
                error.ierr == _PETSC_ERR_PLIB
                and events
                and self._locating
                and self._ring
                and replay is None
            ):
                raise
            update_totals()
            result.steps = ts.getStepNumber()
            result.rejected_steps = ts.getStepRejections()
            result.newton_iterations = ts.getSNESIterations()
            self._count_evaluations(result, counts0)
            self._destroy_newton_solver(snes, ts, failed=True)
            self._free(f, vatol, vrtol, work)
            raise _EventLocationStopped(result, pending, error) from error
        after_c_events()
        reason = ts.getConvergedReason()
        self._iterate_once = False
        self._release_compiled_callbacks()
        update_totals()
        if reason < 0:
            t, dt = ts.getTime(), ts.getTimeStep()
            newton = _snes_reason(snes.getConvergedReason())
            self._destroy_newton_solver(snes, ts, failed=True)
            self._free(*(v for v in (f, vatol, vrtol, work, replay_tolerance) if v is not None))
            self._state_at(t, x)
            self._state_loaded = None
            self.time_s = t
            raise IntegrationFailure(
                f"time step rejected {self.max_step_rejections + 1} times in a row after "
                f"t = {t:.6g} s (the step cut to {dt:.3g} s; last Newton solve: {newton})"
            )
        result.time = ts.getTime()
        result.reason = (
            "event"
            if reason == PETSc.TS.ConvergedReason.CONVERGED_EVENT
            else "stop"
            if stopped
            else "checkpoint"
            if checkpointed
            else "time"
        )
        if result.reason != "event":
            result.event = ""
        result.steps = ts.getStepNumber()
        result.last_step_s = ts.getTimeStep()
        result.rejected_steps = ts.getStepRejections()
        result.newton_iterations = ts.getSNESIterations()
        # The SNES is destroyed here, not left to our reference's release: on several ranks
        # petsc4py defers the destruction of a released object to a collective clean-up, and
        # until then the SNES's convergence test (which refers to this integrator) kept the
        # whole model alive, with its meshes' MPI communicators (make test's MPI part ran out
        # of them after some 300 runs).
        self._destroy_newton_solver(snes, ts)
        self._free(*(v for v in (f, vatol, vrtol, work, replay_tolerance) if v is not None))
        self._state_at(result.time, x)
        self._state_loaded = None
        self.time_s = result.time
        self._count_evaluations(result, counts0)
        return result

    def _count_evaluations(self, result: IntegrationResult, counts0: dict) -> None:
        result.residual_evaluations = self.counts["residual"] - counts0["residual"]
        result.jacobian_evaluations = self.counts["jacobian"] - counts0["jacobian"]


def _set_event_handler(
    ts: PETSc.TS, directions: list[int], terminate: list[bool], indicator: IndicatorFunction
) -> None:
    """TSEvent's indicator and post-event functions set to C functions (TSSetEventHandler)."""
    from ..compiled_assembly import petsc_function

    integer = ctypes.c_int64 if np.dtype(PETSc.IntType).itemsize == 8 else ctypes.c_int32
    pointer = ctypes.c_void_p
    set_handler = petsc_function(
        "TSSetEventHandler", (pointer, integer, pointer, pointer, pointer, pointer, pointer)
    )
    direction = np.array(directions, dtype=PETSc.IntType)
    terminal = np.array(terminate, dtype=np.int32)  # (PetscBool: a C enum)
    error = set_handler(
        ts.handle,
        len(directions),
        direction.ctypes.data,
        terminal.ctypes.data,
        indicator.function,
        indicator.postevent,
        indicator.context,
    )
    if error:
        raise RuntimeError(f"TSSetEventHandler failed (PETSc error {error})")


def _sign(value: float) -> float:
    """The sign of one number as numpy.sign gives it: -1, 0 or 1, and NaN for NaN."""
    return value if value != value else float((value > 0) - (value < 0))
