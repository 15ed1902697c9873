"""What lithium plating and SEI growth report: lithium lost, plating current, SEI thickness.

Every number is an assembled integral of the expressions the solver uses (the reactions'
states and currents, :mod:`electrolyx.forms.reactions.lithium_plating` and ``.sei_growth``):

    plated lithium      int c_Li + c_dead dx                 [mol]   (x F / 3600: [A h])
    SEI lithium         int a_s z_SEI (L_SEI - L_SEI,0) / V_SEI dx  [mol]
    plating current     int a_s j_Li dx                      [A]     (< 0 while plating)
    SEI thickness       int L_SEI dx / int dx                [m]     (electrode average)
    SEI on cracks Li    int z_SEI (n_cr - n_cr,0) dx         [mol]
    SEI on cracks thickness  int n_cr V_SEI / a_cr dx / int dx  [m]  (electrode average)
    loss of lithium inventory  100 (plated + SEI + cracks) / (particles + plated + SEI +
                               cracks)  [%]

The plating onset is the first row at which the plating overpotential phi_s - phi_e (with the
film's eta_film, the expression the plating law uses) is negative at a node of the negative
electrode: the time where the electrode's minimum crosses zero (linear between that row and
the one before), the node's position and the value at that row (``plating_onset``), and each
row's minimum over the electrode (``min_negative_plating_overpotential_V``).

The last is PyBaMM's "Loss of lithium inventory [%]", 100 (1 - n_particles / n_particles,0):
the side reactions take their lithium from the electrolyte, which the intercalation current
refills, so the particles lose exactly the lithium the side reactions hold.
"""

from __future__ import annotations

import numpy as np
from dolfinx import fem

from electrolyx.constants import FARADAY
from electrolyx.nodal_values import NodalValues

from .problem import DFNProblem

__all__ = ["DegradationOutputs"]


