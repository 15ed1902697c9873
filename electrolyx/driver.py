"""Runs a validated case: mesh, model, result folder, timings, run.json.

The case is validated, the result folder checked and the mesh built before anything is written,
so bad input leaves no folder behind. A Newton failure that the model could not recover from is
reported with where and why it happened; the outputs written until then are kept beside the
requested folder (``NAME.failed-YYYYmmdd-HHMMSS``, never replacing a completed result) and
``run.json`` says ``"status": "failed"``. SIGINT and SIGTERM during the run do the same with
``NAME.interrupted-...`` and ``"status": "interrupted"`` (see :mod:`electrolyx.output`); a
model that can be resumed first writes a checkpoint at its next resumable step, and
``run_case(..., resume=FOLDER)`` (``electrolyx run --resume``) continues it
(:mod:`electrolyx.checkpoint`).
"""

from __future__ import annotations

import json
import shutil
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

from . import __version__, collector
from .case import Case
from .checkpoint import (
    CHECKPOINT_FOLDER,
    CheckpointControl,
    RunInterrupted,
    load_arrays,
    read_checkpoint,
)
from .drive_cycle import DriveCycleError
from .errors import CaseError
from .experiment import ExperimentError
from .meshes.gmsh_tools import facet_bounding_boxes
from .meshes.mesh_file import MeshFileError
from .models import model_class
from .models.base import Model
from .output import PhaseTimer, ResultWriter, check_result_target, json_default
from .progress import RunLog
from .resources import estimate, unknowns_from_settings
from .settings.common import checkpoint_interval
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


