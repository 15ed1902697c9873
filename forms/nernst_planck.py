"""Nernst-Planck transport of dissolved species: flux law and species conservation.

Flux of species k (diffusion, migration, convection):

    N_k = -D_k grad c_k - D_k z_k c_k (F/RT) grad phi + c_k v.

Written with the scaled potential psi = F phi / (R T) and log-concentration unknowns
u_k = ln(c_k / c_ref), so that concentrations stay positive by construction:

    N_k = -D_k c_ref exp(u_k) (grad u_k + z_k grad psi) + c_ref exp(u_k) v.

The gradient term is the gradient of the electrochemical potential mu_k/RT = u_k + z_k psi, so
the Boltzmann equilibrium u_k + z_k psi = const is represented exactly by P1 functions.

Conservation (porous or not, eps the volume fraction open to the species):

    d(eps c_k)/dt + div N_k = R_k,

weakly: int d(eps c_k)/dt v dx - int N_k . grad v dx - int R_k v dx + sum_b int g_b v ds_b = 0 with
g_b = N_k . n the outward normal flux prescribed on boundary b (no-flux where none is given).
"""

from __future__ import annotations

from collections.abc import Iterable

import ufl

__all__ = ["nernst_planck_flux", "nernst_planck_flux_log", "species_conservation_residual"]


def nernst_planck_flux(
    concentration: ufl.core.expr.Expr,
    scaled_potential: ufl.core.expr.Expr,
    diffusivity: ufl.core.expr.Expr,
    charge_number: float,
    velocity: ufl.core.expr.Expr | None = None,
    concentration_gradient: ufl.core.expr.Expr | None = None,
) -> ufl.core.expr.Expr:
    """Nernst-Planck flux N = -D (grad c + z c grad psi) + c v, psi = F phi/(RT).

    ``concentration_gradient`` is grad c when the unknown is not c itself (default
    ``ufl.grad(concentration)``).
    """
    if concentration_gradient is None:
        concentration_gradient = ufl.grad(concentration)
    flux = -diffusivity * (
        concentration_gradient + charge_number * concentration * ufl.grad(scaled_potential)
    )
    if velocity is not None:
        flux += concentration * velocity
    return flux


def nernst_planck_flux_log(
    log_concentration, scaled_potential, diffusivity, charge_number, velocity=None
):
    """Nernst-Planck flux of the unknown u = ln c (c in units of c_ref).

    With grad c = c grad u: N = -D c (grad u + z grad psi) + c v.
    """
    concentration = ufl.exp(log_concentration)
    gradient = concentration * ufl.grad(log_concentration)
    return nernst_planck_flux(
        concentration, scaled_potential, diffusivity, charge_number, velocity, gradient
    )


def species_conservation_residual(
    flux: ufl.core.expr.Expr,
    test: ufl.Argument,
    dx: ufl.Measure,
    storage_rate: ufl.core.expr.Expr | None = None,
    source: ufl.core.expr.Expr | None = None,
    boundary_fluxes: Iterable[tuple[ufl.core.expr.Expr, ufl.Measure]] = (),
) -> ufl.Form:
    """Residual of species conservation d(eps c)/dt + div N = R.

    Args:
        flux: Flux N of the species.
        test: Test function v.
        dx: Cell measure of the region the species lives in.
        storage_rate: d(eps c)/dt discretised in time (``None`` for a steady problem).
        source: Volumetric source R (``None`` for none).
        boundary_fluxes: (g, ds) pairs, g = N . n the prescribed outward flux on that boundary.

    Returns:
        The residual form, linear in ``test``.
    """
    residual = -ufl.inner(flux, ufl.grad(test)) * dx
    if storage_rate is not None:
        residual += storage_rate * test * dx
    if source is not None:
        residual -= source * test * dx
    for normal_flux, ds in boundary_fluxes:
        residual += normal_flux * test * ds
    return residual
