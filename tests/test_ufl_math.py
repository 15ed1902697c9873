"""The weak forms' math module (``electrolyx.forms.ufl_math``) and the regularised square root.

Both replace a transcendental call by cheaper ones (tanh through one exponential, the power
-1/4 through two square roots); they must stay the same functions, value and derivative, to
round-off. Evaluated as the models evaluate them: compiled by FFCx and interpolated at the
vertices of a P1 space whose nodal values are the arguments.
"""

from __future__ import annotations

from mpi4py import MPI

import dolfinx
import numpy as np
import ufl
from dolfinx import fem

from electrolyx.forms import ufl_math
from electrolyx.forms.exchange_current import REGULARISATION, regularised_square_root
from electrolyx.parameters import chen2020


def evaluate(law, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """law(y) and its UFL derivative d law / dy at the nodal values ``values``."""
    mesh = dolfinx.mesh.create_unit_interval(MPI.COMM_SELF, values.size - 1)
    space = fem.functionspace(mesh, ("Lagrange", 1))
    argument = fem.Function(space)
    argument.x.array[:] = values
    y = ufl.variable(argument)
    expression = law(y)
    results = []
    for form in (expression, ufl.diff(expression, y)):
        result = fem.Function(space)
        result.interpolate(fem.Expression(form, space.element.interpolation_points))
        results.append(result.x.array.copy())
    return results[0], results[1]


def test_tanh_through_one_exponential_is_tanh():
    y = np.concatenate((np.linspace(-40.0, 40.0, 801), [-1e-9, 1e-9, -400.0, 171.0, 400.0]))
    value, slope = evaluate(ufl_math.tanh, y)
    # 1 - 2 / (e + 1): three roundings of values below 2, so an absolute error of a few ulp
    # of 1 (measured 3.3e-16).
    np.testing.assert_allclose(value, np.tanh(y), rtol=0, atol=1e-15)
    # 4 e / (e + 1)^2 against sech^2 y (from exp(-2 |y|), which cannot overflow): relative
    # round-off of the exponential, whose argument up to 80 could carry 80 eps relative
    # (measured 4.7e-16). Past the cap (171, 400) 0, the true value there being below
    # 1e-147, and no overflow at 400, where e^2 would be inf.
    small = np.exp(-2.0 * np.abs(y))
    exact = 4.0 * small / (1.0 + small) ** 2
    below_cap = y <= ufl_math.TANH_CAP
    np.testing.assert_allclose(slope[below_cap], exact[below_cap], rtol=5e-14, atol=0)
    assert np.all(slope[~below_cap] == 0.0) and np.all(exact[~below_cap] < 1e-147)
    assert np.all(np.isfinite(slope))


def test_ufl_math_is_ufl_otherwise():
    assert ufl_math.exp is ufl.exp and ufl_math.max_value is ufl.max_value
    assert ufl_math.tanh(0.5) == np.tanh(0.5)  # a number: math.tanh


def test_open_circuit_potentials_equal_numpys():
    """Chen2020's graphite and NMC811 (three tanh terms each) in a weak form and in numpy."""
    cell = chen2020()
    stoichiometry = np.linspace(0.0, 1.0, 201)
    for electrode in (cell.negative, cell.positive):
        value, _ = evaluate(
            lambda x, e=electrode: e.open_circuit_potential(x, mod=ufl_math), stoichiometry
        )
        expected = electrode.open_circuit_potential(stoichiometry)
        # NMC811's +-17.7 tanh terms cancel to ~4 V: 17.7 times a few ulp of 1 each (measured
        # 1.1e-14 V); graphite's 1.1e-16 V.
        np.testing.assert_allclose(value, expected, rtol=0, atol=5e-14)


def test_regularised_square_root_is_the_power_law():
    scale = 3.05e4  # c_s,max of graphite [mol/m3]
    x = scale * np.concatenate(([0.0, 1e-9, 1e-3], np.linspace(0.01, 1.2, 120)))
    value, slope = evaluate(lambda c: regularised_square_root(c, scale), x)
    ratio = x / scale
    exact = scale**0.5 * ratio * (ratio**2 + REGULARISATION**2) ** -0.25
    exact_slope = (
        (ratio**2 + REGULARISATION**2) ** -1.25 * (0.5 * ratio**2 + REGULARISATION**2) / scale**0.5
    )
    # Two square roots against pow(-1/4): a few ulp relative (measured 4.6e-16 compiled,
    # 2.2e-16 in numpy, 8.9e-16 for the slope; the function serves both).
    np.testing.assert_allclose(value, exact, rtol=1e-14, atol=0)
    np.testing.assert_allclose(regularised_square_root(x, scale), exact, rtol=1e-14, atol=0)
    np.testing.assert_allclose(slope, exact_slope, rtol=1e-13, atol=0)
    # Linear near 0 with the finite slope 1 / sqrt(delta s) of the docstring.
    assert abs(slope[0] * np.sqrt(REGULARISATION * scale) - 1.0) < 1e-14
