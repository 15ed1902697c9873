"""UFL for TS: the rates of named unknowns, and the Jacobian blocks of a residual."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import ufl
from dolfinx import fem
from ufl.algorithms import extract_coefficients


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


@dataclass(frozen=True)
class NodalTerm:
    """A scalar expression of the residual evaluated once per node, with its derivatives.

    Where the residual integrates an expression f(u_1, ..., u_n) of the unknowns with vertex
    quadrature (a reaction's current density: lumped, one value per node), every residual
    block it enters evaluates f's costly parts again (the open-circuit potential's
    exponentials, the exchange current's roots, Butler-Volmer's exponentials), and every
    Jacobian block of those rows differentiates them again, on every cell of the block. With a
    NodalTerm the residual's blocks read f from one P1 function, filled at the nodes by one
    vector form before each residual; before each Jacobian another fills a second function with
    f and its partial derivatives df/du_k (df/du_k[m] for a vector unknown's components), f
    is copied from it into the first, and the Jacobian's blocks read both:

        g_i = sum_cells f(x_i) w_i(x_i) W_i^-1 |cell| / (d + 1),   W_i = int w_i dx_vertex,

    that is f, and each partial, at node i (vertex quadrature: each cell's share of a node is
    |cell| / (d + 1)): the lumped projection of :mod:`electrolyx.nodal_values` (the outputs'),
    with the weights inverted once instead of at every call. In the residual's integrals over
    ``measure`` (vertex quadrature, the same cells) f is replaced by the function; the
    Jacobian's blocks are the derivatives of that residual, UFL's ``coefficient_derivatives``
    giving the function's derivatives. The same residual and Jacobian to round-off, not an
    approximation. Integrals of f over other measures keep f.

    Attributes:
        expression: f (UFL, scalar), a subexpression of the residual's forms.
        space: A scalar P1 space on the mesh whose vertices carry f (f's nodes).
        measure: The vertex-quadrature measure of f's cells (the residual's integrals of f).
        components: vector unknown -> the components f reads (e.g. a particle's surface
            concentration, the last of its radial nodes); a vector unknown not given here:
            every component. A component f reads that is left out is missing from the
            Jacobian (Newton converges slower; the residual is exact).
    """

    expression: object
    space: fem.FunctionSpace
    measure: ufl.Measure
    components: dict = field(default_factory=dict)


class _NodalValues:
    """A :class:`NodalTerm`'s function [f, df/du_k ...] per node, and the form that fills it.

    The partial derivatives stay symbolic (UFL's derivative, expanded by the form compiler on
    a cache miss only): expanding them here cost ~0.1 s of every run's set-up.
    """

    def __init__(
        self,
        term: NodalTerm,
        unknowns: Sequence[fem.Function],
        rates: Sequence[fem.Function] = (),
    ):
        expression = term.expression
        found = set(extract_coefficients(expression))
        if found.intersection(rates):
            # (Its derivatives by the rates, shift x dF/du_dot, are not among the partials.)
            raise ValueError("a nodal term that reads the unknowns' rates (d/dt)")
        components = [expression]
        #: unknown position -> its derivative's component(s) in the values: an int for a
        #: scalar unknown, {m: component} for a vector unknown's components m f reads
        self.derivatives: dict[int, object] = {}
        for k, u in enumerate(unknowns):
            if u not in found:
                continue
            shape = u.ufl_shape
            if shape == ():
                # (d/ds f(u + s) at s = 0: the partial derivative itself)
                self.derivatives[k] = len(components)
                components.append(ufl.derivative(expression, u, ufl.as_ufl(1.0)))
                continue
            if len(shape) != 1:
                raise ValueError("a nodal term of a tensor-valued unknown")
            which = {}
            for m in term.components.get(u, range(shape[0])):
                unit = ufl.as_vector([1.0 if n == m else 0.0 for n in range(shape[0])])
                which[m] = len(components)
                components.append(ufl.derivative(expression, u, unit))
            self.derivatives[k] = which
        self.values = fem.Function(
            fem.functionspace(term.space.mesh, ("Lagrange", 1, (len(components),))),
            name="nodal_term",
        )
        self.unknowns = list(unknowns)
        #: f alone at each node: what the residual and the Jacobian read for f (filled before
        #: each residual, and copied from ``values`` before each Jacobian)
        self.value = fem.Function(term.space, name="nodal_term_value")
        #: 1 / W_i at each node (set by the owner, from ``weight_form``)
        self.inverse_weight = fem.Function(term.space)
        test = ufl.TestFunction(self.values.function_space)
        #: the form that fills ``values`` (assembled into its array, ghosts added)
        self.form = ufl.inner(self.inverse_weight * ufl.as_vector(components), test) * term.measure
        #: the form that fills ``value``
        self.value_form = self.inverse_weight * expression * ufl.TestFunction(term.space)
        self.value_form *= term.measure
        #: W_i (a vector form on ``space``)
        self.weight_form = ufl.TestFunction(term.space) * term.measure
        self.expression = expression
        measure = term.measure
        #: the integrals f is replaced in: (type, domain, subdomain, metadata) of ``measure``
        self._where = (
            measure.integral_type(),
            measure.ufl_domain(),
            measure.subdomain_id(),
            measure.metadata(),
        )
        if measure.metadata().get("quadrature_rule") != "vertex":
            raise ValueError(
                f"a nodal term's measure has metadata {measure.metadata()}: it must integrate "
                'with vertex quadrature (metadata "quadrature_rule": "vertex")'
            )

    def derivative(self, k: int):
        """d(value)/du_k (u_k's shape) read from ``values``, or None where f has no u_k."""
        which = self.derivatives.get(k)
        if which is None:
            return None
        if isinstance(which, int):
            return self.values[which]
        zero = ufl.as_ufl(0.0)
        length = self.unknowns[k].ufl_shape[0]
        return ufl.as_vector([self.values[which[m]] if m in which else zero for m in range(length)])


def _with_nodal_values(form, nodal: Sequence[_NodalValues]):
    """``form`` with each nodal term's f replaced by its nodal ``value``.

    Where f integrates over the term's measure (vertex quadrature over its cells); the other
    integrals keep f. All terms at once: a term whose f contains another's is replaced whole.
    """
    if not nodal:
        return form
    integrals = []
    for integral in form.integrals():
        where = (
            integral.integral_type(),
            integral.ufl_domain(),
            integral.subdomain_id(),
            integral.metadata(),
        )
        mapping = {term.expression: term.value for term in nodal if term._where == where}
        if mapping:
            integrand = _replaced(integral.integrand(), mapping, {})
            integral = integral.reconstruct(integrand=integrand)
        integrals.append(integral)
    return ufl.Form(integrals)


def _replaced(expression, mapping: dict, done: dict):
    """``expression`` with the subexpressions in ``mapping`` replaced (``ufl.replace``'s result).

    Top down: a replaced subexpression's own operands are not visited (``ufl.replace`` visits
    every node, an open-circuit potential's hundreds included: 27 ms of each DFN set-up).
    ``done``: id -> result of the nodes met so far (a DAG's shared nodes once).
    """
    kept = done.get(id(expression))
    if kept is not None:
        return kept[1]
    result = mapping.get(expression)
    if result is None:
        operands = expression.ufl_operands
        if operands:
            new = tuple(_replaced(operand, mapping, done) for operand in operands)
            if any(a is not b for a, b in zip(new, operands, strict=True)):
                result = expression._ufl_expr_reconstruct_(*new)
        if result is None:
            result = expression
    done[id(expression)] = (expression, result)  # (the node kept alive: its id stays its own)
    return result


def _jacobian_forms(residual, unknowns, rates, shift, omitted=frozenset(), nodal=()):
    """UFL blocks dF_i/du_j + shift dF_i/du_dot_j; None where F_i depends on neither.

    ``omitted``: (i, j) pairs left out of the Jacobian (None) whatever F_i depends on: Newton
    then runs on an approximate Jacobian (the residual stays exact).

    Dependence is read from the form's coefficients (cheap; the derivatives stay symbolic and
    are expanded by the form compiler only on a cache miss). Empty blocks get no sparsity and no
    assembly calls.

    ``nodal``: :class:`_NodalValues` of the residual's nodal terms, whose ``value`` the
    residual reads (:func:`_with_nodal_values`): its derivatives are read from their
    ``values``.
    """
    blocks = []
    for form in residual:
        coefficients = set(form.coefficients())
        read = [term for term in nodal if term.value in coefficients]
        row = []
        for j, (u, u_dot) in enumerate(zip(unknowns, rates, strict=True)):
            if (len(blocks), j) in omitted:
                row.append(None)
                continue
            trial = ufl.TrialFunction(u.function_space)
            block = None
            chained = {
                term.value: term.derivative(j) for term in read if term.derivative(j) is not None
            }
            if u in coefficients or chained:
                block = ufl.derivative(form, u, trial, coefficient_derivatives=chained or None)
            if u_dot in coefficients:
                term = shift * ufl.derivative(form, u_dot, trial)
                block = term if block is None else block + term
            row.append(block)
        blocks.append(row)
    return blocks
