"""Scale benchmark of the resolved 3D half cell (:mod:`electrolyx.models.microstructure`).

Usage (the 1 -> 2 rank efficiency needs one run of each)::

    python bench/microstructure_3d.py [--box 50 28 28] [--element-size 0.45] [--steps 3]
    mpiexec -n 2 python bench/microstructure_3d.py [same options]
    python bench/microstructure_3d.py --efficiency RESULT_1_RANK.json RESULT_2_RANKS.json

A random sphere packing (NMC811 particles of Chen2020, mean radius 3 um, solid fraction 0.5,
log-normal radii, sintered overlaps; 201 spheres in the default 50 x 28 x 28 um box) with a
6 um separator slab and a lithium counter electrode is meshed by gmsh on rank 0. The mesh is
cached as a ``.msh`` file in the output folder (keyed by box, element size and seed), so repeated
runs skip the minutes of boolean operations and meshing. The half cell is discharged at 1C from
the set's initial stoichiometry with implicit-Euler steps of ``--time-step`` seconds, until the
set's lower cut-off voltage (2.5 V) or after ``--steps`` steps, with the linear solver
``--linear-solver`` ("iterative": GMRES with a field-split GAMG preconditioner, see
:data:`electrolyx.models.microstructure.ITERATIVE_SOLVER`). ``--max-solves`` and
``--max-minutes`` end a run early, before a Newton solve (each secant iteration on the collector
voltage is one); every Newton solve is timed, so runs on 1 and 2 ranks that stop inside a time
step still compare the same sequence of solves.

It reports: unknowns (exact, four fields), mesh generation and set-up times, per time step the
wall time, the secant iterations on the collector voltage (each a Newton solve), the Newton
iterations and the Krylov iterations (medians over steps), and memory: the high-water mark of the
resident set size (VmHWM) of every rank summed over ranks, for the whole process and above the
resident size just after the mesh was distributed (the solver's own share), per unknown. With
``--efficiency`` it combines a 1-rank and a 2-rank result into E = T1 / (2 T2) per time step.
Times are wall clock, the slowest rank. Results go to ``OUT/result_<ranks>ranks.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

# isort: off
import electrolyx  # noqa: F401  (loads the MPI/PETSc libraries before petsc4py, dolfinx)

# isort: on

from mpi4py import MPI
from petsc4py import PETSc

import numpy as np

from electrolyx.meshes.packing import packing_mesh, random_packing
from electrolyx.models.microstructure import (
    ITERATIVE_SOLVER,
    ResolvedHalfCell,
    particles_connected_to_collector,
)
from electrolyx.parameters import chen2020
from electrolyx.solver import NewtonFailure

OUTPUT = Path(__file__).resolve().parents[1] / "results" / "bench-microstructure-3d"
MICRO = 1e-6


class BudgetExhausted(Exception):
    """The run's budget of Newton solves or minutes is used up."""


def peak_memory_reset() -> None:
    """Reset this process's resident-memory high-water mark (Linux >= 4.0)."""
    with open(f"/proc/{os.getpid()}/clear_refs", "w") as f:
        f.write("5")


