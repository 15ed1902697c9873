"""Marcus-Hush-Chidsey kinetics: electron transfer from a metal-like electron reservoir.

Chidsey's rate of oxidation (+) and reduction (-), with energies in units of k_B T,

    k_ox/red(eta) ~ int exp(-(x - lambda -+ eta)^2 / (4 lambda)) / (1 + exp(x)) dx,

integrates Marcus's Gaussian over the Fermi distribution of the electrode's electrons. Zeng,
Smith, Bai and Bazant (J. Electroanal. Chem. 735, 77-83, 2014) give the closed asymptotic form

    k_ox/red = sqrt(pi lambda) / (1 + exp(-+eta)) erfc((lambda - sqrt(1 + sqrt(lambda) + eta^2))
                                                        / (2 sqrt(lambda))),

which keeps detailed balance (k_ox/k_red = exp(eta)) exactly and the current saturates at large
|eta| instead of growing exponentially as in Butler-Volmer. Here the net current is normalised
by the rate at equilibrium, so that j0 keeps its meaning of exchange-current density:

    j = j0 (k_ox - k_red) / k(0) = 2 j0 tanh(eta~/2) erfc(a(eta~)) / erfc(a(0)),
    a(eta~) = (lambda~ - sqrt(1 + sqrt(lambda~) + eta~^2)) / (2 sqrt(lambda~)),

with eta~ = eta / V_T and lambda~ = lambda / (R T) (lambda [J/mol]). Near equilibrium
j ~ j0 eta / V_T, as symmetric Butler-Volmer. (PyBaMM's "Marcus-Hush-Chidsey" option multiplies
the unnormalised k_ox - k_red by its j0, whose meaning then depends on lambda.)

erfc(x) = 1 - erf(x) loses digits where erfc is small; for x >= 3 it is evaluated by its
continued fraction exp(-x^2) / (sqrt(pi) (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))), 30 levels
(accurate to round-off there).
"""

from __future__ import annotations

import math

import ufl

__all__ = ["complementary_error_function", "marcus_hush_chidsey_current_density"]

_CONTINUED_FRACTION_FROM = 3.0
_CONTINUED_FRACTION_LEVELS = 30


def complementary_error_function(x):
    """erfc(x) as a UFL expression, accurate to round-off also where it is tiny (x >= 3)."""
    tail = ufl.max_value(x, _CONTINUED_FRACTION_FROM)
    denominator = tail
    for level in range(_CONTINUED_FRACTION_LEVELS, 0, -1):
        denominator = tail + (level / 2.0) / denominator
    continued_fraction = ufl.exp(-tail * tail) / (math.sqrt(math.pi) * denominator)
    return ufl.conditional(
        ufl.lt(x, _CONTINUED_FRACTION_FROM), 1.0 - ufl.erf(x), continued_fraction
    )


def marcus_hush_chidsey_current_density(
    exchange_current_density, overpotential, thermal_voltage, kinetics
):
    """Current density j = 2 j0 tanh(eta~/2) erfc(a(eta~)) / erfc(a(0)) [A/m2] (normalised).

    Args:
        exchange_current_density: j0 [A/m2].
        overpotential: eta [V].
        thermal_voltage: R T / F [V].
        kinetics: Carries ``reorganisation_energy_J_mol`` (lambda [J/mol]).
    """
    from electrolyx.constants import FARADAY

    reorganisation = kinetics.reorganisation_energy_J_mol / (FARADAY * thermal_voltage)
    root = ufl.sqrt(reorganisation)
    scaled = overpotential / thermal_voltage

    def argument(eta):
        return (reorganisation - ufl.sqrt(1.0 + root + eta**2)) / (2.0 * root)

    ratio = complementary_error_function(argument(scaled)) / complementary_error_function(
        argument(0.0)
    )
    return 2.0 * exchange_current_density * ufl.tanh(scaled / 2.0) * ratio
