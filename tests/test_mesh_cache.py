"""The mesh cache: a generated mesh written once and read back, distributed, is the same mesh.

A cached mesh is read from XDMF/HDF5 and partitioned anew, so its cells and vertices are
numbered differently: it is compared by what does not depend on numbering (global counts per
named group, each group's length / area / volume, the vertex coordinates as a set) and by a
PNP case run on it.
"""

from __future__ import annotations

import electrolyx  # noqa: F401  (loads the MPI/PETSc libraries before dolfinx)

# isort: split

import csv
from pathlib import Path

from mpi4py import MPI

import numpy as np
import pytest
from conftest import CASES
from dolfinx.mesh import entities_to_geometry

from electrolyx.case import load_case
from electrolyx.driver import run_case
from electrolyx.mesh_cache import cached_mesh, mesh_cache_key
from electrolyx.meshes.gmsh_tools import tagged_entities
from electrolyx.meshes.nanochannel import slit_nanochannel
from electrolyx.sweep import run_sweep

DEBYE_LENGTH = 1.0e-9  # m
# A slit channel with dielectric walls: cell groups (channel, reservoirs, solid), boundary
# facets and interior interface facets (the channel wall between electrolyte and solid).
SLIT = {
    "channel_length": 4 * DEBYE_LENGTH,
    "channel_half_height": 1 * DEBYE_LENGTH,
    "reservoir_length": 2 * DEBYE_LENGTH,
    "reservoir_height": 5 * DEBYE_LENGTH,
    "debye_length": DEBYE_LENGTH,
    "max_size": 1 * DEBYE_LENGTH,
    "wall_layer_thickness": 0.5 * DEBYE_LENGTH,
    "dielectric_walls": True,
}
# The same coordinates summed in another order: round-off of ~1e-16 per term over ~1e3
# simplices (~1e-14 relative); 1e-12 leaves room and still fails for one cell or facet lost
# (>= 1e-4 of any group here).
MEASURE_RTOL = 1e-12


def _generate(comm):
    return lambda: slit_nanochannel(comm, **SLIT)


def _refuse():
    raise AssertionError("the cache held the mesh: nothing to generate")


def _signature(mesh_data) -> dict:
    """Per named group: global count of owned entities and their total measure."""
    mesh = mesh_data.mesh
    out = {}
    for name in sorted(mesh_data.physical_groups):
        dim, entities = tagged_entities(mesh_data, name)
        entities = entities[entities < mesh.topology.index_map(dim).size_local]
        measure = 0.0
        if entities.size:
            points = mesh.geometry.x[entities_to_geometry(mesh, dim, entities)]
            edges = points[:, 1:] - points[:, :1]
            gram = np.einsum("nid,njd->nij", edges, edges)
            measure = float(np.sqrt(np.abs(np.linalg.det(gram))).sum() / np.prod(range(1, dim + 1)))
        count = mesh.comm.allreduce(int(entities.size), op=MPI.SUM)
        out[name] = (count, mesh.comm.allreduce(measure, op=MPI.SUM))
    return out


def _vertices(mesh) -> np.ndarray:
    """Every owned vertex's coordinates, gathered and sorted (numbering-free)."""
    owned = mesh.geometry.index_map().size_local
    points = np.concatenate(mesh.comm.allgather(mesh.geometry.x[:owned]))
    return points[np.lexsort(points.T[::-1])]


def _assert_same_mesh(generated, read) -> None:
    assert read.physical_groups == generated.physical_groups
    a, b = _signature(generated), _signature(read)
    assert set(a) == set(b)
    for name in a:
        assert a[name][0] == b[name][0], name
        assert b[name][1] == pytest.approx(a[name][1], rel=MEASURE_RTOL), name
    # Written and read as doubles: the very same coordinates.
    assert np.array_equal(_vertices(generated.mesh), _vertices(read.mesh))


@pytest.mark.mpi
def test_a_cached_mesh_reads_back_as_the_generated_mesh_on_any_number_of_ranks(
    shared_tmp_path,
):
    world = MPI.COMM_WORLD
    description = {"test": "slit", **SLIT}
    generated, origin = cached_mesh(world, description, _generate(world), shared_tmp_path)
    assert origin.startswith("generated, cached in ")
    read, origin = cached_mesh(world, description, _refuse, shared_tmp_path)
    assert origin.startswith("read from the cache ")
    _assert_same_mesh(generated, read)
    # Written on all ranks, read on one (and the other way round below): no partition is stored.
    alone, _ = cached_mesh(MPI.COMM_SELF, description, _refuse, shared_tmp_path)
    _assert_same_mesh(generated, alone)
    world.barrier()
    other = {"test": "slit written serially", **SLIT}
    if world.rank == 0:
        cached_mesh(MPI.COMM_SELF, other, _generate(MPI.COMM_SELF), shared_tmp_path)
    world.barrier()
    read, origin = cached_mesh(world, other, _refuse, shared_tmp_path)
    assert origin.startswith("read from the cache ")
    _assert_same_mesh(generated, read)


