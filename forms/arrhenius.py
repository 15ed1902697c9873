"""Arrhenius temperature dependence of a rate or transport property.

    A(T) = exp(E_a / R (1/T_ref - 1/T)),

equal to 1 at the reference temperature T_ref, with E_a the activation energy [J/mol] and R the
gas constant. A property measured at T_ref becomes k(T) = k(T_ref) A(T). ``temperature`` may be
a number, a numpy array or a UFL expression (a ``fem.Constant`` now, a temperature ``Function``
when a thermal model runs).
"""

from __future__ import annotations

import ufl

from electrolyx.constants import GAS_CONSTANT

__all__ = ["arrhenius_factor"]


def arrhenius_factor(activation_energy, temperature, reference_temperature, mod=ufl):
    """A(T) = exp(E_a / R (1/T_ref - 1/T)) [-], exactly 1 when E_a = 0.

    Args:
        activation_energy: E_a [J/mol].
        temperature: T [K].
        reference_temperature: T_ref [K], where the factor is 1.
        mod: ``ufl`` (weak forms) or ``numpy`` (arrays and numbers).
    """
    if not isinstance(activation_energy, ufl.core.expr.Expr) and activation_energy == 0.0:
        return 1.0
    exponent = activation_energy / GAS_CONSTANT * (1.0 / reference_temperature - 1.0 / temperature)
    return mod.exp(exponent)
