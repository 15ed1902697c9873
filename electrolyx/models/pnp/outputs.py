"""Output layer of the PNP model: fields and integrals from the solver's own UFL expressions.

Fields (P1, SI) are interpolated from UFL expressions of the unknowns (``fem.Expression``):
phi = V_T psi, c_k = c_ref exp(u_k), the space-charge density rho_e = F sum_k z_k c_k
(:func:`electrolyx.forms.space_charge_density`, the one Gauss's law uses) and the relative net
charge |sum_k z_k c_k| / sum_k |z_k| c_k.

Integrals are assembled functionals. Boundary charges and currents use the consistent
(residual) method: with chi_b the P1 function equal to 1 on the nodes of boundary b, Gauss's
theorem applied to the solver's own residual gives

    int_b sigma ds = int eps grad(phi) . grad(chi_b) dx - int rho_e chi_b dx,
    int_b N_k . n ds = int N_k . grad(chi_b) dx - int dc_k/dt chi_b dx,

which converge at the rate of the fields themselves (no differentiated field). Faradaic currents
integrate the reaction's current density; charges and amounts integrate rho_e and c_k.
"""

from __future__ import annotations

from typing import Any

from mpi4py import MPI

import numpy as np
import ufl
from dolfinx import fem

from ...constants import FARADAY
from ...errors import CaseError
from ...sampling import LineSampler
from .boundaries import CHARGED_KINDS
from .problem import PNPProblem

__all__ = ["PNPOutputs", "amount_unit"]

_AMOUNT_UNIT = {1: "m2", 2: "m", 3: ""}  # integral over the domain per (area, depth, nothing)


def amount_unit(base: str, tdim: int) -> str:
    """SI unit suffix of a domain integral of a quantity ``base``: C -> C_m2 in 1D, C_m in 2D."""
    suffix = _AMOUNT_UNIT[tdim]
    return f"{base}_{suffix}" if suffix else base


