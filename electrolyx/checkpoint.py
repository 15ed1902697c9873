"""Checkpoints of a run: the whole state written into ``checkpoint/`` of the result folder.

Format (docs/checkpoint.md says why): one ``rank-NNNN.npz`` per MPI rank with that rank's
arrays (the owned entries of the state vectors, in dolfinx's ordering on that rank) and one
``checkpoint.json`` (rank 0) with every scalar of the state, the number of rows of
timeseries.csv and profiles.csv written so far, the case's settings and a *fingerprint* per
rank: the sizes and a SHA-256 of the coordinates of the rank's degrees of freedom. A checkpoint
is read back only by the same number of ranks with the same partition (the fingerprints
agree); anything else is refused with exit code 2. A new checkpoint replaces the previous one
(written beside as ``checkpoint.new``, then renamed), so a run killed while writing one keeps
the last complete one.

When to write (:class:`CheckpointControl`): every ``[output] checkpoint_every`` accepted time
steps or that much wall time, and at SIGTERM or SIGINT (Slurm's pre-emption, Ctrl-C), after
which the run stops with ``status = "interrupted"``. A model writes only at states it can
resume exactly from (an accepted step far enough from a restart of the integrator, or a
protocol-step boundary); a request waits for the next such state. The decision is collective
(one small ``allreduce`` per step), so a signal that reached only some ranks stops them all at
the same step.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mpi4py import MPI

import numpy as np

from .errors import CaseError
from .output import json_default

__all__ = [
    "CHECKPOINT_FOLDER",
    "CHECKPOINT_MARKER",
    "CheckpointControl",
    "RunInterrupted",
    "fingerprint",
    "read_checkpoint",
]

CHECKPOINT_FOLDER = "checkpoint"
#: Key of checkpoint.json that marks an electrolyx checkpoint (value: format version 1).
CHECKPOINT_MARKER = "electrolyx_checkpoint"


class RunInterrupted(KeyboardInterrupt):  # noqa: N818 (a KeyboardInterrupt)
    """A run stopped by SIGTERM or SIGINT (after its checkpoint, where the model writes one)."""

    def __init__(self, signal_number: int):
        self.signal_number = signal_number
        super().__init__(signal.Signals(signal_number).name)


def fingerprint(coordinates: Sequence[np.ndarray]) -> str:
    """SHA-256 of the sizes and coordinates (rounded to 1e-12 m) of a rank's dofs."""
    digest = hashlib.sha256()
    for array in coordinates:
        array = np.ascontiguousarray(np.round(np.asarray(array, dtype=float), 12))
        digest.update(np.asarray(array.shape, dtype=np.int64).tobytes())
        digest.update(array.tobytes())
    return digest.hexdigest()


