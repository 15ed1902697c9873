"""Each kinetic law of ``electrolyx.forms.kinetics`` against its closed form.

The laws are UFL expressions: they are evaluated here the way the models evaluate them, compiled
by FFCx and interpolated at the vertices of a P1 space whose nodal values are the overpotentials
(interpolation at the nodes is exact for P1).
"""

from __future__ import annotations

from mpi4py import MPI

import dolfinx
import numpy as np
import pytest
from dolfinx import fem
from scipy.integrate import quad
from scipy.special import erfc, expit

from electrolyx.constants import FARADAY, GAS_CONSTANT
from electrolyx.forms.kinetics import KINETIC_LAWS, Kinetics

TEMPERATURE = 298.15
THERMAL_VOLTAGE = GAS_CONSTANT * TEMPERATURE / FARADAY
J0 = 3.7  # A/m2
ETA = np.linspace(-0.4, 0.4, 161)  # V: +-15.6 V_T, Tafel regime at both ends


def evaluate(kinetics: Kinetics, overpotential: np.ndarray) -> np.ndarray:
    """j(eta) of ``kinetics`` at the given overpotentials, through FFCx and interpolation."""
    mesh = dolfinx.mesh.create_unit_interval(MPI.COMM_SELF, overpotential.size - 1)
    space = fem.functionspace(mesh, ("Lagrange", 1))
    eta = fem.Function(space)
    eta.x.array[:] = overpotential
    temperature = fem.Constant(mesh, TEMPERATURE)
    thermal_voltage = GAS_CONSTANT * temperature / FARADAY
    expression = kinetics.current_density(fem.Constant(mesh, J0), eta, thermal_voltage)
    result = fem.Function(space)
    result.interpolate(fem.Expression(expression, space.element.interpolation_points))
    return result.x.array.copy()


def test_butler_volmer_with_unequal_transfer_coefficients():
    j = evaluate(Kinetics("butler-volmer", 0.3, 0.7), ETA)
    exact = J0 * (np.exp(0.3 * ETA / THERMAL_VOLTAGE) - np.exp(-0.7 * ETA / THERMAL_VOLTAGE))
    # Same formula in C and numpy: round-off of exp at |eta| = 15.6 V_T (measured 2e-15).
    np.testing.assert_allclose(j, exact, rtol=1e-12, atol=1e-12 * J0)


def test_symmetric_butler_volmer_is_the_sinh_law():
    j = evaluate(Kinetics("symmetric-butler-volmer"), ETA)
    np.testing.assert_allclose(j, 2 * J0 * np.sinh(ETA / (2 * THERMAL_VOLTAGE)), rtol=1e-12)


def test_tafel_keeps_one_branch():
    anodic = evaluate(Kinetics("tafel", 0.4, 0.6, tafel_direction="anodic"), ETA)
    cathodic = evaluate(Kinetics("tafel", 0.4, 0.6, tafel_direction="cathodic"), ETA)
    np.testing.assert_allclose(anodic, J0 * np.exp(0.4 * ETA / THERMAL_VOLTAGE), rtol=1e-12)
    np.testing.assert_allclose(cathodic, -J0 * np.exp(-0.6 * ETA / THERMAL_VOLTAGE), rtol=1e-12)
    # Far from equilibrium Tafel is Butler-Volmer: at eta = 0.4 V the neglected branch is
    # exp(-15.6) = 2e-7 of the kept one.
    full = evaluate(Kinetics("butler-volmer", 0.4, 0.6), ETA)
    assert anodic[-1] == pytest.approx(full[-1], rel=1e-6)
    assert cathodic[0] == pytest.approx(full[0], rel=1e-6)


def test_linear_kinetics_is_the_slope_of_butler_volmer_at_equilibrium():
    j = evaluate(Kinetics("linear", 0.3, 0.7), ETA)
    np.testing.assert_allclose(j, J0 * ETA / THERMAL_VOLTAGE, rtol=1e-12, atol=1e-14)
    small = np.array([-1e-5, 1e-5])
    bv = evaluate(Kinetics("butler-volmer", 0.3, 0.7), small)
    # BV - linear = j0 (alpha_a^2 - alpha_c^2)/2 (eta/V_T)^2: relative to the linear term
    # (alpha_a^2 - alpha_c^2)/2 eta/V_T = 7.8e-5 here; the bound 1e-4 fails for any other slope.
    np.testing.assert_allclose(bv, J0 * small / THERMAL_VOLTAGE, rtol=1e-4)


