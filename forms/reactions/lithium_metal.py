"""Dissolution and deposition of lithium metal, Li <-> Li+ + e-, at a metal surface.

    eta = phi_s - phi_e - 0   (open-circuit potential 0 V against Li/Li+),
    j = kinetics(j0, eta, R T / F)   (symmetric Butler-Volmer by default),

each Li that dissolves enters the electrolyte (s_e = j / F). The counter electrode of a half
cell; lithium plating in a graphite electrode is the same reaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from electrolyx.constants import FARADAY
from electrolyx.constants import thermal_voltage as thermal_voltage_at
from electrolyx.forms.kinetics import Kinetics, overpotential

from .terms import Interface, ReactionTerms

__all__ = ["LithiumMetal"]


@dataclass(frozen=True)
class LithiumMetal:
    """Lithium metal exchanging Li+ with the electrolyte.

    Attributes:
        exchange_current_density: j0 [A/m2] (number or UFL expression).
        kinetics: The kinetic law (symmetric Butler-Volmer by default).
        name: Name of the reaction in outputs.
    """

    exchange_current_density: Any
    kinetics: Kinetics = Kinetics("symmetric-butler-volmer")
    name: str = "lithium_metal"

    def terms(self, interface: Interface) -> ReactionTerms:
        """Current density and the Li+ it releases at ``interface``."""
        eta = overpotential(interface.solid_potential, interface.electrolyte_potential, 0.0)
        thermal_voltage = thermal_voltage_at(interface.temperature)
        current = self.kinetics.current_density(self.exchange_current_density, eta, thermal_voltage)
        return ReactionTerms(
            current_density=current,
            electrolyte_lithium_source=current / FARADAY,
            outputs={"overpotential_V": eta, "lithium_metal_current_density_A_m2": current},
            heat_overpotential=eta,
        )
