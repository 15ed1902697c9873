"""Typed containers of the parameters of a lithium-ion cell model (DFN family), SI units.

A parameter set (``chen2020``, ...) fills these containers with published values and fitted
functions of concentration and temperature; it contains no law. The laws live in
:mod:`electrolyx.forms` (open-circuit potential with its entropic term, exchange-current
density, Arrhenius factor, effective transport) and the methods here only apply them to the
set's values, so that numpy (initial state, diagnostics) and UFL (weak forms, outputs) evaluate
the same expression. Every material function takes its arguments in SI units plus ``mod``, the
math module it evaluates with: ``numpy`` for arrays, ``ufl`` or :mod:`electrolyx.forms.ufl_math`
(UFL's, with a cheaper tanh; the DFN's and microstructure's weak forms use it) inside weak forms.
Functions therefore use only ``mod.exp``, ``mod.tanh``, ``mod.sqrt`` and arithmetic, which all
provide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from electrolyx.forms.arrhenius import arrhenius_factor
from electrolyx.forms.effective_transport import (
    bruggeman_transport_efficiency,
    effective_property,
    tortuosity_transport_efficiency,
)
from electrolyx.forms.exchange_current import exchange_current_density
from electrolyx.forms.mechanics import CrackingParticle, ElasticParticle
from electrolyx.forms.open_circuit_potential import open_circuit_potential

from .thermal import ThermalParameters

__all__ = [
    "CellParameters",
    "StoichiometryWindow",
    "ElectrodeParameters",
    "ElectrolyteParameters",
    "SeparatorParameters",
]

#: (electrolyte concentration [mol/m3], temperature [K], mod) -> value
ElectrolyteFunction = Callable[..., Any]
#: (stoichiometry [-], mod) -> open-circuit potential [V] or its entropic change [V/K]
OcpFunction = Callable[..., Any]
#: (c_s [mol/m3], temperature [K], mod) -> particle diffusivity [m2/s]
ParticleDiffusivityFunction = Callable[..., Any]


def _transport_efficiency(porosity: float, bruggeman: float, tortuosity: float | None) -> float:
    """eps^b (Bruggeman), or eps / tau with an explicit tortuosity factor tau."""
    if tortuosity is not None:
        return tortuosity_transport_efficiency(porosity, tortuosity)
    return bruggeman_transport_efficiency(porosity, bruggeman)


@dataclass(frozen=True)
class ElectrodeParameters:
    """One porous electrode: geometry, solid phase, particles and intercalation kinetics.

    Attributes:
        thickness_m: Electrode thickness [m].
        porosity: Electrolyte volume fraction eps [-].
        active_material_volume_fraction: Solid active volume fraction eps_s [-].
        particle_radius_m: Radius R of the spherical particles [m].
        bruggeman_electrolyte: Exponent b of eps**b on electrolyte transport [-].
        bruggeman_electrode: Exponent b of (1 - eps)**b on the solid conductivity [-] (all
            solids conduct: active material, binder, additive).
        conductivity_S_m: Solid-phase electronic conductivity sigma [S/m].
        max_concentration_mol_m3: Lithium concentration of the full lattice c_s,max [mol/m3].
        initial_concentration_mol_m3: Uniform initial lithium concentration [mol/m3].
        particle_diffusivity: D_s(c_s, T, mod) [m2/s].
        reference_open_circuit_potential: U_ref(x, mod) at the reference temperature [V].
        exchange_current_rate_constant: k of j0 = k A(T) c_e^0.5 c_s^0.5 (c_s,max - c_s)^0.5
            at the reference temperature [A m^-2 (m^3/mol)^1.5].
        exchange_current_activation_energy_J_mol: E_a of k [J/mol].
        entropic_change: dU/dT(x, mod) [V/K], or None (no entropic data: 0).
        reference_temperature_K: T_ref of U_ref and k [K].
        anodic_transfer_coefficient: alpha_a of Butler-Volmer [-].
        cathodic_transfer_coefficient: alpha_c of Butler-Volmer [-].
        double_layer_capacity_F_m2: Double-layer capacitance per interfacial area [F/m2].
        electrolyte_tortuosity_factor: tau of D_eff = eps D / tau; None: Bruggeman eps**b.
        youngs_modulus_Pa: E of the particles [Pa], or None (no mechanical data).
        poissons_ratio: nu of the particles [-], or None.
        partial_molar_volume_m3_mol: Omega of lithium in the particles [m3/mol], or None.
        reference_concentration_mol_m3: c_ref, the particles' stress-free concentration
            [mol/m3] (PyBaMM's "reference concentration for free of deformation"), or None.
        volume_change: Particle volume change relative to the lithium-free lattice as a
            function of the stoichiometry, (x, mod) -> dV/V [-], or None.
        initial_crack_length_m: l_0 of the particles' surface cracks [m], or None (no
            cracking data).
        crack_width_m: w_cr of the cracks [m], or None.
        cracks_per_area_1_m2: rho_cr, cracks per particle surface area [1/m2], or None.
        paris_law_b: b_cr of Paris' law [-], or None.
        paris_law_m: m_cr of Paris' law [-], or None.
        cracking_rate: k_cr of Paris' law at the reference temperature, per hour
            [m / (Pa m^0.5)^m_cr], or None.
        cracking_activation_energy_J_mol: E_a of k_cr [J/mol].
    """

    thickness_m: float
    porosity: float
    active_material_volume_fraction: float
    particle_radius_m: float
    bruggeman_electrolyte: float
    bruggeman_electrode: float
    conductivity_S_m: float
    max_concentration_mol_m3: float
    initial_concentration_mol_m3: float
    particle_diffusivity: ParticleDiffusivityFunction
    reference_open_circuit_potential: OcpFunction
    exchange_current_rate_constant: float
    exchange_current_activation_energy_J_mol: float = 0.0
    entropic_change: OcpFunction | None = None
    reference_temperature_K: float = 298.15
    anodic_transfer_coefficient: float = 0.5
    cathodic_transfer_coefficient: float = 0.5
    double_layer_capacity_F_m2: float = 0.0
    electrolyte_tortuosity_factor: float | None = None
    youngs_modulus_Pa: float | None = None
    poissons_ratio: float | None = None
    partial_molar_volume_m3_mol: float | None = None
    reference_concentration_mol_m3: float | None = None
    volume_change: OcpFunction | None = None
    initial_crack_length_m: float | None = None
    crack_width_m: float | None = None
    cracks_per_area_1_m2: float | None = None
    paris_law_b: float | None = None
    paris_law_m: float | None = None
    cracking_rate: float | None = None
    cracking_activation_energy_J_mol: float = 0.0

    def open_circuit_potential(self, stoichiometry, temperature_K=None, mod=np):
        """U(x, T) = U_ref(x) + (T - T_ref) dU/dT(x) [V] (the set's U_ref at T = None)."""
        reference = self.reference_open_circuit_potential(stoichiometry, mod)
        if temperature_K is None or self.entropic_change is None:
            return reference
        return open_circuit_potential(
            reference,
            self.entropic_change(stoichiometry, mod),
            temperature_K,
            self.reference_temperature_K,
        )

    def exchange_current_density(self, c_e, c_s_surf, c_s_max=None, temperature_K=None, mod=np):
        """j0(c_e, c_s,surf, T) [A/m2] of the intercalation reaction (T = None: at T_ref)."""
        temperature = self.reference_temperature_K if temperature_K is None else temperature_K
        arrhenius = arrhenius_factor(
            self.exchange_current_activation_energy_J_mol,
            temperature,
            self.reference_temperature_K,
            mod,
        )
        return exchange_current_density(
            self.exchange_current_rate_constant,
            arrhenius,
            c_e,
            c_s_surf,
            self.max_concentration_mol_m3 if c_s_max is None else c_s_max,
            mod,
        )

    def elastic_particle(self) -> ElasticParticle:
        """The particles' elastic constants.

        Raises:
            ValueError: when E, nu, Omega or c_ref is missing, or E or nu is out of range.
        """
        missing = [
            name
            for name in (
                "youngs_modulus_Pa",
                "poissons_ratio",
                "partial_molar_volume_m3_mol",
                "reference_concentration_mol_m3",
            )
            if getattr(self, name) is None
        ]
        if missing:
            raise ValueError(f"no mechanical parameters {', '.join(missing)}")
        return ElasticParticle(
            self.youngs_modulus_Pa,
            self.poissons_ratio,
            self.partial_molar_volume_m3_mol,
            self.reference_concentration_mol_m3,
        )

    def cracking_particle(self) -> CrackingParticle:
        """The particles' crack parameters (Paris' law).

        Raises:
            ValueError: when one is missing or out of range.
        """
        names = (
            "initial_crack_length_m",
            "crack_width_m",
            "cracks_per_area_1_m2",
            "paris_law_b",
            "paris_law_m",
            "cracking_rate",
        )
        missing = [name for name in names if getattr(self, name) is None]
        if missing:
            raise ValueError(f"no cracking parameters {', '.join(missing)}")
        return CrackingParticle(
            *(getattr(self, name) for name in names),
            self.cracking_activation_energy_J_mol,
            self.reference_temperature_K,
        )

    @property
    def specific_surface_area_1_m(self) -> float:
        """Interfacial area per electrode volume of spheres, a_s = 3 eps_s / R [1/m]."""
        return 3.0 * self.active_material_volume_fraction / self.particle_radius_m

    @property
    def electrolyte_transport_efficiency(self) -> float:
        """B = eps^b or eps / tau of the electrolyte in the pores [-]."""
        return _transport_efficiency(
            self.porosity, self.bruggeman_electrolyte, self.electrolyte_tortuosity_factor
        )

    @property
    def effective_conductivity_S_m(self) -> float:
        """Bruggeman-corrected solid conductivity sigma (1 - eps)**b [S/m]."""
        efficiency = bruggeman_transport_efficiency(1.0 - self.porosity, self.bruggeman_electrode)
        return effective_property(self.conductivity_S_m, efficiency)


@dataclass(frozen=True)
class SeparatorParameters:
    """The separator: a porous, electronically insulating layer filled with electrolyte.

    Attributes:
        thickness_m: Separator thickness [m].
        porosity: Electrolyte volume fraction [-].
        bruggeman_electrolyte: Exponent b of eps**b on electrolyte transport [-].
        electrolyte_tortuosity_factor: tau of D_eff = eps D / tau; None: Bruggeman eps**b.
        youngs_modulus_Pa: E of the particles [Pa], or None (no mechanical data).
        poissons_ratio: nu of the particles [-], or None.
        partial_molar_volume_m3_mol: Omega of lithium in the particles [m3/mol], or None.
        reference_concentration_mol_m3: c_ref, the particles' stress-free concentration
            [mol/m3] (PyBaMM's "reference concentration for free of deformation"), or None.
        volume_change: Particle volume change relative to the lithium-free lattice as a
            function of the stoichiometry, (x, mod) -> dV/V [-], or None.
    """

    thickness_m: float
    porosity: float
    bruggeman_electrolyte: float
    electrolyte_tortuosity_factor: float | None = None

    @property
    def electrolyte_transport_efficiency(self) -> float:
        """B = eps^b or eps / tau of the electrolyte in the pores [-]."""
        return _transport_efficiency(
            self.porosity, self.bruggeman_electrolyte, self.electrolyte_tortuosity_factor
        )


@dataclass(frozen=True)
class ElectrolyteParameters:
    """A binary electrolyte described by concentrated-solution theory.

    Attributes:
        initial_concentration_mol_m3: Uniform initial salt concentration [mol/m3].
        diffusivity: D_e(c_e, T, mod) [m2/s].
        conductivity: kappa(c_e, T, mod) [S/m].
        transference_number: t+(c_e, T, mod) [-].
        thermodynamic_factor: chi(c_e, T, mod) = 1 + dln f/dln c [-].
    """

    initial_concentration_mol_m3: float
    diffusivity: ElectrolyteFunction
    conductivity: ElectrolyteFunction
    transference_number: ElectrolyteFunction
    thermodynamic_factor: ElectrolyteFunction


@dataclass(frozen=True)
class StoichiometryWindow:
    """Stoichiometries at 0 % and 100 % state of charge (x: negative, y: positive) [-]."""

    negative_at_0: float
    negative_at_100: float
    positive_at_0: float
    positive_at_100: float

    def at(self, state_of_charge: float) -> tuple[float, float]:
        """(x, y) at ``state_of_charge`` in [0, 1], on the straight line of constant lithium."""
        s = state_of_charge
        x = self.negative_at_0 + s * (self.negative_at_100 - self.negative_at_0)
        y = self.positive_at_0 - s * (self.positive_at_0 - self.positive_at_100)
        return x, y


@dataclass(frozen=True)
class CellParameters:
    """A whole cell: negative electrode | separator | positive electrode, plus operating data.

    Attributes:
        name: Name of the parameter set.
        negative: Negative electrode.
        separator: Separator.
        positive: Positive electrode.
        electrolyte: Electrolyte.
        electrode_area_m2: Area of the electrode stack (height times width) [m2].
        nominal_capacity_Ah: Capacity that defines the C-rate [A h].
        lower_voltage_cutoff_V: Discharge cut-off [V].
        upper_voltage_cutoff_V: Charge cut-off [V].
        ambient_temperature_K: Temperature of an isothermal run [K].
        reference_temperature_K: Temperature at which the Arrhenius factors equal 1 [K].
        citation: Source of the values.
        stoichiometry_window: Stoichiometries at 0 and 100 % SOC where the source gives them
            (BPX files); None: from the cyclable lithium and the cut-offs
            (:mod:`electrolyx.parameters.initial_state`).
        degradation: Lithium plating and SEI parameters of the negative electrode
            (:class:`electrolyx.parameters.degradation.DegradationParameters`), or None.
        thermal: Heat capacities, thermal conductivities and cooling by layer
            (:mod:`electrolyx.parameters.thermal`; all None where the set has none).
        electrodes_in_parallel: Electrode pairs stacked in the cell (PyBaMM's "Number of
            electrodes connected in parallel to make a cell"); ``electrode_area_m2`` is all of
            them together. Only the cell thickness change uses it (each pair swells).
    """

    name: str
    negative: ElectrodeParameters
    separator: SeparatorParameters
    positive: ElectrodeParameters
    electrolyte: ElectrolyteParameters
    electrode_area_m2: float
    nominal_capacity_Ah: float
    lower_voltage_cutoff_V: float
    upper_voltage_cutoff_V: float
    ambient_temperature_K: float
    reference_temperature_K: float
    citation: str
    stoichiometry_window: StoichiometryWindow | None = None
    degradation: Any = None
    thermal: ThermalParameters = field(default_factory=ThermalParameters)
    electrodes_in_parallel: int = 1

    @property
    def thickness_m(self) -> float:
        """Total thickness of the electrode stack L_n + L_s + L_p [m]."""
        return self.negative.thickness_m + self.separator.thickness_m + self.positive.thickness_m

    def one_c_current_A(self) -> float:
        """Current of a 1C rate, nominal capacity over one hour [A]."""
        return self.nominal_capacity_Ah

    def with_double_layer(self, negative_F_m2: float, positive_F_m2: float) -> CellParameters:
        """Copy of the set with the given double-layer capacitances [F/m2]."""
        from dataclasses import replace

        return replace(
            self,
            negative=replace(self.negative, double_layer_capacity_F_m2=negative_F_m2),
            positive=replace(self.positive, double_layer_capacity_F_m2=positive_F_m2),
        )
