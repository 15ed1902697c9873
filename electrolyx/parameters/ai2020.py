"""Ai2020 parameter set: Enertech graphite | LiCoO2 pouch cell (2.28 A h) with particle mechanics.

Sources: W. Ai, L. Kraft, J. Sturm, A. Jossen and B. Wu, "Electrochemical Thermal-Mechanical
Modelling of Stress Inhomogeneity in Lithium-Ion Pouch Cells", J. Electrochem. Soc. 167, 013512
(2020), doi:10.1149/2.0122001JES (geometry, particles, mechanics, cracking, electrolyte), with
the open-circuit potentials and volume changes measured by B. Rieger, S. V. Erhard, K. Rumpf
and A. Jossen, J. Electrochem. Soc. 163, A1566 (2016), the Paris-law cracking of R. Deshpande,
M. Verbrugge, Y.-T. Cheng, J. Wang and P. Liu, J. Electrochem. Soc. 159, A1730 (2012), and the
particle kinetics and diffusivities of Dualfoil (Doyle and Newman). The electrolyte: the
diffusivity and thermodynamic factor of L. O. Valoen and J. N. Reimers, J. Electrochem. Soc.
152, A882 (2005), the conductivity as fitted by Ai et al.

Values and formulas as in PyBaMM's ``Ai2020`` set (pybamm 26.10): 34 electrode pairs of
0.051 m x 0.047 m in parallel, Bruggeman exponents 2.914 | 1.5 | 1.83 on the electrolyte, none
on the solid conductivity, t+ = 0.38, Arrhenius factors (5 kJ/mol) on the exchange currents and
particle diffusivities, OCPs the cubic splines of the measured tables
(``electrolyx/parameters/data/ai2020_*.csv``), the graphite's volume change Rieger's polynomial
and the LiCoO2's Omega c_max x. PyBaMM's cracking rates are functions of T with the activation
energy 0; here k_cr is the number 3.9e-20 per hour with a standard Arrhenius factor (E_a = 0).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np

from electrolyx.constants import FARADAY
from electrolyx.forms.arrhenius import arrhenius_factor

from .base import CellParameters, ElectrodeParameters, ElectrolyteParameters, SeparatorParameters
from .cubic_spline import CubicSplineTable
from .mechanics import graphite_volume_change_ai2020

__all__ = [
    "REFERENCE_TEMPERATURE_K",
    "ai2020",
    "electrolyte_conductivity_ai2020",
    "electrolyte_diffusivity_ai2020",
    "graphite_entropic_change_ai2020",
    "graphite_ocp_ai2020",
    "lico2_entropic_change_ai2020",
    "lico2_ocp_ai2020",
    "lico2_volume_change_ai2020",
    "thermodynamic_factor_ai2020",
]

REFERENCE_TEMPERATURE_K = 298.15
"""Reference temperature of the Arrhenius factors [K]."""

#: Activation energy of the exchange currents and the particle diffusivities (Dualfoil) [J/mol].
ACTIVATION_ENERGY_J_MOL = 5000.0
#: t+ of LiPF6 in EC:DMC (Ai 2020) [-].
TRANSFERENCE_NUMBER = 0.38
#: Partial molar volume of lithium in LiCoO2 (Ai 2020) [m3/mol].
LICO2_PARTIAL_MOLAR_VOLUME_M3_MOL = -7.28e-7
#: c_s,max of LiCoO2 [mol/m3].
LICO2_MAX_CONCENTRATION_MOL_M3 = 49943.0


@cache
def _table(name: str) -> CubicSplineTable:
    path = resources.files("electrolyx.parameters") / "data" / f"ai2020_{name}_ocp.csv"
    with path.open() as handle:
        data = np.loadtxt(handle, delimiter=",", comments="#")
    return CubicSplineTable(data[:, 0], data[:, 1], f"Ai2020 {name} open-circuit potential")


def graphite_ocp_ai2020(stoichiometry, mod=np):
    """Open-circuit potential of the Enertech graphite [V]: cubic spline of Rieger's table."""
    return _table("graphite")(stoichiometry, mod)


def lico2_ocp_ai2020(stoichiometry, mod=np):
    """Open-circuit potential of the Enertech LiCoO2 [V]: cubic spline of Rieger's table."""
    return _table("lico2")(stoichiometry, mod)


