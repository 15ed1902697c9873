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

    galvanostatic       -int j dA = I_app over all particle surfaces (the collector voltage V)

(n: outward normal of the phase; j > 0 anodic). The interface terms are interior-facet integrals
whose "+" side is the particle cell. The lithium-metal counter electrode at the separator-side
face (phi = 0, the potential reference) exchanges j_Li = j0_Li [exp(eta/2V_T) - exp(-eta/2V_T)],
eta = 0 - phi_e, with the electrolyte. The current collector at x = 0 is a metal: phi_s = V on the
particles' contact with it, V being the unknown that makes the current equal the applied one.
V is a global unknown (one dof of a "Real" space) and the solid potential is unknown relative to
it, phi_s = V + psi with psi = 0 on the contact (a homogeneous Dirichlet condition): the same
discrete equations as phi_s = V there, in one Newton system for the fields and V together.
Particles that no chain of overlapping particles connects to the collector float: their net
current is zero (diagnostic ``particles_connected_to_collector``).

Unknowns are scaled (c_e by its initial value, c_s by c_s,max, potentials by the thermal voltage)
and residuals divided by the 1C current (charge) or the same over F (lithium). Time: implicit
Euler (the first order of the shared PETSc TS integrator,
:class:`electrolyx.ts_integrator.TSIntegrator`, at fixed steps), which makes the discrete
lithium balance exact: the lithium in electrolyte and particles grows by exactly the charge
passed over F each step (up to the Newton tolerance).

:class:`ResolvedHalfCell` holds the geometry (subdomains, spaces, measures) and the state; its
forms are in :mod:`.cell_forms`, its solver in :mod:`.cell_solver`, the names and positions of
its unknowns in :mod:`.unknown_fields`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mpi4py import MPI
from petsc4py import PETSc

import basix.ufl
import dolfinx
import numpy as np
import ufl
from dolfinx import fem

from ...constants import FARADAY
from ...constants import thermal_voltage as thermal_voltage_at
from ...forms.kinetics import Kinetics
from ...meshes.gmsh_tools import physical_tag
from ...meshes.packing import Packing
from ...parameters.base import CellParameters
from ...solver import NewtonFailure
from ...temperature import mean_temperature, temperature_coefficient
from ...ts_integrator import IntegrationFailure, TSTimeDerivative
from ...unknowns import Unknowns
from .cell_forms import HalfCellForms
from .cell_solver import HalfCellSolver
from .unknown_fields import (
    _COLLECTOR,
    _COUNTER,
    _ELECTROLYTE,
    _INTERFACE,
    _PARTICLES,
    _SOLID,
    _VOLTAGE,
    FIELDS,
)
from .unknown_fields import FIELD_SPLIT_NAMES as FIELD_SPLIT_NAMES

__all__ = [
    "FIELDS",
    "HalfCellState",
    "ResolvedHalfCell",
]


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


