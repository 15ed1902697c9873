"""Tafel kinetics: one branch of Butler-Volmer, valid far from equilibrium (|eta| >> V_T).

    anodic:    j =  j0 exp(alpha_a eta / V_T),
    cathodic:  j = -j0 exp(-alpha_c eta / V_T).

The reverse reaction is neglected, so the current never vanishes: a Tafel electrode has no rest
state and runs in its one direction only (``Kinetics.tafel_direction``).
"""

from __future__ import annotations

import ufl

__all__ = ["tafel_current_density"]


def tafel_current_density(exchange_current_density, overpotential, thermal_voltage, kinetics):
    """The anodic or cathodic Tafel current density [A/m2].

    Args:
        exchange_current_density: j0 [A/m2].
        overpotential: eta [V].
        thermal_voltage: R T / F [V].
        kinetics: Carries the transfer coefficients and ``tafel_direction``.
    """
    scaled = overpotential / thermal_voltage
    if kinetics.tafel_direction == "anodic":
        return exchange_current_density * ufl.exp(kinetics.anodic_transfer_coefficient * scaled)
    return -exchange_current_density * ufl.exp(-kinetics.cathodic_transfer_coefficient * scaled)
