"""sum_forms builds the form that adding the terms one by one builds.

Same UFL signature (so the same compiled module from the form cache) and the same integrals in
the same order, for terms over several measures, subdomains and a negated term; 0 for none.
"""

from mpi4py import MPI

import numpy as np
import ufl
from dolfinx import fem, mesh

import electrolyx  # noqa: F401  (loads MPI/PETSc libraries first)
from electrolyx.form_sums import sum_forms


def test_one_form_equals_the_chain_of_sums():
    domain = mesh.create_unit_interval(MPI.COMM_SELF, 4)
    cells = np.arange(4, dtype=np.int32)
    regions = mesh.meshtags(domain, 1, cells, np.array([1, 1, 2, 2], dtype=np.int32))
    dx = ufl.Measure("dx", domain, subdomain_data=regions)
    ds = ufl.Measure("ds", domain)
    V = fem.functionspace(domain, ("Lagrange", 1))
    u, v = fem.Function(V), ufl.TestFunction(V)
    k = fem.Constant(domain, 2.0)
    terms = [
        u * v * dx(2),
        k * u**2 * v * dx(1),
        ufl.exp(u) * v * ds,
        -(u * v * dx(1)),
        3.0 * v * dx(2),
        v * dx,
    ]
    chained = 0
    for term in terms:
        chained += term
    one = sum_forms(terms)
    assert one.signature() == chained.signature()
    assert one.integrals() == chained.integrals()
    assert list(one.constants()) == [k]
    assert sum_forms([]) == 0
