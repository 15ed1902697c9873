"""electrolyx.jit.integration_domains: dolfinx's integration entities, without numpy.ma.

dolfinx intersects a tag's facets with the exterior facets by numpy.intersect1d, whose first
call imports numpy.ma (6-10 ms of a 1D DFN run). electrolyx's forms get the same entities by a
mask: compared exactly with dolfinx's, on a mesh whose tags mark exterior facets, interior ones
and both in one tag, on 1 and 2 ranks (where ghost facets are tagged too).
"""

from __future__ import annotations

import electrolyx  # noqa: F401  (loads the MPI/PETSc libraries before dolfinx)

# isort: split

from mpi4py import MPI

import dolfinx
import numpy as np
import pytest
import ufl
from dolfinx import fem
from dolfinx.fem.forms import get_integration_domains

from electrolyx.jit import forms, integration_domains


@pytest.fixture(scope="module")
def mesh_and_tags():
    """A unit square (6 x 5 cells) with facet tags 1 (x = 0, exterior), 2 (x = 0.5, interior)
    and 3 (the other facets below y = 0.5, exterior and interior), and cell tag 1 (x < 0.5)."""
    mesh = dolfinx.mesh.create_unit_square(
        MPI.COMM_WORLD, 6, 5, ghost_mode=dolfinx.mesh.GhostMode.shared_facet
    )
    tdim = mesh.topology.dim
    mesh.topology.create_entities(tdim - 1)
    mesh.topology.create_connectivity(tdim - 1, tdim)
    facets = mesh.topology.index_map(tdim - 1)
    every = np.arange(facets.size_local + facets.num_ghosts, dtype=np.int32)
    midpoints = dolfinx.mesh.compute_midpoints(mesh, tdim - 1, every)
    x, y = midpoints[:, 0], midpoints[:, 1]
    values = np.zeros(x.size, dtype=np.int32)
    values[np.isclose(x, 0.0)] = 1
    values[np.isclose(x, 0.5)] = 2
    values[(y < 0.5) & (values == 0)] = 3
    indices = np.flatnonzero(values).astype(np.int32)
    facet_tags = dolfinx.mesh.meshtags(mesh, tdim - 1, indices, values[indices])
    cells = dolfinx.mesh.locate_entities(mesh, tdim, lambda p: p[0] < 0.5 + 1e-12)
    cell_tags = dolfinx.mesh.meshtags(mesh, tdim, cells, np.ones(cells.size, dtype=np.int32))
    return mesh, facet_tags, cell_tags


@pytest.mark.mpi
@pytest.mark.parametrize(
    "integral_type",
    [fem.IntegralType.exterior_facet, fem.IntegralType.interior_facet, fem.IntegralType.cell],
)
def test_the_entities_are_dolfinx_own(mesh_and_tags, integral_type):
    _, facet_tags, cell_tags = mesh_and_tags
    tags = cell_tags if integral_type is fem.IntegralType.cell else facet_tags
    ids = [1, 2, 3, 4]  # 4: nothing has it
    expected = get_integration_domains(integral_type, tags, ids)
    actual = integration_domains(integral_type, tags, ids)
    assert [i for i, _ in actual] == [i for i, _ in expected] == ids
    for (_, a), (_, b) in zip(actual, expected, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)


@pytest.mark.mpi
def test_an_exterior_facet_form_integrates_as_dolfinx_form_does(mesh_and_tags):
    mesh, facet_tags, _ = mesh_and_tags
    ds = ufl.Measure("ds", domain=mesh, subdomain_data=facet_tags)
    x = ufl.SpatialCoordinate(mesh)
    integrand = (1 + x[0] + x[1] ** 2) * ds(3) + 2 * ds(1)
    ours = fem.assemble_scalar(forms(integrand))
    theirs = fem.assemble_scalar(fem.form(integrand))
    # the same entities in the same order: this rank's sums agree bit for bit
    assert ours == theirs
    # Tag 3's exterior facets: the bottom side (y = 0: 1 + x over [0, 1], 1.5) and the right
    # side's two lowest facets (x = 1: 2 + y^2 over [0, 0.4], 0.8 + 0.4^3/3); tag 1's left side
    # (2 over a length of 1). Gauss quadrature of degree 2 is exact for these: round-off only.
    total = MPI.COMM_WORLD.allreduce(ours, op=MPI.SUM)
    assert total == pytest.approx(1.5 + 0.8 + 0.4**3 / 3 + 2.0, rel=1e-13)
