"""Interfacial kinetics: Butler-Volmer faradaic current and double-layer charging current.

    j_F  = j0 [exp(alpha_a eta / V_T) - exp(-alpha_c eta / V_T)],   eta = phi_s - phi_e - U,
    j_dl = C_dl d(phi_s - phi_e)/dt,
    j    = j_F + j_dl + (side reactions),

with V_T = R T / F the thermal voltage. Current densities are per unit interfacial area [A/m2],
positive when anodic (lithium leaves the solid). Temperature enters only through ``V_T`` and the
caller's ``j0`` and ``U`` expressions, so it can be a constant now and a field later.
"""

from __future__ import annotations

from collections.abc import Iterable

import ufl

__all__ = [
    "butler_volmer_current_density",
    "double_layer_current_density",
    "interfacial_current_density",
    "overpotential",
]


def overpotential(solid_potential, electrolyte_potential, open_circuit_potential):
    """Reaction overpotential eta = phi_s - phi_e - U [V]."""
    return solid_potential - electrolyte_potential - open_circuit_potential


def butler_volmer_current_density(
    exchange_current_density,
    overpotential,
    thermal_voltage,
    anodic_transfer_coefficient=0.5,
    cathodic_transfer_coefficient=0.5,
):
    """Faradaic current density j_F = j0 [exp(a_a eta/V_T) - exp(-a_c eta/V_T)] [A/m2].

    Args:
        exchange_current_density: j0 [A/m2] (UFL expression).
        overpotential: eta [V].
        thermal_voltage: R T / F [V].
        anodic_transfer_coefficient: alpha_a [-].
        cathodic_transfer_coefficient: alpha_c [-].
    """
    return exchange_current_density * (
        ufl.exp(anodic_transfer_coefficient * overpotential / thermal_voltage)
        - ufl.exp(-cathodic_transfer_coefficient * overpotential / thermal_voltage)
    )


def double_layer_current_density(capacitance, surface_potential_difference_rate):
    """Capacitive current density j_dl = C_dl d(phi_s - phi_e)/dt [A/m2].

    Args:
        capacitance: Double-layer capacitance per interfacial area C_dl [F/m2].
        surface_potential_difference_rate: d(phi_s - phi_e)/dt [V/s], as given by the caller's
            time discretisation.
    """
    return capacitance * surface_potential_difference_rate


def interfacial_current_density(contributions: Iterable):
    """Total interfacial current density, the sum of faradaic, capacitive and side currents."""
    total = None
    for term in contributions:
        total = term if total is None else total + term
    if total is None:
        raise ValueError("an interfacial current needs at least one contribution")
    return total
