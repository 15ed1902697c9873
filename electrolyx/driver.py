"""Runs a validated case: mesh, model, result folder, timings, run.json.

The case is validated and its mesh built before anything is written, so bad input leaves no
folder behind. A Newton failure that the model could not recover from is reported with where and
why it happened; the outputs written until then are kept and ``run.json`` says
``"status": "failed"``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mpi4py import MPI
from petsc4py import PETSc

import dolfinx

from . import __version__
from .case import Case
from .drive_cycle import DriveCycleError
from .experiment import ExperimentError
from .meshes.gmsh_tools import facet_bounding_boxes
from .meshes.mesh_file import MeshFileError
from .models import model_class
from .models.base import Model
from .output import PhaseTimer, ResultWriter
from .schema import CaseError
from .solver import NewtonFailure

__all__ = ["make_logger", "mesh_statistics", "prepare", "run_case"]


def make_logger(comm: MPI.Comm, quiet: bool = False) -> Callable[[str], None]:
    """A print function that writes on rank 0 only (time-stamped relative to its creation)."""
    start = time.perf_counter()

    def log(message: str) -> None:
        if comm.rank == 0 and not quiet:
            print(f"[{time.perf_counter() - start:8.2f} s] {message}", flush=True)

    return log


def mesh_statistics(mesh: dolfinx.mesh.Mesh, unknowns: int) -> dict[str, Any]:
    """Global cell, vertex and unknown counts, and the dimensions of the mesh."""
    tdim = mesh.topology.dim
    return {
        "dimension": tdim,
        "geometric_dimension": mesh.geometry.dim,
        "cells": mesh.topology.index_map(tdim).size_global,
        "vertices": mesh.topology.index_map(0).size_global,
        "unknowns": unknowns,
    }


def prepare(case: Case, comm: MPI.Comm, timer: PhaseTimer) -> Model:
    """Instantiate the case's model and build its mesh.

    Raises:
        CaseError: for a protocol or drive cycle that the model cannot use (e.g. more steps
            after ``experiment.repeat`` than allowed).
    """
    try:
        model = model_class(case.model)(case.settings, case.directory, comm)
    except (ExperimentError, DriveCycleError) as error:
        raise CaseError([f"experiment: {error}"]) from None
    with timer.phase("mesh"):
        try:
            model.build_mesh()
        except MeshFileError as error:
            raise CaseError([f"mesh file: {error}"]) from None
    return model


def versions(comm: MPI.Comm) -> dict[str, Any]:
    """Versions of electrolyx and its numerical stack, and the MPI size."""
    petsc = ".".join(str(v) for v in PETSc.Sys.getVersion())
    return {
        "electrolyx": __version__,
        "dolfinx": dolfinx.__version__,
        "petsc": petsc,
        "python": sys.version.split()[0],
        "mpi_size": comm.size,
    }


def run_case(
    case: Case, out_dir: str | Path, comm: MPI.Comm, log: Callable[[str], None]
) -> tuple[int, Path]:
    """Run ``case`` writing into ``out_dir``; return (exit code, result folder).

    Exit codes: 0 completed, 1 the solver gave up (outputs so far kept, run.json says why).
    """
    timer = PhaseTimer()
    start = time.perf_counter()
    model = prepare(case, comm, timer)
    stats = mesh_statistics(model.mesh, model.unknowns())
    mesh_data = getattr(model, "mesh_data", None)
    if mesh_data is not None and mesh_data.facet_tags is not None:
        # Bounding box of each named boundary, for rendering (zoom to a wall) and reports.
        stats["boundaries"] = {
            name: [lower.tolist(), upper.tolist()]
            for name, (lower, upper) in facet_bounding_boxes(mesh_data).items()
        }
    diagnostics = model.diagnostics()
    log(
        f"case {case.name!r} (model {case.model}): {stats['cells']} cells, "
        f"{stats['unknowns']} unknowns on {comm.size} rank(s)"
    )
    if "electroneutrality_verdict" in diagnostics:
        log(
            f"Debye length {diagnostics['debye_length_m']:.4g} m; "
            f"{diagnostics['electroneutrality_verdict']}"
        )
    writer = ResultWriter(out_dir, comm)
    info: dict[str, Any] = {
        **versions(comm),
        "model": case.model,
        "case_directory": str(case.directory),
        "case": case.settings,
        "mesh": stats,
        "diagnostics": diagnostics,
    }
    status, code, message = "completed", 0, ""
    try:
        solver_info = model.run(writer, timer, log)
    except NewtonFailure as failure:
        status, code, message = "failed", 1, str(failure)
        solver = getattr(model, "solver", None)
        solver_info = solver.statistics.as_dict() if solver is not None else {}
        log(f"ERROR: {message}")
    timer.seconds["total"] = time.perf_counter() - start
    info.update(
        {
            "status": status,
            "message": message,
            "solver": {**solver_info, "converged": status == "completed"},
            "timings_s": dict(timer.seconds),
            "missing_profile_points": writer.missing_profile_points(),
        }
    )
    folder = writer.finish(info)
    log(f"results written to {folder}")
    return code, folder
