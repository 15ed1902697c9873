"""The DFN's residual: one block per law, scaled, and the inventory and source forms outputs read.

:class:`ResidualBlocks` is the part of :class:`~electrolyx.models.dfn.problem.DFNProblem` that
writes the laws of the module docstring of :mod:`.problem` as UFL blocks (the electrolyte's salt
and charge, each electrode's solid charge and particles with its reactions, the counter
electrode, the thermal balance) and the forms of the lithium inventory.
"""

from __future__ import annotations

import ufl

from electrolyx.constants import FARADAY
from electrolyx.constants import thermal_voltage as thermal_voltage_at
from electrolyx.forms import ufl_math
from electrolyx.forms.effective_transport import effective_property
from electrolyx.forms.electrolyte_conduction import (
    electrolyte_charge_conservation_residual,
    electrolyte_current_density,
)
from electrolyx.forms.electrolyte_diffusion import (
    electrolyte_diffusion_residual,
    electrolyte_salt_flux,
)
from electrolyx.forms.mechanics import stress_enhanced_diffusivity
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
)
from electrolyx.forms.solid_conduction import (
    solid_charge_conservation_residual,
    solid_current_density,
)

from .geometry import (
    LITHIUM,
)
from .mechanics import crack_growth_residual
from .thermal import heat_sources

#: eps of the log-concentration unknown's tie c_e / c_e0 = exp(u) - eps exp(-u)
#: (:meth:`ResidualBlocks._log_concentration_block`): the laws' c_e0 exp(u) is 1e-7 c_e0 where
#: the stored concentration is 0, a tenth of the depletion threshold 1e-6 c_e0.
LOG_CONCENTRATION_EPSILON = 1e-14


class ResidualBlocks:
    """The residual blocks of :class:`DFNProblem` (``residual_blocks``)."""

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
        transference = electrolyte.transference_number(c_e, temperature, mod=ufl_math)
        conductivity = electrolyte.conductivity(c_e, temperature, mod=ufl_math)
        i_e = electrolyte_current_density(
            c_e,
            phi_e,
            effective_property(conductivity, efficiency),
            transference,
            electrolyte.thermodynamic_factor(c_e, temperature, mod=ufl_math),
            thermal_voltage,
            # grad(c_e) of the unknown, not of the floored c_e: that one drops to 0 where c_e
            # crosses the floor, and the residual jumped there (a depleted pouch's Newton
            # cycled across the jump and its steps fell to 1e-9 s).
            concentration_gradient=(
                None if self.log_electrolyte else ufl.grad(electrolyte_concentration)
            ),
            # grad(ln c_e) = grad(u) itself with the log-concentration unknown.
            log_concentration_gradient=(
                ufl.grad(self.value("electrolyte_log_concentration"))
                if self.log_electrolyte
                else None
            ),
        )
        n_e = electrolyte_salt_flux(
            c_e if self.log_electrolyte else electrolyte_concentration,
            effective_property(electrolyte.diffusivity(c_e, temperature, mod=ufl_math), efficiency),
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
                return ep.particle_diffusivity(c, temperature, mod=ufl_math)

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

    def _log_concentration_block(self, test):
        """The stored concentration is c_e0 exp(u) at every node (lumped: vertex quadrature).

            int (c_e / c_e0 - (exp(u) - eps exp(-u))) w dx_vertex = 0   for every P1 w,

        divided by the mean nodal volume of the electrolyte, so the residual is the nodal
        mismatch relative to c_e0. The laws' concentration c_e0 exp(u) is then
        (c_e + sqrt(c_e^2 + 4 eps c_e0^2)) / 2 at every node: c_e itself to eps (c_e0 / c_e)^2
        relative (1e-2 at c_e = 1e-6 c_e0, the depletion threshold; 1e-8 at 1e-3 c_e0), positive,
        sqrt(eps) c_e0 = 1e-7 c_e0 where the stored concentration is 0, for any c_e (eps =
        :data:`LOG_CONCENTRATION_EPSILON`). The integral of the stored concentration (the
        electrolyte's lithium) changes only through the sources.

        Without eps (exp(u) alone) u had no lower bound: where the salt balance takes c_e to
        round-off about 0 (a depleted region, |c_e| ~ 1e-13 c_e0) u ran off to -34..-44, its
        column of the Jacobian fell to exp(u) ~ 1e-15 of the others, Newton's updates of u and
        of the potentials blew up and the 3D pouch at 3C (cases/pouch-3d-thermal-3C) failed on
        NaN at 556.73 s. With eps the column, exp(u) + eps exp(-u), is at least 2 sqrt(eps) =
        2e-7, and u is -16.1 where c_e = 0 (below that only where c_e < 0: exp(u) ~ eps c_e0 /
        |c_e|).

        eps was 1e-18 (a floor of 1e-9 c_e0) first. The salt flux -D_eff c_e0 exp(u) grad u
        into a depleted node is then weighted by the laws' concentration at the quadrature
        points, about the geometric mean of the two nodes' (not their logarithmic mean, the
        exact one): where a discharge had left the stored concentration a little below zero
        (-2e-6 c_e0, u ~ -28), the charge after it refilled the node ever so slowly, and the
        3C charge of the cycling bench on the default 20-cell mesh took 2126 steps for 77 s,
        every rejection a Newton failure (u's updates blowing up), none the error test; and
        that charge lasted 8.33 s at 4C against 7.23 s with 1e-14 and 6.98 s on 80 cells
        (where eps does not matter). With 1e-14 the same cycle takes 394 steps instead of
        2354, and 1C runs are unchanged to the digits shown (bench/README.md, "The
        log-concentration tie's eps").
        """
        volume = self.electrolyte_volume_m3
        space = self.unknowns["electrolyte_log_concentration"].space
        nodes = space.dofmap.index_map.size_global
        stored = self.unknowns["electrolyte_concentration"].function
        log_concentration = self.unknowns["electrolyte_log_concentration"].function
        law = ufl.exp(log_concentration) - LOG_CONCENTRATION_EPSILON * ufl.exp(-log_concentration)
        return (nodes / volume) * ((stored - law) * test * self.dx_vertex_electrolyte)
