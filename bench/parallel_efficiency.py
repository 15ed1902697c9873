"""Parallel efficiency of a shipped case: `mpiexec -n 1` against `mpiexec -n N`, fresh processes.

Issue 18 item 4 asks the 3D pouch with tabs to run on 2 ranks at >= 80 % parallel efficiency,
E = T_1 / (N T_N). Each pair runs, one after the other in fresh processes, the same command on
1 rank and on N ranks (``mpiexec -n R electrolyx run CASE --quiet --out ... [RUN ARGUMENTS]``),
the order alternating from pair to pair so that a change of the machine's load hits both alike;
one untimed pair first (forms into the cache). Reported per run: the whole process's wall time,
the CPU time of the process tree, the phases of run.json's ``timings_s`` (rank 0's: mesh,
forms, solve, output), steps and Newton iterations, and the 1-min load average before it; then
the median and spread of each, and the median of the per-pair efficiencies of the whole process
and of the solve phase. Never a best-of.

The N-rank answer must be the 1-rank one: each pair's voltages are compared (at the last row,
which both runs put at the experiment's end, and along the run by linear interpolation between
the N-rank rows), so that a faster run that computed something else would show.

    .venv/bin/python bench/parallel_efficiency.py cases/pouch-3d-tabs --pairs 5 \\
        --set 'experiment.steps=["Discharge at 1C for 10 minutes"]' --set output.fields=false

On a machine with N cores, the N-rank run has every core and the 1-rank run one: anything else
running counts against the N-rank side (its 1-min load is printed beside each run).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dfn_speed import run as fresh_process  # noqa: E402  (a sibling script)

BIN = Path(sys.executable).parent


def run(ranks: int, case: Path, out: Path, run_arguments: list[str]) -> dict:
    """One fresh ``mpiexec -n RANKS electrolyx run``: wall, tree CPU, run.json's figures."""
    argv = [
        str(BIN / "mpiexec"),
        "-n",
        str(ranks),
        str(BIN / "electrolyx"),
        "run",
        str(case),
        "--out",
        str(out),
        "--quiet",
        *run_arguments,
    ]
    load = os.getloadavg()[0]
    process = fresh_process(argv)  # bytecode written, as an installation has it
    record = json.loads((out / "run.json").read_text())
    with open(out / "timeseries.csv", newline="") as file:
        rows = [row for row in csv.DictReader(line for line in file if not line.startswith("#"))]
    return {
        "ranks": ranks,
        "wall_s": process["wall_s"],
        "cpu_s": process["cpu_s"],
        "load": load,
        "timings_s": record["timings_s"],
        "steps": record["solver"]["time_steps"],
        "newton": record["solver"]["newton_iterations"],
        "time_s": [float(row["time_s"]) for row in rows],
        "voltage_V": [float(row["voltage_V"]) for row in rows],
    }


def median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("case", type=Path)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="passed to both runs as --set KEY=VALUE",
    )
    parser.add_argument("--json", type=Path, help="write every run's figures here")
    args = parser.parse_args()
    run_arguments = [item for setting in args.set for item in ("--set", setting)]
    scratch = Path(tempfile.mkdtemp(prefix="electrolyx-efficiency-"))
    print(f"{args.case}, 1 vs {args.ranks} ranks, {args.pairs} pairs; {' '.join(run_arguments)}")
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"1-min load before: {os.getloadavg()[0]:.2f}; {stamp}")
    print(f"result folders under {scratch}")
    runs: list[tuple[dict, dict]] = []
    for pair in range(args.pairs + 1):  # pair 0: untimed warm-up
        order = (1, args.ranks) if pair % 2 == 0 else (args.ranks, 1)
        result = {}
        for ranks in order:
            result[ranks] = run(
                ranks, args.case.resolve(), scratch / f"{pair}-{ranks}", run_arguments
            )
            figures = result[ranks]
            print(
                f"pair {pair}{' (warm-up)' if pair == 0 else ''}: {ranks} rank(s) "
                f"wall {figures['wall_s']:.2f} s, solve {figures['timings_s']['solve']:.2f} s, "
                f"CPU {figures['cpu_s']:.2f} s, {figures['steps']} steps, "
                f"{figures['newton']} Newton, load {figures['load']:.2f}",
                flush=True,
            )
        serial, parallel = result[1], result[args.ranks]
        # The two runs' steps may differ (a distributed LU's round-off moves the step control),
        # so their rows fall at different times: the last row (both end the experiment there)
        # and the 1-rank rows against the N-rank curve interpolated linearly.
        last = abs(serial["voltage_V"][-1] - parallel["voltage_V"][-1])
        between = np.interp(serial["time_s"], parallel["time_s"], parallel["voltage_V"])
        apart = float(np.max(np.abs(between - np.asarray(serial["voltage_V"]))))
        print(
            f"    rows {len(serial['voltage_V'])} / {len(parallel['voltage_V'])}, last row at "
            f"{serial['time_s'][-1]:g} / {parallel['time_s'][-1]:g} s: voltage {last:.3g} V "
            f"apart; along the run (linear interpolation) {apart:.3g} V",
            flush=True,
        )
        if pair > 0:
            runs.append((serial, parallel))
    print(f"1-min load after: {os.getloadavg()[0]:.2f}")
    for label, index in (("1 rank", 0), (f"{args.ranks} ranks", 1)):
        chosen = [pair[index] for pair in runs]
        print(
            f"{label}: wall {median([r['wall_s'] for r in chosen])} s, "
            f"solve {median([r['timings_s']['solve'] for r in chosen])} s, "
            f"mesh {median([r['timings_s']['mesh'] for r in chosen])} s, "
            f"CPU {median([r['cpu_s'] for r in chosen])} s (median, min-max)"
        )
    whole = [s["wall_s"] / (args.ranks * p["wall_s"]) for s, p in runs]
    solve = [s["timings_s"]["solve"] / (args.ranks * p["timings_s"]["solve"]) for s, p in runs]
    print(
        f"efficiency T1 / ({args.ranks} T{args.ranks}), median of the pairs (min-max): "
        f"whole process {median(whole)}, solve phase {median(solve)}"
    )
    if args.json:
        args.json.write_text(json.dumps([{"serial": s, "parallel": p} for s, p in runs], indent=1))


if __name__ == "__main__":
    main()
