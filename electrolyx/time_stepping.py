"""Adaptive step-size control for variable-step BDF1/BDF2 time integration.

The local error of a BDF2 step is estimated from the difference between the corrected solution
and the polynomial predictor through the previous accepted states (Milne's device): for constant
steps the BDF2 error constant is -2/9 and that of quadratic extrapolation 1, so
LTE ~ 2/11 |u - u_pred|. With only two previous states the predictor is linear and the estimate
is of first order (a conservative overestimate). The error is measured in the max norm

    err = max_i |LTE_i| / (atol + rtol |u_i|)

over the differential unknowns (owned entries, all ranks), and a step is accepted when err <= 1.
"""

from __future__ import annotations

from collections.abc import Sequence

from mpi4py import MPI

import numpy as np

__all__ = ["BDFStepController", "extrapolate"]


def extrapolate(history: Sequence[tuple[float, list[np.ndarray]]], time: float, points: int = 3):
    """Lagrange extrapolation (or interpolation) of the last ``points`` states to ``time``.

    Args:
        history: ``(time, state)`` pairs, oldest first; a state is a list of arrays.
        time: Where to evaluate.
        points: How many of the last states the polynomial goes through (at most).
    """
    points = history[-points:]
    times = [t for t, _ in points]
    weights = []
    for i, ti in enumerate(times):
        w = 1.0
        for j, tj in enumerate(times):
            if j != i:
                w *= (time - tj) / (ti - tj)
        weights.append(w)
    result = []
    for k in range(len(points[-1][1])):
        result.append(sum(w * state[k] for w, (_, state) in zip(weights, points, strict=True)))
    return result


class BDFStepController:
    """Error estimate and step-size proposal for BDF1/BDF2.

    Args:
        relative_tolerance: rtol of the error norm.
        absolute_tolerance: atol of the error norm (in the units of the unknowns).
        initial_step_s: First step after a restart.
        max_step_s: Largest step.
        min_step_s: Smallest step before giving up.
        safety: Safety factor on the step proposal.
    """

    def __init__(
        self,
        relative_tolerance: float = 1e-4,
        absolute_tolerance: float = 1e-6,
        initial_step_s: float = 1e-6,
        max_step_s: float = 60.0,
        min_step_s: float = 1e-10,
        safety: float = 0.8,
    ):
        self.rtol = relative_tolerance
        self.atol = absolute_tolerance
        self.initial_step_s = initial_step_s
        self.max_step_s = max_step_s
        self.min_step_s = min_step_s
        self.safety = safety
        self._order = 1

    def predict(self, history, time: float, indices) -> list[np.ndarray]:
        """Initial Newton guess: extrapolated ``indices`` entries, the others as last accepted."""
        extrapolated = extrapolate(history, time)
        last = history[-1][1]
        return [extrapolated[i] if i in indices else last[i].copy() for i in range(len(last))]

    def error(self, history, time: float, state, indices, comm: MPI.Comm) -> float:
        """Scaled local error of the step to ``time`` that produced ``state`` (collective).

        Args:
            history: Accepted ``(time, state)`` pairs before this step.
            time: End time of the step.
            state: The computed state (list of arrays with ghosts; the norm includes ghosts,
                which are copies of owned entries and do not change the max).
            indices: Which entries of the state lists are differential unknowns.
            comm: Communicator of the reduction.
        """
        if len(history) < 2:
            self._order = 1
            return 0.0
        predicted = extrapolate(history, time)
        constant = 2.0 / 11.0 if len(history) >= 3 else 0.5
        self._order = 2 if len(history) >= 3 else 1
        local = 0.0
        for i in indices:
            scale = self.atol + self.rtol * np.abs(state[i])
            if state[i].size:
                local = max(
                    local, float(np.max(constant * np.abs(state[i] - predicted[i]) / scale))
                )
        return comm.allreduce(local, op=MPI.MAX)

    def next_step(self, dt: float, error: float, order: int) -> float:
        """Step size proposed after a step of size ``dt`` with scaled error ``error``."""
        exponent = 1.0 / (self._order + 1)
        factor = self.safety * max(error, 1e-10) ** (-exponent)
        factor = min(3.0, max(0.2, factor))
        return min(self.max_step_s, dt * factor)