class CheckpointControl:
    """Decides when a model writes a checkpoint, writes it, and remembers a signal.

    Args:
        comm: Communicator of the run.
        folder: The run's (temporary) result folder; checkpoints go into its ``checkpoint/``.
        interval: ``("steps", n)``, ``("seconds", s)`` or None (only on a signal).
        info: JSON-serialisable entries written into every checkpoint.json (the case, the
            requested result folder).
        rows: Returns (rows of timeseries.csv, rows of profiles.csv) written so far (rank 0).
        fingerprint: This rank's fingerprint (:func:`fingerprint`).
        log: Progress messages.

    Attributes:
        signal_number: The SIGTERM/SIGINT received (set by the signal handler), or None.
        stopped: True once a checkpoint was written because of a signal (the run must stop).
        written: Checkpoints written so far.
    """

    def __init__(
        self,
        comm: MPI.Comm,
        folder: Path,
        interval: tuple[str, float] | None,
        info: Mapping[str, Any],
        rows: Callable[[], tuple[int, int]],
        fingerprint: str,
        log: Callable[[str], None] = lambda message: None,
    ):
        self.comm = comm
        self.folder = Path(folder)
        self.interval = interval
        self.info = dict(info)
        self.rows = rows
        self.fingerprint = fingerprint
        self.log = log
        self.signal_number: int | None = None
        self.stopped = False
        self.written = 0
        self._steps = 0
        self._last_wall = time.monotonic()

    # -- decisions -------------------------------------------------------------------------
    def _wanted(self) -> tuple[bool, bool]:
        """(a signal arrived on some rank, the interval is over on rank 0): collective."""
        due = False
        if self.interval is not None:
            kind, amount = self.interval
            if kind == "steps":
                due = self._steps >= amount
            elif self.comm.rank == 0:
                due = time.monotonic() - self._last_wall >= amount
        flags = np.array([self.signal_number is not None, due], dtype=np.int32)
        if self.comm.size > 1:
            self.comm.Allreduce(MPI.IN_PLACE, flags, op=MPI.MAX)
        return bool(flags[0]), bool(flags[1])

    def at_step(
        self,
        resumable: bool,
        state: Callable[[], tuple[dict[str, Any], dict[str, np.ndarray]]],
    ) -> bool:
        """After an accepted time step (collective); True: a signal's checkpoint was written.

        Args:
            resumable: The present state can be resumed exactly (the same on every rank).
            state: Returns the state: (scalars, the same on every rank; this rank's arrays).
        """
        self._steps += 1
        return self._maybe_write(resumable, state)

    def at_boundary(self, state: Callable[[], tuple[dict, dict[str, np.ndarray]]]) -> bool:
        """Between two protocol steps (always resumable); True: stop (a signal)."""
        return self._maybe_write(True, state)

    def _maybe_write(self, resumable: bool, state) -> bool:
        signalled, due = self._wanted()
        if not (signalled or due) or not resumable:
            return False
        scalars, arrays = state()
        self.write(scalars, arrays)
        self._steps = 0
        self._last_wall = time.monotonic()
        if signalled:
            self.stopped = True
        return signalled

    # -- writing ---------------------------------------------------------------------------
    def write(self, scalars: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        """Write a checkpoint replacing the previous one (collective)."""
        comm = self.comm
        final = self.folder / CHECKPOINT_FOLDER
        new = self.folder / f"{CHECKPOINT_FOLDER}.new"
        if comm.rank == 0:
            if new.exists():
                shutil.rmtree(new)
            new.mkdir()
        comm.barrier()
        np.savez(new / f"rank-{comm.rank:04d}.npz", **arrays)
        fingerprints = comm.gather(self.fingerprint, root=0)
        comm.barrier()
        if comm.rank == 0:
            timeseries_rows, profile_rows = self.rows()
            content = {
                CHECKPOINT_MARKER: 1,
                "ranks": comm.size,
                "fingerprints": fingerprints,
                "rows": {"timeseries": timeseries_rows, "profiles": profile_rows},
                "written_at": time.strftime("%Y-%m-%d %H:%M:%S"),
                **self.info,
                "state": dict(scalars),
            }
            with open(new / "checkpoint.json", "w") as f:
                json.dump(content, f, indent=1, default=json_default)
                f.write("\n")
            old = self.folder / f"{CHECKPOINT_FOLDER}.old"
            if final.exists():
                final.rename(old)
            new.rename(final)
            if old.exists():
                shutil.rmtree(old)
        comm.barrier()
        self.written += 1
        time_s = scalars.get("time_s")
        where = f" at t = {time_s:.6g} s" if isinstance(time_s, float) else ""
        self.log(f"checkpoint written{where}")


def read_checkpoint(folder: str | Path, comm: MPI.Comm) -> tuple[dict[str, Any], Path]:
    """The checkpoint.json of an interrupted result folder (collective), and the folder.

    Accepted: an electrolyx result folder whose run.json says ``"status": "interrupted"``, or
    a run's hidden folder left by a process killed hard (no run.json), holding a complete
    ``checkpoint/``. The number of ranks must be the checkpoint's.

    Raises:
        CaseError: on every rank, naming what is wrong (exit code 2).
    """
    from .output import RESULT_MARKER

    path = Path(folder).expanduser().resolve()
    problem, content = None, None
    if comm.rank == 0:
        problem, content = _check_folder(path, RESULT_MARKER)
        if problem is None and content["ranks"] != comm.size:
            problem = (
                f"--resume {path}: the checkpoint was written by {content['ranks']} rank(s), "
                f"this run has {comm.size}: resume with mpiexec -n {content['ranks']}"
            )
    problem, content = comm.bcast((problem, content), root=0)
    if problem is not None:
        raise CaseError([problem])
    return content, path


def _check_folder(path: Path, result_marker: str) -> tuple[str | None, dict | None]:
    """Why ``path`` cannot be resumed (or None) and its checkpoint.json (rank 0)."""
    shown = f"--resume {path}"
    if not path.is_dir():
        return f"{shown}: no such folder (give the folder of an interrupted run)", None
    run_file = path / "run.json"
    if run_file.exists():
        try:
            info = json.loads(run_file.read_bytes())
        except (OSError, ValueError, RecursionError):
            info = None
        if not isinstance(info, dict) or info.get(result_marker) != 1:
            return f"{shown} is not an electrolyx result (its run.json is not one)", None
        if info.get("status") != "interrupted":
            return (
                f"{shown} holds a {info.get('status', 'unknown')!r} run, not an interrupted "
                "one: only an interrupted run (SIGTERM, SIGINT) can be resumed",
                None,
            )
    checkpoint = path / CHECKPOINT_FOLDER / "checkpoint.json"
    try:
        content = json.loads(checkpoint.read_bytes()) if checkpoint.is_file() else None
    except (OSError, ValueError, RecursionError):
        content = None
    if not isinstance(content, dict) or content.get(CHECKPOINT_MARKER) != 1:
        what = "an interrupted run without" if run_file.exists() else "not a result folder with"
        return (
            f"{shown} is {what} a checkpoint ({CHECKPOINT_FOLDER}/checkpoint.json): the run "
            "was stopped before it could write one, or the folder is not an electrolyx result",
            None,
        )
    return None, content


def load_arrays(folder: Path, comm: MPI.Comm, content: Mapping[str, Any], mine: str) -> dict:
    """This rank's arrays of the checkpoint in ``folder`` after checking its fingerprint.

    Raises:
        CaseError: on every rank when any rank's mesh partition differs from the
            checkpoint's (another mesh, another partition or another number of ranks).
    """
    stored = content["fingerprints"][comm.rank]
    same = comm.allreduce(int(stored == mine), op=MPI.MIN)
    if not same:
        raise CaseError(
            [
                f"--resume {folder}: the mesh or its partition over the ranks differs from the "
                "checkpoint's (the degrees of freedom of some rank are not the same): resume "
                "with the same case, mesh and number of ranks"
            ]
        )
    with np.load(folder / CHECKPOINT_FOLDER / f"rank-{comm.rank:04d}.npz") as data:
        return {name: data[name] for name in data.files}
