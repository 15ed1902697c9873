"""The math module the material laws evaluate with inside weak forms: UFL's, tanh through exp.

A parameter set's functions (open-circuit potentials, electrolyte properties, ...) take the
module they evaluate with as ``mod``: ``numpy`` for arrays, this module for weak forms. It is
UFL's own namespace (``exp``, ``sqrt``, ``max_value``, ...), except for

    tanh(y) = 1 - 2 / (exp(2 min(y, 170)) + 1),

the same function to round-off (absolute error below 1e-15 against ``numpy.tanh``). Written so,
its value and its derivative 4 e / (e + 1)^2, e = exp(2 y), share one exponential, which FFCx
evaluates once per quadrature point. ``ufl.tanh`` costs the C library's ``tanh`` (an ``expm1``
inside) for the value and two ``cosh`` for UFL's derivative sech^2 y; an open-circuit potential
with three tanh terms (Chen2020's graphite and NMC811) is differentiated in every Jacobian block
of a reaction, and these calls were a sixth of the cycling model's Jacobian (bench/README.md,
"Cheaper transcendental functions"). The cap at y = 170 keeps e and e^2 finite: beyond it tanh
is 1 in double precision and its derivative 0 (below 1e-147); for y -> -inf, e -> 0 gives -1.
"""

from __future__ import annotations

import math
from typing import Any

import ufl

__all__ = ["tanh"]

#: y above which tanh(y) = 1 in double precision; exp(2 y) and its square stay finite below it
TANH_CAP = 170.0


def tanh(value: Any) -> Any:
    """The hyperbolic tangent through one exponential (of a number: ``math.tanh``)."""
    if not isinstance(value, ufl.core.expr.Expr):
        return math.tanh(value)
    return 1.0 - 2.0 / (ufl.exp(2.0 * ufl.min_value(value, TANH_CAP)) + 1.0)


def __getattr__(name: str) -> Any:
    """Every other function is UFL's own."""
    return getattr(ufl, name)
