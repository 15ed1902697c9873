"""Linear kinetics: Butler-Volmer linearised about equilibrium (|eta| << V_T).

    j = j0 (alpha_a + alpha_c) eta / V_T,

the charge-transfer resistance R_ct = V_T / ((alpha_a + alpha_c) j0) per unit area.
"""

from __future__ import annotations

__all__ = ["linear_current_density"]


def linear_current_density(exchange_current_density, overpotential, thermal_voltage, kinetics):
    """Current density j = j0 (alpha_a + alpha_c) eta / V_T [A/m2]."""
    slope = kinetics.anodic_transfer_coefficient + kinetics.cathodic_transfer_coefficient
    return exchange_current_density * slope * overpotential / thermal_voltage
