"""Problem layer of the PNP model: function space, named unknowns and the scaled weak form.

One weak form per law, from :mod:`electrolyx.forms`:

* Gauss's law (Poisson), :func:`~electrolyx.forms.gauss_law_residual`:
  -div(eps grad psi) = rho_e, rho_e = sum_k z_k c_k (scaled: lengths by lambda_D, psi = F phi /
  (R T), c_k by c_ref), with the surface charges and Stern layers of the boundaries;
* the Nernst-Planck flux of each species, :func:`~electrolyx.forms.nernst_planck_flux_log`:
  N_k = -D_k c_k (grad u_k + z_k grad psi) + c_k v, u_k = ln(c_k / c_ref);
* species conservation, :func:`~electrolyx.forms.species_conservation_residual`:
  dc_k/dt + div N_k = 0, with the reaction fluxes of the boundaries.

The unknowns are one blocked P1 function (psi, u_1, ..., u_N) named
``potential_and_log_concentrations`` and, for the time derivative, the blocked P1 function
(a_1, ..., a_N) named ``projected_concentrations``: the weighted L2 projection of c_k / c_ref =
exp(u_k) onto P1,

    int W (a_k - exp(u_k)) w dx = 0  for every P1 w   (W: the storage term's weight),

so that int W (da_k/dt) w dx = d/dt int W exp(u_k) w dx exactly, also for any BDF formula (it
is linear in the states). The storage term is written with da_k/dt, which PETSc TS supplies
(:class:`electrolyx.ts_integrator.TSIntegrator`): each species' amount changes only through
the boundaries, to the Newton tolerance, at any BDF order. A steady solve leaves da_k/dt = 0.

A current-controlled (galvanostatic) ``butler_volmer`` electrode adds two global unknowns, one
dof of a "Real" space each (as the DFN's lumped temperature): its metal potential
psi_M = F phi_M / (R T), named ``electrode_potential_NAME``, whose row is the electrode's total
current balance, faradaic plus charging, integrated in time
(:func:`.boundaries.galvanostatic_balance`), and the faradaic charge Q_F passed through it,
named ``faradaic_charge_NAME``, whose row is dQ_F/dt = j (:func:`.boundaries.faradaic_charge_rate`,
dQ_F/dt the BDF rate TS supplies). They are solved with the fields by the same Newton iteration
(the Jacobian couples them to the reaction plane's unknowns).

The mesh stays in metres: the scaled forms are obtained by
coefficients multiplied by powers of lambda_D (dx_hat = L^-d dx, ds_hat = L^(1-d) ds, grad_hat
= L grad), times 2 pi r on axisymmetric meshes.
"""

from __future__ import annotations

from typing import Any

import basix.ufl
import dolfinx
import numpy as np
import ufl
from dolfinx import fem

from ...forms import (
    gauss_law_residual,
    nernst_planck_flux_log,
    space_charge_density,
    species_conservation_residual,
)
from ...ts_integrator import TSTimeDerivative
from ...unknowns import Unknowns
from .boundaries import GalvanostaticUnknowns, boundary_terms
from .geometry import PNPGeometry
from .scales import PNPScales

__all__ = ["PROJECTED", "UNKNOWN", "PNPProblem"]

#: Name of the blocked unknown (psi, u_1, ..., u_N).
UNKNOWN = "potential_and_log_concentrations"
#: Name of the blocked unknown (a_1, ..., a_N): c_k / c_ref projected onto P1 (transient only).
PROJECTED = "projected_concentrations"


