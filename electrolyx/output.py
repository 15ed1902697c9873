"""The result folder of a run: run.json, timeseries.csv, profiles.csv and fields for ParaView.

Nothing of the user's is lost or overwritten unasked:

* A run writes into a new hidden folder ``.NAME.tmp-XXXX`` beside the requested ``NAME`` and
  moves it into place only when the run has completed; ``NAME`` therefore only ever holds a
  completed result.
* A run that fails (Newton gives up, an error) or is interrupted (SIGINT, SIGTERM) never replaces
  anything: its folder goes beside, ``NAME.failed-YYYYmmdd-HHMMSS`` or
  ``NAME.interrupted-YYYYmmdd-HHMMSS``, with every row written until then and a run.json saying
  why. No hidden folder outlives the process (only SIGKILL or a crash of the interpreter can
  leave one).
* ``NAME`` may already exist when it is an electrolyx result (a run.json carrying the marker
  ``"electrolyx_result": 1``), or an empty folder. Replacing a result deletes only what
  electrolyx wrote there: the files listed in its run.json (``"files"``) and the post-processing
  outputs ``figures/`` and ``report.html``; anything else is kept, moved to
  ``NAME.previous-YYYYmmdd-HHMMSS``. Any other existing folder is refused (exit code 2) unless
  ``--overwrite`` is given, and then it is moved aside to ``NAME.previous-YYYYmmdd-HHMMSS``,
  never deleted. ``NAME`` may not be an existing file, the case folder or a folder holding it or
  the working directory, and its parent must be writable (exit code 2 otherwise).

Rows of the CSV files are flushed as they are produced. Only rank 0 touches the files of the
folder; fields are written collectively.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mpi4py import MPI

import dolfinx
import numpy as np

from .errors import CaseError
from .sampling import LineSampler, segment_points

__all__ = [
    "RESULT_MARKER",
    "PhaseTimer",
    "ResultFolderError",
    "ResultWriter",
    "check_result_target",
    "is_result_folder",
    "json_default",
    "prepare_sweep_folder",
]

RESULT_MARKER = "electrolyx_result"
"""Key of run.json that marks a folder written by ``electrolyx run`` (value: format version 1)."""

#: what electrolyx's post-processing writes into a result folder (replaced with the result)
_POSTPROCESS_OUTPUTS = ("figures", "report.html")

#: files of a sweep folder besides its run_NNN results
_SWEEP_FILES = ("sweep.csv", *_POSTPROCESS_OUTPUTS)


class ResultFolderError(CaseError):
    """A result folder that cannot be written where asked (exit code 2, like a bad case)."""

    def __str__(self) -> str:
        return "\n".join(self.problems)


def _read_run_json(folder: Path) -> dict[str, Any] | None:
    """run.json of ``folder`` when it is an electrolyx result, else None."""
    run_file = folder / "run.json"
    try:
        if not run_file.is_file() or run_file.stat().st_size > 1 << 28:
            return None
        data = json.loads(run_file.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if isinstance(data, dict) and data.get(RESULT_MARKER) == 1:
        return data
    return None


def is_result_folder(path: str | Path) -> bool:
    """True when ``path`` is a folder written by ``electrolyx run`` (run.json with the marker)."""
    return _read_run_json(Path(path)) is not None


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _beside(final: Path, label: str) -> Path:
    """A new name ``NAME.<label>-YYYYmmdd-HHMMSS[-N]`` beside ``final`` that does not exist."""
    base = final.parent / f"{final.name}.{label}-{_stamp()}"
    candidate, n = base, 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def _target_problem(final: Path, overwrite: bool, protected: Sequence[Path]) -> str | None:
    """What forbids writing a result to ``final``, or None (rank-local)."""
    shown = str(final)
    for folder in protected:
        if folder == final or folder.is_relative_to(final):
            what = "is" if folder == final else "contains"
            return (
                f"--out {shown} {what} {folder} (the case folder, the working directory or the "
                "home folder): give the run a result folder of its own"
            )
    if final.is_symlink() and not final.exists():
        return f"--out {shown} is a broken symbolic link"
    if final.exists() and not final.is_dir():
        return f"--out {shown} is an existing file, not a folder: give a folder path"
    if final.is_dir() and not overwrite:
        try:
            empty = not any(final.iterdir())
        except OSError as error:
            return f"--out {shown} cannot be read ({error.strerror})"
        if not empty and not is_result_folder(final):
            return (
                f"--out {shown} is an existing folder that is not an electrolyx result (no "
                f"run.json with {RESULT_MARKER!r}): give a new folder, or add --overwrite to "
                f"move it aside (to {final.name}.previous-YYYYmmdd-HHMMSS; nothing is deleted)"
            )
    ancestor = final.parent
    while not ancestor.exists():
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"--out {shown}: {ancestor} is a file, not a folder"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"--out {shown}: cannot write in {ancestor} (permission denied)"
    return None


def _protected_folders(case_directory: Path | None) -> list[Path]:
    """Folders a result may never replace: the working directory, home, the case folder."""
    folders = [Path.cwd().resolve()]
    try:
        folders.append(Path.home().resolve())
    except RuntimeError:  # no home directory known
        pass
    return folders + ([Path(case_directory).resolve()] if case_directory is not None else [])


def check_result_target(
    out_dir: str | Path,
    comm: MPI.Comm,
    overwrite: bool = False,
    case_directory: Path | None = None,
) -> Path:
    """The resolved result folder, if a run may write it (collective: same answer everywhere).

    Raises:
        CaseError: on every rank, for an existing file, a folder that is not an electrolyx
            result (unless ``overwrite``), the case folder, the working directory or the home
            folder (or a folder holding them), or a place that cannot be written.
    """
    final = Path(out_dir).expanduser().resolve()
    problem = None
    if comm.rank == 0:
        problem = _target_problem(final, overwrite, _protected_folders(case_directory))
    problem = comm.bcast(problem, root=0)
    if problem is not None:
        raise ResultFolderError([problem])
    return final


def prepare_sweep_folder(
    out_dir: str | Path,
    case_directory: Path,
    comm: MPI.Comm,
    overwrite: bool = False,
    log: Callable[[str], None] = print,
) -> Path:
    """Check (and with ``overwrite`` clear) the folder of a sweep's ``run_NNN`` results.

    A sweep may write into a new or empty folder, or one that holds only results of the same
    case (``run_NNN``, ``sweep.csv``, figures). Results of another case, a single run's result or
    other files are refused unless ``overwrite``; then the folder is moved aside to
    ``NAME.previous-YYYYmmdd-HHMMSS`` (nothing is deleted). Collective.

    Raises:
        CaseError: on every rank, naming what is in the way.
    """
    final = Path(out_dir).expanduser().resolve()
    case_directory = Path(case_directory).resolve()
    problem, moved = None, None
    if comm.rank == 0:
        problem = _target_problem(final, True, _protected_folders(case_directory))
        if problem is None and final.is_dir():
            reason = _sweep_folder_problem(final, case_directory)
            if reason is not None and not overwrite:
                problem = (
                    f"--out {final} {reason}: a sweep never mixes its runs with others; give "
                    "a new folder, or add --overwrite to move this one aside (nothing is deleted)"
                )
            elif reason is not None:
                moved = _beside(final, "previous")
                try:
                    final.rename(moved)
                except OSError as error:
                    problem = f"--out {final}: cannot move it aside ({error.strerror})"
    problem, moved = comm.bcast((problem, moved), root=0)
    if problem is not None:
        raise ResultFolderError([problem])
    if moved is not None:
        log(f"{final} held other results: moved to {moved}")
    return final


def _sweep_folder_problem(folder: Path, case_directory: Path) -> str | None:
    """Why ``folder`` is not a sweep folder of ``case_directory``, or None."""
    if (folder / "run.json").exists():
        return "is the result of a single run"
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name in _SWEEP_FILES:
            continue
        info = _read_run_json(entry) if entry.is_dir() else None
        if info is None:
            return f"holds {entry.name!r}, which is not an electrolyx result"
        other = info.get("case_directory")
        if other != str(case_directory):
            return f"holds results of another case ({entry.name}: {other})"
    return None


class PhaseTimer:
    """Accumulates wall time per named phase (mesh, forms, solve, output, ...)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str):
        """Time the enclosed block and add it to ``name``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def json_default(obj: Any) -> Any:
    """JSON for numpy scalars and arrays and for paths (``json.dump(..., default=)``)."""
    if isinstance(obj, np.integer | np.floating | np.bool_):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


class ResultWriter:
    """Writes one run's outputs into a new hidden folder and moves it into place at the end.

    Args:
        out_dir: Final result folder.
        comm: Communicator of the run.
        overwrite: Accept an existing folder that is not an electrolyx result (it is moved
            aside when the run completes, never deleted).
        case_directory: The case's folder, which the result may not replace.

    Raises:
        CaseError: on every rank, if ``out_dir`` cannot take a result (see
            :func:`check_result_target`) or the folder cannot be created.
    """

    def __init__(
        self,
        out_dir: str | Path,
        comm: MPI.Comm,
        overwrite: bool = False,
        case_directory: Path | None = None,
    ):
        self.comm = comm
        self.overwrite = overwrite
        self.final = check_result_target(out_dir, comm, overwrite, case_directory)
        created, problem = None, None
        if comm.rank == 0:
            try:
                self.final.parent.mkdir(parents=True, exist_ok=True)
                created = tempfile.mkdtemp(prefix=f".{self.final.name}.tmp-", dir=self.final.parent)
            except OSError as error:
                problem = f"--out {self.final}: cannot create a folder there ({error.strerror})"
        created, problem = comm.bcast((created, problem), root=0)
        if problem is not None:
            raise ResultFolderError([problem])
        self.path = Path(created)
        self.replaced: list[str] = []
        self._timeseries_file = None
        self._timeseries_writer = None  # a csv.writer once the columns are known
        self._timeseries_columns: list[str] = []
        self._profiles_file = None
        self._profiles_writer = None
        #: profile name -> its sampler and each point's x, y, z columns as csv.writer writes them
        self._samplers: dict[str, tuple[LineSampler, list[str]]] = {}
        self._vtk: dolfinx.io.VTKFile | None = None
        self._vtx: dolfinx.io.VTXWriter | None = None
        self._field_functions: list[dolfinx.fem.Function] = []
        #: rows written to timeseries.csv and profiles.csv (rank 0; header not counted)
        self.timeseries_rows = 0
        self.profile_rows = 0
        #: other streamed tables (``cycles.csv``): file name -> (file, writer, columns)
        self._tables: dict[str, tuple[Any, csv.DictWriter, list[str]]] = {}

    def row_counts(self) -> tuple[int, int]:
        """(rows of timeseries.csv, rows of profiles.csv) written so far (rank 0)."""
        return self.timeseries_rows, self.profile_rows

    def continue_from(self, folder: Path, timeseries_rows: int, profile_rows: int) -> None:
        """Start with the first rows of an interrupted run's tables (a resumed run).

        The header and the first ``timeseries_rows`` rows of ``folder``'s timeseries.csv (and
        ``profile_rows`` of profiles.csv: those written up to its checkpoint) are copied; the
        rows of this run are appended after them. Fields are not copied: the resumed run's
        fields/ starts at the checkpoint (the earlier ones stay in ``folder``).
        """
        if self.comm.rank != 0:
            return
        for name, count in (("timeseries.csv", timeseries_rows), ("profiles.csv", profile_rows)):
            source = Path(folder) / name
            if not source.is_file():
                continue
            with open(source, newline="") as f:
                header = f.readline()
                lines = [f.readline() for _ in range(count)]
            if len(lines) != count or (lines and not lines[-1].endswith("\n")):
                raise ResultFolderError(
                    [f"--resume {folder}: {name} has fewer rows than its checkpoint says"]
                )
            target = open(self.path / name, "w", newline="")
            target.write(header)
            target.writelines(lines)
            target.flush()
            columns = next(csv.reader([header]))
            if name == "timeseries.csv":
                self._timeseries_file = target
                self._timeseries_columns = columns
                self._timeseries_writer = csv.writer(target)
                self.timeseries_rows = count
            else:
                self._profiles_file = target
                self._profiles_writer = csv.writer(target)
                self.profile_rows = count

    # -- time series -----------------------------------------------------------------------
    def add_timeseries_row(self, row: Mapping[str, float]) -> None:
        """Append one row; the first row fixes the columns (``time_s`` first)."""
        if self.comm.rank != 0:
            return
        if self._timeseries_writer is None:
            columns = ["time_s"] + [k for k in row if k != "time_s"]
            self._timeseries_columns = columns
            self._timeseries_file = open(self.path / "timeseries.csv", "w", newline="")
            self._timeseries_writer = csv.writer(self._timeseries_file)
            self._timeseries_writer.writerow(columns)
        # The row's values in the file's column order (a missing column is a KeyError).
        self._timeseries_writer.writerow([_fmt(row[k]) for k in self._timeseries_columns])
        self._timeseries_file.flush()
        self.timeseries_rows += 1

    def add_table_row(self, file_name: str, row: Mapping[str, Any]) -> None:
        """Append one row to the streamed table ``file_name`` (``cycles.csv``: one per cycle).

        Its first row fixes the columns; text values are written as they are.
        """
        if self.comm.rank != 0:
            return
        if file_name not in self._tables:
            columns = list(row)
            stream = open(self.path / file_name, "w", newline="")
            writer = csv.DictWriter(stream, fieldnames=columns)
            writer.writeheader()
            self._tables[file_name] = (stream, writer, columns)
        stream, writer, columns = self._tables[file_name]
        writer.writerow({k: row[k] if isinstance(row[k], str) else _fmt(row[k]) for k in columns})
        stream.flush()

    # -- profiles --------------------------------------------------------------------------
    def set_profiles(self, mesh: dolfinx.mesh.Mesh, profiles: Sequence[Mapping[str, Any]]) -> None:
        """Prepare the line segments of ``[[output.profiles]]`` on ``mesh``."""
        for profile in profiles:
            points = segment_points(profile["start"], profile["end"], profile["points"])
            coordinates = [",".join(_fmt(x) for x in point[:3]) for point in points]
            self._samplers[profile["name"]] = (LineSampler(mesh, points), coordinates)

    def write_profiles(self, time_s: float, fields: Mapping[str, dolfinx.fem.Function]) -> None:
        """Sample every named scalar field along every profile and append to profiles.csv."""
        if not self._samplers:
            return
        time_text = _fmt(time_s)
        for name, (sampler, coordinates) in self._samplers.items():
            for field_name, function in fields.items():
                values = sampler.evaluate(function)
                if self.comm.rank != 0:
                    continue
                if self._profiles_writer is None:
                    self._profiles_file = open(self.path / "profiles.csv", "w", newline="")
                    self._profiles_writer = csv.writer(self._profiles_file)
                    self._profiles_writer.writerow(
                        ["time_s", "profile", "field", "x_m", "y_m", "z_m", "value"]
                    )
                # Each line is what csv.writer writes for [time, profile, field, x, y, z, value]:
                # the first three columns written (quoted where needed) once, the coordinates
                # once per profile; .tolist() gives Python floats, whose repr is _fmt's.
                prefix = _csv_line([time_text, name, field_name]).removesuffix("\r\n")
                lines = [
                    f"{prefix},{xyz},{v!r}\r\n"
                    for xyz, v in zip(coordinates, values[:, 0].tolist(), strict=True)
                    if not math.isnan(v)
                ]
                self._profiles_file.write("".join(lines))
                self.profile_rows += len(lines)
        if self.comm.rank == 0 and self._profiles_file is not None:
            self._profiles_file.flush()

    def missing_profile_points(self) -> dict[str, int]:
        """Number of points of each profile that lie outside the mesh."""
        return {name: len(s.missing) for name, (s, _) in self._samplers.items()}

    # -- fields ----------------------------------------------------------------------------
    def set_fields(self, functions: Sequence[dolfinx.fem.Function]) -> None:
        """Open the field files for these named functions (same mesh, P1 for VTK)."""
        self._field_functions = list(functions)
        folder = self.path / "fields"
        if self.comm.rank == 0:
            folder.mkdir(exist_ok=True)
        self.comm.barrier()
        self._vtk = dolfinx.io.VTKFile(self.comm, folder / "fields.pvd", "w")
        self._vtx = dolfinx.io.VTXWriter(self.comm, folder / "fields.bp", self._field_functions)

    def write_fields(self, time_s: float) -> None:
        """Append the current values of the field functions at ``time_s``."""
        if self._vtk is None:
            return
        self._vtk.write_function(self._field_functions, time_s)
        self._vtx.write(time_s)

    # -- end -------------------------------------------------------------------------------
    def _close_fields(self) -> None:
        # dolfinx's VTKFile writes its .pvd again when destroyed, collectively: destroy it
        # before the rename, and here, where every rank is. The full collection (0.05 s with the
        # solver's objects in memory) also destroys the field files an interrupted or failed
        # run dropped without a collective close (finish(collective=False)); skipped, they were
        # collected later at a different moment on each rank, and a resumed run on 2 ranks
        # hung in their destructors (tests/test_checkpoint.py, the BDF2 loop's resume).
        # On one rank nothing is collective and every run closes its own files (finish), so
        # there is nothing for the collection to do that must happen here: skipped (0.03 s of
        # the default case's 1.1 s).
        for f in (self._vtk, self._vtx):
            if f is not None:
                f.close()
        self._vtk = self._vtx = None
        if self.comm.size > 1:
            gc.collect()

    def finish(self, run_info: Mapping[str, Any], collective: bool = True) -> Path:
        """Write run.json, close every file and move the folder to where it belongs.

        ``status`` in ``run_info`` decides where: ``"completed"`` replaces ``NAME`` (see the
        module's rules), anything else (``"failed"``, ``"interrupted"``) goes beside it as
        ``NAME.<status>-YYYYmmdd-HHMMSS``. ``collective=False`` (after an interruption or an
        error, when the other ranks may be anywhere) skips every collective step: rank 0 closes
        its own files and moves the folder, field files of a parallel run may stay incomplete.

        Returns:
            The folder the result now lives in (on every rank when collective).
        """
        if collective or self.comm.size == 1:
            self._close_fields()
        else:
            self._vtk = self._vtx = None  # their collective close may wait forever
        folder = None
        if self.comm.rank == 0:
            for f in (self._timeseries_file, self._profiles_file):
                if f is not None:
                    f.close()
            self._timeseries_file = self._profiles_file = None
            for stream, _, _ in self._tables.values():
                stream.close()
            self._tables = {}
            info = {RESULT_MARKER: 1, **run_info, "files": self._manifest()}
            with open(self.path / "run.json", "w") as f:
                json.dump(info, f, indent=2, default=json_default)
                f.write("\n")
            folder = self._move_into_place(str(run_info.get("status", "failed")))
        if collective:
            folder = self.comm.bcast(folder, root=0)
        return Path(folder) if folder is not None else self.final

    def _manifest(self) -> list[str]:
        """Every file of the folder, relative to it (what a later run may delete)."""
        files = [
            str(Path(root, name).relative_to(self.path))
            for root, _, names in os.walk(self.path)
            for name in names
        ]
        return sorted({*files, "run.json"})

    def _move_into_place(self, status: str) -> Path:
        """Rename the temporary folder to its final name (rank 0); return that name."""
        final = self.final
        if status != "completed":
            target = _beside(final, status)
            self.path.rename(target)
            return target
        try:
            if not (final.exists() or final.is_symlink()):
                self.path.rename(final)
                return final
            if final.is_dir() and not any(final.iterdir()):
                final.rmdir()
                self.path.rename(final)
                return final
        except OSError:
            pass  # someone else created NAME meanwhile: decided below
        previous = _read_run_json(final) if final.is_dir() else None
        if previous is None and not (self.overwrite and final.is_dir()):
            # NAME appeared during the run and is not ours to replace: keep both.
            target = _beside(final, "new")
            self.path.rename(target)
            return target
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
        final.rename(old)  # onto the empty folder just made: atomic
        self.path.rename(final)
        kept = old if previous is None else _discard_result(old, previous)
        if kept is not None:
            aside = _beside(final, "previous")
            kept.rename(aside)
            self.replaced.append(str(aside))
        return final

    def abandon(self) -> None:
        """Remove the temporary folder (used when nothing worth keeping was produced)."""
        self._close_fields()
        for stream, _, _ in self._tables.values():
            stream.close()
        self._tables = {}
        if self.comm.rank == 0 and self.path.exists():
            shutil.rmtree(self.path)
        self.comm.barrier()


def _discard_result(folder: Path, info: Mapping[str, Any]) -> Path | None:
    """Delete what electrolyx wrote in an old result folder; return it if anything is left.

    Deleted: the files its run.json lists and the post-processing outputs (figures/,
    report.html). Everything else stays; empty folders are removed.
    """
    listed = info.get("files")
    names = [n for n in listed if isinstance(n, str)] if isinstance(listed, list) else []
    root = folder.resolve()
    for name in names:
        path = folder / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            continue
        if path.is_symlink() or (path.is_file() and path.resolve().is_relative_to(root)):
            path.unlink(missing_ok=True)
    for name in _POSTPROCESS_OUTPUTS:
        path = folder / name
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
    for root_dir, _, _ in os.walk(folder, topdown=False):  # children before parents
        try:
            Path(root_dir).rmdir()  # only empty folders go
        except OSError:
            pass
    return folder if folder.exists() else None


def _csv_line(values: Sequence[str]) -> str:
    """One line of ``values`` as :func:`csv.writer` (the default dialect) writes it."""
    text = io.StringIO()
    csv.writer(text).writerow(values)
    return text.getvalue()


def _fmt(value: Any) -> str:
    if isinstance(value, str):
        return value
    return repr(float(value))
