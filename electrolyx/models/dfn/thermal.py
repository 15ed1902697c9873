"""Thermal coupling of the DFN: heat sources, and a lumped or through-thickness temperature.

Heat sources (always, for the outputs; :mod:`electrolyx.forms.heat_sources`), from the very
expressions the DFN's balances use:

    q_rxn = a_s sum_k j_k eta_k,   q_rev = a_s j T dU/dT,
    q_s = -i_s . grad(phi_s),      q_e = -i_e . grad(phi_e)   (i_e with its diffusion term),

and on a half cell's lithium metal j_Li eta_Li per unit area. The reaction terms use the vertex
quadrature of the reaction sources, the ohmic ones the quadrature of the charge balances.

Thermal models (``[thermal] model``; :mod:`electrolyx.forms.heat_conduction`):

* ``"isothermal"``: T is the constant of the case (no unknowns).
* ``"lumped"``: one temperature for the cell, an unknown of the implicit system (a one-dof
  "Real" space): C dT/dt = Q - h A (T - T_amb), with C = rho_c_p,eff V_cell (rho_c_p,eff the
  thickness-weighted mean over collectors, electrodes and separator), Q the heat of the whole
  cell [W], h the total heat transfer coefficient and A the cooling surface area (PyBaMM's
  "lumped" model with its parameter names).
* ``"x-full"``: a P1 temperature through the thickness of the 1D cell, each region with its
  own rho c_p and lambda; the two current collectors are lumped on the end faces (their heat
  capacity rho_cc c_p,cc L_cc per unit area, isothermal across them) and cooled there with h
  (PyBaMM's "x-full" model with its edge and tab cooling off).
* ``"2d"`` and ``"3d"``: a P1 temperature on the 2D cross-section or the 3D pouch mesh of the
  DFN (:class:`~electrolyx.models.dfn.geometry.CellGeometry`): every layer resolved with its
  own rho c_p and lambda, the foils and their tabs with the collectors' (their ohmic heat is a
  source), so that the stack conducts as a layered medium does, in plane with the
  thickness-weighted mean lambda_in = sum L_i lambda_i / sum L_i and through the plane with the
  series value lambda_through = sum L_i / sum (L_i / lambda_i)
  (:func:`stack_conductivities`). A collector without a resolved foil is lumped on its face
  as in x-full. Each named boundary has its own heat transfer coefficient and ambient
  temperature (:data:`BOUNDARIES`): the two large faces, the tabs' end faces (tab cooling) and
  ``"edges"``, every other outer face (the rim of the stack and the sides of the tabs). The mesh
  stands for one of the cell's identical layer pairs (``area_scale`` of them side by side, as
  for the electrochemistry): heats and energies are the whole cell's.

The ambient temperature may follow a schedule (:class:`AmbientSchedule`, (time, T) pairs,
linear in between): the integrator's time update sets it at every residual evaluation.

The temperature the laws read is the unknown's value: Arrhenius factors of the set (reaction
rates, diffusivities, conductivities), R T / F of the kinetics and of the electrolyte current,
and U = U_ref + (T - T_ref) dU/dT.

For the energy balance two more one-dof unknowns integrate, with the same time steps,

    dE_gen/dt = Q,   dE_rem/dt = cooling [W],

so that stored heat = E_gen - E_rem holds to the Newton tolerance (they are left out of the
local-error control, as the half cell's dissolved lithium is). No other row reads them (the
lumped temperature's reads dE_gen/dt), so Newton iterates without them and they are solved
once it has converged (the integrator's ``quadrature_fields``): their rows are dense, one
entry per unknown of the cell.

The settings live in :mod:`.thermal_model`, the heat sources in :mod:`.thermal_sources`, the
outputs in :mod:`.thermal_outputs`; this module re-exports their public names.
"""

from __future__ import annotations

from mpi4py import MPI

import basix.ufl
import dolfinx.mesh
import numpy as np
import ufl
from dolfinx import fem

