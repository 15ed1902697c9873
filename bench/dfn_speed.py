"""Whole-process time of the default case against PyBaMM: `electrolyx run` vs a PyBaMM script.

The user's view of speed (issue 18): the time from typing the command to having the result,
imports and model building included. Each pair runs, in fresh processes and one after the
other, ``electrolyx run cases/dfn-chen2020-1C --quiet`` (writing its result folder as always:
timeseries, profiles, ParaView fields, run.json) and PyBaMM 26.10's DFN on Chen2020, 1C to
its 2.5 V cut-off, default mesh and solver (IDAKLU), writing its voltage to a CSV file. Pairs
alternate which code goes first, so that a change of machine load hits both alike. Reported:
the median and the spread of the wall time, CPU time (user + system of the process tree) and
peak resident memory of each code, the median of the per-pair ratios, and the load average
before and after; never a best-of.

Accuracy is checked in the same run: electrolyx's voltage against PyBaMM's finest-mesh
reference (tests/data/pybamm/chen2020_1C.csv), RMS at the reference's output times.

    .venv/bin/python bench/dfn_speed.py --pybamm /tmp/pybamm-venv/bin/python --pairs 7
    .venv/bin/python bench/dfn_speed.py --pybamm ... --first-run   # empty form cache each time

``--first-run`` gives electrolyx an empty form cache (ELECTROLYX_FORM_CACHE in a new temporary
folder) for every run: the first run after `make demo`'s install, as a new user has it.
PyBaMM needs its own environment (it is never a dependency of electrolyx):
``python3.13 -m venv /tmp/pybamm-venv && /tmp/pybamm-venv/bin/pip install pybamm==26.10.1.1``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "data" / "pybamm" / "chen2020_1C.csv"
ELECTROLYX = Path(sys.executable).parent / "electrolyx"

PYBAMM_SCRIPT = """
import sys
import numpy as np
import pybamm
simulation = pybamm.Simulation(
    pybamm.lithium_ion.DFN(), parameter_values=pybamm.ParameterValues("Chen2020")
)
solution = simulation.solve([0, 3700])
np.savetxt(sys.argv[1], np.column_stack([solution["Time [s]"].entries,
           solution["Voltage [V]"].entries]), delimiter=",", header="time_s,voltage_V")
"""


def run(argv: list[str], env: dict | None = None) -> dict:
    """Wall time, CPU time and peak resident memory of one fresh process (and its children).

    Without PYTHONDONTWRITEBYTECODE (which some shells set): the untimed warm-up then writes
    the bytecode of electrolyx's modules, as every installation has it (pip writes PyBaMM's
    when it installs it). With it set, each electrolyx run compiled some 130 modules of its
    editable install from source, 0.15-0.2 s of every run, and PyBaMM none.
    """
    env = dict(os.environ if env is None else env)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.chdir(ROOT)
        os.execve(argv[0], argv, env)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv)} failed with exit {status}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_MiB": usage.ru_maxrss / 1024,
    }


def rms_to_reference_mV(time_s: np.ndarray, voltage_V: np.ndarray) -> float:
    reference = np.loadtxt(REFERENCE, delimiter=",", skiprows=1)
    t_ref, v_ref = reference[:, 0], reference[:, 1]
    inside = t_ref <= min(t_ref[-1], time_s[-1])
    difference = np.interp(t_ref[inside], time_s, voltage_V) - v_ref[inside]
    return 1e3 * float(np.sqrt(np.mean(difference**2)))


def measure(pybamm_python: str, pairs: int, case: str, first_run: bool) -> dict:
    """Alternating pairs of fresh processes: medians, ratios, load and accuracy (the summary)."""
    args = argparse.Namespace(pybamm=pybamm_python, pairs=pairs, case=case, first_run=first_run)
    work = Path(tempfile.mkdtemp(prefix="electrolyx-speed-"))
    script = work / "pybamm_dfn.py"
    script.write_text(PYBAMM_SCRIPT)
    out = work / "result"

    def electrolyx(index: int) -> dict:
        env = dict(os.environ)
        if args.first_run:
            env["ELECTROLYX_FORM_CACHE"] = str(work / f"forms-{index}")
        argv = [str(ELECTROLYX), "run", args.case, "--out", str(out), "--quiet"]
        return run(argv, env)

    def pybamm(index: int) -> dict:
        return run([args.pybamm, str(script), str(work / "pybamm.csv")])

    codes = {"electrolyx": electrolyx, "pybamm": pybamm}
    for code in codes.values():  # untimed warm-up: bytecode and (unless --first-run) forms
        code(-1)
    load_before = os.getloadavg()
    runs: dict[str, list[dict]] = {name: [] for name in codes}
    for pair in range(args.pairs):
        order = list(codes) if pair % 2 == 0 else list(codes)[::-1]
        for name in order:
            runs[name].append(codes[name](pair))
    load_after = os.getloadavg()

    timeseries = np.genfromtxt(out / "timeseries.csv", delimiter=",", names=True)
    pybamm_curve = np.loadtxt(work / "pybamm.csv", delimiter=",", skiprows=1)
    accuracy = {
        "electrolyx": rms_to_reference_mV(timeseries["time_s"], timeseries["voltage_V"]),
        "pybamm": rms_to_reference_mV(pybamm_curve[:, 0], pybamm_curve[:, 1]),
    }
    ratios = [
        e["wall_s"] / p["wall_s"] for e, p in zip(runs["electrolyx"], runs["pybamm"], strict=True)
    ]
    summary = {
        "case": args.case,
        "first_run": args.first_run,
        "pairs": args.pairs,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "median_wall_ratio": round(statistics.median(ratios), 3),
        "codes": {},
    }
    for name, samples in runs.items():
        summary["codes"][name] = {
            key: {
                "median": round(statistics.median(s[key] for s in samples), 3),
                "min": round(min(s[key] for s in samples), 3),
                "max": round(max(s[key] for s in samples), 3),
            }
            for key in ("wall_s", "cpu_s", "peak_MiB")
        }
        summary["codes"][name]["rms_to_finest_mV"] = round(accuracy[name], 4)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pybamm", required=True, help="a Python with pybamm 26.10 installed")
    parser.add_argument("--pairs", type=int, default=7, help="alternating pairs (>= 5)")
    parser.add_argument("--case", default="dfn-chen2020-1C")
    parser.add_argument("--first-run", action="store_true", help="empty form cache every run")
    args = parser.parse_args()
    summary = measure(args.pybamm, args.pairs, args.case, args.first_run)
    print("| code | wall s, median (min-max) | CPU s, median | peak MiB | RMS to finest mesh |")
    print("|---|---|---|---|---|")
    for name, s in summary["codes"].items():
        wall = s["wall_s"]
        print(
            f"| {name} | {wall['median']:.2f} ({wall['min']:.2f}-{wall['max']:.2f}) | "
            f"{s['cpu_s']['median']:.2f} | {s['peak_MiB']['median']:.0f} | "
            f"{s['rms_to_finest_mV']:.3f} mV |"
        )
    print(
        f"\nmedian of the {args.pairs} per-pair wall ratios electrolyx/PyBaMM: "
        f"{summary['median_wall_ratio']:.2f}; load average before {summary['load_average_before']}"
        f", after {summary['load_average_after']}"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
