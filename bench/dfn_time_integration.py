"""The DFN's time integration (PETSc TS) against the loop it replaced: whole process and accuracy.

    python bench/dfn_time_integration.py whole-process --before /work/main/.venv/bin/electrolyx \
        --after .venv/bin/electrolyx --pairs 5
    python bench/dfn_time_integration.py accuracy --after .venv/bin/electrolyx

``whole-process``: ``electrolyx run cases/dfn-chen2020-1C`` (the default case, each binary with
the case of its own checkout: ``--before-case`` and ``--after-case``), in fresh processes,
before and after alternating, one untimed warm-up run of each first (form cache warm); wall
time of the whole process, medians and the ratio per pair; counts from run.json; machine load
(``uptime``) before and after. ``accuracy``: the voltage of a run's timeseries.csv (rows every
10 s, joined by straight lines as a plot does, and by a cubic spline) against PyBaMM's finest
mesh (tests/data/pybamm/chen2020_1C.csv) at its 1 s output times.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data" / "pybamm" / "chen2020_1C.csv"


def run_case(electrolyx: str, case: Path, out: Path) -> float:
    """Wall time [s] of one ``electrolyx run`` in a fresh process."""
    start = time.perf_counter()
    subprocess.run(
        [electrolyx, "run", str(case), "--out", str(out), "--quiet"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def summary(out: Path) -> dict:
    """Counts of run.json and the voltage error against PyBaMM of timeseries.csv."""
    info = json.loads((out / "run.json").read_text())
    solver = info.get("solver", {})
    with open(out / "timeseries.csv") as stream:
        rows = list(csv.DictReader(stream))
    t = np.array([float(r["time_s"]) for r in rows])
    v = np.array([float(r["voltage_V"]) for r in rows])
    reference = np.loadtxt(REFERENCE, delimiter=",", skiprows=1)
    mask = reference[:, 0] <= min(t[-1], reference[-1, 0])
    keep = np.concatenate([[True], np.diff(t) > 0])
    linear = np.interp(reference[mask, 0], t, v) - reference[mask, 1]
    cubic = CubicSpline(t[keep], v[keep])(reference[mask, 0]) - reference[mask, 1]
    return {
        "time_steps": solver.get("time_steps"),
        "rejected_steps": solver.get("rejected_steps"),
        "newton_iterations": solver.get("newton_iterations"),
        "rows": len(rows),
        "end_s": float(t[-1]),
        "end_minus_pybamm_s": float(t[-1] - reference[-1, 0]),
        "rms_linear_mV": 1e3 * float(np.sqrt(np.mean(linear**2))),
        "max_linear_mV": 1e3 * float(np.max(np.abs(linear))),
        "rms_cubic_mV": 1e3 * float(np.sqrt(np.mean(cubic**2))),
        "timings_s": {k: round(v, 2) for k, v in info.get("timings_s", {}).items()},
    }


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def whole_process(args) -> None:
    print("load before:", uptime(), flush=True)
    with tempfile.TemporaryDirectory() as folder:
        outs = {name: Path(folder) / name for name in ("before", "after")}
        runs = {
            "before": (args.before, Path(args.before_case)),
            "after": (args.after, Path(args.after_case)),
        }
        for name, (binary, case) in runs.items():  # warm-up (form cache), untimed
            run_case(binary, case, outs[name])
        times: dict[str, list[float]] = {"before": [], "after": []}
        for pair in range(args.pairs):
            for name, (binary, case) in runs.items():
                times[name].append(run_case(binary, case, outs[name]))
            print(
                f"pair {pair + 1}: before {times['before'][-1]:.2f} s, "
                f"after {times['after'][-1]:.2f} s",
                flush=True,
            )
        results = {name: summary(outs[name]) for name in runs}
    ratios = [a / b for a, b in zip(times["after"], times["before"], strict=True)]
    for name in runs:
        print(
            f"{name}: median {statistics.median(times[name]):.2f} s "
            f"(range {min(times[name]):.2f}-{max(times[name]):.2f}), {results[name]}"
        )
    print(
        f"after / before: median of pairs {statistics.median(ratios):.3f} "
        f"(range {min(ratios):.3f}-{max(ratios):.3f}), "
        f"ratio of medians "
        f"{statistics.median(times['after']) / statistics.median(times['before']):.3f}"
    )
    print("load after:", uptime(), flush=True)


def accuracy(args) -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        run_case(args.after, Path(args.after_case), out)
        print(summary(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["whole-process", "accuracy"])
    parser.add_argument("--before", default="/work/main/.venv/bin/electrolyx")
    parser.add_argument("--before-case", default="/work/main/cases/dfn-chen2020-1C")
    parser.add_argument("--after", default=str(ROOT / ".venv" / "bin" / "electrolyx"))
    parser.add_argument("--after-case", default=str(ROOT / "cases" / "dfn-chen2020-1C"))
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    {"whole-process": whole_process, "accuracy": accuracy}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