from electrolyx.form_sums import sum_forms
from electrolyx.forms.heat_conduction import heat_equation_residual, lumped_energy_balance

from .geometry import (
    NEGATIVE,
    NEGATIVE_COLLECTOR,
    NEGATIVE_FOIL,
    POSITIVE,
    POSITIVE_COLLECTOR,
    POSITIVE_FOIL,
    SEPARATOR,
)
from .thermal_model import (
    BOUNDARIES,
    EDGES,
    THERMAL_MODELS,
    AmbientSchedule,
    BoundaryCooling,
    ThermalModel,
    _ambient_at,
)
from .thermal_outputs import ThermalOutputs
from .thermal_sources import HEAT_SOURCES, heat_sources

__all__ = [
    "BOUNDARIES",
    "EDGES",
    "HEAT_SOURCES",
    "THERMAL_MODELS",
    "AmbientSchedule",
    "BoundaryCooling",
    "CellThermal",
    "ThermalModel",
    "ThermalOutputs",
    "heat_sources",
    "stack_conductivities",
]


def stack_conductivities(layers) -> tuple[float, float]:
    """In-plane and through-plane conductivity of a layered stack [W/(m K)].

    ``layers``: ``(thickness [m], lambda [W/(m K)])`` of each layer. Parallel (in plane) and
    series (through the plane) conduction of the layers:

        lambda_in = sum L_i lambda_i / sum L_i,   lambda_through = sum L_i / sum (L_i / lambda_i).
    """
    total = sum(thickness for thickness, _ in layers)
    in_plane = sum(thickness * conductivity for thickness, conductivity in layers) / total
    through = total / sum(thickness / conductivity for thickness, conductivity in layers)
    return in_plane, through


