"""Marquis2019 parameter set: Kokam SLPB78205130H pouch cell, graphite | LiCoO2, LiPF6 in EC:DMC.

Source: S. G. Marquis, V. Sulzer, R. Timms, C. P. Please and S. J. Chapman, "An asymptotic
derivation of a single particle model with electrolyte", J. Electrochem. Soc. 166, A3693-A3706
(2019), doi:10.1149/2.0341915jes, Table I and the functions of its Appendix, which take the
electrode fits from Dualfoil (J. Newman, Dualfoil 5.1, fits of data by C. Bogatu, O. Garcia and
M. Doyle), the entropic coefficients from S. Moura's fastDFN and the electrolyte fits of
C. Capiglia et al., J. Power Sources 81-82, 859-862 (1999).

Values and formulas as in PyBaMM's ``Marquis2019`` set (pybamm 26.10), which implements that
paper: solid and electrolyte Bruggeman exponents 1.5, separator porosity 1, thermodynamic
factor 1, t+ = 0.4, Arrhenius factors referred to 298.15 K on every rate and transport property,
OCPs with the entropic term (T - T_ref) dU/dT.
"""

from __future__ import annotations

import numpy as np

from electrolyx.forms.arrhenius import arrhenius_factor

from .base import CellParameters, ElectrodeParameters, ElectrolyteParameters, SeparatorParameters

__all__ = [
    "REFERENCE_TEMPERATURE_K",
    "electrolyte_conductivity_capiglia1999",
    "electrolyte_diffusivity_capiglia1999",
    "graphite_entropic_change_moura2016",
    "graphite_ocp_dualfoil1998",
    "lico2_entropic_change_moura2016",
    "lico2_ocp_dualfoil1998",
    "marquis2019",
]

REFERENCE_TEMPERATURE_K = 298.15
"""Temperature of the fits; every Arrhenius factor is 1 there [K]."""

GRAPHITE_MAX_CONCENTRATION_MOL_M3 = 24983.2619938437
"""c_s,max of the MCMB 2528 graphite (Marquis 2019, Table I) [mol/m3]."""

LICOO2_MAX_CONCENTRATION_MOL_M3 = 51217.9257309275
"""c_s,max of the LiCoO2 (Marquis 2019, Table I) [mol/m3]."""

LICOO2_STRETCH = 1.062
"""Stoichiometry stretch of the Dualfoil LiCoO2 OCP fit [-]."""


def graphite_entropic_change_moura2016(stoichiometry, mod=np):
    """dU/dT of MCMB 2528 graphite [V/K] (fastDFN fit, S. Moura 2016; Marquis 2019).

    The fit was written per unit concentration; c_s,max of the set turns it into a function of
    the stoichiometry.
    """
    sto = stoichiometry
    c_max = GRAPHITE_MAX_CONCENTRATION_MOL_M3
    terms = (
        (0.0351, 0.286, 0.083),
        (-0.0045, 0.849, 0.119),
        (-0.035, 0.9233, 0.05),
        (-0.0147, 0.5, 0.034),
        (-0.102, 0.194, 0.142),
        (-0.022, 0.9, 0.0164),
        (-0.011, 0.124, 0.0226),
        (0.0155, 0.105, 0.029),
    )
    value = -1.5 * (120.0 / c_max) * mod.exp(-120.0 * sto)
    for amplitude, centre, width in terms:
        value = value + amplitude / (width * c_max) / mod.cosh((sto - centre) / width) ** 2
    return value


def graphite_ocp_dualfoil1998(stoichiometry, mod=np):
    """Open-circuit potential of MCMB 2528 graphite [V] (Dualfoil fit; Marquis 2019).

    Args:
        stoichiometry: c_s / c_s,max [-].
        mod: ``numpy`` or ``ufl``.
    """
    sto = stoichiometry
    value = (
        0.194
        + 1.5 * mod.exp(-120.0 * sto)
        + 0.0351 * mod.tanh((sto - 0.286) / 0.083)
        - 0.0045 * mod.tanh((sto - 0.849) / 0.119)
        - 0.035 * mod.tanh((sto - 0.9233) / 0.05)
        - 0.0147 * mod.tanh((sto - 0.5) / 0.034)
        - 0.102 * mod.tanh((sto - 0.194) / 0.142)
        - 0.022 * mod.tanh((sto - 0.9) / 0.0164)
        - 0.011 * mod.tanh((sto - 0.124) / 0.0226)
        + 0.0155 * mod.tanh((sto - 0.105) / 0.029)
    )
    return value


