"""Cost of a steady 3D PNP solve (cases/nanopore-3d) against one scalar Poisson solve.

Usage (serial or under mpiexec)::

    python bench/pnp_3d.py [--size-factors 1.6 1.25 0.9] [--repeats 1] [--poisson-repeats 3]
        [--set KEY=VALUE ...]

For each mesh size (``mesh.size_factor`` of the case; smaller is finer) it builds the mesh,
solves the steady PNP problem from the bulk state with the case's iterative solver, and on the
same mesh times one scalar Poisson solve -div(grad phi) = 1 (phi = 0 on the reservoir ends) by
CG + GAMG to the same relative tolerance as the PNP Krylov solver: assembly of matrix and
right-hand side, preconditioner set-up and solve, the parts a Newton iteration repeats. It
prints unknowns, Newton and Krylov iterations, time per Newton iteration, the Poisson time, their
ratio, and the peak resident memory of the solve phase (the VmHWM high-water mark of every rank,
reset after the mesh is built, summed over ranks; the phase ends after the outputs, computed as
`electrolyx run` does, with the Newton solver released) per PNP unknown, and the whole
process's peak (the larger of that and the high-water mark up to the mesh). Times are medians
over the repeats (wall clock, the slowest rank).

The mesh comes from electrolyx's mesh cache when an earlier run of the same size made it (read
from XDMF by every rank: no rank holds gmsh's model), else gmsh makes it on rank 0 and it is
cached; ``--no-mesh-cache`` always meshes. ``--set`` overrides a setting of the case, as
``electrolyx run --set`` does (e.g. ``solver.petsc.transport_pc_gamg_threshold=0.05``).
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

import dolfinx.fem.petsc
import numpy as np
import ufl
from dolfinx import fem

from electrolyx.case import load_case
from electrolyx.models.pnp import PoissonNernstPlanck

CASE = Path(__file__).resolve().parents[1] / "cases" / "nanopore-3d"


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


def poisson_solve_time(
    mesh: dolfinx.mesh.Mesh, facets: np.ndarray, rtol: float, length: float = 1.0
) -> tuple[float, int]:
    """Seconds and CG iterations of one scalar Poisson solve by CG + GAMG on ``mesh``.

    -div grad u = 1 (lengths in units of ``length``), u = 0 on ``facets``, P1; the time of the
    assembly, a fresh solver's set-up and the solve to ``rtol``, the slowest rank's. The
    yardstick of a Newton iteration here and in bench/microstructure_3d.py.
    """
    comm = mesh.comm
    space = fem.functionspace(mesh, ("Lagrange", 1))
    trial, test = ufl.TrialFunction(space), ufl.TestFunction(space)
    dofs = fem.locate_dofs_topological(space, mesh.topology.dim - 1, facets)
    bc = fem.dirichletbc(0.0, dofs, space)
    dx = ufl.dx(domain=mesh)
    a = fem.form(length ** (2 - 3) * ufl.inner(ufl.grad(trial), ufl.grad(test)) * dx)
    rhs = fem.form(length**-3 * test * dx)
    solution = fem.Function(space)
    comm.barrier()
    start = time.perf_counter()
    matrix = dolfinx.fem.petsc.assemble_matrix(a, bcs=[bc])
    matrix.assemble()
    vector = dolfinx.fem.petsc.assemble_vector(rhs)
    dolfinx.fem.petsc.apply_lifting(vector, [a], [[bc]])
    vector.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    dolfinx.fem.petsc.set_bc(vector, [bc])
    ksp = PETSc.KSP().create(comm)
    ksp.setOperators(matrix)
    ksp.setType("cg")
    ksp.getPC().setType("gamg")
    ksp.setTolerances(rtol=rtol)
    ksp.solve(vector, solution.x.petsc_vec)
    seconds = wall(comm, start)
    assert ksp.getConvergedReason() > 0, ksp.getConvergedReason()
    iterations = ksp.getIterationNumber()
    for obj in (ksp, matrix, vector):
        obj.destroy()
    return seconds, iterations


def run_size(
    size_factor: float,
    repeats: int,
    poisson_repeats: int,
    cache: bool = True,
    settings: tuple[str, ...] = (),
) -> dict:
    """Mesh, PNP solves and Poisson solves at one ``mesh.size_factor``.

    With ``cache`` the mesh comes from electrolyx's mesh cache when an earlier run made it
    (read from XDMF and partitioned by every rank), else it is generated and cached.
    """
    comm = MPI.COMM_WORLD
    overrides = [f"mesh.size_factor={size_factor!r}", "output.fields=false", "output.profiles=[]"]
    overrides.append(f"mesh.cache={str(cache).lower()}")
    overrides.extend(settings)
    case = load_case(CASE, overrides)
    start = time.perf_counter()
    model = PoissonNernstPlanck(case.settings, case.directory, comm)
    messages = []
    model.log = messages.append
    model.build_mesh()
    mesh_seconds = wall(comm, start)
    mesh_source = next((m for m in messages if m.startswith("mesh ")), "mesh generated")
    mesh_peak = comm.allreduce(memory_kib("VmHWM"), op=MPI.SUM)
    baseline = comm.allreduce(memory_kib("VmRSS"), op=MPI.SUM)
    peak_memory_reset()
    start = time.perf_counter()
    model.prepare()
    prepare_seconds = wall(comm, start)
    solves = []
    for _ in range(repeats):
        before = model.solver.statistics.as_dict()
        comm.barrier()
        start = time.perf_counter()
        model.solve()
        seconds = wall(comm, start)
        after = model.solver.statistics.as_dict()
        newton = after["newton_iterations"] - before["newton_iterations"]
        krylov = after["linear_iterations"] - before["linear_iterations"]
        solves.append((seconds, newton, krylov))
    # As `electrolyx run` does after a steady solve: the solver released, then the outputs
    # (their peak is part of the solve phase's). Code before 2026-12-07 has no release: its run
    # computed the outputs with the solver held, as here.
    if hasattr(model, "release_solver"):
        model.release_solver()
    row = model.update_outputs()
    pnp_peak = comm.allreduce(memory_kib("VmHWM"), op=MPI.SUM)
    rtol = float(case.settings["solver"]["petsc"].get("ksp_rtol", 1e-6))
    ends = [model._facets(n) for n in ("reservoir_top_end", "reservoir_bottom_end")]
    length = model.scales.debye_length  # lengths in Debye units, as in the PNP forms
    poisson = [
        poisson_solve_time(model.mesh, np.concatenate(ends), rtol, length)
        for _ in range(poisson_repeats)
    ]
    unknowns = model.unknowns()
    seconds, newton, krylov = (float(np.median([s[i] for s in solves])) for i in range(3))
    per_newton = seconds / newton
    poisson_seconds = float(np.median([p[0] for p in poisson]))
    return {
        "size_factor": size_factor,
        "unknowns": unknowns,
        "vertices": model.mesh.topology.index_map(0).size_global,
        "cells": model.mesh.topology.index_map(3).size_global,
        "mesh_s": mesh_seconds,
        "prepare_s": prepare_seconds,
        "pnp_solve_s": seconds,
        "newton_iterations": newton,
        "krylov_iterations": krylov,
        "krylov_per_newton": krylov / newton,
        "s_per_newton_iteration": per_newton,
        "poisson_s": poisson_seconds,
        "poisson_cg_iterations": int(np.median([p[1] for p in poisson])),
        "newton_iteration_over_poisson": per_newton / poisson_seconds,
        "mesh_source": mesh_source,
        "mesh_peak_rss_MiB": mesh_peak / 1024,
        "whole_process_peak_bytes_per_unknown": 1024 * max(mesh_peak, pnp_peak) / unknowns,
        "rss_after_mesh_MiB": baseline / 1024,
        "peak_rss_solve_MiB": pnp_peak / 1024,
        "peak_bytes_per_unknown": 1024 * pnp_peak / unknowns,
        "solve_bytes_per_unknown_above_mesh": 1024 * (pnp_peak - baseline) / unknowns,
        "current_A": row["ionic_current_reservoir_bottom_end_A"],
        "conductance_S": row["conductance_S"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-factors", type=float, nargs="+", default=[1.6, 1.25, 0.9])
    parser.add_argument("--repeats", type=int, default=1, help="PNP solves per size")
    parser.add_argument("--poisson-repeats", type=int, default=3, help="Poisson solves per size")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument(
        "--no-mesh-cache", action="store_true", help="mesh with gmsh even when the cache has it"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting of the case, as `electrolyx run --set` (repeatable)",
    )
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    rows = []
    if comm.rank == 0:
        cpu = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo") as f:
                cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
        except (OSError, StopIteration):
            pass
        print(
            f"# {comm.size} MPI rank(s) on {os.cpu_count()} CPUs ({cpu}), PETSc "
            f"{'.'.join(map(str, PETSc.Sys.getVersion()))}",
            flush=True,
        )
        print(
            "| unknowns | Newton | Krylov/Newton | s/Newton it | Poisson s (CG its) | ratio "
            "| peak B/unknown | solve B/unknown | mesh s | whole-process peak B/unknown "
            "| mesh |",
            flush=True,
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    for size_factor in args.size_factors:
        r = run_size(
            size_factor, args.repeats, args.poisson_repeats, not args.no_mesh_cache, tuple(args.set)
        )
        rows.append(r)
        if comm.rank == 0:
            print(
                f"| {r['unknowns']:,} | {r['newton_iterations']:.0f} | "
                f"{r['krylov_per_newton']:.1f} | {r['s_per_newton_iteration']:.2f} | "
                f"{r['poisson_s']:.2f} ({r['poisson_cg_iterations']}) | "
                f"{r['newton_iteration_over_poisson']:.2f} | {r['peak_bytes_per_unknown']:.0f} | "
                f"{r['solve_bytes_per_unknown_above_mesh']:.0f} | {r['mesh_s']:.0f} | "
                f"{r['whole_process_peak_bytes_per_unknown']:.0f} | {r['mesh_source'][5:14]} |",
                flush=True,
            )
    if comm.rank == 0 and len(rows) > 1:
        n = np.array([r["unknowns"] for r in rows], dtype=float)
        t = np.array([r["s_per_newton_iteration"] for r in rows])
        slope = np.polyfit(np.log(n), np.log(t), 1)[0]
        print(
            f"# time per Newton iteration grows as unknowns^{slope:.2f} "
            f"(least squares over {len(rows)} sizes; 1 = linear)"
        )
    if comm.rank == 0 and args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
