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
  lumped temperature) whose equation is the electrode's total current balance, faradaic plus
  charging, i_applied = j + d sigma_M / dt, in its time-integrated form

      sigma_M(t) - sigma_M(0) + Q_F(t) = int_0^t i_applied dt   (:func:`galvanostatic_balance`),

  sigma_M = C_S (phi_M - phi) the metal's charge (the Stern layer's, as in Gauss's law) and
  Q_F the faradaic charge passed, a second global unknown with dQ_F/dt = j
  (:func:`faradaic_charge_rate`, discretised by TS's BDF as the fields' storage terms);
  i_applied rises linearly from 0 over ``current_rise_time`` (0: a step);
* ``blocking`` (and every boundary not listed): no flux, no charge.

Every boundary potential and charge is multiplied by a continuation parameter (the ``ramp``)
that the steady solver raises from 0 to 1 when Newton fails from the bulk state.
"""

from __future__ import annotations

import math
from collections.abc import Callable
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

__all__ = [
    "CHARGED_KINDS",
    "BoundaryTerms",
    "GalvanostaticUnknowns",
    "boundary_terms",
    "faradaic_charge_rate",
    "galvanostatic_balance",
]

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
        ramped: (constant, full value, fixed part) of every quantity the continuation ramps:
            the constant is the continuation parameter times the full value, plus the fixed
            part (not ramped).
        galvanostatic: Boundary name -> (residual form of the current balance, the row of
            the metal potential's unknown; residual form of dQ_F/dt = j, the row of the
            faradaic charge's unknown) of each current-controlled electrode.
        applied_currents: Boundary name -> (current constant [A/m2], charge constant [C/m2],
            j [A/m2], rise time [s]) of each current-controlled electrode (:meth:`set_time`).
    """

    mesh: Any
    dirichlet: list[fem.DirichletBC] = field(default_factory=list)
    surface_charges: list[tuple[Any, Any]] = field(default_factory=list)
    stern_layers: list[tuple[Any, Any, Any]] = field(default_factory=list)
    reaction_fluxes: list[list[tuple[Any, Any]]] = field(default_factory=list)
    reaction_currents: dict[str, tuple[Any, int]] = field(default_factory=dict)
    ramped: list[tuple[fem.Constant, Any, Any]] = field(default_factory=list)
    galvanostatic: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    applied_currents: dict[str, tuple[fem.Constant, fem.Constant, float, float]] = field(
        default_factory=dict
    )

    def kinks(self, end: float) -> list[float]:
        """Times in (0, end) where an applied current stops rising (steps land on them)."""
        return [rise for _, _, _, rise in self.applied_currents.values() if 0.0 < rise < end]

    def set_time(self, t: float) -> None:
        """Applied current densities at time t, j min(1, t / t_rise), and their charges.

        The charge is the exact integral from 0: j t^2 / (2 t_rise) while the current rises,
        j (t - t_rise / 2) after (j t for a step).
        """
        for current, charge, current_density, rise_time in self.applied_currents.values():
            if rise_time <= 0.0:
                current.value, charge.value = current_density, current_density * t
            elif t < rise_time:
                current.value = current_density * t / rise_time
                charge.value = current_density * t * t / (2.0 * rise_time)
            else:
                current.value = current_density
                charge.value = current_density * (t - 0.5 * rise_time)

    def ramp(self, value: Any, fixed: Any = 0.0) -> fem.Constant:
        """A constant equal to ``value`` times the continuation parameter, plus ``fixed``.

        ``value`` and ``fixed`` are numbers or arrays of one shape (a vector constant).
        """
        constant = fem.Constant(self.mesh, np.asarray(value, dtype=float) + fixed)
        self.ramped.append((constant, value, fixed))
        return constant


@dataclass
class GalvanostaticUnknowns:
    """The global unknowns of a current-controlled electrode (UFL), for :func:`boundary_terms`.

    Attributes:
        metal_potential: psi_M = phi_M / V_T (a function of a "Real" space).
        metal_potential_test: Its test function (the row of the current balance).
        faradaic_charge: Q_F [C/m2], the faradaic charge passed since t = 0 (UFL).
        faradaic_charge_rate: dQ_F/dt [A/m2] as TS supplies it (UFL).
        faradaic_charge_test: The test function of Q_F's row.
        charge_scale: Scale of the balance's row [C/m2].
        current_scale: Scale of Q_F's row [A/m2].
    """

    metal_potential: Any
    metal_potential_test: Any
    faradaic_charge: Any
    faradaic_charge_rate: Any
    faradaic_charge_test: Any
    charge_scale: float
    current_scale: float