class ResolvedHalfCell(HalfCellForms, HalfCellSolver):
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
        particles: The packing the mesh was made from. With a field-split preconditioner
            (``pc_type = "fieldsplit"``, the "iterative" solver) its particles give a coarse
            correction before the field split (:mod:`.coarse_space`); without it, the field
            split alone.
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
        particles: Packing | None = None,
    ):
        self.mesh_data = mesh_data
        self.particles = particles
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
        self._compile_diagnostics()
        self.time_s = 0.0
        self.charge_passed_C = 0.0
        self.reset()
        self._drop_structural_zeros()

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
        # The two fields of a phase share one dofmap (clone: a space of its own for UFL and
        # the blocks, the same dofmap and element): at 1 M unknowns each dofmap is ~20-30 MiB.
        electrolyte = fem.functionspace(self.electrolyte_mesh, ("Lagrange", 1))
        particle = fem.functionspace(self.particle_mesh, ("Lagrange", 1))
        self.spaces = [
            electrolyte,
            electrolyte.clone(),
            particle,
            particle.clone(),
            # The collector voltage: one dof for the whole cell.
            fem.functionspace(
                self.mesh, basix.ufl.real_element(self.mesh.basix_cell(), dtype=np.float64)
            ),
        ]
        self.thermal_voltage_ref = thermal_voltage_at(self.parameters.reference_temperature_K)
        self.scales = [
            self.parameters.electrolyte.initial_concentration_mol_m3,
            self.thermal_voltage_ref,
            self.electrode.max_concentration_mol_m3,
            self.thermal_voltage_ref,
            self.thermal_voltage_ref,
        ]
        self.unknowns = Unknowns()
        for name, space, scale in zip(FIELDS, self.spaces, self.scales, strict=True):
            self.unknowns.add(name, space, scale, differential=True)
        self.u = self.unknowns.functions
        self.time_derivative = TSTimeDerivative(self.unknowns)

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

    # ---------------------------------------------------------------- state
    @property
    def applied_current_A(self) -> float:
        """The current the steps apply [A], positive on discharge."""
        return self._applied_current_A

    @applied_current_A.setter
    def applied_current_A(self, value: float) -> None:
        self._applied_current_A = float(value)
        self.applied_current_density.value = value / self.interface_area_m2

    @property
    def voltage_V(self) -> float:
        """Potential of the current collector vs the lithium counter electrode [V]."""
        unknown = self.unknowns[FIELDS[_VOLTAGE]]
        array = unknown.function.x.array
        owned = unknown.space.dofmap.index_map.size_local
        local, count = (float(array[0]), 1) if owned > 0 else (0.0, 0)
        total = self.comm.allreduce(local, op=MPI.SUM)
        return unknown.scale * total / self.comm.allreduce(count, op=MPI.SUM)

    @property
    def newton_iterations(self) -> int:
        """Newton iterations of all steps so far."""
        return int(self.integrator.totals["newton_iterations"])

    @property
    def linear_iterations(self) -> int:
        """Linear-solver iterations of all steps so far (one per Newton iteration with LU)."""
        return int(self.integrator.totals["linear_iterations"])

    @property
    def failed_solves(self) -> int:
        """Steps rejected so far (at fixed steps: Newton failures, the step then cut)."""
        return int(self.integrator.totals["rejected_steps"])

    def reset(self) -> None:
        """Rest: uniform concentrations, phi_e = 0 (lithium at equilibrium), phi_s = U(sto_0)."""
        ep = self.electrode
        ocp = float(ep.open_circuit_potential(self.initial_stoichiometry, self.temperature_K))
        values = [1.0, 0.0, self.initial_stoichiometry, 0.0, ocp / self.thermal_voltage_ref]
        for function, value in zip(self.u, values, strict=True):
            function.x.array[:] = value
        self.time_s = 0.0
        self.charge_passed_C = 0.0
        self.applied_current_A = 0.0
        #: Current [A] and voltage [V] of the present state (the last accepted step).
        self.current_A = 0.0
        self.state_voltage_V = ocp
        #: -dV/dI across the first step after the last change of current [ohm] (the voltage
        #: predictor's slope; 0.01 V per 1C at first).
        self.resistance_ohm = 0.01 / self.one_c_current_A

    def predict_voltage(self, guess: PETSc.Vec) -> None:
        """Newton's initial guess of V after a change of current (TS's extrapolation else).

        Where the guess is the state n before the change (the first solve at a new current,
        and its retries), V = V_n - R (I - I_n) with R from the last change, the solid
        potential phi_s = V + psi kept away from the collector (psi shifted by -dV there): from
        rest Butler-Volmer is then already in its exponential range at the contact (from V = U
        at 2C, the full Newton steps overshoot and the line search crawls).
        """
        if self.applied_current_A == self.current_A:
            return
        offsets = self.integrator._blocks[0]
        array = guess.getArray()
        voltage = array[offsets[_VOLTAGE] : offsets[_VOLTAGE + 1]]
        at_state = bool(np.all(voltage == self.state_voltage_V / self.thermal_voltage_ref))
        at_state = self.comm.allreduce(at_state and voltage.size > 0, op=MPI.LOR)
        if not at_state:
            return
        change = (
            -self.resistance_ohm
            * (self.applied_current_A - self.current_A)
            / self.thermal_voltage_ref
        )
        voltage += change
        solid = array[offsets[_SOLID] : offsets[_SOLID + 1]]
        solid -= change
        solid[self._contact_owned] = 0.0

    def state(self) -> HalfCellState:
        """Integral quantities at the current state (collective)."""
        self.integrator.views.update()  # (the diagnostic forms read the unknowns through them)
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

    def accepted(self, time_s: float) -> None:
        """Bookkeeping after an accepted step ending at ``time_s`` at the applied current."""
        self.charge_passed_C += self.applied_current_A * (time_s - self.time_s)
        self.time_s = time_s
        voltage = self.voltage_V
        change = self.applied_current_A - self.current_A
        if change != 0 and (self.state_voltage_V - voltage) / change > 0:
            self.resistance_ohm = (self.state_voltage_V - voltage) / change
        self.current_A = self.applied_current_A
        self.state_voltage_V = voltage

    def step(self, time_step_s: float, current_A: float) -> int:
        """One implicit-Euler step at constant current; the state is kept only on success.

        The collector voltage V is an unknown of the Newton system, with the condition that the
        interface current equal ``current_A``. One Newton solve of the integrator
        (:meth:`TSIntegrator.make_consistent` with every field free and the rates of an
        implicit Euler step from the present state), for benchmarks that time single steps and
        for rests; a discharge runs its steps in one integration (:func:`.discharge`), whose
        first step TSBDF's restart precedes by a half step.

        Args:
            time_step_s: Step length [s].
            current_A: Applied current [A], positive on discharge.

        Returns:
            Newton iterations of the step.

        Raises:
            NewtonFailure: if Newton fails (the state before the step is restored).
        """
        before = self.unknowns.state()
        self.applied_current_A = current_A
        integrator = self.integrator
        guess = integrator.x.duplicate()
        integrator._store(self.u, guess)
        self.predict_voltage(guess)
        integrator._load(guess, self.u)
        guess.destroy()
        try:
            iterations = integrator.make_consistent(
                self.time_s + time_step_s,
                held=[],
                rate_step_s=time_step_s,
                reference=before,
                lagging=True,  # (a time step: the Jacobian reused as in a discharge's steps)
            )
        except IntegrationFailure as failure:
            self.unknowns.set_state(before)
            integrator.totals["rejected_steps"] += 1
            raise NewtonFailure("diverged", [], str(failure)) from None
        integrator.totals["steps"] += 1
        self.accepted(self.time_s + time_step_s)
        return iterations

    def physical_fields(self) -> dict[str, list[fem.Function]]:
        """SI-valued copies of the unknowns, per phase: electrolyte and particles."""
        names = [
            "electrolyte_concentration_mol_m3",
            "electrolyte_potential_V",
            "particle_concentration_mol_m3",
            "solid_potential_V",
        ]
        out: list[fem.Function] = []
        for function, scale, name in zip(self.u, self.scales, names, strict=False):
            copy = fem.Function(function.function_space, name=name)
            copy.x.array[:] = scale * function.x.array
            out.append(copy)
        out[_SOLID].x.array[:] += self.voltage_V  # phi_s = V + psi
        return {"electrolyte": out[:2], "particles": out[2:]}
