"""The laws the PNP and homogenisation packages share through ``forms/``, against closed forms.

Debye length (:func:`electrolyx.forms.debye_length`), the Frumkin-corrected metal deposition of
a PNP electrode (:func:`electrolyx.forms.reactions.frumkin_current_density`, compiled by FFCx
and interpolated at P1 nodes, exact at the nodes), and the tortuosity factor and Bruggeman
exponent of a measured transport efficiency (the inverses of
:mod:`electrolyx.forms.effective_transport`).
"""

from __future__ import annotations

import math

from mpi4py import MPI

import dolfinx
import numpy as np
import pytest
from dolfinx import fem

from electrolyx.constants import FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY
from electrolyx.forms import debye_length
from electrolyx.forms.effective_transport import (
    bruggeman_exponent_of_tortuosity,
    bruggeman_transport_efficiency,
    tortuosity_factor_of_efficiency,
)
from electrolyx.forms.kinetics import Kinetics
from electrolyx.forms.reactions import frumkin_current_density

TEMPERATURE = 298.15
THERMAL_VOLTAGE = GAS_CONSTANT * TEMPERATURE / FARADAY


def test_debye_length_of_a_symmetric_electrolyte():
    # 10 mol/m3 of a 1:1 salt in water (eps_r = 78.5) at 25 C: lambda_D = 3.042057 nm, the
    # textbook value the Gouy-Chapman case states (tests/test_cli.py); here from the definition
    # sqrt(eps R T / (F^2 sum z^2 c)) written out, to round-off.
    permittivity = 78.5 * VACUUM_PERMITTIVITY
    expected = math.sqrt(permittivity * GAS_CONSTANT * TEMPERATURE / (FARADAY**2 * 2 * 10.0))
    value = debye_length(permittivity, THERMAL_VOLTAGE, 2 * 10.0, FARADAY, mod=math)
    assert value == pytest.approx(expected, rel=1e-14)
    assert value == pytest.approx(3.042057e-9, rel=1e-6)


@pytest.mark.parametrize("charge_number", [1, 2])
def test_frumkin_butler_volmer_matches_its_closed_form(charge_number):
    # j = j0,b [exp(a_a z eta/V_T) - (c/c_b) exp(-a_c z eta/V_T)], a_a + a_c = 1.
    alpha = 0.4
    j0 = 2.5  # A/m2
    eta = np.linspace(-0.15, 0.15, 31)  # V
    log_ratio = np.linspace(-2.0, 1.0, 31)  # ln(c / c_bulk) at the plane
    mesh = dolfinx.mesh.create_unit_interval(MPI.COMM_SELF, eta.size - 1)
    space = fem.functionspace(mesh, ("Lagrange", 1))
    eta_h, log_ratio_h = fem.Function(space), fem.Function(space)
    eta_h.x.array[:] = eta
    log_ratio_h.x.array[:] = log_ratio
    temperature = fem.Constant(mesh, TEMPERATURE)
    current = frumkin_current_density(
        Kinetics("butler-volmer", alpha, 1.0 - alpha),
        fem.Constant(mesh, j0),
        eta_h,
        log_ratio_h,
        GAS_CONSTANT * temperature / FARADAY,
        charge_number,
    )
    result = fem.Function(space)
    result.interpolate(fem.Expression(current, space.element.interpolation_points))
    scaled = charge_number * eta / THERMAL_VOLTAGE
    exact = j0 * (np.exp(alpha * scaled) - np.exp(log_ratio) * np.exp(-(1 - alpha) * scaled))
    # The same law rearranged (exp of sums against products of exp): round-off, 1e-12.
    np.testing.assert_allclose(result.x.array, exact, rtol=1e-12, atol=1e-12 * j0)
    # At eta = 0 and c = c_bulk no current flows (equilibrium).
    zero = (np.abs(eta) < 1e-15) & (np.abs(log_ratio) < 1e-15)
    assert np.all(np.abs(result.x.array[zero]) < 1e-15)


def test_tortuosity_and_bruggeman_exponent_invert_the_bruggeman_relation():
    for porosity in (0.2, 0.35, 0.5, 0.8):
        for exponent in (1.0, 1.5, 2.2):
            efficiency = bruggeman_transport_efficiency(porosity, exponent)
            tau = tortuosity_factor_of_efficiency(porosity, efficiency)
            # tau = eps / eps^b = eps^(1 - b); b recovered: round-off of log, 1e-12.
            assert tau == pytest.approx(porosity ** (1 - exponent), rel=1e-12)
            assert bruggeman_exponent_of_tortuosity(porosity, tau) == pytest.approx(
                exponent, rel=1e-12
            )
    # A pore phase without a path (efficiency 0): tau = inf and b = inf; eps = 1: b undefined.
    assert tortuosity_factor_of_efficiency(0.3, 0.0) == math.inf
    assert bruggeman_exponent_of_tortuosity(0.3, math.inf) == math.inf
    assert math.isnan(bruggeman_exponent_of_tortuosity(1.0, 1.0))
