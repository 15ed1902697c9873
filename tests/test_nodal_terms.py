"""Nodal terms (TSIntegrator's ``nodal_terms``): the same residual and Jacobian, read at the nodes.

A nodal term f(u, c) is evaluated once per node (vertex quadrature) into a function the
residual reads, and with its partial derivatives into one the Jacobian reads
(:class:`electrolyx.ts_integrator.derivatives.NodalTerm`). The residual and Jacobian must be
those of the forms with f written out, to round-off, on one rank (the compiled loop) and on
two (the per-block assembly, ghosts added across the ranks); the integration the same.
"""

from mpi4py import MPI
from petsc4py import PETSc

import numpy as np
import pytest
import ufl
from dolfinx import fem, mesh

import electrolyx  # noqa: F401  (loads MPI/PETSc libraries first)
from electrolyx.ts_integrator import TSIntegrator
from electrolyx.ts_integrator.derivatives import NodalTerm

CELLS = 24
SPECIES = 3


def _system(comm, nodal: bool, components=None, name="nodal", dim=1):
    """u_t = (D u_x)_x - f + s,  c_t = 0.1 c_xx + f e_2 - f u e_0,  f = exp(0.3 u) (1 + c_2^2).

    f enters three rows with vertex quadrature, once multiplied by u (so that the Jacobian
    reads f's value as well as its derivatives), and reads the last component of c only.
    """
    if dim == 1:
        domain = mesh.create_unit_interval(comm, CELLS)
    else:
        domain = mesh.create_unit_cube(comm, 3, 3, 3)
    V = fem.functionspace(domain, ("Lagrange", 1))
    W = fem.functionspace(domain, ("Lagrange", 1, (SPECIES,)))
    u, u_dot, v = fem.Function(V, name="u"), fem.Function(V), ufl.TestFunction(V)
    c, c_dot, w = fem.Function(W, name="c"), fem.Function(W), ufl.TestFunction(W)
    dx_vertex = ufl.Measure(
        "dx", domain=domain, metadata={"quadrature_rule": "vertex", "quadrature_degree": 1}
    )
    x = ufl.SpatialCoordinate(domain)
    f = ufl.exp(0.3 * u) * (1.0 + c[SPECIES - 1] ** 2)
    residual = [
        (u_dot * v + 0.2 * ufl.inner(ufl.grad(u), ufl.grad(v)) - ufl.sin(np.pi * x[0]) * v) * ufl.dx
        + f * v * dx_vertex,
        (ufl.inner(c_dot, w) + 0.1 * ufl.inner(ufl.grad(c), ufl.grad(w))) * ufl.dx
        - (f * w[SPECIES - 1] - f * u * w[0]) * dx_vertex,
    ]
    terms = []
    if nodal:
        terms = [NodalTerm(f, V, dx_vertex, {} if components is None else {c: components})]
    u.interpolate(lambda x: 0.5 + 0.3 * np.sin(2.0 * np.pi * x[0]))
    c.interpolate(lambda x: np.vstack([0.2 + x[0], 0.4 - 0.2 * x[0], 0.1 + 0.5 * x[0] ** 2]))
    integrator = TSIntegrator(residual, [u, c], [u_dot, c_dot], name=name, nodal_terms=terms)
    return integrator, (u, c, u_dot, c_dot)


def _assembled(integrator, unknowns):
    """Residual and Jacobian (shift 3.7) at the unknowns' state with random rates, as arrays."""
    x, x_dot = integrator._duplicate(integrator.x), integrator._duplicate(integrator.x)
    integrator._store(unknowns, x)
    rng = np.random.default_rng(7 + MPI.COMM_WORLD.rank)
    x_dot.getArray()[:] = rng.standard_normal(x_dot.getLocalSize())
    residual = integrator._duplicate(integrator.x)
    integrator._assemble_residual(0.0, x, x_dot, residual)
    integrator._assemble_jacobian(0.0, x, x_dot, 3.7, integrator.matrix, integrator.matrix)
    jacobian = integrator.matrix.convert(PETSc.Mat.Type.DENSE).getDenseArray().copy()
    return residual.getArray(readonly=True).copy(), jacobian


