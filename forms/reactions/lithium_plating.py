"""Lithium plating and stripping on the negative particles, Li+ + e- <-> Li(plated).

After O'Kane et al. (J. Electrochem. Soc. 167, 090540, 2020; Phys. Chem. Chem. Phys. 24, 7909,
2022), as PyBaMM's "lithium plating" options:

    eta_Li = phi_s - phi_e + eta_film                  (against Li/Li+; eta_film =
                                                        -j L_SEI rho_SEI under the SEI film,
                                                        0 without film resistance)
    j0,strip = F k_Li c_Li,   j0,plate = F k_Li c_e
    j_Li = j0,strip exp(alpha_s eta_Li / V_T) - j0,plate exp(-alpha_p eta_Li / V_T)
                                                       ("reversible", "partially reversible")
    j_Li = -j0,plate exp(-alpha_p eta_Li / V_T)        ("irreversible": no stripping)

with alpha_s = 1 - alpha_p, and the plated (c_Li) and dead (c_dead) lithium per volume of
electrode [mol/m3]:

    reversible:            dc_Li/dt = -a_s j_Li / F,                dc_dead/dt = 0
    irreversible:          dc_Li/dt = 0,                            dc_dead/dt = -a_s j_Li / F
    partially reversible:  dc_Li/dt = -a_s j_Li / F - gamma c_Li,   dc_dead/dt = gamma c_Li,
                           gamma = gamma_0 L_SEI,0 / L_SEI          (the SEI passivates dead Li)

Each Li+ plated leaves the electrolyte (s_e = j_Li / F); none crosses the particle surface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ufl

from electrolyx.constants import FARADAY
from electrolyx.constants import thermal_voltage as thermal_voltage_at

from .terms import Interface, ReactionState, ReactionTerms, with_film

__all__ = ["LITHIUM_PLATING_OPTIONS", "LithiumPlating"]

#: The plating options (PyBaMM's names, with "-" for " " as in case files).
LITHIUM_PLATING_OPTIONS = ("reversible", "irreversible", "partially-reversible")

#: Name of the SEI thickness state that partially reversible plating reads.
SEI_THICKNESS = "sei_thickness"


@dataclass(frozen=True)
class LithiumPlating:
    """Plating and stripping of lithium metal on the particles of one electrode.

    Attributes:
        degradation: :class:`electrolyx.parameters.degradation.DegradationParameters`.
        specific_surface_area_1_m: a_s of the electrode [1/m].
        option: One of :data:`LITHIUM_PLATING_OPTIONS`.
        name: Name of the reaction in outputs.
    """

    degradation: Any
    specific_surface_area_1_m: float
    option: str = "partially-reversible"
    name: str = "lithium_plating"

    def __post_init__(self):
        if self.option not in LITHIUM_PLATING_OPTIONS:
            raise ValueError(
                f"lithium_plating = {self.option!r}: allowed "
                + ", ".join(map(repr, LITHIUM_PLATING_OPTIONS))
            )

    @property
    def states(self) -> tuple[ReactionState, ...]:
        """Plated (reversible) and dead lithium [mol per m3 of electrode]."""
        d = self.degradation
        scale = d.typical_plated_lithium_mol_m3
        return (
            ReactionState(
                "plated_lithium_concentration", scale, d.initial_plated_lithium_mol_m3, 1.0
            ),
            ReactionState("dead_lithium_concentration", scale, 0.0, 1.0),
        )

    def terms(self, interface: Interface) -> ReactionTerms:
        """Plating current, the Li+ it takes from the electrolyte and the states' rates."""
        d = self.degradation
        plated = interface.states["plated_lithium_concentration"]
        thermal_voltage = thermal_voltage_at(interface.temperature)
        driving = interface.solid_potential - interface.electrolyte_potential  # U_Li = 0
        eta = with_film(driving, interface)
        alpha_plating = d.plating_transfer_coefficient
        alpha_stripping = 1.0 - alpha_plating
        rate_constant = FARADAY * d.plating_rate_constant_m_s
        plating = (
            rate_constant
            * interface.electrolyte_concentration
            * ufl.exp(-alpha_plating * eta / thermal_voltage)
        )
        if self.option == "irreversible":
            current = -plating
        else:
            # j0,strip = F k_Li c_Li, linear in c_Li as PyBaMM's (OKane2022): smooth through
            # c_Li = 0, where a c_Li a round-off below zero strips back towards it. A positive
            # part max(c_Li, 0) had a kink there, and Newton stalled on it at the first
            # steps of a charge after an empty-plating discharge (the 22nd cycle of the
            # 500-cycle ageing run: its Jacobian lacked d j_Li / d c_Li, 2.3e3 per scaled unit).
            stripping = rate_constant * plated
            current = stripping * ufl.exp(alpha_stripping * eta / thermal_voltage) - plating
        deposit = -self.specific_surface_area_1_m * current / FARADAY
        if self.option == "reversible":
            rates = {"plated_lithium_concentration": deposit, "dead_lithium_concentration": 0.0}
        elif self.option == "irreversible":
            rates = {"plated_lithium_concentration": 0.0, "dead_lithium_concentration": deposit}
        else:
            if SEI_THICKNESS not in interface.states:
                raise ValueError(
                    "lithium_plating = 'partially-reversible' needs an SEI reaction (the dead "
                    "lithium decay rate gamma_0 L_SEI,0 / L_SEI reads its thickness)"
                )
            decay = (
                d.dead_lithium_decay_constant_1_s
                * d.initial_sei_thickness_m
                / interface.states[SEI_THICKNESS]
            )
            rates = {
                "plated_lithium_concentration": deposit - decay * plated,
                "dead_lithium_concentration": decay * plated,
            }
        return ReactionTerms(
            current_density=current,
            electrolyte_lithium_source=current / FARADAY,
            outputs={
                "plating_overpotential_V": eta,
                "lithium_plating_current_density_A_m2": current,
            },
            state_rates=rates,
            heat_overpotential=driving,
        )
