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
from pathlib import Path
from typing import Any

from mpi4py import MPI
from petsc4py import PETSc

import dolfinx
import numpy as np
import ufl
from dolfinx import fem
from dolfinx.fem.petsc import NonlinearProblem
from dolfinx.fem.petsc import assemble_vector as assemble_petsc_vector
from dolfinx.fem.petsc import assign as petsc_assign

from ..constants import FARADAY, GAS_CONSTANT
from ..forms.butler_volmer import (
    butler_volmer_current_density,
    double_layer_current_density,
    interfacial_current_density,
    overpotential,
)
from ..forms.electrolyte_conduction import (
    electrolyte_charge_conservation_residual,
    electrolyte_current_density,
)
from ..forms.electrolyte_diffusion import electrolyte_diffusion_residual, electrolyte_salt_flux
from ..forms.solid_conduction import solid_charge_conservation_residual, solid_current_density
from ..forms.solid_diffusion import solid_diffusion_residual
from ..meshes.gmsh_tools import physical_tag
from ..meshes.packing import Packing, packing_mesh
from ..output import PhaseTimer, ResultWriter
from ..parameters import chen2020
from ..parameters.base import CellParameters
from ..solver import NewtonFailure, petsc_options_from_case
from .base import Model
from .homogenise import _packing

__all__ = [
    "ITERATIVE_SOLVER",
    "HalfCellState",
    "MicrostructureHalfCell",
    "ResolvedHalfCell",
    "discharge",
    "particles_connected_to_collector",
    "step_with_halving",
]

#: PETSc options of the "iterative" linear solver (``linear_solver = "iterative"``): GMRES
#: preconditioned by one symmetric block Gauss-Seidel sweep (forward then backward) over the four
#: fields c_e, phi_e, c_s, phi_s, each diagonal block approximated by one GAMG V-cycle. The
#: backward sweep also carries the couplings above the block diagonal (the electrolyte rows'
#: dependence on the particle unknowns through Butler-Volmer, phi_e in the salt rows): against
#: the forward sweep alone it cut GMRES from 115-160 to 33-40 iterations per solve on 21 k
#: unknowns, and a 300 s step from 5.2 to 2.9 s.
#: The threshold 0.05 drops the weak Butler-Volmer couplings (about 1e-4 of the conduction terms)
#: from GAMG's aggregation graph: aggregates then never straddle a particle surface, so the
#: coarse spaces hold the potential of every particle cluster and of the electrolyte separately
#: (with threshold 0 GMRES stalls on these nearly free shifts). Plain (unsmoothed) aggregation:
#: smoothed aggregation needed fewer GMRES iterations but its Galerkin coarse operators filled
#: in (set-up 20x slower, ~20 GB at 1 M unknowns). ksp_rtol 1e-8 keeps the Newton iterations
#: and the voltage those of the direct solver.
ITERATIVE_SOLVER: dict[str, Any] = {
    "ksp_type": "gmres",
    "ksp_gmres_restart": 100,
    "ksp_rtol": 1e-8,
    "ksp_max_it": 2000,
    "pc_type": "fieldsplit",
    "pc_fieldsplit_type": "symmetric_multiplicative",
    **{
        f"fieldsplit_{field}_{key}": value
        for field in ("c_e", "phi_e", "c_s", "phi_s")
        for key, value in (
            ("ksp_type", "preonly"),
            ("pc_type", "gamg"),
            ("pc_gamg_threshold", 0.05),
            ("pc_gamg_agg_nsmooths", 0),
        )
    },
}

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


def particles_connected_to_collector(packing: Packing) -> np.ndarray:
    """Which particles a chain of overlapping particles links to the collector face x = 0.

    Args:
        packing: The particles (a particle cut by x = 0 touches the collector).

    Returns:
        One boolean per particle.
    """
    centres, radii = packing.centres, packing.radii
    distance = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=2)
    overlapping = distance < radii[:, None] + radii[None, :]
    connected = centres[:, 0] - radii < 0.0
    while True:
        grown = connected | overlapping[connected].any(axis=0)
        if np.array_equal(grown, connected):
            return connected
        connected = grown


