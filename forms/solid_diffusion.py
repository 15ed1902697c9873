"""Fickian diffusion of lithium inside resolved electrode particles (Fick's second law).

    dc_s/dt = div(D_s(c_s) grad c_s)          in the particles,
    -D_s grad(c_s).n = N_s                     on their surface (outward molar flux),

with N_s = j_F / F on the particle/electrolyte interface (j_F > 0 anodic: lithium leaves the
solid) and N_s = 0 elsewhere. Weak form with test function w:

    int dc_s/dt w dx + int D_s grad(c_s).grad(w) dx + int N_s w ds = 0.

With w = 1 the flux term vanishes and d/dt int c_s dx = -int N_s ds: the particles exchange
exactly the lithium that the interface integral carries. Unlike
:mod:`electrolyx.forms.particle_diffusion` (the radial pseudo-dimension of the DFN), the
particles here are the mesh itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import ufl

__all__ = ["solid_diffusion_residual"]


def solid_diffusion_residual(
    concentration,
    concentration_rate,
    test_function,
    diffusivity,
    dx: ufl.Measure,
    surface_fluxes: Sequence[tuple],
) -> ufl.Form:
    """Residual of dc_s/dt = div(D_s grad c_s) with outward surface fluxes [mol/s per test].

    Args:
        concentration: Lithium concentration in the solid c_s [mol/m3].
        concentration_rate: dc_s/dt from the caller's time discretisation [mol/(m3 s)].
        test_function: Test function w of the concentration.
        diffusivity: D_s(c_s) [m2/s] (UFL expression).
        dx: Measure of the particles.
        surface_fluxes: ``(N_s [mol/(m2 s)], facet measure)`` or ``(N_s, dS, "+"|"-")`` for an
            interior-facet measure, the restriction naming the particle side.
    """
    residual = concentration_rate * test_function * dx
    residual += diffusivity * ufl.inner(ufl.grad(concentration), ufl.grad(test_function)) * dx
    for flux, measure, *side in surface_fluxes:
        test = test_function(side[0]) if side else test_function
        residual += flux * test * measure
    return residual