def lico2_entropic_change_moura2016(stoichiometry, mod=np):
    """dU/dT of LiCoO2 [V/K] (fastDFN fit, S. Moura 2016, with the 1.062 stretch; Marquis 2019)."""
    sto = LICOO2_STRETCH * stoichiometry
    c_max = LICOO2_MAX_CONCENTRATION_MOL_M3
    return (
        0.07645 * (-54.4806 / c_max) / mod.cosh(30.834 - 54.4806 * sto) ** 2
        + 2.1581 * (-50.294 / c_max) / mod.cosh(52.294 - 50.294 * sto) ** 2
        + 0.14169 * (19.854 / c_max) / mod.cosh(11.0923 - 19.8543 * sto) ** 2
        - 0.2051 * (5.4888 / c_max) / mod.cosh(1.4684 - 5.4888 * sto) ** 2
        - (0.2531 / 0.1316 / c_max) / mod.cosh((-sto + 0.56478) / 0.1316) ** 2
        - (0.02167 / 0.006 / c_max) / mod.cosh((sto - 0.525) / 0.006) ** 2
    )


def lico2_ocp_dualfoil1998(stoichiometry, mod=np):
    """Open-circuit potential of LiCoO2 [V] (Dualfoil fit, stretch 1.062; Marquis 2019).

    Args:
        stoichiometry: c_s / c_s,max [-].
        mod: ``numpy`` or ``ufl``.
    """
    sto = LICOO2_STRETCH * stoichiometry
    value = (
        2.16216
        + 0.07645 * mod.tanh(30.834 - 54.4806 * sto)
        + 2.1581 * mod.tanh(52.294 - 50.294 * sto)
        - 0.14169 * mod.tanh(11.0923 - 19.8543 * sto)
        + 0.2051 * mod.tanh(1.4684 - 5.4888 * sto)
        + 0.2531 * mod.tanh((-sto + 0.56478) / 0.1316)
        - 0.02167 * mod.tanh((sto - 0.525) / 0.006)
    )
    return value


