"""Read-only access to an electrolyx result folder (see ``docs/architecture.md``).

A result folder holds ``run.json``, ``timeseries.csv``, ``profiles.csv``, ``fields/fields.pvd``
and ``figures/``. Nothing here imports dolfinx: the folder is all that is needed, so the
post-processing also runs on a laptop that only has the results.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "PostprocessError",
    "Profile",
    "ResultFolder",
    "format_choices",
    "is_sweep_folder",
]


class PostprocessError(ValueError):
    """A request that the result folder cannot satisfy (unknown field, time out of range...).

    The message names what is available; the command line turns it into exit code 2.
    """


def format_choices(values: list[Any], limit: int = 12) -> str:
    """Comma-separated list of values, shortened in the middle when longer than ``limit``."""
    shown = [f"{v:.6g}" if isinstance(v, float) else str(v) for v in values]
    if len(shown) > limit:
        half = limit // 2
        skipped = len(shown) - 2 * half
        shown = [*shown[:half], f"... ({skipped} more) ...", *shown[-half:]]
    return ", ".join(shown)


@dataclass(frozen=True)
class Profile:
    """One field sampled along one line segment at one saved time.

    Attributes:
        name: Profile name from the case file (``wall_normal``).
        field: Field name with unit suffix (``potential_V``).
        time_s: Saved time in seconds.
        points_m: Sample coordinates, shape ``(n, 3)``, in metres, ordered along the segment.
        values: Field values at the points.
    """

    name: str
    field: str
    time_s: float
    points_m: np.ndarray
    values: np.ndarray

    @property
    def distance_m(self) -> np.ndarray:
        """Distance of each sample from the first one, along the segment, in metres."""
        return np.linalg.norm(self.points_m - self.points_m[0], axis=1)

    @property
    def varying_axis(self) -> str | None:
        """``"x"``, ``"y"`` or ``"z"`` when the segment runs along one axis, else ``None``."""
        spans = np.ptp(self.points_m, axis=0)
        if spans.max() == 0.0:
            return None
        moving = np.flatnonzero(spans > 1e-9 * spans.max())
        return "xyz"[moving[0]] if moving.size == 1 else None


def is_sweep_folder(path: str | Path) -> bool:
    """True when ``path`` has no ``run.json`` but sub-folders that are result folders."""
    path = Path(path)
    if (path / "run.json").is_file():
        return False
    return any((child / "run.json").is_file() for child in path.iterdir() if child.is_dir())


class ResultFolder:
    """A result folder written by ``electrolyx run``, read lazily.

    Args:
        path: The folder.

    Raises:
        PostprocessError: When ``path`` is not a result folder.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise PostprocessError(f"{self.path} is a file, not a result folder")
        if not self.path.is_dir():
            raise PostprocessError(f"result folder {self.path} does not exist")
        known = ("run.json", "timeseries.csv", "profiles.csv", "fields")
        if not any((self.path / name).exists() for name in known):
            raise PostprocessError(
                f"{self.path} is not a result folder: it holds none of {', '.join(known)}"
            )
        self._run: dict[str, Any] | None = None
        self._times: list[float] | None = None
        self._field_cache: dict[float, Any] = {}

    # -- run.json ---------------------------------------------------------------------------
    @property
    def run(self) -> dict[str, Any]:
        """Contents of ``run.json`` (empty when the folder has none).

        Raises:
            PostprocessError: when run.json is not UTF-8 JSON holding an object.
        """
        if self._run is None:
            run_file = self.path / "run.json"
            self._run = _read_run_json(run_file) if run_file.is_file() else {}
        return self._run

    def _section(self, name: str) -> dict[str, Any]:
        """A table of run.json, empty when absent or not a table."""
        value = self.run.get(name)
        return value if isinstance(value, dict) else {}

    @property
    def model(self) -> str:
        """Model name from ``run.json`` (``"pnp"``, ``"dfn"``...), ``""`` when unknown."""
        model = self.run.get("model", "")
        if isinstance(model, dict):
            model = model.get("name", "")
        if not model:
            model = self._section("case").get("model", "")
            if isinstance(model, dict):
                model = model.get("name", model.get("type", ""))
        return str(model)

    @property
    def debye_length_m(self) -> float | None:
        """Bulk Debye length from ``run.json`` diagnostics, when the model reports one."""
        value = self._section("diagnostics").get("debye_length_m")
        if isinstance(value, int | float) and math.isfinite(value) and value > 0:
            return float(value)
        return None

    @property
    def boundaries(self) -> dict[str, np.ndarray]:
        """Named boundaries of the mesh: name -> bounding box ``[[xmin, ymin, zmin], [max...]]``."""
        raw = self._section("mesh").get("boundaries", {}) or {}
        if not isinstance(raw, dict):
            return {}
        boxes = {}
        for name, box in raw.items():
            try:
                boxes[name] = np.asarray(box, dtype=float).reshape(2, 3)
            except (TypeError, ValueError):
                continue  # not a bounding box: this boundary is not drawn
        return boxes

    # -- timeseries.csv ---------------------------------------------------------------------
    def timeseries(self) -> dict[str, np.ndarray]:
        """Numeric columns of ``timeseries.csv`` by name, in file order (empty when absent)."""
        path = self.path / "timeseries.csv"
        return read_numeric_csv(path) if path.is_file() else {}

    # -- profiles.csv -----------------------------------------------------------------------
    def profiles(self) -> list[Profile]:
        """Profiles of ``profiles.csv``, one per (profile, field, time), points in file order."""
        path = self.path / "profiles.csv"
        if not path.is_file():
            return []
        groups: dict[tuple[str, str, float], list[tuple[float, float, float, float]]] = {}
        with path.open(newline="") as stream:
            for row in csv.DictReader(stream):
                key = (row["profile"], row["field"], float(row["time_s"]))
                point = (float(row["x_m"]), float(row["y_m"]), float(row["z_m"]))
                groups.setdefault(key, []).append((*point, float(row["value"])))
        profiles = []
        for (name, field, time_s), rows in groups.items():
            data = np.asarray(rows, dtype=float)
            profiles.append(Profile(name, field, time_s, data[:, :3], data[:, 3]))
        return profiles

    # -- fields/fields.pvd ------------------------------------------------------------------
    @property
    def fields_file(self) -> Path:
        """Path of the ParaView collection ``fields/fields.pvd``."""
        return self.path / "fields" / "fields.pvd"

    def _reader(self) -> Any:
        import pyvista

        if not self.fields_file.is_file():
            raise PostprocessError(f"{self.path} has no fields ({self.fields_file} is missing)")
        return pyvista.get_reader(str(self.fields_file))

    def times(self) -> list[float]:
        """Saved times of the fields, in seconds, ascending."""
        if self._times is None:
            self._times = sorted(float(t) for t in self._reader().time_values)
        return self._times

    def resolve_time(self, time: float | None) -> float:
        """Saved time matching ``time`` (the last one when ``None``).

        A request between saved times picks the nearest one.

        Raises:
            PostprocessError: When ``time`` lies outside the saved times; the message lists them.
        """
        times = self.times()
        if not times:
            raise PostprocessError(f"{self.fields_file} holds no saved time")
        if time is None:
            return times[-1]
        span = times[-1] - times[0]
        # (The listed times are printed with 6 digits: a value copied from the list is accepted.)
        tolerance = max(1e-9 * span, 5e-6 * max(abs(times[0]), abs(times[-1])), 1e-300)
        if time < times[0] - tolerance or time > times[-1] + tolerance:
            raise PostprocessError(
                f"time {time:g} s is out of range; saved times (s): {format_choices(times)}"
            )
        return min(times, key=lambda t: abs(t - time))

    def read_mesh(self, time: float | None = None) -> Any:
        """Fields at one saved time as one ``pyvista.UnstructuredGrid`` (all MPI pieces merged).

        Ghost cells written by parallel runs are removed and coincident points merged, so a
        result of ``mpiexec -n 2`` reads like a serial one.

        Args:
            time: Saved time in seconds, ``None`` for the last.
        """
        resolved = self.resolve_time(time)
        if resolved not in self._field_cache:
            reader = self._reader()
            reader.set_active_time_value(resolved)
            data = reader.read()
            grid = data.combine() if hasattr(data, "combine") else data
            if grid is None or grid.n_points == 0:
                raise PostprocessError(
                    f"the fields at t = {resolved:g} s in {self.fields_file} could not be read "
                    "(missing or damaged .vtu pieces?)"
                )
            grid = _merge_coincident_points(_without_ghost_cells(grid))
            self._field_cache[resolved] = grid
        return self._field_cache[resolved]

    def field_names(self) -> list[str]:
        """Names of the point and cell fields (VTK bookkeeping arrays left out)."""
        grid = self.read_mesh(self.times()[-1] if self.times() else None)
        names = [*grid.point_data.keys(), *grid.cell_data.keys()]
        return [n for n in dict.fromkeys(names) if not n.startswith("vtk")]

    def resolve_field(self, field: str) -> str:
        """Check that ``field`` exists.

        Raises:
            PostprocessError: When it does not; the message lists the available fields.
        """
        names = self.field_names()
        if field not in names:
            raise PostprocessError(
                f"unknown field {field!r}; available fields: {format_choices(names, limit=40)}"
            )
        return field


