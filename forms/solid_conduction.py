"""Charge conservation in the electronically conducting solid phase of a porous electrode.

    i_s = -sigma_eff grad(phi_s),    div(i_s) = -a_s j,

weak form (test function w, outward normal n, prescribed i_s.n on collector boundaries):

    int sigma_eff grad(phi_s).grad(w) dx + int a_s j w dx + int (i_s.n) w ds = 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import ufl

__all__ = ["solid_charge_conservation_residual", "solid_current_density"]


def solid_current_density(solid_potential, effective_conductivity):
    """Electronic current density i_s = -sigma_eff grad(phi_s) [A/m2]."""
    return -effective_conductivity * ufl.grad(solid_potential)


def solid_charge_conservation_residual(
    current_density,
    test_function,
    dx: ufl.Measure,
    volumetric_sources: Sequence[tuple],
    boundary_normal_currents: Sequence[tuple] = (),
) -> ufl.Form:
    """Residual of div(i_s) = -a_s j in the solid phase [A/m2 per unit test function].

    Args:
        current_density: i_s, e.g. from :func:`solid_current_density`.
        test_function: Test function w of the solid potential.
        dx: Measure of the electrode.
        volumetric_sources: Pairs ``(a_s j [A/m3], measure)``; the measure chooses the
            quadrature (vertex quadrature keeps it identical to the particle equations). On a
            resolved interface the pair is ``(j [A/m2], facet measure)``: i_s.n = j there; a
            third entry ``"+"`` or ``"-"`` restricts the test function on interior facets.
        boundary_normal_currents: Pairs ``(i_s.n [A/m2], ds)`` of prescribed outward currents.
    """
    residual = -ufl.inner(current_density, ufl.grad(test_function)) * dx
    for source, measure, *side in volumetric_sources:
        test = test_function(side[0]) if side else test_function
        residual += source * test * measure
    for normal_current, ds in boundary_normal_currents:
        residual += normal_current * test_function * ds
    return residual
