"""gmsh meshes as arrays (electrolyx.meshes.gmsh_arrays) and their cache (mesh_cache.cached_arrays).

The arrays, distributed by distribute_arrays, must give exactly the mesh that dolfinx's
model_to_mesh gives for the gmsh model they were read from (same numbering, same tags): a
DFN cell reads its mesh (1D interval, 2D/3D pouch stack) from the cache, and its results must
not depend on whether gmsh made the mesh in this run or an earlier one.
"""

from __future__ import annotations

import electrolyx  # noqa: F401  (loads the MPI/PETSc libraries before dolfinx)

# isort: split

from mpi4py import MPI

import numpy as np
import pytest

from electrolyx.mesh_cache import cached_arrays
from electrolyx.meshes.gmsh_arrays import GmshMesh, distribute_arrays, model_arrays
from electrolyx.meshes.gmsh_tools import distribute_gmsh_model, on_rank
from electrolyx.meshes.layered_interval import Layer, layered_interval, layered_interval_arrays

# The default DFN mesh's layers (20/6/20 cells).
LAYERS = [
    Layer("negative_electrode", 85.2e-6, 20),
    Layer("separator", 12e-6, 6),
    Layer("positive_electrode", 75.6e-6, 20),
]


def _build(model) -> None:
    """The layered interval built through gmsh's model, as before the arrays existed."""
    x, points = 0.0, [model.geo.addPoint(0.0, 0.0, 0.0)]
    for layer in LAYERS:
        x += layer.thickness_m
        points.append(model.geo.addPoint(x, 0.0, 0.0))
    lines = [model.geo.addLine(points[i], points[i + 1]) for i in range(len(LAYERS))]
    model.geo.synchronize()
    for line, layer in zip(lines, LAYERS, strict=True):
        model.mesh.setTransfiniteCurve(line, layer.cells + 1)
        model.addPhysicalGroup(1, [line], name=layer.name)
    model.addPhysicalGroup(0, [points[0]], name="left")
    model.addPhysicalGroup(0, [points[-1]], name="right")
    model.mesh.generate(1)


def _build_box(dim: int):
    """A transfinite quadrilateral (2D) or hexahedral (3D) box of two cell groups, two faces
    named: as the pouch cell's mesh is built (gmsh's node order differs from DOLFINx's for
    these cells, unlike an interval's)."""

    def build(model) -> None:
        occ = model.occ
        if dim == 2:
            pieces = [occ.addRectangle(0, 0, 0, 1, 2), occ.addRectangle(1, 0, 0, 0.5, 2)]
        else:
            pieces = [occ.addBox(0, 0, 0, 1, 2, 1), occ.addBox(1, 0, 0, 0.5, 2, 1)]
        _, children = occ.fragment([(dim, tag) for tag in pieces], [])
        occ.synchronize()
        for _, curve in model.getEntities(1):
            model.mesh.setTransfiniteCurve(curve, 4)
        for _, surface in model.getEntities(2):
            model.mesh.setTransfiniteSurface(surface)
            model.mesh.setRecombine(2, surface)
        for _, volume in model.getEntities(3):
            model.mesh.setTransfiniteVolume(volume)
        for name, child in zip(("left_part", "right_part"), children, strict=True):
            model.addPhysicalGroup(dim, [tag for _, tag in child], name=name)
        left, right = [], []
        for _, facet in model.getEntities(dim - 1):
            x = model.occ.getCenterOfMass(dim - 1, facet)[0]
            (left if abs(x) < 1e-12 else right if abs(x - 1.5) < 1e-12 else []).append(facet)
        model.addPhysicalGroup(dim - 1, left, name="left")
        model.addPhysicalGroup(dim - 1, right, name="right")
        model.mesh.generate(dim)

    return build


@pytest.mark.mpi
@pytest.mark.parametrize("dim", [2, 3])
def test_quadrilaterals_and_hexahedra_distribute_as_model_to_mesh_does(dim):
    comm = MPI.COMM_WORLD
    expected = distribute_gmsh_model(comm, _build_box(dim), gdim=dim, name="reference")
    arrays = on_rank(comm, 0, "box", lambda: model_arrays(_build_box(dim), "box"))
    _assert_identical(expected, distribute_arrays(comm, arrays, gdim=dim), dim)


