"""Chen2020 parameter set: LG M50 21700 cell, graphite-SiOx | NMC811, LiPF6 in EC:EMC.

Source: C.-H. Chen, F. Brosa Planella, K. O'Regan, D. Gastol, W. D. Widanage and E. Kendrick,
"Development of Experimental Techniques for Parameterization of Multi-scale Lithium-ion Battery
Models", J. Electrochem. Soc. 167, 080534 (2020), doi:10.1149/1945-7111/ab9050.
Electrolyte transport properties: A. Nyman, M. Behm and G. Lindbergh, "Electrochemical
characterisation and modelling of the mass transport phenomena in LiPF6-EC-EMC electrolyte",
Electrochim. Acta 53, 6356-6365 (2008).

Values and function formulas as used by PyBaMM's ``Chen2020`` set (listed in
``tests/data/pybamm/chen2020_1C_setup.json``): thermodynamic factor 1, constant t+ = 0.2594,
no Bruggeman correction of the solid conductivity, electrolyte Bruggeman exponent 1.5, Arrhenius
temperature dependence of the exchange-current densities only.
"""

from __future__ import annotations

import numpy as np

from .base import CellParameters, ElectrodeParameters, ElectrolyteParameters, SeparatorParameters
from .thermal import CHEN2020_THERMAL

__all__ = [
    "REFERENCE_TEMPERATURE_K",
    "chen2020",
    "electrolyte_conductivity_nyman2008",
    "electrolyte_diffusivity_nyman2008",
    "graphite_ocp_chen2020",
    "nmc811_ocp_chen2020",
]

REFERENCE_TEMPERATURE_K = 298.15
"""Temperature at which the fitted rate constants were measured [K]."""


def graphite_ocp_chen2020(stoichiometry, mod=np):
    """Open-circuit potential of the LG M50 graphite-SiOx negative electrode [V] (Chen 2020, eq. 8).

    Args:
        stoichiometry: c_s / c_s,max [-].
        mod: ``numpy`` or ``ufl``.
    """
    sto = stoichiometry
    return (
        1.9793 * mod.exp(-39.3631 * sto)
        + 0.2482
        - 0.0909 * mod.tanh(29.8538 * (sto - 0.1234))
        - 0.04478 * mod.tanh(14.9159 * (sto - 0.2769))
        - 0.0205 * mod.tanh(30.4444 * (sto - 0.6103))
    )


def nmc811_ocp_chen2020(stoichiometry, mod=np):
    """Open-circuit potential of the LG M50 NMC811 positive electrode [V] (Chen 2020, eq. 9).

    Args:
        stoichiometry: c_s / c_s,max [-].
        mod: ``numpy`` or ``ufl``.
    """
    sto = stoichiometry
    return (
        -0.809 * sto
        + 4.4875
        - 0.0428 * mod.tanh(18.5138 * (sto - 0.5542))
        - 17.7326 * mod.tanh(15.789 * (sto - 0.3117))
        + 17.5842 * mod.tanh(15.9308 * (sto - 0.312))
    )


