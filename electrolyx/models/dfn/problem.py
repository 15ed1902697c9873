"""The DFN problem: named unknowns on their (sub)meshes and one residual block per law.

    electrolyte salt    d(eps c_e)/dt + div N_e = a_s sum_k s_e,k         (electrolyte_diffusion)
    electrolyte charge  div i_e = a_s j                                   (electrolyte_conduction)
    solid charge        div i_s = -a_s j                                  (solid_conduction)
    particles           dc_s/dt = r^-2 d/dr(r^2 D_s dc_s/dr),
                        -D_s dc_s/dr = sum_k N_s,k at r = R               (particle_diffusion)
                        D_s -> D_s (1 + theta (c_s - c_ref)) with stress-induced diffusion
                        (mechanics; the particles' stresses are outputs)
    particle cracks     dl/dt = k_cr (b_cr sigma_t(R)+ sqrt(pi l))^m_cr / t0_cr
                        (swelling-and-cracking: Paris' law, forms.mechanics)
    interface           j = sum_k j_k over the electrode's reactions      (forms.reactions)

with N_e = -D_e B grad c_e + t+ i_e / F, i_e the concentrated-solution current
(thermodynamic factor chi, transference number t+), D_e B and kappa B the effective transport
properties (B = eps^b or eps / tau, :mod:`electrolyx.forms.effective_transport`). The electrolyte
unknowns live on the electrolyte-filled regions, phi_s on each electrode and its foil, c_s
(a vector of radial nodes per mesh node) on each electrode; the forms are the same in 1D, 2D and
3D.

Boundary conditions: phi_s = 0 at the negative terminal (the potential reference), the applied
current i_s.n = I / A (or P / (A V)) at the positive terminal, or phi_s = V there under voltage
control; insulated electrolyte; a half cell's lithium counter electrode exchanges j_Li with the
electrolyte at x = 0 (its potential is the reference).

On PETSc TS a half cell has one more unknown, the lithium dissolved from the metal (a
differential field on the electrolyte's nodes, nonzero only next to the metal's face):

    d/dt int M dx = int_metal j_Li / F ds                              (lithium_dissolved)

integrated by the same time steps as the electrolyte and particles, so that the inventory
electrolyte + particles - dissolved is conserved to round-off under every control.

With ``electrolyte_unknown = "log-concentration"`` u = ln(c_e / c_e0) is an algebraic unknown
too, tied to c_e at every node (c_e = c_e0 exp(u)); the laws and the salt flux then see
c_e0 exp(u) > 0, the storage term c_e (:meth:`DFNProblem._electrolyte_law_concentration`).

Unknowns are scaled (c_e by its initial value, c_s by c_s,max, potentials by the thermal voltage
at the reference temperature) and every residual divided by its natural size (charge by the 1C
current through one column of cells, lithium by the same over F), so that Newton's tolerances
mean the same for every cell.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from mpi4py import MPI
from petsc4py import PETSc

import numpy as np
import ufl
from dolfinx import fem
from dolfinx.fem.petsc import NonlinearProblem

from electrolyx.constants import FARADAY
from electrolyx.constants import thermal_voltage as thermal_voltage_at
from electrolyx.forms.effective_transport import effective_property
from electrolyx.forms.electrolyte_conduction import (
    electrolyte_charge_conservation_residual,
    electrolyte_current_density,
)
from electrolyx.forms.electrolyte_diffusion import (
    electrolyte_diffusion_residual,
    electrolyte_salt_flux,
)
from electrolyx.forms.kinetics import Kinetics
from electrolyx.forms.mechanics import crack_surface_area_per_volume, stress_enhanced_diffusivity
from electrolyx.forms.particle_diffusion import (
    particle_average_concentration,
    particle_diffusion_residual,
    particle_surface_concentration,
)
from electrolyx.forms.reactions import (
    DoubleLayer,
    Interface,
    InterfacialBalance,
    LithiumMetal,
    interfacial_balance,
    reaction_states,
)
from electrolyx.forms.solid_conduction import (
    solid_charge_conservation_residual,
    solid_current_density,
)
from electrolyx.integrator import BDFTimeDerivative
from electrolyx.jacobian_pattern import factor_without_structural_zeros
from electrolyx.parameters.base import CellParameters
from electrolyx.temperature import temperature_coefficient
from electrolyx.ts_integrator import TSIntegrator, TSTimeDerivative
from electrolyx.unknowns import Unknowns

from .electrode import ElectrodeDomain, SideReactions, default_reactions
from .geometry import (
    LITHIUM,
    NEGATIVE,
    POSITIVE,
    SEPARATOR,
    CellLayout,
    DFNResolution,
    LithiumCounterElectrode,
)
from .mechanics import ParticleMechanics, add_crack_lengths, crack_growth_residual
from .thermal import CellThermal, ThermalModel, heat_sources

#: Fraction of the initial electrolyte concentration below which the laws hold c_e (see
#: _build_forms), and below which the electrolyte counts as depleted (run.json; with the
#: log-concentration unknown c_e stays positive and collapses through it).
ELECTROLYTE_LAW_FLOOR = 1e-6

#: The electrolyte's unknown: its concentration, or its logarithm (positivity-preserving).
ELECTROLYTE_UNKNOWNS = ("concentration", "log-concentration")

__all__ = [
    "DFNProblem",
    "ElectrodeDomain",
    "ParticleMechanics",
    "SideReactions",
    "default_reactions",
]


class DFNProblem:
    """Unknowns, residual blocks and Newton solvers of a DFN cell.

    Args:
        layout: The cell mesh and its parts.
        parameters: The parameter set.
        resolution: Radial grids (and the mesh it was built with).
        double_layer: Add the double-layer current to each electrode's reactions.
        temperature_K: Temperature of the laws [K]: a number, a ``fem.Constant`` or a
            ``fem.Function`` on the cell mesh, or a callable of x
            (:func:`electrolyx.temperature.temperature_coefficient`).
        counter_electrode: The lithium counter electrode of a half cell, or None.
        kinetics: electrode side ("negative", "positive") -> kinetic law of its intercalation
            reaction (default: Butler-Volmer with the set's transfer coefficients).
        integrator: "ts" (PETSc TS: the forms use rate functions u_dot) or "bdf2" (our
            :class:`electrolyx.integrator.AdaptiveBDF`: the forms use its BDF formula).
        mechanics: Particle mechanics (default none); needs the electrodes' elastic constants.
        side_reactions: electrode side -> its side reactions (lithium plating, SEI growth;
            :class:`SideReactions`), each with its own states as differential unknowns.
        thermal: Thermal model (default isothermal at ``temperature_K``); lumped or x-full add
            the temperature and two energy accumulators to the unknowns (:mod:`.thermal`).
        electrolyte_unknown: "concentration" (c_e itself; the laws see it held at a floor) or
            "log-concentration" (u = ln(c_e / c_e0) an unknown too, the laws see c_e0 exp(u) > 0;
            see :meth:`_electrolyte_law_concentration`).
    """

    def __init__(
        self,
        layout: CellLayout,
        parameters: CellParameters,
        resolution: DFNResolution,
        double_layer: bool,
        temperature_K: float | fem.Constant | fem.Function | Callable,
        counter_electrode: LithiumCounterElectrode | None,
        kinetics: dict[str, Kinetics] | None = None,
        integrator: str = "ts",
        mechanics: ParticleMechanics | None = None,
        side_reactions: dict[str, SideReactions] | None = None,
        thermal: ThermalModel | None = None,
        electrolyte_unknown: str = "concentration",
    ):
        if integrator not in ("ts", "bdf2"):
            raise ValueError(f"integrator {integrator!r}: allowed ts, bdf2")
        if electrolyte_unknown not in ELECTROLYTE_UNKNOWNS:
            raise ValueError(
                f"electrolyte_unknown {electrolyte_unknown!r}: allowed "
                + ", ".join(ELECTROLYTE_UNKNOWNS)
            )
        #: Whether the electrolyte laws see c_e0 exp(u), u = ln(c_e / c_e0) an unknown.
        self.log_electrolyte = electrolyte_unknown == "log-concentration"
        self.integrator_kind = integrator
        self.layout = layout
        self.mechanics = ParticleMechanics() if mechanics is None else mechanics
        self.parameters = parameters
        self.counter_electrode = counter_electrode
        self.comm = layout.comm
        p = parameters
        mesh = layout.mesh
        kinetics = kinetics or {}
        unknown_sides = set(kinetics) - {"negative", "positive"}
        if unknown_sides:
            raise ValueError(
                f"kinetics given for {sorted(unknown_sides)}: allowed negative, positive"
            )
        electrodes = [(POSITIVE, p.positive, resolution.positive_radial_points)]
        if counter_electrode is None:
            electrodes.insert(0, (NEGATIVE, p.negative, resolution.negative_radial_points))
        self.electrodes = [
            ElectrodeDomain(
                name,
                params,
                layout,
                points,
                resolution.radial_surface_refinement,
                default_reactions(
                    params,
                    kinetics.get(name.split("_")[0]),
                    double_layer,
                    (side_reactions or {}).get(name.split("_")[0]),
                ),
                params.elastic_particle()
                if self.mechanics.needs_elastic_constants_of(name.split("_")[0])
                else None,
            )
            for name, params, points in electrodes
        ]
        for electrode in self.electrodes:
            if self.mechanics.cracking(electrode.side):
                electrode.enable_cracking(electrode.params.cracking_particle())
            own = (side_reactions or {}).get(electrode.side)
            if own is not None and own.sei_on_cracks:
                if electrode.cracking is None:
                    raise ValueError(
                        f"SEI on cracks of the {electrode.name}: its particles do not crack "
                        "(mechanics 'swelling-and-cracking' needed)"
                    )
                electrode.crack_sei = own.crack_sei(electrode.params, electrode.reactions[0])
        self.electrode = {e.side: e for e in self.electrodes}
        electrolyte_mesh = mesh if layout.electrolyte is None else layout.electrolyte.mesh
        electrolyte_space = fem.functionspace(electrolyte_mesh, ("Lagrange", 1))
        self.thermal_voltage_ref = thermal_voltage_at(p.reference_temperature_K)
        vt = self.thermal_voltage_ref
        # phi_s of the positive electrode is V_T (u + offset): the unknown u stays within a
        # fraction of V_T of the terminal (DFN.recentre), so that the stiff rows of a metal
        # foil (sigma_cc ~ 1e7 S/m) do not lose the residual to round-off in |phi_s|.
        self.potential_offset = fem.Constant(mesh, 0.0)
        unknowns = Unknowns()
        unknowns.add(
            "electrolyte_concentration",
            electrolyte_space,
            p.electrolyte.initial_concentration_mol_m3,
            differential=True,
        )
        if self.log_electrolyte:
            # u = ln(c_e / c_e0), algebraic: tied to the stored concentration node by node.
            unknowns.add("electrolyte_log_concentration", electrolyte_space.clone(), 1.0, False)
        unknowns.add("electrolyte_potential", electrolyte_space.clone(), vt, double_layer)
        for electrode in self.electrodes:
            offset = self.potential_offset if electrode.side == "positive" else None
            unknowns.add(electrode.potential, electrode.potential_space, vt, double_layer, offset)
            unknowns.add(
                electrode.concentration,
                electrode.concentration_space,
                electrode.params.max_concentration_mol_m3,
                differential=True,
            )
        #: Crack-length unknowns (swelling-and-cracking; :func:`.mechanics.add_crack_lengths`).
        self.crack_lengths = add_crack_lengths(unknowns, self.electrodes)
        self.unknowns = unknowns
        #: The concentrations: what a change of control must not move.
        self.conserved = ["electrolyte_concentration"] + [e.concentration for e in self.electrodes]
        self.conserved += self.crack_lengths
        #: Unknown name -> scaled initial value of the reactions' own states (plating, SEI).
        self.reaction_state_initial: dict[str, float] = {}
        self._add_reaction_states(resolution)
        self._add_crack_sei(resolution)
        if counter_electrode is not None and integrator == "ts":
            # Lithium dissolved from the metal per volume of the nodes next to it [mol/m3],
            # scaled by one hour at 1C over the half separator cell beside the metal, so that
            # the unknown stays O(1) (else it dominates Newton's norm of x and its step test).
            one_hour_1c = p.one_c_current_A() / p.electrode_area_m2 * 3600.0 / FARADAY
            half_cell_m = 0.5 * p.separator.thickness_m / resolution.separator_cells
            unknowns.add(
                "lithium_dissolved",
                electrolyte_space.clone(),
                one_hour_1c / half_cell_m,
                differential=True,
            )
            self.conserved.append("lithium_dissolved")
        #: Unknowns integrated but left out of the local-error control (exact bookkeeping).
        self.unchecked = ["lithium_dissolved"]
        thermal = ThermalModel() if thermal is None else thermal
        #: The thermal model's unknowns and balance (None when isothermal).
        self.thermal = CellThermal(thermal, self) if thermal.active else None
        self.time_derivative = (
            TSTimeDerivative(unknowns) if integrator == "ts" else BDFTimeDerivative(mesh, unknowns)
        )
        #: Temperature of every law [K]: a ``fem.Constant`` or a temperature ``fem.Function``.
        self.temperature = (
            temperature_coefficient(mesh, temperature_K)
            if self.thermal is None
            else self.thermal.temperature
        )
        self.applied_current_density = fem.Constant(mesh, 0.0)
        self.applied_power_density = fem.Constant(mesh, 0.0)
        self.terminal_voltage = fem.Constant(mesh, 0.0)
        self.entity_maps = [m for e in self.electrodes for m in e.entity_maps]
        if layout.electrolyte is not None:
            self.entity_maps.append(layout.electrolyte.entity_map)
        self._residual_floor = self._round_off_floor()
        self._measures()
        self._build_forms()

    # ----------------------------------------------------------------- forms
    def _add_reaction_states(self, resolution: DFNResolution) -> None:
        """A differential unknown per state of each electrode's reactions (plated Li, SEI).

        Named ``{state}_{side}`` (``plated_lithium_concentration_negative``), P1 on the
        electrode's particle mesh, scaled by the state's typical size.
        """
        #: unknown name -> (electrode, ReactionState)
        self.reaction_state = {}
        for electrode in self.electrodes:
            states = reaction_states(electrode.reactions)
            if not states:
                continue
            space = fem.functionspace(electrode.particles.mesh, ("Lagrange", 1))
            for state in states:
                name = f"{state.name}_{electrode.side}"
                differential = not state.total_current
                self.unknowns.add(name, space.clone(), state.scale, differential=differential)
                if differential:
                    self.conserved.append(name)
                self.reaction_state[name] = (electrode, state)
                self.reaction_state_initial[name] = state.initial_value / state.scale
        cells = {"negative": resolution.negative_cells, "positive": resolution.positive_cells}
        #: side -> thickness of one cell across the electrode [m] (the states' residual scale)
        self._cell_thickness = {
            e.side: e.params.thickness_m / cells[e.side] for e in self.electrodes
        }

    def _add_crack_sei(self, resolution: DFNResolution) -> None:
        """The SEI on the crack faces of each electrode that has it: n_cr [mol/m3], P1.

        PyBaMM's state of "SEI on cracks" (its c_sei_cr): moles of SEI per electrode volume,
        n_cr(0) = a_s L_SEI,cr0 / V_SEI, scaled by the SEI of 1 nm on the initial crack faces
        a_cr,0 1e-9 / V_SEI; its thickness L_cr = n_cr V_SEI / a_cr follows the crack area.
        """
        #: Crack-SEI unknowns (SEI on cracks).
        self.crack_sei = []
        for electrode in self.electrodes:
            if electrode.crack_sei is None:
                continue
            d = electrode.crack_sei.degradation
            a_s = electrode.params.specific_surface_area_1_m
            cracking = electrode.cracking
            initial_area = crack_surface_area_per_volume(
                cracking.initial_crack_length_m, cracking, a_s
            )
            scale = initial_area * 1e-9 / d.sei_partial_molar_volume_m3_mol
            initial = a_s * d.initial_crack_sei_thickness_m / d.sei_partial_molar_volume_m3_mol
            name = electrode.crack_sei_amount
            space = fem.functionspace(electrode.particles.mesh, ("Lagrange", 1))
            self.unknowns.add(name, space, scale, differential=True)
            self.conserved.append(name)
            self.reaction_state_initial[name] = initial / scale
            self.crack_sei.append(name)

    def _round_off_floor(self) -> float:
        """Newton's absolute tolerance on the scaled residual.

        1e-11, or the round-off level of a foil's rows, eps x sigma_cc V_T / (h_cc i_1C) (~1e-7
        for copper), if that is larger.
        """
        p = self.parameters
        geometry = self.layout.geometry
        one_c_density = p.one_c_current_A() / p.electrode_area_m2
        floor = 1e-11
        for foil in (geometry.negative_foil, geometry.positive_foil) if geometry else ():
            if foil is not None:
                stiffness = foil.conductivity_S_m * self.thermal_voltage_ref * foil.cells
                stiffness /= foil.thickness_m * one_c_density
                floor = max(floor, 2e-16 * stiffness)
        return floor

    def _measures(self) -> None:
        mesh = self.layout.mesh
        tags = self.layout.mesh_data.cell_tags
        self.dx = ufl.Measure(
            "dx", domain=mesh, subdomain_data=tags, metadata={"quadrature_degree": 2}
        )
        self.dx_vertex = ufl.Measure(
            "dx",
            domain=mesh,
            subdomain_data=tags,
            metadata={"quadrature_rule": "vertex", "quadrature_degree": 1},
        )
        self.ds = ufl.Measure("ds", domain=mesh, subdomain_data=self.layout.mesh_data.facet_tags)
        electrolyte = self.layout.electrolyte
        # The electrolyte's cells: all of them, or (with foils) its submesh's regions.
        self.dx_electrolyte = self.dx if electrolyte is None else self.dx(electrolyte.tags)
        self.dx_vertex_electrolyte = (
            self.dx_vertex if electrolyte is None else self.dx_vertex(electrolyte.tags)
        )
        one = fem.Constant(mesh, 1.0)
        terminal = self.layout.tag(self.layout.positive_terminal)
        self.terminal_area_m2 = self.integral(fem.form(one * self.ds(terminal)))

    def integral(self, compiled: fem.Form) -> float:
        """Global value of a compiled scalar form."""
        return self.comm.allreduce(fem.assemble_scalar(compiled), op=MPI.SUM)

    def value(self, name: str):
        """Physical value of the unknown ``name`` (UFL)."""
        return self.unknowns[name].value()

    def _transport_efficiency(self) -> tuple[fem.Function, fem.Function]:
        """Piecewise-constant porosity and electrolyte transport efficiency B of each region."""
        p = self.parameters
        layout = self.layout
        dg0 = fem.functionspace(layout.mesh, ("DG", 0))
        porosity = fem.Function(dg0, name="porosity")
        efficiency = fem.Function(dg0, name="transport_efficiency")
        regions = {NEGATIVE: p.negative, SEPARATOR: p.separator, POSITIVE: p.positive}
        for name in layout.electrolyte_regions:
            cells = layout.mesh_data.cell_tags.find(layout.tag(name))
            porosity.x.array[cells] = regions[name].porosity
            efficiency.x.array[cells] = regions[name].electrolyte_transport_efficiency
        return porosity, efficiency

    def _build_forms(self) -> None:
        p = self.parameters
        layout = self.layout
        rate = self.time_derivative.rate
        dx, dxv, ds = self.dx, self.dx_vertex, self.ds
        self.porosity, efficiency = self._transport_efficiency()
        self.dissolved_form = None
        tests = {
            name: ufl.TestFunction(space)
            for name, space in zip(self.unknowns.names, self.unknowns.spaces, strict=True)
        }
        temperature = self.temperature
        thermal_voltage = thermal_voltage_at(temperature)
        electrolyte = p.electrolyte
        electrolyte_concentration = self.value("electrolyte_concentration")
        c_e = self._electrolyte_law_concentration()
        #: The electrolyte concentration the laws see [mol/m3] (UFL; outputs use it).
        self.electrolyte_law_concentration = c_e
        phi_e = self.value("electrolyte_potential")
        transference = electrolyte.transference_number(c_e, temperature, mod=ufl)
        i_e = electrolyte_current_density(
            c_e,
            phi_e,
            effective_property(electrolyte.conductivity(c_e, temperature, mod=ufl), efficiency),
            transference,
            electrolyte.thermodynamic_factor(c_e, temperature, mod=ufl),
            thermal_voltage,
        )
        n_e = electrolyte_salt_flux(
            c_e if self.log_electrolyte else electrolyte_concentration,
            effective_property(electrolyte.diffusivity(c_e, temperature, mod=ufl), efficiency),
            transference,
            i_e,
        )
        # Residual scales: charge by the 1C current through one column of cells (in 1D the 1C
        # current density), lithium by the same over F.
        current_scale = p.one_c_current_A() / p.electrode_area_m2 * layout.in_plane_cell_area_m2
        molar_scale = current_scale / FARADAY
        # The applied current enters through the positive terminal (a face or a tab's end) at
        # the density that carries this geometry's share of it: I/A * A_geometry / A_terminal.
        terminal = layout.tag(layout.positive_terminal)
        terminal_factor = layout.modelled_area_m2 / self.terminal_area_m2

        charge_sources, molar_sources = [], []
        electrode_blocks = {}
        #: electrode (or counter electrode) name -> its reactions' terms, for outputs
        self.balances: dict[str, InterfacialBalance] = {}
        #: name -> (a_s j [A/m3] or j [A/m2], measure): the reaction currents to integrate
        self.reaction_current: dict[str, tuple] = {}
        #: side -> crack faces per electrode volume a_cr [1/m] (UFL) of cracking particles:
        #: the area a side reaction on the cracks (SEI on cracks) acts on.
        self.crack_surface_area: dict[str, object] = {}
        #: side -> terms of the SEI on its cracks (per crack area), when it has them.
        self.crack_sei_terms: dict = {}
        for electrode in self.electrodes:
            ep = electrode.params
            phi_s = self.value(electrode.potential)
            c_s = self.value(electrode.concentration)
            surface_rate = None
            if any(isinstance(r, DoubleLayer) for r in electrode.reactions):
                surface_rate = rate(electrode.potential) - rate("electrolyte_potential")
            states = {
                state.name: self.value(name)
                for name, (owner, state) in self.reaction_state.items()
                if owner is electrode
            }
            interface = Interface(
                solid_potential=phi_s,
                electrolyte_potential=phi_e,
                electrolyte_concentration=c_e,
                temperature=temperature,
                particle_surface_concentration=particle_surface_concentration(c_s),
                surface_potential_difference_rate=surface_rate,
                states=states,
                film_overpotential=sum(
                    (
                        r.film_overpotential(states)
                        for r in electrode.reactions
                        if hasattr(r, "film_overpotential")
                    ),
                    0.0,
                ),
            )
            balance = interfacial_balance(electrode.reactions, interface)
            self.balances[electrode.name] = balance
            a_s = ep.specific_surface_area_1_m
            measure = dxv(electrode.tag)
            # Volumetric current a_s j [A/m3] and Li+ source [mol/(m3 s)] of the electrode.
            volumetric_current = a_s * balance.current_density
            volumetric_lithium = a_s * balance.electrolyte_lithium_source
            if electrode.cracking is not None:
                name = electrode.crack_length
                form, area = crack_growth_residual(
                    electrode, c_s, self.value(name), rate(name), temperature, tests[name], measure
                )
                electrode_blocks[name] = form
                self.crack_surface_area[electrode.side] = area
            if electrode.crack_sei is not None:
                terms, blocks = self._crack_sei_terms(electrode, interface, tests)
                electrode_blocks.update(blocks)
                area = self.crack_surface_area[electrode.side]
                volumetric_current += area * terms.current_density
                volumetric_lithium += area * terms.electrolyte_lithium_source
            self.reaction_current[electrode.name] = (volumetric_current, measure)
            charge_sources.append((volumetric_current, measure))
            molar_sources.append((volumetric_lithium, measure))

            def diffusivity(c, ep=ep):
                return ep.particle_diffusivity(c, temperature, mod=ufl)

            if self.mechanics.stress_induced_diffusion:
                diffusivity = stress_enhanced_diffusivity(
                    diffusivity, electrode.material, temperature
                )
            particle_form = particle_diffusion_residual(
                c_s,
                rate(electrode.concentration),
                tests[electrode.concentration],
                electrode.grid,
                ep.particle_radius_m,
                diffusivity,
                balance.particle_lithium_outflux,
                ep.active_material_volume_fraction,
                measure,
            )
            boundary = []
            if electrode.side == "positive":
                # i_s.n = I/A under current control, P/(A V) under power control, V = phi_s(L),
                # times A_geometry / A_terminal.
                boundary.append(
                    (
                        terminal_factor
                        * (self.applied_current_density + self.applied_power_density / phi_s),
                        ds(terminal),
                    )
                )
            w = tests[electrode.potential]
            solid_form = solid_charge_conservation_residual(
                solid_current_density(phi_s, ep.effective_conductivity_S_m),
                w,
                dx(electrode.tag),
                charge_sources[-1:],
                boundary,
            )
            if electrode.foil is not None:
                # The current-collector foil: div(-sigma_cc grad phi_s) = 0.
                foil_name, foil_conductivity = electrode.foil
                solid_form += solid_charge_conservation_residual(
                    solid_current_density(phi_s, foil_conductivity),
                    w,
                    dx(layout.tag(foil_name)),
                    [],
                )
            electrode_blocks[electrode.potential] = (1.0 / current_scale) * solid_form
            electrode_blocks[electrode.concentration] = (1.0 / molar_scale) * particle_form
            electrode_blocks.update(self._reaction_state_blocks(electrode, balance, tests))

        if self.counter_electrode is not None:
            # Lithium-metal counter electrode at x = 0, its potential the reference (0 V).
            counter = ds(layout.tag(LITHIUM))
            balance = interfacial_balance(
                [LithiumMetal(self.counter_electrode.exchange_current_density_A_m2)],
                Interface(0.0, phi_e, c_e, temperature),
            )
            self.balances[LITHIUM] = balance
            self.reaction_current[LITHIUM] = (balance.current_density, counter)
            charge_sources.append((balance.current_density, counter))
            molar_sources.append((balance.electrolyte_lithium_source, counter))
        if "lithium_dissolved" in self.unknowns:
            test = tests["lithium_dissolved"]
            electrode_blocks["lithium_dissolved"] = (1.0 / molar_scale) * (
                rate("lithium_dissolved") * test * self.dx_vertex_electrolyte
                - balance.electrolyte_lithium_source * test * counter
            )
            #: Lithium dissolved from the metal [mol per m2 of modelled area].
            self.dissolved_form = self.value("lithium_dissolved") * self.dx_vertex_electrolyte

        blocks = {
            "electrolyte_concentration": (1.0 / molar_scale)
            * electrolyte_diffusion_residual(
                rate("electrolyte_concentration"),
                tests["electrolyte_concentration"],
                self.porosity,
                n_e,
                self.dx_electrolyte,
                molar_sources,
            ),
            "electrolyte_potential": (1.0 / current_scale)
            * electrolyte_charge_conservation_residual(
                i_e, tests["electrolyte_potential"], self.dx_electrolyte, charge_sources
            ),
            **electrode_blocks,
        }
        if self.log_electrolyte:
            blocks["electrolyte_log_concentration"] = self._log_concentration_block(
                tests["electrolyte_log_concentration"]
            )
        #: Heat source name -> (q, measure) pairs (:func:`.thermal.heat_sources`).
        self.heat_sources = heat_sources(self, i_e)
        if self.thermal is not None:
            blocks.update(self.thermal.build(self.heat_sources, rate))
        self.residual_blocks = [blocks[name] for name in self.unknowns.names]
        # Lithium inventory [mol per m2 of modelled area].
        self.lithium_forms = [
            self.porosity * electrolyte_concentration * self.dx_electrolyte,
            *(
                e.params.active_material_volume_fraction
                * particle_average_concentration(self.value(e.concentration), e.grid)
                * dxv(e.tag)
                for e in self.electrodes
            ),
        ]
        #: state unknown -> lithium it holds beyond its initial value [mol per m2 modelled]
        self.reaction_state_lithium_forms = {
            name: state.lithium_per_unit
            * (self.value(name) - state.initial_value)
            * dxv(electrode.tag)
            for name, (electrode, state) in self.reaction_state.items()
            if state.lithium_per_unit is not None
        }
        # SEI on cracks: z_SEI (n_cr - n_cr,0) [mol/m3] (PyBaMM's "Loss of lithium to ...
        # SEI on cracks").
        for electrode in self.electrodes:
            if electrode.crack_sei is not None:
                name = electrode.crack_sei_amount
                initial = self.reaction_state_initial[name] * self.unknowns[name].scale
                self.reaction_state_lithium_forms[name] = (
                    electrode.crack_sei.degradation.lithium_per_sei
                    * (self.value(name) - initial)
                    * dxv(electrode.tag)
                )

    def _electrolyte_law_concentration(self):
        """The electrolyte concentration c_e of the laws [mol/m3] (UFL).

        "concentration": the unknown held at a floor, max(c_e, 1e-6 c_e0) (the salt balance's
        storage and flux see it as it is): where the electrolyte depletes, round-off and the
        error control take c_e a little below zero, where sqrt(c_e) and c_e^1.5 in the laws
        have no value.

        "log-concentration": c_e = c_e0 exp(u), positive for every u, in the laws and in the
        salt flux (-D_eff grad c_e = -D_eff c_e grad u). The balance's storage term keeps the
        concentration unknown (a P1 field, conserved exactly by any BDF formula, as the PNP
        model's projected concentrations), tied to u at every node
        (:meth:`_log_concentration_block`).
        """
        c0 = self.parameters.electrolyte.initial_concentration_mol_m3
        if self.log_electrolyte:
            return c0 * ufl.exp(self.value("electrolyte_log_concentration"))
        return ufl.max_value(self.value("electrolyte_concentration"), ELECTROLYTE_LAW_FLOOR * c0)

    def _log_concentration_block(self, test):
        """The stored concentration is c_e0 exp(u) at every node (lumped: vertex quadrature).

            int (c_e / c_e0 - exp(u)) w dx_vertex = 0   for every P1 w,

        divided by the mean nodal volume of the electrolyte, so the residual is the nodal
        mismatch relative to c_e0. The nodal values of the stored concentration are then
        c_e0 exp(u_i) > 0 to Newton's tolerance, and its integral (the electrolyte's lithium)
        changes only through the sources.
        """
        one = fem.Constant(self.layout.mesh, 1.0)
        volume = self.integral(fem.form(one * self.dx_vertex_electrolyte))
        space = self.unknowns["electrolyte_log_concentration"].space
        nodes = space.dofmap.index_map.size_global
        stored = self.unknowns["electrolyte_concentration"].function
        log_concentration = self.unknowns["electrolyte_log_concentration"].function
        return (nodes / volume) * (
            (stored - ufl.exp(log_concentration)) * test * self.dx_vertex_electrolyte
        )

    def electrolyte_concentration_array(self) -> np.ndarray:
        """Nodal electrolyte concentration as the laws see it [mol/m3] (local dofs, ghosts).

        The unknown itself, or c_e0 exp(u) with the log-concentration unknown.
        """
        if self.log_electrolyte:
            c0 = self.parameters.electrolyte.initial_concentration_mol_m3
            return c0 * np.exp(self.unknowns["electrolyte_log_concentration"].function.x.array)
        return self.unknowns["electrolyte_concentration"].physical_array()

    def crack_sei_thickness(self, electrode):
        """L_cr = n_cr V_SEI / a_cr: thickness of the SEI on the crack faces [m] (UFL)."""
        d = electrode.crack_sei.degradation
        area = self.crack_surface_area[electrode.side]
        return self.value(electrode.crack_sei_amount) * d.sei_partial_molar_volume_m3_mol / area

    def _crack_sei_terms(self, electrode, interface: Interface, tests):
        """SEI on the crack faces: its terms per crack area and dn_cr/dt = -a_cr j_cr / (F z).

        The same law as the SEI on the particle surface, at the same potentials, with the
        thickness L_cr of the SEI on the cracks (PyBaMM's "SEI on cracks"). Residual per
        n_cr's scale per hour over one cell of the electrode, as the reactions' states.
        """
        reaction = electrode.crack_sei
        states = {**interface.states, "sei_thickness": self.crack_sei_thickness(electrode)}
        terms = reaction.terms(replace(interface, states=states))
        self.crack_sei_terms[electrode.side] = terms
        area = self.crack_surface_area[electrode.side]
        z = reaction.degradation.lithium_per_sei
        name = electrode.crack_sei_amount
        growth = -area * terms.current_density / (FARADAY * z)
        size = self.unknowns[name].scale / 3600.0 * self._cell_thickness[electrode.side]
        size *= self.layout.in_plane_cell_area_m2
        block = (1.0 / size) * (
            (self.time_derivative.rate(name) - growth) * tests[name] * self.dx_vertex(electrode.tag)
        )
        return terms, {name: block}

    def _reaction_state_blocks(self, electrode, balance: InterfacialBalance, tests) -> dict:
        """d(state)/dt = rate of each of the electrode's reaction states (lumped per node).

        Divided by the state's size per hour over one cell of the electrode, so that the
        residual is O(1) where the state changes by its scale in an hour. The total current
        density of a film (an algebraic state) is j_tot = sum_k j_k (+ a_cr j_cr / a_s with SEI
        on cracks).
        """
        rates = {
            name: rate
            for terms in balance.reactions.values()
            for name, rate in terms.state_rates.items()
        }
        blocks = {}
        for name, (owner, state) in self.reaction_state.items():
            if owner is not electrode:
                continue
            if state.total_current:
                # Algebraic: j_tot = sum_k j_k, divided by its scale over one cell.
                size = state.scale * self._cell_thickness[electrode.side]
                size *= self.layout.in_plane_cell_area_m2
                total = balance.current_density
                if electrode.side in self.crack_sei_terms:
                    # PyBaMM's j_tot: all volumetric currents / a_s, SEI on cracks included.
                    area = self.crack_surface_area[electrode.side]
                    total += (
                        area
                        / electrode.params.specific_surface_area_1_m
                        * (self.crack_sei_terms[electrode.side].current_density)
                    )
                blocks[name] = (1.0 / size) * (
                    (self.value(name) - total) * tests[name] * self.dx_vertex(electrode.tag)
                )
                continue
            if state.name not in rates:
                raise ValueError(f"no reaction of the {electrode.name} gives d/dt of {state.name}")
            size = state.scale / 3600.0 * self._cell_thickness[electrode.side]
            size *= self.layout.in_plane_cell_area_m2
            blocks[name] = (1.0 / size) * (
                (self.time_derivative.rate(name) - rates[state.name])
                * tests[name]
                * self.dx_vertex(electrode.tag)
            )
        return blocks

    # ---------------------------------------------------------------- solvers
    def build_solvers(self, **settings) -> None:
        """The time integrator's solvers under current control.

        Args:
            settings: With PETSc TS, keyword arguments of
                :class:`electrolyx.ts_integrator.TSIntegrator` (order, tolerances, step growth).
        """
        layout = self.layout
        if self.counter_electrode is not None:
            # The lithium metal's potential is the reference: no Dirichlet condition.
            self.bcs = []
        else:
            negative = self.electrode["negative"]
            dofs = negative.terminal_dofs(layout, layout.negative_terminal)
            self.bcs = [fem.dirichletbc(0.0, dofs, negative.potential_space)]
        # Under voltage control the positive terminal is an equipotential at V.
        positive = self.electrode["positive"]
        dofs = positive.terminal_dofs(layout, layout.positive_terminal)
        self._terminal_bc = fem.dirichletbc(self.terminal_voltage, dofs, positive.potential_space)
        if self.integrator_kind == "bdf2":
            self.current_problem = self._nonlinear_problem(self.bcs, "dfn_current")
            self.voltage_problem: NonlinearProblem | None = None
            self.active_problem = self.current_problem
            return
        unknowns = self.unknowns
        checked = [i for i in unknowns.differential if unknowns.names[i] not in self.unchecked]
        if self.thermal is not None:
            settings["field_absolute_tolerances"] = self.thermal.absolute_tolerances(settings)
        self.integrator = TSIntegrator(
            self.residual_blocks,
            unknowns.functions,
            self.time_derivative.functions,
            bcs=self.bcs,
            entity_maps=self.entity_maps,
            differential=checked,
            # newton_verdict alone judges convergence (the integrator sets PETSc's stol to 0:
            # with its step test a Newton solve whose first update overflowed ended
            # "converged" at residual 1.3, and Ecker2015's 3C charge from empty jumped its
            # graphite surface past c_max at 797.5 s).
            snes_options={"snes_max_it": 12, **self._linear_solver_options()},
            comm=self.comm,
            name="dfn",
            convergence_test=self.newton_verdict,
            **settings,
        )

    def _linear_solver_options(self) -> dict:
        """Direct solver: MUMPS when distributed and in 2D/3D, else PETSc's own LU.

        PETSc's LU (reverse Cuthill-McKee ordering) is about twice as fast as MUMPS on these
        small banded 1D systems; MUMPS has nested-dissection fill reduction. A thermal model's
        temperature couples to every field (and its one-dof unknowns to all dofs): there RCM
        fills the factor 7-fold (x-full, 20/6/20 cells: 471k nonzeros against the isothermal
        65k); quotient minimum degree keeps it at 73k (lumped 68k; nested dissection 116k /
        98k).
        """
        if self.comm.size > 1 or self.layout.geometry is not None:
            return {"pc_factor_mat_solver_type": "mumps"}
        if self.thermal is not None:
            return {"pc_factor_mat_solver_type": "petsc", "pc_factor_mat_ordering_type": "qmd"}
        return {"pc_factor_mat_solver_type": "petsc", "pc_factor_mat_ordering_type": "rcm"}

    def drop_structural_zeros(self) -> None:
        """Jacobians assembled without the structural zeros of vertex quadrature (2D/3D)."""
        if self.integrator_kind == "ts":
            self.integrator.drop_structural_zeros()
        else:
            factor_without_structural_zeros(self.current_problem, self.unknowns.functions)

    def use_voltage_control(self, voltage_control: bool) -> None:
        """Switch between current/power control and voltage control (a terminal condition)."""
        bcs = [*self.bcs, self._terminal_bc] if voltage_control else self.bcs
        if self.integrator_kind == "ts":
            self.integrator.set_bcs(bcs)
            return
        if voltage_control and self.voltage_problem is None:
            self.voltage_problem = self._nonlinear_problem(bcs, "dfn_voltage")
            if self.layout.geometry is not None:
                factor_without_structural_zeros(self.voltage_problem, self.unknowns.functions)
        self.active_problem = self.voltage_problem if voltage_control else self.current_problem

    def _nonlinear_problem(self, bcs, name: str) -> NonlinearProblem:
        """A Newton problem of the BDF2 loop (one per set of Dirichlet conditions)."""
        return NonlinearProblem(
            self.residual_blocks,
            self.unknowns.functions,
            bcs=bcs,
            entity_maps=self.entity_maps,
            kind="mpi",
            petsc_options_prefix=f"{name}_{id(self)}_",
            petsc_options={
                "snes_type": "newtonls",
                "snes_linesearch_type": "none",
                "snes_atol": self._residual_floor,
                "snes_rtol": 1e-12,
                "snes_stol": 1e-14,
                "snes_max_it": 12,
                "ksp_type": "preonly",
                "pc_type": "lu",
                **self._linear_solver_options(),
            },
        )

    def newton_solve(self, dt: float) -> tuple[bool, int]:
        """BDF2 loop: Newton from the present unknowns; (converged, iterations).

        Converged as :meth:`newton_verdict` says (PETSc's test, then the residual checked).
        """
        self.active_problem.solve()
        snes = self.active_problem.solver
        floor = 1e-6 + 1e-13 / dt + 10 * self._residual_floor
        reason, norm = snes.getConvergedReason(), snes.getFunctionNorm()
        converged = reason > 0 and norm < floor
        stalled = reason == PETSc.SNES.ConvergedReason.DIVERGED_MAX_IT
        stalled = stalled and norm < 1e-10 + 1e-13 / dt + 10 * self._residual_floor
        return converged or stalled, snes.getIterationNumber()

    def newton_verdict(
        self, iteration: int, x_norm: float, step_norm: float, norm: float, dt: float
    ) -> int:
        """Newton's convergence test on the scaled residual (a ``SNES.ConvergedReason``).

        Converged below the absolute tolerance (1e-11, or a foil's round-off floor), or after a
        relative decrease of 1e-12 or a step below 1e-14 of the unknowns, but then only if the
        residual is small: below 1e-6 plus the round-off floor of the storage terms, which
        grows like 1/dt (a step-norm stop at a huge residual is no convergence). That floor is
        1e-12/dt: in the half cell's end-of-discharge cliff (every particle surface within 1e-7
        of c_max, the steps cut to 1e-11..1e-7 s) Newton stagnated at 3e-13/dt..8e-13/dt, and
        with 1e-13/dt (the BDF2 loop's) every TS step there was rejected. At most 12
        iterations; Newton stalled at the round-off level just above the tolerance (j0 ~ (c_max
        - c_surf)^0.5 loses digits as a particle surface fills) is accepted.
        """
        reason = PETSc.SNES.ConvergedReason
        floor = 1e-6 + 1e-12 / dt + 10 * self._residual_floor
        if not np.isfinite(norm):
            return reason.DIVERGED_FNORM_NAN
        if norm < self._residual_floor:
            return reason.CONVERGED_FNORM_ABS
        if iteration == 0:
            self._initial_norm = norm
            return reason.ITERATING
        if norm < 1e-12 * self._initial_norm:
            return reason.CONVERGED_FNORM_RELATIVE if norm < floor else reason.DIVERGED_DTOL
        if step_norm < 1e-14 * x_norm:
            return reason.CONVERGED_SNORM_RELATIVE if norm < floor else reason.DIVERGED_DTOL
        if iteration >= 12:
            stalled = norm < 1e-10 + 1e-12 / dt + 10 * self._residual_floor
            return reason.CONVERGED_ITS if stalled else reason.DIVERGED_MAX_IT
        return reason.ITERATING
