"""Synthetic result folders for the post-processing tests.

The folders follow docs/architecture.md (run.json, timeseries.csv, profiles.csv,
fields/fields.pvd written by dolfinx.io.VTKFile) and hold closed-form fields with the shapes of
real results, so that the pictures look like the ones a researcher makes:

- ``1d``: a Gouy-Chapman double layer (zeta = 0.1 V, c0 = 10 mol/m3, 1:1 salt) switched on
  over three saved times, on an interval 30 Debye lengths long;
- ``2d``: a slit nanochannel 100 nm x 20 nm with both walls at 25 mV in the Debye-Hueckel limit
  (potential zeta cosh(y'/lambda_D)/cosh(h/lambda_D)), plus a signed space-charge density;
- ``3d``: a 2 um cube "microstructure" with a particle surface concentration and a signed
  interfacial current density;
- ``dfn``: a discharge time series (voltage, current, capacity, temperature), no fields.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

# isort: off
import electrolyx  # noqa: F401  (loads the MPI/PETSc libraries before dolfinx is imported)

# isort: on
from mpi4py import MPI

import dolfinx.io
import numpy as np
from dolfinx import fem, mesh

__all__ = [
    "DEBYE_LENGTH_M",
    "TIMES_S",
    "ZETA_V",
    "gouy_chapman_potential",
    "load_rgb",
    "pixel_std",
    "thumbnail_difference",
    "write_result_folder",
    "write_sweep_folder",
]

FARADAY = 96485.33212  # C/mol
GAS_CONSTANT = 8.314462618  # J/(mol K)
TEMPERATURE_K = 298.15
THERMAL_VOLTAGE_V = GAS_CONSTANT * TEMPERATURE_K / FARADAY
BULK_CONCENTRATION = 10.0  # mol/m3
PERMITTIVITY = 78.5 * 8.8541878128e-12  # F/m
DEBYE_LENGTH_M = float(
    np.sqrt(PERMITTIVITY * GAS_CONSTANT * TEMPERATURE_K / (2 * FARADAY**2 * BULK_CONCENTRATION))
)
ZETA_V = 0.1
TIMES_S = (1e-9, 1e-8, 1e-7)


def gouy_chapman_potential(distance_m: np.ndarray, zeta_v: float) -> np.ndarray:
    """Gouy-Chapman potential (4RT/F) artanh(tanh(F zeta / 4RT) exp(-x / lambda_D))."""
    gamma = np.tanh(zeta_v / (4 * THERMAL_VOLTAGE_V))
    return 4 * THERMAL_VOLTAGE_V * np.arctanh(gamma * np.exp(-distance_m / DEBYE_LENGTH_M))


def _charging(time_s: float) -> float:
    """Fraction of the wall potential applied at ``time_s`` (charging time 1e-8 s)."""
    return 1.0 - np.exp(-time_s / 1e-8)


def _run_info(model: str, dim: int, boundaries: dict, cells: int, vertices: int) -> dict:
    return {
        "electrolyx_version": "0.1.0",
        "dolfinx_version": dolfinx.__version__,
        "mpi_size": MPI.COMM_WORLD.size,
        "model": model,
        "status": "completed",
        "case": {
            "name": f"synthetic-{dim}d",
            "model": model,
            "electrolyte": {"concentration_mol_m3": BULK_CONCENTRATION, "temperature_K": 298.15},
        },
        "mesh": {
            "dimension": dim,
            "cells": cells,
            "vertices": vertices,
            "unknowns": 3 * vertices,
            "boundaries": boundaries,
        },
        "solver": {
            "converged_reason": 3,
            "newton_iterations": 5,
            "linear_iterations": 5,
            "residual_history": [1.0, 2.1e-2, 3.5e-5, 1.2e-10, 4.0e-14],
        },
        "timings_s": {"mesh": 0.12, "forms": 1.9, "solve": 0.41, "output": 0.05},
        "diagnostics": {
            "debye_length_m": DEBYE_LENGTH_M,
            "relative_ion_conservation_error": 3.1e-12,
        },
    }


def _write_fields(comm: MPI.Comm, domain: mesh.Mesh, folder: Path, expressions: dict) -> None:
    """Write P1 fields ``name -> f(x, t)`` at every time of TIMES_S into fields/fields.pvd."""
    space = fem.functionspace(domain, ("Lagrange", 1))
    functions = {name: fem.Function(space, name=name) for name in expressions}
    with dolfinx.io.VTKFile(comm, folder / "fields" / "fields.pvd", "w") as vtk:
        for time_s in TIMES_S:
            for name, expression in expressions.items():
                functions[name].interpolate(lambda x, e=expression, t=time_s: e(x, t))
            vtk.write_function(list(functions.values()), time_s)


def _counts(domain: mesh.Mesh) -> tuple[int, int]:
    tdim = domain.topology.dim
    cells = domain.topology.index_map(tdim).size_global
    vertices = domain.topology.index_map(0).size_global
    return cells, vertices


def _write_csv(path: Path, header: list[str], rows: list[list[float | str]]) -> None:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)


def _boltzmann(potential_v: np.ndarray, valence: int) -> np.ndarray:
    return BULK_CONCENTRATION * np.exp(-valence * potential_v / THERMAL_VOLTAGE_V)


def _space_charge(potential_v: np.ndarray) -> np.ndarray:
    return FARADAY * (_boltzmann(potential_v, 1) - _boltzmann(potential_v, -1))


def write_result_folder(path: Path, kind: str, comm: MPI.Comm = MPI.COMM_WORLD) -> Path:
    """Write the synthetic result folder ``kind`` (``1d``, ``2d``, ``3d``, ``dfn``) at ``path``.

    Collective on ``comm``; rank 0 writes the JSON and CSV files.
    """
    path = Path(path)
    if comm.rank == 0:
        path.mkdir(parents=True, exist_ok=True)
    comm.barrier()
    writers = {"1d": _write_1d, "2d": _write_2d, "3d": _write_3d, "dfn": _write_dfn}
    writers[kind](path, comm)
    comm.barrier()
    return path


def _write_1d(path: Path, comm: MPI.Comm) -> None:
    length = 30 * DEBYE_LENGTH_M
    domain = mesh.create_interval(comm, 120, [0.0, length])

    def potential(x, t):
        return gouy_chapman_potential(x[0], ZETA_V * _charging(t))

    _write_fields(
        comm,
        domain,
        path,
        {
            "potential_V": potential,
            "concentration_Na_mol_m3": lambda x, t: _boltzmann(potential(x, t), 1),
            "concentration_Cl_mol_m3": lambda x, t: _boltzmann(potential(x, t), -1),
            "space_charge_density_C_m3": lambda x, t: _space_charge(potential(x, t)),
        },
    )
    if comm.rank != 0:
        return
    boundaries = {
        "wall": [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
        "bulk": [[length, 0.0, 0.0], [length, 0.0, 0.0]],
    }
    cells, vertices = 120, 121
    (path / "run.json").write_text(json.dumps(_run_info("pnp", 1, boundaries, cells, vertices)))
    sigma = [
        np.sqrt(8 * BULK_CONCENTRATION * PERMITTIVITY * GAS_CONSTANT * TEMPERATURE_K)
        * np.sinh(ZETA_V * _charging(t) / (2 * THERMAL_VOLTAGE_V))
        for t in TIMES_S
    ]
    _write_csv(
        path / "timeseries.csv",
        ["time_s", "surface_charge_C_m2", "wall_potential_V"],
        [[t, s, ZETA_V * _charging(t)] for t, s in zip(TIMES_S, sigma, strict=True)],
    )
    distance = np.linspace(0.0, length, 61)
    rows = []
    for t in TIMES_S:
        phi = gouy_chapman_potential(distance, ZETA_V * _charging(t))
        fields = {
            "potential_V": phi,
            "concentration_Na_mol_m3": _boltzmann(phi, 1),
            "concentration_Cl_mol_m3": _boltzmann(phi, -1),
        }
        for field, values in fields.items():
            rows += [
                [t, "wall_normal", field, d, 0.0, 0.0, v]
                for d, v in zip(distance, values, strict=True)
            ]
    _write_csv(
        path / "profiles.csv", ["time_s", "profile", "field", "x_m", "y_m", "z_m", "value"], rows
    )


CHANNEL_LENGTH_M = 100e-9
CHANNEL_HEIGHT_M = 20e-9
CHANNEL_ZETA_V = 0.025


def _channel_potential(x, t):
    half = CHANNEL_HEIGHT_M / 2
    centred = x[1] - half
    shape = np.cosh(centred / DEBYE_LENGTH_M) / np.cosh(half / DEBYE_LENGTH_M)
    drift = 0.005 * x[0] / CHANNEL_LENGTH_M  # small axial potential drop
    return _charging(t) * CHANNEL_ZETA_V * shape + drift


def _write_2d(path: Path, comm: MPI.Comm) -> None:
    domain = mesh.create_rectangle(
        comm,
        [[0.0, 0.0], [CHANNEL_LENGTH_M, CHANNEL_HEIGHT_M]],
        [40, 24],
        cell_type=mesh.CellType.triangle,
    )
    _write_fields(
        comm,
        domain,
        path,
        {
            "potential_V": _channel_potential,
            "concentration_K_mol_m3": lambda x, t: _boltzmann(_channel_potential(x, t), 1),
            "space_charge_density_C_m3": lambda x, t: _space_charge(_channel_potential(x, t)),
        },
    )
    cells, vertices = _counts(domain)
    if comm.rank != 0:
        return
    length, height = CHANNEL_LENGTH_M, CHANNEL_HEIGHT_M
    boundaries = {
        "bottom_wall": [[0.0, 0.0, 0.0], [length, 0.0, 0.0]],
        "top_wall": [[0.0, height, 0.0], [length, height, 0.0]],
        "inlet": [[0.0, 0.0, 0.0], [0.0, height, 0.0]],
        "outlet": [[length, 0.0, 0.0], [length, height, 0.0]],
    }
    (path / "run.json").write_text(json.dumps(_run_info("pnp", 2, boundaries, cells, vertices)))
    _write_csv(
        path / "timeseries.csv",
        ["time_s", "current_outlet_A", "total_charge_C"],
        [[t, 1e-12 * _charging(t), 2e-18 * _charging(t)] for t in TIMES_S],
    )


CUBE_SIDE_M = 2e-6


def _surface_concentration(x, t):
    r = np.sqrt((x[0] - 1e-6) ** 2 + (x[1] - 1e-6) ** 2 + (x[2] - 1e-6) ** 2)
    return 2.0e4 - 1.5e4 * _charging(t) * np.exp(-((r / 0.8e-6) ** 2))


def _interfacial_current(x, t):
    return 20.0 * _charging(t) * np.sin(np.pi * x[0] / CUBE_SIDE_M * 2) * (x[2] / CUBE_SIDE_M)


def _write_3d(path: Path, comm: MPI.Comm) -> None:
    side = CUBE_SIDE_M
    domain = mesh.create_box(
        comm, [[0.0, 0.0, 0.0], [side, side, side]], [8, 8, 8], cell_type=mesh.CellType.tetrahedron
    )
    _write_fields(
        comm,
        domain,
        path,
        {
            "particle_surface_concentration_mol_m3": _surface_concentration,
            "interfacial_current_density_A_m2": _interfacial_current,
        },
    )
    cells, vertices = _counts(domain)
    if comm.rank != 0:
        return
    boundaries = {
        "current_collector": [[0.0, 0.0, 0.0], [0.0, side, side]],
        "separator": [[side, 0.0, 0.0], [side, side, side]],
    }
    run = _run_info("dfn", 3, boundaries, cells, vertices)
    (path / "run.json").write_text(json.dumps(run))


def _write_dfn(path: Path, comm: MPI.Comm) -> None:
    if comm.rank != 0:
        return
    time = np.linspace(0.0, 3600.0, 61)
    capacity = 5.0 * time / 3600.0
    voltage = 4.1 - 0.6 * capacity / 5.0 - 0.2 * (capacity / 5.0) ** 8
    rows = [
        [t, v, 5.0, q, 298.15 + 4.0 * q / 5.0]
        for t, v, q in zip(time, voltage, capacity, strict=True)
    ]
    _write_csv(
        path / "timeseries.csv",
        ["time_s", "voltage_V", "current_A", "discharge_capacity_Ah", "temperature_K"],
        rows,
    )
    run = _run_info("dfn", 1, {}, 90, 91)
    (path / "run.json").write_text(json.dumps(run))


def write_sweep_folder(root: Path, key: str, values, timeseries) -> Path:
    """A sweep folder: one steady result folder per value of the dotted case ``key``.

    Args:
        root: The sweep folder.
        key: Dotted case key, e.g. ``electrolyte.concentration_mol_m3``.
        values: Its value in each run (run00, run01, ... in this order).
        timeseries: ``value -> {column: value}``, the one row of each run's timeseries.csv.
    """
    for index, value in enumerate(values):
        run = Path(root) / f"run{index:02d}"
        run.mkdir(parents=True)
        case: dict = {"case": {"model": "pnp"}}
        *sections, name = key.split(".")
        table = case
        for section in sections:
            table = table.setdefault(section, {})
        table[name] = value
        info = {"model": "pnp", "status": "completed", "case": case}
        (run / "run.json").write_text(json.dumps(info))
        columns = timeseries(value)
        _write_csv(run / "timeseries.csv", ["time_s", *columns], [[0.0, *columns.values()]])
    return Path(root)


# -- image checks ----------------------------------------------------------------------------
THUMBNAIL_DIR = Path(__file__).parent / "data" / "thumbnails"
THUMBNAIL_SIZE = (64, 48)


def load_rgb(path: Path) -> np.ndarray:
    """RGB pixels of an image file as a float array in [0, 255]."""
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"), dtype=float)


def pixel_std(pixels: np.ndarray) -> float:
    """Standard deviation of the grey levels (0 for a blank image)."""
    return float(pixels.mean(axis=2).std())


def thumbnail_difference(path: Path, name: str) -> float:
    """Mean absolute difference (0-255) between the 64x48 thumbnail of ``path`` and the stored one,
    over the pixels that are not white in either.

    With ``ELECTROLYX_UPDATE_THUMBNAILS=1`` the stored thumbnail is (re)written first, so the
    difference is 0: review the new pictures before committing them.
    """
    import os

    from PIL import Image

    thumbnail = Image.open(path).convert("RGB").resize(THUMBNAIL_SIZE, Image.Resampling.BOX)
    stored = THUMBNAIL_DIR / f"{name}.png"
    if os.environ.get("ELECTROLYX_UPDATE_THUMBNAILS") == "1":
        THUMBNAIL_DIR.mkdir(parents=True, exist_ok=True)
        thumbnail.save(stored, optimize=True)
    reference = np.asarray(Image.open(stored).convert("RGB"), dtype=float)
    pixels = np.asarray(thumbnail, dtype=float)
    # average over the pixels that show something (not white in either picture), so that the
    # white margins of line plots do not dilute a difference in the curve itself
    content = (pixels.min(axis=2) < 235) | (reference.min(axis=2) < 235)
    if not np.any(content):
        return 0.0
    return float(np.abs(pixels - reference).mean(axis=2)[content].mean())
