"""DFN with current collectors (P3D) side by side: PyBaMM's 1+1D "potential pair" and ours.

Usage: python bench/dfn_potential_pair_vs_pybamm.py [--pybamm PYTHON] [--pairs N]
    [--height-cells N] [--rtol R] [--resolution NEG SEP POS R_NEG R_POS]

The cell of tests/data/pybamm/chen2020_1C_potential_pair.csv: Chen2020 at 1C to 2.5 V, collector
conductivities divided by 10, both tabs at the top of the 0.065 m electrode. PyBaMM runs its
DFN({"current collector": "potential pair", "dimensionality": 1}) on its default mesh (20
volumes per region and particle, 20 along the height) with its default solver; electrolyx runs
the DFN on a 2D cross-section (resolved foils, 0.1 mm tabs) on its default through-cell mesh
(20/6/20 cells, 20 radial points, or --resolution) with N cells along the height (default 20).

Each code runs in fresh processes (``--pybamm``: a Python with pybamm installed, default this
one), after one untimed run of each; N pairs (default 5) alternate which code goes first, so
that a change of machine load hits both alike. Reported: the medians (and ranges) of the
whole-process wall time, CPU time and peak memory, the solve time, the median of the per-pair
wall ratios, the load average before and after, and the RMS / max difference to the best
estimate of the converged collector model: PyBaMM's finest 1D DFN
(tests/data/pybamm/chen2020_1C.csv, 160 volumes) plus the collectors' effect from the reference
file (potential pair minus 1D on the same mesh, 40 volumes along the height), up to 60 s before
the cut-off.
"""

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dfn_vs_pybamm import run_child_with_rusage  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "pybamm"

# Each child prints its voltage curve; the error is computed here, outside the timed processes
# (SciPy's import alone took ~0.5 s of electrolyx's whole process, none of PyBaMM's, which
# imports it anyway).
COMMON = """
import json, time
import numpy as np
def report(t, v, solve_s, extra):
    print("RESULT " + json.dumps({"solve_s": solve_s, "time_s": [float(x) for x in t],
                                  "voltage_V": [float(x) for x in v], **extra}))
"""


def errors(result: dict) -> dict:
    """RMS and largest difference [mV] to the converged collector model, and the end time."""
    from scipy.interpolate import CubicSpline

    t, v = np.array(result.pop("time_s")), np.array(result.pop("voltage_V"))
    finest = np.loadtxt(DATA / "chen2020_1C.csv", delimiter=",", skiprows=1)
    pair = np.loadtxt(DATA / "chen2020_1C_potential_pair.csv", delimiter=",", skiprows=2)
    times = pair[:, 0][pair[:, 0] <= min(t[-1], pair[-1, 0]) - 60.0]
    loss = np.interp(times, pair[:, 0], pair[:, 2] - pair[:, 1])
    best = CubicSpline(finest[:, 0], finest[:, 1])(times) + loss
    d = CubicSpline(t, v)(times) - best
    return {
        "rms_mV": 1e3 * float(np.sqrt(np.mean(d**2))),
        "max_mV": 1e3 * float(np.max(np.abs(d))),
        "t_end_s": float(t[-1]),
    }


PYBAMM = (
    COMMON
    + """
import pybamm
parameters = pybamm.ParameterValues("Chen2020")
parameters.update({
    "Negative current collector conductivity [S.m-1]": 5841100.0,
    "Positive current collector conductivity [S.m-1]": 3691400.0,
    "Negative tab centre z-coordinate [m]": 0.065, "Positive tab centre z-coordinate [m]": 0.065,
    "Negative tab centre y-coordinate [m]": 0.79, "Positive tab centre y-coordinate [m]": 0.79,
    "Negative tab width [m]": 0.1, "Positive tab width [m]": 0.1}, check_already_exists=False)
model = pybamm.lithium_ion.DFN({"current collector": "potential pair", "dimensionality": 1})
sim = pybamm.Simulation(model, parameter_values=parameters)
start = time.perf_counter()
solution = sim.solve([0, 5400])
solve_s = time.perf_counter() - start
states = sim.built_model.concatenated_initial_conditions.shape[0]
report(solution["Time [s]"].entries, solution["Voltage [V]"].entries, solve_s,
       {"code": "pybamm " + pybamm.__version__, "unknowns": int(states)})
"""
)

