"""`make bench-quick`: the speed regression guard of issue 18 (under two minutes).

Two ratios, each against a figure committed in bench/README.md (section "Regression guard"),
failing (exit 1) when either is more than 20 % worse:

1. **1D DFN, whole process against PyBaMM**: `electrolyx run cases/dfn-chen2020-1C --quiet`
   against PyBaMM 26.10's DFN on Chen2020 (IDAKLU, default mesh), 5 alternating pairs of fresh
   processes after one warm-up each, the median of the per-pair wall-time ratios
   (bench/dfn_speed.py, which also gives the full table).
2. **3D PNP, one Newton iteration against one Poisson solve**: the nanopore case
   (cases/nanopore-3d) at `mesh.size_factor = 3` (46,395 unknowns) on 2 MPI ranks, seconds per
   Newton iteration over one CG + GAMG scalar Poisson solve on the same mesh
   (bench/pnp_3d.py: medians of 5 PNP solves and 9 Poisson solves), the median over 3 fresh
   processes: one process's ratio ranged 1.44-2.56 for the same code on a quiet 2-core VM
   (bench/README.md, "Regression guard"). The issue's 1 M-unknown figure is in its own section.

Both are ratios measured within one run, so that a slower or busier machine moves both sides;
the 1-minute load average is printed beside them all the same (a ratio measured while other
work competes for the cores is noisier: rerun on a quiet machine before believing a failure).

    .venv/bin/python bench/quick.py --pybamm .bench-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import dfn_speed  # noqa: E402

#: A measured ratio fails when it exceeds the committed one by more than this factor.
TOLERANCE = 1.2

#: The committed figures: rows "| `NAME` | VALUE | ..." of bench/README.md.
FIGURE = re.compile(r"^\| `(dfn_whole_process_ratio|pnp_newton_over_poisson)` \| ([0-9.]+) \|")


def committed_figures(readme: Path = BENCH / "README.md") -> dict[str, float]:
    """The reference ratios committed in bench/README.md's "Regression guard" table."""
    figures = {}
    for line in readme.read_text().splitlines():
        match = FIGURE.match(line)
        if match:
            figures[match.group(1)] = float(match.group(2))
    missing = {"dfn_whole_process_ratio", "pnp_newton_over_poisson"} - set(figures)
    if missing:
        raise SystemExit(f"bench/README.md has no committed figure for {sorted(missing)}")
    return figures


#: Fresh processes of the PNP measurement; the guard takes the median of their ratios.
PNP_PROCESSES = 3


def pnp_ratio(size_factor: float) -> dict:
    """Seconds per Newton iteration over one Poisson solve, 2 ranks (bench/pnp_3d.py)."""
    mpiexec = Path(sys.executable).parent / "mpiexec"
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "pnp.json"
        subprocess.run(
            [
                str(mpiexec),
                "-n",
                "2",
                sys.executable,
                str(BENCH / "pnp_3d.py"),
                "--size-factors",
                str(size_factor),
                "--repeats",
                "5",
                "--poisson-repeats",
                "9",
                "--json",
                str(result),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=BENCH.parent,
        )
        (row,) = json.loads(result.read_text())
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pybamm", required=True, help="a Python with pybamm 26.10 installed")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--size-factor", type=float, default=3.0)
    args = parser.parse_args()
    committed = committed_figures()
    load_before = os.getloadavg()[0]
    dfn = dfn_speed.measure(args.pybamm, args.pairs, "dfn-chen2020-1C", first_run=False)
    runs = sorted(
        (pnp_ratio(args.size_factor) for _ in range(PNP_PROCESSES)),
        key=lambda row: row["newton_iteration_over_poisson"],
    )
    pnp = runs[len(runs) // 2]
    load_after = os.getloadavg()[0]
    measured = {
        "dfn_whole_process_ratio": dfn["median_wall_ratio"],
        "pnp_newton_over_poisson": round(pnp["newton_iteration_over_poisson"], 3),
    }
    print(f"load average (1 min) {load_before:.2f} before, {load_after:.2f} after")
    print(
        f"DFN: electrolyx {dfn['codes']['electrolyx']['wall_s']['median']:.2f} s, PyBaMM "
        f"{dfn['codes']['pybamm']['wall_s']['median']:.2f} s (medians of {args.pairs} pairs); "
        f"PNP: {pnp['unknowns']:,} unknowns, {pnp['s_per_newton_iteration']:.2f} s per Newton "
        f"iteration, Poisson {pnp['poisson_s']:.2f} s (the median of {PNP_PROCESSES} processes: "
        + ", ".join(f"{row['newton_iteration_over_poisson']:.3f}" for row in runs)
        + ")"
    )
    failed = []
    for name, value in measured.items():
        limit = TOLERANCE * committed[name]
        verdict = "ok" if value <= limit else "WORSE"
        print(f"{name}: {value:.3f} (committed {committed[name]:.3f}, limit {limit:.3f}) {verdict}")
        if value > limit:
            failed.append(name)
    if failed:
        print(f"bench-quick: {', '.join(failed)} more than 20 % worse than committed")
        return 1
    print("bench-quick: both ratios within 20 % of the committed figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
