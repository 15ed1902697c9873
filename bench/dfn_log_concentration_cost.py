"""Cost of the log-concentration electrolyte unknown on the default DFN case.

Usage: python bench/dfn_log_concentration_cost.py [PAIRS]

PAIRS (default 5) rounds of fresh processes ``electrolyx run cases/dfn-chen2020-1C`` (Chen2020,
1C discharge, the shipped mesh), alternating ``time_stepping.electrolyte_unknown`` =
"concentration" / "log-concentration" (the order swapped every round), after one warm-up run of
each (form compilation). Prints each run's process wall time, its CPU time (user + system of
the child process) and run.json's solve phase, the medians, the ratios of the medians and the
load average before and after.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
UNKNOWNS = ("concentration", "log-concentration")


def run(unknown: str, folder: Path) -> tuple[float, float, float, int]:
    """(process wall s, process CPU s, solve phase s, Newton iterations) of one fresh run."""
    out = folder / f"run-{unknown}-{time.monotonic_ns()}"
    command = [sys.executable, "-m", "electrolyx", "run", str(ROOT / "cases" / "dfn-chen2020-1C")]
    command += ["--quiet", "--out", str(out)]
    command += ["--set", f"time_stepping.electrolyte_unknown={unknown}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    info = json.loads((out / "run.json").read_text())
    return wall, cpu, info["timings_s"]["solve"], info["solver"].get("newton_iterations", -1)


def main(pairs: int) -> None:
    print("load average before:", os.getloadavg())
    times: dict[str, list[tuple[float, float, float]]] = {u: [] for u in UNKNOWNS}
    with tempfile.TemporaryDirectory() as tmp:
        for unknown in UNKNOWNS:
            run(unknown, Path(tmp))  # warm-up: form compilation
        for round_ in range(pairs):
            order = UNKNOWNS if round_ % 2 == 0 else UNKNOWNS[::-1]
            for unknown in order:
                wall, cpu, solve, newton = run(unknown, Path(tmp))
                times[unknown].append((wall, cpu, solve))
                print(
                    f"{round_} {unknown:18s} wall {wall:6.2f} s cpu {cpu:6.2f} s "
                    f"solve {solve:6.2f} s Newton {newton} load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
    medians = {u: np.median(np.array(v), axis=0) for u, v in times.items()}
    for unknown, (wall, cpu, solve) in medians.items():
        print(f"median {unknown:18s} wall {wall:6.2f} s cpu {cpu:6.2f} s solve {solve:6.2f} s")
    base, log = medians["concentration"], medians["log-concentration"]
    print(
        f"ratio log/concentration: wall {log[0] / base[0]:.3f}, cpu {log[1] / base[1]:.3f}, "
        f"solve {log[2] / base[2]:.3f}"
    )
    print("load average after:", os.getloadavg())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
