"""Every shipped case gives the same results on 1 and 2 ranks (issue 17 item 6).

Under ``mpiexec -n 2`` each case runs once distributed over COMM_WORLD and once on COMM_SELF
(on each rank), through the same driver as ``electrolyx run``; every CSV table of the two result
folders (time series, profiles, probes, sweeps) must have the same header, the same rows and
numbers equal to 1e-8 relative. Each case keeps its model, physics options, boundary conditions
and solver settings; the overrides below only coarsen its mesh and shorten its protocol so that
the whole file runs in a few minutes (the full cases are checked against their references in
their own tests).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from mpi4py import MPI

import numpy as np
import pytest
from conftest import CASES

from electrolyx.case import load_case
from electrolyx.constants import FARADAY
from electrolyx.driver import run_case
from electrolyx.sweep import run_sweep

# Coarser meshes and shorter protocols, the physics of each case unchanged.
_SHORT_DFN = ['experiment.steps=["Discharge at 1C for 600 s", "Rest for 60 s"]']
OVERRIDES: dict[str, list[str]] = {
    "dfn-bpx-nmc-pouch": ["mesh.negative_cells=8", "mesh.positive_cells=8", *_SHORT_DFN],
    "dfn-chen2020-1C": ["mesh.negative_cells=8", "mesh.positive_cells=8", *_SHORT_DFN],
    "dfn-chen2020-cccv": [
        "mesh.negative_cells=8",
        "mesh.positive_cells=8",
        'experiment.steps=["Discharge at 1C for 600 s", "Rest for 60 s", '
        '"Charge at 1C for 300 s", "Hold at 4.1 V for 300 s"]',
    ],
    "dfn-mechanics-1C": ["mesh.negative_cells=8", "mesh.positive_cells=8", *_SHORT_DFN],
    "dfn-plating-fast-charge": [
        "mesh.negative_cells=8",
        "mesh.positive_cells=8",
        'experiment.steps=["Charge at 2C for 300 s", "Rest for 60 s"]',
    ],
    "dfn-chen2020-thermal-lumped": [
        "mesh.negative_cells=8",
        "mesh.positive_cells=8",
        *_SHORT_DFN,
    ],
    "dfn-ai2020-cracking-1C": ["mesh.negative_cells=8", "mesh.positive_cells=8", *_SHORT_DFN],
    "dfn-pulse-double-layer": ["mesh.negative_cells=8", "mesh.positive_cells=8"],
    "half-cell-nmc811": ["mesh.positive_cells=8", *_SHORT_DFN],
    "dfn-sand-time": [
        "mesh.separator_cells=40",
        'experiment.steps=["Charge at 5.135 A for 60 seconds"]',
    ],
    "pouch-2d-cross-section": [
        "geometry.height_cells=8",
        "mesh.negative_cells=6",
        "mesh.positive_cells=6",
        'experiment.steps=["Discharge at 2C for 300 s"]',
    ],
    "pouch-2d-swelling": [
        "geometry.height_cells=4",
        "mesh.negative_cells=6",
        "mesh.positive_cells=6",
        'experiment.steps=["Discharge at 1C for 300 s"]',
    ],
    "pouch-3d-swelling": [
        "geometry.height_cells=4",
        "geometry.width_cells=2",
        "mesh.negative_cells=4",
        "mesh.positive_cells=4",
        'experiment.steps=["Discharge at 1C for 300 s"]',
    ],
    "dfn-sei-on-cracks-cycling": [
        "mesh.negative_cells=8",
        "mesh.positive_cells=8",
        "experiment.repeat=1",
        'experiment.steps=["Discharge at 1C for 600 s", "Charge at 1C for 300 s"]',
    ],
    "pouch-3d-tabs": [
        "geometry.height_cells=6",
        "geometry.width_cells=4",
        "mesh.negative_cells=4",
        "mesh.positive_cells=4",
        'experiment.steps=["Discharge at 1C for 300 s"]',
    ],
    "pouch-3d-plating-3C": [
        "geometry.height_cells=4",
        "geometry.width_cells=2",
        "mesh.negative_cells=4",
        "mesh.positive_cells=4",
        'experiment.steps=["Charge at 3C for 25 s"]',
    ],
    "pouch-3d-thermal-3C": [
        "geometry.height_cells=4",
        "geometry.width_cells=4",
        "mesh.negative_cells=4",
        "mesh.positive_cells=4",
        'experiment.steps=["Discharge at 3C for 120 s"]',
    ],
    "edl-gouy-chapman": [],
    "edl-charging": ["study.end_time=2e-6"],
    "nanochannel-conductance": ["sweep.values=[1.0, 1000.0]"],
    # A 20 um cell: with cells up to 800 lambda_D over 1 mm the residual's round-off (~1e-11)
    # makes the case stop Newton at 1e-10, and 1-vs-2-rank differences at that level change
    # the adaptive step sequence; here Newton converges to the default 1e-12.
    "pnp-sand-time": [
        "mesh.length=2e-5",
        "solver.absolute_tolerance=1e-12",
        "study.end_time=1.0",
        "study.output_times=[0.01, 1.0]",
    ],
    "nanopore-3d": [
        "mesh.wall_size=2.5e-9",
        "mesh.max_size=2e-8",
        "mesh.reservoir_radius=2.5e-8",
        "mesh.reservoir_height=2.5e-8",
    ],
    "microstructure-2d-halfcell": ["discharge.duration=1200.0"],
    "microstructure-3d-halfcell": ["microstructure.element_size=3e-6", "discharge.duration=180.0"],
    "homogenise-3d-packing": [
        "microstructure.box=[20e-6, 20e-6, 20e-6]",
        "microstructure.element_size=2.5e-6",
        'homogenisation.directions=["x"]',
    ],
}

# Relative to the largest magnitude in the column: the two runs differ by the order of the
# parallel reductions and of the LU factorisation (MUMPS on 2 ranks, PETSc's LU in serial),
# round-off of 1e-13..1e-11 relative measured; 1e-8 is the bound.
RELATIVE = 1e-8


def test_every_shipped_case_has_its_overrides():
    shipped = {path.parent.name for path in CASES.glob("*/case.toml")}
    assert shipped == set(OVERRIDES)


def _run(case, out: Path, comm: MPI.Comm) -> Path:
    """The case run as `electrolyx run` runs it (a sweep when it has one); its result folder."""
    quiet = lambda message: None  # noqa: E731
    if case.settings.get("sweep", {}).get("keys"):
        assert run_sweep(case, out, comm, quiet) == 0
        return out
    code, folder = run_case(case, out, comm, quiet)
    assert code == 0
    return Path(folder)


# PNP currents and charges that are zero or small are differences of fluxes of the natural
# size F D c0 / lambda_D (1e5-1e9 A/m2 here), so they carry round-off of ~1e-13 of that size
# whatever their own size (measured: +-5e-9 A/m2 after the EDL has charged, against 1e5 A/m2
# terms). Such a column is compared to 1e-8 of its largest value plus this floor. A current
# per metre (2D) or total current (3D) is that density integrated over a boundary as long as
# the domain, not the smallest feature: the nanochannel's wall current, zero in exact
# arithmetic, is 5.4e-15 A/m at 1 mol/m3 and differed by 4.7e-16 A/m between 1 and 2 ranks
# in CI (1.2e-12 of F D c0 / lambda_D times the 20 nm channel height, 1.6e-14 of it times the
# 1.4 um domain).
ROUND_OFF_OF_NATURAL_SCALE = 1e-12


def _floors(folder: Path) -> dict[str, float]:
    """Round-off floor of the PNP current and charge columns by unit suffix (0 otherwise); for a
    2D/3D DFN the stress columns' relative bar."""
    path = folder / "run.json"
    if not path.exists():
        return {}
    info = json.loads(path.read_text())
    diagnostics = info.get("diagnostics", {})
    if info.get("model") == "dfn" and diagnostics.get("dimension", 1) > 1:
        return {"stress_relative": STRESS_RELATIVE}
    if info.get("model") != "pnp" or "debye_length_m" not in diagnostics:
        return {}
    species = info["case"]["species"]
    diffusivity = max(sp["diffusivity"] for sp in species)
    concentration = max(sp["bulk_concentration"] for sp in species)
    debye, extent = diagnostics["debye_length_m"], diagnostics["largest_extent_m"]
    current = FARADAY * diffusivity * concentration / debye  # A/m2
    natural = {
        "_A_m2": current,
        "_A_m": current * extent,
        "_A": current * extent**2,
        "_C_m2": FARADAY * concentration * debye,
    }
    return {unit: ROUND_OFF_OF_NATURAL_SCALE * size for unit, size in natural.items()}


