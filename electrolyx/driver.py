"""Runs a validated case: mesh, model, result folder, timings, run.json.

The case is validated, the result folder checked and the mesh built before anything is written,
so bad input leaves no folder behind. A Newton failure that the model could not recover from is
reported with where and why it happened; the outputs written until then are kept beside the
requested folder (``NAME.failed-YYYYmmdd-HHMMSS``, never replacing a completed result) and
``run.json`` says ``"status": "failed"``. SIGINT and SIGTERM during the run do the same with
``NAME.interrupted-...`` and ``"status": "interrupted"`` (see :mod:`electrolyx.output`).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mpi4py import MPI
from petsc4py import PETSc

import dolfinx

from . import __version__
from .case import Case
from .drive_cycle import DriveCycleError
from .errors import CaseError
from .experiment import ExperimentError
from .meshes.gmsh_tools import facet_bounding_boxes
from .meshes.mesh_file import MeshFileError
from .models import model_class
from .models.base import Model
from .output import PhaseTimer, ResultWriter, check_result_target
from .progress import RunLog
from .resources import estimate, unknowns_from_settings
from .solver import NewtonFailure

__all__ = [
    "RunInterrupted",
    "execute",
    "instantiate",
    "make_logger",
    "mesh_statistics",
    "prepare",
    "run_case",
]


def make_logger(comm: MPI.Comm, quiet: bool = False, silent: bool = False) -> RunLog:
    """A print function that writes on rank 0 only (time-stamped relative to its creation).

    ``quiet``: only one line per experiment step; ``silent``: nothing. A terminal gets a live
    progress bar instead of the step lines (:mod:`electrolyx.progress`).
    """
    return RunLog(comm.rank, quiet=quiet, silent=silent)


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


def instantiate(case: Case, comm: MPI.Comm) -> Model:
    """The case's model, its mesh not built yet.

    Raises:
        CaseError: for a protocol or drive cycle that the model cannot use (e.g. more steps
            after ``experiment.repeat`` than allowed).
    """
    try:
        return model_class(case.model)(case.settings, case.directory, comm)
    except (ExperimentError, DriveCycleError) as error:
        raise CaseError([f"experiment: {error}"]) from None


def prepare(
    case: Case, comm: MPI.Comm, timer: PhaseTimer, log: Callable[[str], None] | None = None
) -> Model:
    """Instantiate the case's model and build its mesh (its progress through ``log``).

    Raises:
        CaseError: for a protocol, drive cycle or mesh file that the model cannot use.
    """
    model = instantiate(case, comm)
    if log is not None:
        model.log = log
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


class RunInterrupted(KeyboardInterrupt):  # noqa: N818 (a KeyboardInterrupt)
    """SIGTERM arrived during a run (SIGINT arrives as a plain KeyboardInterrupt)."""

    def __init__(self, signal_number: int):
        self.signal_number = signal_number
        super().__init__(signal.Signals(signal_number).name)


@contextmanager
def _sigterm_as_exception() -> Iterator[None]:
    """Turn SIGTERM into :class:`RunInterrupted` while the block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signal_number: int, _frame: Any) -> None:
        raise RunInterrupted(signal_number)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interruption(error: BaseException) -> KeyboardInterrupt | None:
    """The SIGINT/SIGTERM behind ``error``, if any.

    A signal that arrives while PETSc calls back into Python (assembling a Jacobian) comes out
    of the solve as a ``petsc4py.PETSc.Error`` whose cause is the KeyboardInterrupt.
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def run_case(
    case: Case,
    out_dir: str | Path,
    comm: MPI.Comm,
    log: Callable[[str], None],
    overwrite: bool = False,
    force: bool = False,
) -> tuple[int, Path]:
    """Run ``case`` writing into ``out_dir``; return (exit code, result folder).

    The result folder is checked before anything is built (see :mod:`electrolyx.output`):
    an existing file, a folder that is not an electrolyx result (unless ``overwrite``) or a
    place that cannot be written is a CaseError. A failed or interrupted run (SIGINT, SIGTERM)
    goes beside ``out_dir`` as ``NAME.failed-...``/``NAME.interrupted-...``; an interruption or
    an unexpected error is re-raised after that.

    Exit codes: 0 completed, 1 the solver gave up (outputs so far kept, run.json says why).
    """
    timer = PhaseTimer()
    start = time.perf_counter()
    check_result_target(out_dir, comm, overwrite, case.directory)
    cheap = unknowns_from_settings(case.model, case.settings)
    if cheap is not None:  # refused before the mesh is built
        needs = estimate(case.model, case.settings, cheap, comm, "settings")
        if not needs.fits and not force:
            raise CaseError([needs.refusal()])
    model = prepare(case, comm, timer, log)
    stats = mesh_statistics(model.mesh, model.unknowns())
    needs = estimate(case.model, case.settings, stats["unknowns"], comm)
    if not needs.fits and not force:
        raise CaseError([needs.refusal()])
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
        f"{stats['unknowns']} unknowns on {comm.size} rank(s); estimated memory "
        f"{needs.memory_bytes / 1e6:.4g} MB, {needs.seconds_per_step:.2g} s per step"
        + ("" if needs.fits else " (more than available: --force given)")
    )
    if "electroneutrality_verdict" in diagnostics:
        log(
            f"Debye length {diagnostics['debye_length_m']:.4g} m; "
            f"{diagnostics['electroneutrality_verdict']}"
        )
    writer = ResultWriter(out_dir, comm, overwrite, case.directory)
    info: dict[str, Any] = {
        **versions(comm),
        "model": case.model,
        "case_directory": str(case.directory),
        "case": case.settings,
        "mesh": stats,
        "diagnostics": diagnostics,
        "resource_estimate": {
            "memory_bytes": needs.memory_bytes,
            "seconds_per_step": needs.seconds_per_step,
            "available_memory_bytes": needs.available_bytes,
            "figures_from": needs.figures.source,
        },
    }

    def solver_statistics() -> dict[str, Any]:
        solver = getattr(model, "solver", None)
        statistics = getattr(solver, "statistics", None)
        return statistics.as_dict() if statistics is not None else {}

    def summary(status: str, message: str, solver_info: dict[str, Any]) -> dict[str, Any]:
        timer.seconds["total"] = time.perf_counter() - start
        return {
            **info,
            "status": status,
            # Why the run ended: the model's own words when it completed, the failure otherwise.
            "stop_reason": solver_info.get("stop_reason") or message,
            "message": message,
            "solver": {**solver_info, "converged": status == "completed"},
            "timings_s": dict(timer.seconds),
            "missing_profile_points": writer.missing_profile_points(),
        }

    status, code, message = "completed", 0, ""
    try:
        with _sigterm_as_exception():
            solver_info = model.run(writer, timer, log)
    except NewtonFailure as failure:
        status, code, message = "failed", 1, str(failure)
        solver_info = solver_statistics()
        log(f"ERROR: {message}")
    except BaseException as error:
        stop = _interruption(error)
        if stop is not None:
            name = str(stop) if isinstance(stop, RunInterrupted) else "SIGINT"
            text = f"interrupted by {name}"
            folder = writer.finish(summary("interrupted", text, solver_statistics()), False)
            if comm.rank == 0:
                print(f"{text}: what was written is in {folder}", file=sys.stderr, flush=True)
            raise stop from None
        text = f"{type(error).__name__}: {error}"
        folder = writer.finish(summary("failed", text, solver_statistics()), False)
        if comm.rank == 0:
            print(f"run stopped ({text}): what was written is in {folder}", file=sys.stderr)
        raise
    folder = writer.finish(summary(status, message, solver_info))
    log(f"results written to {folder}")
    if status != "completed" and folder != writer.final:
        log(f"{writer.final} is left as it was: it only ever holds a completed run")
    for aside in writer.replaced:
        log(f"files in {writer.final} that this run did not write are kept in {aside}")
    return code, folder


def execute(
    case: Case,
    out_dir: str | Path,
    comm: MPI.Comm,
    log: Callable[[str], None],
    overwrite: bool = False,
    force: bool = False,
) -> tuple[int, Path]:
    """Run a case, or every run of its ``[sweep]``.

    What ``electrolyx run`` and the Python API's :meth:`electrolyx.Simulation.solve` both do.

    Returns:
        (exit code, folder): the result folder of a single run (see :func:`run_case`), or the
        sweep folder holding ``run_NNN`` and ``sweep.csv`` (the worst exit code of its runs).
    """
    sweep = case.settings.get("sweep", {"keys": [], "values": []})
    if not sweep["keys"]:
        return run_case(case, out_dir, comm, log, overwrite=overwrite, force=force)
    # Every run is validated before any runs; each writes out/run_NNN, then out/sweep.csv.
    from .sweep import run_sweep

    code = run_sweep(case, out_dir, comm, log, overwrite=overwrite, force=force)
    return code, Path(out_dir).expanduser().resolve()
