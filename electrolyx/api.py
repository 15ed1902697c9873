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

This module imports nothing heavy at import time: dolfinx, PETSc, xarray, pandas and matplotlib
are imported by the methods that need them.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import shutil
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CaseError

if TYPE_CHECKING:
    import pandas
    import xarray

    from .case import Case

__all__ = ["Simulation", "Solution", "SweepSolution", "load"]

#: version of the NetCDF layout written by :meth:`Solution.save`
FILE_FORMAT = 1


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


# -- reading a result folder (rank 0) ------------------------------------------------------


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def _read_csv(path: Path) -> dict[str, list[Any]]:
    """Columns of a CSV file written by ResultWriter, every float read back exactly."""
    if not path.is_file():
        return {}
    with open(path, newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader, None)
        if header is None:
            return {}
        columns: dict[str, list[Any]] = {name: [] for name in header}
        for row in reader:
            for name, cell in zip(header, row, strict=True):
                columns[name].append(_number(cell))
    return columns


def _read_folder(folder: Path) -> dict[str, Any]:
    """What a single run's result folder (or a sweep folder) holds, as plain Python data."""
    folder = Path(folder)
    if (folder / "sweep.csv").is_file() and not (folder / "run.json").is_file():
        table = _read_csv(folder / "sweep.csv")
        runs = [_read_folder(folder / str(name)) for name in table.get("folder", [])]
        return {"kind": "sweep", "table": table, "runs": runs}
    info = json.loads((folder / "run.json").read_text())
    return {
        "kind": "run",
        "info": info,
        "timeseries": _read_csv(folder / "timeseries.csv"),
        "profiles": _read_csv(folder / "profiles.csv"),
    }


def _solution_from_data(data: dict[str, Any], folder: Path | None, comm: Any) -> Any:
    if data["kind"] == "sweep":
        runs = [
            _solution_from_data(run, folder / name if folder is not None else None, comm)
            for run, name in zip(data["runs"], data["table"].get("folder", []), strict=True)
        ]
        return SweepSolution(data["table"], runs, folder)
    return Solution._from_columns(
        data["info"], data["timeseries"], data["profiles"], folder=folder, comm=comm
    )


def _profile_datasets(
    columns: dict[str, list[Any]], info: Mapping[str, Any]
) -> dict[str, xarray.Dataset]:
    """profiles.csv as one xarray Dataset per profile: a variable per field over (time, x).

    ``x`` is the distance from the profile's start [m] (the position itself along a profile
    that starts at the origin and runs along x, as the 1D profiles do); the points' x, y, z
    are coordinates along ``x``. A point outside the mesh (never written) is NaN.
    """
    import numpy as np
    import xarray as xr

    if not columns:
        return {}
    starts = {
        p["name"]: p["start"]
        for p in (info.get("case", {}).get("output", {}) or {}).get("profiles", []) or []
        if isinstance(p, dict) and "name" in p and "start" in p
    }
    names = columns["profile"]
    result = {}
    for profile in dict.fromkeys(names):
        rows = [i for i, name in enumerate(names) if name == profile]
        times = sorted(dict.fromkeys(columns["time_s"][i] for i in rows))
        fields = list(dict.fromkeys(columns["field"][i] for i in rows))
        points = list(
            dict.fromkeys((columns["x_m"][i], columns["y_m"][i], columns["z_m"][i]) for i in rows)
        )
        start = np.zeros(3)
        given = starts.get(profile)
        if given is not None:
            start[: len(given)] = given
        else:
            start[:] = points[0]
        xyz = np.array(points, dtype=float)
        distance = np.linalg.norm(xyz - start, axis=1)
        order = np.argsort(distance, kind="stable")
        xyz, distance = xyz[order], distance[order]
        point_index = {tuple(xyz[k]): k for k in range(len(xyz))}
        time_index = {t: k for k, t in enumerate(times)}
        variables = {}
        for field in fields:
            values = np.full((len(times), len(xyz)), np.nan)
            for i in rows:
                if columns["field"][i] != field:
                    continue
                point = (columns["x_m"][i], columns["y_m"][i], columns["z_m"][i])
                values[time_index[columns["time_s"][i]], point_index[point]] = columns["value"][i]
            variables[field] = (("time", "x"), values, {"units": _unit_of(field)})
        result[profile] = xr.Dataset(
            variables,
            coords={
                "time": ("time", np.array(times, dtype=float), {"units": "s"}),
                "x": ("x", distance, {"units": "m", "long_name": "distance along the profile"}),
                "x_m": ("x", xyz[:, 0], {"units": "m"}),
                "y_m": ("x", xyz[:, 1], {"units": "m"}),
                "z_m": ("x", xyz[:, 2], {"units": "m"}),
            },
            attrs={"profile": profile},
        )
    return result


