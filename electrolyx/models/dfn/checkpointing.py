"""Checkpoints of a DFN cell on PETSc TS: its state written, read back and resumed exactly.

Two kinds of resumable state (see :mod:`electrolyx.checkpoint` for when they are written):

* ``"boundary"``: between two protocol steps. The unknowns, the controls and the time series
  so far; the next protocol step starts from them as it would have.
* ``"in_step"``: at an accepted time step inside a protocol step, where the integrator holds a
  resumable history (:meth:`electrolyx.ts_integrator.TSIntegrator.checkpointable`). Besides
  the above, the integrator's last accepted states (:class:`ReplayHistory`), the protocol
  step's end time and the start of its capacity integral; the resumed integration replays the
  stored steps and then repeats the uninterrupted run's arithmetic.

With ``integrator = "bdf2"`` (:class:`electrolyx.integrator.AdaptiveBDF`) every accepted step
is resumable: the loop's history of accepted states, its next step and its statistics are
stored (:meth:`AdaptiveBDF.snapshot`), with a half cell's dissolved-lithium history.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from electrolyx.checkpoint import RunInterrupted, fingerprint
from electrolyx.ts_integrator import ReplayHistory

__all__ = ["DFNCheckpointing"]

#: The series of :class:`DFNSolution` kept in a checkpoint (their rows are also in the CSV)
_SERIES = (
    "time_s",
    "voltage_V",
    "current_A",
    "discharge_capacity_Ah",
    "average_negative_particle_concentration_mol_m3",
    "average_positive_particle_concentration_mol_m3",
    "lithium_mol",
    "lithium_dissolved_mol",
    "lithium_in_side_reactions_mol",
    "step_index",
)
_COUNTERS = (
    "termination",
    "stop_reason",
    "electrolyte_depletion",
    "newton_iterations",
    "accepted_steps",
    "rejected_steps",
)


class DFNCheckpointing:
    """The checkpoint part of :class:`DFN` (a base class; the cell owns the state).

    Attributes (set by the caller, e.g. :class:`electrolyx.models.dfn.case.DFNCase`):
        checkpoint_control: A :class:`electrolyx.checkpoint.CheckpointControl`, or None.
    """

    checkpoint_control = None
    _resume: dict[str, Any] | None = None

    @property
    def resumable(self) -> bool:
        """Whether this cell can write and resume checkpoints (both integrators)."""
        return True

    def checkpoint_fingerprint(self) -> str:
        """This rank's fingerprint: sizes and coordinates of its owned dofs, every field."""
        coordinates = []
        for space in self.problem.unknowns.spaces:
            owned = space.dofmap.index_map.size_local
            coordinates.append(space.tabulate_dof_coordinates()[:owned])
        return fingerprint(coordinates)

    # ------------------------------------------------------------- writing
    def checkpoint_state(self, phase: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(scalars, this rank's arrays) of the present state; ``phase``: boundary/in_step."""
        problem = self.problem
        solution = self.solution
        scalars: dict[str, Any] = {
            "model": "dfn",
            "phase": phase,
            "time_s": float(self.time_s),
            "discharge_capacity_Ah": float(self.discharge_capacity_Ah),
            "step_index": int(self._step_index),
            "consistent": bool(self._consistent),
            "mode": self._mode,
            "control_value": float(self._control_value),
            "potential_offset": float(problem.potential_offset.value),
            "terminal_voltage": float(problem.terminal_voltage.value),
            "applied_current_density": float(problem.applied_current_density.value),
            "applied_power_density": float(problem.applied_power_density.value),
            "drive_cycle_start": self._drive_cycle_start,
            "solution": {name: getattr(solution, name) for name in _COUNTERS},
        }
        arrays = {f"series.{name}": np.asarray(getattr(solution, name)) for name in _SERIES}
        for i, function in enumerate(problem.unknowns.functions):
            arrays[f"unknown.{i}"] = function.x.array.copy()
        if self.integrator_kind == "ts":
            for i, function in enumerate(problem.time_derivative.functions):
                arrays[f"rate.{i}"] = function.x.array.copy()
            scalars["totals"] = {k: int(v) for k, v in self.integrator.totals.items()}
            scalars["counts"] = {k: int(v) for k, v in self.integrator.counts.items()}
        else:
            loop, loop_arrays = self.integrator.snapshot()
            scalars["loop"] = loop
            arrays.update({f"loop.{k}": v for k, v in loop_arrays.items()})
            arrays["dissolved"] = np.asarray(self._dissolved, dtype=float)
        if phase == "in_step":
            scalars["step_start"] = [float(v) for v in self._step_start]
            scalars["step_end_s"] = float(self._step_end_s)
            if self.integrator_kind == "ts":
                history = self.integrator.history()
                scalars["history"] = history.scalars()
                arrays["history.states"] = history.states
            else:
                scalars["current_before"] = float(self._current_before)
                scalars["dissolved_start"] = float(self._dissolved_start)
        return scalars, arrays

    def _checkpoint_at_step(self, t: float) -> bool:
        """The integrator's checkpoint callback: True stops the integration (a signal)."""
        control = self.checkpoint_control
        # Not while Newton's guesses come from the last state after a failure: how many are
        # left is not stored, and the resumed run would extrapolate where this one did not.
        resumable = self.integrator.checkpointable() and self.problem.guesses_extrapolated()
        return control.at_step(resumable, lambda: self.checkpoint_state("in_step"))

    def _bdf_checkpoint_at_step(self) -> bool:
        """The BDF2 loop's checkpoint callback (every accepted step is resumable)."""
        return self.checkpoint_control.at_step(True, lambda: self.checkpoint_state("in_step"))

    def _checkpoint_at_boundary(self) -> None:
        """Between protocol steps: write if due; raise :class:`RunInterrupted` on a signal."""
        control = self.checkpoint_control
        if control is not None and control.at_boundary(lambda: self.checkpoint_state("boundary")):
            raise RunInterrupted(control.signal_number)

    def _stop_for_checkpoint(self) -> None:
        """After the integration stopped at a signal's checkpoint."""
        raise RunInterrupted(self.checkpoint_control.signal_number)

    # ------------------------------------------------------------- reading
    def resume_from(self, scalars: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Load a checkpoint's state; the next :meth:`run_experiment` continues from it.

        ``run_experiment`` and ``drive_cycle`` must then be called as in the interrupted run
        (same protocol): steps before the checkpoint's are skipped.
        """
        if scalars.get("model") != "dfn":
            raise ValueError("not a checkpoint of a DFN cell")
        problem = self.problem
        for i, function in enumerate(problem.unknowns.functions):
            function.x.array[:] = arrays[f"unknown.{i}"]
        if self.integrator_kind == "ts":
            for i, function in enumerate(problem.time_derivative.functions):
                function.x.array[:] = arrays[f"rate.{i}"]
        solution = self.solution
        for name in _SERIES:
            setattr(solution, name, arrays[f"series.{name}"].tolist())
        for name in _COUNTERS:
            setattr(solution, name, scalars["solution"][name])
        self.time_s = scalars["time_s"]
        self.integrator.time_s = scalars["time_s"]
        self.discharge_capacity_Ah = scalars["discharge_capacity_Ah"]
        self._step_index = scalars["step_index"]
        self._consistent = scalars["consistent"]
        self._drive_cycle_start = scalars["drive_cycle_start"]
        self._set_control(scalars["mode"], scalars["control_value"])
        self._restore_controls(scalars)
        if self.integrator_kind == "ts":
            self.integrator.totals.update(scalars["totals"])
            self.integrator.counts.update(scalars["counts"])
        else:
            loop_arrays = {k[5:]: v for k, v in arrays.items() if k.startswith("loop.")}
            self.integrator.restore(scalars["loop"], loop_arrays)
            self._dissolved = arrays["dissolved"].tolist()
        self._resume = None
        if scalars["phase"] == "in_step":
            self._resume = dict(scalars)
            if self.integrator_kind == "ts":
                self._resume["history"] = ReplayHistory.from_scalars(
                    scalars["history"], arrays["history.states"]
                )

    def _restore_controls(self, scalars: dict[str, Any]) -> None:
        """The control constants exactly as stored (after the control mode is set)."""
        problem = self.problem
        problem.potential_offset.value = scalars["potential_offset"]
        problem.terminal_voltage.value = scalars["terminal_voltage"]
        problem.applied_current_density.value = scalars["applied_current_density"]
        problem.applied_power_density.value = scalars["applied_power_density"]

    def drive_cycle_start_s(self) -> float:
        """Where a drive cycle that follows starts: now, or where it started if resumed in it."""
        if self._resume is not None and self._drive_cycle_start is not None:
            return self._drive_cycle_start
        return self.time_s

    def _skips_step(self, index: int) -> bool:
        """Whether protocol step ``index`` lies before the state resumed from."""
        return index < self._step_index
