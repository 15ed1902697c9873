"""Gauss's law for the electric potential (Poisson's equation) and the space-charge density.

    -div(eps grad phi) = rho_e,    rho_e = F sum_k z_k c_k

with eps = eps_0 eps_r. The weak form, for a test function w,

    int eps grad(phi) . grad(w) dx - int rho_e w dx - sum_b int sigma_b w ds_b = 0,

takes a surface charge density sigma_b (eps grad(phi) . n = sigma_b, n the outward normal of the
electrolyte) as a natural boundary condition, and a Stern layer of capacitance C_S per area
between the metal at phi_M and the reaction plane as the Robin condition
eps grad(phi) . n = C_S (phi_M - phi).
The forms are dimension-free in UFL: the caller passes scaled or SI coefficients consistently.

The length over which a charge is screened in an electrolyte at rest is the Debye length

    lambda_D = sqrt(eps R T / (F^2 sum_k z_k^2 c_k,bulk)) = sqrt(eps V_T / (F c_ref)),

V_T = R T / F the thermal voltage and c_ref = sum_k z_k^2 c_k,bulk (twice the ionic strength).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import ufl

__all__ = ["debye_length", "gauss_law_residual", "space_charge_density"]


def debye_length(permittivity, thermal_voltage, charge_concentration, faraday, mod=ufl):
    """lambda_D = sqrt(eps V_T / (F c_ref)) [m], c_ref = sum_k z_k^2 c_k,bulk [mol/m3].

    Args:
        permittivity: eps = eps_0 eps_r [F/m].
        thermal_voltage: V_T = R T / F [V].
        charge_concentration: c_ref = sum_k z_k^2 c_k,bulk [mol/m3].
        faraday: F [C/mol].
        mod: ``ufl`` (a temperature field) or ``math``/``numpy`` (numbers).
    """
    return mod.sqrt(permittivity * thermal_voltage / (faraday * charge_concentration))


def space_charge_density(
    concentrations: Sequence[ufl.core.expr.Expr], charge_numbers: Sequence[int], faraday: float
) -> ufl.core.expr.Expr:
    """Space-charge density rho_e = F sum_k z_k c_k (``faraday`` = 1 in scaled units)."""
    return faraday * sum(z * c for z, c in zip(charge_numbers, concentrations, strict=True))


def gauss_law_residual(
    potential: ufl.core.expr.Expr,
    test: ufl.Argument,
    permittivity: ufl.core.expr.Expr,
    charge_density: ufl.core.expr.Expr,
    dx: ufl.Measure,
    surface_charges: Iterable[tuple[ufl.core.expr.Expr, ufl.Measure]] = (),
    stern_layers: Iterable[tuple[ufl.core.expr.Expr, ufl.core.expr.Expr, ufl.Measure]] = (),
) -> ufl.Form:
    """Residual of Gauss's law -div(eps grad phi) = rho_e.

    Args:
        potential: Electric potential phi.
        test: Test function w.
        permittivity: eps (may vary in space, e.g. per subdomain).
        charge_density: rho_e where it is nonzero (restrict it with the measure ``dx``).
        dx: Cell measure of the whole domain where phi is solved.
        surface_charges: (sigma, ds) pairs, sigma = eps grad(phi) . n on that boundary; on an
            inside facet group (a ``dS`` measure: a charged electrolyte | dielectric interface)
            sigma = the jump of eps grad(phi) . n across it.
        stern_layers: (C_S, phi_M, ds) triples, Robin eps grad(phi) . n = C_S (phi_M - phi).

    Returns:
        The residual form, linear in ``test``.
    """
    residual = ufl.inner(permittivity * ufl.grad(potential), ufl.grad(test)) * dx
    residual -= charge_density * test * dx
    for sigma, ds in surface_charges:
        if ds.integral_type() == "interior_facet":
            residual -= (sigma * test)("+") * ds  # continuous: either side's trace
        else:
            residual -= sigma * test * ds
    for capacitance, metal_potential, ds in stern_layers:
        residual -= capacitance * (metal_potential - potential) * test * ds
    return residual
