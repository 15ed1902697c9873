"""Poisson-Nernst-Planck model: N ionic species and the electric potential, no electroneutrality.

Equations (SI), for species k = 1..N with charge number z_k and diffusivity D_k:

    N_k = -D_k (grad c_k + z_k c_k F/(RT) grad phi)           (Nernst-Planck flux)
    div N_k = 0                                                (steady species conservation)
    -div(eps_0 eps_r grad phi) = F sum_k z_k c_k               (Gauss's law)

Scaling (all unknowns and coefficients O(1)): lengths by the bulk Debye length
lambda_D = sqrt(eps_0 eps_r RT / (F^2 sum_k z_k^2 c_k,bulk)), potential by RT/F, concentrations by
c_ref = sum_k z_k^2 c_k,bulk. Unknowns are psi = F phi/(RT) and u_k = ln(c_k/c_ref), so that
concentrations are positive by construction. The mesh stays in metres: the scaled weak forms
are obtained by passing coefficients multiplied by powers of lambda_D (``_Scales``).

Boundary kinds (``[boundaries.NAME] kind = ...``): ``potential`` (phi fixed, no ion flux),
``reservoir`` (phi and all c_k fixed), ``surface_charge`` (eps grad(phi).n = sigma, no ion flux),
``stern`` (Robin eps grad(phi).n = C_S (phi_M - phi), no ion flux), ``blocking`` (no flux, no
charge; also what every boundary not listed gets).
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
import dolfinx.fem.petsc
import numpy as np
import ufl
from dolfinx import fem

from ..constants import FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY
from ..forms import (
    gauss_law_residual,
    nernst_planck_flux_log,
    space_charge_density,
    species_conservation_residual,
)
from ..meshes import graded_interval
from ..output import PhaseTimer, ResultWriter
from ..schema import CaseError, Key, NamedTables, Table, TableArray, Variant
from ..solver import NewtonFailure, NewtonSolver, petsc_options_from_case
from .base import Model, case_table, mesh_variant, output_table, require_boundaries, solver_table

__all__ = ["PoissonNernstPlanck"]

_POTENTIAL = Key("float", "Electric potential of the boundary.", unit="V")

_BOUNDARY = Variant(
    "Boundary conditions by boundary name (physical-group name of the mesh). Boundaries not "
    "listed are blocking: no ion flux and no surface charge.",
    "kind",
    {
        "potential": Table(
            "Electrode or wall at a fixed potential (zeta potential); no ion flux.",
            {"potential": _POTENTIAL},
        ),
        "reservoir": Table(
            "Bulk reservoir: fixed potential and concentrations.",
            {
                "potential": Key(
                    "float", "Electric potential of the reservoir.", unit="V", default=0.0
                ),
                "concentrations": Key(
                    "floats",
                    "Concentration of each species, in [[species]] order (default: bulk).",
                    unit="mol/m3",
                    default=None,
                ),
            },
        ),
        "surface_charge": Table(
            "Charged wall: fixed surface charge density, no ion flux.",
            {"surface_charge_density": Key("float", "Surface charge density sigma.", unit="C/m2")},
        ),
        "stern": Table(
            "Metal at a fixed potential behind a Stern layer of given capacitance; no ion flux.",
            {
                "potential": _POTENTIAL,
                "stern_capacitance": Key(
                    "float",
                    "Stern-layer capacitance per area, C_S = eps_S / lambda_S.",
                    unit="F/m2",
                    low=0.0,
                    low_open=True,
                ),
            },
        ),
        "blocking": Table("No ion flux, no surface charge.", {}),
    },
)

SCHEMA = Table(
    "Poisson-Nernst-Planck case.",
    {
        "case": case_table(("pnp",)),
        "electrolyte": Table(
            "The solvent and conditions.",
            {
                "temperature": Key(
                    "float", "Temperature.", unit="K", default=298.15, low=0.0, low_open=True
                ),
                "relative_permittivity": Key(
                    "float",
                    "Relative permittivity of the electrolyte (78.5 for water at 25 C).",
                    default=78.5,
                    low=0.0,
                    low_open=True,
                ),
            },
        ),
        "species": TableArray(
            "Ionic species; their bulk concentrations must be electroneutral.",
            Table(
                "One ionic species.",
                {
                    "name": Key("str", "Name used in output names (concentration_NAME_mol_m3)."),
                    "charge_number": Key("int", "Charge number z.", low=-10, high=10),
                    "diffusivity": Key(
                        "float", "Diffusion coefficient D.", unit="m2/s", low=0.0, low_open=True
                    ),
                    "bulk_concentration": Key(
                        "float",
                        "Bulk (reservoir) concentration.",
                        unit="mol/m3",
                        low=0.0,
                        low_open=True,
                    ),
                },
            ),
            min_items=1,
            unique_key="name",
        ),
        "mesh": mesh_variant(),
        "boundaries": NamedTables(_BOUNDARY.doc, _BOUNDARY),
        "study": Table(
            "What is solved.",
            {"type": Key("str", "Study type.", default="steady", choices=("steady",))},
        ),
        "solver": solver_table(),
        "output": output_table(),
    },
)


@dataclass(frozen=True)
class _Scales:
    """Reference scales of the PNP problem (SI)."""

    temperature: float
    thermal_voltage: float  # RT/F, V
    concentration: float  # c_ref = sum z^2 c_bulk, mol/m3
    debye_length: float  # m
    diffusivity: float  # m2/s
    permittivity: float  # eps_0 eps_r, F/m

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
    """Steady Poisson-Nernst-Planck with log-concentration unknowns (see module docstring)."""

    name = "pnp"
    description = "Poisson-Nernst-Planck ion transport where electroneutrality fails"
    schema = SCHEMA

    @classmethod
    def check_consistency(cls, settings: dict[str, Any], case_dir: Path) -> None:
        """Cross-key checks: charged species, electroneutral bulk, a potential reference."""
        problems = []
        species = settings["species"]
        charges = [s["charge_number"] for s in species]
        if all(z == 0 for z in charges):
            problems.append("species: at least one species must carry charge (charge_number)")
        net = sum(s["charge_number"] * s["bulk_concentration"] for s in species)
        scale = sum(abs(s["charge_number"]) * s["bulk_concentration"] for s in species)
        if abs(net) > 1e-12 * scale:
            detail = ", ".join(
                f"{s['name']}: {s['charge_number']:+d} x {s['bulk_concentration']:g}"
                for s in species
            )
            problems.append(
                f"species: bulk concentrations are not electroneutral (sum z_k c_k = {net:g} "
                f"mol/m3; {detail}); allowed: sum z_k c_k = 0"
            )
        boundaries = settings["boundaries"]
        kinds = {b["kind"] for b in boundaries.values()}
        if not kinds & {"potential", "reservoir", "stern"}:
            problems.append(
                "boundaries: the potential needs a reference: give at least one boundary of "
                "kind 'potential', 'reservoir' or 'stern'"
            )
        if "reservoir" not in kinds:
            problems.append(
                "boundaries: a steady study needs a boundary of kind 'reservoir' (it fixes the "
                "amount of each species)"
            )
        for name, b in boundaries.items():
            if b["kind"] == "reservoir" and b["concentrations"] is not None:
                given = b["concentrations"]
                if len(given) != len(species) or min(given) <= 0:
                    problems.append(
                        f"boundaries.{name}.concentrations = {given!r}: allowed one positive "
                        f"value (mol/m3) per species ({len(species)})"
                    )
        mesh = settings["mesh"]
        if mesh["generator"] == "interval":
            names = [mesh["left_name"], mesh["right_name"]]
            if mesh["grading"] != "none" and mesh["first_cell_size"] is None:
                problems.append(
                    "missing key 'mesh.first_cell_size': needed for grading "
                    f"{mesh['grading']!r} (a number in (0, inf) m)"
                )
            try:
                require_boundaries(boundaries, names)
            except CaseError as error:
                problems.extend(error.problems)
        elif mesh["generator"] == "gmsh_file":
            path = case_dir / mesh["path"]
            if not path.is_file():
                problems.append(f"mesh.path = {mesh['path']!r}: no such file in {case_dir}")
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
        m = self.settings["mesh"]
        if m["generator"] == "interval":
            self.mesh_data = graded_interval(
                self.comm,
                m["length"],
                m["cells"],
                m["first_cell_size"],
                m["grading"],
                m["left_name"],
                m["right_name"],
            )
        else:
            self.mesh_data = dolfinx.io.gmsh.read_from_msh(
                str(self.case_dir / m["path"]), self.comm, 0, gdim=m["dimension"]
            )
            facet_groups = [
                name
                for name, group in self.mesh_data.physical_groups.items()
                if group.dim == self.mesh_data.mesh.topology.dim - 1
            ]
            require_boundaries(self.settings["boundaries"], facet_groups)
        mesh = self.mesh_data.mesh
        mesh.topology.create_connectivity(mesh.topology.dim - 1, mesh.topology.dim)
        return mesh

    @property
    def mesh(self) -> dolfinx.mesh.Mesh:
        """The distributed mesh (after :meth:`build_mesh`)."""
        assert self.mesh_data is not None, "build_mesh first"
        return self.mesh_data.mesh

    def unknowns(self) -> int:
        """Global unknowns: one potential and N log-concentrations per mesh vertex (P1)."""
        return self.mesh.topology.index_map(0).size_global * (1 + len(self.species))

    def smallest_feature(self) -> float:
        """Smallest geometric length of the domain (the extent along its thinnest axis)."""
        x = self.mesh.geometry.x
        local_min = x.min(axis=0) if len(x) else np.full(3, np.inf)
        local_max = x.max(axis=0) if len(x) else np.full(3, -np.inf)
        lo, hi = np.empty(3), np.empty(3)
        self.comm.Allreduce(local_min, lo, op=MPI.MIN)
        self.comm.Allreduce(local_max, hi, op=MPI.MAX)
        extent = (hi - lo)[: self.mesh.geometry.dim]
        return float(extent.min())

    def diagnostics(self) -> dict[str, Any]:
        """Debye length, thermal voltage, smallest feature and the electroneutrality verdict."""
        s = self.scales
        feature = self.smallest_feature()
        ratio = s.debye_length / feature
        charged = [
            name
            for name, b in self.settings["boundaries"].items()
            if b["kind"] in ("potential", "surface_charge", "stern")
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
            "smallest_feature_m": feature,
            "debye_length_over_smallest_feature": ratio,
            "electroneutrality_verdict": verdict,
        }
        for name, b in self.settings["boundaries"].items():
            if "potential" in b:
                out[f"potential_{name}_over_thermal_voltage"] = b["potential"] / s.thermal_voltage
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
        gdim = mesh.geometry.dim
        tdim = mesh.topology.dim
        length = s.debye_length
        # Scaled integrals with a mesh in metres: dx_hat = L^-d dx, ds_hat = L^(1-d) ds,
        # grad_hat = L grad, so int grad_hat a . grad_hat b dx_hat = L^(2-d) int grad a.grad b dx.
        volume = fem.Constant(mesh, length**-tdim)
        area = fem.Constant(mesh, length ** (1 - tdim))
        stiffness = fem.Constant(mesh, length ** (2 - tdim))

        element = basix.ufl.element("Lagrange", mesh.basix_cell(), 1, shape=(1 + n_species,))
        self.space = fem.functionspace(mesh, element)
        self.solution = fem.Function(self.space, name="pnp_solution")
        scaled_potential = self.solution[0]
        log_concentrations = [self.solution[1 + k] for k in range(n_species)]
        tests = ufl.TestFunction(self.space)

        # Boundary data, each multiplied by the continuation parameter `ramp`.
        self.ramp = fem.Constant(mesh, 1.0)
        facet_tags = self.mesh_data.facet_tags
        ds = ufl.Measure("ds", domain=mesh, subdomain_data=facet_tags)
        self.bcs: list[fem.DirichletBC] = []
        self._ramped: list[tuple[fem.Constant, float]] = []
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
        dx = ufl.Measure("dx", domain=mesh)
        gauss = gauss_law_residual(
            scaled_potential,
            tests[0],
            permittivity=stiffness,
            charge_density=volume * space_charge_density(concentrations, charge_numbers, 1.0),
            dx=dx,
            surface_charges=surface_charges,
            stern_layers=stern_layers,
        )
        residual = gauss
        for k, sp in enumerate(self.species):
            flux = nernst_planck_flux_log(
                log_concentrations[k],
                scaled_potential,
                stiffness * sp["diffusivity"] / s.diffusivity,
                sp["charge_number"],
            )
            residual += species_conservation_residual(flux, tests[1 + k], dx)
        self.residual = residual

        # Output fields in SI on P1.
        self.output_space = self.space.sub(0).collapse()[0]
        # Positions of each component's dofs in the blocked array (collapse() returns them as a
        # list with one array in dolfinx 0.11).
        self._component_dofs = [
            np.ravel(self.space.sub(i).collapse()[1]) for i in range(1 + n_species)
        ]
        self.potential = fem.Function(self.output_space, name="potential_V")
        self.concentrations = [
            fem.Function(self.output_space, name=f"concentration_{sp['name']}_mol_m3")
            for sp in self.species
        ]
        self.charge_density = fem.Function(self.output_space, name="space_charge_density_C_m3")
        self.relative_net_charge = fem.Function(self.output_space, name="relative_net_charge")

        # Surface charge of each charged boundary by the consistent (residual) flux: with chi_b
        # the P1 function equal to 1 on the boundary's nodes, Gauss's theorem gives
        #   int_b sigma ds = int eps grad(phi) . grad(chi_b) dx - int rho_e chi_b dx
        # which converges at the rate of the potential itself (no differentiated field).
        rho_si = space_charge_density(
            [s.concentration * c for c in concentrations], charge_numbers, FARADAY
        )
        potential_si = s.thermal_voltage * scaled_potential
        self.surface_charge_forms = {}
        for name, b in self.settings["boundaries"].items():
            if b["kind"] not in ("potential", "stern", "surface_charge"):
                continue
            chi = fem.Function(self.output_space)
            dofs = fem.locate_dofs_topological(self.output_space, tdim - 1, self._facets(name))
            chi.x.array[dofs] = 1.0
            chi.x.scatter_forward()
            tag = self.mesh_data.physical_groups[name].tag
            flux_form = fem.form(
                s.permittivity * ufl.inner(ufl.grad(potential_si), ufl.grad(chi)) * dx
                - rho_si * chi * dx
            )
            measure = fem.form(fem.Constant(mesh, 1.0) * ds(tag))
            self.surface_charge_forms[name] = (flux_form, measure)
        self.total_charge_form = fem.form(rho_si * dx)
        del gdim

    # -- solve -----------------------------------------------------------------------------
    def _set_ramp(self, value: float) -> None:
        self.ramp.value = value
        for constant, full in self._ramped:
            constant.value = value * full

    def _initial_guess(self) -> None:
        bs = 1 + len(self.species)
        array = self.solution.x.array.reshape(-1, bs)
        array[:, 0] = 0.0
        array[:, 1:] = self.initial_log_concentration
        self.solution.x.scatter_forward()

    def _solve_steady(self, log: Callable[[str], None]) -> dict[str, Any]:
        """Newton from the bulk state; on failure, continuation in the boundary data."""
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
        row: dict[str, float] = {}
        tdim = self.mesh.topology.dim
        unit = {1: "C_m2", 2: "C_m", 3: "C"}[tdim]
        charged = list(self.surface_charge_forms)
        for name, (flux_form, measure) in self.surface_charge_forms.items():
            charge = self.comm.allreduce(fem.assemble_scalar(flux_form), op=MPI.SUM)
            size = self.comm.allreduce(fem.assemble_scalar(measure), op=MPI.SUM)
            column = "surface_charge_C_m2" if len(charged) == 1 else f"surface_charge_{name}_C_m2"
            row[column] = charge / size
        row[f"space_charge_electrolyte_{unit}"] = self.comm.allreduce(
            fem.assemble_scalar(self.total_charge_form), op=MPI.SUM
        )
        return row

    def output_fields(self) -> list[fem.Function]:
        """Fields written to ParaView files and sampled along profiles."""
        return [self.potential, *self.concentrations, self.charge_density, self.relative_net_charge]

    def prepare(self) -> None:
        """Build the function spaces, the scaled weak form and the Newton solver."""
        self._setup()
        options = petsc_options_from_case(self.settings["solver"])
        self.solver = NewtonSolver(self.residual, self.solution, self.bcs, options, name="pnp")

    def solve(self, log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
        """Solve the steady problem (after :meth:`prepare`); return continuation details.

        Raises:
            NewtonFailure: if neither Newton nor continuation converged.
        """
        return self._solve_steady(log)

    def run(
        self, writer: ResultWriter, timer: PhaseTimer, log: Callable[[str], None]
    ) -> dict[str, Any]:
        """Solve the steady problem and write the outputs."""
        with timer.phase("forms"):
            self.prepare()
        with timer.phase("solve"):
            details = self.solve(log)
        with timer.phase("output"):
            row = {"time_s": 0.0, **self.update_outputs()}
            writer.add_timeseries_row(row)
            fields = self.output_fields()
            writer.set_profiles(self.mesh, self.settings["output"]["profiles"])
            writer.write_profiles(0.0, {f.name: f for f in fields})
            if self.settings["output"]["fields"]:
                writer.set_fields(fields)
                writer.write_fields(0.0)
        for key, value in row.items():
            if key != "time_s":
                log(f"{key} = {value:.6g}")
        return {**self.solver.statistics.as_dict(), **details}