ELECTROLYX = (
    COMMON
    + """
import electrolyx
from electrolyx.models.dfn import (DFN, CellGeometry, CurrentCollectorFoil, DFNResolution,
    TabPlacement)
from electrolyx.parameters import chen2020
geometry = CellGeometry(0.065, HEIGHT_CELLS,
    negative_foil=CurrentCollectorFoil(12e-6, 5841100.0),
    positive_foil=CurrentCollectorFoil(16e-6, 3691400.0),
    negative_tab=TabPlacement(), positive_tab=TabPlacement(), tab_length_m=1e-4, tab_cells=1)
model = DFN(chen2020(), DFNResolution(*RESOLUTION), relative_tolerance=RTOL, geometry=geometry)
start = time.perf_counter()
solution = model.discharge(5.0)
solve_s = time.perf_counter() - start
unknowns = model.unknowns.global_size()
report(np.array(solution.time_s), np.array(solution.voltage_V), solve_s,
       {"code": "electrolyx " + electrolyx.__version__, "unknowns": int(unknowns),
        "steps": len(solution.time_s) - 1, "newton_iterations": solution.newton_iterations})
"""
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pybamm", default=sys.executable, help="a Python with pybamm")
    parser.add_argument("--pairs", type=int, default=5, help="alternating pairs (>= 5)")
    parser.add_argument("--height-cells", type=int, default=20, help="electrolyx cells along z")
    parser.add_argument("--rtol", type=float, default=1e-3, help="electrolyx time-step rtol")
    parser.add_argument(
        "--resolution",
        type=int,
        nargs=5,
        default=[],
        metavar=("NEG", "SEP", "POS", "R_NEG", "R_POS"),
        help="electrolyx cells per region and radial points (default: DFNResolution())",
    )
    args = parser.parse_args()
    electrolyx_source = (
        ELECTROLYX.replace("HEIGHT_CELLS", str(args.height_cells))
        .replace("RTOL", repr(args.rtol))
        .replace("RESOLUTION", repr(tuple(args.resolution)))
    )

    def child(source: str, python: str = sys.executable) -> dict:
        result = run_child_with_rusage(source, python)
        return {**result, **errors(result)}

    codes = {
        "pybamm": lambda: child(PYBAMM, args.pybamm),
        "electrolyx": lambda: child(electrolyx_source),
    }
    for code in codes.values():
        code()  # warm-up: form cache, bytecode
    load_before = os.getloadavg()
    runs: dict[str, list[dict]] = {name: [] for name in codes}
    for pair in range(args.pairs):
        for name in list(codes) if pair % 2 == 0 else list(codes)[::-1]:
            runs[name].append(codes[name]())
    load_after = os.getloadavg()
    ratios = [
        e["wall_s"] / p["wall_s"] for e, p in zip(runs["electrolyx"], runs["pybamm"], strict=True)
    ]
    median = lambda runs, key: statistics.median(r[key] for r in runs)  # noqa: E731
    print(
        "| code | unknowns | whole process s, median (min-max) | CPU s | peak MB | solve s "
        "| RMS mV | max mV |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for samples in runs.values():
        last, walls = samples[-1], [r["wall_s"] for r in samples]
        print(
            f"| {last['code']} | {last['unknowns']} | {median(samples, 'wall_s'):.2f} "
            f"({min(walls):.2f}-{max(walls):.2f}) | {median(samples, 'cpu_s'):.2f} | "
            f"{median(samples, 'peak_rss_MB'):.0f} | {median(samples, 'solve_s'):.2f} | "
            f"{last['rms_mV']:.3f} | {last['max_mV']:.2f} |"
        )
    print(
        f"median of the {args.pairs} per-pair wall ratios electrolyx / PyBaMM: "
        f"{statistics.median(ratios):.2f}; load average before "
        f"{[round(x, 2) for x in load_before]}, after {[round(x, 2) for x in load_after]}"
    )
    print(json.dumps({"ratios": ratios, "runs": runs}))


if __name__ == "__main__":
    main()
