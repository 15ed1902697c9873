"""Symmetric Butler-Volmer kinetics (alpha_a = alpha_c = 1/2).

j = 2 j0 sinh(eta / (2 V_T)).
"""

from __future__ import annotations

import ufl

__all__ = ["symmetric_butler_volmer_current_density"]


def symmetric_butler_volmer_current_density(
    exchange_current_density, overpotential, thermal_voltage, kinetics=None
):
    """Current density j = 2 j0 sinh(eta / (2 V_T)) [A/m2] (no coefficient of ``kinetics``)."""
    return 2.0 * exchange_current_density * ufl.sinh(overpotential / (2.0 * thermal_voltage))
