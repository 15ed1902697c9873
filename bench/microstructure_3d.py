"""Scale benchmark of the resolved 3D half cell (:mod:`electrolyx.models.microstructure`).

Usage (the 1 -> 2 rank efficiency needs one run of each)::

    python bench/microstructure_3d.py [--box 50 28 28] [--element-size 0.45] [--steps 3]
    mpiexec -n 2 python bench/microstructure_3d.py [same options]
    python bench/microstructure_3d.py --efficiency RESULT_1_RANK.json RESULT_2_RANKS.json

A random sphere packing (NMC811 particles of Chen2020, mean radius 3 um, solid fraction 0.5,
log-normal radii, sintered overlaps; 201 spheres in the default 50 x 28 x 28 um box) with a
6 um separator slab and a lithium counter electrode is meshed by gmsh on rank 0. The mesh is
cached in the output folder (keyed by box, element size and seed) as a ``.msh`` file and as an
entry of electrolyx's mesh cache (``OUT/mesh-cache``, XDMF): later runs read that entry, every
rank its own share, as a case with ``[microstructure] cache = true`` does, and skip the minutes
of boolean operations and meshing and gmsh's model on rank 0. The half cell is discharged at 1C from
the set's initial stoichiometry with implicit-Euler steps of ``--time-step`` seconds, until
``--cutoff`` (default: the set's lower cut-off voltage, 2.5 V) or after ``--steps`` steps,
with the linear solver ``--linear-solver`` ("iterative": GMRES with a field-split GAMG
preconditioner, see :data:`electrolyx.models.microstructure.ITERATIVE_SOLVER`). Each step is
one implicit-Euler step of the shared PETSc TS integrator: Newton on the unknowns and the
collector voltage together (one linear solve per Newton iteration); a step whose Newton
iteration fails is halved, up to 4 times.
``--no-coarse-space`` leaves out the particles' coarse correction before the field split
(:mod:`electrolyx.models.microstructure.coarse_space`). ``--max-minutes`` ends a run early,
before a time step. ``--petsc KEY=VALUE`` (repeatable) sets
a PETSc option over the linear solver's, e.g. ``--petsc ksp_gmres_restart=30``. ``--poisson``
also times one scalar Poisson solve (CG + GAMG) on the whole mesh, the yardstick of issue 18's
"a Newton iteration <= 3 Poisson solves".

It reports: unknowns (exact, four fields and the collector voltage), mesh generation and set-up
times, per time step the wall time, Newton and GMRES iterations, Jacobian assemblies and the
time in residual and Jacobian assembly (the rest of a step is mostly the linear solves, GAMG
set-up included), the lithium balance over the run, and memory: the
high-water mark of the resident set size (VmHWM) of every rank summed over ranks, for the whole
process and above the resident size just after the mesh was distributed (the solver's own
share), per unknown. With ``--efficiency`` it combines a 1-rank and a 2-rank result into
E = T1 / (2 T2) over the time steps both completed. Times are wall clock, the slowest rank.
Results go to ``OUT/result_<ranks>ranks<TAG>.json``, rewritten after every step.
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

import dolfinx
import numpy as np
from pnp_3d import poisson_solve_time  # (bench/ is the script's folder)

from electrolyx.constants import FARADAY
from electrolyx.mesh_cache import cached_mesh
from electrolyx.meshes.packing import packing_mesh, random_packing
from electrolyx.models.microstructure import (
    ITERATIVE_SOLVER,
    ResolvedHalfCell,
    particles_connected_to_collector,
    step_with_halving,
)
from electrolyx.parameters import chen2020
from electrolyx.solver import NewtonFailure

OUTPUT = Path(__file__).resolve().parents[1] / "results" / "bench-microstructure-3d"
MICRO = 1e-6


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

    def generate() -> dolfinx.io.gmsh.MeshData:
        # gmsh on rank 0 (from the .msh file of an earlier run when there is one)
        return packing_mesh(
            comm,
            packing,
            element_size=args.element_size * MICRO,
            separator_thickness=6e-6,
            segments_per_circle=12,
            ghost_mode="shared_facet",
            mesh_file=mesh_file,
        )

    comm.barrier()
    start = time.perf_counter()
    # As a case with [microstructure] cache = true reads it: once meshed, the mesh is read from
    # XDMF by every rank, each its own share (electrolyx.mesh_cache), gmsh not started.
    mesh_data, origin = cached_mesh(
        comm,
        {"box_um": list(args.box), "element_size_um": args.element_size, "seed": args.seed},
        generate,
        directory=args.out / "mesh-cache",
        ghost_mode=dolfinx.mesh.GhostMode.shared_facet,
    )
    cached = origin.startswith("read")
    mesh_seconds = wall(comm, start)
    poisson = poisson_solve(mesh_data.mesh) if args.poisson else None
    if poisson is not None and comm.rank == 0:
        print(
            f"# Poisson on the whole mesh: {poisson['vertices']:,} vertices, CG + GAMG to 1e-8 "
            f"in {poisson['iterations']} iterations, {poisson['seconds']:.3f} s (assembly, "
            "set-up and solve, median of 3)",
            flush=True,
        )
    rss_after_mesh = comm.allreduce(memory_kib("VmRSS"), op=MPI.SUM)
    peak_after_mesh = comm.allreduce(memory_kib("VmHWM"), op=MPI.SUM)
    peak_memory_reset()

    start = time.perf_counter()
    options = {**solver_options(args.linear_solver), **dict(args.petsc)}
    cell = ResolvedHalfCell(
        mesh_data,
        chen2020(),
        petsc_options=options,
        particles=None if args.no_coarse_space else packing,
    )
    setup_seconds = wall(comm, start)
    unknowns = sum(V.dofmap.index_map.size_global for V in cell.spaces)
    current = cell.one_c_current_A
    cutoff = args.cutoff if args.cutoff is not None else cell.parameters.lower_voltage_cutoff_V
    if comm.rank == 0:
        print(
            f"# {len(packing.radii)} particles, {unknowns:,} unknowns, mesh "
            f"{mesh_seconds:.1f} s ({'cached' if cached else 'generated'}), set-up "
            f"{setup_seconds:.1f} s; 1C = {current:.4e} A",
            flush=True,
        )
    deadline = time.perf_counter() + 60.0 * args.max_minutes
    rest = cell.state()
    setup = {  # what the summary needs from the set-up
        "packing": packing,
        "mesh_s": mesh_seconds,
        "mesh_cached": cached,
        "setup_s": setup_seconds,
        "rss_after_mesh_kib": rss_after_mesh,
        "peak_after_mesh_kib": peak_after_mesh,
        "initial_lithium_mol": rest.lithium_electrolyte_mol + rest.lithium_particles_mol,
        "initial_stoichiometry": rest.average_stoichiometry,
        "poisson": poisson,
    }
    steps: list[dict] = []
    termination = "steps"

    def report_failure(failure: NewtonFailure, halved_s: float) -> None:
        if comm.rank == 0:
            print(f"  {failure}\n  time step halved to {halved_s:g} s", flush=True)

    while len(steps) < args.steps:
        if comm.allreduce(time.perf_counter() > deadline, op=MPI.LOR):
            termination = "--max-minutes used up"
            break
        before = (
            cell.newton_iterations,
            cell.linear_iterations,
            dict(cell.timer.seconds),
            cell.integrator.counts["jacobian"],
        )
        comm.barrier()
        start = time.perf_counter()
        try:
            time_step, newton = step_with_halving(
                cell, args.time_step, current, 4, on_failure=report_failure
            )
        except NewtonFailure as failure:
            termination = f"failed: {failure}"
            break
        seconds = wall(comm, start)
        krylov = cell.linear_iterations - before[1]
        phases = {
            name: comm.allreduce(value - before[2].get(name, 0.0), op=MPI.MAX)
            for name, value in cell.timer.seconds.items()
        }
        state = cell.state()
        steps.append(
            {
                "time_s": cell.time_s,
                "time_step_s": time_step,
                "halvings": round(np.log2(args.time_step / time_step)),
                "voltage_V": cell.voltage_V,
                "average_stoichiometry": state.average_stoichiometry,
                "interface_current_A": state.interface_current_A,
                "lithium_mol": state.lithium_electrolyte_mol + state.lithium_particles_mol,
                "wall_s": seconds,
                "newton_iterations": newton,
                "newton_iterations_all": cell.newton_iterations - before[0],
                "linear_iterations": krylov,
                "jacobians": cell.integrator.counts["jacobian"] - before[3],
                "phase_s": phases,
            }
        )
        if comm.rank == 0:
            solves = max(steps[-1]["newton_iterations_all"], 1)
            print(
                f"step {len(steps)}: t = {cell.time_s:.0f} s, V = {steps[-1]['voltage_V']:.9f} V, "
                f"{seconds:.1f} s, {newton} Newton ({steps[-1]['jacobians']} Jacobians), "
                f"{krylov} GMRES "
                f"({krylov / solves:.1f} per linear solve); "
                + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()),
                flush=True,
            )
        if cell.voltage_V <= cutoff:
            termination = "cutoff"
            break
        # Written after every step: a stopped run keeps what it measured.
        partial = summary(args, comm, cell, setup, steps, termination)
        if comm.rank == 0:
            write(args, comm, partial)
    return summary(args, comm, cell, setup, steps, termination)


def poisson_solve(mesh) -> dict:
    """One scalar Poisson solve on the whole mesh (:func:`pnp_3d.poisson_solve_time`, the PNP
    benchmark's yardstick), u = 0 at both ends in x, to this solver's ksp_rtol; median of 3."""
    comm = mesh.comm
    tdim = mesh.topology.dim
    mesh.topology.create_connectivity(tdim - 1, tdim)
    x = mesh.geometry.x[:, 0]
    ends = comm.allreduce(x.min(), op=MPI.MIN), comm.allreduce(x.max(), op=MPI.MAX)
    facets = dolfinx.mesh.locate_entities_boundary(
        mesh, tdim - 1, lambda p: np.isclose(p[0], ends[0]) | np.isclose(p[0], ends[1])
    )
    solves = [poisson_solve_time(mesh, facets, ITERATIVE_SOLVER["ksp_rtol"]) for _ in range(3)]
    return {
        "vertices": mesh.topology.index_map(0).size_global,
        "iterations": int(np.median([iterations for _, iterations in solves])),
        "seconds": float(np.median([seconds for seconds, _ in solves])),
    }


def write(args: argparse.Namespace, comm: MPI.Comm, result: dict) -> Path:
    """Write a result as OUT/result_<ranks>ranks.json (rank 0)."""
    result["machine"] = machine()
    path = args.out / f"result_{comm.size}ranks{args.tag}.json"
    path.write_text(json.dumps(result, indent=1))
    return path


def summary(
    args: argparse.Namespace,
    comm: MPI.Comm,
    cell: ResolvedHalfCell,
    setup: dict,
    steps: list[dict],
    termination: str,
) -> dict:
    """The result dictionary of a run (collective: the memory high-water mark)."""
    peak = comm.allreduce(memory_kib("VmHWM"), op=MPI.SUM)
    unknowns = sum(V.dofmap.index_map.size_global for V in cell.spaces)
    current = cell.one_c_current_A
    packing = setup["packing"]
    rss_after_mesh = setup["rss_after_mesh_kib"]
    last = (
        steps[-1]
        if steps
        else {"interface_current_A": 0.0, "average_stoichiometry": setup["initial_stoichiometry"]}
    )

    def median(key: str, rows=steps) -> float:
        return float(np.median([s[key] for s in rows])) if rows else float("nan")

    later = steps[1:]  # the first step starts from rest and takes more Newton iterations
    newton = sum(s["newton_iterations_all"] for s in steps)
    krylov = sum(s["linear_iterations"] for s in steps)
    lithium = [setup["initial_lithium_mol"]] + [s["lithium_mol"] for s in steps]
    passed_mol = np.cumsum([0.0] + [s["time_step_s"] * current / FARADAY for s in steps])
    balance = np.abs(np.array(lithium) - lithium[0] - passed_mol) / lithium[0]
    mesh = cell.mesh
    return {
        "ranks": comm.size,
        "linear_solver": args.linear_solver,
        "petsc_options": solver_options(args.linear_solver),
        "coarse_space": not args.no_coarse_space,
        "box_um": list(args.box),
        "element_size_um": args.element_size,
        "seed": args.seed,
        "particles": len(packing.radii),
        "particles_connected_to_collector": int(particles_connected_to_collector(packing).sum()),
        "unknowns": unknowns,
        "unknowns_per_field": [V.dofmap.index_map.size_global for V in cell.spaces],
        "vertices": mesh.topology.index_map(0).size_global,
        "tetrahedra": mesh.topology.index_map(3).size_global,
        "poisson": setup["poisson"],
        "mesh_s": setup["mesh_s"],
        "mesh_cached": setup["mesh_cached"],
        "setup_s": setup["setup_s"],
        "time_step_s": args.time_step,
        "termination": termination,
        "steps": steps,
        "median_step_s": median("wall_s"),
        "median_step_s_after_first": median("wall_s", later),
        "median_newton_iterations": median("newton_iterations"),
        "median_linear_iterations": median("linear_iterations"),
        "linear_per_solve": krylov / newton if newton else float("nan"),
        "s_per_newton_iteration": sum(s["wall_s"] for s in steps) / newton
        if newton
        else float("nan"),
        "rss_after_mesh_MiB": rss_after_mesh / 1024,
        "peak_rss_mesh_MiB": setup["peak_after_mesh_kib"] / 1024,
        "peak_rss_solve_MiB": peak / 1024,
        "peak_bytes_per_unknown": 1024 * peak / unknowns,
        "solver_bytes_per_unknown": 1024 * (peak - rss_after_mesh) / unknowns,
        "interface_current_A": last["interface_current_A"],
        "applied_current_A": current,
        "average_stoichiometry": last["average_stoichiometry"],
        "discharge_capacity_Ah": cell.charge_passed_C / 3600.0,
        "capacity_Ah": cell.capacity_Ah,
        "lithium_balance_max_relative": float(balance.max()),
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
        "| ranks | particles | unknowns | mesh s | set-up s | steps | s per step (first; median "
        "of the others) | Newton per step (median) | GMRES per linear solve | s per Newton "
        "iteration | peak B/unknown | solver B/unknown |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        steps = r["steps"]
        first = f"{steps[0]['wall_s']:.0f}" if steps else "-"
        lines.append(
            f"| {r['ranks']} | {r['particles']} | {r['unknowns']:,} | {r['mesh_s']:.0f}"
            f"{' (cached)' if r['mesh_cached'] else ''} | {r['setup_s']:.1f} | {len(steps)} | "
            f"{first}; {r['median_step_s_after_first']:.0f} | "
            f"{r['median_newton_iterations']:.0f} | {r['linear_per_solve']:.0f} | "
            f"{r['s_per_newton_iteration']:.1f} | {r['peak_bytes_per_unknown']:.0f} | "
            f"{r['solver_bytes_per_unknown']:.0f} |"
        )
    return "\n".join(lines)


def efficiency(one_rank: dict, two_ranks: dict) -> dict:
    """Parallel efficiency E = T1 / (2 T2) over the time steps both runs completed."""
    if one_rank["unknowns"] != two_ranks["unknowns"] or one_rank["ranks"] != 1:
        raise ValueError("need a 1-rank and a 2-rank result of the same problem")
    ranks = two_ranks["ranks"]
    common = min(len(one_rank["steps"]), len(two_ranks["steps"]))
    pairs = list(zip(one_rank["steps"][:common], two_ranks["steps"][:common], strict=True))
    t1, t2 = (sum(s["wall_s"] for s in steps) for steps in zip(*pairs, strict=True))

    def per_solve(steps) -> float:
        return sum(s["linear_iterations"] for s in steps) / (
            sum(s["newton_iterations_all"] for s in steps)
        )

    return {
        "common_steps": common,
        "step_s": [t1, t2],
        "step_efficiency": t1 / (ranks * t2),
        "setup_efficiency": one_rank["setup_s"] / (ranks * two_ranks["setup_s"]),
        "gmres_per_solve": [per_solve(steps) for steps in zip(*pairs, strict=True)],
        "newton_iterations": [
            sum(s["newton_iterations_all"] for s in steps) for steps in zip(*pairs, strict=True)
        ],
        "voltage_difference_V": max(abs(a["voltage_V"] - b["voltage_V"]) for a, b in pairs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--box", type=float, nargs=3, default=[50.0, 28.0, 28.0], help="um")
    parser.add_argument("--element-size", type=float, default=0.45, help="largest, um")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--time-step", type=float, default=300.0, help="s")
    parser.add_argument("--steps", type=int, default=3, help="at most this many time steps")
    parser.add_argument(
        "--max-minutes", type=float, default=1e9, help="start no time step after this long"
    )
    parser.add_argument(
        "--cutoff", type=float, default=None, help="V, default: the set's lower cut-off (2.5 V)"
    )
    parser.add_argument("--tag", default="", help="appended to the result file's name")
    parser.add_argument("--linear-solver", default="iterative", choices=("iterative", "mumps"))
    parser.add_argument("--out", type=Path, default=OUTPUT, help="mesh cache and results")
    parser.add_argument(
        "--poisson",
        action="store_true",
        help="also time one scalar Poisson solve (CG + GAMG) on the whole mesh",
    )
    parser.add_argument(
        "--petsc",
        type=lambda text: tuple(text.split("=", 1)),
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a PETSc option over the linear solver's (repeatable), e.g. ksp_gmres_restart=30",
    )
    parser.add_argument(
        "--no-coarse-space",
        action="store_true",
        help="the field split alone, without the particles' coarse correction before it",
    )
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
                f"\n1 -> {results[1]['ranks']} ranks over the first {e['common_steps']} time "
                f"steps ({e['step_s'][0]:.0f} s -> {e['step_s'][1]:.0f} s): efficiency "
                f"{e['step_efficiency']:.2f}; set-up {e['setup_efficiency']:.2f}; Newton "
                f"iterations {e['newton_iterations'][0]} -> {e['newton_iterations'][1]}; GMRES "
                f"per solve {e['gmres_per_solve'][0]:.1f} -> {e['gmres_per_solve'][1]:.1f}; "
                f"voltages within {e['voltage_difference_V']:.1e} V"
            )
        return
    if comm.rank == 0:
        args.out.mkdir(parents=True, exist_ok=True)
        print(f"# {comm.size} MPI rank(s) on {machine()}", flush=True)
    result = run(args)
    if comm.rank == 0:
        path = write(args, comm, result)
        print(table([result]))
        print(f"# {result['termination']}; written {path}")


if __name__ == "__main__":
    main()