# Stresses are differences amplified: a particle's surface hoop stress is K (cbar - c_s), K =
# Omega E / (3 (1 - nu)), so the round-off of c (1e-8 of c_max) reaches it as 1e-8 K c_max,
# 18 (positive) and 40 (negative) times 1e-8 of its largest value in cases/pouch-2d-swelling
# (OKane2022's NMC: K c_max = 1.2e11 Pa against 7e9 Pa), where 2D runs on 1 and 2 ranks
# differ by 1.0e-7 and 1.2e-7 of it; the stack's von Mises stress follows the swelling strain
# times the layers' moduli (measured 2.7e-7). These columns of a 2D/3D DFN are compared to
# 1e-6 (the 1D cases' stresses keep 1e-8).
STRESS_RELATIVE = 1e-6
# The heat columns of a 2D/3D DFN are differences amplified in the same way: a_s j eta with eta
# a small difference of potentials, and the ohmic terms squared gradients (2D pouches on 1 and 2
# ranks: 2.8e-7 of the largest irreversible heat, 8e-8 of the ohmic terms; the heat generated,
# removed and stored of a thermal model are their integrals). The smallest nodal
# electrolyte concentration is taken at one node of a mesh partitioned differently (5.7e-8 of
# its largest value in pouch-2d-cross-section). Both get the stresses' 1e-6 there. So do the
# plating and SEI inventories of a 2D/3D cell just after plating began: the plating current is
# the small difference of its plating and stripping exponentials, and the inventories grow from
# zero (pouch-3d-plating-3C, 25 s of a 3C charge from 21 s on: 2.2e-7 to 3.3e-7 of the columns'
# largest values between 1 and 2 ranks; the voltage and the particles' lithium keep 1e-8).
AMPLIFIED_COLUMNS = (
    "_stress_Pa",
    "_stress_min_Pa",
    "_stress_max_Pa",
    "heat_irreversible_W",
    "heat_side_reactions_W",
    "heat_reversible_W",
    "heat_ohmic_solid_W",
    "heat_ohmic_electrolyte_W",
    "heat_total_W",
    "heat_generated_J",
    "heat_removed_J",
    "heat_stored_J",
    "minimum_electrolyte_concentration_mol_m3",
    "plated_lithium_mol",
    "plated_lithium_Ah",
    "dead_lithium_mol",
    "plating_current_A",
    "sei_lithium_mol",
    "loss_of_lithium_inventory_percent",
)


