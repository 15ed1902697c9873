"""Start-up time of the commands that do not solve: --help, cases, docs, and check per case.

Each command runs REPEAT times in a fresh process (the disk cache warm after a first, untimed
run); the median wall time and the median CPU time (user + system: less sensitive to other
processes on a loaded machine) are reported with the load average before and after, as
Markdown rows for bench/README.md.

    .venv/bin/python bench/startup.py            # every shipped case for check
    .venv/bin/python bench/startup.py --repeat 9 dfn-chen2020-1C edl-gouy-chapman
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ELECTROLYX = Path(sys.executable).parent / "electrolyx"


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall time, CPU time user + system) of one fresh ``electrolyx ARGV`` process [s]."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [str(ELECTROLYX), *argv],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help="cases for check (default: all shipped)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from electrolyx.shipped_cases import shipped_case_names

    commands = [["--help"], ["cases"], ["docs"]]
    commands += [["check", name] for name in args.cases or shipped_case_names()]
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{os.cpu_count()} CPUs; median of {args.repeat} fresh processes\n")
    print("| command | median wall s | min wall s | median CPU s (user + system) |")
    print("|---|---|---|---|")
    for argv in commands:
        timed(argv)  # warm the disk cache
        times = [timed(argv) for _ in range(args.repeat)]
        walls = [wall for wall, _ in times]
        cpus = [cpu for _, cpu in times]
        print(
            f"| `electrolyx {' '.join(argv)}` | {statistics.median(walls):.2f} | "
            f"{min(walls):.2f} | {statistics.median(cpus):.2f} |",
            flush=True,
        )
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