def graphite_entropic_change_ai2020(stoichiometry, mod=np):
    """dU/dT of the Enertech graphite [V/K] (Ai 2020's rational fit)."""
    x = stoichiometry
    numerator = (
        0.005269056
        + 3.299265709 * x
        - 91.79325798 * x**2
        + 1004.911008 * x**3
        - 5812.278127 * x**4
        + 19329.7549 * x**5
        - 37147.8947 * x**6
        + 38379.18127 * x**7
        - 16515.05308 * x**8
    )
    denominator = (
        1
        - 48.09287227 * x
        + 1017.234804 * x**2
        - 10481.80419 * x**3
        + 59431.3 * x**4
        - 195881.6488 * x**5
        + 374577.3152 * x**6
        - 385821.1607 * x**7
        + 165705.8597 * x**8
    )
    return 0.001 * numerator / denominator


def lico2_entropic_change_ai2020(stoichiometry, mod=np):
    """dU/dT of the Enertech LiCoO2 [V/K] (Ai 2020's polynomial fit)."""
    result = 0.0 * stoichiometry
    for coefficient in (
        -3.20392657,
        14.5719049,
        -27.9047599,
        29.1744564,
        -17.992018,
        6.54799331,
        -1.30382445,
        0.109667298,
    ):
        result = result * stoichiometry + coefficient
    return result


def lico2_volume_change_ai2020(stoichiometry, mod=np):
    """Volume change of LiCoO2 particles dV/V = Omega c_max x [-] (Ai 2020)."""
    return LICO2_PARTIAL_MOLAR_VOLUME_M3_MOL * LICO2_MAX_CONCENTRATION_MOL_M3 * stoichiometry