# Where the highest temperature is: a node's coordinate, piecewise constant in time with jumps
# from node to node; interpolated in time across a jump at row times ~1e-7 s apart it differs
# by the jump times that offset (2e-6 m measured on pouch-3d-thermal-3C). Left out where the
# rows are interpolated; tests/test_dfn_thermal_pouch.py compares it on rows at the same times
# (4.7e-8 relative in 2D, 1.2e-8 in 3D).
JUMPING_COLUMNS = ("max_temperature_position_m", "max_temperature_y_m", "max_temperature_z_m")


def _floor(title: str, floors: dict[str, float], scale: float = 0.0) -> float:
    stress = title.endswith(AMPLIFIED_COLUMNS)
    if stress and "stress_relative" in floors:
        return (floors["stress_relative"] - RELATIVE) * scale
    for unit in ("_A_m2", "_A_m", "_C_m2", "_A"):
        if title.endswith(unit):
            return floors.get(unit, 0.0)
    return 0.0


def _tables(folder: Path) -> dict[str, list[list[str]]]:
    tables = {}
    for path in sorted(folder.rglob("*.csv")):
        with open(path, newline="") as stream:
            tables[str(path.relative_to(folder))] = list(csv.reader(stream))
    return tables


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _column(rows: list[list[str]], column: int) -> np.ndarray:
    return np.array([_number(row[column]) for row in rows], dtype=float)