class DegradationOutputs:
    """Integrals and profiles of the side reactions of a :class:`DFNProblem` (if any)."""

    def __init__(self, problem: DFNProblem, particle_lithium_forms: list[fem.Form]):
        self.problem = problem
        self._particles = particle_lithium_forms
        maps = problem.entity_maps
        compile_ = lambda form: fem.form(form, entity_maps=maps)  # noqa: E731
        #: state unknown -> compiled lithium it holds beyond its initial value
        self._lithium = {
            name: compile_(form) for name, form in problem.reaction_state_lithium_forms.items()
        }
        self._plating_current = {}
        self._sei_thickness = {}
        self._crack_sei_thickness = {}
        self._plating_overpotential = None
        #: The first row with phi_s - phi_e < 0 in the negative electrode (None before).
        self.plating_onset: dict | None = None
        self._last_minimum: tuple[float, float] | None = None
        one = fem.Constant(problem.layout.mesh, 1.0)
        for electrode in problem.electrodes:
            measure = problem.dx_vertex(electrode.tag)
            reactions = problem.balances[electrode.name].reactions
            a_s = electrode.params.specific_surface_area_1_m
            if "lithium_plating" in reactions:
                current = reactions["lithium_plating"].current_density
                self._plating_current[electrode.side] = compile_(a_s * current * measure)
                overpotential = reactions["lithium_plating"].outputs["plating_overpotential_V"]
                space = fem.functionspace(problem.layout.mesh, ("Lagrange", 1))
                self._plating_overpotential = NodalValues(
                    space, {"eta": (overpotential, measure)}, maps
                )
            name = f"sei_thickness_{electrode.side}"
            if name in problem.unknowns:
                volume = problem.integral(fem.form(one * measure))
                self._sei_thickness[electrode.side] = compile_(
                    problem.value(name) / volume * measure
                )
            if electrode.crack_sei is not None:
                volume = problem.integral(fem.form(one * measure))
                thickness = problem.crack_sei_thickness(electrode)
                self._crack_sei_thickness[electrode.side] = compile_(thickness / volume * measure)

    @property
    def active(self) -> bool:
        """Whether the cell has side reactions that hold lithium."""
        return bool(self._lithium)

    def _mol(self, prefix: str, lithium: dict[str, float] | None = None) -> float:
        """Lithium of the states whose names start with ``prefix`` [mol] (collective).

        From ``lithium`` (each state's integral, summed over the ranks) when given.
        """
        if lithium is None:
            lithium = dict(zip(self._lithium, self._integrals(self._lithium.values()), strict=True))
        total = sum(value for name, value in lithium.items() if name.startswith(prefix))
        return total * self.problem.layout.area_scale

    def _integrals(self, forms) -> list[float]:
        """The integrals of ``forms``, summed over the ranks in one reduction (collective)."""
        problem = self.problem
        return problem.sum_over_ranks(problem.local_integrals(forms))

    @property
    def has_plating(self) -> bool:
        """Whether the cell has lithium plating."""
        return self._plating_overpotential is not None

    @property
    def lithium_states(self) -> tuple[str, ...]:
        """The side-reaction states that hold lithium, in the order of :attr:`lithium_forms`."""
        return tuple(self._lithium)

    @property
    def lithium_forms(self) -> tuple[fem.Form, ...]:
        """Each state's compiled lithium beyond its initial value (by :attr:`lithium_states`)."""
        return tuple(self._lithium.values())

    def side_reaction_lithium_mol(self, lithium: dict[str, float] | None = None) -> float:
        """Lithium held by all side reactions beyond their initial state [mol].

        From ``lithium`` (each state's integral summed over the ranks, as
        :meth:`DFNOutputs.row_integrals` gives them) when given.
        """
        if not self._lithium:
            return 0.0
        return self._mol("", lithium)

    def values(self) -> dict[str, float]:
        """Timeseries columns of the side reactions (empty without side reactions)."""
        if not self.active:
            return {}
        scale = self.problem.layout.area_scale
        # Every integral of the row once, summed over the ranks in one reduction.
        forms = {
            **{("lithium", name): form for name, form in self._lithium.items()},
            **{("particles", k): form for k, form in enumerate(self._particles)},
            **{("plating", side): form for side, form in self._plating_current.items()},
            **{("sei", side): form for side, form in self._sei_thickness.items()},
            **{("crack_sei", side): form for side, form in self._crack_sei_thickness.items()},
        }
        totals = dict(zip(forms, self._integrals(forms.values()), strict=True))

        def of(group: str) -> dict:
            return {key: value for (kind, key), value in totals.items() if kind == group}

        lithium, plating = of("lithium"), of("plating")
        sei_thickness, crack_thickness = of("sei"), of("crack_sei")
        dead = self._mol("dead_lithium_concentration", lithium)
        plated = self._mol("plated_lithium_concentration", lithium) + dead
        sei = self._mol("sei_thickness", lithium)
        cracks = self._mol("crack_sei_concentration", lithium)
        particles = sum(of("particles").values()) * scale
        result: dict[str, float] = {}
        if plating:
            result["plated_lithium_mol"] = plated
            result["plated_lithium_Ah"] = plated * FARADAY / 3600.0
            result["dead_lithium_mol"] = dead
            result["plating_current_A"] = sum(plating.values()) * scale
        if sei_thickness:
            result["sei_lithium_mol"] = sei
            for side, value in sei_thickness.items():
                result[f"average_{side}_sei_thickness_m"] = value
        if crack_thickness:
            result["crack_sei_lithium_mol"] = cracks
            for side, value in crack_thickness.items():
                result[f"average_{side}_crack_sei_thickness_m"] = value
        lost = plated + sei + cracks
        result["loss_of_lithium_inventory_percent"] = 100.0 * lost / (particles + lost)
        return result

    def plating_overpotential_minimum(self, time_s: float) -> dict[str, float]:
        """Row column: min of phi_s - phi_e over the negative electrode's nodes [V] (collective).

        The first time it is negative is kept in :attr:`plating_onset` (time, position, value).
        """
        if self._plating_overpotential is None:
            return {}
        nodal = self._plating_overpotential
        values = nodal.evaluate()["eta"][: nodal.space.dofmap.index_map.size_local]
        inside = ~np.isnan(values)
        local = (np.inf, -1)
        if inside.any():
            index = int(np.flatnonzero(inside)[np.argmin(values[inside])])
            local = (float(values[index]), index)
        comm = nodal.space.mesh.comm
        everyone = comm.allgather((local[0], comm.rank))
        minimum, owner = min(everyone)
        previous, self._last_minimum = self._last_minimum, (float(time_s), float(minimum))
        if self.plating_onset is None and minimum < 0.0:
            # Linear in time between the last row (minimum >= 0) and this one.
            onset = float(time_s)
            if previous is not None and previous[1] >= 0.0 and previous[0] < time_s:
                fraction = previous[1] / (previous[1] - minimum)
                onset = previous[0] + fraction * (time_s - previous[0])
            position = None
            if comm.rank == owner:
                position = nodal.space.tabulate_dof_coordinates()[local[1]]
                position = [float(v) for v in position[: nodal.space.mesh.geometry.dim]]
            position = comm.bcast(position, root=owner)
            self.plating_onset = {
                "time_s": onset,
                "row_time_s": float(time_s),
                "position_m": position,
                "plating_overpotential_V": float(minimum),
            }
        return {"min_negative_plating_overpotential_V": float(minimum)}

    def profile_expressions(self, electrode) -> dict:
        """Profile fields of the electrode's side reactions: name -> UFL expression."""
        problem = self.problem
        reactions = problem.balances[electrode.name].reactions
        fields = {}
        for name in ("plated_lithium_concentration", "dead_lithium_concentration"):
            unknown = f"{name}_{electrode.side}"
            if unknown in problem.unknowns:
                fields[f"{name}_mol_m3"] = problem.value(unknown)
        if f"sei_thickness_{electrode.side}" in problem.unknowns:
            fields["sei_thickness_m"] = problem.value(f"sei_thickness_{electrode.side}")
        if "lithium_plating" in reactions:
            outputs = reactions["lithium_plating"].outputs
            fields["lithium_plating_current_density_A_m2"] = outputs[
                "lithium_plating_current_density_A_m2"
            ]
            fields["plating_overpotential_V"] = outputs["plating_overpotential_V"]
        if "sei" in reactions:
            fields["sei_current_density_A_m2"] = reactions["sei"].current_density
        if electrode.crack_sei is not None:
            fields["crack_sei_thickness_m"] = problem.crack_sei_thickness(electrode)
            terms = problem.crack_sei_terms[electrode.side]
            fields["crack_sei_current_density_A_m2"] = terms.current_density
        return fields
