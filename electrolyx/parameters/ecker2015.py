"""Ecker2015 parameter set: Kokam 7.5 A h high-power pouch cell, graphite | NCO, LiPF6 in EC:DMC.

Sources: M. Ecker, T. K. D. Tran, P. Dechent, S. Kaebitz, A. Warnecke and D. U. Sauer,
"Parameterization of a Physico-Chemical Model of a Lithium-Ion Battery: I. Determination of
Parameters", J. Electrochem. Soc. 162, A1836-A1848 (2015), doi:10.1149/2.0551509jes, and
"... II. Model Validation", J. Electrochem. Soc. 162, A1849-A1857 (2015),
doi:10.1149/2.0571509jes (geometry, porosities, tortuosities, particle radii, maximum
concentrations, conductivities, rate constants, activation energies, transference number).
The analytical fits of their measured OCPs, particle diffusivities and electrolyte conductivity
are S. O'Kane's, published with G. Richardson, I. Korotkin, R. Ranom, M. Castle and J. M. Foster,
"Generalised single particle models for high-rate operation of graded lithium-ion electrodes:
Systematic derivation and validation", Electrochim. Acta 339, 135862 (2020).

Values and formulas as in PyBaMM's ``Ecker2015`` set (pybamm 26.10), which implements those
papers on one electrode pair of area 0.101 m x 0.085 m (0.15625 A h): electrolyte Bruggeman
exponents from Ecker's measured tortuosities, no correction of the solid conductivity,
thermodynamic factor 1, t+ = 0.26, electrolyte diffusivity from the conductivity by the
Nernst-Einstein relation, Arrhenius factors referred to 296 K or 296.15 K as fitted, no entropic
term.
"""

from __future__ import annotations

import numpy as np

from electrolyx.constants import BOLTZMANN, ELEMENTARY_CHARGE, FARADAY
from electrolyx.forms.arrhenius import arrhenius_factor

from .base import CellParameters, ElectrodeParameters, ElectrolyteParameters, SeparatorParameters

__all__ = [
    "REFERENCE_TEMPERATURE_K",
    "ecker2015",
    "electrolyte_conductivity_ecker2015",
    "electrolyte_diffusivity_ecker2015",
    "graphite_diffusivity_ecker2015",
    "graphite_ocp_ecker2015",
    "nco_diffusivity_ecker2015",
    "nco_ocp_ecker2015",
]

REFERENCE_TEMPERATURE_K = 296.15
"""Temperature of Ecker's kinetic measurements [K]."""

CONDUCTIVITY_REFERENCE_TEMPERATURE_K = 296.0
"""Temperature of the electrolyte-conductivity and graphite-diffusivity fits [K]."""

GRAPHITE_MAX_CONCENTRATION_MOL_M3 = 31920.0
"""c_s,max of the graphite (Ecker 2015 I) [mol/m3]."""

NCO_MAX_CONCENTRATION_MOL_M3 = 48580.0
"""c_s,max of the NCO (Ecker 2015 I) [mol/m3]."""


def graphite_ocp_ecker2015(stoichiometry, mod=np):
    """Open-circuit potential of the graphite electrode [V] (Ecker 2015 I, fit Richardson 2020).

    Args:
        stoichiometry: c_s / c_s,max [-].
        mod: ``numpy`` or ``ufl``.
    """
    sto = stoichiometry
    return (
        0.716502 * mod.exp(-369.028 * sto)
        + 0.12193 * mod.exp(-35.6478 * (sto - 0.0530947))
        - 0.0189193 * mod.tanh(21.1967 * (sto - 0.196176))
        - 0.0169644 * mod.tanh(27.1365 * (sto - 0.312832))
        - 0.0199313 * mod.tanh(28.5697 * (sto - 0.614221))
        - 0.931153 * mod.exp(36.328 * (sto - 1.10743))
        + 0.140031
    )


def nco_ocp_ecker2015(stoichiometry, mod=np):
    """Open-circuit potential of the NCO electrode [V] (Ecker 2015 I, fit Richardson 2020).

    Args:
        stoichiometry: c_s / c_s,max [-].
        mod: ``numpy`` or ``ufl``.
    """
    sto = stoichiometry
    return (
        -2.35211 * sto
        - 0.0747061 * mod.tanh(31.886 * (sto - 0.0219921))
        + 6.34984 * mod.tanh(2.66395 * (sto - 0.174352))
        - 0.640243 * mod.tanh(5.48623 * (sto - 0.439245))
        - 3.82383 * mod.tanh(4.12167 * (sto - 0.176187))
        - 0.0542123 * mod.tanh(18.2919 * (sto - 0.762272))
        + 4.23285
    )