class PNPProblem:
    """Spaces, unknowns, boundary data and the scaled residual of a PNP case.

    The UFL expressions the residual is made of stay attributes, so that the outputs are
    evaluated from them (:mod:`.outputs`).

    Args:
        settings: The resolved case settings.
        geometry: The mesh and its named parts.
        scales: Reference scales.
    """

    def __init__(self, settings: dict[str, Any], geometry: PNPGeometry, scales: PNPScales):
        self.settings = settings
        self.geometry = geometry
        self.scales = scales
        self.comm = geometry.comm
        mesh = geometry.mesh
        self.species = settings["species"]
        n_species = len(self.species)
        length = scales.debye_length
        tdim = mesh.topology.dim
        #: Temperature of the laws [K] (one value: it sets the scaling psi = F phi / (R T)).
        self.temperature = fem.Constant(mesh, float(scales.temperature))
        # Scaled measures; 2 pi r on axisymmetric meshes.
        self.weight = geometry.measure_weight()
        self.volume = self.weight * fem.Constant(mesh, length**-tdim)
        self.area = self.weight * fem.Constant(mesh, length ** (1 - tdim))
        self.stiffness = self.weight * fem.Constant(mesh, length ** (2 - tdim))
        # Quadrature: UFL's degree estimate (exp(u) counts as degree + 2, so 5 for the P1
        # Jacobian) unless [discretisation] quadrature_degree fixes it (cheaper 3D assembly).
        quadrature = settings["discretisation"]["quadrature_degree"]
        metadata = {} if quadrature is None else {"quadrature_degree": quadrature}
        self.dx = ufl.Measure("dx", domain=mesh, metadata=metadata)

        element = basix.ufl.element("Lagrange", mesh.basix_cell(), 1, shape=(1 + n_species,))
        self.space = fem.functionspace(mesh, element)
        self.unknowns = Unknowns()
        self.unknowns.add(UNKNOWN, self.space, 1.0, differential=False)
        self.solution = self.unknowns[UNKNOWN].function
        species_element = basix.ufl.element("Lagrange", mesh.basix_cell(), 1, shape=(n_species,))
        self.projected_space = fem.functionspace(mesh, species_element)
        self.unknowns.add(PROJECTED, self.projected_space, 1.0, differential=True)
        self.projected = self.unknowns[PROJECTED].function
        #: Boundary name -> unknown name of each current-controlled electrode's psi_M.
        self.metal_potential_unknowns: dict[str, str] = {}
        #: Boundary name -> unknown name of each current-controlled electrode's Q_F.
        self.faradaic_charge_unknowns: dict[str, str] = {}
        real = fem.functionspace(mesh, basix.ufl.real_element(mesh.basix_cell(), dtype=np.float64))
        # Q_F in units of the diffuse layer's charge eps V_T / lambda_D; its row in units of
        # the current that moves it per charging time, F D_ref c_ref / lambda_D (the scale of
        # the reaction fluxes in the species' rows).
        self.charge_scale = scales.permittivity * scales.thermal_voltage / length
        for name, b in settings["boundaries"].items():
            if b["kind"] == "butler_volmer" and b["current_density"] is not None:
                potential = self.unknowns.add(
                    f"electrode_potential_{name}", real, scales.thermal_voltage, False
                )
                charge = self.unknowns.add(
                    f"faradaic_charge_{name}", real, self.charge_scale, differential=True
                )
                self.metal_potential_unknowns[name] = potential.name
                self.faradaic_charge_unknowns[name] = charge.name
        self.time_derivative = TSTimeDerivative(self.unknowns)
        galvanostatic = {
            name: GalvanostaticUnknowns(
                metal_potential=self.metal_potential(name),
                metal_potential_test=ufl.TestFunction(real),
                faradaic_charge=self.unknowns[charge].value(),
                faradaic_charge_rate=self.time_derivative.rate(charge),
                faradaic_charge_test=ufl.TestFunction(real),
                charge_scale=self.charge_scale,
                current_scale=self.charge_scale / scales.time,
            )
            for name, charge in self.faradaic_charge_unknowns.items()
        }
        # The blocked space's components (psi, u_1, ..., u_N), each made at its first use
        # (:meth:`component`): a subspace holds its own copy of the dofmap (16 B a tetrahedron,
        # 17 MiB a rank at 1.1 M unknowns on 2 ranks), and every Dirichlet condition on it keeps
        # it. The nanopore's reservoirs fix every component at once, on the blocked space.
        self._components: dict[int, fem.FunctionSpace] = {}
        self._output_space: fem.FunctionSpace | None = None
        # Positions of each component's dofs in the blocked array.
        self.component_dofs = [
            np.ravel(self.space.sub(i).collapse()[1]) for i in range(1 + n_species)
        ]
        self.scaled_potential = self.solution[0]
        self.log_concentrations = [self.solution[1 + k] for k in range(n_species)]
        #: c_k / c_ref (UFL).
        self.concentrations = [ufl.exp(u) for u in self.log_concentrations]
        self.charge_numbers = [sp["charge_number"] for sp in self.species]
        #: Scaled space-charge density rho_e / (F c_ref) = sum_k z_k c_k / c_ref (UFL).
        self.space_charge = space_charge_density(self.concentrations, self.charge_numbers, 1.0)
        bulk = np.array([sp["bulk_concentration"] for sp in self.species])
        self.initial_log_concentration = np.log(bulk / scales.concentration)

        self.boundaries = boundary_terms(
            settings,
            geometry,
            scales,
            self.space,
            self.component,
            self.scaled_potential,
            self.log_concentrations,
            self.area,
            self.temperature,
            galvanostatic,
        )
        self.bcs = self.boundaries.dirichlet
        self.permittivity, self.electrolyte = geometry.region_coefficients()
        self._pin_solid_concentrations()
        #: Scaled Nernst-Planck flux and storage rate of each species (UFL).
        self.fluxes = [self._flux(k) for k in range(n_species)]
        self.storage_rates = [self._storage_rate(k) for k in range(n_species)]
        self.residual = self._gauss_law()
        for k in range(n_species):
            self.residual += self._species_conservation(k)
        #: Residual of the projection a_k = c_k / c_ref (one row per species and node).
        self.projection_residual = self._projection()
        #: Dirichlet conditions of a_k (nodes in no electrolyte cell).
        self.projected_bcs: list[fem.DirichletBC] = []
        self._pin_solid_projections()

    def component(self, index: int) -> fem.FunctionSpace:
        """The blocked space's subspace ``index`` (0: psi, 1 + k: u_k), made once."""
        if index not in self._components:
            self._components[index] = self.space.sub(index)
        return self._components[index]

    @property
    def output_space(self) -> fem.FunctionSpace:
        """P1 scalar space of the output fields, made at its first use.

        A steady run builds its outputs after the solve with the solver released, so this
        space's dofmap is not held through the solve.
        """
        if self._output_space is None:
            self._output_space = self.space.sub(0).collapse()[0]
        return self._output_space

    @property
    def steady_residual(self) -> ufl.Form:
        """The fields' residual with every rate d/dt zero: the steady equations.

        The storage terms drop out of the form (UFL simplifies products with zero), so its
        assembly does not pack the rates (8 of 22 values per tetrahedron with two species).
        """
        zero_rates = {rate: ufl.zero(*rate.ufl_shape) for rate in self.time_derivative.functions}
        return ufl.replace(self.residual, zero_rates)

    @property
    def residuals(self) -> list[ufl.Form]:
        """The residual of each unknown, in block order.

        The fields, the projection, then per current-controlled electrode its current balance
        (the row of psi_M) and dQ_F/dt = j (the row of Q_F).
        """
        rows = [self.residual, self.projection_residual]
        for name in self.metal_potential_unknowns:
            rows.extend(self.boundaries.galvanostatic[name])
        return rows

    def set_time(self, t: float) -> None:
        """Time-dependent boundary data at time t (the applied currents)."""
        self.boundaries.set_time(t)

    def metal_potential(self, name: str) -> fem.Function:
        """The scaled metal potential psi_M of the current-controlled electrode ``name``."""
        return self.unknowns[self.metal_potential_unknowns[name]].function

    def _gauss_law(self) -> ufl.Form:
        """-div(eps grad psi) = rho_e in the scaled variables (ions only in the electrolyte)."""
        return gauss_law_residual(
            self.scaled_potential,
            ufl.TestFunction(self.space)[0],
            permittivity=self.stiffness * self.permittivity,
            charge_density=self.volume * self.electrolyte * self.space_charge,
            dx=self.dx,
            surface_charges=self.boundaries.surface_charges,
            stern_layers=self.boundaries.stern_layers,
        )

    def _flux(self, k: int) -> Any:
        """Scaled Nernst-Planck flux of species k (zero in dielectric cells)."""
        scales = self.scales
        velocity = None
        given_velocity = self.settings["flow"]["velocity"]
        if given_velocity is not None:
            dim = self.geometry.mesh.geometry.dim
            v = np.zeros(dim)
            v[: len(given_velocity)] = given_velocity[:dim]
            # Scaled velocity v lambda_D / D_ref. It multiplies grad(test) only once (a
            # diffusive flux has two gradients, hence L^(2-d)), so it takes L^(1-d).
            velocity = self.area * fem.Constant(
                self.geometry.mesh, v * scales.debye_length / scales.diffusivity
            )
        species = self.species[k]
        flux = nernst_planck_flux_log(
            self.log_concentrations[k],
            self.scaled_potential,
            self.stiffness * species["diffusivity"] / scales.diffusivity,
            species["charge_number"],
            velocity,
        )
        return self.electrolyte * flux

    def _storage_rate(self, k: int) -> Any:
        """Scaled d(c_k)/dt = t_ref da_k/dt (zero in dielectrics and in a steady solve)."""
        time_scale = fem.Constant(self.geometry.mesh, self.scales.time)
        rate = self.time_derivative.rate(PROJECTED)[k]
        return self.electrolyte * (self.volume * time_scale * rate)

    def _projection(self) -> ufl.Form:
        """Projection of c_k / c_ref: int W (a_k - exp(u_k)) w_k dx = 0, W the storage weight."""
        test = ufl.TestFunction(self.projected_space)
        weight = self.electrolyte * self.volume
        return sum(
            weight * (self.projected[k] - c) * test[k] * self.dx
            for k, c in enumerate(self.concentrations)
        )

    def _species_conservation(self, k: int) -> ufl.Form:
        """dc_k/dt + div N_k = 0 with the boundaries' reaction fluxes."""
        return species_conservation_residual(
            self.fluxes[k],
            ufl.TestFunction(self.space)[1 + k],
            self.dx,
            storage_rate=self.storage_rates[k],
            boundary_fluxes=self.boundaries.reaction_fluxes[k],
        )

    def _solid_nodes(self) -> np.ndarray:
        """Local P1 nodes that touch no electrolyte cell."""
        v = ufl.TestFunction(self.output_space)
        mesh = self.geometry.mesh
        touch = fem.assemble_vector(fem.form(self.electrolyte * v * ufl.dx(domain=mesh)))
        touch.scatter_reverse(dolfinx.la.InsertMode.add)
        touch.scatter_forward()
        return np.flatnonzero(touch.array == 0.0)

    def _pin_solid_concentrations(self) -> None:
        """Fix ln(c) at nodes that touch no electrolyte cell (their equations are empty)."""
        if not self.settings["regions"]:
            return
        mesh = self.geometry.mesh
        solid_nodes = self._solid_nodes()
        for k in range(len(self.species)):
            dofs = self.component_dofs[1 + k][solid_nodes].astype(np.int32)
            value = fem.Constant(mesh, float(self.initial_log_concentration[k]))
            self.bcs.append(fem.dirichletbc(value, dofs, self.component(1 + k)))

    def _pin_solid_projections(self) -> None:
        """Fix a_k at nodes that touch no electrolyte cell (their projection rows are empty)."""
        if not self.settings["regions"]:
            return
        solid_nodes = self._solid_nodes()
        bulk = np.exp(self.initial_log_concentration)
        for k in range(len(self.species)):
            component = self.projected_space.sub(k)
            dofs = np.ravel(component.collapse()[1])
            value = fem.Constant(self.geometry.mesh, float(bulk[k]))
            pinned = dofs[solid_nodes].astype(np.int32)
            self.projected_bcs.append(fem.dirichletbc(value, pinned, component))

    def set_ramp(self, value: float) -> None:
        """Multiply every boundary potential and charge by ``value`` (continuation)."""
        for constant, full, fixed in self.boundaries.ramped:
            constant.value = value * full + fixed

    def set_bulk_state(self) -> None:
        """The uniform bulk state: psi = 0, c_k = c_k,bulk (the initial guess and state)."""
        array = self.solution.x.array.reshape(-1, 1 + len(self.species))
        array[:, 0] = 0.0
        array[:, 1:] = self.initial_log_concentration
        self.solution.x.scatter_forward()
        projected = self.projected.x.array.reshape(-1, len(self.species))
        projected[:] = np.exp(self.initial_log_concentration)
        self.projected.x.scatter_forward()
        # psi_M of a current-controlled electrode starts at its equilibrium (eta = 0); the
        # consistent initialisation then solves it with the potential.
        for name in self.metal_potential_unknowns:
            equilibrium = self.settings["boundaries"][name]["equilibrium_potential"]
            metal = self.metal_potential(name)
            metal.x.array[:] = equilibrium / self.scales.thermal_voltage
            metal.x.scatter_forward()
            charge = self.unknowns[self.faradaic_charge_unknowns[name]].function
            charge.x.array[:] = 0.0  # no charge has passed at t = 0
            charge.x.scatter_forward()
