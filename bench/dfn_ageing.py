"""Cycle ageing, electrolyx and PyBaMM side by side: OKane2022, 1C/1C CC-CV with SEI and plating.

Usage: python bench/dfn_ageing.py [--cycles N] [--pairs P] [--hold C/20] [--points 20]
       [--pybamm-points M] [--pybamm PYTHON] [--only electrolyx|pybamm] [--out OUT.json]

The experiment (both codes): N times ["Discharge at 1C until 2.5 V", "Charge at 1C until 4.2 V",
"Hold at 4.2 V until C/20"] (1C = 5 A; ``--hold`` changes C/20) at 298.15 K from the set's
stored (charged) state, with partially reversible lithium plating and reaction-limited SEI
(``--sei``: any of PyBaMM's SEI options that electrolyx has) with its film resistance
("distributed"). electrolyx: its DFN with ``--points`` M cells per electrode
(default 20), max(4, M/3) in the separator and M radial nodes, TS BDF defaults. PyBaMM: its
DFN({"lithium plating": "partially reversible", "SEI": "reaction limited", "SEI film
resistance": "distributed"}) on its OKane2022 set with Chen2020's analytic graphite OCP (as in
``make_pybamm_plating_reference.py``), M volumes per region and particle, its default solver
(IDAKLU), one cycle per solve continuing from the last solution. Each code runs in a fresh
process, the two alternating, P pairs. Reported per code and cycle: wall time, discharge
capacity [A h], lithium lost [%] and the process's resident memory after the cycle [MB]; and
whether the code completed all N cycles. PyBaMM only in its own venv
(``--pybamm /tmp/pybamm-venv/bin/python``), never a dependency of electrolyx.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CYCLE = ["Discharge at 1C until 2.5 V", "Charge at 1C until 4.2 V", "Hold at 4.2 V until C/20"]


def cycle_with_hold(end: str) -> list[str]:
    """The cycle with its hold ending at ``end`` (e.g. "C/20", "C/5")."""
    return [*CYCLE[:2], f"Hold at 4.2 V until {end}"]


ROOT = Path(__file__).resolve().parents[1]


def resident_mb() -> float:
    """Resident memory of this process now [MB] (Linux)."""
    with open("/proc/self/statm") as stream:
        pages = int(stream.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def emit(record: dict) -> None:
    print("CYCLE " + json.dumps(record), flush=True)


def run_electrolyx(cycles: int, hold: str, points: int, sei: str) -> None:
    import electrolyx  # noqa: F401  (before dolfinx)
    from electrolyx.experiment import parse_experiment
    from electrolyx.models.dfn import DFN, DFNResolution, SideReactions
    from electrolyx.parameters import okane2022

    cell = okane2022()
    side = SideReactions(
        ("lithium-plating", "sei"), "partially-reversible", sei.replace(" ", "-"), cell.degradation
    )
    resolution = DFNResolution(points, max(4, points // 3), points, points, points)
    model = DFN(cell, resolution, side_reactions={"negative": side})
    for cycle in range(1, cycles + 1):
        # The model numbers protocol steps across calls (a resumed run skips those before its
        # checkpoint), so each call gets the protocol up to this cycle and runs its last three.
        steps = parse_experiment(cycle_with_hold(hold) * cycle)
        start = time.perf_counter()
        before = len(model.solution.time_s)
        try:
            solution = model.run_experiment(steps)
        except Exception as error:  # a failure ends the run; it is reported, not hidden
            emit({"cycle": cycle, "failed": str(error)[:300]})
            return
        wall = time.perf_counter() - start
        capacity = solution.discharge_capacity_Ah[max(before - 1, 0) :]
        discharged = sum(max(b - a, 0.0) for a, b in zip(capacity[:-1], capacity[1:], strict=True))
        values = model.outputs.degradation.values()
        emit(
            {
                "cycle": cycle,
                "wall_s": wall,
                "discharge_capacity_Ah": discharged,
                "loss_of_lithium_inventory_percent": values["loss_of_lithium_inventory_percent"],
                "resident_MB": resident_mb(),
            }
        )


def run_pybamm(cycles: int, hold: str, points: int, sei: str) -> None:
    import pybamm

    parameters = pybamm.ParameterValues("OKane2022")
    parameters["Negative electrode OCP [V]"] = pybamm.ParameterValues("Chen2020")[
        "Negative electrode OCP [V]"
    ]
    parameters["Ambient temperature [K]"] = 298.15
    parameters["Initial temperature [K]"] = 298.15
    model = pybamm.lithium_ion.DFN(
        {
            "lithium plating": "partially reversible",
            "SEI": sei,
            "SEI film resistance": "distributed",
        }
    )
    # One cycle per solve, continuing from the last solution (PyBaMM's documented way to
    # extend an experiment), so each cycle is timed and reported as it ends.
    experiment = pybamm.Experiment([tuple(cycle_with_hold(hold))])
    var_pts = {"x_n": points, "x_s": points, "x_p": points, "r_n": points, "r_p": points}
    simulation = pybamm.Simulation(
        model, parameter_values=parameters, experiment=experiment, var_pts=var_pts
    )
    solution = None
    for cycle in range(1, cycles + 1):
        start = time.perf_counter()
        try:
            solution = simulation.solve(starting_solution=solution)
        except Exception as error:  # a failure ends the run; it is reported, not hidden
            emit({"cycle": cycle, "failed": str(error)[:300]})
            return
        wall = time.perf_counter() - start
        last = solution.cycles[-1]
        if last is None or len(solution.cycles) < cycle:
            emit({"cycle": cycle, "failed": "PyBaMM did not complete the cycle"})
            return
        capacity = last["Discharge capacity [A.h]"].entries
        discharged = float(
            sum(max(b - a, 0.0) for a, b in zip(capacity[:-1], capacity[1:], strict=True))
        )
        lost = float(last["Loss of lithium inventory [%]"].entries[-1])
        emit(
            {
                "cycle": cycle,
                "wall_s": wall,
                "discharge_capacity_Ah": discharged,
                "loss_of_lithium_inventory_percent": lost,
                "resident_MB": resident_mb(),
            }
        )


def run_child(python: str, code: str, cycles: int, hold: str, points: int, sei: str) -> dict:
    """One fresh process of ``code``: its per-cycle records, whole wall time, completion."""
    start = time.perf_counter()
    process = subprocess.run(
        [
            python,
            __file__,
            "--child",
            code,
            "--cycles",
            str(cycles),
            "--hold",
            hold,
            "--points",
            str(points),
            "--sei",
            sei,
        ],
        capture_output=True,
        text=True,
    )
    records = [
        json.loads(line[6:]) for line in process.stdout.splitlines() if line.startswith("CYCLE ")
    ]
    done = [r for r in records if "failed" not in r]
    return {
        "code": code,
        "wall_s": time.perf_counter() - start,
        "completed_cycles": len(done),
        "completed": len(done) == cycles,
        "failure": next((r["failed"] for r in records if "failed" in r), None)
        or (process.stderr[-500:] if process.returncode else None),
        "cycles": records,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=500)
    parser.add_argument("--pairs", type=int, default=1)
    parser.add_argument("--pybamm", default="/tmp/pybamm-venv/bin/python")
    parser.add_argument("--out", default=None)
    parser.add_argument("--hold", default="C/20", help="current that ends the hold")
    parser.add_argument("--points", type=int, default=20, help="cells per region and particle")
    parser.add_argument(
        "--pybamm-points",
        type=int,
        default=None,
        help="PyBaMM's volumes per region and particle, where not --points (a comparison at "
        "equal accuracy: each code on the mesh that gives it the same error)",
    )
    parser.add_argument("--sei", default="reaction limited", help="PyBaMM's SEI option")
    parser.add_argument("--child", choices=("electrolyx", "pybamm"))
    parser.add_argument("--only", choices=("electrolyx", "pybamm"), default=None)
    args = parser.parse_args()
    if args.child == "electrolyx":
        return run_electrolyx(args.cycles, args.hold, args.points, args.sei)
    if args.child == "pybamm":
        return run_pybamm(args.cycles, args.hold, args.points, args.sei)
    pybamm_points = args.points if args.pybamm_points is None else args.pybamm_points
    load = os.getloadavg()
    runs = []
    codes = [args.only] if args.only else ["electrolyx", "pybamm"]
    for _ in range(args.pairs):
        for code in codes:
            python = sys.executable if code == "electrolyx" else args.pybamm
            points = args.points if code == "electrolyx" else pybamm_points
            run = run_child(python, code, args.cycles, args.hold, points, args.sei)
            runs.append(run)
            per_cycle = [r["wall_s"] for r in run["cycles"] if "wall_s" in r]
            median = sorted(per_cycle)[len(per_cycle) // 2] if per_cycle else float("nan")
            print(
                f"{code}: {run['completed_cycles']}/{args.cycles} cycles, "
                f"median {median:.3g} s per cycle, whole process {run['wall_s']:.1f} s"
                + (f", failed: {run['failure']}" if run["failure"] else ""),
                flush=True,
            )
    result = {
        "cycles": args.cycles,
        "hold_until": args.hold,
        "points": args.points,
        "pybamm_points": pybamm_points,
        "sei": args.sei,
        "load_before": load,
        "load_after": os.getloadavg(),
        "runs": runs,
    }
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
