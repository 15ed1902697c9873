"""UFL for TS: the rates of named unknowns, and the Jacobian blocks of a residual."""

from __future__ import annotations

from collections.abc import Callable

import ufl
from dolfinx import fem


class TSTimeDerivative:
    """d/dt of named unknowns' physical values as UFL, for forms integrated by TS.

    Each unknown u (``value = scale (u + offset)``, the offset constant in time) gets a
    function u_dot in its space that TS fills with du/dt; :meth:`rate` is ``scale * u_dot``.

    Args:
        unknowns: The named unknowns (:class:`electrolyx.unknowns.Unknowns`).
    """

    def __init__(self, unknowns):
        self.unknowns = unknowns
        self.functions = [fem.Function(V) for V in unknowns.spaces]

    def rate(self, name: str):
        """d(value)/dt of the unknown ``name`` [its unit per second]."""
        return self.unknowns[name].scale * self.functions[self.unknowns.position(name)]

    def rate_of(self, name: str, transform: Callable):
        """Rate d f(u)/dt = f'(u) du/dt of a scalar function f of the unknown ``name`` (UFL)."""
        u = ufl.variable(self.unknowns[name].function)
        return ufl.diff(transform(u), u) * self.functions[self.unknowns.position(name)]


def _jacobian_forms(residual, unknowns, rates, shift, omitted=frozenset()):
    """UFL blocks dF_i/du_j + shift dF_i/du_dot_j; None where F_i depends on neither.

    ``omitted``: (i, j) pairs left out of the Jacobian (None) whatever F_i depends on: Newton
    then runs on an approximate Jacobian (the residual stays exact).

    Dependence is read from the form's coefficients (cheap; the derivatives stay symbolic and
    are expanded by the form compiler only on a cache miss). Empty blocks get no sparsity and no
    assembly calls.
    """
    blocks = []
    for form in residual:
        coefficients = set(form.coefficients())
        row = []
        for j, (u, u_dot) in enumerate(zip(unknowns, rates, strict=True)):
            if (len(blocks), j) in omitted:
                row.append(None)
                continue
            trial = ufl.TrialFunction(u.function_space)
            block = None
            if u in coefficients:
                block = ufl.derivative(form, u, trial)
            if u_dot in coefficients:
                term = shift * ufl.derivative(form, u_dot, trial)
                block = term if block is None else block + term
            row.append(block)
        blocks.append(row)
    return blocks