def zeng_formula(reorganisation: float, eta: np.ndarray) -> np.ndarray:
    """k_ox - k_red of Zeng et al. (2014), normalised by k(0) (scaled lambda~ and eta~)."""

    def rate(sign: float, e: np.ndarray) -> np.ndarray:
        argument = (reorganisation - np.sqrt(1 + np.sqrt(reorganisation) + e**2)) / (
            2 * np.sqrt(reorganisation)
        )
        return np.sqrt(np.pi * reorganisation) / (1 + np.exp(sign * e)) * erfc(argument)

    return (rate(-1, eta) - rate(1, eta)) / rate(1, np.zeros(1))


def chidsey_integral(reorganisation: float, shift: float) -> float:
    """int exp(-(x - lambda~ + shift)^2 / (4 lambda~)) / (1 + e^x) dx by adaptive quadrature."""
    centre = reorganisation - shift
    width = 40 * np.sqrt(reorganisation) + 50

    def integrand(x):
        return np.exp(-((x - centre) ** 2) / (4 * reorganisation)) * expit(-x)

    return quad(
        integrand,
        min(centre, 0.0) - width,
        max(centre, 0.0) + width,
        points=sorted({0.0, centre}),
        limit=500,
        epsabs=0.0,
        epsrel=1e-13,
    )[0]


@pytest.mark.parametrize("reorganisation_kT", [1.0, 4.0, 16.0, 40.0, 150.0])
def test_marcus_hush_chidsey_is_the_zeng_formula(reorganisation_kT):
    energy = reorganisation_kT * GAS_CONSTANT * TEMPERATURE  # J/mol
    eta = np.linspace(-1.0, 1.0, 201)  # V: up to 39 V_T
    j = evaluate(Kinetics("marcus-hush-chidsey", reorganisation_energy_J_mol=energy), eta)
    exact = J0 * zeng_formula(reorganisation_kT, eta / THERMAL_VOLTAGE)
    # The same closed form; erfc by 1 - erf below 3 (its round-off relative to erfc(a(0)) is
    # 1e-16 / erfc(3) = 5e-12) and by a continued fraction above (1e-16 relative): at
    # lambda~ = 150, erfc(a(0)) = 3e-16, which 1 - erf could not represent at all.
    np.testing.assert_allclose(j, exact, rtol=1e-10, atol=1e-12 * J0)


def test_marcus_hush_chidsey_against_the_chidsey_integral():
    reorganisation = 16.0  # lambda = 0.41 eV at 298 K, typical of intercalation (Bazant 2013)
    energy = reorganisation * GAS_CONSTANT * TEMPERATURE
    eta_scaled = np.array([-40.0, -16.0, -4.0, -1.0, -0.1, 0.1, 1.0, 4.0, 16.0, 40.0])
    j = evaluate(
        Kinetics("marcus-hush-chidsey", reorganisation_energy_J_mol=energy),
        eta_scaled * THERMAL_VOLTAGE,
    )
    k0 = chidsey_integral(reorganisation, 0.0)
    oxidation = np.array([chidsey_integral(reorganisation, e) for e in eta_scaled])
    reduction = np.array([chidsey_integral(reorganisation, -e) for e in eta_scaled])
    # Detailed balance of the integral itself: k_ox / k_red = exp(eta~) (1e-9: quadrature).
    np.testing.assert_allclose(oxidation / reduction, np.exp(eta_scaled), rtol=1e-9)
    exact = J0 * (oxidation - reduction) / k0
    # Zeng's asymptotic formula approximates the integral: measured here within 5.6 % over
    # |eta~| <= 40 at lambda~ = 16 (17-29 % at lambda~ = 2 or 40 when normalised by k(0);
    # Zeng et al. 2014 compare rates, not this ratio). An 8 % band.
    np.testing.assert_allclose(j, exact, rtol=0.08)
    # Both bend over toward saturation: from eta~ = 16 (= lambda~) to 40 the current grows by
    # a factor 2.0 (measured), where symmetric Butler-Volmer grows by exp(12) = 1.6e5.
    assert j[-1] / j[-2] < 2.5 and exact[-1] / exact[-2] < 2.5


def test_every_law_vanishes_at_equilibrium_but_tafel():
    for law in KINETIC_LAWS:
        kinetics = Kinetics(law, reorganisation_energy_J_mol=1e4)
        value = evaluate(kinetics, np.zeros(2))
        if law == "tafel":
            assert value[0] == pytest.approx(J0, rel=1e-14)
        else:
            assert np.all(value == 0.0)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"law": "butler_volmer"}, "is not one of"),
        ({"anodic_transfer_coefficient": 1.2}, "anodic_transfer_coefficient = 1.2"),
        ({"law": "marcus-hush-chidsey"}, "reorganisation energy"),
        ({"law": "tafel", "tafel_direction": "up"}, "tafel_direction"),
    ],
)
def test_bad_kinetics_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        Kinetics(**arguments)