def _assert_identical(expected, actual, dim: int = 1) -> None:
    """The same mesh with the same local numbering, coordinates and tags, bit for bit."""
    a, b = expected.mesh, actual.mesh
    assert a.ufl_domain().ufl_coordinate_element() == b.ufl_domain().ufl_coordinate_element()
    assert a.geometry.dim == b.geometry.dim == dim
    assert np.array_equal(a.geometry.x, b.geometry.x)
    assert np.array_equal(a.geometry.dofmaps[0], b.geometry.dofmaps[0])
    assert np.array_equal(a.geometry.input_global_indices, b.geometry.input_global_indices)
    for d in (0, dim):
        assert a.topology.index_map(d).size_local == b.topology.index_map(d).size_local
        assert np.array_equal(a.topology.index_map(d).ghosts, b.topology.index_map(d).ghosts)
    assert np.array_equal(
        a.topology.connectivity(dim, 0).array, b.topology.connectivity(dim, 0).array
    )
    for key in ("cell_tags", "facet_tags"):
        tags_a, tags_b = getattr(expected, key), getattr(actual, key)
        assert tags_a.dim == tags_b.dim and tags_a.name == tags_b.name == key
        assert np.array_equal(tags_a.indices, tags_b.indices)
        assert np.array_equal(tags_a.values, tags_b.values)
    assert actual.physical_groups == expected.physical_groups


@pytest.mark.mpi
def test_arrays_distribute_to_the_mesh_of_dolfinx_model_to_mesh(tmp_path):
    comm = MPI.COMM_WORLD
    expected = distribute_gmsh_model(comm, _build, gdim=1, name="reference")
    _assert_identical(expected, layered_interval(comm, LAYERS, "left", "right"))
    # and from arrays written to a file and read back
    arrays = None
    if comm.rank == 0:
        layered_interval_arrays(LAYERS, "left", "right").save(tmp_path / "mesh.npz")
        arrays = GmshMesh.load(tmp_path / "mesh.npz")
    _assert_identical(expected, distribute_arrays(comm, arrays, gdim=1))


def test_the_cache_generates_once_then_reads_the_same_arrays(tmp_path):
    description = {"test": "layered interval", "cells": [20, 6, 20]}
    made = []

    def generate() -> GmshMesh:
        made.append(1)
        return layered_interval_arrays(LAYERS, "left", "right")

    first, origin = cached_arrays(description, generate, tmp_path)
    assert origin.startswith("generated, cached in ") and made == [1]
    second, origin = cached_arrays(description, generate, tmp_path)
    assert origin.startswith("read from the cache ") and made == [1]
    for field in ("nodes", "cells", "cell_tags", "facets", "facet_tags"):
        assert np.array_equal(getattr(first, field), getattr(second, field)), field
    assert (second.cell_type, second.facet_type) == (1, 15)  # gmsh's line and point
    assert second.physical_groups == first.physical_groups
    # one entry, no temporary file left beside it
    assert [p.suffix for p in tmp_path.iterdir()] == [".npz"]


def test_an_unreadable_entry_is_made_again_and_an_unwritable_cache_leaves_the_mesh_made(tmp_path):
    description = {"test": "unreadable"}
    cached_arrays(description, lambda: layered_interval_arrays(LAYERS), tmp_path)
    (entry,) = tmp_path.iterdir()
    entry.write_bytes(b"not a zip file")
    arrays, origin = cached_arrays(description, lambda: layered_interval_arrays(LAYERS), tmp_path)
    assert origin.startswith("generated, cached in ") and arrays.cells.shape == (46, 2)
    assert GmshMesh.load(entry).cells.shape == (46, 2)
    blocked = tmp_path / "a_users_file"
    blocked.write_text("kept")
    arrays, origin = cached_arrays(description, lambda: layered_interval_arrays(LAYERS), blocked)
    assert origin.startswith("generated (not cached: ") and arrays.cells.shape == (46, 2)
    assert blocked.read_text() == "kept"


@pytest.mark.mpi
def test_a_failure_on_the_building_rank_is_raised_on_every_rank():
    comm = MPI.COMM_WORLD

    def fail() -> GmshMesh:
        raise ValueError("no mesh today")

    expected = ValueError if comm.rank == 0 else RuntimeError
    with pytest.raises(expected, match="no mesh today"):
        on_rank(comm, 0, "failing", fail)
