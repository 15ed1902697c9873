"""Values of UFL expressions at the nodes of a P1 space, from the forms the solver uses.

Outputs (reaction currents, overpotentials, exchange currents, stresses later) are the same UFL
expressions as in the residual, evaluated at the mesh vertices by a lumped projection with
vertex quadrature:

    f_i = int f phi_i dx_v / int phi_i dx_v,

where dx_v places one quadrature point on each vertex of a cell. Only the cells of the
expression's measure contribute, and phi_i is 1 at vertex i and 0 at the others, so f_i is
f(x_i) wherever f is continuous at the vertex (the volume-weighted mean of the cells' values
where a coefficient jumps), exactly as the vertex-quadrature source terms of the residual see
it. Nodes outside every cell of the measure get NaN. Works on submeshes through entity maps and
in parallel (owned and ghost values are consistent after the scatter).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dolfinx
import numpy as np
import ufl
from dolfinx import fem

__all__ = ["NodalValues"]


class NodalValues:
    """Nodal values of named expressions on a scalar P1 space of the parent mesh.

    Args:
        space: Scalar P1 space of the (parent) mesh.
        expressions: name -> (UFL expression, vertex-quadrature measure).
        entity_maps: Entity maps of the submeshes the expressions' coefficients live on.
    """

    def __init__(
        self,
        space: fem.FunctionSpace,
        expressions: Mapping[str, tuple[Any, ufl.Measure]],
        entity_maps: Sequence[Any] = (),
    ):
        self.space = space
        test = ufl.TestFunction(space)
        maps = list(entity_maps) or None
        self._forms: dict[str, tuple[fem.Form, fem.Form]] = {}
        weights: dict[ufl.Measure, fem.Form] = {}
        for name, (expression, measure) in expressions.items():
            if measure not in weights:
                weights[measure] = fem.form(test * measure)
            numerator = fem.form(expression * test * measure, entity_maps=maps)
            self._forms[name] = (numerator, weights[measure])
        self._weights = {id(f): f for f in weights.values()}

    def _assemble(self, form: fem.Form) -> np.ndarray:
        vector = fem.assemble_vector(form)
        vector.scatter_reverse(dolfinx.la.InsertMode.add)
        vector.scatter_forward()
        return vector.array

    def evaluate(self, names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Values at the local nodes (ghosts included), NaN off the expression's cells."""
        weights = {key: self._assemble(form) for key, form in self._weights.items()}
        result = {}
        for name in self._forms if names is None else names:
            numerator, weight_form = self._forms[name]
            weight = weights[id(weight_form)]
            values = np.full(weight.shape, np.nan)
            inside = weight > 0
            values[inside] = self._assemble(numerator)[inside] / weight[inside]
            result[name] = values
        return result
