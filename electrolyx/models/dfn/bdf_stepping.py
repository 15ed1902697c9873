"""Protocol steps of a DFN cell on our own BDF1/BDF2 loop (``integrator="bdf2"``).

The alternative to :mod:`.stepping` (PETSc TS, the default), kept for what TS does not run yet:
a half cell's discharge into its end-of-discharge cliff (the particle surfaces near the
separator fill, j0 -> 0, the voltage falls 0.2 V in the last second), where every TS step
failed in Newton (docs/dfn.md). :class:`electrolyx.integrator.AdaptiveBDF` lands steps on
output times, locates events by regula falsi and interpolates rows (cubic Lagrange through the
last four steps); the forms use its BDF formula (:class:`electrolyx.integrator.BDFTimeDerivative`).
A half cell's dissolved lithium is integrated here from A j_Li / F with the accepted steps' own
BDF formula (on TS it is an unknown of the problem).
"""

from __future__ import annotations

from electrolyx.constants import FARADAY
from electrolyx.integrator import AdaptiveBDF, IntegratorStatistics
from electrolyx.time_stepping import BDFStepController

from .geometry import LITHIUM

__all__ = ["BDFProtocolStepping"]


class BDFProtocolStepping:
    """The BDF2 loop's part of :class:`DFN` (methods prefixed ``_bdf_``)."""

    def _bdf_build(self, relative_tolerance, absolute_tolerance, max_step_s, row_interval_s):
        """The loop with its callbacks into the cell."""
        integrator = AdaptiveBDF(
            self.problem,
            BDFStepController(relative_tolerance, absolute_tolerance, max_step_s=max_step_s),
        )
        integrator.before_step = self._apply_control_at
        integrator.on_accept = self._bdf_accept
        integrator.on_step_output = lambda dt: self._record(self._current_before)
        integrator.on_interpolated = self._bdf_record_interpolated
        integrator.interpolation_interval = row_interval_s
        return integrator

    def _bdf_reset(self) -> None:
        self.integrator.restart(0.0)
        self.integrator.statistics = IntegratorStatistics()
        # Lithium dissolved from the metal (half cell) at the times of the history [mol].
        self._dissolved = [0.0]

    def _bdf_totals(self) -> dict[str, int]:
        statistics = self.integrator.statistics
        return {
            "steps": statistics.accepted_steps,
            "rejected_steps": statistics.rejected_steps,
            "newton_iterations": statistics.newton_iterations,
        }

    def _bdf_consistent_solve(self, reference) -> bool:
        """One implicit Euler step of 1e-9 s from ``reference``, concentrations restored.

        Starts from the present unknowns; the result replaces the history (first order next).
        """
        unknowns = self.problem.unknowns
        integrator = self.integrator
        guess = unknowns.state()
        unknowns.set_state(reference)
        integrator.restart(self.time_s)
        self._dissolved = self._dissolved[-1:]
        if not integrator.try_step(1e-9, 1, guess):
            unknowns.set_state(guess)
            integrator.restart(self.time_s)
            return False
        state = unknowns.state()
        for name in self.problem.conserved:
            position = unknowns.position(name)
            state[position] = reference[position]
        unknowns.set_state(state)
        integrator.restart(self.time_s)
        return True

    def _bdf_integrate(self, end_s: float, event, outputs, landings, resume=None) -> str:
        """The loop from the present state to ``end_s`` or the event; "time" or "event".

        ``resume``: a checkpoint's state inside this step (the loop's history already loaded).
        """
        integrator = self.integrator
        first_step = None
        self._current_before = self.current_A()
        if resume is not None:
            self._current_before = resume["current_before"]
            self._step_start = tuple(resume["step_start"])
            self._dissolved_start = resume["dissolved_start"]
            first_step = integrator.next_step_s
        control = self.checkpoint_control
        integrator.checkpoint = self._bdf_checkpoint_at_step if control is not None else None
        try:
            termination = integrator.run(
                end_s, event, outputs, landings, on_output=self._output, first_step_s=first_step
            )
        finally:
            integrator.checkpoint = None
        if termination == "checkpoint":
            self._stop_for_checkpoint()
        return termination

    def _bdf_accept(self, dt: float) -> None:
        """After an accepted step: capacity and recentring (the row follows)."""
        self._step_start = (self.time_s, self.discharge_capacity_Ah, self._current_before)
        self._dissolved_start = self._dissolved[-1]
        self.time_s = self.integrator.time
        current = self.current_A()
        # Trapezoidal rule: exact for constant current, second order otherwise.
        self.discharge_capacity_Ah += 0.5 * (self._current_before + current) * dt / 3600.0
        self._current_before = current
        if self.half_cell:
            # The metal's lithium with the BDF formula of the accepted solve:
            # a0 M_n + a1 M_n-1 + a2 M_n-2 = dt A j_Li / F, as the electrolyte's balance.
            a0, a1, a2 = self.problem.time_derivative.values()
            rate = self.reaction_current_A()[LITHIUM] / FARADAY
            before = self._dissolved[-1]
            older = self._dissolved[-2] if a2 != 0.0 else 0.0
            dissolved = (dt * rate - a1 * before - a2 * older) / a0
            self._dissolved = [*self._dissolved[-2:], dissolved]
        self._recentre()

    def _bdf_record_interpolated(self, time_s: float) -> None:
        """A row at ``time_s`` inside the last step, the unknowns interpolated there."""
        start, capacity, current_before = self._step_start
        if self._mode == "current" and self._control_function is not None:
            current = self._control_function(time_s)
        else:
            current = self.current_A()
        row_time, row_capacity, row_dissolved = (
            self.time_s,
            self.discharge_capacity_Ah,
            self._dissolved,
        )
        self.time_s = time_s
        self.discharge_capacity_Ah = (
            capacity + 0.5 * (current_before + current) * (time_s - start) / 3600.0
        )
        # The metal's lithium linearly across the step.
        fraction = (time_s - start) / (row_time - start)
        start_dissolved = self._dissolved_start
        self._dissolved = [start_dissolved + fraction * (row_dissolved[-1] - start_dissolved)]
        try:
            self._record(current)
        finally:
            self.time_s, self.discharge_capacity_Ah, self._dissolved = (
                row_time,
                row_capacity,
                row_dissolved,
            )
