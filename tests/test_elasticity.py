"""Cell-level linear elasticity (electrolyx.models.elasticity) against exact solutions, 2D
(plane strain) and 3D, serial and on 2 ranks.

* Patch tests: a linear displacement prescribed on the whole boundary of a distorted mesh is
  reproduced inside to 1e-10 (relative); a uniform stress with swelling, rollers and pressures
  that carry it likewise.
* A laterally constrained stack of three layers (rollers on the sides and the bottom, stack
  pressure p on top) with uniform swelling strains s_i: sigma_vertical = -p in every layer and the
  in-plane stress sigma_i = -E_i s_i / (1 - nu_i) - p nu_i / (1 - nu_i) (for p = 0 the issue's
  -E eps* / (1 - nu)); the displacement is piecewise linear, so P1 elements hold it exactly and
  the stresses agree to 1e-8 relative (solver tolerance).
"""

from mpi4py import MPI

import dolfinx
import numpy as np
import pytest
import ufl
from dolfinx import fem

import electrolyx  # noqa: F401  (loads MPI/PETSc libraries first)
from electrolyx.models.elasticity import CellElasticity, ElasticMaterial

GRADIENT_2D = np.array([[1.0e-3, -4.0e-4], [2.5e-4, -7.0e-4]])
GRADIENT_3D = np.array([[1.0e-3, -4.0e-4, 3e-4], [2.5e-4, -7.0e-4, 1e-4], [-2e-4, 5e-4, 6e-4]])
OFFSET = np.array([2e-4, -1e-4, 3e-4])
LAYERS = [  # (E [Pa], nu, swelling strain s): a graphite electrode, a separator, an NMC one
    (10e9, 0.3, 0.02),
    (0.5e9, 0.35, 0.0),
    (80e9, 0.25, -0.004),
]


def box_mesh(dimension: int):
    """Unit square/cube split into three layers along the last axis, interior nodes moved
    in-plane (a distorted mesh; the layers stay planar). Facets tagged 1..2d: the faces x=0,
    x=1, y=0, y=1 (, z=0, z=1); cells tagged 1, 2, 3 by layer."""
    comm = MPI.COMM_WORLD
    if dimension == 2:
        mesh = dolfinx.mesh.create_unit_square(comm, 6, 9)
    else:
        mesh = dolfinx.mesh.create_unit_cube(comm, 3, 3, 6)
    x = mesh.geometry.x
    gdim = dimension
    interior = np.all((x[:, :gdim] > 1e-12) & (x[:, :gdim] < 1 - 1e-12), axis=1)
    # A deterministic distortion (the same on every rank): 0.1 h of sines, in-plane only.
    h = 1.0 / 9.0
    for axis in range(gdim - 1):
        x[interior, axis] += 0.1 * h * np.sin(7.0 * x[interior, gdim - 1] + 3.0 * axis)
    tdim = mesh.topology.dim
    mesh.topology.create_connectivity(tdim - 1, tdim)
    facets, values = [], []
    for axis in range(gdim):
        for side, position in enumerate((0.0, 1.0)):
            found = dolfinx.mesh.locate_entities_boundary(
                mesh, tdim - 1, lambda p, a=axis, v=position: np.isclose(p[a], v)
            )
            facets.append(found)
            values.append(np.full(found.size, 1 + 2 * axis + side, dtype=np.int32))
    facets, values = np.concatenate(facets), np.concatenate(values)
    order = np.argsort(facets)
    facet_tags = dolfinx.mesh.meshtags(mesh, tdim - 1, facets[order], values[order])
    cells = np.arange(mesh.topology.index_map(tdim).size_local, dtype=np.int32)
    midpoints = dolfinx.mesh.compute_midpoints(mesh, tdim, cells)
    layer = 1 + np.minimum((midpoints[:, gdim - 1] * 3).astype(np.int32), 2)
    cell_tags = dolfinx.mesh.meshtags(mesh, tdim, cells, layer)
    return mesh, cell_tags, facet_tags


def nodal_error(function, exact) -> float:
    """max |u - u_exact| over all dofs (all ranks)."""
    expected = fem.Function(function.function_space)
    expected.interpolate(exact)
    local = np.max(np.abs(function.x.array - expected.x.array))
    return function.function_space.mesh.comm.allreduce(local, op=MPI.MAX)


@pytest.mark.mpi
@pytest.mark.parametrize("dimension", [2, 3])
def test_patch_test_linear_displacement(dimension):
    mesh, cell_tags, facet_tags = box_mesh(dimension)
    gradient = GRADIENT_2D if dimension == 2 else GRADIENT_3D

    def exact(x):
        return OFFSET[:dimension, None] + gradient @ x[:dimension]

    material = ElasticMaterial(10e9, 0.3)
    problem = CellElasticity(
        mesh,
        cell_tags,
        facet_tags,
        {tag: material for tag in (1, 2, 3)},
        swelling_strain={tag: 0.01 for tag in (1, 2, 3)},  # uniform: no effect inside
        prescribed={tag: exact for tag in range(1, 2 * dimension + 1)},
        rtol=1e-14,
    )
    u = problem.solve()
    # Displacements ~1e-3: the linear field to 1e-10 relative (measured 1.9e-14 in 2D, 3.9e-14
    # in 3D, CG + GAMG to rtol 1e-14 in 14 / 13 iterations).
    assert nodal_error(u, exact) < 1e-10 * 1e-3


