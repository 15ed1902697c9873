"""Butler-Volmer kinetics with independent anodic and cathodic transfer coefficients.

j = j0 [exp(alpha_a eta / V_T) - exp(-alpha_c eta / V_T)],   V_T = R T / F.
"""

from __future__ import annotations

import ufl

__all__ = ["butler_volmer_current_density"]


def butler_volmer_current_density(
    exchange_current_density, overpotential, thermal_voltage, kinetics
):
    """Current density j = j0 [exp(alpha_a eta/V_T) - exp(-alpha_c eta/V_T)] [A/m2].

    Args:
        exchange_current_density: j0 [A/m2].
        overpotential: eta [V].
        thermal_voltage: R T / F [V].
        kinetics: Carries ``anodic_transfer_coefficient`` and ``cathodic_transfer_coefficient``.
    """
    scaled = overpotential / thermal_voltage
    return exchange_current_density * (
        ufl.exp(kinetics.anodic_transfer_coefficient * scaled)
        - ufl.exp(-kinetics.cathodic_transfer_coefficient * scaled)
    )
