"""Microstructure-resolved half cell: positive-electrode particles of a packing, lithium counter.

The mesh (:func:`electrolyx.meshes.packing.packing_mesh`) holds the pore phase "electrolyte",
a particle-free "separator" slab and the "particles". The electrolyte unknowns (c_e, phi_e) live
on the submesh of the pore phase plus separator, the solid unknowns (c_s, phi_s) on the particle
submesh; every form is integrated over the parent mesh with both entity maps. Each law is a form
from :mod:`electrolyx.forms`, with bulk (not effective) properties since the pores are resolved:

    electrolyte salt    dc_e/dt + div N_e = 0, N_e.n = -j_F / F on the interface
                        (electrolyte_diffusion)
    electrolyte charge  div i_e = 0, i_e.n = -j on the interface (electrolyte_conduction)
    solid lithium       dc_s/dt = div(D_s grad c_s), -D_s grad c_s.n = j_F / F (solid_diffusion)
    solid charge        div i_s = 0, i_s.n = j on the interface, I / A_c at the collector
                        (solid_conduction)
    kinetics            j = j_F(eta) [+ C_dl d(phi_s - phi_e)/dt] (butler_volmer)

(n: outward normal of the phase; j > 0 anodic). The interface terms are interior-facet integrals
whose "+" side is the particle cell. The lithium-metal counter electrode at the separator-side
face (phi = 0, the potential reference) exchanges j_Li = j0_Li [exp(eta/2V_T) - exp(-eta/2V_T)],
eta = 0 - phi_e, with the electrolyte. The current collector at x = 0 is a metal: phi_s = V on the
particles' contact with it, V being the unknown that makes the current equal the applied one
(one Newton system for the unknowns and V together). Particles that no chain of overlapping
particles connects to the collector float: their net current is zero (diagnostic
``particles_connected_to_collector``).

Unknowns are scaled (c_e by its initial value, c_s by c_s,max, potentials by the thermal voltage)
and residuals divided by the 1C current (charge) or the same over F (lithium). Time: implicit
Euler, which makes the discrete lithium balance exact: the lithium in electrolyte and particles
grows by exactly the charge passed over F each step (up to the Newton tolerance).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mpi4py import MPI
from petsc4py import PETSc

import dolfinx
import numpy as np
import ufl
from dolfinx import fem
from dolfinx.fem.petsc import NonlinearProblem

from ...constants import FARADAY
from ...constants import thermal_voltage as thermal_voltage_at
from ...forms.electrolyte_conduction import (
    electrolyte_charge_conservation_residual,
    electrolyte_current_density,
)
from ...forms.electrolyte_diffusion import electrolyte_diffusion_residual, electrolyte_salt_flux
from ...forms.kinetics import Kinetics
from ...forms.reactions import (
    DoubleLayer,
    Intercalation,
    Interface,
    LithiumMetal,
    interfacial_balance,
)
from ...forms.solid_conduction import solid_charge_conservation_residual, solid_current_density
from ...forms.solid_diffusion import solid_diffusion_residual
from ...integrator import BDFTimeDerivative
from ...meshes.gmsh_tools import physical_tag
from ...output import PhaseTimer
from ...parameters.base import CellParameters
from ...solver import NewtonFailure
from ...temperature import mean_temperature, temperature_coefficient
from ...unknowns import Unknowns
from .bordered_newton import bordered_newton

__all__ = [
    "FIELDS",
    "HalfCellState",
    "ResolvedHalfCell",
]

#: Names of the unknowns, in block order.
FIELDS = (
    "electrolyte_concentration",
    "electrolyte_potential",
    "particle_concentration",
    "solid_potential",
)
#: Short names of the fields in PETSc's field-split options (``fieldsplit_c_e_pc_type``).
FIELD_SPLIT_NAMES = dict(zip(FIELDS, ("c_e", "phi_e", "c_s", "phi_s"), strict=True))

_ELECTROLYTE, _PARTICLES = 1, 2  # cell subdomain ids
_COUNTER, _COLLECTOR = 1, 2  # exterior facet subdomain ids
_INTERFACE = 1  # interior facet subdomain id


@dataclass
class HalfCellState:
    """Integral quantities of the half cell at one time (SI units, discharge current > 0).

    Attributes:
        voltage_V: Potential of the current collector vs the lithium counter electrode.
        interface_current_A: -int j dA over all particle surfaces (faradaic plus capacitive).
        faradaic_interface_current_A: -int j_F dA over all particle surfaces.
        counter_electrode_current_A: int j_Li dA over the lithium-metal face.
        lithium_electrolyte_mol: int c_e dV over the pores and separator.
        lithium_particles_mol: int c_s dV over the particles.
        average_stoichiometry: Particle lithium over c_s,max times the particle volume.
    """

    voltage_V: float
    interface_current_A: float
    faradaic_interface_current_A: float
    counter_electrode_current_A: float
    lithium_electrolyte_mol: float
    lithium_particles_mol: float
    average_stoichiometry: float


def _owned_cells(mesh: dolfinx.mesh.Mesh, cells: np.ndarray) -> np.ndarray:
    return fem.compute_integration_domains(fem.IntegralType.cell, mesh.topology, cells)


class ResolvedHalfCell:
    """Positive-electrode particles, electrolyte and lithium counter electrode on one mesh.

    Args:
        mesh_data: Mesh with cell groups "electrolyte", "particles" (and "separator"), facet
            groups "interface", "collector" and "separator_side".
        parameters: Parameter set: its positive electrode and electrolyte are used.
        depth_m: Out-of-plane depth of a 2D mesh (ignored in 3D).
        temperature_K: Temperature of every law [K] (default: the set's ambient temperature):
            a number, a ``fem.Constant`` or a ``fem.Function`` on the mesh, or a callable of
            the coordinates (:func:`electrolyx.temperature.temperature_coefficient`), so that a
            thermal model can replace it by its field. The initial rest potential and the
            constant salt-row combination take its mean (:attr:`temperature_K`).
        initial_stoichiometry: Initial c_s / c_s,max (default: the set's).
        double_layer: Add C_dl d(phi_s - phi_e)/dt to the interfacial current.
        lithium_exchange_current_density: j0 of the lithium-metal counter electrode [A/m2].
        petsc_options: SNES/KSP options.
        kinetics: Kinetic law of the intercalation reaction at the particle surfaces (default:
            Butler-Volmer with the set's transfer coefficients).
    """

    def __init__(
        self,
        mesh_data,
        parameters: CellParameters,
        *,
        depth_m: float = 1.0,
        temperature_K: float | fem.Constant | fem.Function | Callable | None = None,
        initial_stoichiometry: float | None = None,
        double_layer: bool = False,
        lithium_exchange_current_density: float = 10.0,
        petsc_options: dict[str, Any] | None = None,
        kinetics: Kinetics | None = None,
    ):
        self.mesh_data = mesh_data
        self.mesh = mesh = mesh_data.mesh
        self.comm = mesh.comm
        self.parameters = parameters
        self.electrode = parameters.positive
        self.dim = mesh.geometry.dim
        self.depth_m = depth_m if self.dim == 2 else 1.0
        #: Temperature every law reads [K]: a ``fem.Constant`` or a ``fem.Function``.
        self.temperature = temperature_coefficient(
            mesh, parameters.ambient_temperature_K if temperature_K is None else temperature_K
        )
        #: Its mean over the mesh [K] (the value itself for a Constant).
        self.temperature_K = mean_temperature(mesh, self.temperature)
        c_max = self.electrode.max_concentration_mol_m3
        self.initial_stoichiometry = (
            initial_stoichiometry
            if initial_stoichiometry is not None
            else self.electrode.initial_concentration_mol_m3 / c_max
        )
        self.double_layer = double_layer
        self.lithium_j0 = lithium_exchange_current_density
        self.kinetics = kinetics or Kinetics(
            "butler-volmer",
            self.electrode.anodic_transfer_coefficient,
            self.electrode.cathodic_transfer_coefficient,
        )
        self._subdomains()
        self._spaces()
        self._measures()
        self.capacity_Ah = (
            FARADAY * self.particle_volume_m3 * c_max * (1.0 - self.initial_stoichiometry) / 3600.0
        )
        self.one_c_current_A = self.capacity_Ah / 1.0
        self._forms()
        self._solver(petsc_options or {})
        self.time_s = 0.0
        self.charge_passed_C = 0.0
        self.reset()

    # ---------------------------------------------------------------- geometry
    def _subdomains(self) -> None:
        md, mesh = self.mesh_data, self.mesh
        tdim = mesh.topology.dim
        mesh.topology.create_connectivity(tdim - 1, tdim)
        mesh.topology.create_connectivity(tdim, tdim - 1)
        pore_groups = [g for g in ("electrolyte", "separator") if g in md.physical_groups]
        self.pore_cells = np.unique(
            np.concatenate([md.cell_tags.find(physical_tag(md, g)) for g in pore_groups])
        ).astype(np.int32)
        self.particle_cells = md.cell_tags.find(physical_tag(md, "particles")).astype(np.int32)
        self.electrolyte_mesh, self.electrolyte_map, _, _ = dolfinx.mesh.create_submesh(
            mesh, tdim, self.pore_cells
        )
        self.particle_mesh, self.particle_map, _, _ = dolfinx.mesh.create_submesh(
            mesh, tdim, self.particle_cells
        )
        self.entity_maps = [self.electrolyte_map, self.particle_map]

        cell_count = (
            mesh.topology.index_map(tdim).size_local + mesh.topology.index_map(tdim).num_ghosts
        )
        in_particle = np.zeros(cell_count, dtype=bool)
        in_particle[self.particle_cells] = True

        def facets(name: str) -> np.ndarray:
            return md.facet_tags.find(physical_tag(md, name))

        exterior = fem.IntegralType.exterior_facet
        counter = fem.compute_integration_domains(exterior, mesh.topology, facets("separator_side"))
        collector = fem.compute_integration_domains(exterior, mesh.topology, facets("collector"))
        collector = collector.reshape(-1, 2)
        collector = collector[in_particle[collector[:, 0]]]
        interface = fem.compute_integration_domains(
            fem.IntegralType.interior_facet, mesh.topology, facets("interface")
        ).reshape(-1, 4)
        # The "+" side of every interface facet is its particle cell.
        swap = ~in_particle[interface[:, 0]]
        interface[swap] = interface[swap][:, [2, 3, 0, 1]]
        if not np.all(in_particle[interface[:, 0]] & ~in_particle[interface[:, 2]]):
            raise ValueError("an interface facet does not separate a particle from electrolyte")
        self._cell_domains = [
            (_ELECTROLYTE, _owned_cells(mesh, self.pore_cells)),
            (_PARTICLES, _owned_cells(mesh, self.particle_cells)),
        ]
        self._exterior_domains = [
            (_COUNTER, counter.ravel().astype(np.int32)),
            (_COLLECTOR, collector.ravel().astype(np.int32)),
        ]
        self._interior_domains = [(_INTERFACE, interface.ravel().astype(np.int32))]

    def _spaces(self) -> None:
        self.spaces = [
            fem.functionspace(self.electrolyte_mesh, ("Lagrange", 1)),
            fem.functionspace(self.electrolyte_mesh, ("Lagrange", 1)),
            fem.functionspace(self.particle_mesh, ("Lagrange", 1)),
            fem.functionspace(self.particle_mesh, ("Lagrange", 1)),
        ]
        self.thermal_voltage_ref = thermal_voltage_at(self.parameters.reference_temperature_K)
        self.scales = [
            self.parameters.electrolyte.initial_concentration_mol_m3,
            self.thermal_voltage_ref,
            self.electrode.max_concentration_mol_m3,
            self.thermal_voltage_ref,
        ]
        self.unknowns = Unknowns()
        for name, space, scale in zip(FIELDS, self.spaces, self.scales, strict=True):
            self.unknowns.add(name, space, scale, differential=True)
        self.u = self.unknowns.functions
        self.time_derivative = BDFTimeDerivative(self.mesh, self.unknowns)
        self.u_old = self.time_derivative.previous[0]

    def _measures(self) -> None:
        mesh = self.mesh
        self.dx = ufl.Measure(
            "dx", mesh, subdomain_data=self._cell_domains, metadata={"quadrature_degree": 2}
        )
        self.ds = ufl.Measure(
            "ds", mesh, subdomain_data=self._exterior_domains, metadata={"quadrature_degree": 4}
        )
        self.dS = ufl.Measure(
            "dS", mesh, subdomain_data=self._interior_domains, metadata={"quadrature_degree": 4}
        )
        one = fem.Constant(mesh, 1.0)
        self.particle_volume_m3 = self.integral(fem.form(one * self.dx(_PARTICLES)))
        self.collector_area_m2 = self.integral(fem.form(one * self.ds(_COLLECTOR)))
        self.interface_area_m2 = self.integral(fem.form(one * self.dS(_INTERFACE)))
        self.electrolyte_volume_m3 = self.integral(fem.form(one * self.dx(_ELECTROLYTE)))
        if self.collector_area_m2 <= 0 or self.interface_area_m2 <= 0:
            raise ValueError("no particle touches the collector, or no particle surface")

    def integral(self, compiled) -> float:
        """Global value of a scalar form, times the depth of a 2D mesh."""
        local = fem.assemble_scalar(compiled)
        return self.comm.allreduce(local, op=MPI.SUM) * self.depth_m

    # ---------------------------------------------------------------- forms
    def _physical(self, i, functions=None):
        functions = self.u if functions is None else functions
        return self.scales[i] * functions[i]

    def _rate(self, i):
        return self.time_derivative.rate(FIELDS[i])

    def _forms(self) -> None:
        mesh, ep = self.mesh, self.electrode
        electrolyte = self.parameters.electrolyte
        dx, ds, dS = self.dx, self.ds, self.dS
        # The collector is a metal: phi_s = V on the particles' contact with it.
        self.terminal_voltage = fem.Constant(mesh, 0.0)
        temperature = self.temperature
        thermal_voltage = thermal_voltage_at(temperature)
        v_ce, v_pe, w_cs, w_ps = ufl.TestFunctions(ufl.MixedFunctionSpace(*self.spaces))
        c_e, phi_e = self._physical(0), self._physical(1)
        c_s, phi_s = self._physical(2), self._physical(3)
        transference = electrolyte.transference_number(c_e, temperature, mod=ufl)
        i_e = electrolyte_current_density(
            c_e,
            phi_e,
            electrolyte.conductivity(c_e, temperature, mod=ufl),
            transference,
            electrolyte.thermodynamic_factor(c_e, temperature, mod=ufl),
            thermal_voltage,
        )
        n_e = electrolyte_salt_flux(
            c_e, electrolyte.diffusivity(c_e, temperature, mod=ufl), transference, i_e
        )

        # The particle surface ("+") against the electrolyte ("-"): the reactions of the
        # interface, summed (intercalation, and the double layer when asked for).
        reactions = [Intercalation(ep, self.kinetics)]
        if self.double_layer and ep.double_layer_capacity_F_m2 > 0:
            reactions.append(DoubleLayer(ep.double_layer_capacity_F_m2))
        interface = interfacial_balance(
            reactions,
            Interface(
                solid_potential=phi_s("+"),
                electrolyte_potential=phi_e("-"),
                electrolyte_concentration=c_e("-"),
                temperature=temperature,
                particle_surface_concentration=c_s("+"),
                surface_potential_difference_rate=self._rate(3)("+") - self._rate(1)("-"),
            ),
        )
        j_total = interface.current_density
        j_faradaic = interface.reactions["intercalation"].current_density
        # The lithium metal at phi = 0 (the reference) exchanges Li+ with the electrolyte.
        counter = interfacial_balance(
            [LithiumMetal(fem.Constant(mesh, self.lithium_j0), Kinetics("butler-volmer"))],
            Interface(0.0, phi_e, c_e, temperature),
        )
        j_lithium = counter.current_density

        current_scale = self.one_c_current_A / self.depth_m
        molar_scale = current_scale / FARADAY
        salt = electrolyte_diffusion_residual(
            self._rate(0),
            v_ce,
            1.0,
            n_e,
            dx(_ELECTROLYTE),
            [
                (interface.electrolyte_lithium_source, dS(_INTERFACE), "-"),
                (counter.electrolyte_lithium_source, ds(_COUNTER)),
            ],
        )
        charge = electrolyte_charge_conservation_residual(
            i_e,
            v_pe,
            dx(_ELECTROLYTE),
            [(j_total, dS(_INTERFACE), "-"), (j_lithium, ds(_COUNTER))],
        )
        solid_lithium = solid_diffusion_residual(
            c_s,
            self._rate(2),
            w_cs,
            ep.particle_diffusivity(c_s, temperature, mod=ufl),
            dx(_PARTICLES),
            [(interface.particle_lithium_outflux, dS(_INTERFACE), "+")],
        )
        solid_charge = solid_charge_conservation_residual(
            solid_current_density(phi_s, ep.conductivity_S_m),
            w_ps,
            dx(_PARTICLES),
            [(j_total, dS(_INTERFACE), "+")],
        )
        # The salt rows are combined with t+_0 / F times the charge rows (t+_0: the transference
        # number at the initial salt concentration): an invertible constant row operation, so
        # the solution and the Newton directions are unchanged, but the migration flux
        # t+ i_e / F leaves the salt rows (exactly so for a constant t+), which become
        # diffusion with interface sources. The c_e block of the Jacobian is then an
        # M-matrix-like diffusion operator and c_e hardly couples back to phi_e, which the
        # block preconditioner of the "iterative" solver relies on.
        transference_0 = float(
            electrolyte.transference_number(
                electrolyte.initial_concentration_mol_m3, self.temperature_K
            )
        )
        charge_as_salt = ufl.replace(charge, {v_pe: v_ce})
        residual = (1.0 / molar_scale) * (salt + solid_lithium) + (1.0 / current_scale) * (
            charge + solid_charge - transference_0 * charge_as_salt
        )
        self.residual_blocks = ufl.extract_blocks(residual)

        def compile_(form):
            return fem.form(form, entity_maps=self.entity_maps)

        # dI/du of the interface current I = -int j dS, for the bordered Newton system.
        tests = ufl.TestFunctions(ufl.MixedFunctionSpace(*self.spaces))
        current = -j_total * dS(_INTERFACE)
        self.current_derivative_form = compile_(
            ufl.extract_blocks(
                sum(ufl.derivative(current, u, t) for u, t in zip(self.u, tests, strict=True))
            )
        )
        self.current_sensitivity = 0.0
        self.diagnostic_forms = {
            "interface": compile_(-j_total * dS(_INTERFACE)),
            "faradaic": compile_(-j_faradaic * dS(_INTERFACE)),
            "counter": compile_(j_lithium * ds(_COUNTER)),
            "electrolyte": compile_(c_e * dx(_ELECTROLYTE)),
            "particles": compile_(c_s * dx(_PARTICLES)),
        }

    def _solver(self, options: dict[str, Any]) -> None:
        potential_space = self.spaces[3]
        contact = fem.locate_dofs_geometrical(potential_space, lambda x: np.isclose(x[0], 0.0))
        self.bcs = [fem.dirichletbc(self.terminal_voltage, contact, potential_space)]
        defaults = {
            "snes_type": "newtonls",
            "snes_linesearch_type": "bt",
            "snes_rtol": 1e-10,
            "snes_atol": 1e-11,
            "snes_stol": 1e-14,
            "snes_max_it": 25,
            "ksp_type": "preonly",
            "pc_type": "lu",
            # MUMPS, except for the double layer in serial, where it fails (INFOG(1) = -9, then
            # -3) and PETSc's own LU with nested dissection works (slower in 3D).
            **(
                {"pc_factor_mat_solver_type": "petsc", "pc_factor_mat_ordering_type": "nd"}
                if self.comm.size == 1 and self.double_layer
                else {"pc_factor_mat_solver_type": "mumps"}
            ),
        }
        options = {**defaults, **options}
        if options["pc_type"] != "lu":
            options.pop("pc_factor_mat_solver_type", None)
            options.pop("pc_factor_mat_ordering_type", None)
        prefix = f"microstructure_{id(self)}_"
        # Options of the field-split sub-solvers are read when the preconditioner is first set
        # up (first solve), after NonlinearProblem has removed its options from the database:
        # they stay there under this solver's unique prefix.
        database = PETSc.Options()
        for key in [k for k in options if k.startswith("fieldsplit_")]:
            database[prefix + key] = options.pop(key)
        self.problem = NonlinearProblem(
            self.residual_blocks,
            self.u,
            bcs=self.bcs,
            entity_maps=self.entity_maps,
            kind="mpi",
            petsc_options_prefix=prefix,
            petsc_options=options,
        )
        preconditioner = self.problem.solver.getKSP().getPC()
        if preconditioner.getType() == PETSc.PC.Type.FIELDSPLIT:
            preconditioner.setFieldSplitIS(*self.field_index_sets())
        self.newton_iterations = 0
        self.linear_iterations = 0
        self.failed_solves = 0
        self.timer = PhaseTimer()  # residual, jacobian, preconditioner_setup, linear_solve
        self.residual_history: list[float] = []  # scaled residual norms of the last step

    def field_index_sets(self) -> list[tuple[str, PETSc.IS]]:
        """Global rows of each field (c_e, phi_e, c_s, phi_s) in the Jacobian, for fieldsplit.

        The monolithic ("mpi") block matrix numbers the owned unknowns of each rank field by
        field: rank r holds rows [start_r, start_r + n_0 + n_1 + n_2 + n_3).
        """
        owned = [V.dofmap.index_map.size_local * V.dofmap.index_map_bs for V in self.spaces]
        start = self.comm.exscan(sum(owned)) or 0
        offsets = start + np.concatenate([[0], np.cumsum(owned)])
        names = [FIELD_SPLIT_NAMES[name] for name in FIELDS]
        return [
            (name, PETSc.IS().createStride(n, int(first), 1, comm=self.comm))
            for name, n, first in zip(names, owned, offsets, strict=False)
        ]

    # ---------------------------------------------------------------- state
    def reset(self) -> None:
        """Rest: uniform concentrations, phi_e = 0 (lithium at equilibrium), phi_s = U(sto_0)."""
        ep = self.electrode
        ocp = float(ep.open_circuit_potential(self.initial_stoichiometry, self.temperature_K))
        values = [1.0, 0.0, self.initial_stoichiometry, ocp / self.thermal_voltage_ref]
        for function, old, value in zip(self.u, self.u_old, values, strict=True):
            function.x.array[:] = value
            old.x.array[:] = value
        self.time_s = 0.0
        self.charge_passed_C = 0.0
        self.voltage_V = ocp
        self.current_A = 0.0
        self.terminal_voltage.value = ocp / self.thermal_voltage_ref
        self.resistance_ohm: float | None = None
        #: The current the integrator's steps apply [A], positive on discharge.
        self.applied_current_A = 0.0
        self._before_step: tuple[float, float, float, float] | None = None

    def state(self) -> HalfCellState:
        """Integral quantities at the current state (collective)."""
        values = {name: self.integral(f) for name, f in self.diagnostic_forms.items()}
        particles = values["particles"]
        return HalfCellState(
            voltage_V=self.voltage_V,
            interface_current_A=values["interface"],
            faradaic_interface_current_A=values["faradaic"],
            counter_electrode_current_A=values["counter"],
            lithium_electrolyte_mol=values["electrolyte"],
            lithium_particles_mol=particles,
            average_stoichiometry=particles
            / (self.particle_volume_m3 * self.electrode.max_concentration_mol_m3),
        )

    def step(self, time_step_s: float, current_A: float, relative_tolerance: float = 1e-12) -> int:
        """One implicit-Euler step at constant current; the state is kept only on success.

        The collector voltage V is an unknown of the Newton system, bordered by the condition
        that the interface current equal ``current_A`` (see :func:`.bordered_newton`).

        Args:
            time_step_s: Step length [s].
            current_A: Applied current [A], positive on discharge.
            relative_tolerance: The current condition holds to this times max(|I|, I_1C).

        Returns:
            Newton iterations of the step.

        Raises:
            NewtonFailure: if Newton fails (the state before the step is restored).
        """
        self.time_derivative.set_step(time_step_s, (1.0, -1.0, 0.0), [self.unknowns.state()])
        try:
            iterations = bordered_newton(self, current_A, relative_tolerance)
        except NewtonFailure:
            self.failed_solves += 1
            self.undo(advance=False)
            raise
        self._before_step = (self.voltage_V, self.current_A, self.time_s, self.charge_passed_C)
        self.voltage_V = float(self.terminal_voltage.value) * self.thermal_voltage_ref
        self.current_A = current_A
        self.time_s += time_step_s
        self.charge_passed_C += current_A * time_step_s
        return iterations

    def newton_solve(self, dt: float) -> tuple[bool, int]:
        """One bordered Newton solve at :attr:`applied_current_A` (for the integrator).

        Returns:
            (converged, iterations); on failure the guess is restored.
        """
        try:
            return True, bordered_newton(self, self.applied_current_A, 1e-12)
        except NewtonFailure as failure:
            self.failed_solves += 1
            self.last_failure = failure
            return False, len(failure.residuals) - 1

    def accepted(self, dt: float) -> None:
        """Bookkeeping after an accepted step of ``dt`` at :attr:`applied_current_A`."""
        self.voltage_V = float(self.terminal_voltage.value) * self.thermal_voltage_ref
        self.current_A = self.applied_current_A
        self.time_s += dt
        self.charge_passed_C += self.applied_current_A * dt

    def undo(self, advance: bool = True) -> None:
        """Return to the state before the last step (one level only).

        Args:
            advance: Whether that step completed (its time and charge are taken back).
        """
        for function, old in zip(self.u, self.u_old, strict=True):
            function.x.array[:] = old.x.array
        if advance:
            assert self._before_step is not None, "no step to undo"
            self.voltage_V, self.current_A, self.time_s, self.charge_passed_C = self._before_step
            self._before_step = None
        self.terminal_voltage.value = self.voltage_V / self.thermal_voltage_ref

    def physical_fields(self) -> dict[str, list[fem.Function]]:
        """SI-valued copies of the unknowns, per phase: electrolyte and particles."""
        names = [
            "electrolyte_concentration_mol_m3",
            "electrolyte_potential_V",
            "particle_concentration_mol_m3",
            "solid_potential_V",
        ]
        out: list[fem.Function] = []
        for function, scale, name in zip(self.u, self.scales, names, strict=True):
            copy = fem.Function(function.function_space, name=name)
            copy.x.array[:] = scale * function.x.array
            out.append(copy)
        return {"electrolyte": out[:2], "particles": out[2:]}