@pytest.mark.mpi
@pytest.mark.parametrize("dimension", [2, 3])
def test_patch_test_uniform_stress_with_swelling_rollers_and_pressure(dimension):
    """u = diag(g) x on rollers at x_i = 0 and pressures -sigma_ii on x_i = 1."""
    mesh, cell_tags, facet_tags = box_mesh(dimension)
    E, nu, s = 10e9, 0.3, 0.01
    stretch = np.array([1.5e-3, -0.5e-3, 2.0e-3])[:dimension]
    lam, mu = E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))
    # Plane strain in 2D: eps_zz = 0, the swelling still 3D.
    stresses = lam * (stretch.sum() - 3 * s) + 2 * mu * (stretch - s)
    problem = CellElasticity(
        mesh,
        cell_tags,
        facet_tags,
        {tag: ElasticMaterial(E, nu) for tag in (1, 2, 3)},
        swelling_strain={tag: s for tag in (1, 2, 3)},
        rollers=[(1 + 2 * axis, axis) for axis in range(dimension)],
        pressure={2 + 2 * axis: -stresses[axis] for axis in range(dimension)},
        rtol=1e-14,
    )
    u = problem.solve()
    assert nodal_error(u, lambda x: stretch[:, None] * x[:dimension]) < 1e-10 * 2e-3


@pytest.mark.mpi
@pytest.mark.parametrize("dimension", [2, 3])
@pytest.mark.parametrize("pressure", [0.0, 1e6])
def test_constrained_layers_with_swelling(dimension, pressure):
    mesh, cell_tags, facet_tags = box_mesh(dimension)
    vertical = dimension - 1
    lateral_faces = [(1 + 2 * axis + side, axis) for axis in range(vertical) for side in (0, 1)]
    problem = CellElasticity(
        mesh,
        cell_tags,
        facet_tags,
        {tag: ElasticMaterial(E, nu) for tag, (E, nu, _) in enumerate(LAYERS, start=1)},
        swelling_strain={tag: s for tag, (_, _, s) in enumerate(LAYERS, start=1)},
        rollers=[*lateral_faces, (1 + 2 * vertical, vertical)],
        pressure={2 + 2 * vertical: pressure},
        rtol=1e-14,
    )
    problem.solve()
    stress = problem.cell_values(problem.stress(), "stress")
    von_mises = problem.cell_values(problem.von_mises(), "von_mises")
    owned = mesh.topology.index_map(mesh.topology.dim).size_local
    sigma = stress.x.array.reshape(-1, dimension, dimension)[:owned]
    worst = 0.0
    scale = max(E * abs(s) / (1 - nu) for E, nu, s in LAYERS)
    for tag, (E, nu, s) in enumerate(LAYERS, start=1):
        cells = cell_tags.find(tag)
        cells = cells[cells < owned]
        in_plane = -E * s / (1 - nu) - pressure * nu / (1 - nu)
        exact = np.diag([in_plane] * vertical + [-pressure])
        worst = max(worst, np.max(np.abs(sigma[cells] - exact), initial=0.0))
        # von Mises of (sigma_l, sigma_l, -p) (in 2D sigma_zz = sigma_l too): |sigma_l + p|.
        error = np.abs(von_mises.x.array[cells] - abs(in_plane + pressure))
        worst = max(worst, np.max(error, initial=0.0))
    worst = mesh.comm.allreduce(worst, op=MPI.MAX)
    # Issue 16: the closed form to 1e-8 relative to the largest stress (measured 3.6e-14 in
    # 2D, 8.1e-14 in 3D; 18 / 21 CG iterations).
    assert worst < 1e-8 * scale, worst / scale
    # The top face rises by sum_i t_i eps_zz,i, eps_zz = s (1 + nu) / (1 - nu) - p (1 + nu)
    # (1 - 2 nu) / (E (1 - nu)), layers of a third each.
    rise = sum(
        (s * (1 + nu) - pressure * (1 + nu) * (1 - 2 * nu) / E) / (1 - nu) / 3
        for E, nu, s in LAYERS
    )
    ds = ufl.Measure("ds", domain=mesh, subdomain_data=facet_tags)
    top = fem.form(problem.displacement[vertical] * ds(2 + 2 * vertical))  # unit area
    mean_top = mesh.comm.allreduce(fem.assemble_scalar(top), op=MPI.SUM)
    assert mean_top == pytest.approx(rise, rel=1e-8)
    assert problem.iterations < 50  # GAMG with the rigid-body modes: measured 18-21


def test_bad_materials_are_refused():
    with pytest.raises(ValueError, match="Poisson's ratio 0.5"):
        ElasticMaterial(1e9, 0.5)
    with pytest.raises(ValueError, match="Young's modulus -1"):
        ElasticMaterial(-1.0, 0.3)
    mesh, cell_tags, facet_tags = box_mesh(2)
    with pytest.raises(ValueError, match="cells have no material"):
        CellElasticity(mesh, cell_tags, facet_tags, {1: ElasticMaterial(1e9, 0.3)}, fixed=[1])
