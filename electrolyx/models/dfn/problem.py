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

:class:`DFNProblem` holds the unknowns, measures and coefficients; its parts live beside it:
:mod:`.residual` (the blocks of the laws above and the inventory forms), :mod:`.reaction_states`
(the reactions' own states as unknowns) and :mod:`.solvers` (the time integrator, controls and
Newton's convergence test).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mpi4py import MPI

import numpy as np
import ufl
from dolfinx import cpp as _cpp
from dolfinx import fem

from electrolyx.constants import FARADAY
from electrolyx.constants import thermal_voltage as thermal_voltage_at
from electrolyx.forms.kinetics import Kinetics
from electrolyx.integrator import BDFTimeDerivative
from electrolyx.jit import forms
from electrolyx.parameters.base import CellParameters
from electrolyx.temperature import temperature_coefficient
from electrolyx.ts_integrator import TSTimeDerivative
from electrolyx.unknowns import Unknowns

from .electrode import ElectrodeDomain, SideReactions, default_reactions
from .geometry import (
    NEGATIVE,
    POSITIVE,
    SEPARATOR,
    CellLayout,
    DFNResolution,
    LithiumCounterElectrode,
)
from .mechanics import ParticleMechanics, add_crack_lengths
from .reaction_states import ReactionStates
from .residual import ResidualBlocks
from .solvers import NEWTON_ABSOLUTE_TOLERANCE, DFNSolvers
from .thermal import CellThermal, ThermalModel

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

_pack_constants = _cpp.fem.pack_constants
_pack_coefficients = _cpp.fem.pack_coefficients
_assemble_scalar = _cpp.fem.assemble_scalar


class DFNProblem(ReactionStates, ResidualBlocks, DFNSolvers):
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
        electrolyte_unknown: "log-concentration" (the default: u = ln(c_e / c_e0) an unknown
            too, the laws see c_e0 exp(u) > 0; see :meth:`_electrolyte_law_concentration`) or
            "concentration" (c_e itself; the laws see it held at a floor).
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
        electrolyte_unknown: str = "log-concentration",
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
        # the output forms read together, each group's values as one function (local_integrals)
        self._scalar_functions: dict[tuple[int, ...], Callable[[], list[float]]] = {}
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
        #: Running integrals no other row reads, solved after Newton (the integrator's
        #: ``quadrature_fields``).
        self.quadrature: list[str] = []
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
    def _round_off_floor(self) -> float:
        """Newton's absolute tolerance on the scaled residual.

        1e-11, or the round-off level of a foil's rows, eps x sigma_cc V_T / (h_cc i_1C) (~1e-7
        for copper), if that is larger.
        """
        p = self.parameters
        geometry = self.layout.geometry
        one_c_density = p.one_c_current_A() / p.electrode_area_m2
        floor = NEWTON_ABSOLUTE_TOLERANCE
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
        # One module for both (electrolyx.jit: its exterior-facet form without numpy.ma).
        area, volume = forms([one * self.ds(terminal), one * self.dx_vertex_electrolyte])
        self.terminal_area_m2 = self.integral(area)
        #: the electrolyte's volume [m3; in 1D per m2 of electrode]
        self.electrolyte_volume_m3 = self.integral(volume)

    def integral(self, compiled: fem.Form) -> float:
        """Global value of a compiled scalar form.

        What ``dolfinx.fem.assemble_scalar`` computes (the same packing and kernel), called
        without its Python layer, summed over the ranks (no reduction on one rank): the output
        rows assemble some ten of these per row.
        """
        return self.sum_over_ranks([self.local_integral(compiled)])[0]

    def local_integral(self, compiled: fem.Form) -> float:
        """This rank's part of a compiled scalar form (its cells and facets); not collective."""
        return self.local_integrals((compiled,))[0]

    def local_integrals(self, forms: Sequence[fem.Form]) -> list[float]:
        """This rank's parts of compiled scalar forms; not collective.

        Where the time integrator's residual is assembled by the compiled loop (serial 1D),
        the forms read together are assembled by one C call of it, made at their first
        reading (:meth:`CompiledAssembly.scalar_function`: dolfinx's values bit for bit, ~1 us
        a form instead of ~3 us): the output rows read some ten at every step.
        """
        key = tuple(map(id, forms))
        function = self._scalar_functions.get(key)
        if function is None:
            forms = tuple(forms)
            assembler = getattr(getattr(self, "integrator", None), "_assembler", None)
            function = self._scalar_function(forms, assembler)
            if assembler is not None:  # (before the integrator is built: not kept)
                self._scalar_functions[key] = function
        return function()

    @staticmethod
    def _scalar_function(forms: Sequence[fem.Form], assembler) -> Callable[[], list[float]]:
        """The forms' local values as one function (kept with the forms it reads)."""
        from electrolyx.compiled_assembly import UnsupportedScalars

        compiled = None if assembler is None else assembler.compiled
        if compiled is not None:
            try:
                return compiled.scalar_function(list(forms))
            except UnsupportedScalars:
                pass
        cpp_forms = [form._cpp_object for form in forms]

        def each(kept=forms) -> list[float]:
            return [
                _assemble_scalar(form, _pack_constants(form), _pack_coefficients(form))
                for form in cpp_forms
            ]

        return each

    def sum_over_ranks(self, local: list[float]) -> list[float]:
        """Sums over the ranks of this rank's ``local`` values: one reduction (none on one rank)."""
        if self.comm.size == 1:
            return list(local)
        total = np.empty(len(local))
        self.comm.Allreduce(np.asarray(local, dtype=float), total, op=MPI.SUM)
        return total.tolist()

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

    def electrolyte_concentration_array(self) -> np.ndarray:
        """Nodal electrolyte concentration as the laws see it [mol/m3] (local dofs, ghosts).

        The unknown itself, or c_e0 exp(u) with the log-concentration unknown.
        """
        if self.log_electrolyte:
            c0 = self.parameters.electrolyte.initial_concentration_mol_m3
            return c0 * np.exp(self.unknowns["electrolyte_log_concentration"].function.x.array)
        return self.unknowns["electrolyte_concentration"].physical_array()
