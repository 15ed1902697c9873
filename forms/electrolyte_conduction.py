"""Charge conservation in a binary electrolyte, concentrated-solution theory (Newman).

    i_e = -kappa_eff grad(phi_e) + 2 kappa_eff (R T / F) (1 - t+) chi grad(ln c_e),
    div(i_e) = a_s j,

weak form with insulating collectors (i_e.n = 0 on the outer boundary), test function v:

    -int i_e.grad(v) dx - int a_s j v dx = 0   (sign chosen so that kappa_eff appears positive).
"""

from __future__ import annotations

from collections.abc import Sequence

import ufl

__all__ = ["electrolyte_charge_conservation_residual", "electrolyte_current_density"]


def electrolyte_current_density(
    concentration,
    potential,
    effective_conductivity,
    transference_number,
    thermodynamic_factor,
    thermal_voltage,
    concentration_gradient=None,
    log_concentration_gradient=None,
):
    """Ionic current density of concentrated-solution theory [A/m2].

    i_e = -kappa_eff grad(phi_e) + 2 kappa_eff V_T (1 - t+) chi grad(c_e) / c_e.

    Args:
        concentration: Salt concentration c_e [mol/m3].
        potential: Electrolyte potential phi_e [V].
        effective_conductivity: kappa(c_e, T) times the transport efficiency [S/m].
        transference_number: t+(c_e) [-].
        thermodynamic_factor: chi(c_e) [-].
        thermal_voltage: R T / F [V].
        concentration_gradient: grad(c_e) [mol/m4]; None: ``ufl.grad(concentration)``. When
            ``concentration`` is held at a floor, max(c_e, c_floor) (the DFN's
            :data:`electrolyx.models.dfn.problem.ELECTROLYTE_LAW_FLOOR`), pass the gradient of
            c_e itself: the floored value's gradient is cut to zero where c_e crosses the
            floor, a jump of i_e by 2 kappa_eff V_T (1 - t+) chi |grad c_e| / c_floor.
        log_concentration_gradient: grad(ln c_e) [1/m], in place of grad(c_e) / c_e: with
            c_e = c_e0 exp(u) (the DFN's log-concentration unknown) grad(u), finite where
            exp(u) under- or overflows.
    """
    if log_concentration_gradient is None:
        if concentration_gradient is None:
            concentration_gradient = ufl.grad(concentration)
        log_concentration_gradient = concentration_gradient / concentration
    return -effective_conductivity * ufl.grad(potential) + (
        2.0
        * effective_conductivity
        * thermal_voltage
        * (1.0 - transference_number)
        * thermodynamic_factor
        * log_concentration_gradient
    )


def electrolyte_charge_conservation_residual(
    current_density,
    test_function,
    dx: ufl.Measure,
    volumetric_sources: Sequence[tuple],
) -> ufl.Form:
    """Residual of div(i_e) = a_s j with i_e.n = 0 on the boundary.

    Args:
        current_density: i_e, e.g. from :func:`electrolyte_current_density`.
        test_function: Test function v of the electrolyte potential.
        dx: Measure of the whole electrolyte-filled domain.
        volumetric_sources: Pairs ``(a_s j [A/m3], measure)`` over the electrodes. On a
            resolved interface the pair is ``(j [A/m2], facet measure)``: i_e.n = -j there; a
            third entry ``"+"`` or ``"-"`` restricts the test function on interior facets.
    """
    residual = -ufl.inner(current_density, ufl.grad(test_function)) * dx
    for source, measure, *side in volumetric_sources:
        test = test_function(side[0]) if side else test_function
        residual -= source * test * measure
    return residual
