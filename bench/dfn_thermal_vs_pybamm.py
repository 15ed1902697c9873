"""electrolyx's thermal DFN (lumped, x-full) against PyBaMM's on Chen2020: RMS differences.

Usage: python bench/dfn_thermal_vs_pybamm.py [CELLS [C_RATES...]]

Runs the DFN with ``ThermalModel("lumped")`` and ``ThermalModel("x-full")`` on Chen2020 at each
C-rate (default 1 and 2) with CELLS cells per region and radial points (default 20, the shipped
case's mesh), a row every 1/C s, and compares with tests/data/pybamm/chen2020_thermal_*.csv
(bench/make_pybamm_thermal_reference.py, 160 finite volumes per region): RMS of the voltage
and of the volume-averaged temperature on the reference's times up to the earlier cut-off, end
times, final temperatures, and the relative energy-balance error at the end
(generated - stored - removed) / generated.
"""

import sys
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline

import electrolyx  # noqa: F401  (before dolfinx)
from electrolyx.models.dfn import DFN, DFNResolution, ThermalModel
from electrolyx.parameters import chen2020

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "pybamm"


def run(model: str, c_rate: float, cells: int) -> dict[str, np.ndarray]:
    cell = DFN(
        chen2020(),
        DFNResolution(cells, max(6, cells * 6 // 20), cells, cells, cells, 2.0),
        thermal=ThermalModel(model),
        row_interval_s=10.0 / c_rate,
    )
    rows = []

    def observe(kind: str) -> None:
        if kind == "row":
            rows.append(
                {"time_s": cell.time_s, "voltage_V": cell.voltage(), **cell.outputs.thermal.row()}
            )

    cell.observer = observe
    cell.discharge(current_A=5.0 * c_rate, cutoff_voltage_V=2.5)
    return {key: np.array([r[key] for r in rows]) for key in rows[0]}


def compare(model: str, c_rate: float, cells: int) -> dict[str, float]:
    ours = run(model, c_rate, cells)
    reference = np.genfromtxt(
        DATA / f"chen2020_thermal_{model}_{c_rate:g}C.csv", delimiter=",", names=True
    )
    # As bench/dfn_mesh_refinement.py: on the reference's times (1/C s apart), our rows (every
    # step and every 10/C s) interpolated by a cubic spline.
    t = reference["time_s"][reference["time_s"] <= ours["time_s"][-1]]
    voltage, temperature = reference["voltage_V"][: len(t)], reference["temperature_K"][: len(t)]
    ours_v = CubicSpline(ours["time_s"], ours["voltage_V"])(t)
    ours_T = CubicSpline(ours["time_s"], ours["temperature_K"])(t)
    energy = (ours["heat_generated_J"] - ours["heat_stored_J"] - ours["heat_removed_J"])[-1]
    return {
        "voltage_rms_mV": 1e3 * float(np.sqrt(np.mean((ours_v - voltage) ** 2))),
        "temperature_rms_K": float(np.sqrt(np.mean((ours_T - temperature) ** 2))),
        "end_time_s": float(ours["time_s"][-1]),
        "pybamm_end_time_s": float(reference["time_s"][-1]),
        "final_temperature_K": float(ours["temperature_K"][-1]),
        "pybamm_final_temperature_K": float(reference["temperature_K"][-1]),
        "energy_balance_relative_error": float(abs(energy) / ours["heat_generated_J"][-1]),
    }


if __name__ == "__main__":
    cells = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    rates = [float(c) for c in sys.argv[2:]] or [1.0, 2.0]
    for rate in rates:
        for model in ("lumped", "x-full"):
            result = compare(model, rate, cells)
            print(
                f"{model:7s} {rate:g}C cells={cells}: "
                + ", ".join(f"{k} {v:.6g}" for k, v in result.items()),
                flush=True,
            )
