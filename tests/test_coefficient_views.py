"""Forms that read submesh functions through P1 views on the parent mesh give the same numbers.

The layout of the resolved half cell, small: a unit cube split into two submeshes along a
staircase, a P1 unknown on each, and forms integrated over the parent mesh: cell integrals
over one part and an interior-facet integral over the surface between them, the left cell on
the "+" side.
A residual block and its Jacobian block against the other half's unknown are assembled once
reading the unknowns themselves (DOLFINx maps the entities to their submeshes) and once
through :class:`CoefficientViews` (the same kernels' integrands, the unknowns' values read from
P1 copies on the parent mesh). A P1 function on a cell is its values at the cell's vertices,
so the two agree to round-off only: the same quadrature, but the packed values come from
another array in another order, and nothing else differs (tolerance 1e-14 relative, a few
ulps of the entries' sizes, far below any change of the integrand). On 2 ranks the views must
hold the right values on ghost cells too: some interface facets have a ghost cell on one side
(with the views filled from the owned cells only, the 2-rank run fails; checked).
"""

from mpi4py import MPI

import dolfinx.la
import numpy as np
import pytest
import ufl
from dolfinx import fem, mesh

import electrolyx  # noqa: F401  (loads MPI/PETSc libraries first)
from electrolyx.coefficient_views import CoefficientViews

LEFT, RIGHT, INTERFACE = 1, 2, 3


def _split_cube(comm):
    # Longest in y, so that two ranks part it across y; the halves meet on a staircase (x = 1/2
    # or 3/4 in alternate quarters of y, the steps in the planes y = 1/4, 1/2, 3/4), so that
    # some interface facets lie on the ranks' boundary and have a ghost cell on one side.
    domain = mesh.create_unit_cube(comm, 8, 12, 3, ghost_mode=mesh.GhostMode.shared_facet)
    tdim = domain.topology.dim
    domain.topology.create_connectivity(tdim - 1, tdim)
    domain.topology.create_connectivity(tdim, tdim - 1)
    index_map = domain.topology.index_map(tdim)
    cells = np.arange(index_map.size_local + index_map.num_ghosts, dtype=np.int32)
    x = mesh.compute_midpoints(domain, tdim, cells)
    in_left = x[:, 0] < 0.5 + 0.25 * (np.floor(4 * x[:, 1]) % 2)
    left, right = cells[in_left], cells[~in_left]
    submeshes = [mesh.create_submesh(domain, tdim, part)[:2] for part in (left, right)]
    facets = mesh.locate_entities(domain, tdim - 1, lambda x: np.full(x.shape[1], True))
    facet_cells = domain.topology.connectivity(tdim - 1, tdim)
    plane = np.array(
        [f for f in facets if len(set(in_left[facet_cells.links(f)])) == 2], dtype=np.int32
    )
    interface = fem.compute_integration_domains(
        fem.IntegralType.interior_facet, domain.topology, plane
    ).reshape(-1, 4)
    # the left cell on the "+" side, as the half cell puts its particle cell there
    swap = ~in_left[interface[:, 0]]
    interface[swap] = interface[swap][:, [2, 3, 0, 1]]
    owned = index_map.size_local
    dx = ufl.Measure(
        "dx",
        domain,
        subdomain_data=[(LEFT, left[left < owned]), (RIGHT, right[right < owned])],
    )
    dS = ufl.Measure("dS", domain, subdomain_data=[(INTERFACE, interface.ravel())])
    return domain, submeshes, dx, dS


def _assembled(forms):
    vector = fem.assemble_vector(forms[0])
    vector.scatter_reverse(dolfinx.la.InsertMode.add)
    matrix = fem.assemble_matrix(forms[1])
    matrix.scatter_reverse()
    return vector.array[: vector.index_map.size_local].copy(), matrix.to_dense().copy()


@pytest.mark.mpi
def test_views_give_the_unknowns_integrals():
    comm = MPI.COMM_WORLD
    domain, ((left_mesh, left_map), (right_mesh, right_map)), dx, dS = _split_cube(comm)
    left_space = fem.functionspace(left_mesh, ("Lagrange", 1))
    right_space = fem.functionspace(right_mesh, ("Lagrange", 1))
    u_left, u_right = fem.Function(left_space), fem.Function(right_space)
    u_left.interpolate(lambda x: 1.0 + x[0] * x[1] + 0.3 * np.sin(5 * x[2]))
    u_right.interpolate(lambda x: 2.0 - x[1] + 0.2 * np.cos(4 * x[0] * x[2]))
    v_left = ufl.TestFunction(left_space)
    k = fem.Constant(domain, 0.7)
    residual = ufl.exp(u_left) * ufl.inner(ufl.grad(u_left), ufl.grad(v_left)) * dx(
        LEFT
    ) + k * ufl.sinh(u_left("+") - u_right("-")) * u_right("-") * v_left("+") * dS(INTERFACE)
    jacobian = ufl.derivative(residual, u_right, ufl.TrialFunction(right_space))
    entity_maps = [left_map, right_map]

    views = CoefficientViews(domain, [u_left, u_right], entity_maps)
    assert set(views.views) == {u_left, u_right}
    read_through_views = [
        fem.form(views.replace(f), entity_maps=entity_maps) for f in (residual, jacobian)
    ]

    # The compiled forms read no function on a submesh any more (so they keep no entity copies
    # for them); the direct ones read both.
    def meshes(form):
        return [c.function_space.mesh for c in form._cpp_object.coefficients]

    assert all(m is domain._cpp_object for f in read_through_views for m in meshes(f))
    direct_forms = [fem.form(f, entity_maps=entity_maps) for f in (residual, jacobian)]
    assert all(m is not domain._cpp_object for f in direct_forms for m in meshes(f))
    direct = _assembled(direct_forms)
    through_views = _assembled(read_through_views)
    for a, b in zip(direct, through_views, strict=True):
        assert np.abs(a).max() > 1e-2  # (the forms are not trivially zero)
        assert np.abs(a - b).max() <= 1e-14 * np.abs(a).max()

    # New values reach the forms only through update().
    u_right.x.array[:] *= 1.5
    stale = _assembled(read_through_views)
    views.update()
    fresh = _assembled(read_through_views)
    expected = _assembled([fem.form(f, entity_maps=entity_maps) for f in (residual, jacobian)])
    assert np.abs(stale[0] - expected[0]).max() > 1e-3 * np.abs(expected[0]).max()
    for a, b in zip(expected, fresh, strict=True):
        assert np.abs(a - b).max() <= 1e-14 * np.abs(a).max()
