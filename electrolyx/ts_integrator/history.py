"""The resumable history of an integration: the last accepted steps, replayed on resume.

:class:`ReplayHistory` is what a checkpoint stores; :class:`ReplayCheckpoints` (a part of
:class:`~electrolyx.ts_integrator.TSIntegrator`) says where a history is usable and gives it
(see the package docstring, "Checkpoints that resume exactly").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Accepted steps a resumed integration replays before it goes on. BDF4 steps from the 4 last
#: states, estimates its error from 5 and extrapolates Newton's guess from 5; the half step of
#: TSBDF's restart leaves that window after 5 steps and the order reaches 4 after 3: 6 leaves
#: one step of margin.
REPLAY_STEPS = 6

#: tolerance of the error test while replaying (every replay step is accepted: its result is
#: replaced by the stored state anyway)
_REPLAY_TOLERANCE = 1e300


@dataclass
class ReplayHistory:
    """The last accepted steps of an integration, enough to resume it exactly.

    Attributes:
        times: Times of the last :data:`REPLAY_STEPS` + 1 accepted states, increasing [s].
        states: Those states (rank-local owned entries of the monolithic vector), one row each.
        next_step_s: The step TS proposed after the last of them.
        steps_in_call: Accepted steps of the :meth:`TSIntegrator.integrate` call so far.
        totals: :attr:`TSIntegrator.totals` at the last state.
        counts: :attr:`TSIntegrator.counts` at the last state.
    """

    times: np.ndarray
    states: np.ndarray
    next_step_s: float
    steps_in_call: int
    totals: dict[str, int]
    counts: dict[str, int]

    def scalars(self) -> dict:
        """Everything but the states (the same on every rank; JSON-serialisable)."""
        return {
            "times": [float(t) for t in self.times],
            "next_step_s": float(self.next_step_s),
            "steps_in_call": int(self.steps_in_call),
            "totals": {k: int(v) for k, v in self.totals.items()},
            "counts": {k: int(v) for k, v in self.counts.items()},
        }

    @classmethod
    def from_scalars(cls, scalars: dict, states: np.ndarray) -> ReplayHistory:
        """The inverse of :meth:`scalars` with the rank's states."""
        return cls(
            times=np.asarray(scalars["times"], dtype=float),
            states=np.asarray(states),
            next_step_s=float(scalars["next_step_s"]),
            steps_in_call=int(scalars["steps_in_call"]),
            totals=dict(scalars["totals"]),
            counts=dict(scalars["counts"]),
        )


class ReplayCheckpoints:
    """Where :class:`TSIntegrator` holds a resumable history, and that history."""

    def checkpointable(self) -> bool:
        """Whether :meth:`history` can resume the present integration exactly.

        True at an accepted step at least :data:`REPLAY_STEPS` + 1 steps after the start of
        the :meth:`integrate` call, while no event is being located (no indicator has changed
        sign since the last accepted step; after a located event, for the rest of the call),
        before the end time and where TSAdapt keeps no step across the next one
        (:meth:`_adapt_keeps_nothing`).
        """
        return (
            len(self._ring) == self.replay_steps + 1
            and self._steps_in_call > self.replay_steps
            and not self._locating
            and self._adapt_clear
        )

    def _next_evaluation_point(self, t: float) -> float | None:
        """The first landing time or end time after t (None: t is at the end)."""
        later = [p for p in self._evaluation_points if p > t]
        return later[0] if later else None

    def _adapt_keeps_nothing(self, t: float, next_step: float, last_step: float) -> bool:
        """Whether TSAdapt holds no step in its cache after the accepted step ending at t.

        With ``TS_EXACTFINALTIME_MATCHSTEP`` TSAdapt cuts a proposed step that would pass the
        next landing time (or the end time) to end on it, or to half the way there, and keeps
        the uncut proposal (``dt_eval_times_cached`` in PETSc 3.25's ``TSAdaptChoose``) to
        restore it after the landing: state carried from step to step that a resumed TS
        would not have. So a state is resumable only where its proposed next step was not cut
        (it is neither the distance to the next landing time nor half of it) and t is not
        within PETSc's closeness tolerance of that landing time (then PETSc counts it as
        reached). A resumed integration replays with steps proposals kept below a quarter
        of that distance, so that the replay leaves the cache empty too.
        """
        target = self._next_evaluation_point(t)
        if target is None:
            return False
        gap = target - t
        # PETSc's closeness: |t - target| <= (1e-6 h + 10 eps) max(|t|, |target|), h a step;
        # tested with 10 times that tolerance and the largest step in play.
        tolerance = (1e-5 * max(next_step, last_step, gap) + 1e-12) * max(abs(t), abs(target))
        if gap <= tolerance:
            return False
        return all(abs(next_step - cut) > 1e-9 * gap for cut in (gap, 0.5 * gap))

    def history(self) -> ReplayHistory:
        """The last accepted steps (valid where :meth:`checkpointable`)."""
        if not self.checkpointable():
            raise RuntimeError("no resumable history at this step")
        return ReplayHistory(
            times=np.array([t for t, _ in self._ring]),
            states=np.stack([state for _, state in self._ring]),
            next_step_s=self._next_step_s,
            steps_in_call=self._steps_in_call,
            totals=dict(self.totals),
            counts=dict(self.counts),
        )