@contextmanager
def _sigterm_as_exception(control: CheckpointControl | None = None) -> Iterator[None]:
    """SIGTERM (and SIGINT) during the block (main thread only).

    Without ``control``: SIGTERM raises :class:`RunInterrupted` at once (SIGINT stays Python's
    KeyboardInterrupt). With it (a model that writes checkpoints): the first SIGTERM or SIGINT
    is only noted; the model writes a checkpoint at its next resumable state and stops there
    (:class:`electrolyx.checkpoint.CheckpointControl`). A second one stops at once.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signal_number: int, _frame: Any) -> None:
        raise RunInterrupted(signal_number)

    def note(signal_number: int, _frame: Any) -> None:
        if control.signal_number is not None:
            raise RunInterrupted(signal_number)
        control.signal_number = signal_number

    handled = (signal.SIGTERM,) if control is None else (signal.SIGTERM, signal.SIGINT)
    previous = {s: signal.signal(s, interrupt if control is None else note) for s in handled}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


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


def _comparable_settings(settings: Any) -> Any:
    """The case settings as JSON values, ``output.checkpoint_every`` left out."""
    plain = json.loads(json.dumps(settings, default=json_default))
    if isinstance(plain, dict) and isinstance(plain.get("output"), dict):
        plain["output"].pop("checkpoint_every", None)
    return plain


def _check_same_case(case: Case, content: dict[str, Any], folder: Path) -> None:
    """CaseError unless the checkpoint was written by the same case (settings and model)."""
    stored = content.get("case")
    if content.get("model") != case.model or not isinstance(stored, dict):
        raise CaseError(
            [
                f"--resume {folder}: written by a {content.get('model')!r} case, this one is a "
                f"{case.model!r} case"
            ]
        )
    mine, theirs = _comparable_settings(case.settings), _comparable_settings(stored)
    if mine != theirs:
        keys = sorted(set(mine) | set(theirs))
        differing = [k for k in keys if mine.get(k) != theirs.get(k)]
        raise CaseError(
            [
                f"--resume {folder}: the checkpoint belongs to a different case (differing "
                f"tables: {', '.join(differing)}): resume with the case and --set options of "
                "the interrupted run (only output.checkpoint_every may change)"
            ]
        )


def run_case(
    case: Case,
    out_dir: str | Path | None,
    comm: MPI.Comm,
    log: Callable[[str], None],
    overwrite: bool = False,
    force: bool = False,
    resume: str | Path | None = None,
) -> tuple[int, Path]:
    """Run ``case`` writing into ``out_dir``; return (exit code, result folder).

    The result folder is checked before anything is built (see :mod:`electrolyx.output`):
    an existing file, a folder that is not an electrolyx result (unless ``overwrite``) or a
    place that cannot be written is a CaseError. A failed or interrupted run (SIGINT, SIGTERM)
    goes beside ``out_dir`` as ``NAME.failed-...``/``NAME.interrupted-...``; an interruption or
    an unexpected error is re-raised after that.

    ``resume``: the folder of an interrupted run of the same case (with a checkpoint): the run
    continues from its checkpoint, its tables start with the rows written until then, and the
    result goes to ``out_dir`` (None: where the interrupted run was asked to write). The
    interrupted folder is left as it is.

    Exit codes: 0 completed, 1 the solver gave up (outputs so far kept, run.json says why).
    """
    timer = PhaseTimer()
    start = time.perf_counter()
    content, resume_folder = None, None
    if resume is not None:
        content, resume_folder = read_checkpoint(resume, comm)
        _check_same_case(case, content, resume_folder)
        if out_dir is None:
            out_dir = content["result_folder"]
    check_result_target(out_dir, comm, overwrite, case.directory)
    cheap = unknowns_from_settings(case.model, case.settings)
    if cheap is not None:  # refused before the mesh is built
        needs = estimate(case.model, case.settings, cheap, comm, "settings")
        if not needs.fits and not force:
            raise CaseError([needs.refusal()])
    model = prepare(case, comm, timer, log)
    collector.resume()  # (paused by the console script while the run started)
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
    arrays = None
    if content is not None:
        if not model.resumable():
            raise CaseError([f"--resume: the {case.model} model of this case cannot be resumed"])
        arrays = load_arrays(resume_folder, comm, content, model.checkpoint_fingerprint())
    writer = ResultWriter(out_dir, comm, overwrite, case.directory)
    control = None
    if model.resumable():
        output = case.settings.get("output", {}) if isinstance(case.settings, dict) else {}
        control = CheckpointControl(
            comm,
            writer.path,
            checkpoint_interval(output.get("checkpoint_every")),
            {
                "model": case.model,
                "case_directory": str(case.directory),
                "result_folder": str(writer.final),
                "case": json.loads(json.dumps(case.settings, default=json_default)),
            },
            writer.row_counts,
            model.checkpoint_fingerprint(),
            log,
        )
        model.checkpoint_control = control
    if content is not None:
        rows = content["rows"]
        writer.continue_from(resume_folder, rows["timeseries"], rows["profiles"])
        model.resume_from(content["state"], arrays)
        log(f"resumed from the checkpoint of {resume_folder} ({content['written_at']})")
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

    if resume_folder is not None:
        info["resumed_from"] = str(resume_folder)

    def summary(status: str, message: str, solver_info: dict[str, Any]) -> dict[str, Any]:
        timer.seconds["total"] = time.perf_counter() - start
        checkpoints = {} if control is None else {"checkpoints_written": control.written}
        return {
            **info,
            **checkpoints,
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
        with _sigterm_as_exception(control):
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
            # After a checkpoint every rank stopped at the same step: a collective finish.
            collective = control is not None and control.stopped
            if collective:
                text += " (checkpoint written: continue with --resume)"
            folder = writer.finish(summary("interrupted", text, solver_statistics()), collective)
            if comm.rank == 0:
                print(f"{text}: what was written is in {folder}", file=sys.stderr, flush=True)
            raise stop from None
        text = f"{type(error).__name__}: {error}"
        folder = writer.finish(summary("failed", text, solver_statistics()), False)
        if comm.rank == 0:
            print(f"run stopped ({text}): what was written is in {folder}", file=sys.stderr)
        raise
    if status == "completed" and control is not None and control.written:
        # A completed result needs no checkpoint (and must not look resumable).
        if comm.rank == 0:
            shutil.rmtree(writer.path / CHECKPOINT_FOLDER, ignore_errors=True)
        comm.barrier()
    folder = writer.finish(summary(status, message, solver_info))
    log(f"results written to {folder}")
    if status != "completed" and folder != writer.final:
        log(f"{writer.final} is left as it was: it only ever holds a completed run")
    for aside in writer.replaced:
        log(f"files in {writer.final} that this run did not write are kept in {aside}")
    return code, folder


def execute(
    case: Case,
    out_dir: str | Path | None,
    comm: MPI.Comm,
    log: Callable[[str], None],
    overwrite: bool = False,
    force: bool = False,
    resume: str | Path | None = None,
) -> tuple[int, Path]:
    """Run a case, or every run of its ``[sweep]``.

    What ``electrolyx run`` and the Python API's :meth:`electrolyx.Simulation.solve` both do.

    Returns:
        (exit code, folder): the result folder of a single run (see :func:`run_case`), or the
        sweep folder holding ``run_NNN`` and ``sweep.csv`` (the worst exit code of its runs).
    """
    sweep = case.settings.get("sweep", {"keys": [], "values": []})
    if resume is not None:
        if sweep["keys"]:
            raise CaseError(["--resume: a sweep cannot be resumed (resume its runs one by one)"])
        return run_case(case, out_dir, comm, log, overwrite, force, resume)
    if not sweep["keys"]:
        return run_case(case, out_dir, comm, log, overwrite=overwrite, force=force)
    # Every run is validated before any runs; each writes out/run_NNN, then out/sweep.csv.
    from .sweep import run_sweep

    code = run_sweep(case, out_dir, comm, log, overwrite=overwrite, force=force)
    return code, Path(out_dir).expanduser().resolve()
