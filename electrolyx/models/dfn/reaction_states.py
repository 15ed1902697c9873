"""The states of the reactions as unknowns: plated and dead lithium, SEI, SEI on cracks.

:class:`ReactionStates` is the part of :class:`~electrolyx.models.dfn.problem.DFNProblem` that
adds a differential (or, for a film's total current, algebraic) unknown per state of each
electrode's reactions and writes its block, d(state)/dt = rate.
"""

from __future__ import annotations

from dataclasses import replace

from dolfinx import fem

from electrolyx.constants import FARADAY
from electrolyx.forms.mechanics import crack_surface_area_per_volume
from electrolyx.forms.reactions import (
    Interface,
    InterfacialBalance,
    reaction_states,
)

from .geometry import (
    DFNResolution,
)


class ReactionStates:
    """Unknowns and blocks of the reactions' own states in :class:`DFNProblem`."""

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
