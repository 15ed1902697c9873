"""Metal deposition M^z+ + z e- <-> M at a Stern plane, with the Frumkin correction.

The reaction sees the concentration c and potential phi at the reaction plane, not in the bulk.
With the exchange current j0 = j0,bulk (c/c_bulk)^alpha_a and the Nernst equilibrium potential
U + (V_T/z) ln(c/c_bulk) (V_T = R T / F), a kinetic law j(j0, eta', V_T/z) of the Nernst
overpotential

    eta' = phi_M - phi - U - (V_T/z) ln(c/c_bulk)

becomes, for Butler-Volmer (alpha_a + alpha_c = 1),

    j = j0,bulk [exp(alpha_a z eta/V_T) - (c/c_bulk) exp(-alpha_c z eta/V_T)],
    eta = phi_M - phi - U,

positive anodic (metal dissolving). Any law of :mod:`electrolyx.forms.kinetics` applies.
"""

from __future__ import annotations

import ufl

from electrolyx.forms.kinetics import Kinetics

__all__ = ["frumkin_current_density"]


def frumkin_current_density(
    kinetics: Kinetics,
    bulk_exchange_current_density,
    overpotential,
    log_concentration_ratio,
    thermal_voltage,
    charge_number: int,
):
    """Current density j [A/m2] of metal deposition at the reaction plane (Frumkin-corrected).

    Args:
        kinetics: The kinetic law and its transfer coefficients.
        bulk_exchange_current_density: j0,bulk at c = c_bulk [A/m2].
        overpotential: eta = phi_M - phi - U against the bulk equilibrium potential [V].
        log_concentration_ratio: ln(c/c_bulk) at the plane [-].
        thermal_voltage: V_T = R T / F [V] (a ``fem.Constant`` or a field).
        charge_number: z of the cation.
    """
    exchange_current_density = bulk_exchange_current_density * ufl.exp(
        kinetics.anodic_transfer_coefficient * log_concentration_ratio
    )
    nernst_overpotential = overpotential - thermal_voltage / charge_number * log_concentration_ratio
    return kinetics.current_density(
        exchange_current_density, nernst_overpotential, thermal_voltage / charge_number
    )
