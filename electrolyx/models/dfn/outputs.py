"""What a DFN cell reports: voltage, integrals, profiles and maps, all from the solver's forms.

Every output is computed from the UFL expressions of :mod:`electrolyx.models.dfn.problem`
(assembled integrals, or nodal values by :class:`electrolyx.nodal_values.NodalValues`): the
reaction current, overpotential, exchange current and open-circuit potential that the residual
uses, never retyped in numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

from mpi4py import MPI

import numpy as np
import ufl
from dolfinx import fem

from electrolyx.forms import ufl_math
from electrolyx.forms.mechanics import (
    crack_roughness_ratio,
    particle_centre_radial_stress,
    particle_surface_hoop_stress,
)
from electrolyx.forms.particle_diffusion import (
    particle_average_concentration,
    particle_surface_concentration,
)
from electrolyx.forms.reactions import DoubleLayer
from electrolyx.forms.solid_conduction import solid_current_density
from electrolyx.jit import forms
from electrolyx.nodal_values import NodalValues
from electrolyx.ts_integrator import AffineIndicator

from .degradation_outputs import DegradationOutputs
from .geometry import LITHIUM
from .problem import DFNProblem
from .thermal import ThermalOutputs

__all__ = ["CRACK_FIELDS", "MECHANICS_FIELDS", "NODAL_FIELDS", "DFNOutputs"]

#: Fields of :meth:`DFNOutputs.nodal_fields` (maps over the whole cell, NaN where undefined).
NODAL_FIELDS = (
    "electrolyte_concentration_mol_m3",
    "electrolyte_potential_V",
    "solid_potential_V",
    "particle_surface_concentration_mol_m3",
    "particle_stoichiometry",
    "interfacial_current_density_A_m2",
    "overpotential_V",
    "exchange_current_density_A_m2",
    "open_circuit_potential_V",
)

#: Fields of each electrode in :meth:`DFNOutputs.profiles`, prefixed by "negative_"/"positive_".
ELECTRODE_PROFILE_FIELDS = (
    "electrode_potential_V",
    "particle_surface_concentration_mol_m3",
    "particle_stoichiometry",
    "interfacial_current_density_A_m2",
    "overpotential_V",
    "exchange_current_density_A_m2",
    "open_circuit_potential_V",
)

#: Fields added to the maps and each electrode's profiles by particle mechanics.
MECHANICS_FIELDS = (
    "particle_surface_hoop_stress_Pa",
    "particle_centre_radial_stress_Pa",
)

#: Fields added to the maps and each cracking electrode's profiles (swelling-and-cracking).
CRACK_FIELDS = ("particle_crack_length_m",)


@dataclass(frozen=True)
class RowIntegrals:
    """The integrals of an output row (:meth:`DFNOutputs.row_integrals`), summed over ranks.

    ``terminal_potential``: as :meth:`DFNOutputs.terminal_potential`; ``lithium``: as
    :meth:`DFNOutputs.lithium_integrals`; ``dissolved``: the dissolved lithium's integral
    (None without a counter electrode); ``side_reactions``: each side-reaction state's lithium
    integral, by state.
    """

    terminal_potential: float
    lithium: list[float]
    dissolved: float | None
    side_reactions: dict[str, float]


class DFNOutputs:
    """Integrals, profiles and nodal maps of a :class:`DFNProblem` at its present state."""

    def __init__(self, problem: DFNProblem):
        self.problem = problem
        layout = problem.layout
        maps = problem.entity_maps
        compile_ = lambda form: fem.form(form, entity_maps=maps)  # noqa: E731
        one = fem.Constant(layout.mesh, 1.0)
        ds = problem.ds
        positive = problem.unknowns[problem.electrode["positive"].potential]
        terminal = layout.tag(layout.positive_terminal)
        reaction_names = list(problem.reaction_current)
        # The integrals read at every output row, compiled as one module (electrolyx.jit).
        lithium, dissolved, reaction, terminal_potential = forms(
            [
                list(problem.lithium_forms),
                problem.dissolved_form,
                [source * measure for source, measure in problem.reaction_current.values()],
                positive.function / problem.terminal_area_m2 * ds(terminal),
            ],
            entity_maps=maps,
        )
        self._lithium = lithium
        #: Lithium plating and SEI: lithium lost, plating current, SEI thickness.
        self.degradation = DegradationOutputs(problem, self._lithium[1:])
        #: The side reactions' maps (plated and dead lithium, plating overpotential and
        #: current, SEI thickness and current; each where its electrode has it).
        self._side_reaction_fields = tuple(
            dict.fromkeys(
                name for e in problem.electrodes for name in self.degradation.profile_expressions(e)
            )
        )
        self._dissolved = dissolved
        self._reaction = dict(zip(reaction_names, reaction, strict=True))
        # Electrode volumes [m3 per m2 in 1D]: the mesh does not move, assembled once.
        volumes = forms([one * problem.dx_vertex(e.tag) for e in problem.electrodes])
        self._volumes = {
            e.name: problem.integral(volume)
            for e, volume in zip(problem.electrodes, volumes, strict=True)
        }
        # Terminal voltage: the mean of phi_s over the positive terminal (in 1D its value).
        self._terminal_potential = terminal_potential
        # The forms row_integrals reads in one call: the terminal potential, the lithium, the
        # dissolved lithium (a half cell), each side-reaction state's lithium.
        dissolved_forms = () if dissolved is None else (dissolved,)
        self._row_forms = (
            terminal_potential,
            *lithium,
            *dissolved_forms,
            *self.degradation.lithium_forms,
        )
        self._row_counts = (len(lithium), len(dissolved_forms))
        if problem.counter_electrode is not None:
            counter = ds(layout.tag(LITHIUM))
            area = problem.integral(fem.form(one * counter))
            eta = problem.balances[LITHIUM].reactions["lithium_metal"].outputs["overpotential_V"]
            self._counter_overpotential = compile_(eta / area * counter)
        self._nodal: dict[int, NodalValues] = {}
        self._profile_space = fem.functionspace(layout.mesh, ("Lagrange", 1))
        # its owned nodes' x and whether each is on the profile's line (_gather)
        self._profile_nodes: tuple[np.ndarray, np.ndarray] | None = None
        self._collector_forms = None
        #: Coordinates of the electrolyte's dofs (tabulated at the first row that asks).
        self._electrolyte_coordinates: np.ndarray | None = None
        #: Whether any electrode's particle stresses are outputs.
        self.mechanics = problem.mechanics.any_swelling
        self._stress: NodalValues | None = None
        self._stress_average: dict[str, fem.Form] = {}
        if self.mechanics:
            # The surface hoop stresses and (cracking electrodes) the crack lengths.
            stresses = {
                name: value
                for name, value in self._expressions().items()
                if name.endswith(("particle_surface_hoop_stress_Pa", "particle_crack_length_m"))
            }
            self._stress = NodalValues(self._profile_space, stresses, maps)
            self._stress_average = {
                name: compile_(value * measure) for name, (value, measure) in stresses.items()
            }
            for electrode in problem.electrodes:
                if electrode.cracking is not None:
                    # Crack faces [m2 per m2 of modelled area] and the mean roughness ratio.
                    area = problem.crack_surface_area[electrode.side]
                    measure = problem.dx_vertex(electrode.tag)
                    roughness = crack_roughness_ratio(
                        problem.value(electrode.crack_length), electrode.cracking
                    )
                    self._stress_average[f"{electrode.side}_crack_surface_area_m2"] = compile_(
                        area * measure
                    )
                    self._stress_average[f"{electrode.side}_electrode_roughness_ratio"] = compile_(
                        roughness * measure
                    )
        #: Heat by source, temperatures and energy balance (:mod:`.thermal`).
        self.thermal = ThermalOutputs(problem, problem.heat_sources)
        self._thickness = None
        electrodes = problem.electrodes
        swelling = all(problem.mechanics.swelling(e.side) for e in electrodes)
        if swelling and all(e.params.volume_change is not None for e in electrodes):
            # Ai et al. (2020), PyBaMM's "Cell thickness change [m]": each electrode's
            # thickness grows by int eps_s [dV/V(x_avg) - dV/V(x_avg at t = 0)] dx / A.
            change = sum(
                3.0 * self._swelling_strain(e) * problem.dx_vertex(e.tag) for e in electrodes
            )
            self._thickness = compile_(change)

    @property
    def nodal_field_names(self) -> tuple[str, ...]:
        """Names of the whole-cell maps: :data:`NODAL_FIELDS` and what the model adds.

        The stresses if asked for, the temperature of a thermal model, the side reactions'
        fields (plated lithium, plating overpotential, SEI, ...).
        """
        swelling = ("electrode_swelling_strain",) if self._thickness is not None else ()
        temperature = ("temperature_K",) if self.problem.thermal is not None else ()
        cracks = CRACK_FIELDS if self.problem.crack_lengths else ()
        mechanics = MECHANICS_FIELDS + swelling + cracks if self.mechanics else ()
        return NODAL_FIELDS + mechanics + temperature + self._side_reaction_fields

    # ------------------------------------------------------------ integrals
    def terminal_potential(self) -> float:
        """Mean of the positive phi_s unknown (scaled, without offset) over the terminal."""
        return self.problem.integral(self._terminal_potential)

    def voltage(self, terminal_potential: float | None = None) -> float:
        """Terminal voltage phi_s(L) - phi_s(0), or phi_s(L) - phi_Li in a half cell [V].

        From ``terminal_potential`` (:meth:`terminal_potential` at the present state) when given.
        """
        if terminal_potential is None:
            terminal_potential = self.terminal_potential()
        offset = float(self.problem.potential_offset.value)
        return (terminal_potential + offset) * self.problem.thermal_voltage_ref

    def voltage_limit(self, direction: float, cut_off_V: float) -> AffineIndicator:
        """The event direction (V - cut_off_V) as an affine indicator.

        :meth:`voltage`'s terms in its order: the same value bit for bit.
        """
        problem = self.problem
        return AffineIndicator(
            form=self._terminal_potential,
            scale=problem.thermal_voltage_ref,
            cut=cut_off_V,
            sign=direction,
            offset=problem.potential_offset,
        )

    def current_limit(self, electrode: str, limit_A: float) -> AffineIndicator:
        """The event |I| - limit_A as an affine indicator, I the reaction current of ``electrode``.

        :meth:`reaction_current_A`'s value, bit for bit: the cell current under voltage control.
        """
        return AffineIndicator(
            form=self._reaction[electrode],
            scale=self.problem.layout.area_scale,
            cut=limit_A,
            absolute=True,
        )

    def row_integrals(self) -> RowIntegrals:
        """The integrals an output row reads, at the present state: one call, one reduction.

        Each the same value, bit for bit, as the method that reads it alone gives
        (:meth:`terminal_potential`, :meth:`lithium_integrals`, the dissolved lithium's
        integral, each side-reaction state's lithium): a compiled scalar form's value does not
        depend on the forms read with it. One call instead of four saves ~15 us of Python a
        row, and the cycling DFN records a row at each of its ~320 steps a cycle.
        """
        problem = self.problem
        lithium, dissolved = self._row_counts
        values = problem.sum_over_ranks(problem.local_integrals(self._row_forms))
        side = values[1 + lithium + dissolved :]
        return RowIntegrals(
            terminal_potential=values[0],
            lithium=values[1 : 1 + lithium],
            dissolved=values[1 + lithium] if dissolved else None,
            side_reactions=dict(zip(self.degradation.lithium_states, side, strict=True)),
        )

    def lithium_overpotential_V(self) -> float:
        """Half cell: overpotential of the lithium metal eta_Li = phi_Li - phi_e(0) - 0 [V]."""
        if self.problem.counter_electrode is None:
            raise ValueError("a full cell has no lithium counter electrode")
        return self.problem.integral(self._counter_overpotential)

    def lithium_integrals(self) -> list[float]:
        """Lithium of the electrolyte, then of each electrode's particles: int c dx [mol/m2 in 1D].

        Collective: all of them summed over the ranks in one reduction.
        """
        problem = self.problem
        return problem.sum_over_ranks(problem.local_integrals(self._lithium))

    def lithium_mol(self, integrals: list[float] | None = None) -> float:
        """Lithium in the electrolyte and all particles [mol].

        From ``integrals`` (:meth:`lithium_integrals` at the present state) when given.
        """
        integrals = self.lithium_integrals() if integrals is None else integrals
        return sum(integrals) * self.problem.layout.area_scale

    def lithium_dissolved_mol(self, row: RowIntegrals | None = None) -> float:
        """Half cell: lithium dissolved from the metal since t = 0 (full cell: 0) [mol].

        From ``row`` (:meth:`row_integrals` at the present state) when given.
        """
        if self._dissolved is None:
            return 0.0
        integral = self.problem.integral(self._dissolved) if row is None else row.dissolved
        return integral * self.problem.layout.area_scale

    def reaction_current_A(self) -> dict[str, float]:
        """Integral of a_s j over each electrode (j_Li over the metal), whole cell [A]."""
        scale = self.problem.layout.area_scale
        problem = self.problem
        values = problem.sum_over_ranks(problem.local_integrals(self._reaction.values()))
        return {name: value * scale for name, value in zip(self._reaction, values, strict=True)}

    def minimum_electrolyte_concentration(self) -> tuple[float, np.ndarray]:
        """Smallest nodal electrolyte concentration [mol/m3] and its node's position [m].

        Collective: the same on every rank.
        """
        space = self.problem.unknowns["electrolyte_concentration"].space
        owned = space.dofmap.index_map.size_local
        values = self.problem.electrolyte_concentration_array()[:owned]
        k = int(np.argmin(values)) if owned else 0
        if self._electrolyte_coordinates is None:
            self._electrolyte_coordinates = space.tabulate_dof_coordinates()
        gdim = space.mesh.geometry.dim
        comm = self.problem.comm
        if comm.size == 1:
            return float(values[k]), self._electrolyte_coordinates[k, :gdim].copy()
        local = (float(values[k]) if owned else np.inf, comm.rank)
        value, rank = comm.allreduce(local, op=MPI.MINLOC)
        position = self._electrolyte_coordinates[k] if owned else None
        position = comm.bcast(position, root=rank)
        return value, np.asarray(position[:gdim])

    def average_particle_concentration_mol_m3(
        self, integrals: list[float] | None = None
    ) -> tuple[float, float]:
        """Electrode-averaged particle concentrations (negative, positive) [mol/m3].

        The negative one is NaN in a half cell. From ``integrals`` (:meth:`lithium_integrals`
        at the present state) when given.
        """
        problem = self.problem
        integrals = self.lithium_integrals() if integrals is None else integrals
        values = [] if "negative" in problem.electrode else [float("nan")]
        for electrode, particles in zip(problem.electrodes, integrals[1:], strict=True):
            eps_s = electrode.params.active_material_volume_fraction
            volume = self._volumes[electrode.name]
            values.append(particles / (eps_s * volume))
        return values[0], values[1]

    def particle_stresses_Pa(self) -> dict[str, float]:
        """Surface hoop stress of each electrode's particles, averaged and extremes [Pa].

        The average over the electrode and the extremes over its nodes (collective). Keys
        ``{side}_particle_surface_hoop_stress_Pa``, ``..._min_Pa``, ``..._max_Pa``; empty
        without particle mechanics.
        """
        if self._stress is None:
            return {}
        problem = self.problem
        nodal = self._stress.evaluate()
        owned = self._profile_space.dofmap.index_map.size_local
        result = {}
        for electrode in problem.electrodes:
            if not problem.mechanics.swelling(electrode.side):
                continue
            name = f"{electrode.side}_particle_surface_hoop_stress_Pa"
            volume = self._volumes[electrode.name]
            result[name] = problem.integral(self._stress_average[name]) / volume
            low, high = self._extremes(nodal[name][:owned])
            result[name.replace("_Pa", "_min_Pa")] = low
            result[name.replace("_Pa", "_max_Pa")] = high
        return result

    def _extremes(self, values: np.ndarray) -> tuple[float, float]:
        """Minimum and maximum over all ranks of the defined (not NaN) owned values."""
        comm = self.problem.comm
        values = values[~np.isnan(values)]
        low = values.min() if values.size else np.inf
        high = values.max() if values.size else -np.inf
        return comm.allreduce(low, op=MPI.MIN), comm.allreduce(high, op=MPI.MAX)

    def particle_cracks(self) -> dict[str, float]:
        """Crack length of each cracking electrode's particles and the crack surface (collective).

        Keys ``{side}_particle_crack_length_m`` (average over the electrode),
        ``..._max_m`` (largest over its nodes), ``{side}_crack_surface_area_m2`` (the crack
        faces int a_cr dx of the whole cell, PyBaMM's crack surface to volume ratio
        integrated), ``{side}_electrode_roughness_ratio`` (average of 1 + a_cr / a_s); empty
        without cracking.
        """
        problem = self.problem
        if not problem.crack_lengths:
            return {}
        nodal = self._stress.evaluate()
        owned = self._profile_space.dofmap.index_map.size_local
        result = {}
        for electrode in problem.electrodes:
            if electrode.cracking is None:
                continue
            side, volume = electrode.side, self._volumes[electrode.name]
            name = f"{side}_particle_crack_length_m"
            result[name] = problem.integral(self._stress_average[name]) / volume
            result[f"{side}_particle_crack_length_max_m"] = self._extremes(nodal[name][:owned])[1]
            area = problem.integral(self._stress_average[f"{side}_crack_surface_area_m2"])
            result[f"{side}_crack_surface_area_m2"] = area * problem.layout.area_scale
            roughness = problem.integral(self._stress_average[f"{side}_electrode_roughness_ratio"])
            result[f"{side}_electrode_roughness_ratio"] = roughness / volume
        return result

    def _swelling_strain(self, electrode):
        """Free linear swelling strain of the electrode (UFL), or None.

        eps_s [dV/V(x_avg) - dV/V(x_avg,0)] / 3; None without mechanics or volume change.
        """
        ep = electrode.params
        if not self.problem.mechanics.swelling(electrode.side) or ep.volume_change is None:
            return None
        c_max = ep.max_concentration_mol_m3
        c_s = self.problem.value(electrode.concentration)
        average = particle_average_concentration(c_s, electrode.grid)
        initial = float(ep.volume_change(ep.initial_concentration_mol_m3 / c_max))
        swelling = ep.volume_change(average / c_max, mod=ufl_math) - initial
        return ep.active_material_volume_fraction * swelling / 3.0

    @property
    def has_thickness_change(self) -> bool:
        """Whether :meth:`cell_thickness_change_m` is defined (mechanics, volume changes)."""
        return self._thickness is not None

    def cell_thickness_change_m(self) -> float:
        """Thickness change of the electrode stack since t = 0 [m] (Ai et al. 2020).

        The sum over the electrodes of int eps_s [dV/V(x_avg) - dV/V(x_avg,0)] dx over the
        modelled area, x_avg the particles' mean stoichiometry: each particle's volume change
        taken up through the electrode's thickness alone, times the set's electrode pairs in
        parallel (PyBaMM's "Cell thickness change [m]"; without its thermal expansion).
        """
        if self._thickness is None:
            raise ValueError("no thickness change: needs particle mechanics and volume changes")
        pairs = self.problem.parameters.electrodes_in_parallel
        return pairs * self.problem.integral(self._thickness) / self.problem.layout.modelled_area_m2

    # -------------------------------------------------------------- nodal values
    def _expressions(self) -> dict[str, tuple]:
        """Name -> (UFL expression, vertex measure) of every nodal output."""
        problem = self.problem
        dxv = problem.dx_vertex
        expressions = {
            "electrolyte_concentration_mol_m3": (
                problem.electrolyte_law_concentration
                if problem.log_electrolyte
                else problem.value("electrolyte_concentration"),
                problem.dx_vertex_electrolyte,
            ),
            "electrolyte_potential_V": (
                problem.value("electrolyte_potential"),
                problem.dx_vertex_electrolyte,
            ),
        }
        if problem.thermal is not None:
            expressions["temperature_K"] = (problem.temperature, dxv)
        for electrode in problem.electrodes:
            side, measure = electrode.side, dxv(electrode.tag)
            conductor = measure
            if electrode.foil is not None:
                conductor = dxv((electrode.tag, problem.layout.tag(electrode.foil[0])))
            phi_s = problem.value(electrode.potential)
            c_s = problem.value(electrode.concentration)
            c_max = electrode.params.max_concentration_mol_m3
            balance = problem.balances[electrode.name]
            intercalation = balance.reactions["intercalation"].outputs
            fields = {
                "electrode_potential_V": (phi_s, measure),
                "solid_potential_V": (phi_s, conductor),
                "particle_surface_concentration_mol_m3": (
                    particle_surface_concentration(c_s),
                    measure,
                ),
                "particle_stoichiometry": (
                    particle_average_concentration(c_s, electrode.grid) / c_max,
                    measure,
                ),
                "interfacial_current_density_A_m2": (
                    intercalation["intercalation_current_density_A_m2"],
                    measure,
                ),
                "overpotential_V": (intercalation["overpotential_V"], measure),
                "exchange_current_density_A_m2": (
                    intercalation["exchange_current_density_A_m2"],
                    measure,
                ),
                "open_circuit_potential_V": (intercalation["open_circuit_potential_V"], measure),
            }
            if any(isinstance(r, DoubleLayer) for r in electrode.reactions):
                current = balance.reactions["double_layer"].outputs
                fields["double_layer_current_density_A_m2"] = (
                    current["double_layer_current_density_A_m2"],
                    measure,
                )
            fields.update(
                {
                    name: (value, measure)
                    for name, value in self.degradation.profile_expressions(electrode).items()
                }
            )
            swelling = self._swelling_strain(electrode)
            if swelling is not None:
                fields["electrode_swelling_strain"] = (swelling, measure)
            if electrode.cracking is not None:
                fields["particle_crack_length_m"] = (
                    problem.value(electrode.crack_length),
                    measure,
                )
            if self.problem.mechanics.swelling(electrode.side):
                material, grid = electrode.material, electrode.grid
                fields["particle_surface_hoop_stress_Pa"] = (
                    particle_surface_hoop_stress(c_s, grid, material),
                    measure,
                )
                fields["particle_centre_radial_stress_Pa"] = (
                    particle_centre_radial_stress(c_s, grid, material),
                    measure,
                )
            expressions.update({f"{side}_{name}": value for name, value in fields.items()})
        return expressions

    def _nodal_values(self, space: fem.FunctionSpace) -> dict[str, np.ndarray]:
        key = id(space)
        if key not in self._nodal:
            self._nodal[key] = NodalValues(space, self._expressions(), self.problem.entity_maps)
        return self._nodal[key].evaluate()

    def nodal_fields(self, space: fem.FunctionSpace) -> dict[str, np.ndarray]:
        """:data:`NODAL_FIELDS` at the local nodes of a scalar P1 space of the cell mesh.

        Electrolyte concentration and potential, solid potential (electrodes and foils),
        particle surface concentration, particle-average stoichiometry (the local state of
        charge), intercalation current density j, its overpotential, exchange current density
        and open-circuit potential (with particle mechanics also the particles' surface hoop
        and centre radial stress); SI units, NaN where a field is not defined.
        """
        values = self._nodal_values(space)
        fields = {}
        for name in self.nodal_field_names:
            if name in values:
                fields[name] = values[name]
                continue
            merged = np.full(
                space.dofmap.index_map.size_local + space.dofmap.index_map.num_ghosts, np.nan
            )
            for electrode in self.problem.electrodes:
                part = values.get(f"{electrode.side}_{name}")
                if part is not None:  # (mechanics chosen per electrode)
                    merged = np.where(np.isnan(merged), part, merged)
            fields[name] = merged
        return fields

    def profiles(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Profiles across the cell: name -> (x [m], value), SI units (collective).

        In 2D/3D along the through-stack line of the mesh nearest the electrodes' middle.
        """
        values = self._nodal_values(self._profile_space)
        result = {}
        for name in ("electrolyte_concentration_mol_m3", "electrolyte_potential_V"):
            result[name] = self._gather(values[name])
        if "temperature_K" in values:
            result["temperature_K"] = self._gather(values["temperature_K"])
        # (fields an electrode does not have are skipped below)
        electrode_fields = ELECTRODE_PROFILE_FIELDS + MECHANICS_FIELDS + CRACK_FIELDS
        electrode_fields += ("electrode_swelling_strain",)
        for electrode in self.problem.electrodes:
            side_fields = tuple(self.degradation.profile_expressions(electrode))
            for field in electrode_fields + side_fields:
                name = f"{electrode.side}_{field}"
                if name in values:  # (mechanics chosen per electrode)
                    result[name] = self._gather(values[name])
            if f"{electrode.side}_double_layer_current_density_A_m2" in values:
                name = f"{electrode.side}_double_layer_current_density_A_m2"
                result[name] = self._gather(values[name])
        return result

    def _gather(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(x, value) of the owned nodes where the value is defined, over all ranks, by x."""
        space = self._profile_space
        layout = self.problem.layout
        owned = space.dofmap.index_map.size_local
        if self._profile_nodes is None:
            # The owned nodes' coordinates, and those on the profile's line (2D/3D): the mesh
            # does not move (tabulated once, not at each of the ~20 fields of each profile).
            coordinates = space.tabulate_dof_coordinates()[:owned]
            on_line = np.ones(owned, dtype=bool)
            if layout.geometry is not None:
                gdim = layout.mesh.geometry.dim
                tolerance = 1e-9 * layout.geometry.height_m
                on_line = np.all(
                    np.abs(coordinates[:, 1:gdim] - layout.profile_point) < tolerance, axis=1
                )
            self._profile_nodes = (coordinates[:, 0].copy(), on_line)
        x, on_line = self._profile_nodes
        values = values[:owned]
        keep = on_line & ~np.isnan(values)
        comm = self.problem.comm
        if comm.size == 1:
            xs, vs = x[keep], values[keep]
        else:
            xs = np.concatenate(comm.allgather(x[keep]))
            vs = np.concatenate(comm.allgather(values[keep]))
        order = np.argsort(xs, kind="stable")
        return xs[order], vs[order]

    def collector_current_density(self, space: fem.FunctionSpace) -> np.ndarray:
        """i_s = -sigma_cc grad(phi_s) in the foils at the nodes of a P1 vector space [A/m2].

        Nodal averages of the cell values (lumped L2 projection over the foil cells); NaN off
        the foils. Shape (local nodes, gdim).
        """
        problem = self.problem
        gdim = problem.layout.mesh.geometry.dim
        if self._collector_forms is None:
            test = ufl.TestFunction(space)
            numerator = denominator = None
            for electrode in problem.electrodes:
                if electrode.foil is None:
                    continue
                name, conductivity = electrode.foil
                measure = problem.dx_vertex(problem.layout.tag(name))
                current = solid_current_density(problem.value(electrode.potential), conductivity)
                terms = (ufl.inner(current, test) * measure, test[0] * measure)
                if numerator is None:
                    numerator, denominator = terms
                else:
                    numerator, denominator = numerator + terms[0], denominator + terms[1]
            self._collector_forms = (
                ()
                if numerator is None
                else (
                    fem.form(numerator, entity_maps=problem.entity_maps),
                    fem.form(denominator),
                )
            )
        size = space.dofmap.index_map.size_local + space.dofmap.index_map.num_ghosts
        result = np.full((size, gdim), np.nan)
        if not self._collector_forms:
            return result
        import dolfinx

        vectors = []
        for compiled in self._collector_forms:
            vector = fem.assemble_vector(compiled)
            vector.scatter_reverse(dolfinx.la.InsertMode.add)
            vector.scatter_forward()
            vectors.append(vector.array.reshape(size, gdim))
        weight = vectors[1][:, :1]
        inside = weight[:, 0] > 0
        result[inside] = vectors[0][inside] / weight[inside]
        return result
