"""A result folder read back as plain data: CSV columns (every float exact), run.json, profiles.

For the API (:mod:`electrolyx.api`, :mod:`electrolyx.solution`); rank 0 reads. Imports nothing
heavy at import time (numpy and xarray inside the functions).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import xarray


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