class PNPOutputs:
    """Output fields, timeseries columns, probes and conductance of a PNP problem."""

    def __init__(self, problem: PNPProblem):
        self.problem = problem
        self.settings = problem.settings
        self.geometry = geometry = problem.geometry
        self.comm = problem.comm
        scales = problem.scales
        mesh = geometry.mesh
        space = problem.output_space
        tdim = mesh.topology.dim
        length = scales.debye_length
        dx = problem.dx
        weight = problem.weight

        def interpolated(name: str, expression: Any) -> tuple[fem.Function, fem.Expression]:
            points = space.element.interpolation_points
            return fem.Function(space, name=name), fem.Expression(expression, points)

        c_ref = fem.Constant(mesh, scales.concentration)
        net = problem.space_charge  # sum_k z_k c_k / c_ref, as in Gauss's law
        total = sum(
            abs(z) * c for z, c in zip(problem.charge_numbers, problem.concentrations, strict=True)
        )
        self._fields = [
            interpolated(
                "potential_V",
                fem.Constant(mesh, scales.thermal_voltage) * problem.scaled_potential,
            ),
            *(
                interpolated(f"concentration_{sp['name']}_mol_m3", c_ref * c)
                for sp, c in zip(problem.species, problem.concentrations, strict=True)
            ),
            interpolated("space_charge_density_C_m3", FARADAY * c_ref * net),
            interpolated("relative_net_charge", abs(net) / total),
        ]
        self.potential = self._fields[0][0]
        self.concentrations = [f for f, _ in self._fields[1 : 1 + len(problem.species)]]
        self.charge_density = self._fields[-2][0]
        self.relative_net_charge = self._fields[-1][0]

        # Boundary fluxes by the consistent method; chi is refilled per boundary.
        self._indicator = fem.Function(space)
        self._boundary_dofs: dict[str, np.ndarray] = {}
        self._current_dofs: dict[str, np.ndarray] = {}
        chi = self._indicator
        charge_scale = scales.permittivity * scales.thermal_voltage * length ** (tdim - 2)
        self._surface_charge_form = fem.form(
            charge_scale
            * (
                problem.stiffness
                * problem.permittivity
                * ufl.inner(ufl.grad(problem.scaled_potential), ufl.grad(chi))
                * dx
                - problem.volume * problem.electrolyte * net * chi * dx
            )
        )
        flux_scale = FARADAY * scales.diffusivity * scales.concentration * length ** (tdim - 2)
        # The current through an inside facet group is the flux out of every cell but those on
        # its far side (chi spans both sides: over all cells the integral is the sum of the
        # nodal residuals there, ~0); side = 0 on those cells, 1 elsewhere and for an outer
        # boundary.
        self._current_far_sides = geometry.current_far_sides()
        self._current_side = fem.Function(geometry.cell_space)
        side = self._current_side
        self._current_form = fem.form(
            flux_scale
            * sum(
                z * side * (ufl.inner(flux, ufl.grad(chi)) - rate * chi) * dx
                for z, flux, rate in zip(
                    problem.charge_numbers, problem.fluxes, problem.storage_rates, strict=True
                )
            )
        )
        ds = ufl.Measure("ds", domain=mesh, subdomain_data=geometry.mesh_data.facet_tags)
        self._reaction_current_forms = {
            name: fem.form(weight * current * ds(tag))
            for name, (current, tag) in problem.boundaries.reaction_currents.items()
        }
        # Metal potential of each current-controlled electrode: (1/|b|) int_b V_T psi_M ds.
        self._metal_potential_forms = {
            name: fem.form(
                weight
                / self.geometry.boundary_measures()[name]
                * scales.thermal_voltage
                * problem.metal_potential(name)
                * ds(geometry.tag(name))
            )
            for name in problem.metal_potential_unknowns
        }
        # Of each current-controlled electrode: the faradaic charge passed, int_b Q_F ds, and
        # the charging current d sigma_M / dt = i_applied - j of its current balance.
        self._faradaic_charge_forms = {
            name: fem.form(weight * problem.unknowns[unknown].value() * ds(geometry.tag(name)))
            for name, unknown in problem.faradaic_charge_unknowns.items()
        }
        self._charging_current_forms = {
            name: fem.form(
                weight * (applied - problem.boundaries.reaction_currents[name][0]) * ds(tag)
            )
            for name, (applied, _, _, _) in problem.boundaries.applied_currents.items()
            for tag in [geometry.tag(name)]
        }
        # Charge per region: a cell indicator refilled per region.
        self._region_indicator = fem.Function(geometry.cell_space)
        self._region_charge_form = fem.form(
            weight * FARADAY * c_ref * problem.electrolyte * net * self._region_indicator * dx
        )
        self._amount_forms = [
            fem.form(weight * c_ref * problem.electrolyte * c * dx) for c in problem.concentrations
        ]
        #: Length or area of each boundary [m or m2; 1 per point in 1D].
        self.measures = geometry.boundary_measures()
        # Probes and four-probe conductance.
        probes = self.settings["output"]["probes"]
        conductance = self.settings["output"]["conductance"]
        points = [p["point"] for p in probes]
        if self._current_far_sides.get(conductance["boundary"], "") is None:
            raise CaseError(
                [
                    f"output.conductance.boundary = {conductance['boundary']!r}: an inside facet "
                    "group with no side to measure its current out of (the same region on both "
                    "sides, or more than two regions); allowed: an outer boundary or an opening "
                    "between two regions"
                ]
            )
        if conductance["boundary"] is not None:
            points += [conductance["probe_start"], conductance["probe_end"]]
        padded = np.zeros((len(points), 3))
        for i, p in enumerate(points):
            padded[i, : len(p)] = p
        self._probe_points = padded
        self._probe_sampler = LineSampler(mesh, padded) if len(points) else None

    def fields(self) -> list[fem.Function]:
        """Fields written to ParaView files and sampled along profiles."""
        return [function for function, _ in self._fields]

    def _integral(self, form: fem.Form) -> float:
        return self.comm.allreduce(fem.assemble_scalar(form), op=MPI.SUM)

    def _boundary_nodes(self, name: str) -> np.ndarray:
        """Local indices of the output space's nodes on boundary ``name``."""
        if name not in self._boundary_dofs:
            self._boundary_dofs[name] = fem.locate_dofs_topological(
                self.problem.output_space,
                self.geometry.mesh.topology.dim - 1,
                self.geometry.facets(name),
            )
        return self._boundary_dofs[name]

    def _boundary_integral(self, form: fem.Form, nodes: np.ndarray) -> float:
        """Assemble ``form`` with the indicator of ``nodes`` (summed over ranks)."""
        chi = self._indicator
        chi.x.array[:] = 0.0
        chi.x.array[nodes] = 1.0
        chi.x.scatter_forward()
        return self._integral(form)

    def _current_nodes(self, name: str) -> np.ndarray:
        """The nodes of boundary ``name`` whose flux is its current.

        A node it shares with a reservoir (fixed concentrations) gives its flux to the
        reservoir: there the consistent flux is the reservoir's (a blocking wall's current
        is zero by the model; with those nodes a wall next to a reservoir end took 5e-4 of
        the device current in the 3D nanopore).
        """
        if name in self._current_dofs:
            return self._current_dofs[name]
        nodes = self._boundary_nodes(name)
        boundaries = self.settings["boundaries"]
        if boundaries.get(name, {}).get("kind") != "reservoir":
            for other, b in boundaries.items():
                if b["kind"] == "reservoir":
                    nodes = np.setdiff1d(nodes, self._boundary_nodes(other), assume_unique=True)
        self._current_dofs[name] = nodes
        return nodes

    def _set_current_side(self, name: str) -> bool:
        """Leave the far side of boundary ``name`` out of its current; False if it has none."""
        side = self._current_side.x.array
        side[:] = 1.0
        if name not in self._current_far_sides:
            return True  # an outer boundary: the current out of the domain
        region = self._current_far_sides[name]
        if region is None:
            return False
        side[self.geometry.cells(region)] = 0.0
        return True

    def update(self) -> dict[str, float]:
        """Interpolate the fields from the solution; return the timeseries columns."""
        for function, expression in self._fields:
            function.interpolate(expression)
            function.x.scatter_forward()
        tdim = 3 if self.geometry.axisymmetric else self.geometry.mesh.topology.dim
        row: dict[str, float] = {}
        boundaries = self.settings["boundaries"]
        charged = [n for n, b in boundaries.items() if b["kind"] in CHARGED_KINDS]
        for name in charged:
            column = "surface_charge_C_m2" if len(charged) == 1 else f"surface_charge_{name}_C_m2"
            charge = self._boundary_integral(self._surface_charge_form, self._boundary_nodes(name))
            row[column] = charge / self.measures[name]
        for name, form in self._reaction_current_forms.items():
            row[f"faradaic_current_{name}_{amount_unit('A', tdim)}"] = self._integral(form)
        for name, form in self._metal_potential_forms.items():
            row[f"electrode_potential_{name}_V"] = self._integral(form)
        for name, form in self._faradaic_charge_forms.items():
            row[f"faradaic_charge_{name}_{amount_unit('C', tdim)}"] = self._integral(form)
        for name, form in self._charging_current_forms.items():
            row[f"charging_current_{name}_{amount_unit('A', tdim)}"] = self._integral(form)
        currents = {}
        for name in self.geometry.facet_groups():
            if not self._set_current_side(name):
                continue
            currents[name] = self._boundary_integral(self._current_form, self._current_nodes(name))
            row[f"ionic_current_{name}_{amount_unit('A', tdim)}"] = currents[name]
        for name in self.geometry.cell_groups():
            indicator = self._region_indicator
            indicator.x.array[:] = 0.0
            indicator.x.array[self.geometry.cells(name)] = 1.0
            row[f"charge_{name}_{amount_unit('C', tdim)}"] = self._integral(
                self._region_charge_form
            )
        for sp, form in zip(self.problem.species, self._amount_forms, strict=True):
            row[f"amount_{sp['name']}_{amount_unit('mol', tdim)}"] = self._integral(form)
        if self._probe_sampler is not None:
            row.update(self._probe_columns(currents))
        return row

    def _probe_columns(self, currents: dict[str, float]) -> dict[str, float]:
        """Potential at each probe; the four-probe conductance G = |I| / |phi_1 - phi_2|."""
        values = self._probe_sampler.evaluate(self.potential)
        values = self.comm.bcast(None if values is None else values[:, 0], root=0)
        probes = self.settings["output"]["probes"]
        row = {f"potential_{p['name']}_V": float(values[i]) for i, p in enumerate(probes)}
        if any(p["concentrations"] for p in probes):
            for sp, function in zip(self.problem.species, self.concentrations, strict=True):
                found = self._probe_sampler.evaluate(function)
                found = self.comm.bcast(None if found is None else found[:, 0], root=0)
                for i, p in enumerate(probes):
                    if p["concentrations"]:
                        column = f"concentration_{sp['name']}_{p['name']}_mol_m3"
                        row[column] = float(found[i])
        conductance = self.settings["output"]["conductance"]
        if conductance["boundary"] is not None:
            tdim = 3 if self.geometry.axisymmetric else self.geometry.mesh.topology.dim
            start, end = values[len(probes)], values[len(probes) + 1]
            distance = float(np.linalg.norm(self._probe_points[-1] - self._probe_points[-2]))
            scale = distance / (conductance["length"] or distance)
            current = abs(currents[conductance["boundary"]])
            row[f"conductance_{amount_unit('S', tdim)}"] = current / abs(start - end) * scale
        return row
