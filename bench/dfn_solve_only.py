"""The solve alone, against PyBaMM's: the default case's 1C discharge solved again in one process.

Usage: python bench/dfn_solve_only.py --pybamm PYTHON [--pairs 5] [--repeats 5]

bench/dfn_speed.py times what a user waits for, a whole process, where imports weigh most
(PyBaMM's import alone takes about 1.1 s). This bench times the integration itself, which is
what a parameter sweep or a cycling study in one process repeats: each code builds its model,
solves the discharge once untimed (PyBaMM discretises and compiles there, electrolyx loads its
forms), then solves it ``--repeats`` more times from the initial state, and reports the median
of those. electrolyx: the default case's DFN (cases/dfn-chen2020-1C: its mesh, BDF order and
tolerances, read from the case file) through the library (``DFN.reset`` and
``run_experiment``), with a row per time step (as PyBaMM's solution has a point per step; the
case's 10 s rows are not made). PyBaMM 26.10: ``Simulation(DFN(), Chen2020).solve([0, 3700])``
(IDAKLU, default mesh), as in bench/dfn_speed.py. Both in fresh processes, the two alternating
which goes first, ``--pairs`` pairs; reported: the medians over the pairs and the median of the
per-pair ratios, with the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ELECTROLYX_SCRIPT = """
import json, sys, time
from pathlib import Path
import electrolyx
from mpi4py import MPI
from electrolyx import driver
from electrolyx.case import load_case
from electrolyx.experiment import parse_experiment
from electrolyx.output import PhaseTimer
case = load_case(Path(sys.argv[1]))
model = driver.prepare(case, MPI.COMM_WORLD, PhaseTimer()).model
model.row_interval_s = None  # a row per time step
steps = parse_experiment(case.settings["experiment"]["steps"])
start = time.perf_counter()
solution = model.run_experiment(steps)
first = time.perf_counter() - start
solves = []
for _ in range(int(sys.argv[2])):
    model.reset()
    start = time.perf_counter()
    solution = model.run_experiment(steps)
    solves.append(time.perf_counter() - start)
print(json.dumps({"first_s": first, "solves_s": solves, "steps": solution.accepted_steps,
                  "end_s": solution.time_s[-1], "end_V": solution.voltage_V[-1]}))
"""

PYBAMM_SCRIPT = """
import json, sys, time
import pybamm
simulation = pybamm.Simulation(
    pybamm.lithium_ion.DFN(), parameter_values=pybamm.ParameterValues("Chen2020")
)
start = time.perf_counter()
solution = simulation.solve([0, 3700])
first = time.perf_counter() - start
solves = []
for _ in range(int(sys.argv[1])):
    start = time.perf_counter()
    solution = simulation.solve([0, 3700])
    solves.append(time.perf_counter() - start)
print(json.dumps({"first_s": first, "solves_s": solves, "steps": len(solution.t) - 1,
                  "end_s": float(solution.t[-1]),
                  "end_V": float(solution["Voltage [V]"].entries[-1])}))
"""


def child(argv: list[str]) -> dict:
    """One fresh process: its JSON line (the last line of its output)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode written, as installed
    result = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed:\n{result.stderr[-2000:]}")
    record = json.loads(result.stdout.strip().splitlines()[-1])
    record["median_s"] = statistics.median(record["solves_s"])
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pybamm", required=True, help="a Python with pybamm 26.10 installed")
    parser.add_argument("--pairs", type=int, default=5, help="alternating pairs (>= 5)")
    parser.add_argument("--repeats", type=int, default=5, help="timed solves per process")
    parser.add_argument("--case", default=str(ROOT / "cases" / "dfn-chen2020-1C"))
    args = parser.parse_args()
    codes = {
        "electrolyx": [sys.executable, "-c", ELECTROLYX_SCRIPT, args.case, str(args.repeats)],
        "pybamm": [args.pybamm, "-c", PYBAMM_SCRIPT, str(args.repeats)],
    }
    load_before = os.getloadavg()
    runs: dict[str, list[dict]] = {name: [] for name in codes}
    for pair in range(args.pairs):
        order = list(codes) if pair % 2 == 0 else list(codes)[::-1]
        for name in order:
            runs[name].append(child(codes[name]))
    load_after = os.getloadavg()
    ratios = [
        e["median_s"] / p["median_s"]
        for e, p in zip(runs["electrolyx"], runs["pybamm"], strict=True)
    ]
    print("| code | solve s, median over the pairs (min-max) | first solve s | steps | end |")
    print("|---|---|---|---|---|")
    for name, records in runs.items():
        medians = [r["median_s"] for r in records]
        first = statistics.median(r["first_s"] for r in records)
        last = records[-1]
        print(
            f"| {name} | {statistics.median(medians):.4f} ({min(medians):.4f}-{max(medians):.4f})"
            f" | {first:.3f} | {last['steps']} | {last['end_s']:.2f} s, {last['end_V']:.4f} V |"
        )
    summary = {
        "pairs": args.pairs,
        "repeats": args.repeats,
        "median_ratio": round(statistics.median(ratios), 2),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "codes": {
            name: [round(r["median_s"], 5) for r in records] for name, records in runs.items()
        },
    }
    print(
        f"\nmedian of the {args.pairs} per-pair ratios electrolyx/PyBaMM: "
        f"{summary['median_ratio']:.1f}; load average before {summary['load_average_before']}, "
        f"after {summary['load_average_after']}"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
