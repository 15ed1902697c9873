"""The result folder of a run: run.json, timeseries.csv, profiles.csv and fields for ParaView.

A run writes into a hidden temporary folder beside the requested one and renames it into place
when the run ends, so a folder named like a result is always complete: a killed run leaves only
``.NAME.tmp-PID``. Rows of the CSV files are flushed as they are produced, so a run that stops on
an error still keeps every result computed before (its run.json then says ``status: failed``).
Only rank 0 touches the CSV and JSON files; fields are written collectively.
"""

from __future__ import annotations

import csv
import gc
import json
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mpi4py import MPI

import dolfinx
import numpy as np

from .sampling import LineSampler, segment_points

__all__ = ["PhaseTimer", "ResultWriter"]


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


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer | np.floating):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


class ResultWriter:
    """Writes one run's outputs into a temporary folder and moves it into place at the end.

    Args:
        out_dir: Final result folder.
        comm: Communicator of the run.
    """

    def __init__(self, out_dir: str | Path, comm: MPI.Comm):
        self.comm = comm
        self.final = Path(out_dir).resolve()
        pid = comm.bcast(os.getpid() if comm.rank == 0 else None, root=0)
        self.path = self.final.parent / f".{self.final.name}.tmp-{pid}"
        if comm.rank == 0:
            if self.path.exists():
                shutil.rmtree(self.path)
            self.path.mkdir(parents=True)
        comm.barrier()
        self._timeseries_file = None
        self._timeseries_writer: csv.DictWriter | None = None
        self._timeseries_columns: list[str] = []
        self._profiles_file = None
        self._profiles_writer = None
        self._samplers: dict[str, tuple[LineSampler, np.ndarray]] = {}
        self._vtk: dolfinx.io.VTKFile | None = None
        self._vtx: dolfinx.io.VTXWriter | None = None
        self._field_functions: list[dolfinx.fem.Function] = []

    # -- time series -----------------------------------------------------------------------
    def add_timeseries_row(self, row: Mapping[str, float]) -> None:
        """Append one row; the first row fixes the columns (``time_s`` first)."""
        if self.comm.rank != 0:
            return
        if self._timeseries_writer is None:
            columns = ["time_s"] + [k for k in row if k != "time_s"]
            self._timeseries_columns = columns
            self._timeseries_file = open(self.path / "timeseries.csv", "w", newline="")
            self._timeseries_writer = csv.DictWriter(self._timeseries_file, fieldnames=columns)
            self._timeseries_writer.writeheader()
        self._timeseries_writer.writerow({k: _fmt(row[k]) for k in self._timeseries_columns})
        self._timeseries_file.flush()

    # -- profiles --------------------------------------------------------------------------
    def set_profiles(self, mesh: dolfinx.mesh.Mesh, profiles: Sequence[Mapping[str, Any]]) -> None:
        """Prepare the line segments of ``[[output.profiles]]`` on ``mesh``."""
        for profile in profiles:
            points = segment_points(profile["start"], profile["end"], profile["points"])
            self._samplers[profile["name"]] = (LineSampler(mesh, points), points)

    def write_profiles(self, time_s: float, fields: Mapping[str, dolfinx.fem.Function]) -> None:
        """Sample every named scalar field along every profile and append to profiles.csv."""
        if not self._samplers:
            return
        for name, (sampler, points) in self._samplers.items():
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
                for p, v in zip(points, values[:, 0], strict=True):
                    if np.isnan(v):
                        continue
                    self._profiles_writer.writerow(
                        [
                            _fmt(time_s),
                            name,
                            field_name,
                            _fmt(p[0]),
                            _fmt(p[1]),
                            _fmt(p[2]),
                            _fmt(v),
                        ]
                    )
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
        for f in (self._vtk, self._vtx):
            if f is not None:
                f.close()
        # dolfinx's VTKFile writes its .pvd again when destroyed: destroy it before the rename.
        self._vtk = self._vtx = None
        gc.collect()

    def finish(self, run_info: Mapping[str, Any]) -> Path:
        """Write run.json, close every file and rename the folder into place."""
        self._close_fields()
        if self.comm.rank == 0:
            for f in (self._timeseries_file, self._profiles_file):
                if f is not None:
                    f.close()
            with open(self.path / "run.json", "w") as f:
                json.dump(run_info, f, indent=2, default=_json_default)
                f.write("\n")
            if self.final.exists():
                shutil.rmtree(self.final)
            self.path.rename(self.final)
        self.comm.barrier()
        return self.final

    def abandon(self) -> None:
        """Remove the temporary folder (used when nothing worth keeping was produced)."""
        self._close_fields()
        if self.comm.rank == 0 and self.path.exists():
            shutil.rmtree(self.path)
        self.comm.barrier()


def _fmt(value: Any) -> str:
    if isinstance(value, str):
        return value
    return repr(float(value))
