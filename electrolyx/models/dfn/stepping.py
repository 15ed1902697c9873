"""Time integration of a DFN cell's protocol steps on PETSc TS.

:class:`ProtocolStepping` is the part of :class:`electrolyx.models.dfn.DFN` that runs one
protocol step: potentials consistent with the new control (the algebraic unknowns, with a ramp
of the control where Newton fails from rest), then one :meth:`TSIntegrator.integrate` call to
the step's end or its event (voltage, current or power limit), with rows at every accepted
step and, by TS's interpolation, at the multiples of the row interval and at profile times.
The integrator itself (:mod:`electrolyx.ts_integrator`) knows nothing of the DFN.
"""

from __future__ import annotations

import math
import time

from electrolyx.integrator import StepFailure
from electrolyx.ts_integrator import Event, IntegrationFailure

from .geometry import LITHIUM, NEGATIVE

__all__ = ["CONSISTENT_STEP_LIMIT", "RECENTRE_LIMIT", "ProtocolStepping"]

#: Largest |positive phi_s unknown| at the terminal (in thermal voltages) within one TS
#: integration of a cell with a resolved foil: beyond it the integration stops, the unknown is
#: re-centred and a new integration starts (round-off of the stiff foil rows grows with it).
#: Each restart begins again at first order from a twentieth of the last step: with 1 V_T
#: (every 25.7 mV of the voltage) the 2C discharge of cases/pouch-2d-cross-section restarted
#: 50 times, 433 steps and 1056 Newton iterations; with 4 V_T 219 steps and 714 iterations, the
#: voltage within 16 uV of it (cubic interpolation of the rows; the time error at rtol 1e-4)
#: and lithium conserved to 8e-14 as before (1.2e-13). Since Newton's test allows the foils'
#: rows their own round-off (eps |J_ii x_i|, solvers.newton_verdict), 16 V_T (0.41 V): 162
#: steps and 518 Newton iterations instead of 219 and 627, the voltage within 11 uV of 4 V_T's
#: at every 10 s (2.8 uV RMS), lithium to 6e-14; the 3D pouch's 1C discharge 140 -> 89 steps
#: (bench/README.md, "Fewer restarts of 2D/3D integrations").
RECENTRE_LIMIT = 16.0
#: First step of such a restarted integration, as a fraction of the last step before it (the
#: first step after a restart is accepted without an error estimate; with the full last step
#: the voltage of a foil cell moved by 2.4e-6 V).
RESTART_STEP_FRACTION = 0.05
#: Largest change of a potential in one Newton iteration of the consistent initialisation, in
#: thermal voltages (the potentials' scaled unit; TSIntegrator.make_consistent's step_limit).
#: From rest, a full Newton update overshoots Butler-Volmer's overpotential about j / j0 times
#: over (Chen2020 at 3C: 25 V_T asked where ~6 will do) and Newton then walked back about one
#: V_T an iteration: the 3C discharge from rest failed after 12 iterations and was ramped in 4
#: parts, 32 iterations in all (5C: 34), the 3C cycling with plating and SEI ramped in 64 parts
#: (966 iterations over 3 cycles). With steps of at most 10 V_T: 6, 6 and 51, the same states
#: to 1e-13 V. At 1C the updates stay below it, so those runs are as before, bit for bit
#: (bench/README.md, "Consistent potentials after a large jump of the current").
CONSISTENT_STEP_LIMIT = 10.0