class CellThermal:
    """Temperature unknowns, energy balance and thermal outputs of a DFN cell.

    Args:
        model: The thermal model (active: lumped or x-full).
        problem: The DFN problem under construction (its unknowns not yet frozen).
    """

    def __init__(self, model: ThermalModel, problem):
        p = problem.parameters
        layout = problem.layout
        self.model = model
        self.problem = problem
        thermal = p.thermal
        missing = thermal.missing(model.model)
        if missing:
            raise ValueError(
                f"thermal model {model.model!r}: the parameter set {p.name!r} lacks "
                + ", ".join(map(repr, missing))
                + " (give them in [parameters.values])"
            )
        dimension = 1 if layout.geometry is None else layout.geometry.dimension
        wanted = {"2d": 2, "3d": 3}.get(model.model, 1)
        if dimension != wanted:
            raise ValueError(
                f"thermal model {model.model!r}: for a {wanted}D cell (this one is {dimension}D)"
            )
        if problem.counter_electrode is not None and model.model != "lumped":
            raise ValueError(f"thermal model {model.model!r}: not for a half cell (use 'lumped')")
        if problem.integrator_kind != "ts":
            raise ValueError("a thermal model needs integrator = 'ts'")
        self.thermal = thermal
        #: T_amb of the model: a number [K] or an :class:`AmbientSchedule`.
        self.ambient_K = (
            p.ambient_temperature_K
            if model.ambient_temperature_K is None
            else model.ambient_temperature_K
        )
        initial = model.initial_temperature_K
        if initial is None:
            initial = thermal.initial_temperature_K or _ambient_at(self.ambient_K, 0.0)
        self.initial_K = float(initial)
        mesh = layout.mesh
        #: h of every boundary without its own [W/(m2 K)].
        self.heat_transfer_coefficient = (
            thermal.total_heat_transfer_coefficient_W_m2_K
            if model.heat_transfer_coefficient_W_m2_K is None
            else model.heat_transfer_coefficient_W_m2_K
        )
        self.ambient = fem.Constant(mesh, _ambient_at(self.ambient_K, 0.0))
        #: (Constant, number or schedule) of every ambient temperature the forms read.
        self._ambients = [(self.ambient, self.ambient_K)]
        real = fem.functionspace(mesh, basix.ufl.real_element(mesh.basix_cell(), dtype=np.float64))
        self.real_space = real
        # Energies scaled by an hour of 1 W per A of 1C current; rows by that power.
        self.power_scale_W = p.one_c_current_A() * 1.0
        energy_scale = self.power_scale_W * 3600.0
        unknowns = problem.unknowns
        # T = 1 K (u + T_0): u is the temperature rise, O(1-10).
        self.offset = fem.Constant(mesh, self.initial_K)
        space = real if model.model == "lumped" else fem.functionspace(mesh, ("Lagrange", 1))
        unknowns.add("temperature", space, 1.0, True, self.offset)
        unknowns.add("heat_generated", real.clone(), energy_scale, True)
        unknowns.add("heat_removed", real.clone(), energy_scale, True)
        problem.conserved += ["temperature", "heat_generated", "heat_removed"]
        problem.unchecked += ["heat_generated", "heat_removed"]
        # No row reads the energies, but the lumped temperature's reads dE_gen/dt (build).
        problem.quadrature += ["heat_removed"]
        if model.model != "lumped":
            problem.quadrature += ["heat_generated"]
        # Collectors and layers: (rho c_p [J/(m3 K)], thickness [m]).
        self._layers = {
            "negative_current_collector": thermal.negative_current_collector_thickness_m,
            "negative_electrode": p.negative.thickness_m,
            "separator": p.separator.thickness_m,
            "positive_electrode": p.positive.thickness_m,
            "positive_current_collector": thermal.positive_current_collector_thickness_m,
        }
        if problem.counter_electrode is not None:
            del self._layers["negative_electrode"]
        geometry = layout.geometry
        #: Collector layer -> its resolved foil region (2D/3D with foils).
        self._foils = {}
        for layer, foil, region in (
            ("negative_current_collector", geometry and geometry.negative_foil, NEGATIVE_FOIL),
            ("positive_current_collector", geometry and geometry.positive_foil, POSITIVE_FOIL),
        ):
            if foil:
                self._layers[layer] = foil.thickness_m
                self._foils[layer] = region

    @property
    def follows_time(self) -> bool:
        """Whether an ambient temperature follows a schedule (:meth:`update` changes one)."""
        return any(isinstance(ambient, AmbientSchedule) for _, ambient in self._ambients)

    def update(self, time_s: float) -> None:
        """Ambient temperatures at ``time_s`` (those that follow a schedule)."""
        for constant, ambient in self._ambients:
            if isinstance(ambient, AmbientSchedule):
                constant.value = ambient(time_s)

    def boundary_cooling(self, name: str) -> tuple[float, fem.Constant]:
        """The heat transfer coefficient [W/(m2 K)] and T_amb constant of boundary ``name``."""
        own = dict(self.model.boundaries).get(name, BoundaryCooling())
        h = own.heat_transfer_coefficient_W_m2_K
        h = self.heat_transfer_coefficient if h is None else h
        if own.ambient_temperature_K is None:
            return h, self.ambient
        constant = fem.Constant(self.problem.layout.mesh, _ambient_at(own.ambient_temperature_K, 0))
        self._ambients.append((constant, own.ambient_temperature_K))
        return h, constant

    def effective_conductivities_W_m_K(self) -> tuple[float, float]:
        """In-plane and through-plane lambda of the layer pair (collectors included)."""
        thermal = self.thermal
        return stack_conductivities(
            [(L, thermal.conductivity_W_m_K(layer)) for layer, L in self._layers.items()]
        )

    def _boundary_measure(self):
        """The measure of the facet groups and EDGES (every other exterior facet); name -> tag."""
        layout = self.problem.layout
        mesh = layout.mesh
        tags = layout.mesh_data.facet_tags
        tdim = mesh.topology.dim
        mesh.topology.create_connectivity(tdim - 1, tdim)
        exterior = dolfinx.mesh.exterior_facet_indices(mesh.topology)
        edges = np.setdiff1d(exterior, tags.indices)
        local_max = int(tags.values.max()) if tags.values.size else 0
        edge_tag = self.problem.comm.allreduce(local_max, op=MPI.MAX) + 1
        indices = np.concatenate([tags.indices, edges]).astype(np.int32)
        values = np.concatenate([tags.values, np.full(edges.size, edge_tag)]).astype(np.int32)
        order = np.argsort(indices)
        facets = dolfinx.mesh.meshtags(mesh, tdim - 1, indices[order], values[order])
        names = {EDGES: edge_tag}
        for name in BOUNDARIES[self.model.model]:
            if name != EDGES and name in layout.mesh_data.physical_groups:
                names[name] = layout.tag(name)
        absent = [name for name, _ in self.model.boundaries if name not in names]
        if absent:
            raise ValueError(f"thermal boundaries {absent}: not on this mesh (no tabs?)")
        # Degree 2, as the cells' dx: exact for h (T - T_amb) v with T and v (bi)linear on
        # the flat faces; UFL's estimate (8 on hexahedra) took 25 points a face.
        measure = ufl.Measure(
            "ds", domain=mesh, subdomain_data=facets, metadata={"quadrature_degree": 2}
        )
        return measure, names

    # ---------------------------------------------------------------- forms
    @property
    def temperature(self):
        """T [K] as UFL (the unknown's value)."""
        return self.problem.value("temperature")

    def build(self, sources: dict[str, list[tuple]], rate) -> dict[str, ufl.Form]:
        """Residual blocks of the temperature and the two energy accumulators."""
        problem = self.problem
        layout = problem.layout
        mesh = layout.mesh
        thermal = self.thermal
        h = self.heat_transfer_coefficient
        area_scale = layout.area_scale
        tests = {
            name: ufl.TestFunction(problem.unknowns[name].space)
            for name in ("temperature", "heat_generated", "heat_removed")
        }
        one = fem.Constant(mesh, 1.0)
        # Spread a global balance [W] evenly over the mesh, so that the Real dof's row is it.
        mesh_volume = problem.integral(fem.form(one * problem.dx))
        spread = 1.0 / mesh_volume
        heat_density = sum_forms(q * tests["heat_generated"] * m for q, m in self._all(sources))
        T = self.temperature
        T_rate = rate("temperature")
        if self.model.model == "lumped":
            capacities = [
                thermal.volumetric_heat_capacity_J_m3_K(layer) * thickness
                for layer, thickness in self._layers.items()
            ]
            mean = sum(capacities) / sum(self._layers.values())
            #: C = rho_c_p,eff V_cell [J/K] and hA [W/K] of the lumped balance.
            self.heat_capacity_J_K = mean * thermal.cell_volume_m3
            self.cooling_W_K = h * thermal.cell_cooling_surface_area_m2
            # Q = dE_gen/dt: the heat enters through the accumulator's rate (its row integrates
            # the sources), so that the temperature's row is not a second dense row of the
            # heat's derivatives with respect to every field (seven Jacobian blocks assembled
            # at every Newton iteration). The same equations: E_gen's row is dE_gen/dt = Q.
            balance = lumped_energy_balance(
                self.heat_capacity_J_K,
                T,
                T_rate,
                rate("heat_generated"),
                self.cooling_W_K,
                self.ambient,
            )
            temperature_form = spread * balance * tests["temperature"] * problem.dx
            cooling = self.cooling_W_K * (T - self.ambient)
            removed = spread * cooling * tests["heat_removed"] * problem.dx
            self._stored = None
            #: The heat removed [W, whole cell] per cooled boundary: the removed heat's rate.
            self.cooling_W: dict[str, ufl.Form] = {"cell": spread * cooling * problem.dx}
        else:
            regions = {
                NEGATIVE: "negative_electrode",
                SEPARATOR: "separator",
                POSITIVE: "positive_electrode",
            }
            regions.update({region: layer for layer, region in self._foils.items()})
            region_terms = [
                (
                    thermal.volumetric_heat_capacity_J_m3_K(layer),
                    thermal.conductivity_W_m_K(layer),
                    problem.dx(layout.tag(name)),
                )
                for name, layer in regions.items()
            ]
            if layout.geometry is None:
                ds = problem.ds
                names = {
                    layout.negative_terminal: layout.tag(layout.negative_terminal),
                    layout.positive_terminal: layout.tag(layout.positive_terminal),
                }
            else:
                ds, names = self._boundary_measure()
            collectors = {
                NEGATIVE_COLLECTOR: "negative_current_collector",
                POSITIVE_COLLECTOR: "positive_current_collector",
            }
            faces = []
            face_names = []
            #: Thickness of the collector lumped on each face [m] (0: none, or resolved).
            self._face_thickness = []
            for name, tag in names.items():
                h, ambient = self.boundary_cooling(name)
                layer = collectors.get(name)
                lumped = layer is not None and layer not in self._foils
                capacity = (
                    thermal.volumetric_heat_capacity_J_m3_K(layer) * self._layers[layer]
                    if lumped
                    else 0.0
                )
                if h == 0.0 and capacity == 0.0:
                    continue  # an adiabatic face with nothing on it
                faces.append((h, ambient, capacity, ds(tag)))
                face_names.append(name)
                self._face_thickness.append(self._layers[layer] if lumped else 0.0)
            self._faces = faces
            self._regions = region_terms
            temperature_form = heat_equation_residual(
                T, T_rate, tests["temperature"], region_terms, self._all(sources), faces
            )
            # Each face's heat flux h (T - T_amb) [W/m2]; d E_rem / dt = area_scale int h
            # (T - T_amb) ds, the faces' cooling [W], and the same per boundary with h > 0
            # (outputs).
            fluxes = [(c, c * (T - amb), ds) for c, amb, _, ds in faces]
            removed = (
                area_scale * sum_forms(flux * tests["heat_removed"] * ds for _, flux, ds in fluxes)
                if faces
                else 0
            )
            self.cooling_W = {
                name: area_scale * flux * ds
                for name, (c, flux, ds) in zip(face_names, fluxes, strict=True)
                if c != 0.0
            }
        generated = spread * rate("heat_generated") * tests["heat_generated"] * problem.dx
        generated -= area_scale * heat_density
        removed = spread * rate("heat_removed") * tests["heat_removed"] * problem.dx - removed
        scale = 1.0 / self.power_scale_W
        if self.model.model != "lumped":
            # Rows of the field per unit area: scaled by the 1C current density times 1 V (in
            # 2D/3D per in-plane column of cells, as the charge balances' rows).
            columns = layout.modelled_area_m2 / layout.in_plane_cell_area_m2
            temperature_form = (area_scale * columns / self.power_scale_W) * temperature_form
        else:
            temperature_form = scale * temperature_form
        return {
            "temperature": temperature_form,
            "heat_generated": scale * generated,
            "heat_removed": scale * removed,
        }

    def absolute_tolerances(self, settings: dict) -> dict[int, float]:
        """The temperature's absolute local-error tolerance: field index -> value [K].

        The unknown is the temperature rise in K (0 at the start). The concentrations, O(1)
        scaled, have an error allowance of about the relative tolerance; the rise gets the
        same against 1 K + rise: rtol (1 K + |rise|), not the absolute tolerance of the
        scaled unknowns (1e-6 K), which alone guarded T while the rise was small (x-full at
        1C: 10 % more steps; the 3D pouch at 3C 56 % more in its first 30 s).
        """
        rtol = settings.get("relative_tolerance", 1e-4)
        atol = settings.get("absolute_tolerance", 1e-6)
        index = self.problem.unknowns.position("temperature")
        return {index: max(atol, rtol * 1.0)}

    @staticmethod
    def _all(sources: dict[str, list[tuple]]) -> list[tuple]:
        return [pair for name in HEAT_SOURCES for pair in sources[name]]

    def initial_values(self) -> dict[str, float]:
        """Scaled initial values of the thermal unknowns."""
        return {"temperature": 0.0, "heat_generated": 0.0, "heat_removed": 0.0}