def memory_kib(field: str) -> int:
    """A /proc/self/status memory line (VmRSS, VmHWM) in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def wall(comm: MPI.Comm, start: float) -> float:
    """Elapsed seconds since ``start``, the maximum over ranks."""
    return comm.allreduce(time.perf_counter() - start, op=MPI.MAX)


def solver_options(name: str) -> dict:
    """PETSc options of a linear-solver choice: "iterative" or "mumps" (the model's default)."""
    if name == "iterative":
        return dict(ITERATIVE_SOLVER)
    if name == "mumps":
        return {}
    raise ValueError(f"unknown linear solver {name!r}")


def run(args: argparse.Namespace) -> dict:
    """Mesh (or read the cached mesh), build the half cell and discharge it; return the results."""
    comm = MPI.COMM_WORLD
    box = tuple(length * MICRO for length in args.box)
    packing = None
    if comm.rank == 0:
        packing = random_packing(
            box,
            solid_fraction=0.5,
            mean_radius=3e-6,
            radius_std=0.5e-6,
            max_overlap=0.3,
            seed=args.seed,
        )
    packing = comm.bcast(packing, root=0)
    size = "x".join(f"{length:g}" for length in args.box)
    mesh_file = args.out / f"packing_{size}um_h{args.element_size:g}um_seed{args.seed}.msh"
    cached = mesh_file.exists()
    comm.barrier()
    start = time.perf_counter()
    mesh_data = packing_mesh(
        comm,
        packing,
        element_size=args.element_size * MICRO,
        separator_thickness=6e-6,
        segments_per_circle=12,
        ghost_mode="shared_facet",
        mesh_file=mesh_file,
    )
    mesh_seconds = wall(comm, start)
    rss_after_mesh = comm.allreduce(memory_kib("VmRSS"), op=MPI.SUM)
    peak_after_mesh = comm.allreduce(memory_kib("VmHWM"), op=MPI.SUM)
    peak_memory_reset()

    start = time.perf_counter()
    cell = ResolvedHalfCell(mesh_data, chen2020(), petsc_options=solver_options(args.linear_solver))
    setup_seconds = wall(comm, start)
    unknowns = sum(V.dofmap.index_map.size_global for V in cell.spaces)
    current = cell.one_c_current_A
    cutoff = cell.parameters.lower_voltage_cutoff_V
    if comm.rank == 0:
        print(
            f"# {len(packing.radii)} particles, {unknowns:,} unknowns, mesh "
            f"{mesh_seconds:.1f} s ({'cached' if cached else 'generated'}), set-up "
            f"{setup_seconds:.1f} s; 1C = {current:.4e} A",
            flush=True,
        )
    solves: list[dict] = []
    newton_solve = cell._solve_at
    deadline = time.perf_counter() + 60.0 * args.max_minutes

    def timed_solve(voltage_V: float) -> float:
        """One Newton solve at a collector voltage, recorded (the same sequence on any ranks)."""
        if len(solves) >= args.max_solves or comm.allreduce(
            time.perf_counter() > deadline, op=MPI.LOR
        ):
            raise BudgetExhausted
        before = (cell.newton_iterations, cell.linear_iterations)
        comm.barrier()
        start = time.perf_counter()
        try:
            return newton_solve(voltage_V)
        finally:
            solves.append(
                {
                    "voltage_V": voltage_V,
                    "wall_s": wall(comm, start),
                    "newton_iterations": cell.newton_iterations - before[0],
                    "linear_iterations": cell.linear_iterations - before[1],
                }
            )
            if comm.rank == 0:
                s = solves[-1]
                print(
                    f"  solve {len(solves)}: V = {voltage_V:.9f} V, {s['wall_s']:.1f} s, "
                    f"{s['newton_iterations']} Newton, {s['linear_iterations']} Krylov",
                    flush=True,
                )

    cell._solve_at = timed_solve
    steps = []
    termination = "steps"
    while len(steps) < args.steps:
        before = (cell.newton_iterations, cell.linear_iterations)
        comm.barrier()
        start = time.perf_counter()
        try:
            secant = cell.step(args.time_step, current, relative_tolerance=args.secant_tolerance)
        except NewtonFailure as failure:
            termination = f"failed: {failure}"
            break
        except BudgetExhausted:
            termination = "budget (--max-solves or --max-minutes) used up within a step"
            break
        seconds = wall(comm, start)
        newton = cell.newton_iterations - before[0]
        krylov = cell.linear_iterations - before[1]
        steps.append(
            {
                "time_s": cell.time_s,
                "voltage_V": cell.voltage_V,
                "wall_s": seconds,
                "secant_iterations": secant,
                "newton_iterations": newton,
                "linear_iterations": krylov,
            }
        )
        if comm.rank == 0:
            print(
                f"step {len(steps)}: t = {cell.time_s:.0f} s, V = {cell.voltage_V:.9f} V, "
                f"{seconds:.1f} s, {secant} secant, {newton} Newton, {krylov} Krylov "
                f"({krylov / max(newton, 1):.1f} per Newton)",
                flush=True,
            )
        if cell.voltage_V <= cutoff:
            termination = "cutoff"
            break
    peak = comm.allreduce(memory_kib("VmHWM"), op=MPI.SUM)
    state = cell.state()

    def median(key: str) -> float:
        return float(np.median([s[key] for s in steps])) if steps else float("nan")

    # Over every Newton solve, also those of an unfinished time step.
    newton = sum(s["newton_iterations"] for s in solves)
    krylov = sum(s["linear_iterations"] for s in solves)
    solve_seconds = sum(s["wall_s"] for s in solves)
    mesh = cell.mesh
    return {
        "ranks": comm.size,
        "linear_solver": args.linear_solver,
        "petsc_options": solver_options(args.linear_solver),
        "box_um": list(args.box),
        "element_size_um": args.element_size,
        "seed": args.seed,
        "particles": len(packing.radii),
        "particles_connected_to_collector": int(particles_connected_to_collector(packing).sum()),
        "unknowns": unknowns,
        "unknowns_per_field": [V.dofmap.index_map.size_global for V in cell.spaces],
        "vertices": mesh.topology.index_map(0).size_global,
        "tetrahedra": mesh.topology.index_map(3).size_global,
        "mesh_s": mesh_seconds,
        "mesh_cached": cached,
        "setup_s": setup_seconds,
        "time_step_s": args.time_step,
        "secant_tolerance": args.secant_tolerance,
        "termination": termination,
        "steps": steps,
        "newton_solves": solves,
        "median_step_s": median("wall_s"),
        "median_secant_iterations": median("secant_iterations"),
        "median_newton_iterations": median("newton_iterations"),
        "median_linear_iterations": median("linear_iterations"),
        "linear_per_newton": krylov / newton if newton else float("nan"),
        "s_per_newton_iteration": solve_seconds / newton if newton else float("nan"),
        "rss_after_mesh_MiB": rss_after_mesh / 1024,
        "peak_rss_mesh_MiB": peak_after_mesh / 1024,
        "peak_rss_solve_MiB": peak / 1024,
        "peak_bytes_per_unknown": 1024 * peak / unknowns,
        "solver_bytes_per_unknown": 1024 * (peak - rss_after_mesh) / unknowns,
        "interface_current_A": state.interface_current_A,
        "applied_current_A": current,
        "average_stoichiometry": state.average_stoichiometry,
    }


def machine() -> str:
    """CPU model, core count and PETSc version."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    version = ".".join(map(str, PETSc.Sys.getVersion()))
    return f"{os.cpu_count()} CPUs ({cpu}), PETSc {version}, load average {os.getloadavg()[0]:.1f}"


def table(results: list[dict]) -> str:
    """Markdown table, one row per result."""
    lines = [
        "| ranks | particles | unknowns | mesh s | set-up s | s per step | secant / Newton / "
        "Krylov per step | Krylov per Newton | s per Newton | peak B/unknown | solver B/unknown |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        solves = r["newton_solves"]
        newton = sum(s["newton_iterations"] for s in solves)
        krylov = sum(s["linear_iterations"] for s in solves)
        seconds = sum(s["wall_s"] for s in solves)
        lines.append(
            f"| {r['ranks']} | {r['particles']} | {r['unknowns']:,} | {r['mesh_s']:.0f}"
            f"{' (cached)' if r['mesh_cached'] else ''} | {r['setup_s']:.1f} | "
            f"{r['median_step_s']:.1f} | {r['median_secant_iterations']:.0f} / "
            f"{r['median_newton_iterations']:.0f} / {r['median_linear_iterations']:.0f} | "
            f"{krylov / newton:.0f} | {seconds / newton:.1f} | "
            f"{r['peak_bytes_per_unknown']:.0f} | "
            f"{r['solver_bytes_per_unknown']:.0f} |"
        )
    return "\n".join(lines)


def efficiency(one_rank: dict, two_ranks: dict) -> dict:
    """Parallel efficiency E = T1 / (2 T2) of the median time step (and of the set-up)."""
    if one_rank["unknowns"] != two_ranks["unknowns"] or one_rank["ranks"] != 1:
        raise ValueError("need a 1-rank and a 2-rank result of the same problem")
    ranks = two_ranks["ranks"]
    common = min(len(one_rank["newton_solves"]), len(two_ranks["newton_solves"]))
    t1, t2 = (sum(s["wall_s"] for s in r["newton_solves"][:common]) for r in (one_rank, two_ranks))
    return {
        "common_newton_solves": common,
        "newton_solve_s": [t1, t2],
        "newton_solve_efficiency": t1 / (ranks * t2),
        "step_efficiency": one_rank["median_step_s"] / (ranks * two_ranks["median_step_s"]),
        "setup_efficiency": one_rank["setup_s"] / (ranks * two_ranks["setup_s"]),
        "krylov_per_newton": [
            sum(s["linear_iterations"] for s in r["newton_solves"][:common])
            / sum(s["newton_iterations"] for s in r["newton_solves"][:common])
            for r in (one_rank, two_ranks)
        ],
        "voltage_difference_V": max(
            [
                abs(a["voltage_V"] - b["voltage_V"])
                for a, b in zip(one_rank["steps"], two_ranks["steps"], strict=False)
            ],
            default=float("nan"),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--box", type=float, nargs=3, default=[50.0, 28.0, 28.0], help="um")
    parser.add_argument("--element-size", type=float, default=0.45, help="largest, um")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--time-step", type=float, default=300.0, help="s")
    parser.add_argument("--steps", type=int, default=3, help="at most this many time steps")
    parser.add_argument("--secant-tolerance", type=float, default=1e-13)
    parser.add_argument(
        "--max-solves", type=int, default=10**9, help="stop before this many Newton solves"
    )
    parser.add_argument(
        "--max-minutes", type=float, default=1e9, help="stop before a solve after this long"
    )
    parser.add_argument("--linear-solver", default="iterative", choices=("iterative", "mumps"))
    parser.add_argument("--out", type=Path, default=OUTPUT, help="mesh cache and results")
    parser.add_argument(
        "--efficiency", type=Path, nargs=2, metavar=("ONE_RANK", "TWO_RANKS"), default=None
    )
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    if args.efficiency is not None:
        if comm.rank == 0:
            results = [json.loads(path.read_text()) for path in args.efficiency]
            print(table(results))
            e = efficiency(*results)
            print(
                f"\n1 -> {results[1]['ranks']} ranks: efficiency {e['step_efficiency']:.2f} per "
                f"time step (nan: no complete step), {e['newton_solve_efficiency']:.2f} over "
                f"the first "
                f"{e['common_newton_solves']} Newton solves ({e['newton_solve_s'][0]:.0f} s -> "
                f"{e['newton_solve_s'][1]:.0f} s), "
                f"{e['setup_efficiency']:.2f} for the set-up; Krylov per Newton "
                f"{e['krylov_per_newton'][0]:.1f} -> {e['krylov_per_newton'][1]:.1f}; voltages "
                f"within {e['voltage_difference_V']:.1e} V"
            )
        return
    if comm.rank == 0:
        args.out.mkdir(parents=True, exist_ok=True)
        print(f"# {comm.size} MPI rank(s) on {machine()}", flush=True)
    result = run(args)
    if comm.rank == 0:
        result["machine"] = machine()
        print(table([result]))
        path = args.out / f"result_{comm.size}ranks.json"
        path.write_text(json.dumps(result, indent=1))
        print(f"# written {path}")


if __name__ == "__main__":
    main()