class ProtocolStepping:
    """Protocol steps of a DFN cell on TS (a base of :class:`DFN`, which owns the state)."""

    def _needs_recentring(self, t: float) -> bool:
        """Whether the positive phi_s unknown left +-RECENTRE_LIMIT at the terminal."""
        return abs(self.outputs.terminal_potential()) > RECENTRE_LIMIT

    def _apply_control_at(self, t: float) -> None:
        """A current that follows a function of time takes its value at t (TS's update).

        So does an ambient temperature that follows a schedule.
        """
        if self.problem.thermal is not None:
            self.problem.thermal.update(t)
        if self._control_function is not None:
            self._control_value = self._control_function(t)
            area = self.parameters.electrode_area_m2
            self.problem.applied_current_density.value = self._control_value / area

    def _consistent_solve(self, reference) -> bool:
        """Potentials consistent with the control, concentrations held at ``reference``.

        Without a double layer the algebraic rows alone (exact); with one, the potentials
        move as in an implicit Euler step of 1e-9 s from ``reference`` (the double layer's
        charge cannot jump). True if Newton converged.
        """
        if self.integrator_kind == "bdf2":
            return self._bdf_consistent_solve(reference)
        unknowns = self.problem.unknowns
        held = [unknowns.position(name) for name in self.problem.conserved]
        try:
            self.integrator.make_consistent(
                self.time_s,
                held=held,
                rate_step_s=1e-9 if self.double_layer else None,
                reference=reference,
                step_limit=CONSISTENT_STEP_LIMIT,
            )
        except IntegrationFailure:
            return False
        return True

    def _make_consistent(self, start_value: float) -> None:
        """Potentials consistent with the (new) control; concentrations unchanged.

        Newton's updates are at most CONSISTENT_STEP_LIMIT thermal voltages. If it still fails
        on a large jump of the control (a high current from rest), the control is ramped from
        ``start_value`` (its value in the previous state) to the target in 4, 16 or 64 equal
        parts, each solve starting from the last, the positive phi_s unknown
        re-centred between the parts: the round-off of a resolved foil's rows grows with it
        (a 3C charge from empty at 268.15 K moved it by more than 1 V at once, and Newton
        stalled at 7e-6 on those rows, above their floor).
        """
        problem = self.problem
        unknowns = problem.unknowns
        positive = unknowns.position(problem.electrode["positive"].potential)
        before = unknowns.state()
        offsets = (problem.potential_offset.value.copy(), problem.terminal_voltage.value.copy())

        def restore() -> None:
            unknowns.set_state(before)
            problem.potential_offset.value, problem.terminal_voltage.value = offsets

        target = self._control_value
        solved = self._consistent_solve(before)
        parts = 4
        while not solved and parts <= 64:
            restore()
            reference = [values.copy() for values in before]
            for k in range(1, parts + 1):
                self._set_control_value(start_value + (target - start_value) * k / parts)
                solved = self._consistent_solve(reference)
                if not solved:
                    break
                reference[positive] -= self._recentre()
            parts *= 4
        if not solved:
            restore()
            raise StepFailure(
                f"protocol step {self._step_index + 1}: no consistent potentials under "
                f"{self._mode} control {target:.6g} at t = {self.time_s:.6g} s (Newton failed "
                "even with the control ramped in 64 parts)"
            )
        self._recentre()

    def _run_step(
        self,
        mode,
        value,
        duration_s,
        until_voltage_V,
        until_current_A,
        outputs,
        event=None,
        landings=(),
    ):
        start = time.perf_counter()
        resume, self._resume = self._resume, None
        if resume is not None:
            # Resumed inside this step from a checkpoint: its control as it was, no new
            # consistent potentials (the stored history carries on).
            self._set_control(mode, value)
            self._restore_controls(resume)
            self._step_end_s = resume["step_end_s"]
        else:
            # Where a ramp toward the new control would start: the present current, power or
            # voltage.
            voltage = self.voltage()
            current = self.current_A() if self._consistent else 0.0
            start_value = {"current": current, "power": current * voltage, "voltage": voltage}[mode]
            self._set_control(mode, value)
            first = not self._consistent
            self._make_consistent(start_value)
            if first:
                self._record(self.current_A())
                self._consistent = True
                self._output()
            self._step_end_s = self.time_s + duration_s
        # The limit as an affine function of a scalar form too, which TS evaluates in C where
        # it can (TSIntegrator's AffineIndicator; the same values as event's).
        affine = None
        if event is None and until_voltage_V is not None:
            # Positive while the step may go on: above the cut-off on discharge, below on charge.
            direction = 1.0 if value >= 0 else -1.0

            def event():
                return direction * (self.voltage() - until_voltage_V)

            affine = self.outputs.voltage_limit(direction, until_voltage_V)
        elif event is None and until_current_A is not None:

            def event():
                return abs(self.current_A()) - until_current_A

            if self._mode == "voltage":  # (the current is then a reaction current's integral)
                counter = LITHIUM if self.half_cell else NEGATIVE
                affine = self.outputs.current_limit(counter, until_current_A)
        try:
            self.solution.termination = self._integrate(
                self._step_end_s, event, outputs, landings, resume, affine
            )
            self.solution.stop_reason = self._stop_reason(
                self.solution.termination, until_voltage_V, until_current_A
            )
        except IntegrationFailure as failure:
            raise StepFailure(
                f"protocol step {self._step_index + 1} ({self._mode} control): {failure}; "
                f"{len(self.solution.time_s)} rows up to t = {self.time_s:.6g} s kept"
            ) from failure
        finally:
            self.solution.wall_time_s += time.perf_counter() - start
        return self.solution

    def _stop_reason(self, termination: str, until_voltage_V, until_current_A) -> str:
        """Why the step ended, in words, with the protocol step and the time."""
        where = f"protocol step {self._step_index + 1} at t = {self.time_s:.6g} s"
        if termination != "event":
            return f"{where}: its duration ended"
        if until_voltage_V is not None:
            return f"{where}: the voltage reached the {until_voltage_V:.6g} V cut-off"
        if until_current_A is not None:
            return f"{where}: the current fell to {until_current_A:.6g} A"
        return f"{where}: the voltage left the drive cycle's limits"

    def _integrate(self, end_s: float, event, outputs, landings, resume=None, affine=None) -> str:
        """TS from the present (consistent) state to ``end_s`` or the event; "time"/"event".

        Rows at the multiples of the row interval and profiles at ``outputs`` come from TS's
        interpolation between the steps; a row is recorded at every accepted step. ``resume``:
        a checkpoint's state inside this step (:mod:`.checkpointing`), replayed first.
        ``affine``: the event as an :class:`AffineIndicator` (or None).
        """
        if self.integrator_kind == "bdf2":
            return self._bdf_integrate(end_s, event, outputs, landings, resume)
        if resume is None and event is not None and event() <= 0:
            return "event"
        t0 = self.time_s
        rows = []
        if self.row_interval_s is not None:
            first = math.floor(t0 / self.row_interval_s + 1e-9) + 1
            last = math.floor(end_s / self.row_interval_s + 1e-9)
            rows = [k * self.row_interval_s for k in range(first, last + 1)]
        self._row_times = set(rows)
        self._profile_times = {float(t) for t in outputs if t0 < t <= end_s}
        output_times = sorted(self._row_times | self._profile_times)
        events = [] if event is None else [Event(lambda t: event(), -1, True, "limit", affine)]
        self._step_start = (t0, self.discharge_capacity_Ah, self.current_A())
        replay = None
        if resume is not None:
            self._step_start = tuple(resume["step_start"])
            replay = resume["history"]
        step = self.first_step_s
        checkpoint = self._checkpoint_at_step if self.checkpoint_control is not None else None
        while True:
            result = self.integrator.integrate(
                self.time_s,
                end_s,
                events=events,
                output_times=[t for t in output_times if t > self.time_s],
                on_output=self._on_output,
                on_step=self._on_step,
                stop=self._needs_recentring if self._recentre_in_steps else None,
                landing_times=[t for t in landings if t > self.time_s],
                initial_step_s=step,
                max_step_s=self.max_step_s,
                checkpoint=checkpoint,
                replay=replay,
                last_state_guess=(
                    self.problem.start_from_last_state if self.problem.log_electrolyte else None
                ),
            )
            replay = None
            if result.reason == "checkpoint":
                self._stop_for_checkpoint()
            if result.reason != "stop":
                break
            # A foil's potential drifted: re-centre and go on with a new integration. Its first
            # step has no error estimate (TSBDF starts at first order): a twentieth of the last.
            self._recentre()
            step = RESTART_STEP_FRACTION * result.last_step_s
        if result.reason == "event":
            # TS calls no post-step after the step it ends on the located event: its row here
            # (also when it lies within 1e-9 s of the last row: on a cliff that is millivolts).
            self._on_step(result.time, always=True)
        self._recentre()
        self._output()
        return "event" if result.reason == "event" else "time"

    def _on_output(self, t: float) -> None:
        """A row, and profiles if asked, at ``t`` inside the last step (TS's interpolated state).

        The capacity follows the trapezoidal rule from the step's start (exact for a constant
        current).
        """
        start, capacity, current_before = self._step_start
        current = self.current_A()
        row_time, row_capacity = self.time_s, self.discharge_capacity_Ah
        self.time_s = t
        self.discharge_capacity_Ah = (
            capacity + 0.5 * (current_before + current) * (t - start) / 3600.0
        )
        try:
            # A row at every row-interval multiple and at every profile time.
            self._record(current)
            if t in self._profile_times:
                self._output()
        finally:
            self.time_s, self.discharge_capacity_Ah = row_time, row_capacity

    def _on_step(self, t: float, always: bool = False) -> None:
        """After an accepted step (its state loaded): capacity, then its row.

        No row where the last row is at t (within 1e-9 relative) unless ``always`` and t is
        after it.
        """
        start, capacity, current_before = self._step_start
        current = self.current_A()
        # Trapezoidal rule: exact for constant current, second order otherwise.
        self.discharge_capacity_Ah = (
            capacity + 0.5 * (current_before + current) * (t - start) / 3600.0
        )
        self.time_s = t
        self._step_start = (t, self.discharge_capacity_Ah, current)
        times = self.solution.time_s
        if not times or abs(times[-1] - t) > 1e-9 * max(1.0, t) or (always and t > times[-1]):
            self._record(current)