@pytest.mark.mpi
@pytest.mark.parametrize("dim", [1, 3])
@pytest.mark.parametrize("components", [None, [SPECIES - 1]])
def test_nodal_term_gives_the_written_out_residual_and_jacobian(components, dim):
    comm = MPI.COMM_WORLD
    written, functions = _system(comm, nodal=False, name="written", dim=dim)
    nodal, nodal_functions = _system(comm, nodal=True, components=components, dim=dim)
    assert nodal._assembler.nodal and nodal._assembler.nodal_residual
    residual, jacobian = _assembled(written, functions[:2])
    nodal_residual, nodal_jacobian = _assembled(nodal, nodal_functions[:2])
    # f at a node is sum_cells rho f w_i W_i^-1 |cell| / (d + 1) over the covering cells
    # instead of f: equal to a few ulps of the entries (1D: |F| <= 0.41, |J| <= 9.7; 3D:
    # |F| <= 0.075, |J| <= 0.47); measured <= 2.8e-17 for both, on one rank and on two. The
    # derivative of f by c_0 in place of c_2 (components [0]) was 0.05 off in the Jacobian.
    assert np.max(np.abs(nodal_residual - residual)) <= 1e-14 * max(1.0, np.max(np.abs(residual)))
    assert np.max(np.abs(nodal_jacobian - jacobian)) <= 1e-14 * np.max(np.abs(jacobian))


@pytest.mark.mpi
def test_nodal_term_integrates_as_the_written_out_system():
    comm = MPI.COMM_WORLD
    finals = []
    for nodal in (False, True):
        integrator, functions = _system(comm, nodal=nodal, name=f"run{int(nodal)}")
        integrator.integrate(0.0, 0.5)
        values = [
            comm.allgather(f.x.array[: f.x.index_map.size_local * f.x.block_size])
            for f in functions[:2]
        ]
        finals.append(
            (np.concatenate([np.concatenate(v) for v in values]), dict(integrator.totals))
        )
    (written, written_totals), (nodal_values, nodal_totals) = finals
    # The same steps and Newton iterations; the states equal to round-off (measured 4e-15 on
    # one rank and on two; the solution is O(1)).
    assert nodal_totals == written_totals
    assert np.max(np.abs(nodal_values - written)) <= 1e-12


def test_nodal_term_measure_needs_vertex_quadrature():
    domain = mesh.create_unit_interval(MPI.COMM_SELF, 4)
    V = fem.functionspace(domain, ("Lagrange", 1))
    u, u_dot, v = fem.Function(V), fem.Function(V), ufl.TestFunction(V)
    f = ufl.exp(u)
    residual = [(u_dot + f) * v * ufl.dx]
    with pytest.raises(ValueError, match="must integrate with vertex quadrature"):
        TSIntegrator(residual, [u], [u_dot], name="gauss", nodal_terms=[NodalTerm(f, V, ufl.dx)])


def test_nodal_term_may_not_read_rates():
    """Its partial derivatives are by the unknowns only: shift dF/du_dot would be missing."""
    domain = mesh.create_unit_interval(MPI.COMM_SELF, 4)
    V = fem.functionspace(domain, ("Lagrange", 1))
    u, u_dot, v = fem.Function(V), fem.Function(V), ufl.TestFunction(V)
    dx_vertex = ufl.Measure(
        "dx", domain=domain, metadata={"quadrature_rule": "vertex", "quadrature_degree": 1}
    )
    f = ufl.exp(u) * u_dot
    residual = [(u_dot + f) * v * dx_vertex]
    with pytest.raises(ValueError, match="reads the unknowns' rates"):
        TSIntegrator(residual, [u], [u_dot], name="rates", nodal_terms=[NodalTerm(f, V, dx_vertex)])


def _dfn_jacobian(monkeypatch, nodal: bool):
    """The cycling DFN's residual and Jacobian at a perturbed initial state (1D, serial).

    OKane2022 with partially reversible lithium plating and reaction-limited SEI on the
    negative electrode: nodal terms of the intercalation (both electrodes), plating and SEI
    currents, the SEI's reading the intercalation's.
    """
    from electrolyx.models.dfn import DFN, DFNResolution, SideReactions
    from electrolyx.models.dfn.solvers import DFNSolvers
    from electrolyx.parameters import okane2022

    cell = okane2022()
    side = SideReactions(
        ("lithium-plating", "sei"), "partially-reversible", "reaction-limited", cell.degradation
    )
    with monkeypatch.context() as patch:
        if not nodal:
            patch.setattr(DFNSolvers, "_nodal_terms", lambda self: [])
        model = DFN(cell, DFNResolution(8, 4, 8, 8, 8), side_reactions={"negative": side})
    integrator = model.integrator
    assert len(integrator._assembler.nodal) == (4 if nodal else 0)
    rng = np.random.default_rng(3)
    for function in integrator.unknowns:
        function.x.array[:] *= 1.0 + 1e-2 * rng.standard_normal(function.x.array.size)
    return _assembled(integrator, integrator.unknowns)


