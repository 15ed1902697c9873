"""Vertex quadrature over a cover of the nodes (``electrolyx.nodal_values.covered_forms``).

An integral int f w dx_v over a subdomain's cells, with f continuous at the nodes, is
sum_i W_i f(x_i) w_i(x_i): over a cover of the nodes by some of the cells, weighted by rho =
W / W_cover, it is the same sum with f evaluated once or a few times per node instead of once
per cell around it. The vectors and matrices must be those of the forms as written, to
round-off, on one rank and on two (covers made per rank, ghosts added across them).
"""

from mpi4py import MPI
from petsc4py import PETSc

import dolfinx.la
import numpy as np
import pytest
import ufl
from dolfinx import fem, mesh
from dolfinx.fem import petsc

import electrolyx  # noqa: F401  (loads MPI/PETSc libraries first)
from electrolyx.nodal_values import FIRST_COVER_ID, covered_forms

VERTEX = {"quadrature_rule": "vertex", "quadrature_degree": 1}


def _domain(comm, dim):
    if dim == 1:
        return mesh.create_interval(comm, 30, [0.0, 1.0])
    return mesh.create_unit_cube(comm, 4, 4, 4)


def _system(comm, dim):
    """A residual with vertex-quadrature terms over two tagged regions and everywhere.

    Region 1 (x < 0.4) and region 2 (the rest) of cells; f = exp(u) (1 + c_1^2) on region 1,
    u^2 on region 2 and everywhere; a Gauss-quadrature diffusion term everywhere, a
    cell-wise coefficient (kept on every cell) and a gradient (likewise) on region 2.
    """
    domain = _domain(comm, dim)
    tdim = domain.topology.dim
    owned = domain.topology.index_map(tdim).size_local
    left = mesh.locate_entities(domain, tdim, lambda x: x[0] <= 0.4 + 1e-12)
    values = np.full(owned + domain.topology.index_map(tdim).num_ghosts, 2, dtype=np.int32)
    values[left] = 1
    tags = mesh.meshtags(domain, tdim, np.arange(values.size, dtype=np.int32), values)
    dx = ufl.Measure("dx", domain=domain, subdomain_data=tags)
    dx_v = ufl.Measure("dx", domain=domain, subdomain_data=tags, metadata=VERTEX)
    V = fem.functionspace(domain, ("Lagrange", 1))
    W = fem.functionspace(domain, ("Lagrange", 1, (2,)))
    u, v = fem.Function(V), ufl.TestFunction(V)
    c, w = fem.Function(W), ufl.TestFunction(W)
    cellwise = fem.Function(fem.functionspace(domain, ("DG", 0)))
    u.interpolate(lambda x: 0.3 + 0.5 * np.sin(3.0 * x[0]) + 0.1 * x[-1])
    c.interpolate(lambda x: np.vstack([0.2 + x[0] ** 2, 0.5 - 0.3 * x[0]]))
    cellwise.x.array[:] = 1.0 + np.arange(cellwise.x.array.size) % 3
    f = ufl.exp(u) * (1.0 + c[1] ** 2)
    residual = [
        0.1 * ufl.inner(ufl.grad(u), ufl.grad(v)) * dx
        + f * v * dx_v(1)
        + u**2 * v * dx_v(2)
        + u**2 * v * dx_v
        + cellwise * u * v * dx_v(2)
        + ufl.grad(u)[0] * v * dx_v(2),
        (ufl.inner(c, w) + f * w[1]) * dx_v(1) + c[0] * u * w[0] * dx_v,
    ]
    return residual, [u, c]


def _assembled(forms_ufl, unknowns):
    """Each residual block as an array, and each Jacobian block as a dense array (owned rows)."""
    vectors, matrices = [], []
    for form in forms_ufl:
        vector = fem.assemble_vector(fem.form(form))
        vector.scatter_reverse(dolfinx.la.InsertMode.add)
        size = vector.index_map.size_local * vector.block_size
        vectors.append(vector.array[:size].copy())
        for u in unknowns:
            matrix = petsc.assemble_matrix(fem.form(ufl.derivative(form, u)))
            matrix.assemble()
            matrices.append(matrix.convert(PETSc.Mat.Type.DENSE).getDenseArray().copy())
            matrix.destroy()
    return vectors, matrices


@pytest.mark.mpi
@pytest.mark.parametrize("dim", [1, 3])
def test_covered_forms_give_the_written_vectors_and_matrices(dim):
    comm = MPI.COMM_WORLD
    residual, unknowns = _system(comm, dim)
    covered = covered_forms(residual)
    vectors, matrices = _assembled(residual, unknowns)
    covered_vectors, covered_matrices = _assembled(covered, unknowns)
    # f's sums over fewer cells, weighted by rho: equal to a few ulps of the entries
    # (|F| <= 0.15, |J| <= 6.2 in 1D; 0.062 and 0.24 in 3D); measured 2.8e-17 and 8.9e-16
    # (1D), 3.5e-17 and 3.9e-16 (3D) absolute, on one rank and on two.
    for a, b in zip(vectors, covered_vectors, strict=True):
        assert np.max(np.abs(a - b), initial=0.0) <= 1e-14 * max(1.0, np.max(np.abs(a), initial=0))
    for a, b in zip(matrices, covered_matrices, strict=True):
        assert np.max(np.abs(a - b), initial=0.0) <= 1e-14 * max(1.0, np.max(np.abs(a), initial=0))


def test_only_continuous_vertex_integrals_are_covered():
    """The covered integrals: f of region 1, u^2 on region 2 and everywhere, and the second
    row's two; not the cell-wise coefficient's, the gradient's, nor the Gauss term."""
    residual, _ = _system(MPI.COMM_SELF, 1)
    covered = covered_forms(residual)
    ids = [
        [
            integral.subdomain_id()
            for integral in form.integrals()
            if integral.integral_type() == "cell"
        ]
        for form in covered
    ]
    covers = [[i for i in row if isinstance(i, int) and i >= FIRST_COVER_ID] for row in ids]
    assert [len(row) for row in covers] == [3, 2]
    # 30 cells: region 1 has 12 (cover: 7 cells), region 2 18 (10), everywhere 30 (16)
    data = dict(covered[0].integrals()[0].subdomain_data())
    assert sorted(len(data[i]) for i in set(covers[0])) == [7, 10, 16]
