"""CPU time of the DFN's time loop, this tree against another source tree, alternating.

Issue 18's per-step cost, without the process start (imports, forms) that bench/dfn_speed.py
includes: in fresh processes, the 1C discharge of Chen2020 to 2.5 V on the default mesh
(``discharge``) or the cycling bench's experiment (``cycles``: OKane2022 with plating and SEI,
1C discharge, 1C charge, hold at 4.2 V to C/20, M = 20 or ``--points M``, as
bench/dfn_ageing.py), timed with
``time.process_time`` around the solve only (CPU time: on a shared machine wall time mostly
measures the others' load). ``--baseline SRC`` runs the same child under PYTHONPATH=SRC (a
``git archive`` of another commit, unpacked), alternating with this tree, pair by pair.

    .venv/bin/python bench/dfn_loop_cpu.py discharge --pairs 5 --baseline /tmp/base-src
    .venv/bin/python bench/dfn_loop_cpu.py cycles --cycles 2 --pairs 3 --baseline /tmp/base-src

Extra PETSc options of the DFN's Newton solver go in ``--snes '{"snes_lag_jacobian": 3}'``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def child(kind: str, cycles: int, snes: dict, points: int = 20) -> None:
    import electrolyx  # noqa: F401  (before dolfinx)
    from electrolyx.models.dfn import DFN, DFNResolution

    records = []
    if kind == "discharge":
        from electrolyx.parameters import chen2020

        model = DFN(chen2020(), DFNResolution(20, 6, 20, 20, 20), max_step_s=60.0)
        model.integrator.snes_options.update(snes)
        start = time.process_time()
        solution = model.discharge(5.0)
        records.append({"cpu_s": time.process_time() - start, "t_end_s": solution.time_s[-1]})
    else:
        from electrolyx.experiment import parse_experiment
        from electrolyx.models.dfn import SideReactions
        from electrolyx.parameters import okane2022

        cell = okane2022()
        side = SideReactions(
            ("lithium-plating", "sei"), "partially-reversible", "reaction-limited", cell.degradation
        )
        resolution = DFNResolution(points, max(4, points // 3), points, points, points)
        model = DFN(cell, resolution, side_reactions={"negative": side})
        model.integrator.snes_options.update(snes)
        cycle = [
            "Discharge at 1C until 2.5 V",
            "Charge at 1C until 4.2 V",
            "Hold at 4.2 V until C/20",
        ]
        for n in range(1, cycles + 1):
            start = time.process_time()
            solution = model.run_experiment(parse_experiment(cycle * n))
            lost = model.outputs.degradation.values()["loss_of_lithium_inventory_percent"]
            records.append(
                {
                    "cpu_s": time.process_time() - start,
                    "t_end_s": solution.time_s[-1],
                    "lli_percent": lost,
                }
            )
    totals = model.integrator.totals
    print("RESULT " + json.dumps({"records": records, **totals, **model.integrator.counts}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("discharge", "cycles"))
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument(
        "--points", type=int, default=20, help="cycles: cells per electrode and particle (M)"
    )
    parser.add_argument("--baseline", default=None, help="another source tree (PYTHONPATH)")
    parser.add_argument("--snes", default="{}", help="extra Newton options (JSON)")
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        return child(args.kind, args.cycles, json.loads(args.snes), args.points)
    trees = {"this": None, **({"baseline": args.baseline} if args.baseline else {})}
    results: dict[str, list[dict]] = {name: [] for name in trees}
    load_before = os.getloadavg()
    for pair in range(args.pairs):
        order = list(trees) if pair % 2 == 0 else list(trees)[::-1]
        for name in order:
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            if trees[name]:
                env["PYTHONPATH"] = trees[name]
            command = [sys.executable, str(HERE), args.kind, "--child"]
            command += ["--cycles", str(args.cycles), "--snes", args.snes]
            command += ["--points", str(args.points)]
            # run outside the tree, so that PYTHONPATH (not the current folder) gives electrolyx
            output = subprocess.run(
                command, env=env, cwd="/", capture_output=True, text=True, check=True
            ).stdout
            line = next(x for x in output.splitlines() if x.startswith("RESULT "))
            results[name].append(json.loads(line[7:]))
    summary = {
        "kind": args.kind,
        "points": args.points,
        "snes": json.loads(args.snes),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }
    for name, runs in results.items():
        # the discharge's one record, or the cycles after the first (the first builds)
        timed = [r["records"][-1]["cpu_s"] for r in runs]
        summary[name] = {
            "cpu_s_median": round(statistics.median(timed), 3),
            "cpu_s": [round(x, 3) for x in timed],
            "newton_iterations": runs[0]["newton_iterations"],
            "jacobians": runs[0]["jacobian"],
            "steps": runs[0]["steps"],
            "last": runs[0]["records"][-1],
        }
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
