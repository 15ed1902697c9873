"""The Python API: ``Simulation(case).solve()`` returning a :class:`Solution` of named results.

::

    import electrolyx as ex

    sim = ex.Simulation("dfn-chen2020-1C", experiment=["Discharge at 2C until 2.5 V"],
                        parameters={"Ambient temperature [K]": 268.15})
    sol = sim.solve()
    sol["voltage_V"]                 # numpy array, one value per row of timeseries.csv
    sol.timeseries                   # pandas DataFrame: timeseries.csv
    sol["electrolyte_concentration_mol_m3"]   # xarray DataArray over (time, x) of a profile
    sol.save("discharge.nc"); ex.load("discharge.nc")
    sol.plot("voltage_V")

A simulation runs exactly as ``electrolyx run`` does (:func:`electrolyx.driver.execute`: the
same validation, result folder, run.json), into ``out`` when given, else into a temporary folder
that is removed once its results are read. The :class:`Solution` holds what the run wrote
(timeseries.csv, profiles.csv, run.json) read back exactly (the CSV files hold every float's
shortest round-trip representation). Under ``mpiexec -n N`` every rank runs; rank 0 reads the
results and broadcasts them, so every rank holds the same Solution; :meth:`Solution.save` and
:meth:`Solution.plot` write on rank 0 only.

Keyword overrides map onto the case's dotted keys, as ``--set`` does on the command line:
``experiment=[...]`` sets ``experiment.steps``; ``parameters={name: value}`` sets
``parameters.values."name"`` (a parameter of the set or BPX file by its PyBaMM/BPX name, see
:mod:`electrolyx.parameters.by_name`); ``set={"mesh.negative_cells": 10}`` any other key.

The results are :mod:`electrolyx.solution`'s classes (re-exported here), read from the result
folder by :mod:`electrolyx.result_reading`. This module imports nothing heavy at import time:
dolfinx, PETSc, xarray, pandas and matplotlib are imported by the methods that need them.
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CaseError
from .result_reading import _read_folder
from .solution import FILE_FORMAT as FILE_FORMAT
from .solution import Solution, SweepSolution, _solution_from_data, load

if TYPE_CHECKING:
    from .case import Case

__all__ = ["Simulation", "Solution", "SweepSolution", "load"]


def _comm(comm: Any = None) -> Any:
    if comm is not None:
        return comm
    from mpi4py import MPI

    return MPI.COMM_WORLD


class Simulation:
    """A case ready to run, with keyword overrides.

    Args:
        case: A case folder (holding case.toml), the name of a shipped case (``electrolyx
            cases``), a case document as a dict (what case.toml parses to; files it names are
            relative to ``directory``), a settings object of :mod:`electrolyx.settings`, or
            another simulation's ``case``.
        experiment: Protocol steps (``experiment.steps`` of a DFN case), e.g.
            ``["Charge at 2C until 4.2 V", "Rest for 10 minutes"]``.
        parameters: Parameter values by their PyBaMM/BPX name (``parameters.values``), e.g.
            ``{"Ambient temperature [K]": 268.15}``.
        set: Any other case value by its dotted key (``{"mesh.negative_cells": 10}``), or
            ``--set`` strings (``["mesh.negative_cells=10"]``, values parsed as TOML).
        directory: Folder a dict case's relative file names refer to (default: the working
            directory).
        comm: MPI communicator (default ``MPI.COMM_WORLD``).

    Raises:
        CaseError: for invalid input, naming the key, the value and what is allowed (the case
            is validated here, before anything runs).
    """

    def __init__(
        self,
        case: str | Path | Mapping[str, Any],
        *,
        experiment: Sequence[str] | None = None,
        parameters: Mapping[str, Any] | None = None,
        set: Mapping[str, Any] | Sequence[str] | None = None,  # noqa: A002 (as --set)
        directory: str | Path | None = None,
        comm: Any = None,
    ):
        from .case import case_from_overrides, find_case, read_document

        self.comm = comm
        strings: list[str] = []
        values: dict[str, Any] = {}
        if isinstance(set, Mapping):
            values.update(set)
        elif set is not None:
            if isinstance(set, str):
                raise CaseError(["set: give a dict {dotted key: value} or a list of KEY=VALUE"])
            strings = [str(item) for item in set]
        if experiment is not None:
            if isinstance(experiment, str):
                experiment = [experiment]
            values["experiment.steps"] = list(experiment)
        for name, value in (parameters or {}).items():
            values[f"parameters.values.{json.dumps(str(name))}"] = value
        from .case import Case

        if isinstance(case, Case):  # e.g. Simulation(other.case, set=...): its document again
            folder, document = case.directory, copy.deepcopy(case.document)
        elif isinstance(case, Mapping) or hasattr(case, "model_dump"):
            # A case document, or a settings object of electrolyx.settings (pydantic).
            folder = Path(directory if directory is not None else Path.cwd()).resolve()
            raw = case.model_dump(mode="json") if hasattr(case, "model_dump") else case
            document = copy.deepcopy(dict(raw))
        else:
            folder = find_case(case)
            document = read_document(folder)
        self.case: Case = case_from_overrides(folder, document, strings, values)

    @property
    def settings(self) -> dict[str, Any]:
        """The validated settings, every default filled in (as run.json's ``case``)."""
        return self.case.settings

    @property
    def model(self) -> str:
        """The model (``[case] model``)."""
        return self.case.model

    def check(self) -> dict[str, Any]:
        """Build the mesh without solving; return its sizes and the model's diagnostics."""
        from .driver import mesh_statistics, prepare
        from .output import PhaseTimer

        model = prepare(self.case, _comm(self.comm), PhaseTimer())
        return {
            "mesh": mesh_statistics(model.mesh, model.unknowns()),
            "diagnostics": model.diagnostics(),
        }

    def solve(
        self,
        out: str | Path | None = None,
        *,
        overwrite: bool = False,
        force: bool = False,
        quiet: bool = True,
    ) -> Solution | SweepSolution:
        """Run the case (every run of its ``[sweep]``) exactly as ``electrolyx run`` does.

        Args:
            out: Result folder to keep (as ``--out``; the same rules: nothing of the user's is
                overwritten). Default: a temporary folder, removed once read (under
                ``mpiexec`` on several nodes give a folder every node sees).
            overwrite: As ``--overwrite``.
            force: As ``--force``.
            quiet: Print nothing (False: the progress and messages of ``electrolyx run``).

        Returns:
            The :class:`Solution` (a :class:`SweepSolution` for a case with a ``[sweep]``);
            a run the solver gave up on returns what it wrote, with ``status == "failed"``
            and a warning.

        Raises:
            CaseError: for a result folder that cannot be written, or a run that does not fit.
            KeyboardInterrupt: on SIGINT/SIGTERM, after keeping what was written (as the CLI).
        """
        from .driver import execute, make_logger

        comm = _comm(self.comm)
        log = make_logger(comm, silent=quiet)
        scratch = None
        if out is None:
            scratch = comm.bcast(
                tempfile.mkdtemp(prefix="electrolyx-") if comm.rank == 0 else None, root=0
            )
            out = Path(scratch) / self.case.name
        try:
            code, folder = execute(self.case, out, comm, log, overwrite=overwrite, force=force)
            data = None
            if comm.rank == 0:
                data = _read_folder(folder)
            data = comm.bcast(data, root=0)
        finally:
            if scratch is not None:
                comm.barrier()
                if comm.rank == 0:
                    shutil.rmtree(scratch, ignore_errors=True)
        kept = None if scratch is not None else Path(folder)
        solution = _solution_from_data(data, kept, comm)
        if code != 0:
            warnings.warn(
                f"the run did not complete: {_status_text(solution)}", RuntimeWarning, stacklevel=2
            )
        return solution


def _status_text(solution: Solution | SweepSolution) -> str:
    if isinstance(solution, SweepSolution):
        failed = [s.info.get("message", "") for s in solution.runs if s.status != "completed"]
        return f"{len(failed)} run(s) of the sweep did not complete"
    return f"{solution.status}: {solution.info.get('message', '')}"
