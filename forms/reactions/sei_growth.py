"""Growth of the solid-electrolyte interphase (SEI) on the negative particles.

Solvent reduction S + Li+ + e- -> SEI consumes lithium at the rate -j_SEI / F per interfacial
area; the film thickens as (PyBaMM's "SEI" options, Marquis' thesis eqs. 5.91-5.92, with the
Arrhenius factor A(T) = exp(E_SEI / R (1 / T_ref - 1 / T)) on every law):

    eta_SEI = phi_s - phi_e - U_SEI - j L_SEI rho_SEI          (j the intercalation current)
    reaction limited:          j_SEI = -A j0,SEI exp(-alpha eta_SEI / V_T)   (alpha = 1/2;
                                       alpha_SEI of the set in "reaction-limited-asymmetric")
    solvent-diffusion limited: j_SEI = -A D_sol c_sol F / L_SEI
    electron-migration limited: j_SEI = A kappa_SEI min(eta_0, 0) / L_SEI,
                                       eta_0 = phi_s - phi_e - U_SEI      (Marquis eq. 5.94)
    interstitial-diffusion limited: j_SEI = -A D_Li c_Li,0 F exp(-(phi_s - phi_e) / V_T) / L_SEI
                                                                        (Marquis eq. 5.96)
    EC reaction limited:       j_SEI = -A F c_EC,0 k / (1 + L_SEI k / D_EC),
                                       k = k_SEI exp(-eta_SEI / (2 V_T))   (Yang et al. 2017,
                                       eqs. 10-11: EC reduced at the particle, diffusing
                                       through the film from c_EC,0, quasi-steady)
    dL_SEI/dt = -j_SEI V_SEI / (F z_SEI)

with V_SEI the SEI's molar volume and z_SEI the moles of lithium per mole of SEI. With film
resistance the reactions beneath the film see eta_film = -j_tot L_SEI rho_SEI added to their
overpotential, j_tot = sum_k j_k the total current density (an algebraic state). The lithium
it holds per volume of electrode is a_s z_SEI (L_SEI - L_SEI,0) / V_SEI. Each Li+ it takes
leaves the electrolyte (s_e = j_SEI / F); none crosses the particle surface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ufl

from electrolyx.constants import FARADAY
from electrolyx.constants import thermal_voltage as thermal_voltage_at
from electrolyx.forms.arrhenius import arrhenius_factor

from .terms import Interface, ReactionState, ReactionTerms

__all__ = ["SEI_GROWTH_OPTIONS", "TOTAL_CURRENT", "SEIGrowth"]

#: The algebraic state j = sum_k j_k of an SEI with film resistance [A/m2].
TOTAL_CURRENT = "total_interfacial_current_density"

#: The SEI growth laws (PyBaMM's names, with "-" for " " as in case files).
SEI_GROWTH_OPTIONS = (
    "reaction-limited",
    "reaction-limited-asymmetric",
    "solvent-diffusion-limited",
    "electron-migration-limited",
    "interstitial-diffusion-limited",
    "ec-reaction-limited",
)


@dataclass(frozen=True)
class SEIGrowth:
    """SEI growth on the particles of one electrode.

    Attributes:
        degradation: :class:`electrolyx.parameters.degradation.DegradationParameters`.
        specific_surface_area_1_m: a_s of the electrode [1/m].
        reference_temperature_K: T_ref of the Arrhenius factor [K].
        main_reaction: The intercalation reaction whose current j enters eta_SEI.
        option: One of :data:`SEI_GROWTH_OPTIONS`.
        film_resistance: Whether the film's resistance L_SEI rho_SEI costs every reaction
            beneath it eta_film = -j L_SEI rho_SEI, j the total current density (PyBaMM's
            "SEI film resistance" = "distributed"); j is then an algebraic state.
        name: Name of the reaction in outputs.
    """

    degradation: Any
    specific_surface_area_1_m: float
    reference_temperature_K: float
    main_reaction: Any
    option: str = "reaction-limited"
    film_resistance: bool = False
    name: str = "sei"

    def __post_init__(self):
        if self.option not in SEI_GROWTH_OPTIONS:
            raise ValueError(
                f"sei = {self.option!r}: allowed " + ", ".join(map(repr, SEI_GROWTH_OPTIONS))
            )

    @property
    def states(self) -> tuple[ReactionState, ...]:
        """The SEI thickness L_SEI [m]."""
        d = self.degradation
        lithium = self.specific_surface_area_1_m * d.lithium_per_sei
        lithium /= d.sei_partial_molar_volume_m3_mol
        states = [
            ReactionState(
                "sei_thickness", d.initial_sei_thickness_m, d.initial_sei_thickness_m, lithium
            )
        ]
        if self.film_resistance:
            states.append(ReactionState(TOTAL_CURRENT, 1.0, 0.0, total_current=True))
        return tuple(states)

    def film_overpotential(self, states: dict[str, Any]):
        """eta_film = -j L_SEI rho_SEI [V], j the total current density (0 without the film)."""
        if not self.film_resistance:
            return 0.0
        resistance = states["sei_thickness"] * self.degradation.sei_resistivity_ohm_m
        return -states[TOTAL_CURRENT] * resistance

    def terms(self, interface: Interface) -> ReactionTerms:
        """SEI current, the Li+ it takes from the electrolyte and dL_SEI/dt."""
        d = self.degradation
        temperature = interface.temperature
        arrhenius = arrhenius_factor(
            d.sei_growth_activation_energy_J_mol, temperature, self.reference_temperature_K
        )
        current = arrhenius * self._current_density(interface)
        growth = -current * d.sei_partial_molar_volume_m3_mol / (FARADAY * d.lithium_per_sei)
        return ReactionTerms(
            current_density=current,
            electrolyte_lithium_source=current / FARADAY,
            outputs={"sei_current_density_A_m2": current},
            state_rates={"sei_thickness": growth},
            heat_overpotential=interface.solid_potential
            - interface.electrolyte_potential
            - d.sei_open_circuit_potential_V,
        )

    def _sei_overpotential(self, interface: Interface):
        """eta_SEI = phi_s - phi_e - U_SEI - j L_SEI rho_SEI (j the intercalation current)."""
        d = self.degradation
        main = self.main_reaction.terms(interface).current_density
        thickness = interface.states["sei_thickness"]
        return (
            interface.solid_potential
            - interface.electrolyte_potential
            - d.sei_open_circuit_potential_V
            - main * thickness * d.sei_resistivity_ohm_m
        )

    def _current_density(self, interface: Interface):
        """j_SEI / A(T) of the chosen law [A/m2] (< 0: the SEI takes lithium)."""
        d = self.degradation
        thickness = interface.states["sei_thickness"]
        thermal_voltage = thermal_voltage_at(interface.temperature)
        if self.option.startswith("reaction-limited"):
            alpha = 0.5 if self.option == "reaction-limited" else d.sei_transfer_coefficient
            exponent = -alpha * self._sei_overpotential(interface) / thermal_voltage
            return -d.sei_exchange_current_density_A_m2 * ufl.exp(exponent)
        if self.option == "solvent-diffusion-limited":
            solvent = d.sei_solvent_diffusivity_m2_s * d.bulk_solvent_concentration_mol_m3
            return -solvent * FARADAY / thickness
        surface_potential = interface.solid_potential - interface.electrolyte_potential
        if self.option == "electron-migration-limited":
            # Electrons cross the film only towards the electrolyte (eta_0 < 0).
            eta = surface_potential - d.sei_open_circuit_potential_V
            return d.sei_electron_conductivity_S_m * ufl.min_value(eta, 0.0) / thickness
        if self.option == "interstitial-diffusion-limited":
            flux = d.sei_interstitial_diffusivity_m2_s
            flux *= d.interstitial_reference_concentration_mol_m3 * FARADAY
            return -flux * ufl.exp(-surface_potential / thermal_voltage) / thickness
        # EC reaction limited: c_EC = c_EC,0 - L j / (F D_EC) at the particle, j = -F c_EC k.
        rate = d.sei_kinetic_rate_constant_m_s
        rate *= ufl.exp(-0.5 * self._sei_overpotential(interface) / thermal_voltage)
        film = thickness / d.ec_diffusivity_m2_s
        return -FARADAY * d.ec_initial_concentration_mol_m3 * rate / (1.0 + film * rate)