def test_the_key_follows_every_setting():
    base = {"mesh": {"max_size": 1e-9, "wall_size": None}, "debye_length_m": 9.6e-9}
    key = mesh_cache_key(base)
    assert mesh_cache_key({**base}) == key
    assert mesh_cache_key({**base, "debye_length_m": 9.7e-9}) != key
    assert mesh_cache_key({**base, "mesh": {"max_size": 2e-9, "wall_size": None}}) != key


def test_an_unusable_cache_leaves_the_mesh_generated_and_nothing_half_written(tmp_path):
    comm = MPI.COMM_SELF
    description = {"test": "unusable"}
    # A file where the cache folder should be: nothing can be written there.
    blocked = tmp_path / "not_a_folder"
    blocked.write_text("a user's file")
    mesh_data, origin = cached_mesh(comm, description, _generate(comm), blocked)
    assert origin.startswith("generated (not cached: ")
    assert mesh_data.mesh.topology.index_map(2).size_global > 0
    assert blocked.read_text() == "a user's file"
    # An entry without its groups.json (not written by electrolyx: an entry appears whole)
    # is neither read nor replaced.
    folder = tmp_path / "cache"
    foreign = folder / mesh_cache_key(description)
    foreign.mkdir(parents=True)
    (foreign / "mesh.xdmf").write_text("not a mesh")
    mesh_data, origin = cached_mesh(comm, description, _generate(comm), folder)
    assert origin.startswith("generated (not cached: ")
    assert (foreign / "mesh.xdmf").read_text() == "not a mesh"
    assert sorted(p.name for p in folder.iterdir()) == [foreign.name]  # no temporary left


def _conductance(folder: Path) -> float:
    with open(folder / "run_000" / "timeseries.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    return float(rows[-1]["conductance_S_m"])


def test_a_case_run_on_its_cached_mesh_gives_the_same_result(tmp_path, monkeypatch):
    monkeypatch.setenv("ELECTROLYX_MESH_CACHE", str(tmp_path / "cache"))
    case = load_case(CASES / "nanochannel-conductance", ["sweep.values=[1.0]"])
    messages = []
    results = []
    for run in ("first", "second"):
        assert run_sweep(case, tmp_path / run, MPI.COMM_SELF, messages.append) == 0
        results.append(_conductance(tmp_path / run))
    assert sum("mesh generated, cached in" in m for m in messages) == 1
    assert sum("mesh read from the cache" in m for m in messages) == 1
    # The same mesh numbered differently: the LU's round-off (1e-13..1e-11 relative between
    # partitions, tests/test_every_case_on_two_ranks.py), far below the 1e-8 asked there.
    assert results[1] == pytest.approx(results[0], rel=1e-10)
    # cache = false: generated every time, nothing read
    case = load_case(CASES / "nanochannel-conductance", ["sweep.values=[1.0]", "mesh.cache=false"])
    messages.clear()
    assert run_sweep(case, tmp_path / "uncached", MPI.COMM_SELF, messages.append) == 0
    assert not any("mesh generated, cached" in m or "mesh read" in m for m in messages)
    assert _conductance(tmp_path / "uncached") == pytest.approx(results[0], rel=1e-10)


def _voltages(folder: Path) -> np.ndarray:
    with open(folder / "timeseries.csv", newline="") as stream:
        return np.array([float(row["voltage_V"]) for row in csv.DictReader(stream)])


def test_a_resolved_half_cell_on_its_cached_packing_mesh_gives_the_same_discharge(
    tmp_path, monkeypatch
):
    # The packing's mesh is ghosted (interface integrals over shared facets): read back with
    # the same ghost mode, its particle/electrolyte interface facets tagged as generated.
    monkeypatch.setenv("ELECTROLYX_MESH_CACHE", str(tmp_path / "cache"))
    case = load_case(CASES / "microstructure-2d-halfcell", ["discharge.duration=240.0"])
    messages, voltages = [], []
    for run in ("first", "second"):
        code, folder = run_case(case, tmp_path / run, MPI.COMM_SELF, messages.append)
        assert code == 0
        voltages.append(_voltages(Path(folder)))
    assert sum("mesh generated, cached in" in m for m in messages) == 1
    assert sum("mesh read from the cache" in m for m in messages) == 1
    # Round-off of another numbering (the LU's pivots, the sums' order): 1e-13..1e-11
    # relative between partitions of the same mesh (tests/test_every_case_on_two_ranks.py).
    np.testing.assert_allclose(voltages[1], voltages[0], rtol=1e-10)