def _read_run_json(path: Path) -> dict[str, Any]:
    """run.json as a dictionary.

    Raises:
        PostprocessError: naming the file, when it is not UTF-8 JSON holding an object.
    """
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise PostprocessError(f"{path}: not UTF-8 text (byte offset {error.start})") from None
    except json.JSONDecodeError as error:
        raise PostprocessError(
            f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except RecursionError:
        raise PostprocessError(f"{path}: nested too deeply to be a run.json") from None
    except ValueError as error:
        raise PostprocessError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise PostprocessError(
            f"{path}: holds a JSON {type(data).__name__}, not the object electrolyx run writes"
        )
    return data


def read_numeric_csv(path: str | Path) -> dict[str, np.ndarray]:
    """Columns of a CSV file with a header row, as float arrays; non-numeric columns skipped.

    Args:
        path: CSV file.

    Returns:
        Column name -> values, in file order.
    """
    with Path(path).open(newline="") as stream:
        reader = csv.reader(stream)
        header = [name.strip() for name in next(reader, [])]
        rows = [row for row in reader if row]
    columns: dict[str, np.ndarray] = {}
    for index, name in enumerate(header):
        try:
            columns[name] = np.array([float(row[index]) for row in rows], dtype=float)
        except (ValueError, IndexError):
            continue
    return columns


def _without_ghost_cells(grid: Any) -> Any:
    """Drop cells flagged as ghosts (``vtkGhostType`` != 0) by parallel writers."""
    ghosts = grid.cell_data.get("vtkGhostType") if hasattr(grid, "cell_data") else None
    if ghosts is None or not np.any(ghosts):
        return grid
    owned = grid.extract_cells(np.flatnonzero(np.asarray(ghosts) == 0))
    for name in ("vtkGhostType", "vtkOriginalCellIds"):
        if name in owned.cell_data.keys():
            del owned.cell_data[name]
    return owned


def _merge_coincident_points(grid: Any) -> Any:
    """Merge the copies of points on the interfaces between MPI pieces.

    The pieces' copies of a point can differ in the last bits (coordinates of order 1e-23 m
    apart), so points that agree to 1e-9 of the domain diagonal are one point; VTK's own
    cleaning filter leaves some of these apart.
    """
    import pyvista

    points = np.asarray(grid.points, dtype=float)
    if points.shape[0] == 0 or not hasattr(grid, "cell_connectivity"):
        return grid
    resolution = 1e-9 * (float(np.linalg.norm(np.ptp(points, axis=0))) or 1.0)
    keys = np.round(points / resolution).astype(np.int64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    if first.size == points.shape[0]:
        return grid
    offsets = np.asarray(
        grid.cell_offsets if hasattr(grid, "cell_offsets") else grid.offset, dtype=np.int64
    )
    connectivity = inverse[np.asarray(grid.cell_connectivity, dtype=np.int64)]
    counts = np.diff(offsets)
    legacy = np.empty(counts.size + connectivity.size, dtype=np.int64)
    starts = offsets[:-1] + np.arange(counts.size)
    is_count = np.zeros(legacy.size, dtype=bool)
    is_count[starts] = True
    legacy[is_count] = counts
    legacy[~is_count] = connectivity
    merged = pyvista.UnstructuredGrid(legacy, np.asarray(grid.celltypes), points[first])
    for name in grid.point_data.keys():
        if not name.startswith("vtk"):
            merged.point_data[name] = np.asarray(grid.point_data[name])[first]
    for name in grid.cell_data.keys():
        if not name.startswith("vtk"):
            merged.cell_data[name] = np.asarray(grid.cell_data[name])
    return merged
