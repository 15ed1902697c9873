"""Salt conservation in the electrolyte of a porous medium (concentrated-solution theory).

    d(eps c_e)/dt + div(N_e) = a_s j / F,    N_e = -D_eff grad(c_e) + t+ i_e / F,

which equals d(eps c_e)/dt = div(D_eff grad c_e) + (1 - t+) a_s j / F when t+ is constant (use
div i_e = a_s j). Written with the flux N_e, the weak form conserves lithium exactly also when
t+ depends on c_e: with test function v and N_e.n = 0 on the collectors,

    int eps dc_e/dt v dx - int N_e.grad(v) dx - int (a_s j / F) v dx = 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import ufl

from electrolyx.constants import FARADAY

__all__ = ["electrolyte_diffusion_residual", "electrolyte_salt_flux"]


def electrolyte_salt_flux(concentration, effective_diffusivity, transference_number, current):
    """Molar flux of lithium ions N_e = -D_eff grad(c_e) + t+ i_e / F [mol/(m2 s)].

    Args:
        concentration: Salt concentration c_e [mol/m3].
        effective_diffusivity: D_e(c_e, T) times the transport efficiency [m2/s].
        transference_number: t+(c_e) [-].
        current: Ionic current density i_e [A/m2].
    """
    return -effective_diffusivity * ufl.grad(concentration) + (
        transference_number * current / FARADAY
    )


def electrolyte_diffusion_residual(
    concentration_rate,
    test_function,
    porosity,
    flux,
    dx: ufl.Measure,
    molar_sources: Sequence[tuple],
) -> ufl.Form:
    """Residual of d(eps c_e)/dt + div(N_e) = a_s j / F [mol/(m2 s) per unit test function].

    Args:
        concentration_rate: dc_e/dt from the caller's time discretisation [mol/(m3 s)].
        test_function: Test function v of the concentration.
        porosity: eps (constant in time) [-].
        flux: N_e, e.g. from :func:`electrolyte_salt_flux`.
        dx: Measure of the whole electrolyte-filled domain.
        molar_sources: Pairs ``(a_s j / F [mol/(m3 s)], measure)`` over the electrodes. On a
            resolved interface the pair is ``(j / F [mol/(m2 s)], facet measure)``: N_e.n =
            -j / F there; a third entry ``"+"`` or ``"-"`` restricts the test function on
            interior facets.
    """
    residual = porosity * concentration_rate * test_function * dx
    residual -= ufl.inner(flux, ufl.grad(test_function)) * dx
    for source, measure, *side in molar_sources:
        test = test_function(side[0]) if side else test_function
        residual -= source * test * measure
    return residual