def test_dfn_reactions_as_nodal_terms_keep_its_residual_and_jacobian(monkeypatch):
    """The DFN's nodal terms (each electrode's reaction currents, reading c_s at the surface
    only) give its residual and Jacobian: a derivative left out (another radial node
    declared, say) would be off by the reaction's slope."""
    residual, jacobian = _dfn_jacobian(monkeypatch, nodal=False)
    nodal_residual, nodal_jacobian = _dfn_jacobian(monkeypatch, nodal=True)
    # Scaled rows; at this perturbed state |F| <= 1.2e4 and |J| <= 1.4e4. Measured 6.9e-18 and
    # 2.8e-14 absolute (3.5e-18 and 7.1e-15 before the covers of nodes). With the
    # next-to-surface node declared instead of the surface one the Jacobian was 27 off.
    assert np.max(np.abs(nodal_residual - residual)) <= 1e-12 * max(1.0, np.max(np.abs(residual)))
    assert np.max(np.abs(nodal_jacobian - jacobian)) <= 1e-14 * np.max(np.abs(jacobian))


def _cell_vertices(domain, cells):
    tdim = domain.topology.dim
    domain.topology.create_connectivity(tdim, 0)
    connectivity = domain.topology.connectivity(tdim, 0)
    return np.unique(np.concatenate([connectivity.links(c) for c in cells]))


@pytest.mark.parametrize("cells, expected", [(24, 13), (25, 13)])
def test_covering_cells_in_1d_are_every_other_cell(cells, expected):
    """In 1D a cover of the nodes by cells is every other cell, and the last one where the
    count of nodes is odd: each node's nodal term is evaluated once (the last but one node
    twice then), not twice."""
    from electrolyx.nodal_values import covering_cells

    domain = mesh.create_unit_interval(MPI.COMM_SELF, cells)
    chosen = covering_cells(domain.topology._cpp_object, np.arange(cells, dtype=np.int32))
    assert chosen.size == expected
    assert np.array_equal(_cell_vertices(domain, chosen), np.arange(cells + 1))
    # a rank without cells of a subdomain covers nothing
    empty = np.zeros(0, dtype=np.int32)
    assert covering_cells(domain.topology._cpp_object, empty).size == 0


def test_covering_cells_hold_every_vertex_of_a_subdomain_in_3d():
    """Tetrahedra of a subdomain (x < 0.5 of a 6 x 6 x 6 cube): the cover holds every vertex
    of the subdomain's cells and is a small part of them."""
    from electrolyx.nodal_values import covering_cells

    domain = mesh.create_unit_cube(MPI.COMM_SELF, 6, 6, 6)
    tdim = domain.topology.dim
    cells = mesh.locate_entities(domain, tdim, lambda x: x[0] <= 0.5 + 1e-12)
    chosen = covering_cells(domain.topology._cpp_object, cells)
    assert np.all(np.isin(chosen, cells))
    assert np.array_equal(_cell_vertices(domain, chosen), _cell_vertices(domain, cells))
    # 648 tetrahedra on 196 vertices: over all of them a nodal term is evaluated 13.2 times
    # per vertex, over the 67 chosen (measured) 1.37 times; a cover needs at least 196 / 4 =
    # 49. The bound, an eighth of the cells (81), leaves room for another greedy order.
    assert chosen.size <= cells.size // 8


def test_nodal_terms_are_evaluated_over_a_cover_unless_cellwise():
    """The nodal values' forms are evaluated over a cover of the nodes (24 cells: 13) where f
    is continuous at them; f reading a discontinuous function has a value per cell at a node
    (their volume-weighted mean is the nodal value): over all the cells."""
    from electrolyx.nodal_values import FIRST_COVER_ID, covered_forms
    from electrolyx.ts_integrator.derivatives import _NodalValues

    integrator, _ = _system(MPI.COMM_SELF, nodal=True, name="cover")
    for form, _function, _copy in [
        *integrator._assembler.nodal,
        *integrator._assembler.nodal_residual,
    ]:
        assert form._cpp_object.num_integrals(fem.IntegralType.cell, 0) == 1
        assert len(form._cpp_object.domains(fem.IntegralType.cell, 0)) == 13

    domain = mesh.create_unit_interval(MPI.COMM_SELF, 6)
    V = fem.functionspace(domain, ("Lagrange", 1))
    u = fem.Function(V)
    porosity = fem.Function(fem.functionspace(domain, ("DG", 0)))
    dx_vertex = ufl.Measure(
        "dx", domain=domain, metadata={"quadrature_rule": "vertex", "quadrature_degree": 1}
    )
    continuous = _NodalValues(NodalTerm(ufl.exp(u), V, dx_vertex), [u])
    cellwise = _NodalValues(NodalTerm(porosity * ufl.exp(u), V, dx_vertex), [u])
    covered = covered_forms([continuous.value_form, cellwise.value_form])
    (first,), (second,) = (form.integrals() for form in covered)
    assert first.subdomain_id() >= FIRST_COVER_ID
    assert second.subdomain_id() == "everywhere"
