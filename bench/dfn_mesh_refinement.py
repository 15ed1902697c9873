"""Mesh-refinement study of the DFN model against PyBaMM's finest-mesh Chen2020 references.

Usage: python bench/dfn_mesh_refinement.py [C-rate ...]

Prints, for each mesh (cells per region x, radial points r), the RMS and max voltage difference
to the reference, the error of the 2.5 V cut-off time, steps and wall time of the time loop.
"""

import sys
import time
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline

import electrolyx  # noqa: F401  (loads MPI/PETSc libraries first)
from electrolyx.models.dfn import DFN, DFNResolution
from electrolyx.parameters import chen2020

REFERENCES = Path(__file__).resolve().parents[1] / "tests" / "data" / "pybamm"
FILES = {0.5: "chen2020_05C.csv", 1.0: "chen2020_1C.csv", 2.0: "chen2020_2C.csv"}


def compare(solution, reference):
    """RMS and max |V - V_ref| [mV] on the reference times, cut-off time error [s]."""
    t_ref, v_ref = reference[:, 0], reference[:, 1]
    arrays = solution.as_arrays()
    mask = t_ref <= min(t_ref[-1], arrays["time_s"][-1])
    voltage = CubicSpline(arrays["time_s"], arrays["voltage_V"])(t_ref[mask])
    difference = voltage - v_ref[mask]
    return (
        1e3 * np.sqrt(np.mean(difference**2)),
        1e3 * np.max(np.abs(difference)),
        arrays["time_s"][-1] - t_ref[-1],
    )


def main(rates):
    meshes = [(x, r) for x in (10, 20, 40) for r in (10, 20, 40)]
    print("| C-rate | x cells n/s/p | r points | RMS mV | max mV | t_end - t_ref s | steps | s |")
    print("|---|---|---|---|---|---|---|---|")
    for rate in rates:
        reference = np.loadtxt(REFERENCES / FILES[rate], delimiter=",", skiprows=1)
        for x, r in meshes:
            resolution = DFNResolution(x, max(4, (3 * x) // 10), x, r, r)
            model = DFN(chen2020(), resolution)
            start = time.perf_counter()
            solution = model.discharge(5.0 * rate)
            wall = time.perf_counter() - start
            rms, worst, dt_end = compare(solution, reference)
            print(
                f"| {rate} | {x}/{resolution.separator_cells}/{x} | {r} | {rms:.3f} | "
                f"{worst:.2f} | {dt_end:+.3f} | {len(solution.time_s)} | {wall:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main([float(a) for a in sys.argv[1:]] or [1.0])
