"""The few numbers a reader of a result looks for first, per model (the report opens with them).

DFN: capacity, energy, mean voltage, duration, how the run ended, lithium inventory change.
PNP: the model's verified quantities at the end (surface charge, currents, conductance), the
Debye length and the electroneutrality verdict. Microstructure: capacity, final voltage,
duration, how it ended, lithium inventory. Homogenisation: porosity, surface area, tortuosity.

Every value is read from the run's own outputs (timeseries.csv, run.json); the energy is the
trapezoidal sum of voltage x current over the rows, which row_interval keeps close together.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["duration_text", "headline_rows"]


def duration_text(seconds: float) -> str:
    """A duration in the unit that reads best: ``3555.5 s`` -> ``59.26 min``."""
    if seconds >= 3 * 3600:
        return f"{seconds / 3600:.4g} h"
    if seconds >= 3 * 60:
        return f"{seconds / 60:.4g} min"
    return f"{seconds:.4g} s"


def _energy_Wh(timeseries: Mapping[str, np.ndarray]) -> float | None:
    time = timeseries.get("time_s")
    voltage = timeseries.get("voltage_V")
    current = timeseries.get("current_A")
    if time is None or voltage is None or current is None or time.size < 2:
        return None
    power = voltage * current
    return float(np.sum(0.5 * (power[1:] + power[:-1]) * np.diff(time)) / 3600.0)


def _last(timeseries: Mapping[str, np.ndarray], name: str) -> float | None:
    values = timeseries.get(name)
    return float(values[-1]) if values is not None and values.size else None


def _end_text(run: Mapping[str, Any], timeseries: Mapping[str, np.ndarray]) -> str:
    solver = run.get("solver") if isinstance(run.get("solver"), dict) else {}
    status = str(run.get("status", "unknown"))
    if status != "completed":
        return f"{status}: {run.get('message', '')}".strip(": ")
    how = solver.get("termination_of_last_step") or solver.get("termination") or "completed"
    how = {"event": "voltage cut-off reached", "end": "end of the protocol"}.get(how, how)
    voltage = _last(timeseries, "voltage_V")
    return f"{how} (final voltage {voltage:.4f} V)" if voltage is not None else str(how)


def headline_rows(
    run: Mapping[str, Any], timeseries: Mapping[str, np.ndarray]
) -> list[tuple[str, str]]:
    """(quantity, value with unit) rows of the headline table; empty when nothing applies."""
    model = str(run.get("model", ""))
    rows: list[tuple[str, str]] = []
    time = timeseries.get("time_s")
    solver = run.get("solver") if isinstance(run.get("solver"), dict) else {}
    diagnostics = run.get("diagnostics") if isinstance(run.get("diagnostics"), dict) else {}
    if model in ("dfn", "microstructure"):
        capacity = _last(timeseries, "discharge_capacity_Ah")
        energy = _energy_Wh(timeseries)
        if capacity is not None:
            rows.append(("discharge capacity", f"{capacity:.4g} A h"))
        if energy is not None:
            rows.append(("energy delivered", f"{energy:.4g} W h"))
            if capacity:
                rows.append(("mean voltage", f"{energy / capacity:.4f} V"))
        if time is not None and time.size:
            rows.append(("duration", duration_text(float(time[-1]))))
        rows.append(("end", _end_text(run, timeseries)))
        inventory = solver.get("lithium_inventory")
        if isinstance(inventory, dict) and "max_relative_change" in inventory:
            rows.append(
                ("lithium inventory change", f"{inventory['max_relative_change']:.2e} (relative)")
            )
        elif model == "microstructure":
            lithium = [
                timeseries[name]
                for name in ("lithium_electrolyte_mol", "lithium_particles_mol")
                if name in timeseries
            ]
            if lithium and time is not None and time.size:
                total = sum(lithium)
                rows.append(
                    ("lithium in the cell, start -> end", f"{total[0]:.4g} -> {total[-1]:.4g} mol")
                )
    elif model == "pnp":
        if time is not None and time.size > 1:
            rows.append(("simulated time", duration_text(float(time[-1]))))
        for name, values in timeseries.items():
            if name != "time_s" and values.size:
                rows.append((name, f"{float(values[-1]):.6g}"))
        debye = diagnostics.get("debye_length_m")
        if isinstance(debye, int | float) and math.isfinite(debye):
            rows.append(("Debye length", f"{debye * 1e9:.4g} nm"))
        verdict = diagnostics.get("electroneutrality_verdict")
        if verdict:
            rows.append(("electroneutrality", str(verdict)))
    elif model == "homogenise":
        for name, values in timeseries.items():
            if name != "time_s" and values.size:
                rows.append((name, f"{float(values[-1]):.6g}"))
    return rows