def electrolyte_diffusivity_ai2020(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Salt diffusivity of LiPF6 in EC:DMC [m2/s] (Valoen and Reimers 2005, in cm2/s x 1e-4).

    D = 1e-4 10^(-4.43 - 54 / (T - 229 - 5e-3 c) - 0.22e-3 c), c in mol/m3.
    """
    exponent = -4.43 - 54.0 / (temperature_K - 229.0 - 5e-3 * c_e) - 0.22e-3 * c_e
    return 1e-4 * mod.exp(np.log(10.0) * exponent)


def electrolyte_conductivity_ai2020(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Ionic conductivity of LiPF6 in EC:DMC [S/m] (Ai 2020's fit of Valoen and Reimers)."""
    c, t = c_e, temperature_K
    bracket = (
        (-10.5 + 0.668e-3 * c + 0.494e-6 * c**2)
        + (0.074 - 1.78e-5 * c - 8.86e-10 * c**2) * t
        + (-6.96e-5 + 2.8e-8 * c) * t**2
    )
    return 1e-4 * c * bracket**2


def thermodynamic_factor_ai2020(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """Thermodynamic factor of LiPF6 in EC:DMC [-] (Valoen and Reimers 2005, as PyBaMM's Ai2020).

    chi = (0.601 - 0.24 c^0.5 + 0.982 (1 - 0.0052 (T - T_ref)) c^1.5) / (1 - t+), c in mol/L.
    """
    c = c_e / 1000.0
    shift = 1.0 - 0.0052 * (temperature_K - REFERENCE_TEMPERATURE_K)
    return (0.601 - 0.24 * mod.sqrt(c) + 0.982 * shift * c * mod.sqrt(c)) / (
        1.0 - TRANSFERENCE_NUMBER
    )


def _transference_number(c_e, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
    """t+ = 0.38 [-]."""
    return TRANSFERENCE_NUMBER + 0.0 * c_e


def _diffusivity(reference_m2_s):
    def diffusivity(c_s, temperature_K=REFERENCE_TEMPERATURE_K, mod=np):
        factor = arrhenius_factor(
            ACTIVATION_ENERGY_J_MOL, temperature_K, REFERENCE_TEMPERATURE_K, mod
        )
        return reference_m2_s * factor + 0.0 * c_s

    diffusivity.__doc__ = f"D_s = {reference_m2_s:g} m2/s A(T) (Dualfoil, E_a = 5 kJ/mol)."
    return diffusivity


#: Particle cracking of both electrodes (Ai 2020, Table II; Deshpande 2012).
CRACKING = {
    "initial_crack_length_m": 2e-8,
    "crack_width_m": 1.5e-8,
    "cracks_per_area_1_m2": 3.18e15,
    "paris_law_b": 1.12,
    "paris_law_m": 2.2,
    "cracking_rate": 3.9e-20,
    "cracking_activation_energy_J_mol": 0.0,
}


def ai2020() -> CellParameters:
    """The Ai2020 (Enertech) cell: 2.28 A h, 3.0 / 4.2 V, 298.15 K, with particle mechanics.

    Double-layer capacitance 0.2 F/m2 in both electrodes (used only by models with a double
    layer).
    """
    # j0 = k A(T) c_e^0.5 c_s^0.5 (c_max - c_s)^0.5 with k = 1e-11 m/s x F (Dualfoil).
    rate_constant = 1e-11 * FARADAY
    negative = ElectrodeParameters(
        thickness_m=76.5e-6,
        porosity=0.33,
        active_material_volume_fraction=0.61,
        particle_radius_m=5e-6,
        bruggeman_electrolyte=2.914,
        bruggeman_electrode=0.0,
        conductivity_S_m=100.0,
        max_concentration_mol_m3=28700.0,
        initial_concentration_mol_m3=24108.0,
        particle_diffusivity=_diffusivity(3.9e-14),
        reference_open_circuit_potential=graphite_ocp_ai2020,
        entropic_change=graphite_entropic_change_ai2020,
        exchange_current_rate_constant=rate_constant,
        exchange_current_activation_energy_J_mol=ACTIVATION_ENERGY_J_MOL,
        reference_temperature_K=REFERENCE_TEMPERATURE_K,
        double_layer_capacity_F_m2=0.2,
        youngs_modulus_Pa=15e9,
        poissons_ratio=0.3,
        partial_molar_volume_m3_mol=3.1e-6,
        reference_concentration_mol_m3=0.0,
        volume_change=graphite_volume_change_ai2020,
        **CRACKING,
    )
    positive = ElectrodeParameters(
        thickness_m=68e-6,
        porosity=0.32,
        active_material_volume_fraction=0.62,
        particle_radius_m=3e-6,
        bruggeman_electrolyte=1.83,
        bruggeman_electrode=0.0,
        conductivity_S_m=10.0,
        max_concentration_mol_m3=LICO2_MAX_CONCENTRATION_MOL_M3,
        initial_concentration_mol_m3=21725.0,
        particle_diffusivity=_diffusivity(5.387e-15),
        reference_open_circuit_potential=lico2_ocp_ai2020,
        entropic_change=lico2_entropic_change_ai2020,
        exchange_current_rate_constant=rate_constant,
        exchange_current_activation_energy_J_mol=ACTIVATION_ENERGY_J_MOL,
        reference_temperature_K=REFERENCE_TEMPERATURE_K,
        double_layer_capacity_F_m2=0.2,
        youngs_modulus_Pa=375e9,
        poissons_ratio=0.2,
        partial_molar_volume_m3_mol=LICO2_PARTIAL_MOLAR_VOLUME_M3_MOL,
        reference_concentration_mol_m3=0.0,
        volume_change=lico2_volume_change_ai2020,
        **CRACKING,
    )
    separator = SeparatorParameters(thickness_m=25e-6, porosity=0.5, bruggeman_electrolyte=1.5)
    electrolyte = ElectrolyteParameters(
        initial_concentration_mol_m3=1000.0,
        diffusivity=electrolyte_diffusivity_ai2020,
        conductivity=electrolyte_conductivity_ai2020,
        transference_number=_transference_number,
        thermodynamic_factor=thermodynamic_factor_ai2020,
    )
    pairs = 34
    return CellParameters(
        name="Ai2020",
        negative=negative,
        separator=separator,
        positive=positive,
        electrolyte=electrolyte,
        electrode_area_m2=pairs * 0.051 * 0.047,
        nominal_capacity_Ah=2.28,
        lower_voltage_cutoff_V=3.0,
        upper_voltage_cutoff_V=4.2,
        ambient_temperature_K=298.15,
        reference_temperature_K=REFERENCE_TEMPERATURE_K,
        citation="Ai et al., J. Electrochem. Soc. 167, 013512 (2020)",
        electrodes_in_parallel=pairs,
    )
