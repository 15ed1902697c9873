"""The laws of particle cracking and the Ai2020 set's spline tables, against closed forms and
PyBaMM's own numbers (no solver: the DFN against PyBaMM is tests/test_dfn_cracking.py)."""

from pathlib import Path

from mpi4py import MPI

import numpy as np
import pytest
import ufl
from dolfinx import fem, mesh
from scipy.integrate import solve_ivp
from scipy.interpolate import make_interp_spline

import electrolyx  # noqa: F401  (loads MPI/PETSc libraries first)
from electrolyx.forms.mechanics import (
    CrackingParticle,
    crack_growth_rate,
    crack_roughness_ratio,
    crack_surface_area_per_volume,
)
from electrolyx.parameters import ai2020
from electrolyx.parameters.cubic_spline import CubicSplineTable

DATA = Path(__file__).parents[1] / "electrolyx" / "parameters" / "data"
REFERENCE = Path(__file__).parent / "data" / "pybamm" / "ai2020_cracking_1C.csv"


def cracking() -> CrackingParticle:
    return ai2020().negative.cracking_particle()


def test_paris_law_under_constant_tension_matches_its_closed_form():
    """dl/dt = A l^(m/2), A = k (b sigma sqrt(pi))^m / t0, integrates to
    l(t) = (l_0^(1 - m/2) + (1 - m/2) A t)^(1 / (1 - m/2)) (m != 2)."""
    crack = cracking()
    sigma, m, initial = 2e8, crack.paris_law_m, crack.initial_crack_length_m
    a = crack.cracking_rate * (crack.paris_law_b * sigma * np.sqrt(np.pi)) ** m / 3600.0
    exponent = 1.0 - m / 2.0  # -0.1: the crack runs away in finite time; stop at 1.6 l_0
    end = (initial**exponent - (1.6 * initial) ** exponent) / (-exponent * a)

    def rate(_, length):
        return crack_growth_rate(sigma, length, crack, 298.15, mod=np)

    times = np.linspace(0.0, end, 5)
    numeric = solve_ivp(rate, (0, end), [initial], t_eval=times, rtol=1e-12, atol=0).y[0]
    exact = (initial**exponent + exponent * a * times) ** (1.0 / exponent)
    assert exact[-1] == pytest.approx(1.6 * initial, rel=1e-12)  # grown by 60 %
    # solve_ivp's rtol 1e-12 over 4 steps of the smooth solution: 1e-9 relative is its error bar.
    np.testing.assert_allclose(numeric, exact, rtol=1e-9)


def test_compression_grows_no_crack():
    crack = cracking()
    rates = crack_growth_rate(np.array([-1e8, 0.0, 1e6]), 2e-8, crack, 298.15, mod=np)
    assert rates[0] == 0.0 and rates[1] == 0.0 and rates[2] > 0.0


def test_roughness_of_the_initial_cracks_is_pybamms():
    """PyBaMM's roughness ratio at t = 0 (both electrodes: 2.908) from l_0, rho_cr and w_cr."""
    reference = np.genfromtxt(REFERENCE, delimiter=",", names=True, skip_header=1)
    crack = cracking()
    initial = crack_roughness_ratio(crack.initial_crack_length_m, crack)
    # Written with 10 digits: 1e-9 relative.
    assert initial == pytest.approx(reference["neg_roughness_ratio"][0], rel=1e-9)
    assert initial == pytest.approx(reference["pos_roughness_ratio"][0], rel=1e-9)
    a_s = 3.0 * 0.61 / 5e-6
    area = crack_surface_area_per_volume(crack.initial_crack_length_m, crack, a_s)
    assert area == pytest.approx((initial - 1.0) * a_s, rel=1e-14)


@pytest.mark.parametrize("name", ["graphite", "lico2"])
def test_ocp_spline_is_pybamms_cubic_interpolant(name):
    """Not-a-knot cubic through the table, as PyBaMM's "cubic" interpolant (scipy's
    make_interp_spline(k=3), which it hands to CasADi): through every point to round-off and
    equal to it between them to 1e-12 V."""
    table = np.loadtxt(DATA / f"ai2020_{name}_ocp.csv", delimiter=",", comments="#")
    spline = CubicSplineTable(table[:, 0], table[:, 1], name)
    np.testing.assert_allclose(spline(table[:, 0]), table[:, 1], rtol=0, atol=1e-12)
    x = np.linspace(table[0, 0], table[-1, 0], 5001)
    pybamm_cubic = make_interp_spline(table[:, 0], table[:, 1], k=3)
    # (Round-off of two spline representations of data with 3.4 V jumps over 1e-3: 1e-9 V.)
    np.testing.assert_allclose(spline(x), pybamm_cubic(x), rtol=0, atol=1e-9)


@pytest.mark.mpi
def test_spline_in_ufl_equals_numpy():
    """The conditional tree the forms use against the numpy spline, on a small table."""
    x_table = np.linspace(0.0, 1.0, 11) ** 1.3
    spline = CubicSplineTable(x_table, np.sin(5.0 * x_table), "test")
    domain = mesh.create_interval(MPI.COMM_WORLD, 37, [-0.1, 1.1])
    space = fem.functionspace(domain, ("Lagrange", 1))
    value = fem.Function(space)
    value.interpolate(
        fem.Expression(
            spline(ufl.SpatialCoordinate(domain)[0], mod=ufl), space.element.interpolation_points
        )
    )
    x = space.tabulate_dof_coordinates()[:, 0]
    # Extrapolated by the end pieces too; round-off of a cubic of size 1: 1e-14.
    np.testing.assert_allclose(value.x.array, spline(x), rtol=0, atol=1e-14)