#: unit suffix of a column name -> unit (the names end in their SI unit: voltage_V, ...)
_UNITS = {
    "_s": "s",
    "_V": "V",
    "_A": "A",
    "_Ah": "A h",
    "_Wh": "W h",
    "_W": "W",
    "_K": "K",
    "_m": "m",
    "_mol": "mol",
    "_mol_m3": "mol m-3",
    "_A_m2": "A m-2",
    "_C_m2": "C m-2",
    "_S": "S",
    "_J": "J",
}


def _unit_of(name: str) -> str:
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if name.endswith(suffix):
            return _UNITS[suffix]
    return ""


class Solution:
    """The results of one run: named time series, profiles over (time, x), and run.json.

    Attributes:
        info: run.json of the run (case settings, mesh, diagnostics, solver statistics,
            timings, status).
        folder: The result folder, when the run was given one (``solve(out=...)``), else None.
    """

    def __init__(
        self,
        info: Mapping[str, Any],
        timeseries: pandas.DataFrame,
        profiles: Mapping[str, xarray.Dataset],
        folder: Path | None = None,
        comm: Any = None,
    ):
        self.info = dict(info)
        self._timeseries = timeseries
        self.profiles = dict(profiles)
        self.folder = folder
        self._comm = comm

    @classmethod
    def _from_columns(
        cls,
        info: Mapping[str, Any],
        timeseries: dict[str, list[Any]],
        profiles: dict[str, list[Any]],
        folder: Path | None = None,
        comm: Any = None,
    ) -> Solution:
        import pandas as pd

        frame = pd.DataFrame({name: _column(values) for name, values in timeseries.items()})
        return cls(info, frame, _profile_datasets(profiles, info), folder, comm)

    # -- access ------------------------------------------------------------------------------
    @property
    def timeseries(self) -> pandas.DataFrame:
        """timeseries.csv as a DataFrame (one column per quantity, ``time_s`` first)."""
        return self._timeseries

    @property
    def status(self) -> str:
        """``completed``, ``failed`` or ``interrupted`` (run.json)."""
        return str(self.info.get("status", "unknown"))

    @property
    def model(self) -> str:
        """The model that ran."""
        return str(self.info.get("model", ""))

    @property
    def time_s(self) -> Any:
        """Times of the rows [s] (numpy)."""
        return self["time_s"]

    def keys(self) -> list[str]:
        """Every name ``solution[name]`` accepts: time-series columns, then profile fields."""
        names = list(self._timeseries.columns)
        for dataset in self.profiles.values():
            names += [str(n) for n in dataset.data_vars if n not in names]
        return names

    def __contains__(self, name: object) -> bool:
        return name in self.keys()

    def __getitem__(self, name: str) -> Any:
        """A time series (numpy array) or a profile field (xarray DataArray over (time, x)).

        A field sampled along several profiles is ``solution.profiles[profile][name]``.

        Raises:
            KeyError: naming what exists.
        """
        if name in self._timeseries.columns:
            return self._timeseries[name].to_numpy()
        found = [p for p, ds in self.profiles.items() if name in ds.data_vars]
        if len(found) == 1:
            return self.profiles[found[0]][name]
        if len(found) > 1:
            raise KeyError(
                f"{name!r} is sampled along several profiles ({', '.join(found)}): use "
                f"solution.profiles[PROFILE][{name!r}]"
            )
        raise KeyError(f"no result named {name!r}; this solution has: {', '.join(self.keys())}")

    def __repr__(self) -> str:
        rows = len(self._timeseries)
        profiles = ", ".join(self.profiles) or "none"
        return (
            f"<electrolyx.Solution {self.model} {self.status}: {rows} rows of "
            f"{len(self._timeseries.columns)} time series; profiles: {profiles}>"
        )

    # -- files ---------------------------------------------------------------------------------
    def to_datatree(self) -> xarray.DataTree:
        """The solution as an xarray DataTree.

        The time series at the root (dimension ``row``), one group per profile under
        ``profiles/``, run.json in the attributes.
        """
        import xarray as xr

        variables = {}
        for name in self._timeseries.columns:
            values = self._timeseries[name].to_numpy()
            if values.dtype == object:
                values = values.astype(str)
            variables[str(name)] = (("row",), values, {"units": _unit_of(str(name))})
        root = xr.Dataset(
            variables,
            attrs={
                "electrolyx_solution": FILE_FORMAT,
                "columns": json.dumps([str(c) for c in self._timeseries.columns]),
                "run_json": json.dumps(self.info, default=_json_default),
                "profiles": json.dumps(list(self.profiles)),
            },
        )
        tree = {"/": root}
        for index, (name, dataset) in enumerate(self.profiles.items()):
            tree[f"/profiles/p{index}"] = dataset.assign_attrs(profile=name)
        return xr.DataTree.from_dict(tree)

    def save(self, path: str | Path) -> Path:
        """Write the solution to a NetCDF-4 file (xarray + h5netcdf); rank 0 writes.

        An existing file is refused (nothing is overwritten unasked): remove it first.

        Raises:
            FileExistsError: if ``path`` exists.
        """
        target = Path(path).expanduser()
        comm = self._comm
        if comm is None or comm.rank == 0:
            if target.exists():
                raise FileExistsError(f"{target} exists: give a new file name")
            self.to_datatree().to_netcdf(target, engine="h5netcdf")
        return target

    # -- plots ---------------------------------------------------------------------------------
    def plot(self, name: str, ax: Any = None, x: str = "time_s") -> Any:
        """Plot one result with matplotlib; return the Axes (None on ranks other than 0).

        A time series is drawn against ``x`` (time in s, min or h, whichever reads best, or
        another column); a profile field as one line per saved time over the position.
        """
        if self._comm is not None and self._comm.rank != 0:
            return None
        import matplotlib.pyplot as plt

        from .postprocess.units import axis_label

        if ax is None:
            _, ax = plt.subplots()
        values = self[name]
        label = axis_label(name)
        if hasattr(values, "dims"):  # a profile field over (time, x)
            for time, line in zip(values["time"].values, values.values, strict=True):
                scale, time_unit = _time_unit(float(values["time"].values.max()))
                ax.plot(values["x"].values * 1e6, line, label=f"{time / scale:.4g} {time_unit}")
            ax.set_xlabel("distance along the profile (µm)")
            ax.legend(fontsize="small")
        else:
            abscissa = self[x]
            if x == "time_s":
                scale, time_unit = _time_unit(float(abscissa.max()) if len(abscissa) else 0.0)
                ax.plot(abscissa / scale, values)
                ax.set_xlabel(axis_label("time", time_unit))
            else:
                ax.plot(abscissa, values)
                ax.set_xlabel(axis_label(x))
        ax.set_ylabel(label)
        return ax


