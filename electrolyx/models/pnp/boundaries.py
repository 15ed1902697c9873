"""Boundary conditions of the PNP model, one kind per ``[boundaries.NAME] kind``.

In scaled form (lengths in Debye lengths lambda_D, potential psi = phi / V_T, concentrations in
c_ref, fluxes in D_max c_ref / lambda_D):

* ``potential``: psi = phi_b / V_T (Dirichlet), no ion flux;
* ``reservoir``: psi and every ln(c_k / c_ref) fixed;
* ``surface_charge``: eps grad(psi) . n = sigma lambda_D / (eps V_T) (Gauss's law, natural);
* ``stern``: eps grad(psi) . n = C_S lambda_D / eps (psi_M - psi) (Robin);
* ``butler_volmer``: a Stern layer and the Frumkin-corrected reaction of one species
  (:func:`electrolyx.forms.reactions.frumkin_current_density`), its outward flux
  N_k . n = -j / (z_k F). The metal potential psi_M is given (``potential``), or, with
  ``current_density`` (galvanostatic), a global unknown (one dof of a "Real" space, as the DFN's
  lumped temperature) whose equation is the current balance of the reaction,

      (1 / |b|) int_b (j - j_applied(t)) / j_scale ds = 0   (:func:`galvanostatic_balance`),

  j_applied rising linearly from 0 over ``current_rise_time`` (0: a step);
* ``blocking`` (and every boundary not listed): no flux, no charge.

Every boundary potential and charge is multiplied by a continuation parameter (the ``ramp``)
that the steady solver raises from 0 to 1 when Newton fails from the bulk state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import ufl
from dolfinx import fem

from ...constants import FARADAY
from ...constants import thermal_voltage as thermal_voltage_at
from ...forms.kinetics import Kinetics
from ...forms.reactions import frumkin_current_density
from .geometry import PNPGeometry
from .scales import PNPScales

__all__ = ["CHARGED_KINDS", "BoundaryTerms", "boundary_terms"]

#: Boundary kinds that carry a double layer (a surface charge to report).
CHARGED_KINDS = ("potential", "surface_charge", "stern", "butler_volmer")


@dataclass
class BoundaryTerms:
    """The boundary data of the weak form.

    Attributes:
        mesh: Mesh of the constants.
        dirichlet: Dirichlet conditions on the blocked space.
        surface_charges: (sigma, measure) pairs of Gauss's law.
        stern_layers: (C_S, psi_M, measure) triples of Gauss's law.
        reaction_fluxes: Per species, (N_k . n, ds) pairs of its conservation law.
        reaction_currents: Boundary name -> (j [A/m2], facet tag) of each reacting electrode.
        ramped: (constant, full value) of every quantity the continuation ramps.
        galvanostatic: Boundary name -> residual form of the current balance of each
            current-controlled electrode (its row of the metal potential's unknown).
        applied_currents: (constant, j [A/m2], rise time [s]) of each current-controlled
            electrode (:meth:`set_time`).
    """

    mesh: Any
    dirichlet: list[fem.DirichletBC] = field(default_factory=list)
    surface_charges: list[tuple[Any, Any]] = field(default_factory=list)
    stern_layers: list[tuple[Any, Any, Any]] = field(default_factory=list)
    reaction_fluxes: list[list[tuple[Any, Any]]] = field(default_factory=list)
    reaction_currents: dict[str, tuple[Any, int]] = field(default_factory=dict)
    ramped: list[tuple[fem.Constant, float]] = field(default_factory=list)
    galvanostatic: dict[str, Any] = field(default_factory=dict)
    applied_currents: list[tuple[fem.Constant, float, float]] = field(default_factory=list)

    def kinks(self, end: float) -> list[float]:
        """Times in (0, end) where an applied current stops rising (steps land on them)."""
        return [rise for _, _, rise in self.applied_currents if 0.0 < rise < end]

    def set_time(self, t: float) -> None:
        """Applied current densities at time t: j (min(1, t / rise time))."""
        for constant, current_density, rise_time in self.applied_currents:
            fraction = 1.0 if rise_time <= 0.0 else min(1.0, t / rise_time)
            constant.value = current_density * fraction

    def ramp(self, value: float) -> fem.Constant:
        """A constant equal to ``value`` times the continuation parameter."""
        constant = fem.Constant(self.mesh, value)
        self.ramped.append((constant, value))
        return constant


def boundary_terms(
    settings: dict[str, Any],
    geometry: PNPGeometry,
    scales: PNPScales,
    space: fem.FunctionSpace,
    scaled_potential: Any,
    log_concentrations: list[Any],
    area: Any,
    temperature: fem.Constant,
    metal_potentials: dict[str, Any] | None = None,
) -> BoundaryTerms:
    """The boundary conditions of every ``[boundaries.NAME]`` table.

    Args:
        settings: The resolved case settings.
        geometry: Mesh and named boundaries.
        scales: Reference scales.
        space: Blocked space (psi, u_1, ..., u_N).
        scaled_potential: psi (UFL).
        log_concentrations: u_k = ln(c_k / c_ref) (UFL).
        area: Scaled facet measure factor (weight lambda_D^(1-d)).
        temperature: T [K] of the kinetic laws.
        metal_potentials: Boundary name -> (scaled psi_M, its test function) of each
            current-controlled electrode (the global unknowns).
    """
    mesh = geometry.mesh
    tdim = mesh.topology.dim
    length = scales.debye_length
    species = settings["species"]
    names = [sp["name"] for sp in species]
    terms = BoundaryTerms(mesh, reaction_fluxes=[[] for _ in species])
    ds = ufl.Measure("ds", domain=mesh, subdomain_data=geometry.mesh_data.facet_tags)
    dS = ufl.Measure("dS", domain=mesh, subdomain_data=geometry.mesh_data.facet_tags)
    interior = geometry.interior_facet_groups()
    bulk = np.array([sp["bulk_concentration"] for sp in species])
    thermal_voltage = thermal_voltage_at(temperature)

    def stern_capacitance(boundary):
        capacitance = boundary["stern_capacitance"] * length / scales.permittivity
        return area * fem.Constant(mesh, capacitance)

    for name, b in settings["boundaries"].items():
        facets = geometry.facets(name)
        tag = geometry.tag(name)
        kind = b["kind"]
        if kind in ("potential", "reservoir"):
            dofs = fem.locate_dofs_topological(space.sub(0), tdim - 1, facets)
            value = terms.ramp(b["potential"] / scales.thermal_voltage)
            terms.dirichlet.append(fem.dirichletbc(value, dofs, space.sub(0)))
        if kind == "reservoir":
            given = b["concentrations"] or bulk
            for k in range(len(species)):
                dofs = fem.locate_dofs_topological(space.sub(1 + k), tdim - 1, facets)
                value = fem.Constant(mesh, math.log(given[k] / scales.concentration))
                terms.dirichlet.append(fem.dirichletbc(value, dofs, space.sub(1 + k)))
        elif kind == "surface_charge":
            sigma_hat = (
                b["surface_charge_density"]
                * length
                / (scales.permittivity * scales.thermal_voltage)
            )
            measure = dS(tag) if tag in interior else ds(tag)
            terms.surface_charges.append((area * terms.ramp(sigma_hat), measure))
        elif kind == "stern":
            metal = terms.ramp(b["potential"] / scales.thermal_voltage)
            terms.stern_layers.append((stern_capacitance(b), metal, ds(tag)))
    # Reactive electrodes: Stern layer for the potential, Frumkin-Butler-Volmer flux of one
    # species.
    for name, b in settings["boundaries"].items():
        if b["kind"] != "butler_volmer":
            continue
        tag = geometry.tag(name)
        k = names.index(b["species"])
        if b["current_density"] is None:
            metal = terms.ramp(b["potential"] / scales.thermal_voltage)
        else:
            metal, metal_test = metal_potentials[name]
        terms.stern_layers.append((stern_capacitance(b), metal, ds(tag)))
        z = species[k]["charge_number"]
        kinetics = Kinetics(
            b["kinetics"],
            b["anodic_transfer_coefficient"],
            b["cathodic_transfer_coefficient"],
            b["reorganisation_energy"],
            b["tafel_direction"] or "anodic",
        )
        current = frumkin_current_density(
            kinetics,
            fem.Constant(mesh, b["exchange_current_density"]),
            thermal_voltage * (metal - scaled_potential)
            - fem.Constant(mesh, b["equilibrium_potential"]),
            log_concentrations[k] + math.log(scales.concentration / bulk[k]),
            thermal_voltage,
            z,
        )
        # Outward flux N_k . n = -j/(z F), scaled by lambda_D / (D_ref c_ref).
        normal_flux = -current * length / (z * FARADAY * scales.diffusivity * scales.concentration)
        terms.reaction_fluxes[k].append((area * normal_flux, ds(tag)))
        terms.reaction_currents[name] = (current, tag)
        if b["current_density"] is not None:
            applied = fem.Constant(mesh, 0.0)
            terms.applied_currents.append(
                (applied, float(b["current_density"]), float(b["current_rise_time"]))
            )
            # 1 / |b| with the 2 pi r of axisymmetric meshes (|b| = 1 for a point in 1D).
            inverse_measure = fem.Constant(mesh, 1.0 / geometry.boundary_measures()[name])
            terms.galvanostatic[name] = galvanostatic_balance(
                current,
                applied,
                metal_test,
                geometry.measure_weight() * inverse_measure,
                ds(tag),
                abs(b["current_density"]),
            )
    return terms


def galvanostatic_balance(
    current_density: Any,
    applied_current_density: fem.Constant,
    test: Any,
    weight: Any,
    ds: Any,
    current_scale: float,
) -> ufl.Form:
    """The current balance of a current-controlled electrode: its faradaic current is imposed.

        (1 / |b|) int_b (j - j_applied) / j_scale ds = 0,

    the row of the metal potential psi_M (a global unknown: a test function of a "Real"
    space). ``weight`` carries 1 / |b| and the axisymmetric 2 pi r; ``current_scale`` makes the
    row O(1). The reacting species' flux is then j_applied / (z F) on average over the face.
    The charging current of the Stern layer, d sigma_M / dt, is not in the balance (a
    galvanostat imposes faradaic plus charging current): written with d(psi_M - psi)/dt it is
    the small difference of two large rates while the electrolyte's field builds up (the
    metal and the reaction plane move together, at j / (eps / L)), which the step-size control
    of psi does not resolve. It is small once the double layer is formed: the change of
    ``surface_charge_C_m2`` per second, against j (cases/pnp-sand-time/README.md measures it).
    """
    return weight * (current_density - applied_current_density) / current_scale * test * ds