def _graphite_diffusivity(c_s, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Lithium diffusivity in MCMB 2528 graphite, 3.9e-14 m2/s, E_a 42.77 kJ/mol (Dualfoil)."""
    return (
        3.9e-14 * arrhenius_factor(42770.0, temperature_K, REFERENCE_TEMPERATURE_K, mod) + 0.0 * c_s
    )


def _lico2_diffusivity(c_s, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Lithium diffusivity in LiCoO2, 1e-13 m2/s, E_a 18.55 kJ/mol (Dualfoil)."""
    return (
        1.0e-13 * arrhenius_factor(18550.0, temperature_K, REFERENCE_TEMPERATURE_K, mod) + 0.0 * c_s
    )


def electrolyte_diffusivity_capiglia1999(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Salt diffusivity of LiPF6 in EC:DMC [m2/s] (Capiglia 1999, Dualfoil fit).

    D_e = 5.34e-10 exp(-0.65 c_e / 1000 mol/m3), activation energy 37.04 kJ/mol.
    """
    return (
        5.34e-10
        * mod.exp(-0.65 * c_e / 1000.0)
        * arrhenius_factor(37040.0, temperature_K, REFERENCE_TEMPERATURE_K, mod)
    )


def electrolyte_conductivity_capiglia1999(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Ionic conductivity of LiPF6 in EC:DMC [S/m] (Capiglia 1999, Dualfoil fit).

    kappa = 0.0911 + 1.9101 c - 1.052 c^2 + 0.1554 c^3 with c in mol/L, activation energy
    34.7 kJ/mol.
    """
    c = c_e / 1000.0
    # (c * c * c, not c**3: compiled kernels call the C library's pow for a cube)
    return (0.0911 + 1.9101 * c - 1.052 * c**2 + 0.1554 * c * c * c) * arrhenius_factor(
        34700.0, temperature_K, REFERENCE_TEMPERATURE_K, mod
    )


def _transference_number(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Cation transference number t+ = 0.4 [-] (Marquis 2019, Table I)."""
    return 0.4 + 0.0 * c_e


def _thermodynamic_factor(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Thermodynamic factor chi = 1 [-] (dilute-solution activity, Marquis 2019)."""
    return 1.0 + 0.0 * c_e


def marquis2019() -> CellParameters:
    """The Marquis2019 (Kokam SLPB78205130H) cell.

    Returns:
        The parameter set with nominal capacity 0.680616 A h (1C), cut-offs 3.105 / 4.1 V,
        298.15 K, double-layer capacitance 0.2 F/m2 in both electrodes.
    """
    negative = ElectrodeParameters(
        thickness_m=100e-6,
        porosity=0.3,
        active_material_volume_fraction=0.6,
        particle_radius_m=10e-6,
        bruggeman_electrolyte=1.5,
        bruggeman_electrode=1.5,
        conductivity_S_m=100.0,
        max_concentration_mol_m3=GRAPHITE_MAX_CONCENTRATION_MOL_M3,
        initial_concentration_mol_m3=19986.609595075,
        particle_diffusivity=_graphite_diffusivity,
        reference_open_circuit_potential=graphite_ocp_dualfoil1998,
        entropic_change=graphite_entropic_change_moura2016,
        # j0 = k A(T) c_e^0.5 c_s^0.5 (c_max - c_s)^0.5 (Dualfoil; Marquis 2019).
        exchange_current_rate_constant=2e-5,
        exchange_current_activation_energy_J_mol=37480.0,
        reference_temperature_K=REFERENCE_TEMPERATURE_K,
        anodic_transfer_coefficient=0.5,
        cathodic_transfer_coefficient=0.5,
        double_layer_capacity_F_m2=0.2,
    )
    positive = ElectrodeParameters(
        thickness_m=100e-6,
        porosity=0.3,
        active_material_volume_fraction=0.5,
        particle_radius_m=10e-6,
        bruggeman_electrolyte=1.5,
        bruggeman_electrode=1.5,
        conductivity_S_m=10.0,
        max_concentration_mol_m3=LICOO2_MAX_CONCENTRATION_MOL_M3,
        initial_concentration_mol_m3=30730.7554385565,
        particle_diffusivity=_lico2_diffusivity,
        reference_open_circuit_potential=lico2_ocp_dualfoil1998,
        entropic_change=lico2_entropic_change_moura2016,
        exchange_current_rate_constant=6e-7,
        exchange_current_activation_energy_J_mol=39570.0,
        reference_temperature_K=REFERENCE_TEMPERATURE_K,
        anodic_transfer_coefficient=0.5,
        cathodic_transfer_coefficient=0.5,
        double_layer_capacity_F_m2=0.2,
    )
    separator = SeparatorParameters(thickness_m=25e-6, porosity=1.0, bruggeman_electrolyte=1.5)
    electrolyte = ElectrolyteParameters(
        initial_concentration_mol_m3=1000.0,
        diffusivity=electrolyte_diffusivity_capiglia1999,
        conductivity=electrolyte_conductivity_capiglia1999,
        transference_number=_transference_number,
        thermodynamic_factor=_thermodynamic_factor,
    )
    return CellParameters(
        name="Marquis2019",
        negative=negative,
        separator=separator,
        positive=positive,
        electrolyte=electrolyte,
        electrode_area_m2=0.137 * 0.207,
        nominal_capacity_Ah=0.680616,
        lower_voltage_cutoff_V=3.105,
        upper_voltage_cutoff_V=4.1,
        ambient_temperature_K=298.15,
        reference_temperature_K=REFERENCE_TEMPERATURE_K,
        citation="Marquis et al., J. Electrochem. Soc. 166, A3693 (2019)",
    )
