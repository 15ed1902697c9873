"""Parameter sweeps: one run per entry of ``[sweep] values``, and the table ``sweep.csv``.

:func:`sweep_cases` derives each run's case from the (overridden) case document by setting the
swept keys, and validates every run before any of them starts: all problems of all runs are
reported at once, each prefixed with its run. :func:`run_sweep` runs them one after the other
through :func:`electrolyx.driver.run_case` (each run writes its own result folder, exactly as a
single run does) and rewrites ``sweep.csv`` in the sweep folder after each run: one row per run
with the swept values, the run's status and its final results (see :data:`FINAL_COLUMNS`).
"""

from __future__ import annotations

import copy
import csv
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .case import Case, case_from_document
from .errors import CaseError
from .progress import Progress
from .settings.common import sweep_assignments
from .settings.keys import set_dotted_value, split_dotted_key

__all__ = [
    "FINAL_COLUMNS",
    "SweepRun",
    "run_results",
    "run_sweep",
    "sweep_cases",
    "sweep_cell",
    "write_sweep_table",
]

#: timeseries.csv columns whose last value sweep.csv reports, by model (others: every column).
FINAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "dfn": ("time_s", "voltage_V", "discharge_capacity_Ah"),
}


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep.

    Attributes:
        index: Position in ``[sweep] values`` (0-based).
        assignments: Swept key -> the value this run gives it.
        case: The validated case of this run (without ``[sweep]``).
    """

    index: int
    assignments: dict[str, Any]
    case: Case

    @property
    def folder_name(self) -> str:
        """Name of the run's result folder inside the sweep folder."""
        return f"run_{self.index:03d}"

    def label(self) -> str:
        """``run_001 (electrolyte.temperature = 310.0)``, for messages."""
        values = ", ".join(f"{key} = {value!r}" for key, value in self.assignments.items())
        return f"{self.folder_name} ({values})"


def sweep_cases(case: Case) -> list[SweepRun]:
    """Every run of the case's ``[sweep]``, each validated (once) as a case of its own.

    Raises:
        CaseError: listing every problem of every run, each prefixed with the run and its
            swept values, before anything runs.
    """
    sweep = case.settings["sweep"]
    runs: list[SweepRun] = []
    problems: list[str] = []
    for index, assignments in enumerate(sweep_assignments(sweep["keys"], sweep["values"])):
        document = copy.deepcopy(case.document)
        document.pop("sweep", None)
        label = SweepRun(index, assignments, case).label()
        try:
            for key, value in assignments.items():
                set_dotted_value(document, split_dotted_key(key), copy.deepcopy(value))
            runs.append(SweepRun(index, assignments, case_from_document(case.directory, document)))
        except CaseError as error:  # (a ValueError too: first)
            problems.extend(f"sweep {label}: {problem}" for problem in error.problems)
        except ValueError as error:
            problems.append(f"sweep {label}: {error}")
    if problems:
        raise CaseError(problems)
    return runs


def sweep_cell(value: Any) -> str:
    """A swept value as sweep.csv writes it: strings as they are, TOML booleans, JSON lists."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, default=str)


def _last_row(path: Path) -> dict[str, str]:
    try:
        with open(path, newline="") as stream:
            rows = list(csv.DictReader(stream))
    except OSError:
        return {}
    return rows[-1] if rows else {}


def run_results(model: str, folder: Path) -> dict[str, str]:
    """Status and final results of one run's result folder.

    Returns:
        ``status`` from run.json (``missing`` without one) and ``final_<column>``: the last
        row of timeseries.csv, for :data:`FINAL_COLUMNS` of the model, else every column.
    """
    try:
        info = json.loads((folder / "run.json").read_text())
        status = str(info.get("status", "unknown")) if isinstance(info, dict) else "unknown"
    except (OSError, ValueError):
        status = "missing"
    row = _last_row(folder / "timeseries.csv")
    columns = FINAL_COLUMNS.get(model, tuple(row))
    return {"status": status, **{f"final_{c}": row.get(c, "") for c in columns}}


def write_sweep_table(path: Path, keys: list[str], rows: list[Mapping[str, Any]]) -> None:
    """Write sweep.csv (through a temporary file renamed into place).

    Columns: ``run``, ``folder``, the swept keys, ``status``, then the other columns of the
    rows in the order they first appear; a run without a column leaves its cell empty.
    """
    columns = ["run", "folder", *keys, "status"]
    for row in rows:
        columns += [c for c in row if c not in columns]
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(temporary, "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, path)


def run_sweep(
    case: Case,
    out: str | Path,
    comm: Any,
    log: Callable[[str], None],
    overwrite: bool = False,
    force: bool = False,
) -> int:
    """Run every run of the case's ``[sweep]`` into ``out/run_NNN`` and tabulate them.

    Args:
        case: The validated case holding the ``[sweep]``.
        out: The sweep folder (new, or holding only this case's sweep results, unless
            ``overwrite`` moves it aside; see :func:`electrolyx.output.prepare_sweep_folder`).
        comm: MPI communicator (every rank runs every run; rank 0 writes sweep.csv).
        log: Progress printer.
        overwrite: Replace results in the way (never deletes anything it did not write).
        force: Run even when the resource estimate exceeds the available memory.

    Returns:
        The worst exit code of the runs (0: all completed).

    Raises:
        CaseError: if any run is invalid; then nothing runs.
    """
    from .driver import run_case
    from .output import prepare_sweep_folder

    runs = sweep_cases(case)
    out = prepare_sweep_folder(out, case.directory, comm, overwrite, log)
    keys = case.settings["sweep"]["keys"]
    table = out / "sweep.csv"
    rows: list[dict[str, Any]] = []
    worst = 0
    progress = Progress(log, len(runs), unit="sweep run", live=False)
    for run in runs:
        log(f"sweep {run.index + 1}/{len(runs)}: {run.label()}")
        progress.step(run.index, run.label())
        code, folder = run_case(
            run.case, out / run.folder_name, comm, log, overwrite=overwrite, force=force
        )
        progress.close("completed" if code == 0 else f"exit code {code}")
        worst = max(worst, code)
        if comm.rank == 0:
            rows.append(
                {
                    "run": run.index,
                    "folder": os.path.relpath(folder, out),
                    **{key: sweep_cell(run.assignments[key]) for key in keys},
                    **run_results(case.model, Path(folder)),
                }
            )
            write_sweep_table(table, keys, rows)
    log(f"sweep table written to {table}")
    return worst