def _owned_cells(mesh: dolfinx.mesh.Mesh, cells: np.ndarray) -> np.ndarray:
    return fem.compute_integration_domains(fem.IntegralType.cell, mesh.topology, cells)


class ResolvedHalfCell:
    """Positive-electrode particles, electrolyte and lithium counter electrode on one mesh.

    Args:
        mesh_data: Mesh with cell groups "electrolyte", "particles" (and "separator"), facet
            groups "interface", "collector" and "separator_side".
        parameters: Parameter set: its positive electrode and electrolyte are used.
        depth_m: Out-of-plane depth of a 2D mesh (ignored in 3D).
        temperature_K: Isothermal temperature (default: the set's ambient temperature).
        initial_stoichiometry: Initial c_s / c_s,max (default: the set's).
        double_layer: Add C_dl d(phi_s - phi_e)/dt to the interfacial current.
        lithium_exchange_current_density: j0 of the lithium-metal counter electrode [A/m2].
        petsc_options: SNES/KSP options.
    """

    def __init__(
        self,
        mesh_data,
        parameters: CellParameters,
        *,
        depth_m: float = 1.0,
        temperature_K: float | None = None,
        initial_stoichiometry: float | None = None,
        double_layer: bool = False,
        lithium_exchange_current_density: float = 10.0,
        petsc_options: dict[str, Any] | None = None,
    ):
        self.mesh_data = mesh_data
        self.mesh = mesh = mesh_data.mesh
        self.comm = mesh.comm
        self.parameters = parameters
        self.electrode = parameters.positive
        self.dim = mesh.geometry.dim
        self.depth_m = depth_m if self.dim == 2 else 1.0
        self.temperature_K = float(temperature_K or parameters.ambient_temperature_K)
        c_max = self.electrode.max_concentration_mol_m3
        self.initial_stoichiometry = (
            initial_stoichiometry
            if initial_stoichiometry is not None
            else self.electrode.initial_concentration_mol_m3 / c_max
        )
        self.double_layer = double_layer
        self.lithium_j0 = lithium_exchange_current_density
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
        names = ["c_e", "phi_e", "c_s", "phi_s"]
        self.u = [fem.Function(V, name=n) for V, n in zip(self.spaces, names, strict=True)]
        self.u_old = [fem.Function(V) for V in self.spaces]
        self.thermal_voltage_ref = GAS_CONSTANT * self.parameters.reference_temperature_K / FARADAY
        self.scales = [
            self.parameters.electrolyte.initial_concentration_mol_m3,
            self.thermal_voltage_ref,
            self.electrode.max_concentration_mol_m3,
            self.thermal_voltage_ref,
        ]

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
        self.particle_volume_m3 = self._integral(fem.form(one * self.dx(_PARTICLES)))
        self.collector_area_m2 = self._integral(fem.form(one * self.ds(_COLLECTOR)))
        self.interface_area_m2 = self._integral(fem.form(one * self.dS(_INTERFACE)))
        self.electrolyte_volume_m3 = self._integral(fem.form(one * self.dx(_ELECTROLYTE)))
        if self.collector_area_m2 <= 0 or self.interface_area_m2 <= 0:
            raise ValueError("no particle touches the collector, or no particle surface")

    def _integral(self, compiled) -> float:
        """Global value of a scalar form, times the depth of a 2D mesh."""
        local = fem.assemble_scalar(compiled)
        return self.comm.allreduce(local, op=MPI.SUM) * self.depth_m

    # ---------------------------------------------------------------- forms
    def _physical(self, i, functions=None):
        functions = self.u if functions is None else functions
        return self.scales[i] * functions[i]

    def _rate(self, i):
        return self.scales[i] * (self.u[i] - self.u_old[i]) / self.time_step

    def _forms(self) -> None:
        mesh, ep = self.mesh, self.electrode
        electrolyte = self.parameters.electrolyte
        dx, ds, dS = self.dx, self.ds, self.dS
        self.time_step = fem.Constant(mesh, 1.0)
        self.temperature = fem.Constant(mesh, self.temperature_K)
        # The collector is a metal: phi_s = V on the particles' contact with it.
        self.terminal_voltage = fem.Constant(mesh, 0.0)
        temperature = self.temperature
        thermal_voltage = GAS_CONSTANT * temperature / FARADAY
        v_ce, v_pe, w_cs, w_ps = ufl.TestFunctions(ufl.MixedFunctionSpace(*self.spaces))
        c_e, phi_e = self._physical(0), self._physical(1)
        c_s, phi_s = self._physical(2), self._physical(3)
        c_max = ep.max_concentration_mol_m3

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

        # Particle surface ("+") against the electrolyte ("-").
        c_surf, c_e_surf = c_s("+"), c_e("-")
        ocp = ep.open_circuit_potential(c_surf / c_max, temperature, mod=ufl)
        j0 = ep.exchange_current_density(c_e_surf, c_surf, c_max, temperature, mod=ufl)
        j_faradaic = butler_volmer_current_density(
            j0,
            overpotential(phi_s("+"), phi_e("-"), ocp),
            thermal_voltage,
            ep.anodic_transfer_coefficient,
            ep.cathodic_transfer_coefficient,
        )
        contributions = [j_faradaic]
        if self.double_layer and ep.double_layer_capacity_F_m2 > 0:
            contributions.append(
                double_layer_current_density(
                    ep.double_layer_capacity_F_m2, self._rate(3)("+") - self._rate(1)("-")
                )
            )
        j_total = interfacial_current_density(contributions)
        # Lithium metal at phi = 0: eta = 0 - phi_e - 0 (U = 0 vs Li/Li+).
        j_lithium = butler_volmer_current_density(
            fem.Constant(mesh, self.lithium_j0),
            overpotential(0.0, phi_e, 0.0),
            thermal_voltage,
        )

        current_scale = self.one_c_current_A / self.depth_m
        molar_scale = current_scale / FARADAY
        salt = electrolyte_diffusion_residual(
            self._rate(0),
            v_ce,
            1.0,
            n_e,
            dx(_ELECTROLYTE),
            [(j_faradaic / FARADAY, dS(_INTERFACE), "-"), (j_lithium / FARADAY, ds(_COUNTER))],
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
            [(j_faradaic / FARADAY, dS(_INTERFACE), "+")],
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
        self._current_derivative = compile_(
            ufl.extract_blocks(
                sum(ufl.derivative(current, u, t) for u, t in zip(self.u, tests, strict=True))
            )
        )
        self._current_sensitivity = 0.0
        self._diagnostic_forms = {
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
        names = [function.name for function in self.u]
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
        self._resistance_ohm: float | None = None
        self._before_step: tuple[float, float, float, float] | None = None

    def state(self) -> HalfCellState:
        """Integral quantities at the current state (collective)."""
        values = {name: self._integral(f) for name, f in self._diagnostic_forms.items()}
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
        that the interface current equal ``current_A`` (see :meth:`_bordered_newton`).

        Args:
            time_step_s: Step length [s].
            current_A: Applied current [A], positive on discharge.
            relative_tolerance: The current condition holds to this times max(|I|, I_1C).

        Returns:
            Newton iterations of the step.

        Raises:
            NewtonFailure: if Newton fails (the state before the step is restored).
        """
        for function, old in zip(self.u, self.u_old, strict=True):
            old.x.array[:] = function.x.array
        self.time_step.value = time_step_s
        try:
            iterations = self._bordered_newton(current_A, relative_tolerance)
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

    def _bordered_newton(self, current_A: float, relative_tolerance: float) -> int:
        """Newton's method on the unknowns u and the collector voltage V together.

        The discrete equations are R(u, V) = 0 (every law; V enters through the collector's
        Dirichlet condition) and g(u) = I(u) - I_app = 0 (I: the interface current). Each
        iteration solves the bordered system

            [ J    R_V ] [du]     [R]
            [ g_u   0  ] [dV] = - [g]

        by two solves with J: J du_1 = -R and J du_2 = -R_V, then
        dV = -(g + g_u . du_1) / (g_u . du_2) and du = du_1 + dV du_2. R_V is exact from two
        residuals (R is affine in V through the lifted boundary condition), g_u is the assembled
        derivative of I. Backtracking on ||R||^2 + (g / I_1C)^2 / N (N unknowns: the current
        weighs like one residual row per unknown) keeps the first step from rest, where
        Butler-Volmer switches on, from overshooting. This replaces secant iterations on V,
        each a whole Newton solve: a step now costs one Newton solve of twice the linear work.

        SNES options give the tolerances: converged when ||R|| <= max(atol, rtol ||R_0||) (or
        the update is below stol) and |g| <= ``relative_tolerance`` max(|I_app|, I_1C).
        """
        snes = self.problem.solver
        ksp = snes.getKSP()
        rtol, atol, stol, max_it = snes.getTolerances()
        x, residual = self.problem.x, self.problem.b
        jacobian = self.problem.A
        preconditioner = self.problem.P_mat or jacobian
        petsc_assign(self.u, x)
        guess = [function.x.array.copy() for function in self.u]
        guess_voltage = float(self.terminal_voltage.value)
        current_scale = max(abs(current_A), self.one_c_current_A)
        where = f"t = {self.time_s:g} s, I = {current_A:g} A"
        # The voltage predicted from the last step's resistance dV/dI (0.01 V per 1C at first).
        resistance = self._resistance_ohm or 0.01 / self.one_c_current_A
        voltage = (self.voltage_V - resistance * (current_A - self.current_A)) / (
            self.thermal_voltage_ref
        )

        def evaluate(v: float) -> tuple[float, float]:
            with self.timer.phase("residual"):
                self.terminal_voltage.value = v
                snes.computeFunction(x, residual)
                mismatch = self._integral(self._diagnostic_forms["interface"]) - current_A
                return residual.norm(), mismatch

        def done(iterations: int) -> int:
            # dI/dV of the converged step predicts the next step's voltage.
            if self._current_sensitivity < 0:
                self._resistance_ohm = -self.thermal_voltage_ref / self._current_sensitivity
            for vector in (rhs, du_1, du_2, voltage_derivative, residual_at_voltage):
                vector.destroy()
            self.residual_history = history
            return iterations

        def fail(reason: str) -> NewtonFailure:
            for vector in (rhs, du_1, du_2, voltage_derivative, residual_at_voltage):
                vector.destroy()
            for function, values in zip(self.u, guess, strict=True):
                function.x.array[:] = values
            self.terminal_voltage.value = guess_voltage
            return NewtonFailure(reason, history, where)

        rhs, du_1, du_2, voltage_derivative, residual_at_voltage = (
            residual.duplicate() for _ in range(5)
        )

        def converged(norm: float, mismatch: float, factor: float = 1.0) -> bool:
            return (
                norm <= factor * max(atol, rtol * first_norm)
                and abs(mismatch) <= relative_tolerance * current_scale
            )

        def merit(norm: float, mismatch: float) -> float:
            return norm**2 + (mismatch / self.one_c_current_A) ** 2 / unknowns

        norm, mismatch = evaluate(voltage)
        history = [norm]
        first_norm, step_norm = norm, np.inf
        unknowns = x.getSize()
        backtracking = snes.getLineSearch().getType() != "basic"
        for iteration in range(max_it + 1):
            if not np.isfinite(norm) or not np.isfinite(mismatch):
                raise fail("non-finite residual")
            update_small = iteration > 0 and step_norm <= stol * x.norm()
            if converged(0.0 if update_small else norm, mismatch):
                return done(iteration)
            if iteration == max_it:
                raise fail(f"no convergence in {max_it} iterations")
            # R_V: R is affine in V (the lifting of the Dirichlet condition at fixed u).
            residual.copy(residual_at_voltage)
            evaluate(voltage + 1.0)
            residual.copy(voltage_derivative)
            voltage_derivative.axpy(-1.0, residual_at_voltage)  # R(V + 1) - R(V)
            self.terminal_voltage.value = voltage
            with self.timer.phase("jacobian"):
                snes.computeJacobian(x, jacobian, preconditioner)
                current_derivative = assemble_petsc_vector(self._current_derivative, kind="mpi")
                current_derivative.ghostUpdate(PETSc.InsertMode.ADD, PETSc.ScatterMode.REVERSE)
                current_derivative.scale(self.depth_m)  # as in _integral
            with self.timer.phase("preconditioner_setup"):
                ksp.setOperators(jacobian, preconditioner)
                ksp.setUp()
            for b, solution in ((residual_at_voltage, du_1), (voltage_derivative, du_2)):
                b.copy(rhs)
                rhs.scale(-1.0)
                with self.timer.phase("linear_solve"):
                    ksp.solve(rhs, solution)
                self.linear_iterations += ksp.getIterationNumber()
                if ksp.getConvergedReason() < 0:
                    raise fail(f"linear solver: KSP reason {ksp.getConvergedReason()}")
            self._current_sensitivity = current_derivative.dot(du_2)
            if self._current_sensitivity == 0:
                raise fail("the current does not depend on the collector voltage")
            dvoltage = -(mismatch + current_derivative.dot(du_1)) / self._current_sensitivity
            current_derivative.destroy()
            du_1.axpy(dvoltage, du_2)  # du = du_1 + dV du_2
            self.newton_iterations += 1
            start_merit = merit(norm, mismatch)
            step = 1.0
            x.axpy(step, du_1)
            trial_norm, trial_mismatch = evaluate(voltage + step * dvoltage)
            while backtracking:
                trial_merit = merit(trial_norm, trial_mismatch)
                if np.isfinite(trial_merit) and (
                    trial_merit < (1 - 1e-4 * step) * start_merit
                    or converged(trial_norm, trial_mismatch)
                ):
                    break
                x.axpy(-step / 2, du_1)
                step /= 2
                if step < 1e-3:
                    if converged(norm, mismatch, factor=10.0):
                        # Within 10x of the tolerance and no step decreases the residual: the
                        # residual is at its round-off floor. Back to the point of ``norm``.
                        x.axpy(-step, du_1)
                        evaluate(voltage)
                        return done(iteration + 1)
                    raise fail("line search: no decrease of the residual")
                trial_norm, trial_mismatch = evaluate(voltage + step * dvoltage)
            voltage += step * dvoltage
            norm, mismatch = trial_norm, trial_mismatch
            step_norm = step * du_1.norm()
            history.append(norm)
        raise AssertionError("unreachable")

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


def step_with_halving(
    cell: ResolvedHalfCell,
    time_step_s: float,
    current_A: float,
    halvings: int,
    on_failure: Callable[[NewtonFailure, float], None] | None = None,
) -> tuple[float, int]:
    """One step of ``cell``, halved up to ``halvings`` times while Newton fails.

    Args:
        cell: The half cell.
        time_step_s: Step length tried first [s].
        current_A: Applied current, positive on discharge.
        halvings: How often the step may be halved.
        on_failure: Called with the failure and the halved step before each retry.

    Returns:
        The step length taken and the Newton iterations of the successful try.

    Raises:
        NewtonFailure: from the last try (the state before the step is kept).
    """
    for attempt in range(halvings + 1):
        try:
            return time_step_s, cell.step(time_step_s, current_A)
        except NewtonFailure as failure:
            if attempt == halvings:
                raise
            time_step_s /= 2
            if on_failure:
                on_failure(failure, time_step_s)
    raise AssertionError("unreachable")


def discharge(
    cell: ResolvedHalfCell,
    current_A: float,
    cutoff_voltage_V: float,
    duration_s: float,
    time_step_s: float,
    *,
    halvings: int = 8,
    on_row: Callable[[dict[str, float]], None] | None = None,
) -> str:
    """Galvanostatic discharge until the cut-off voltage (located in time) or the duration.

    Args:
        cell: The half cell, at its initial state.
        current_A: Applied current, positive on discharge.
        cutoff_voltage_V: The discharge stops when the voltage reaches it.
        duration_s: Longest discharge time.
        time_step_s: Time step (halved up to ``halvings`` times when Newton fails).
        halvings: How often one step may be halved.
        on_row: Called with every recorded row (t = 0 included).

    Returns:
        Why it ended: "cutoff" or "time".
    """

    def row() -> dict[str, float]:
        state = cell.state()
        return {
            "time_s": cell.time_s,
            "voltage_V": state.voltage_V,
            "current_A": current_A if cell.time_s > 0 else 0.0,
            "discharge_capacity_Ah": cell.charge_passed_C / 3600.0,
            "interface_current_A": state.interface_current_A,
            "counter_electrode_current_A": state.counter_electrode_current_A,
            "lithium_electrolyte_mol": state.lithium_electrolyte_mol,
            "lithium_particles_mol": state.lithium_particles_mol,
            "average_stoichiometry": state.average_stoichiometry,
        }

    previous = row()
    if on_row:
        on_row(previous)
    while cell.time_s < duration_s * (1 - 1e-12):
        dt, _ = step_with_halving(
            cell, min(time_step_s, duration_s - cell.time_s), current_A, halvings
        )
        current = row()
        if current["voltage_V"] <= cutoff_voltage_V:
            # Regula falsi on the step length: voltage is monotone in time on a discharge.
            low, v_low, high, v_high = 0.0, previous["voltage_V"], dt, current["voltage_V"]
            for _ in range(6):
                cell.undo()
                dt = low + (high - low) * (v_low - cutoff_voltage_V) / (v_low - v_high)
                cell.step(dt, current_A)
                current = row()
                if abs(current["voltage_V"] - cutoff_voltage_V) < 1e-6:
                    break
                if current["voltage_V"] > cutoff_voltage_V:
                    low, v_low = dt, current["voltage_V"]
                else:
                    high, v_high = dt, current["voltage_V"]
            if on_row:
                on_row(current)
            return "cutoff"
        previous = current
        if on_row:
            on_row(current)
    return "time"


_LINEAR_SOLVER_KEYS = ("ksp_type", "pc_type", "ksp_rtol")


def _petsc_options(solver: dict[str, Any]) -> dict[str, Any]:
    """SNES options of the case's ``[solver]`` table.

    The "mumps" preset keeps the model's default (PETSc LU in serial, MUMPS distributed); the
    model's own "iterative" preset is :data:`ITERATIVE_SOLVER`; other presets and
    ``[solver.petsc]`` apply as given.
    """
    if solver["linear_solver"] == "iterative":
        options = petsc_options_from_case({**solver, "linear_solver": "gmres-ilu", "petsc": {}})
        for key in _LINEAR_SOLVER_KEYS:
            options.pop(key, None)
        return {**options, **ITERATIVE_SOLVER, **solver["petsc"]}
    options = petsc_options_from_case(solver)
    if solver["linear_solver"] == "mumps" and "pc_factor_mat_solver_type" not in solver["petsc"]:
        for key in ("ksp_type", "pc_type", "pc_factor_mat_solver_type"):
            options.pop(key)
    return options


class MicrostructureHalfCell(Model):
    """Galvanostatic discharge of a resolved positive-electrode half cell (case model)."""

    name = "microstructure"
    description = "Microstructure-resolved half cell (particles, pores, lithium counter electrode)"

    def __init__(self, settings: dict[str, Any], case_dir: Path, comm: MPI.Comm):
        super().__init__(settings, case_dir, comm)
        self.packing: Packing | None = None
        self.cell: ResolvedHalfCell | None = None

    def build_mesh(self) -> dolfinx.mesh.Mesh:
        """Place the particles (rank 0), mesh them with gmsh and build the half cell."""
        m = self.settings["microstructure"]
        packing = _packing(m) if self.comm.rank == 0 else None
        self.packing = self.comm.bcast(packing, root=0)
        mesh_data = packing_mesh(
            self.comm,
            self.packing,
            element_size=m["element_size"],
            separator_thickness=m["separator_thickness"],
            segments_per_circle=m["segments_per_circle"],
            ghost_mode="shared_facet",
        )
        p = self.settings["parameters"]
        self.cell = ResolvedHalfCell(
            mesh_data,
            chen2020(),
            depth_m=m["depth"] if m["depth"] is not None else m["box"][1],
            temperature_K=p["temperature"],
            initial_stoichiometry=p["initial_stoichiometry"],
            double_layer=p["double_layer"],
            lithium_exchange_current_density=p["lithium_exchange_current_density"],
            petsc_options=_petsc_options(self.settings["solver"]),
        )
        return mesh_data.mesh

    @property
    def mesh(self) -> dolfinx.mesh.Mesh:
        """The distributed parent mesh (after :meth:`build_mesh`)."""
        assert self.cell is not None, "build_mesh first"
        return self.cell.mesh

    def unknowns(self) -> int:
        """Global number of unknowns of the four fields."""
        assert self.cell is not None, "build_mesh first"
        return sum(V.dofmap.index_map.size_global for V in self.cell.spaces)

    def diagnostics(self) -> dict[str, Any]:
        """Particles, volumes, interface area, capacity and the applied current."""
        cell = self.cell
        assert cell is not None and self.packing is not None, "build_mesh first"
        connected = particles_connected_to_collector(self.packing)
        volume = self.packing.radii**self.packing.dim
        return {
            "particles": len(self.packing.radii),
            "particles_connected_to_collector": int(connected.sum()),
            "connected_particle_volume_fraction": float(volume[connected].sum() / volume.sum()),
            "particle_volume_m3": cell.particle_volume_m3,
            "electrolyte_volume_m3": cell.electrolyte_volume_m3,
            "interface_area_m2": cell.interface_area_m2,
            "collector_contact_area_m2": cell.collector_area_m2,
            "capacity_Ah": cell.capacity_Ah,
            "applied_current_A": self._current_A(),
        }

    def _current_A(self) -> float:
        assert self.cell is not None
        return self.settings["discharge"]["c_rate"] * self.cell.one_c_current_A

    def run(
        self, writer: ResultWriter, timer: PhaseTimer, log: Callable[[str], None]
    ) -> dict[str, Any]:
        """Discharge until the cut-off; stream timeseries.csv, write fields of both phases."""
        cell = self.cell
        assert cell is not None, "build_mesh first"
        d, output = self.settings["discharge"], self.settings["output"]
        current = self._current_A()
        cutoff = d["cutoff_voltage"] or cell.parameters.lower_voltage_cutoff_V
        duration = d["duration"] or 1.2 * 3600.0 / d["c_rate"]
        fields = cell.physical_fields()
        writers = []
        if output["fields"]:
            writer.set_fields(fields["electrolyte"])
            particles = dolfinx.io.VTXWriter(
                self.comm, writer.path / "fields" / "particles.bp", fields["particles"]
            )
            writers.append(particles)
        # Profiles sample the pore phase (points inside particles are left out).
        writer.set_profiles(cell.electrolyte_mesh, output["profiles"])
        steps = [0]

        def write_fields() -> None:
            fresh = cell.physical_fields()
            for phase in fields:
                for target, source in zip(fields[phase], fresh[phase], strict=True):
                    target.x.array[:] = source.x.array
            writer.write_profiles(cell.time_s, {f.name: f for f in fields["electrolyte"]})
            if output["fields"]:
                writer.write_fields(cell.time_s)
                for vtx in writers:
                    vtx.write(cell.time_s)

        def on_row(row: dict[str, float]) -> None:
            writer.add_timeseries_row(row)
            if steps[0] % output["field_every"] == 0:
                write_fields()
            steps[0] += 1

        with timer.phase("solve"):
            termination = discharge(
                cell,
                current,
                cutoff,
                duration,
                d["time_step"],
                halvings=self.settings["solver"]["continuation_steps"],
                on_row=on_row,
            )
        if (steps[0] - 1) % output["field_every"] != 0:
            write_fields()  # the final state, unless just written
        for vtx in writers:
            vtx.close()
        state = cell.state()
        lithium = state.lithium_electrolyte_mol + state.lithium_particles_mol
        log(
            f"{termination} at t = {cell.time_s:.1f} s, V = {state.voltage_V:.4f} V, "
            f"{cell.charge_passed_C / 3600:.4e} Ah"
        )
        return {
            "termination": termination,
            "newton_iterations": cell.newton_iterations,
            "failed_solves": cell.failed_solves,
            "final_lithium_mol": lithium,
        }