def electrolyte_diffusivity_nyman2008(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Salt diffusivity of LiPF6 in EC:EMC (3:7 w/w) [m2/s] (Nyman et al. 2008, fit at 298 K)."""
    c = c_e / 1000.0
    return 8.794e-11 * c**2 - 3.972e-10 * c + 4.862e-10


def electrolyte_conductivity_nyman2008(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Ionic conductivity of LiPF6 in EC:EMC (3:7 w/w) [S/m] (Nyman et al. 2008, fit at 298 K)."""
    c = c_e / 1000.0
    # (c * c * c, not c**3: compiled kernels call the C library's pow for a cube, at every
    # quadrature point of every residual and Jacobian)
    return 0.1297 * c * c * c - 2.51 * c * mod.sqrt(c) + 3.329 * c


def _transference_number(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Cation transference number t+ = 0.2594 [-] (Nyman et al. 2008, as used by Chen 2020)."""
    return 0.2594 + 0.0 * c_e


def _thermodynamic_factor(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Thermodynamic factor chi = 1 [-] (ideal solution, as in PyBaMM's Chen2020 set)."""
    return 1.0 + 0.0 * c_e


def _graphite_diffusivity(c_s, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Lithium diffusivity in graphite-SiOx, 3.3e-14 m2/s (Chen 2020, Table VII)."""
    return 3.3e-14 + 0.0 * c_s


def _nmc811_diffusivity(c_s, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Lithium diffusivity in NMC811, 4e-15 m2/s (Chen 2020, Table VII)."""
    return 4.0e-15 + 0.0 * c_s


def chen2020() -> CellParameters:
    """The Chen2020 (LG M50) cell: thicknesses, porosities, particles, kinetics, electrolyte.

    Returns:
        The parameter set with nominal capacity 5 A h (1C = 5 A), cut-offs 2.5 / 4.2 V,
        298.15 K, double-layer capacitance 0.2 F/m2 in both electrodes (used only by models
        with a double layer).
    """
    negative = ElectrodeParameters(
        thickness_m=85.2e-6,
        porosity=0.25,
        active_material_volume_fraction=0.75,
        particle_radius_m=5.86e-6,
        bruggeman_electrolyte=1.5,
        bruggeman_electrode=0.0,
        conductivity_S_m=215.0,
        max_concentration_mol_m3=33133.0,
        initial_concentration_mol_m3=29866.0,
        particle_diffusivity=_graphite_diffusivity,
        reference_open_circuit_potential=graphite_ocp_chen2020,
        # j0 = k A(T) c_e^0.5 c_s^0.5 (c_max - c_s)^0.5 (Chen 2020, Table VII).
        exchange_current_rate_constant=6.48e-7,
        exchange_current_activation_energy_J_mol=35000.0,
        reference_temperature_K=REFERENCE_TEMPERATURE_K,
        anodic_transfer_coefficient=0.5,
        cathodic_transfer_coefficient=0.5,
        double_layer_capacity_F_m2=0.2,
    )
    positive = ElectrodeParameters(
        thickness_m=75.6e-6,
        porosity=0.335,
        active_material_volume_fraction=0.665,
        particle_radius_m=5.22e-6,
        bruggeman_electrolyte=1.5,
        bruggeman_electrode=0.0,
        conductivity_S_m=0.18,
        max_concentration_mol_m3=63104.0,
        initial_concentration_mol_m3=17038.0,
        particle_diffusivity=_nmc811_diffusivity,
        reference_open_circuit_potential=nmc811_ocp_chen2020,
        exchange_current_rate_constant=3.42e-6,
        exchange_current_activation_energy_J_mol=17800.0,
        reference_temperature_K=REFERENCE_TEMPERATURE_K,
        anodic_transfer_coefficient=0.5,
        cathodic_transfer_coefficient=0.5,
        double_layer_capacity_F_m2=0.2,
    )
    separator = SeparatorParameters(thickness_m=12e-6, porosity=0.47, bruggeman_electrolyte=1.5)
    electrolyte = ElectrolyteParameters(
        initial_concentration_mol_m3=1000.0,
        diffusivity=electrolyte_diffusivity_nyman2008,
        conductivity=electrolyte_conductivity_nyman2008,
        transference_number=_transference_number,
        thermodynamic_factor=_thermodynamic_factor,
    )
    return CellParameters(
        name="Chen2020",
        negative=negative,
        separator=separator,
        positive=positive,
        electrolyte=electrolyte,
        electrode_area_m2=0.065 * 1.58,
        nominal_capacity_Ah=5.0,
        lower_voltage_cutoff_V=2.5,
        upper_voltage_cutoff_V=4.2,
        ambient_temperature_K=298.15,
        reference_temperature_K=REFERENCE_TEMPERATURE_K,
        citation="Chen et al., J. Electrochem. Soc. 167, 080534 (2020)",
        thermal=CHEN2020_THERMAL,
    )
