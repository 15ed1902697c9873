"""Poisson-Nernst-Planck model: N ionic species and the electric potential, no electroneutrality.

Equations (SI), for species k = 1..N with charge number z_k and diffusivity D_k:

    N_k = -D_k (grad c_k + z_k c_k F/(RT) grad phi) + c_k v    (Nernst-Planck flux)
    dc_k/dt + div N_k = 0                                      (species conservation)
    -div(eps_0 eps_r grad phi) = F sum_k z_k c_k               (Gauss's law)

Scaling (all unknowns and coefficients O(1)): lengths by the bulk Debye length
lambda_D = sqrt(eps_0 eps_r RT / (F^2 sum_k z_k^2 c_k,bulk)), potential by RT/F, concentrations by
c_ref = sum_k z_k^2 c_k,bulk, time by lambda_D^2 / D_max. Unknowns are psi = F phi/(RT) and
u_k = ln(c_k/c_ref), so that concentrations are positive by construction. The mesh stays in
metres: the scaled weak forms are obtained by passing coefficients multiplied by powers of
lambda_D (dx_hat = L^-d dx, ds_hat = L^(1-d) ds, grad_hat = L grad).

Boundary kinds (``[boundaries.NAME] kind = ...``): ``potential`` (phi fixed, no ion flux),
``reservoir`` (phi and all c_k fixed), ``surface_charge`` (eps grad(phi).n = sigma, no ion flux),
``stern`` (Robin eps grad(phi).n = C_S (phi_M - phi), no ion flux), ``blocking`` (no flux, no
charge; also what every boundary not listed gets).

Time stepping: variable-step BDF2 (BDF1 on the first step) on d(c_k)/dt with c_k = c_ref exp(u_k),
so that the amount of each species changes only through the boundaries (to the Newton
tolerance); the local error is estimated against the polynomial predictor and the step adapted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mpi4py import MPI

import basix.ufl
import dolfinx
import numpy as np
import ufl
from dolfinx import fem

from ..constants import FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY
from ..errors import CaseError
from ..forms import (
    gauss_law_residual,
    nernst_planck_flux_log,
    space_charge_density,
    species_conservation_residual,
)
from ..forms.kinetics import Kinetics
from ..integrator import AdaptiveBDF, BDFTimeDerivative, StepFailure
from ..mesh_input import build_mesh, mesh_boundary_names
from ..output import PhaseTimer, ResultWriter
from ..sampling import LineSampler
from ..solver import NewtonFailure, NewtonSolver, petsc_options_from_case
from ..time_stepping import BDFStepController
from ..unknowns import Unknowns
from .base import Model, require_boundaries

__all__ = ["PoissonNernstPlanck"]

_UNKNOWN = "potential_and_log_concentrations"
_AMOUNT_UNIT = {1: "m2", 2: "m", 3: ""}  # integral over the domain per (area, depth, nothing)


def _unit(base: str, tdim: int) -> str:
    """SI unit suffix of a domain integral of a quantity ``base``: C -> C_m2 in 1D, C_m in 2D."""
    suffix = _AMOUNT_UNIT[tdim]
    return f"{base}_{suffix}" if suffix else base


@dataclass(frozen=True)
class _Scales:
    """Reference scales of the PNP problem (SI)."""

    temperature: float
    thermal_voltage: float  # RT/F, V
    concentration: float  # c_ref = sum z^2 c_bulk, mol/m3
    debye_length: float  # m
    diffusivity: float  # m2/s
    permittivity: float  # eps_0 eps_r, F/m

    @property
    def time(self) -> float:
        """Charging time of the Debye layer, lambda_D^2 / D_max (s)."""
        return self.debye_length**2 / self.diffusivity

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> _Scales:
        temperature = settings["electrolyte"]["temperature"]
        thermal_voltage = GAS_CONSTANT * temperature / FARADAY
        species = settings["species"]
        c_ref = sum(s["charge_number"] ** 2 * s["bulk_concentration"] for s in species)
        permittivity = VACUUM_PERMITTIVITY * settings["electrolyte"]["relative_permittivity"]
        debye = math.sqrt(permittivity * thermal_voltage / (FARADAY * c_ref))
        return cls(
            temperature=temperature,
            thermal_voltage=thermal_voltage,
            concentration=c_ref,
            debye_length=debye,
            diffusivity=max(s["diffusivity"] for s in species),
            permittivity=permittivity,
        )


class PoissonNernstPlanck(Model):
    """Steady or transient Poisson-Nernst-Planck with log-concentration unknowns."""

    name = "pnp"
    description = "Poisson-Nernst-Planck ion transport where electroneutrality fails"

    @classmethod
    def check_consistency(cls, settings: dict[str, Any], case_dir: Path) -> None:
        """The mesh file exists; boundaries name boundaries the generator makes.

        The rules across keys that need only the settings (charged, electroneutral species, a
        potential reference, reacting species, conductance keys) are validators of
        :class:`electrolyx.settings.pnp.PNPSettings`.
        """
        problems = []
        boundaries = settings["boundaries"]
        mesh = settings["mesh"]
        if mesh["generator"] == "gmsh_file":
            if not (case_dir / mesh["path"]).is_file():
                problems.append(f"mesh.path = {mesh['path']!r}: no such file in {case_dir}")
        names = mesh_boundary_names(mesh)
        if names is not None:
            try:
                require_boundaries(boundaries, names)
            except CaseError as error:
                problems.extend(error.problems)
            conductance = settings["output"]["conductance"]
            if conductance["boundary"] is not None and conductance["boundary"] not in names:
                problems.append(
                    f"output.conductance.boundary = {conductance['boundary']!r}: allowed one of "
                    + ", ".join(repr(n) for n in names)
                )
        if problems:
            raise CaseError(problems)

    def __init__(self, settings: dict[str, Any], case_dir: Path, comm: MPI.Comm):
        super().__init__(settings, case_dir, comm)
        self.scales = _Scales.from_settings(settings)
        self.species = settings["species"]
        self.mesh_data: dolfinx.io.gmsh.MeshData | None = None

    # -- mesh ------------------------------------------------------------------------------
    def build_mesh(self) -> dolfinx.mesh.Mesh:
        """Make the mesh by gmsh (or read the .msh file) and distribute it."""
        self.mesh_data = build_mesh(
            self.settings["mesh"], self.case_dir, self.comm, self.scales.debye_length
        )
        mesh = self.mesh_data.mesh
        require_boundaries(self.settings["boundaries"], self.facet_groups())
        require_boundaries(self.settings["regions"], self.cell_groups(), where="regions")
        mesh.topology.create_connectivity(mesh.topology.dim - 1, mesh.topology.dim)
        return mesh

    @property
    def mesh(self) -> dolfinx.mesh.Mesh:
        """The distributed mesh (after :meth:`build_mesh`)."""
        assert self.mesh_data is not None, "build_mesh first"
        return self.mesh_data.mesh

    def facet_groups(self) -> list[str]:
        """Names of the mesh's boundary (facet) groups."""
        tdim = self.mesh_data.mesh.topology.dim
        return [n for n, g in self.mesh_data.physical_groups.items() if g.dim == tdim - 1]

    def cell_groups(self) -> list[str]:
        """Names of the mesh's regions (cell groups)."""
        tdim = self.mesh_data.mesh.topology.dim
        return [n for n, g in self.mesh_data.physical_groups.items() if g.dim == tdim]

    def unknowns(self) -> int:
        """Global unknowns: one potential and N log-concentrations per mesh vertex (P1)."""
        return self.mesh.topology.index_map(0).size_global * (1 + len(self.species))

    def smallest_feature(self) -> float:
        """Smallest geometric length: channel height, pore diameter, or the domain extent."""
        m = self.settings["mesh"]
        if m["generator"] == "slit_nanochannel":
            return 2 * m["channel_half_height"]
        if m["generator"] in ("cylindrical_nanopore", "axisymmetric_nanopore"):
            return 2 * m["pore_radius"]
        x = self.mesh.geometry.x
        lo, hi = np.empty(3), np.empty(3)
        self.comm.Allreduce(x.min(axis=0) if len(x) else np.full(3, np.inf), lo, op=MPI.MIN)
        self.comm.Allreduce(x.max(axis=0) if len(x) else np.full(3, -np.inf), hi, op=MPI.MAX)
        return float((hi - lo)[: self.mesh.geometry.dim].min())

    def diagnostics(self) -> dict[str, Any]:
        """Debye length, thermal voltage, smallest feature and the electroneutrality verdict."""
        s = self.scales
        feature = self.smallest_feature()
        ratio = s.debye_length / feature
        charged = [
            name
            for name, b in self.settings["boundaries"].items()
            if b["kind"] in ("potential", "surface_charge", "stern", "butler_volmer")
        ]
        if ratio >= 0.01:
            verdict = (
                f"PNP required: the Debye length is {ratio:.3g} of the smallest feature "
                "(double layers fill a significant part of the domain)"
            )
        elif charged:
            verdict = (
                f"electroneutral model adequate in the bulk (lambda_D/feature = {ratio:.3g} < "
                f"0.01), but the charged boundaries {charged} carry double layers that only "
                "PNP resolves"
            )
        else:
            verdict = f"electroneutral model adequate (lambda_D/feature = {ratio:.3g} < 0.01)"
        out: dict[str, Any] = {
            "debye_length_m": s.debye_length,
            "thermal_voltage_V": s.thermal_voltage,
            "ionic_strength_mol_m3": 0.5 * s.concentration,
            "debye_charging_time_s": s.time,
            "smallest_feature_m": feature,
            "debye_length_over_smallest_feature": ratio,
            "electroneutrality_verdict": verdict,
        }
        for name, b in self.settings["boundaries"].items():
            if "potential" in b:
                out[f"potential_{name}_over_thermal_voltage"] = b["potential"] / s.thermal_voltage
        velocity = self.settings["flow"]["velocity"]
        if velocity is not None:
            speed = float(np.linalg.norm(velocity))
            out["peclet_number_debye"] = speed * s.debye_length / s.diffusivity
            out["peclet_number_feature"] = speed * feature / s.diffusivity
        mesh_settings = self.settings["mesh"]
        if mesh_settings["generator"] == "interval" and mesh_settings["first_cell_size"]:
            out["first_cell_size_over_debye_length"] = (
                mesh_settings["first_cell_size"] / s.debye_length
            )
        return out

    # -- forms -----------------------------------------------------------------------------
    def _facets(self, name: str) -> np.ndarray:
        group = self.mesh_data.physical_groups[name]
        return self.mesh_data.facet_tags.find(group.tag)

    def _setup(self) -> None:
        """Function spaces, unknowns, boundary data and the scaled weak form."""
        mesh = self.mesh
        s = self.scales
        n_species = len(self.species)
        tdim = mesh.topology.dim
        length = s.debye_length
        # Axisymmetric meshes are the (r, z) half-plane: every integral carries 2 pi r.
        weight = self._measure_weight()
        volume = weight * fem.Constant(mesh, length**-tdim)
        area = weight * fem.Constant(mesh, length ** (1 - tdim))
        stiffness = weight * fem.Constant(mesh, length ** (2 - tdim))

        element = basix.ufl.element("Lagrange", mesh.basix_cell(), 1, shape=(1 + n_species,))
        self.space = fem.functionspace(mesh, element)
        # One blocked unknown: psi = F phi / (R T) and u_k = ln(c_k / c_ref) at each node.
        self.unknowns = Unknowns()
        self.unknowns.add(_UNKNOWN, self.space, 1.0, differential=True)
        self.solution = self.unknowns[_UNKNOWN].function
        self.time_derivative = BDFTimeDerivative(mesh, self.unknowns)
        self.output_space = self.space.sub(0).collapse()[0]
        # Positions of each component's dofs in the blocked array (collapse() returns them as a
        # list with one array in dolfinx 0.11).
        self._component_dofs = [
            np.ravel(self.space.sub(i).collapse()[1]) for i in range(1 + n_species)
        ]
        scaled_potential = self.solution[0]
        log_concentrations = [self.solution[1 + k] for k in range(n_species)]
        tests = ufl.TestFunction(self.space)

        # Boundary data, each multiplied by the continuation parameter `ramp`.
        self._ramped: list[tuple[fem.Constant, float]] = []
        self._reaction_currents: dict[str, tuple[Any, int]] = {}
        ds = ufl.Measure("ds", domain=mesh, subdomain_data=self.mesh_data.facet_tags)
        self.bcs: list[fem.DirichletBC] = []
        surface_charges = []
        stern_layers = []
        bulk = np.array([sp["bulk_concentration"] for sp in self.species])
        self.initial_log_concentration = np.log(bulk / s.concentration)

        def ramped(value: float) -> fem.Constant:
            c = fem.Constant(mesh, value)
            self._ramped.append((c, value))
            return c

        for name, b in self.settings["boundaries"].items():
            facets = self._facets(name)
            tag = self.mesh_data.physical_groups[name].tag
            kind = b["kind"]
            if kind in ("potential", "reservoir"):
                dofs = fem.locate_dofs_topological(self.space.sub(0), tdim - 1, facets)
                value = ramped(b["potential"] / s.thermal_voltage)
                self.bcs.append(fem.dirichletbc(value, dofs, self.space.sub(0)))
            if kind == "reservoir":
                given = b["concentrations"] or bulk
                for k in range(n_species):
                    dofs = fem.locate_dofs_topological(self.space.sub(1 + k), tdim - 1, facets)
                    value = fem.Constant(mesh, math.log(given[k] / s.concentration))
                    self.bcs.append(fem.dirichletbc(value, dofs, self.space.sub(1 + k)))
            elif kind == "surface_charge":
                sigma_hat = (
                    b["surface_charge_density"] * length / (s.permittivity * s.thermal_voltage)
                )
                surface_charges.append((area * ramped(sigma_hat), ds(tag)))
            elif kind == "stern":
                capacitance_hat = b["stern_capacitance"] * length / s.permittivity
                stern_layers.append(
                    (
                        area * fem.Constant(mesh, capacitance_hat),
                        ramped(b["potential"] / s.thermal_voltage),
                        ds(tag),
                    )
                )

        charge_numbers = [sp["charge_number"] for sp in self.species]
        concentrations = [ufl.exp(u) for u in log_concentrations]  # in units of c_ref
        permittivity, electrolyte = self._region_coefficients()
        self._pin_solid_concentrations(electrolyte)
        interior = self._interior_facet_groups()
        dS = ufl.Measure("dS", domain=mesh, subdomain_data=self.mesh_data.facet_tags)
        surface_charges = [
            (sigma, dS(m.subdomain_id()) if m.subdomain_id() in interior else m)
            for sigma, m in surface_charges
        ]
        # Reactive electrodes: Stern layer for the potential, Butler-Volmer flux of one species.
        reaction_fluxes: list[list[tuple[Any, Any]]] = [[] for _ in self.species]
        names = [sp["name"] for sp in self.species]
        for name, b in self.settings["boundaries"].items():
            if b["kind"] != "butler_volmer":
                continue
            tag = self.mesh_data.physical_groups[name].tag
            k = names.index(b["species"])
            metal = ramped(b["potential"] / s.thermal_voltage)
            stern_layers.append(
                (
                    area * fem.Constant(mesh, b["stern_capacitance"] * length / s.permittivity),
                    metal,
                    ds(tag),
                )
            )
            current = self._frumkin_current(b, k, metal, scaled_potential, log_concentrations[k])
            z = self.species[k]["charge_number"]
            # Outward flux N_k . n = -j/(z F), scaled by lambda_D / (D_ref c_ref).
            normal_flux = -current * length / (z * FARADAY * s.diffusivity * s.concentration)
            reaction_fluxes[k].append((area * normal_flux, ds(tag)))
            self._reaction_currents[name] = (current, tag)
        velocity = None
        if self.settings["flow"]["velocity"] is not None:
            v = np.zeros(mesh.geometry.dim)
            given_velocity = self.settings["flow"]["velocity"]
            v[: len(given_velocity)] = given_velocity[: mesh.geometry.dim]
            # Scaled velocity v lambda_D / D_ref. It multiplies grad(test) only once (a
            # diffusive flux has two gradients, hence L^(2-d)), so it takes L^(1-d).
            velocity = area * fem.Constant(mesh, v * length / s.diffusivity)
        # Quadrature: UFL's degree estimate (exp(u) counts as degree + 2, so 5 for the P1
        # Jacobian) unless [discretisation] quadrature_degree fixes it (cheaper 3D assembly).
        quadrature = self.settings["discretisation"]["quadrature_degree"]
        metadata = {} if quadrature is None else {"quadrature_degree": quadrature}
        dx = ufl.Measure("dx", domain=mesh, metadata=metadata)
        residual = gauss_law_residual(
            scaled_potential,
            tests[0],
            permittivity=stiffness * permittivity,
            charge_density=volume
            * electrolyte
            * space_charge_density(concentrations, charge_numbers, 1.0),
            dx=dx,
            surface_charges=surface_charges,
            stern_layers=stern_layers,
        )
        # dc_k/dt by BDF in the integrator's time (s), times the time scale: scaled time.
        time_scale = fem.Constant(mesh, s.time)
        self.fluxes = []
        self.storage_rates = []
        for k, sp in enumerate(self.species):
            flux = nernst_planck_flux_log(
                log_concentrations[k],
                scaled_potential,
                stiffness * sp["diffusivity"] / s.diffusivity,
                sp["charge_number"],
                velocity,
            )
            rate = (
                volume
                * time_scale
                * self.time_derivative.rate_of(_UNKNOWN, lambda u, k=k: ufl.exp(u[1 + k]))
            )
            # Ions live in the electrolyte only: dielectric cells carry no transport terms.
            flux, rate = electrolyte * flux, electrolyte * rate
            self.fluxes.append(flux)
            self.storage_rates.append(rate)
            residual += species_conservation_residual(
                flux, tests[1 + k], dx, storage_rate=rate, boundary_fluxes=reaction_fluxes[k]
            )
        self.residual = residual

        # Output fields in SI on P1.
        self.potential = fem.Function(self.output_space, name="potential_V")
        self.concentrations = [
            fem.Function(self.output_space, name=f"concentration_{sp['name']}_mol_m3")
            for sp in self.species
        ]
        self.charge_density = fem.Function(self.output_space, name="space_charge_density_C_m3")
        self.relative_net_charge = fem.Function(self.output_space, name="relative_net_charge")

        # Boundary fluxes by the consistent (residual) method: with chi_b the P1 function equal
        # to 1 on the nodes of boundary b, Gauss's theorem gives
        #   int_b sigma ds = int eps grad(phi) . grad(chi_b) dx - int rho_e chi_b dx,
        #   int_b N_k . n ds = int N_k . grad(chi_b) dx - int dc_k/dt chi_b dx,
        # which converge at the rate of the fields themselves (no differentiated field).
        # One compiled form each; chi is refilled per boundary.
        self._indicator = fem.Function(self.output_space)
        self._boundary_dofs: dict[str, np.ndarray] = {}
        chi = self._indicator
        rho_hat = space_charge_density(concentrations, charge_numbers, 1.0)
        charge_scale = s.permittivity * s.thermal_voltage * length ** (tdim - 2)
        self._surface_charge_form = fem.form(
            charge_scale
            * (
                stiffness * permittivity * ufl.inner(ufl.grad(scaled_potential), ufl.grad(chi)) * dx
                - volume * electrolyte * rho_hat * chi * dx
            )
        )
        flux_scale = FARADAY * s.diffusivity * s.concentration * length ** (tdim - 2)
        self._current_form = fem.form(
            flux_scale
            * sum(
                z * (ufl.inner(flux, ufl.grad(chi)) * dx - rate * chi * dx)
                for z, flux, rate in zip(
                    charge_numbers, self.fluxes, self.storage_rates, strict=True
                )
            )
        )
        self._reaction_current_forms = {
            name: fem.form(weight * current * ds(tag))
            for name, (current, tag) in self._reaction_currents.items()
        }
        # Charge per region: a cell indicator refilled per region.
        self._region_indicator = fem.Function(fem.functionspace(mesh, ("DG", 0)))
        self._region_charge_form = fem.form(
            weight * FARADAY * s.concentration * electrolyte * rho_hat * self._region_indicator * dx
        )
        self._amount_forms = [
            fem.form(weight * s.concentration * electrolyte * c * dx) for c in concentrations
        ]
        # Probes and four-probe conductance.
        probes = self.settings["output"]["probes"]
        conductance = self.settings["output"]["conductance"]
        points = [p["point"] for p in probes]
        if conductance["boundary"] is not None:
            points += [conductance["probe_start"], conductance["probe_end"]]
        padded = np.zeros((len(points), 3))
        for i, p in enumerate(points):
            padded[i, : len(p)] = p
        self._probe_points = padded
        self._probe_sampler = LineSampler(mesh, padded) if len(points) else None

    @property
    def axisymmetric(self) -> bool:
        """Whether the mesh is the (r, z) half-plane of an axisymmetric geometry."""
        return self.settings["mesh"]["generator"] == "axisymmetric_nanopore"

    def _measure_weight(self) -> Any:
        """2 pi r on axisymmetric meshes (x = r), else 1."""
        if self.axisymmetric:
            return 2 * math.pi * ufl.SpatialCoordinate(self.mesh)[0]
        return fem.Constant(self.mesh, 1.0)

    def _region_coefficients(self) -> tuple[fem.Function, fem.Function]:
        """Relative permittivity (over the electrolyte's) and electrolyte indicator, per cell."""
        mesh = self.mesh
        cells = fem.functionspace(mesh, ("DG", 0))
        permittivity = fem.Function(cells, name="relative_permittivity_ratio")
        electrolyte = fem.Function(cells, name="electrolyte_indicator")
        permittivity.x.array[:] = 1.0
        electrolyte.x.array[:] = 1.0
        eps_electrolyte = self.settings["electrolyte"]["relative_permittivity"]
        tags = self.mesh_data.cell_tags
        for name, region in self.settings["regions"].items():
            found = tags.find(self.mesh_data.physical_groups[name].tag)
            permittivity.x.array[found] = region["relative_permittivity"] / eps_electrolyte
            electrolyte.x.array[found] = 0.0
        permittivity.x.scatter_forward()
        electrolyte.x.scatter_forward()
        self._electrolyte_cells = electrolyte
        return permittivity, electrolyte

    def _pin_solid_concentrations(self, electrolyte: fem.Function) -> None:
        """Fix ln(c) at nodes that touch no electrolyte cell (their equations are empty)."""
        if not self.settings["regions"]:
            return
        v = ufl.TestFunction(self.output_space)
        touch = fem.assemble_vector(fem.form(electrolyte * v * ufl.dx(domain=self.mesh)))
        touch.scatter_reverse(dolfinx.la.InsertMode.add)
        touch.scatter_forward()
        solid_nodes = np.flatnonzero(touch.array == 0.0)
        for k in range(len(self.species)):
            dofs = self._component_dofs[1 + k][solid_nodes].astype(np.int32)
            value = fem.Constant(self.mesh, float(self.initial_log_concentration[k]))
            self.bcs.append(fem.dirichletbc(value, dofs, self.space.sub(1 + k)))

    def _interior_facet_groups(self) -> set[int]:
        """Tags of facet groups that lie inside the mesh (solid/electrolyte interfaces)."""
        mesh = self.mesh
        tdim = mesh.topology.dim
        mesh.topology.create_connectivity(tdim - 1, tdim)
        exterior = set(dolfinx.mesh.exterior_facet_indices(mesh.topology).tolist())
        num_owned = mesh.topology.index_map(tdim - 1).size_local
        interior = set()
        for name in self.facet_groups():
            tag = self.mesh_data.physical_groups[name].tag
            facets = self.mesh_data.facet_tags.find(tag)
            owned = facets[facets < num_owned]
            local = any(int(f) not in exterior for f in owned)
            if self.comm.allreduce(local, op=MPI.LOR):
                interior.add(tag)
        return interior

    def _frumkin_current(
        self, boundary: dict[str, Any], k: int, metal: fem.Constant, psi: Any, log_c: Any
    ) -> Any:
        """Frumkin-corrected current density (A/m2, anodic > 0) at the plane.

        The kinetic law is the boundary's ``kinetics`` (Butler-Volmer by default).

        For M^z+ + z e- <-> M with j0 = j0_bulk (c/c_bulk)^a_a and the Nernst potential
        U + (RT/zF) ln(c/c_bulk), the DFN form j0 [exp(a_a eta'/V) - exp(-a_c eta'/V)] with
        V = RT/(zF) becomes j0_bulk [exp(a_a z eta/V_T) - (c/c_bulk) exp(-a_c z eta/V_T)]
        (a_a + a_c = 1), eta = phi_M - phi - U, all at the reaction plane.
        """
        s = self.scales
        mesh = self.mesh
        z = self.species[k]["charge_number"]
        bulk = self.species[k]["bulk_concentration"]
        log_ratio = log_c + math.log(s.concentration / bulk)  # ln(c / c_bulk)
        thermal = fem.Constant(mesh, s.thermal_voltage)
        overpotential_nernst = (
            thermal * (metal - psi)
            - fem.Constant(mesh, boundary["equilibrium_potential"])
            - thermal / z * log_ratio
        )
        j0 = fem.Constant(mesh, boundary["exchange_current_density"]) * ufl.exp(
            boundary["anodic_transfer_coefficient"] * log_ratio
        )
        kinetics = Kinetics(
            boundary["kinetics"],
            boundary["anodic_transfer_coefficient"],
            boundary["cathodic_transfer_coefficient"],
            boundary["reorganisation_energy"],
            boundary["tafel_direction"] or "anodic",
        )
        return kinetics.current_density(j0, overpotential_nernst, thermal / z)

    def _boundary_integral(self, form: fem.Form, name: str) -> float:
        """Assemble ``form`` with the indicator of boundary ``name`` (summed over ranks)."""
        if name not in self._boundary_dofs:
            self._boundary_dofs[name] = fem.locate_dofs_topological(
                self.output_space, self.mesh.topology.dim - 1, self._facets(name)
            )
        chi = self._indicator
        chi.x.array[:] = 0.0
        chi.x.array[self._boundary_dofs[name]] = 1.0
        chi.x.scatter_forward()
        return self.comm.allreduce(fem.assemble_scalar(form), op=MPI.SUM)

    def _boundary_measure(self, name: str) -> float:
        """Length/area of boundary ``name`` (1 per point in 1D), from the facet geometry."""
        mesh = self.mesh
        fdim = mesh.topology.dim - 1
        facets = self._facets(name)
        facets = facets[facets < mesh.topology.index_map(fdim).size_local]  # owned only
        if fdim == 0:
            local = float(len(facets))
        else:
            nodes = dolfinx.mesh.entities_to_geometry(mesh, fdim, facets)
            x = mesh.geometry.x[nodes]
            if fdim == 1:
                lengths = np.linalg.norm(x[:, 1] - x[:, 0], axis=1)
                if self.axisymmetric:  # frustum areas 2 pi r_mid l, exact for segments
                    lengths = lengths * 2 * math.pi * 0.5 * (x[:, 0, 0] + x[:, 1, 0])
                local = float(lengths.sum())
            else:
                cross = np.cross(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0])
                local = float(0.5 * np.linalg.norm(cross, axis=1).sum())
        return self.comm.allreduce(local, op=MPI.SUM)

    # -- solve -----------------------------------------------------------------------------
    def prepare(self) -> None:
        """Build the function spaces, the scaled weak form and the Newton solver."""
        self._setup()
        options = petsc_options_from_case(self.settings["solver"])
        self.solver = NewtonSolver(self.residual, self.solution, self.bcs, options, name="pnp")
        self._measures = {n: self._boundary_measure(n) for n in self.facet_groups()}

    def _set_ramp(self, value: float) -> None:
        for constant, full in self._ramped:
            constant.value = value * full

    def _initial_guess(self) -> None:
        bs = 1 + len(self.species)
        array = self.solution.x.array.reshape(-1, bs)
        array[:, 0] = 0.0
        array[:, 1:] = self.initial_log_concentration
        self.solution.x.scatter_forward()

    def solve(self, log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
        """Solve the steady problem (after :meth:`prepare`); return continuation details.

        Newton starts from the uniform bulk state; if it fails, the boundary potentials and
        charges are ramped up from zero (continuation), halving failed steps.

        Raises:
            NewtonFailure: if neither Newton nor continuation converged.
        """
        self.time_derivative.steady()
        self._set_ramp(1.0)
        self._initial_guess()
        history: list[dict[str, Any]] = []
        try:
            its = self.solver.solve(where="steady solve")
            history.append({"ramp": 1.0, "newton_iterations": its})
            log(f"steady solve converged in {its} Newton iterations")
            return {"continuation": history}
        except NewtonFailure as failure:
            log(f"{failure}; retrying by continuation in the boundary potentials")
            history.append({"ramp": 1.0, "failed": failure.reason})
        self._initial_guess()
        done, step, halvings = 0.0, 0.25, 0
        max_halvings = self.settings["solver"]["continuation_steps"]
        saved = self.solution.x.array.copy()
        while done < 1.0:
            target = min(1.0, done + step)
            self._set_ramp(target)
            try:
                its = self.solver.solve(where=f"continuation step to {target:.4g} of the load")
            except NewtonFailure as failure:
                history.append({"ramp": target, "failed": failure.reason})
                self.solution.x.array[:] = saved
                halvings += 1
                step *= 0.5
                if halvings > max_halvings:
                    raise NewtonFailure(
                        failure.reason,
                        failure.residuals,
                        f"continuation: stuck at {done:.4g} of the boundary potentials after "
                        f"{max_halvings} step halvings (last step {2 * step:.3g})",
                    ) from None
                log(f"continuation step to {target:.4g} failed; halving the step")
                continue
            history.append({"ramp": target, "newton_iterations": its})
            log(f"continuation: {target:.4g} of the boundary potentials reached ({its} its)")
            done = target
            saved = self.solution.x.array.copy()
            step *= 2.0
        return {"continuation": history}

    def output_times(self) -> np.ndarray:
        """Times at which fields and profiles are written in a transient study."""
        study = self.settings["study"]
        if study["output_times"] is not None:
            return np.unique(np.asarray(study["output_times"], dtype=float))
        first = study["initial_step"] or 1e-3 * self.scales.time
        end = study["end_time"]
        decades = max(math.log10(end / first), 1e-12)
        count = max(int(math.ceil(decades * study["outputs_per_decade"])), 1)
        return np.unique(np.append(np.logspace(math.log10(first), math.log10(end), count), end))

    def newton_solve(self, dt: float) -> tuple[bool, int]:
        """One Newton solve of a time step (for the integrator); (converged, iterations)."""
        try:
            iterations = self.solver.solve(where=f"a step of {dt:.3g} s")
        except NewtonFailure as failure:
            self._last_failure = failure
            return False, len(failure.residuals)
        return True, iterations

    def solve_transient(
        self,
        on_step: Callable[[float, bool], None],
        log: Callable[[str], None] = lambda _: None,
    ) -> dict[str, Any]:
        """March from the uniform bulk state to ``end_time`` (:class:`AdaptiveBDF`).

        Args:
            on_step: Called after every accepted step with (time, is_output_time).
            log: Progress messages (rank 0 prints).

        Raises:
            NewtonFailure: when a step still fails after ``max_step_cuts`` cuts; everything
                written for earlier steps is kept.
        """
        study = self.settings["study"]
        end = study["end_time"]
        controller = BDFStepController(
            relative_tolerance=study["relative_tolerance"],
            absolute_tolerance=study["absolute_tolerance"],
            initial_step_s=study["initial_step"] or 1e-3 * self.scales.time,
            max_step_s=study["max_step"] or end / 20,
            min_step_s=1e-12 * self.scales.time,
        )
        integrator = AdaptiveBDF(self, controller, max_step_cuts=study["max_step_cuts"])
        self._set_ramp(1.0)
        self._initial_guess()
        integrator.restart(0.0)
        on_step(0.0, True)
        outputs = [t for t in self.output_times() if t > 0.0]
        next_report = [0.1]

        def accepted(dt: float) -> None:
            t = integrator.time
            is_output = any(abs(t - o) <= 1e-9 * o for o in outputs)
            on_step(t, is_output)
            if t >= next_report[0] * end or is_output:
                statistics = integrator.statistics
                log(
                    f"t = {t:.4g} s ({100 * t / end:.0f} %), step {dt:.3g} s, "
                    f"{statistics.accepted_steps} steps accepted, "
                    f"{statistics.rejected_steps} rejected"
                )
                while next_report[0] * end <= t:
                    next_report[0] += 0.1

        integrator.on_accept = accepted
        try:
            integrator.run(end, output_times=outputs)
        except StepFailure as failure:
            last = getattr(self, "_last_failure", None)
            raise NewtonFailure(
                last.reason if last else "diverged", last.residuals if last else [], str(failure)
            ) from None
        statistics = integrator.statistics
        return {
            "accepted_steps": statistics.accepted_steps,
            "rejected_steps": statistics.rejected_steps - statistics.newton_failures,
            "step_cuts": statistics.newton_failures,
        }

    # -- outputs ---------------------------------------------------------------------------
    def update_outputs(self) -> dict[str, float]:
        """Fill the SI output fields from the solution; return the scalar outputs."""
        s = self.scales
        u = self.solution.x.array
        self.potential.x.array[:] = s.thermal_voltage * u[self._component_dofs[0]]
        rho = np.zeros_like(self.potential.x.array)
        total = np.zeros_like(rho)
        for k, sp in enumerate(self.species):
            c = s.concentration * np.exp(u[self._component_dofs[1 + k]])
            self.concentrations[k].x.array[:] = c
            rho += sp["charge_number"] * c
            total += abs(sp["charge_number"]) * c
        self.charge_density.x.array[:] = FARADAY * rho
        self.relative_net_charge.x.array[:] = np.abs(rho) / total
        tdim = 3 if self.axisymmetric else self.mesh.topology.dim  # dimension of the results
        row: dict[str, float] = {}
        charged = [
            n
            for n, b in self.settings["boundaries"].items()
            if b["kind"] in ("potential", "stern", "surface_charge", "butler_volmer")
        ]
        for name in charged:
            column = "surface_charge_C_m2" if len(charged) == 1 else f"surface_charge_{name}_C_m2"
            charge = self._boundary_integral(self._surface_charge_form, name)
            row[column] = charge / self._measures[name]
        for name, form in self._reaction_current_forms.items():
            current = self.comm.allreduce(fem.assemble_scalar(form), op=MPI.SUM)
            row[f"faradaic_current_{name}_{_unit('A', tdim)}"] = current
        currents = {}
        for name in self.facet_groups():
            currents[name] = self._boundary_integral(self._current_form, name)
            row[f"ionic_current_{name}_{_unit('A', tdim)}"] = currents[name]
        regions = self.cell_groups()
        tags = self.mesh_data.cell_tags
        for name in regions:
            indicator = self._region_indicator
            indicator.x.array[:] = 0.0
            indicator.x.array[tags.find(self.mesh_data.physical_groups[name].tag)] = 1.0
            row[f"charge_{name}_{_unit('C', tdim)}"] = self.comm.allreduce(
                fem.assemble_scalar(self._region_charge_form), op=MPI.SUM
            )
        for sp, form in zip(self.species, self._amount_forms, strict=True):
            amount = self.comm.allreduce(fem.assemble_scalar(form), op=MPI.SUM)
            row[f"amount_{sp['name']}_{_unit('mol', tdim)}"] = amount
        if self._probe_sampler is not None:
            values = self._probe_sampler.evaluate(self.potential)
            values = self.comm.bcast(None if values is None else values[:, 0], root=0)
            probes = self.settings["output"]["probes"]
            for i, p in enumerate(probes):
                row[f"potential_{p['name']}_V"] = float(values[i])
            conductance = self.settings["output"]["conductance"]
            if conductance["boundary"] is not None:
                start, end = values[len(probes)], values[len(probes) + 1]
                distance = float(np.linalg.norm(self._probe_points[-1] - self._probe_points[-2]))
                scale = distance / (conductance["length"] or distance)
                current = abs(currents[conductance["boundary"]])
                row[f"conductance_{_unit('S', tdim)}"] = current / abs(start - end) * scale
        return row

    def output_fields(self) -> list[fem.Function]:
        """Fields written to ParaView files and sampled along profiles."""
        return [self.potential, *self.concentrations, self.charge_density, self.relative_net_charge]

    def run(
        self, writer: ResultWriter, timer: PhaseTimer, log: Callable[[str], None]
    ) -> dict[str, Any]:
        """Solve the steady or transient problem and write the outputs."""
        with timer.phase("forms"):
            self.prepare()
            fields = self.output_fields()
            writer.set_profiles(self.mesh, self.settings["output"]["profiles"])
            if self.settings["output"]["fields"]:
                writer.set_fields(fields)

        def write(t: float, fields_too: bool) -> dict[str, float]:
            row = {"time_s": t, **self.update_outputs()}
            writer.add_timeseries_row(row)
            if fields_too:
                writer.write_profiles(t, {f.name: f for f in fields})
                writer.write_fields(t)
            return row

        if self.settings["study"]["type"] == "steady":
            with timer.phase("solve"):
                details = self.solve(log)
            with timer.phase("output"):
                row = write(0.0, True)
            for key, value in row.items():
                if key != "time_s":
                    log(f"{key} = {value:.6g}")
        else:
            output_time = 0.0

            def on_step(t: float, is_output: bool) -> None:
                nonlocal output_time
                start = MPI.Wtime()
                write(t, is_output)
                output_time += MPI.Wtime() - start

            with timer.phase("solve"):
                details = self.solve_transient(on_step, log)
            timer.seconds["solve"] -= output_time
            timer.seconds["output"] = timer.seconds.get("output", 0.0) + output_time
        return {**self.solver.statistics.as_dict(), **details}
