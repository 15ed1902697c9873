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

The temperature the laws read is the unknown's value: Arrhenius factors of the set (reaction
rates, diffusivities, conductivities), R T / F of the kinetics and of the electrolyte current,
and U = U_ref + (T - T_ref) dU/dT.

For the energy balance two more one-dof unknowns integrate, with the same time steps,

    dE_gen/dt = Q,   dE_rem/dt = cooling [W],

so that stored heat = E_gen - E_rem holds to the Newton tolerance (they are left out of the
local-error control, as the half cell's dissolved lithium is).
"""

from __future__ import annotations

from dataclasses import dataclass

from mpi4py import MPI

import basix.ufl
import numpy as np
import ufl
from dolfinx import fem

from electrolyx.forms.heat_conduction import heat_equation_residual, lumped_energy_balance
from electrolyx.forms.heat_sources import (
    electrolyte_ohmic_heat,
    irreversible_reaction_heat,
    reversible_reaction_heat,
    solid_ohmic_heat,
)
from electrolyx.forms.particle_diffusion import particle_surface_concentration
from electrolyx.forms.solid_conduction import solid_current_density
from electrolyx.jit import forms

from .geometry import LITHIUM, NEGATIVE, POSITIVE, SEPARATOR

__all__ = ["HEAT_SOURCES", "THERMAL_MODELS", "CellThermal", "ThermalModel", "heat_sources"]

#: The thermal models of ``[thermal] model``.
THERMAL_MODELS = ("isothermal", "lumped", "x-full")

#: Heat sources by output name (timeseries columns ``heat_<name>_W``).
HEAT_SOURCES = ("irreversible", "reversible", "ohmic_solid", "ohmic_electrolyte")


@dataclass(frozen=True)
class ThermalModel:
    """The thermal model of a DFN cell.

    Attributes:
        model: One of :data:`THERMAL_MODELS`.
        ambient_temperature_K: T_amb of the cooling (None: the set's ambient temperature).
        initial_temperature_K: T at t = 0 (None: the set's "Initial temperature [K]", else
            the ambient temperature).
    """

    model: str = "isothermal"
    ambient_temperature_K: float | None = None
    initial_temperature_K: float | None = None

    def __post_init__(self):
        if self.model not in THERMAL_MODELS:
            raise ValueError(f"thermal model {self.model!r}: allowed {', '.join(THERMAL_MODELS)}")
        for name in ("ambient_temperature_K", "initial_temperature_K"):
            value = getattr(self, name)
            if value is not None and not value > 0.0:
                raise ValueError(f"thermal {name} = {value!r}: allowed > 0")

    @property
    def active(self) -> bool:
        """Whether the temperature is an unknown."""
        return self.model != "isothermal"


def heat_sources(problem, electrolyte_current) -> dict[str, list[tuple]]:
    """Heat source name (:data:`HEAT_SOURCES`) -> ``(q [W/m3 or W/m2], measure)`` pairs.

    Args:
        problem: The :class:`~electrolyx.models.dfn.problem.DFNProblem` whose balances and
            unknowns the sources are built from.
        electrolyte_current: i_e of its electrolyte charge balance.
    """
    temperature = problem.temperature
    sources: dict[str, list[tuple]] = {name: [] for name in HEAT_SOURCES}
    for electrode in problem.electrodes:
        ep = electrode.params
        a_s = ep.specific_surface_area_1_m
        measure = problem.dx_vertex(electrode.tag)
        balance = problem.balances[electrode.name]
        for terms in balance.reactions.values():
            if "overpotential_V" in terms.outputs:
                sources["irreversible"].append(
                    (
                        irreversible_reaction_heat(
                            a_s, terms.current_density, terms.outputs["overpotential_V"]
                        ),
                        measure,
                    )
                )
        if ep.entropic_change is not None:
            c_surf = particle_surface_concentration(problem.value(electrode.concentration))
            entropic = ep.entropic_change(c_surf / ep.max_concentration_mol_m3, ufl)
            current = balance.reactions["intercalation"].current_density
            sources["reversible"].append(
                (reversible_reaction_heat(a_s, current, temperature, entropic), measure)
            )
        phi_s = problem.value(electrode.potential)
        current = solid_current_density(phi_s, ep.effective_conductivity_S_m)
        sources["ohmic_solid"].append((solid_ohmic_heat(current, phi_s), problem.dx(electrode.tag)))
        if electrode.foil is not None:
            foil_name, foil_conductivity = electrode.foil
            foil_current = solid_current_density(phi_s, foil_conductivity)
            sources["ohmic_solid"].append(
                (solid_ohmic_heat(foil_current, phi_s), problem.dx(problem.layout.tag(foil_name)))
            )
    if LITHIUM in problem.balances:
        terms = problem.balances[LITHIUM].reactions["lithium_metal"]
        counter = problem.ds(problem.layout.tag(LITHIUM))
        sources["irreversible"].append(
            (terms.current_density * terms.outputs["overpotential_V"], counter)
        )
    phi_e = problem.value("electrolyte_potential")
    sources["ohmic_electrolyte"].append(
        (electrolyte_ohmic_heat(electrolyte_current, phi_e), problem.dx_electrolyte)
    )
    return sources


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
        if layout.geometry is not None:
            raise ValueError(f"thermal model {model.model!r}: only the 1D cell so far")
        if problem.counter_electrode is not None and model.model == "x-full":
            raise ValueError("thermal model 'x-full': not for a half cell (use 'lumped')")
        if problem.integrator_kind != "ts":
            raise ValueError("a thermal model needs integrator = 'ts'")
        self.thermal = thermal
        self.ambient_K = (
            p.ambient_temperature_K
            if model.ambient_temperature_K is None
            else model.ambient_temperature_K
        )
        initial = model.initial_temperature_K
        if initial is None:
            initial = thermal.initial_temperature_K or self.ambient_K
        self.initial_K = float(initial)
        mesh = layout.mesh
        self.ambient = fem.Constant(mesh, self.ambient_K)
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
        h = thermal.total_heat_transfer_coefficient_W_m2_K
        area_scale = layout.area_scale
        tests = {
            name: ufl.TestFunction(problem.unknowns[name].space)
            for name in ("temperature", "heat_generated", "heat_removed")
        }
        one = fem.Constant(mesh, 1.0)
        # Spread a global balance [W] evenly over the mesh, so that the Real dof's row is it.
        mesh_volume = problem.integral(fem.form(one * problem.dx))
        spread = 1.0 / mesh_volume
        heat_density = sum(q * tests["heat_generated"] * m for q, m in self._all(sources))
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
            heat = sum(q * tests["temperature"] * m for q, m in self._all(sources))
            balance = lumped_energy_balance(
                self.heat_capacity_J_K, T, T_rate, 0.0, self.cooling_W_K, self.ambient
            )
            temperature_form = spread * balance * tests["temperature"] * problem.dx
            temperature_form -= area_scale * heat
            cooling = self.cooling_W_K * (T - self.ambient)
            removed = spread * cooling * tests["heat_removed"] * problem.dx
            self._stored = None
        else:
            regions = {
                NEGATIVE: "negative_electrode",
                SEPARATOR: "separator",
                POSITIVE: "positive_electrode",
            }
            region_terms = [
                (
                    thermal.volumetric_heat_capacity_J_m3_K(layer),
                    thermal.conductivity_W_m_K(layer),
                    problem.dx(layout.tag(name)),
                )
                for name, layer in regions.items()
            ]
            faces = []
            for terminal, layer in (
                (layout.negative_terminal, "negative_current_collector"),
                (layout.positive_terminal, "positive_current_collector"),
            ):
                capacity = thermal.volumetric_heat_capacity_J_m3_K(layer) * self._layers[layer]
                faces.append((h, self.ambient, capacity, problem.ds(layout.tag(terminal))))
            self._faces = faces
            self._regions = region_terms
            temperature_form = heat_equation_residual(
                T, T_rate, tests["temperature"], region_terms, self._all(sources), faces
            )
            cooling_form = sum(c * (T - amb) * ds for c, amb, _, ds in faces)
            # d E_rem / dt = area_scale int h (T - T_amb) ds: the faces' cooling [W].
            removed = area_scale * sum(
                c * (T - amb) * tests["heat_removed"] * ds for c, amb, _, ds in faces
            )
            self._cooling_form = cooling_form
        generated = spread * rate("heat_generated") * tests["heat_generated"] * problem.dx
        generated -= area_scale * heat_density
        removed = spread * rate("heat_removed") * tests["heat_removed"] * problem.dx - removed
        scale = 1.0 / self.power_scale_W
        if self.model.model == "x-full":
            # Rows of the field per unit area: scaled by the 1C current density times 1 V.
            temperature_form = (area_scale / self.power_scale_W) * temperature_form
        else:
            temperature_form = scale * temperature_form
        return {
            "temperature": temperature_form,
            "heat_generated": scale * generated,
            "heat_removed": scale * removed,
        }

    @staticmethod
    def _all(sources: dict[str, list[tuple]]) -> list[tuple]:
        return [pair for name in HEAT_SOURCES for pair in sources[name]]

    def initial_values(self) -> dict[str, float]:
        """Scaled initial values of the thermal unknowns."""
        return {"temperature": 0.0, "heat_generated": 0.0, "heat_removed": 0.0}


class ThermalOutputs:
    """Heat by source [W], temperatures and the energy balance, from the problem's forms."""

    def __init__(self, problem, sources: dict[str, list[tuple]]):
        self.problem = problem
        maps = problem.entity_maps
        compile_ = lambda form: fem.form(form, entity_maps=maps)  # noqa: E731
        # The heat by source, compiled as one module (electrolyx.jit).
        heat = forms(
            [sum(q * m for q, m in pairs) if pairs else None for pairs in sources.values()],
            entity_maps=maps,
        )
        self._heat = dict(zip(sources, heat, strict=True))
        self.thermal: CellThermal | None = problem.thermal
        thermal = self.thermal
        if thermal is None:
            return
        T = thermal.temperature
        mesh = problem.layout.mesh
        one = fem.Constant(mesh, 1.0)
        if thermal.model.model == "lumped":
            volume = problem.integral(fem.form(one * problem.dx))
            self._average = compile_(T / volume * problem.dx)
        else:
            # The mean over the stack and its collectors (thickness-weighted, as PyBaMM's
            # "Volume-averaged cell temperature"), and the stored heat [J per m2].
            layers = thermal._layers
            faces = thermal._faces
            thicknesses = [
                layers["negative_current_collector"],
                layers["positive_current_collector"],
            ]
            total = problem.integral(fem.form(one * problem.dx)) + sum(thicknesses)
            average = T * problem.dx
            for thickness, (_, _, _, ds) in zip(thicknesses, faces, strict=True):
                average += thickness * T * ds
            self._average = compile_((1.0 / total) * average)
            T0 = thermal.initial_K
            stored = sum(c * (T - T0) * dx for c, _, dx in thermal._regions)
            stored += sum(c * (T - T0) * ds for _, _, c, ds in faces)
            self._stored = compile_(stored)
            self._space = problem.unknowns["temperature"].space
        unknowns = problem.unknowns
        self._generated = unknowns["heat_generated"]
        self._removed = unknowns["heat_removed"]

    def heat_W(self) -> dict[str, float]:
        """Heat generated in the whole cell by source and in total [W] (collective)."""
        scale = self.problem.layout.area_scale
        values = {
            f"heat_{name}_W": 0.0 if form is None else self.problem.integral(form) * scale
            for name, form in self._heat.items()
        }
        values["heat_total_W"] = sum(values.values())
        return values

    def _real_value(self, unknown) -> float:
        """Physical value of a one-dof unknown (owned by one rank)."""
        array = unknown.function.x.array
        index_map = unknown.space.dofmap.index_map
        local = float(array[0]) if index_map.size_local > 0 else 0.0
        count = 1 if index_map.size_local > 0 else 0
        comm = self.problem.comm
        total, owners = comm.allreduce(local, op=MPI.SUM), comm.allreduce(count, op=MPI.SUM)
        return unknown.scale * (total / owners + unknown.offset_value())

    def temperatures(self) -> dict[str, float]:
        """Volume-averaged and highest temperature [K] and where it is (x [m]) (collective).

        The lumped model has one temperature: no position.
        """
        thermal = self.thermal
        if thermal is None:
            return {}
        problem = self.problem
        average = problem.integral(self._average)
        if thermal.model.model == "lumped":
            return {"temperature_K": average, "max_temperature_K": average}
        unknown = problem.unknowns["temperature"]
        owned = self._space.dofmap.index_map.size_local
        values = unknown.physical_array()[:owned]
        x = self._space.tabulate_dof_coordinates()[:owned, 0]
        i = int(np.argmax(values)) if owned else 0
        best = (values[i], x[i]) if owned else (-np.inf, np.nan)
        high, where = max(problem.comm.allgather(best), key=lambda pair: pair[0])
        return {
            "temperature_K": average,
            "max_temperature_K": float(high),
            "max_temperature_position_m": float(where),
        }

    def energy_J(self) -> dict[str, float]:
        """Heat generated, removed and stored since t = 0 [J] (whole cell; collective)."""
        thermal = self.thermal
        if thermal is None:
            return {}
        problem = self.problem
        generated = self._real_value(self._generated)
        removed = self._real_value(self._removed)
        if thermal.model.model == "lumped":
            T = self._real_value(problem.unknowns["temperature"])
            stored = thermal.heat_capacity_J_K * (T - thermal.initial_K)
        else:
            stored = problem.integral(self._stored) * problem.layout.area_scale
        return {
            "heat_generated_J": generated,
            "heat_removed_J": removed,
            "heat_stored_J": stored,
        }

    def row(self) -> dict[str, float]:
        """The time-series columns: heat by source, temperatures, energies."""
        return {**self.heat_W(), **self.temperatures(), **self.energy_J()}
