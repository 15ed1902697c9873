"""Degradation parameters of the negative electrode (lithium plating, SEI), by PyBaMM's names.

:class:`DegradationParameters` holds the numbers that the lithium plating
(:mod:`electrolyx.forms.reactions.lithium_plating`) and SEI growth
(:mod:`electrolyx.forms.reactions.sei_growth`) reactions read; :data:`DEGRADATION_NAMES` maps
PyBaMM's names to its fields, so that ``[parameters.values]`` sets any of them by name.

:func:`okane2022` is PyBaMM's ``OKane2022`` set: the LG M50 cell of Chen2020 with the
degradation values of S. E. J. O'Kane, W. Ai, G. Madabattula, D. Alonso-Alvarez, R. Timms,
V. Sulzer, J. S. Edge, B. Wu, G. J. Offer and M. Marinescu, "Lithium-ion battery degradation:
how to model it", Phys. Chem. Chem. Phys. 24, 7909 (2022), doi:10.1039/D2CP00417H, and the
plating kinetics of S. E. J. O'Kane, I. D. Campbell, M. W. J. Marzook, G. J. Offer and
M. Marinescu, "Physical origin of the differential voltage minimum associated with lithium
plating in Li-ion batteries", J. Electrochem. Soc. 167, 090540 (2020). Besides the
degradation values it differs from Chen2020 in the Bruggeman exponent of the solid
conductivities (1.5; Chen2020 none) and its Arrhenius factors: graphite diffusivity
30.3 kJ/mol (from Ecker et al. 2015), NMC811 diffusivity 25 kJ/mol (Cabanero et al. 2018),
electrolyte diffusivity and conductivity 17 kJ/mol (Ecker et al. 2015), all against
298.15 K. One difference from PyBaMM's set: the graphite OCP is Chen's analytic fit (as in
the Chen2020 set), where PyBaMM's OKane2022 interpolates Chen's measured table
(bench/make_pybamm_plating_reference.py uses the fit in PyBaMM too).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from electrolyx.forms.arrhenius import arrhenius_factor

from .base import CellParameters
from .chen2020 import (
    REFERENCE_TEMPERATURE_K,
    chen2020,
    electrolyte_conductivity_nyman2008,
    electrolyte_diffusivity_nyman2008,
)

__all__ = ["DEGRADATION_NAMES", "OKANE2022_DEGRADATION", "DegradationParameters", "okane2022"]


@dataclass(frozen=True)
class DegradationParameters:
    """Lithium plating and SEI growth at the negative particles' surface (SI units).

    Attributes:
        plating_rate_constant_m_s: k_Li of j0,plating = F k_Li c_e and j0,stripping =
            F k_Li c_Li [m/s].
        plating_transfer_coefficient: alpha_plating; alpha_stripping = 1 - alpha_plating [-].
        initial_plated_lithium_mol_m3: c_Li at t = 0 [mol/m3 of electrode].
        typical_plated_lithium_mol_m3: Scale of c_Li [mol/m3].
        dead_lithium_decay_constant_1_s: gamma_0 of gamma = gamma_0 L_SEI,0 / L_SEI [1/s].
        lithium_metal_partial_molar_volume_m3_mol: Molar volume of plated lithium [m3/mol].
        sei_partial_molar_volume_m3_mol: V_SEI [m3/mol].
        sei_exchange_current_density_A_m2: j0,SEI of reaction-limited growth [A/m2].
        sei_resistivity_ohm_m: rho_SEI [Ohm m].
        sei_solvent_diffusivity_m2_s: D_sol of solvent-diffusion-limited growth [m2/s].
        bulk_solvent_concentration_mol_m3: c_sol [mol/m3].
        sei_open_circuit_potential_V: U_SEI [V].
        initial_sei_thickness_m: L_SEI,0 [m].
        initial_crack_sei_thickness_m: L_SEI,cr0 of SEI on cracks [m]: the SEI on the cracks
            at t = 0 is a_s L_SEI,cr0 / V_SEI per electrode volume (PyBaMM's "Initial SEI on
            cracks thickness [m]", its c_sei_cr0), a thickness L_SEI,cr0 / (roughness_0 - 1)
            on the initial crack faces.
        sei_growth_activation_energy_J_mol: E_SEI of the Arrhenius factor of every SEI law.
        sei_transfer_coefficient: alpha_SEI of the asymmetric reaction-limited law [-]
            (the symmetric law uses 0.5).
        lithium_per_sei: z_SEI, moles of lithium per mole of SEI [-].
        sei_electron_conductivity_S_m: kappa_SEI of electron-migration-limited growth [S/m].
        sei_interstitial_diffusivity_m2_s: D_Li of interstitial-diffusion-limited growth [m2/s].
        interstitial_reference_concentration_mol_m3: c_Li,0 of the same [mol/m3].
        ec_initial_concentration_mol_m3: c_EC,0 of EC-reaction-limited growth [mol/m3].
        ec_diffusivity_m2_s: D_EC through the film [m2/s].
        sei_kinetic_rate_constant_m_s: k_SEI of the EC reduction [m/s].
    """

    plating_rate_constant_m_s: float = 1e-9
    plating_transfer_coefficient: float = 0.65
    initial_plated_lithium_mol_m3: float = 0.0
    typical_plated_lithium_mol_m3: float = 1000.0
    dead_lithium_decay_constant_1_s: float = 1e-6
    lithium_metal_partial_molar_volume_m3_mol: float = 1.3e-5
    sei_partial_molar_volume_m3_mol: float = 9.585e-5
    sei_exchange_current_density_A_m2: float = 1.5e-7
    sei_resistivity_ohm_m: float = 2e5
    sei_solvent_diffusivity_m2_s: float = 2.5e-22
    bulk_solvent_concentration_mol_m3: float = 2636.0
    sei_open_circuit_potential_V: float = 0.4
    initial_sei_thickness_m: float = 5e-9
    #: 5e-13 m, "practically zero" (PyBaMM 26.10 OKane2022.py).
    initial_crack_sei_thickness_m: float = 5e-13
    sei_growth_activation_energy_J_mol: float = 38000.0
    sei_transfer_coefficient: float = 0.5
    lithium_per_sei: float = 1.0
    # OKane2022's values of the other SEI laws (PyBaMM 26.10's OKane2022.py: Marquis' thesis
    # for electron migration and interstitial diffusion, Yang et al. 2017 for the EC reaction).
    sei_electron_conductivity_S_m: float = 8.95e-14
    sei_interstitial_diffusivity_m2_s: float = 1e-20
    interstitial_reference_concentration_mol_m3: float = 15.0
    ec_initial_concentration_mol_m3: float = 4541.0
    ec_diffusivity_m2_s: float = 2e-18
    sei_kinetic_rate_constant_m_s: float = 1e-12


#: PyBaMM name -> field of :class:`DegradationParameters`.
DEGRADATION_NAMES: dict[str, str] = {
    "Lithium plating kinetic rate constant [m.s-1]": "plating_rate_constant_m_s",
    "Lithium plating transfer coefficient": "plating_transfer_coefficient",
    "Initial plated lithium concentration [mol.m-3]": "initial_plated_lithium_mol_m3",
    "Typical plated lithium concentration [mol.m-3]": "typical_plated_lithium_mol_m3",
    "Dead lithium decay constant [s-1]": "dead_lithium_decay_constant_1_s",
    "Lithium metal partial molar volume [m3.mol-1]": "lithium_metal_partial_molar_volume_m3_mol",
    "SEI partial molar volume [m3.mol-1]": "sei_partial_molar_volume_m3_mol",
    "SEI reaction exchange current density [A.m-2]": "sei_exchange_current_density_A_m2",
    "SEI resistivity [Ohm.m]": "sei_resistivity_ohm_m",
    "SEI solvent diffusivity [m2.s-1]": "sei_solvent_diffusivity_m2_s",
    "Bulk solvent concentration [mol.m-3]": "bulk_solvent_concentration_mol_m3",
    "SEI open-circuit potential [V]": "sei_open_circuit_potential_V",
    "Initial SEI thickness [m]": "initial_sei_thickness_m",
    "Initial SEI on cracks thickness [m]": "initial_crack_sei_thickness_m",
    "SEI growth activation energy [J.mol-1]": "sei_growth_activation_energy_J_mol",
    "SEI growth transfer coefficient": "sei_transfer_coefficient",
    "Ratio of lithium moles to SEI moles": "lithium_per_sei",
    "SEI electron conductivity [S.m-1]": "sei_electron_conductivity_S_m",
    "SEI lithium interstitial diffusivity [m2.s-1]": "sei_interstitial_diffusivity_m2_s",
    "Lithium interstitial reference concentration [mol.m-3]": (
        "interstitial_reference_concentration_mol_m3"
    ),
    "EC initial concentration in electrolyte [mol.m-3]": "ec_initial_concentration_mol_m3",
    "EC diffusivity [m2.s-1]": "ec_diffusivity_m2_s",
    "SEI kinetic rate constant [m.s-1]": "sei_kinetic_rate_constant_m_s",
}

#: OKane2022's degradation values (O'Kane et al. 2020, 2022, as in PyBaMM's OKane2022 set).
OKANE2022_DEGRADATION = DegradationParameters()


def _arrhenius(activation_energy_J_mol: float, temperature_K, mod):
    """A(T) against 298.15 K (:func:`electrolyx.forms.arrhenius.arrhenius_factor`)."""
    return arrhenius_factor(activation_energy_J_mol, temperature_K, REFERENCE_TEMPERATURE_K, mod)


def okane2022() -> CellParameters:
    """PyBaMM's OKane2022 set: Chen2020's LG M50 with Arrhenius transport and degradation.

    With its particle mechanics and cracking (:data:`.mechanics.OKANE2022_MECHANICS`), used
    only where ``[mechanics]`` asks for them.
    """
    from .mechanics import with_okane2022_mechanics  # (mechanics -> by_name -> this module)

    cell = with_okane2022_mechanics(chen2020())

    def graphite_diffusivity(c_s, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
        """3.3e-14 m2/s (Chen 2020) times Arrhenius, 30.3 kJ/mol (Ecker 2015)."""
        return 3.3e-14 * _arrhenius(3.03e4, temperature_K, mod) + 0.0 * c_s

    def nmc811_diffusivity(c_s, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
        """4e-15 m2/s (Chen 2020) times Arrhenius, 25 kJ/mol (Cabanero 2018)."""
        return 4.0e-15 * _arrhenius(2.5e4, temperature_K, mod) + 0.0 * c_s

    def electrolyte_diffusivity(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
        """Nyman 2008 times Arrhenius, 17 kJ/mol (Ecker 2015)."""
        diffusivity = electrolyte_diffusivity_nyman2008(c_e)
        return diffusivity * _arrhenius(17000.0, temperature_K, mod)

    def electrolyte_conductivity(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
        """Nyman 2008 times Arrhenius, 17 kJ/mol (Ecker 2015)."""
        kappa = electrolyte_conductivity_nyman2008(c_e, mod=mod)
        return kappa * _arrhenius(17000.0, temperature_K, mod)

    return replace(
        cell,
        name="OKane2022",
        # OKane2022 corrects the solid conductivities by (1 - eps)^1.5 (Chen2020: not).
        negative=replace(
            cell.negative, particle_diffusivity=graphite_diffusivity, bruggeman_electrode=1.5
        ),
        positive=replace(
            cell.positive, particle_diffusivity=nmc811_diffusivity, bruggeman_electrode=1.5
        ),
        electrolyte=replace(
            cell.electrolyte,
            diffusivity=electrolyte_diffusivity,
            conductivity=electrolyte_conductivity,
        ),
        degradation=OKANE2022_DEGRADATION,
        citation="O'Kane et al., Phys. Chem. Chem. Phys. 24, 7909 (2022); Chen et al., "
        "J. Electrochem. Soc. 167, 080534 (2020)",
    )