def boundary_terms(
    settings: dict[str, Any],
    geometry: PNPGeometry,
    scales: PNPScales,
    space: fem.FunctionSpace,
    component: Callable[[int], fem.FunctionSpace],
    scaled_potential: Any,
    log_concentrations: list[Any],
    area: Any,
    temperature: fem.Constant,
    galvanostatic: dict[str, GalvanostaticUnknowns] | None = None,
) -> BoundaryTerms:
    """The boundary conditions of every ``[boundaries.NAME]`` table.

    Args:
        settings: The resolved case settings.
        geometry: Mesh and named boundaries.
        scales: Reference scales.
        space: The blocked space (psi, u_1, ..., u_N).
        component: Its subspace i (0: psi, 1 + k: u_k), made once by the caller (each holds
            its own dofmap; only the conditions on single components ask for one).
        scaled_potential: psi (UFL).
        log_concentrations: u_k = ln(c_k / c_ref) (UFL).
        area: Scaled facet measure factor (weight lambda_D^(1-d)).
        temperature: T [K] of the kinetic laws.
        galvanostatic: Boundary name -> the global unknowns of each current-controlled
            electrode.
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
        if kind == "potential":
            dofs = fem.locate_dofs_topological(component(0), tdim - 1, facets)
            value = terms.ramp(b["potential"] / scales.thermal_voltage)
            terms.dirichlet.append(fem.dirichletbc(value, dofs, component(0)))
        elif kind == "reservoir":
            # psi and every u_k at the same nodes: one condition on the blocked space, its
            # value (psi, u_1, ..., u_N) with psi ramped (no subspace, no dofmap copy)
            given = b["concentrations"] or bulk
            full = np.zeros(1 + len(species))
            full[0] = b["potential"] / scales.thermal_voltage
            fixed = np.zeros(1 + len(species))
            fixed[1:] = [math.log(given[k] / scales.concentration) for k in range(len(species))]
            dofs = fem.locate_dofs_topological(space, tdim - 1, facets)
            terms.dirichlet.append(fem.dirichletbc(terms.ramp(full, fixed), dofs, space))
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
            metal = galvanostatic[name].metal_potential
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
            unknowns = galvanostatic[name]
            current_density = float(b["current_density"])
            applied_current = fem.Constant(mesh, 0.0)
            applied_charge = fem.Constant(mesh, 0.0)
            terms.applied_currents[name] = (
                applied_current,
                applied_charge,
                current_density,
                float(b["current_rise_time"]),
            )
            # sigma_M = C_S (phi_M - phi), the Stern term of Gauss's law in SI; at t = 0 the
            # bulk state at zero overpotential, C_S U.
            metal_charge = fem.Constant(mesh, b["stern_capacitance"] * scales.thermal_voltage) * (
                metal - scaled_potential
            )
            # 1 / |b| with the 2 pi r of axisymmetric meshes (|b| = 1 for a point in 1D).
            inverse_measure = fem.Constant(mesh, 1.0 / geometry.boundary_measures()[name])
            mean = geometry.measure_weight() * inverse_measure
            terms.galvanostatic[name] = (
                galvanostatic_balance(
                    metal_charge,
                    fem.Constant(mesh, b["stern_capacitance"] * b["equilibrium_potential"]),
                    unknowns.faradaic_charge,
                    applied_charge,
                    unknowns.metal_potential_test,
                    mean,
                    ds(tag),
                    unknowns.charge_scale,
                ),
                faradaic_charge_rate(
                    unknowns.faradaic_charge_rate,
                    current,
                    unknowns.faradaic_charge_test,
                    mean,
                    ds(tag),
                    unknowns.current_scale,
                ),
            )
    return terms


def galvanostatic_balance(
    metal_charge: Any,
    initial_metal_charge: fem.Constant,
    faradaic_charge: Any,
    applied_charge: fem.Constant,
    test: Any,
    weight: Any,
    ds: Any,
    charge_scale: float,
) -> ufl.Form:
    """The total current balance of a current-controlled electrode, integrated in time.

    The electron current through the metal is the faradaic current plus the charging current
    of the metal's charge, i_applied = j + d sigma_M / dt. From t = 0:

        (1 / |b|) int_b (sigma_M - sigma_M(0) + Q_F - Q_applied(t)) / q_scale ds = 0,

    sigma_M = C_S (phi_M - phi) (the Stern layer's charge, which Gauss's law's boundary flux
    gives), Q_F the faradaic charge passed (:func:`faradaic_charge_rate`) and
    Q_applied(t) = int_0^t i_applied dt, exact. It is the row of the metal potential psi_M (a
    global unknown: a test function of a "Real" space). ``weight`` carries 1 / |b| and the
    axisymmetric 2 pi r; ``charge_scale`` makes the row O(1). The charge is conserved at every
    step to the Newton tolerance: Q_applied = metal charge change + faradaic charge, whatever
    the step; its time derivative, taken by the BDF formula that gives dQ_F/dt, is the current
    balance.
    """
    stored = metal_charge - initial_metal_charge + faradaic_charge - applied_charge
    return weight * stored / charge_scale * test * ds


def faradaic_charge_rate(
    rate: Any, current_density: Any, test: Any, weight: Any, ds: Any, current_scale: float
) -> ufl.Form:
    """The faradaic charge passed through an electrode: dQ_F/dt = (1 / |b|) int_b j ds.

        (1 / |b|) int_b (dQ_F/dt - j) / j_scale ds = 0,

    the row of Q_F (a global unknown), dQ_F/dt the BDF rate TS supplies (the rate of the
    fields' storage terms). ``current_scale`` is that of the reaction fluxes in the species'
    rows, so that Newton's tolerance means the same current there and here; it also keeps the
    round-off of the BDF rate of a large Q_F (ulp(Q_F) / step) below the tolerance at small
    steps late in a run.
    """
    return weight * (rate - current_density) / current_scale * test * ds
