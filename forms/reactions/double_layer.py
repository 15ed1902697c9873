"""Charging of the electrochemical double layer at the interface (no lithium moves).

    j_dl = C_dl d(phi_s - phi_e)/dt,

with C_dl the double-layer capacitance per interfacial area [F/m2].
"""

from __future__ import annotations

from dataclasses import dataclass

from .terms import Interface, ReactionTerms

__all__ = ["DoubleLayer"]


@dataclass(frozen=True)
class DoubleLayer:
    """The capacitive current of the double layer.

    Attributes:
        capacitance_F_m2: C_dl [F/m2].
        name: Name of the reaction in outputs.
    """

    capacitance_F_m2: float
    name: str = "double_layer"

    def terms(self, interface: Interface) -> ReactionTerms:
        """j_dl = C_dl d(phi_s - phi_e)/dt; no species."""
        if interface.surface_potential_difference_rate is None:
            raise ValueError("the double layer needs d(phi_s - phi_e)/dt at the interface")
        current = self.capacitance_F_m2 * interface.surface_potential_difference_rate
        return ReactionTerms(
            current_density=current, outputs={"double_layer_current_density_A_m2": current}
        )
