"""The results of a run as Python objects: :class:`Solution`, :class:`SweepSolution`, :func:`load`.

A :class:`Solution` holds what a run wrote (timeseries.csv, profiles.csv, run.json), read back
exactly (:mod:`electrolyx.result_reading`); :meth:`Solution.save` writes it into one NetCDF
file and :func:`load` reads that (or a result folder) back. Imports nothing heavy at import
time: pandas, xarray and matplotlib are imported by the methods that need them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .result_reading import _profile_datasets, _read_folder, _unit_of

if TYPE_CHECKING:
    import pandas
    import xarray

#: version of the NetCDF layout written by :meth:`Solution.save`
FILE_FORMAT = 1


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
