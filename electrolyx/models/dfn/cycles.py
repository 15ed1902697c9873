"""One row per cycle of a repeated protocol (``[experiment] repeat``): ``cycles.csv``.

A :class:`CycleLog` reads the rows of ``timeseries.csv`` as they are written, so every number of
a cycle comes from the same columns (the same assembled expressions) as the time series:

    discharge_capacity_Ah   sum of the increases of the timeseries' discharge capacity
                            (the trapezoidal integral of the current) over the cycle's rows
    charge_capacity_Ah      sum of its decreases (positive)
    sei_lithium_mol, plated_lithium_mol (plated + dead)  at the cycle's last row
    *_percent               those over the initial lithium inventory, as the timeseries'
                            loss_of_lithium_inventory_percent splits between them
    crack_sei_lithium_mol, negative_particle_crack_length_m  at the cycle's last row, with SEI
                            on cracks (the lithium in it; the x-averaged crack length l)
    resistance_ohm          (V_before - V_after) / (I_after - I_before) over the first time step
                            of the cycle's first discharge (an instantaneous-drop measure: the
                            ohmic and kinetic part of the cell's resistance after that step)
    end_reason              why the cycle's last step ended (run.json's stop_reason then)

A cycle is the group of ``steps`` that ``repeat`` repeats; its row is written when the first
row of the next cycle arrives, and the last (possibly partial) cycle at the end. Nothing grows
with the number of cycles here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["CycleLog"]

#: Columns of a timeseries row kept at each cycle's end when there is SEI on cracks.
_CRACK_COLUMNS = ("crack_sei_lithium_mol", "negative_particle_crack_length_m")


class CycleLog:
    """Per-cycle summary of a protocol of ``steps_per_cycle`` steps repeated.

    Args:
        steps_per_cycle: Steps of one cycle (the length of ``[experiment] steps``).
        write: Called with each cycle's row (a dict).
        log: Progress line per cycle, or None.
    """

    def __init__(
        self,
        steps_per_cycle: int,
        write: Callable[[dict[str, Any]], None],
        log: Callable[[str], None] | None = None,
    ):
        self.steps_per_cycle = steps_per_cycle
        self._write = write
        self._log = log
        self._cycle: int | None = None
        self._previous: Mapping[str, Any] | None = None
        self.cycles_written = 0

    def _start(self, cycle: int, row: Mapping[str, Any]) -> None:
        self._cycle = cycle
        self._start_time = float(row["time_s"])
        self._discharge = 0.0
        self._charge = 0.0
        self._resistance = float("nan")
        self._discharge_step: int | None = None

    def add(self, row: Mapping[str, Any], stop_reason: str) -> None:
        """The next timeseries row; ``stop_reason`` is why the last finished step ended."""
        step = int(row["step_index"])
        cycle = step // self.steps_per_cycle
        previous = self._previous
        if self._cycle is None:
            self._start(cycle, row)
        elif cycle != self._cycle:
            self._finish(previous, stop_reason)
            self._start(cycle, previous)
        if previous is not None:
            change = float(row["discharge_capacity_Ah"]) - float(previous["discharge_capacity_Ah"])
            if change > 0.0:
                self._discharge += change
            else:
                self._charge -= change
            current = float(row["current_A"])
            first_discharge = self._discharge_step is None and current > 0.0
            if first_discharge and int(previous["step_index"]) != step:
                self._discharge_step = step
                drop = float(previous["voltage_V"]) - float(row["voltage_V"])
                self._resistance = drop / (current - float(previous["current_A"]))
        self._previous = row

    def finish(self, end_reason: str) -> None:
        """Write the last cycle (complete or not) with ``end_reason``."""
        if self._cycle is not None and self._previous is not None:
            self._finish(self._previous, end_reason)
            self._cycle = None

    def _finish(self, last: Mapping[str, Any], end_reason: str) -> None:
        sei = float(last.get("sei_lithium_mol", 0.0))
        plated = float(last.get("plated_lithium_mol", 0.0))
        lost = float(last.get("loss_of_lithium_inventory_percent", 0.0))
        share = lost / (sei + plated) if sei + plated > 0.0 else 0.0
        row = {
            "cycle": str(self._cycle + 1),
            "start_time_s": self._start_time,
            "end_time_s": float(last["time_s"]),
            "discharge_capacity_Ah": self._discharge,
            "charge_capacity_Ah": self._charge,
            "sei_lithium_mol": sei,
            "plated_lithium_mol": plated,
            "sei_lithium_percent": sei * share,
            "plated_lithium_percent": plated * share,
            "loss_of_lithium_inventory_percent": lost,
            **{
                name: float(last[name])
                for name in _CRACK_COLUMNS
                if "crack_sei_lithium_mol" in last and name in last
            },
            "resistance_ohm": self._resistance,
            "end_reason": end_reason,
        }
        self._write(row)
        self.cycles_written += 1
        if self._log is not None:
            self._log(
                f"cycle {row['cycle']}: discharge {self._discharge:.6g} A h, charge "
                f"{self._charge:.6g} A h, lithium lost {lost:.4g} % (SEI {sei:.4g} mol, plated "
                f"{plated:.4g} mol), resistance {self._resistance:.4g} ohm, ended: {end_reason}"
            )
