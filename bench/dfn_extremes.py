"""The DFN at the extremes: fast discharges, CC-CV charges from empty, 10C pulses (issue 14).

Every run goes through ``electrolyx run`` in a fresh process, as a user would run it, on the
shipped default case (default mesh) with ``--set`` overrides, and the table lists for each run
the exit code, run.json's ``status`` and ``stop_reason`` (or its failure message), the last time
and voltage and the delivered capacity. A run passes when it exits 0 and ends at its cut-off or
at a named physical limit.

    .venv/bin/python bench/dfn_extremes.py                 # the whole matrix (~10 min quiet)
    .venv/bin/python bench/dfn_extremes.py --sets Chen2020 --rates 3 5 --temperatures 268.15
    .venv/bin/python bench/dfn_extremes.py --only cccv pulse

Writes bench/results/dfn_extremes.csv (one row per run) and prints the table.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "cases" / "dfn-chen2020-1C"
ELECTROLYX = [sys.executable, "-m", "electrolyx"]

SETS = ["Chen2020", "Marquis2019", "Ecker2015"]
RATES = [0.1, 0.5, 1, 2, 3, 4, 5]
TEMPERATURES = [268.15, 298.15, 318.15]
CCCV_RATES = [0.5, 1, 3]


def runs(args) -> list[tuple[str, list[str]]]:
    """(label, --set overrides) of every run of the matrix."""
    out = []
    common = ["output.fields=false", "output.profile_times=[]"]
    for parameter_set in args.sets:
        base = [f"parameters.set={parameter_set}", *common]
        if "cc" in args.only:
            for temperature in args.temperatures:
                for rate in args.rates:
                    out.append(
                        (
                            f"{parameter_set} CC {rate}C {temperature} K",
                            [
                                *base,
                                f"parameters.temperature={temperature}",
                                f'experiment.steps=["Discharge at {rate}C until {{lower}} V"]',
                            ],
                        )
                    )
        if "cccv" in args.only:
            for rate in CCCV_RATES:
                out.append(
                    (
                        f"{parameter_set} CC-CV {rate}C from 0 %",
                        [
                            *base,
                            "parameters.initial_state_of_charge=0",
                            f'experiment.steps=["Charge at {rate}C until {{upper}} V", '
                            f'"Hold at {{upper}} V until C/20"]',
                        ],
                    )
                )
        if "pulse" in args.only:
            out.append(
                (
                    f"{parameter_set} 10C pulses 10 s",
                    [
                        *base,
                        "parameters.initial_state_of_charge=0.5",
                        'experiment.steps=["Discharge at 10C for 10 seconds or until {lower} V", '
                        '"Rest for 60 seconds", '
                        '"Charge at 10C for 10 seconds or until {upper} V", '
                        '"Rest for 60 seconds"]',
                    ],
                )
            )
    return out


CUTOFFS = {"Chen2020": (2.5, 4.2), "Marquis2019": (3.105, 4.1), "Ecker2015": (2.5, 4.2)}


def run_one(label: str, overrides: list[str], parameter_set: str, folder: Path) -> dict:
    lower, upper = CUTOFFS[parameter_set]
    overrides = [o.replace("{lower}", str(lower)).replace("{upper}", str(upper)) for o in overrides]
    out = folder / f"run-{abs(hash(label))}"
    command = [*ELECTROLYX, "run", str(CASE), "--quiet", "--out", str(out)]
    for o in overrides:
        command += ["--set", o]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    wall = time.perf_counter() - start
    result = {"run": label, "exit": done.returncode, "wall_s": round(wall, 1)}
    folders = sorted(folder.glob(out.name + "*"))
    info = {}
    if folders:
        run_json = folders[0] / "run.json"
        if run_json.exists():
            info = json.loads(run_json.read_text())
        series = folders[0] / "timeseries.csv"
        if series.exists():
            rows = list(csv.DictReader(series.open()))
            if rows:
                result["end_time_s"] = float(rows[-1]["time_s"])
                result["end_voltage_V"] = float(rows[-1]["voltage_V"])
                result["capacity_Ah"] = float(rows[-1]["discharge_capacity_Ah"])
    result["status"] = info.get("status", "")
    result["stop_reason"] = info.get("stop_reason", "") or info.get("message", "")[:200]
    if done.returncode not in (0,) and not info:
        result["stop_reason"] = done.stderr.strip().splitlines()[-1][:200] if done.stderr else ""
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=SETS)
    parser.add_argument("--rates", nargs="+", type=float, default=RATES)
    parser.add_argument("--temperatures", nargs="+", type=float, default=TEMPERATURES)
    parser.add_argument("--only", nargs="+", default=["cc", "cccv", "pulse"])
    parser.add_argument("--csv", default=str(ROOT / "bench" / "results" / "dfn_extremes.csv"))
    args = parser.parse_args()
    args.rates = [int(r) if float(r).is_integer() else r for r in args.rates]
    table = []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for label, overrides in runs(args):
            parameter_set = label.split()[0]
            result = run_one(label, overrides, parameter_set, Path(tmp))
            table.append(result)
            print(
                f"{result['run']:<36} exit {result['exit']} {result['status']:<10} "
                f"t={result.get('end_time_s', float('nan')):9.1f} s "
                f"V={result.get('end_voltage_V', float('nan')):.4f} "
                f"{result['wall_s']:6.1f} s  {result['stop_reason']}",
                flush=True,
            )
    Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
    keys = [
        "run",
        "exit",
        "status",
        "stop_reason",
        "end_time_s",
        "end_voltage_V",
        "capacity_Ah",
        "wall_s",
    ]
    with open(args.csv, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        for row in table:
            writer.writerow({k: row.get(k, "") for k in keys})
    passed = sum(r["exit"] == 0 and r["status"] == "completed" for r in table)
    print(f"{passed}/{len(table)} runs exit 0 and complete (load at start {load:.1f}); {args.csv}")


if __name__ == "__main__":
    main()