def graphite_diffusivity_ecker2015(c_s, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Lithium diffusivity in graphite [m2/s] (Ecker 2015 I, fit Richardson 2020).

    D_s = (8.4e-13 exp(-11.3 x) + 8.2e-15) m2/s at 296 K, x = c_s / c_s,max, activation
    energy 30.3 kJ/mol.
    """
    sto = c_s / GRAPHITE_MAX_CONCENTRATION_MOL_M3
    return (8.4e-13 * mod.exp(-11.3 * sto) + 8.2e-15) * arrhenius_factor(
        30300.0, temperature_K, CONDUCTIVITY_REFERENCE_TEMPERATURE_K, mod
    )


def nco_diffusivity_ecker2015(c_s, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Lithium diffusivity in NCO [m2/s] (Ecker 2015 I, fit Richardson 2020).

    D_s = (3.7e-13 - 3.4e-13 exp(-12 (x - 0.62)^2)) m2/s at 296.15 K, x = c_s / c_s,max,
    activation energy 80.6 kJ/mol.
    """
    sto = c_s / NCO_MAX_CONCENTRATION_MOL_M3
    return (3.7e-13 - 3.4e-13 * mod.exp(-12.0 * (sto - 0.62) ** 2)) * arrhenius_factor(
        80600.0, temperature_K, REFERENCE_TEMPERATURE_K, mod
    )


def electrolyte_conductivity_ecker2015(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Ionic conductivity of LiPF6 in EC:DMC [S/m] (Ecker 2015 I, fit Richardson 2020).

    kappa(296 K) = 0.2667 c^3 - 1.2983 c^2 + 1.7919 c + 0.1726 with c in mol/L, times
    (296 K / T) exp(E/R (1/296 K - 1/T)) with E = 17.1 kJ/mol.
    """
    c = c_e / 1000.0
    reference = CONDUCTIVITY_REFERENCE_TEMPERATURE_K
    # (c * c * c, not c**3: compiled kernels call the C library's pow for a cube)
    kappa_296 = 0.2667 * c * c * c - 1.2983 * c**2 + 1.7919 * c + 0.1726
    arrhenius = arrhenius_factor(17100.0, temperature_K, reference, mod)
    return kappa_296 * reference / temperature_K * arrhenius


def electrolyte_diffusivity_ecker2015(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Salt diffusivity of LiPF6 in EC:DMC [m2/s] (Ecker 2015 I, Nernst-Einstein).

    D_e = k_B T kappa(c_e, T) / (F e c_e).
    """
    return (
        BOLTZMANN
        / (FARADAY * ELEMENTARY_CHARGE)
        * electrolyte_conductivity_ecker2015(c_e, temperature_K, mod)
        * temperature_K
        / c_e
    )


def _transference_number(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Cation transference number t+ = 0.26 [-] (Ecker 2015 I)."""
    return 0.26 + 0.0 * c_e


def _thermodynamic_factor(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Thermodynamic factor chi = 1 [-] (as in PyBaMM's Ecker2015 set)."""
    return 1.0 + 0.0 * c_e


def ecker2015() -> CellParameters:
    """The Ecker2015 (Kokam 7.5 A h) cell, one electrode pair of 0.101 m x 0.085 m.

    Returns:
        The parameter set with nominal capacity 0.15625 A h (1C), cut-offs 2.5 / 4.2 V,
        ambient 298.15 K (kinetics referred to 296.15 K), double-layer capacitance 0.2 F/m2
        in both electrodes (PyBaMM's default; Ecker gives none).
    """
    negative = ElectrodeParameters(
        thickness_m=74e-6,
        porosity=0.329,
        active_material_volume_fraction=0.372403,
        particle_radius_m=13.7e-6,
        bruggeman_electrolyte=1.6372789338386007,
        bruggeman_electrode=0.0,
        conductivity_S_m=14.0,
        max_concentration_mol_m3=GRAPHITE_MAX_CONCENTRATION_MOL_M3,
        initial_concentration_mol_m3=26120.05,
        particle_diffusivity=graphite_diffusivity_ecker2015,
        reference_open_circuit_potential=graphite_ocp_ecker2015,
        # j0 = F k A(T) c_e^0.5 c_s^0.5 (c_max - c_s)^0.5, k = 1.11e-10 m^2.5 mol^-0.5 s^-1,
        # E_a = 53.4 kJ/mol (Ecker 2015 I).
        exchange_current_rate_constant=FARADAY * 1.11e-10,
        exchange_current_activation_energy_J_mol=53400.0,
        reference_temperature_K=REFERENCE_TEMPERATURE_K,
        anodic_transfer_coefficient=0.5,
        cathodic_transfer_coefficient=0.5,
        double_layer_capacity_F_m2=0.2,
    )
    positive = ElectrodeParameters(
        thickness_m=54e-6,
        porosity=0.296,
        active_material_volume_fraction=0.40832,
        particle_radius_m=6.5e-6,
        bruggeman_electrolyte=1.5442267190786427,
        bruggeman_electrode=0.0,
        conductivity_S_m=68.1,
        max_concentration_mol_m3=NCO_MAX_CONCENTRATION_MOL_M3,
        initial_concentration_mol_m3=12630.8,
        particle_diffusivity=nco_diffusivity_ecker2015,
        reference_open_circuit_potential=nco_ocp_ecker2015,
        # k = 3.01e-11 m^2.5 mol^-0.5 s^-1, E_a = 43.6 kJ/mol (Ecker 2015 I).
        exchange_current_rate_constant=FARADAY * 3.01e-11,
        exchange_current_activation_energy_J_mol=43600.0,
        reference_temperature_K=REFERENCE_TEMPERATURE_K,
        anodic_transfer_coefficient=0.5,
        cathodic_transfer_coefficient=0.5,
        double_layer_capacity_F_m2=0.2,
    )
    separator = SeparatorParameters(
        thickness_m=20e-6, porosity=0.508, bruggeman_electrolyte=1.9804586773134945
    )
    electrolyte = ElectrolyteParameters(
        initial_concentration_mol_m3=1000.0,
        diffusivity=electrolyte_diffusivity_ecker2015,
        conductivity=electrolyte_conductivity_ecker2015,
        transference_number=_transference_number,
        thermodynamic_factor=_thermodynamic_factor,
    )
    return CellParameters(
        name="Ecker2015",
        negative=negative,
        separator=separator,
        positive=positive,
        electrolyte=electrolyte,
        electrode_area_m2=0.101 * 0.085,
        nominal_capacity_Ah=0.15625,
        lower_voltage_cutoff_V=2.5,
        upper_voltage_cutoff_V=4.2,
        ambient_temperature_K=298.15,
        reference_temperature_K=REFERENCE_TEMPERATURE_K,
        citation="Ecker et al., J. Electrochem. Soc. 162, A1836 and A1849 (2015)",
    )
