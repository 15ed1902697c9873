"""The heat equation of forms/heat_conduction.py against a closed-form slab solution."""

from __future__ import annotations

from mpi4py import MPI

import numpy as np
import pytest
import ufl
from dolfinx import fem, mesh
from dolfinx.fem.petsc import LinearProblem

from electrolyx.forms.heat_conduction import heat_equation_residual, lumped_energy_balance


def test_steady_slab_with_source_and_convective_faces():
    """Two layers, a uniform source, both faces cooled: the steady profile.

    lambda_i T'' + q = 0 in each layer (0 < x < a: lambda_1, a < x < L: lambda_2), continuous
    T and lambda T' at x = a, -lambda T'.n = h (T - T_amb) on both faces. The exact solution is
    piecewise quadratic; P1 Galerkin in 1D is exact at the nodes for it (the interface a node),
    so the nodal values agree to round-off: 1e-10 relative to T (the solve works on T ~ 300 K
    with a condition number ~ lambda / (h dx) ~ 1e5; measured 3e-11).
    """
    length, a, q, h, ambient = 2.0e-4, 0.8e-4, 5e4, 10.0, 298.15
    lam1, lam2 = 1.7, 0.16
    domain = mesh.create_interval(MPI.COMM_WORLD, 40, [0.0, length])
    V = fem.functionspace(domain, ("Lagrange", 1))
    x = ufl.SpatialCoordinate(domain)
    T, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    cells = mesh.locate_entities(domain, 1, lambda p: p[0] <= a + 1e-12)
    dg = fem.functionspace(domain, ("DG", 0))
    conductivity = fem.Function(dg)
    conductivity.x.array[:] = lam2
    conductivity.x.array[cells] = lam1
    zero = fem.Constant(domain, 0.0)
    form = heat_equation_residual(
        T,
        zero,
        v,
        [(1.0, conductivity, ufl.dx)],
        [(fem.Constant(domain, q), ufl.dx)],
        [(h, fem.Constant(domain, ambient), 0.0, ufl.ds)],
    )
    del x
    problem = LinearProblem(
        ufl.lhs(form),
        ufl.rhs(form),
        petsc_options_prefix="slab_",
        petsc_options={"ksp_type": "preonly", "pc_type": "lu"},
    )
    solution = problem.solve()
    # Exact: T = A1 + B1 x - q x^2 / (2 lam1) on [0, a], A2 + B2 x - q x^2 / (2 lam2) on [a, L].
    matrix = np.array(
        [
            [h, -lam1, 0.0, 0.0],  # -lam1 T'(0) = -h (T(0) - T_amb) (outward normal -x)
            [0.0, 0.0, h, lam2 + h * length],  # lam2 T'(L) = -h (T(L) - T_amb)
            [1.0, a, -1.0, -a],  # T continuous at a
            [0.0, lam1, 0.0, -lam2],  # lam T' continuous at a
        ]
    )
    rhs = np.array(
        [
            h * ambient,
            h * ambient + q * length + h * q * length**2 / (2 * lam2),
            q * a**2 / (2 * lam1) - q * a**2 / (2 * lam2),
            0.0,
        ]
    )
    A1, B1, A2, B2 = np.linalg.solve(matrix, rhs)
    coordinates = V.tabulate_dof_coordinates()[:, 0]
    exact = np.where(
        coordinates <= a + 1e-12,
        A1 + B1 * coordinates - q * coordinates**2 / (2 * lam1),
        A2 + B2 * coordinates - q * coordinates**2 / (2 * lam2),
    )
    rise = exact.max() - ambient
    assert rise > 0.5  # K: mostly the faces' resistance q L / (2 h)
    assert np.max(np.abs(solution.x.array - exact)) < 1e-10 * exact.max()


def test_lumped_balance_is_the_energy_equation():
    """C dT/dt - Q + hA (T - T_amb) with numbers: zero at the exact exponential solution."""
    C, Q, hA, ambient, t = 600.0, 0.8, 0.0531, 298.15, 1000.0
    tau = C / hA
    T = ambient + Q / hA * (1 - np.exp(-t / tau))
    rate = Q / C * np.exp(-t / tau)
    assert lumped_energy_balance(C, T, rate, Q, hA, ambient) == pytest.approx(0.0, abs=1e-12)