def _compare_in_time(
    name: str, serial: list[list[str]], distributed: list[list[str]], floors: dict[str, float]
):
    """Time series whose row times differ: each column of the distributed run interpolated
    (linearly) at the serial run's times, relative to the column's largest magnitude."""
    header = serial[0]
    time = header.index("time_s")
    t_serial, t_distributed = _column(serial[1:], time), _column(distributed[1:], time)
    problems = []
    for column, title in enumerate(header):
        if column == time or _number(serial[1][column]) is None:
            continue
        if title.startswith(JUMPING_COLUMNS):
            continue
        a = _column(serial[1:], column)
        b = np.interp(t_serial, t_distributed, _column(distributed[1:], column))
        scale = np.max(np.abs(a)) if a.size else 0.0
        worst = np.max(np.abs(a - b)) if a.size else 0.0
        if worst > RELATIVE * scale + _floor(title, floors, scale):
            problems.append(f"{name}: column {title} differs by {worst:.3g} (scale {scale:.3g})")
    return problems


def _compare(
    name: str, serial: list[list[str]], distributed: list[list[str]], floors: dict[str, float]
) -> list[str]:
    if serial[:1] != distributed[:1]:
        return [f"{name}: header {serial[:1]} against {distributed[:1]}"]
    header = serial[0]
    if "time_s" in header and len(serial) > 1 and len(distributed) > 1:
        time = header.index("time_s")
        t_serial, t_distributed = _column(serial[1:], time), _column(distributed[1:], time)
        # An adaptive time stepper's step sizes follow its error estimate, whose round-off
        # differs between 1 and 2 ranks: rows may move by ~1e-7 s (the double-layer pulse).
        # Then the series must still be the same function of time (within 0.1 % of the end
        # time of each other, and equal to 1e-8 where interpolated).
        if len(t_serial) != len(t_distributed) or np.max(
            np.abs(t_serial - t_distributed)
        ) > RELATIVE * np.max(np.abs(t_serial)):
            if abs(t_serial[-1] - t_distributed[-1]) > 1e-3 * abs(t_serial[-1]):
                return [f"{name}: ends at {t_serial[-1]} s against {t_distributed[-1]} s"]
            return _compare_in_time(name, serial, distributed, floors)
    if len(serial) != len(distributed):
        return [f"{name}: {len(serial)} rows against {len(distributed)}"]
    rows = serial[1:]
    problems = []
    for column, title in enumerate(header):
        pairs = [
            (_number(a[column]), _number(b[column]))
            for a, b in zip(rows, distributed[1:], strict=True)
        ]
        if any((a is None) != (b is None) for a, b in pairs):
            problems.append(f"{name}: column {title} differs in kind")
            continue
        numbers = [(a, b) for a, b in pairs if a is not None and math.isfinite(a)]
        scale = max((max(abs(a), abs(b)) for a, b in numbers), default=0.0)
        worst = max((abs(a - b) for a, b in numbers), default=0.0)
        if worst > RELATIVE * scale + _floor(title, floors, scale):
            problems.append(f"{name}: column {title} differs by {worst:.3g} (scale {scale:.3g})")
    return problems


@pytest.mark.mpi
@pytest.mark.parametrize("name", sorted(OVERRIDES))
def test_case_gives_the_same_tables_on_one_and_two_ranks(name, shared_tmp_path):
    world = MPI.COMM_WORLD
    if world.size == 1:
        pytest.skip("compares a distributed run with a serial one: run under mpiexec -n 2")
    case = load_case(CASES / name, OVERRIDES[name])
    distributed_folder = _run(case, shared_tmp_path / "two_ranks", world)
    # Every rank runs the serial case too (rather than rank 0 alone while the other rank
    # busy-waits in MPI): the same time on each, and each rank checks its own copy.
    serial_folder = _run(case, shared_tmp_path / f"one_rank_{world.rank}", MPI.COMM_SELF)
    serial, distributed = _tables(serial_folder), _tables(distributed_folder)
    problems = [] if serial else ["the case wrote no table"]
    if set(serial) != set(distributed):
        problems.append(f"tables {sorted(serial)} against {sorted(distributed)}")
    for table in set(serial) & set(distributed):
        # The floors of the run the table belongs to (a sweep's table: the largest of its runs).
        runs = [serial_folder / Path(table).parent]
        if Path(table).parent == Path("."):
            runs += sorted(serial_folder.glob("run_*"))
        floors: dict[str, float] = {}
        for run in runs:
            for unit, size in _floors(run).items():
                floors[unit] = max(size, floors.get(unit, 0.0))
        problems += _compare(table, serial[table], distributed[table], floors)
    problems = sum(world.allgather(problems), [])
    assert not problems, "\n".join(problems)