def _time_unit(end_s: float) -> tuple[float, str]:
    """Scale and name of the time unit that reads best up to ``end_s``: s, min or h."""
    if end_s >= 3 * 3600:
        return 3600.0, "h"
    if end_s >= 3 * 60:
        return 60.0, "min"
    return 1.0, "s"


def _column(values: list[Any]) -> Any:
    import numpy as np

    if all(isinstance(v, float) for v in values):
        return np.array(values, dtype=float)
    return np.array(values, dtype=object)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


class SweepSolution:
    """The results of a sweep: the table of runs (sweep.csv) and one :class:`Solution` per run.

    Attributes:
        runs: The runs' solutions, in the order of ``[sweep] values``.
        folder: The sweep folder, when the run was given one, else None.
    """

    def __init__(self, table: dict[str, list[Any]], runs: list[Solution], folder: Path | None):
        self._table = table
        self.runs = runs
        self.folder = folder

    @property
    def table(self) -> pandas.DataFrame:
        """sweep.csv: one row per run (swept values, status, final results)."""
        import pandas as pd

        return pd.DataFrame({name: _column(values) for name, values in self._table.items()})

    def __len__(self) -> int:
        return len(self.runs)

    def __getitem__(self, index: int) -> Solution:
        return self.runs[index]

    def __iter__(self):
        return iter(self.runs)


def load(path: str | Path) -> Solution:
    """Read a solution saved by :meth:`Solution.save` (or a result folder of ``electrolyx run``).

    Raises:
        ValueError: for a file that is not an electrolyx solution.
    """
    source = Path(path).expanduser()
    if source.is_dir():
        data = _read_folder(source)
        return _solution_from_data(data, source, None)
    import pandas as pd
    import xarray as xr

    tree = xr.open_datatree(source, engine="h5netcdf")
    try:
        root = tree.to_dataset()
        if root.attrs.get("electrolyx_solution") != FILE_FORMAT:
            raise ValueError(f"{source} is not an electrolyx solution (saved by Solution.save)")
        columns = json.loads(root.attrs["columns"])
        frame = pd.DataFrame({name: _loaded(root[name].values) for name in columns})
        info = json.loads(root.attrs["run_json"])
        profiles = {}
        for index, name in enumerate(json.loads(root.attrs["profiles"])):
            dataset = tree[f"profiles/p{index}"].to_dataset().load()
            profiles[name] = dataset.assign_attrs(profile=name)
    finally:
        tree.close()
    return Solution(info, frame, profiles)


def _loaded(values: Any) -> Any:
    if values.dtype.kind in "USO":
        return values.astype(object)
    return values
