"""electrolyx.form_signatures: stored UFL signatures are reused only for the very same forms.

A wrong hit would load another form's compiled kernels (a silent wrong answer), so the tests
check both directions against UFL's own signatures: forms that UFL signs alike get the same key
and get back exactly UFL's signatures; forms that UFL signs differently (another open-circuit
potential, another literal, the same expression with its coefficients numbered the other way)
get different keys and are compiled anew.
"""

from __future__ import annotations

from mpi4py import MPI

import basix.ufl
import dolfinx
import numpy as np
import pytest
import ufl
from dolfinx import fem

from electrolyx import form_signatures, jit
from electrolyx.parameters.chen2020 import graphite_ocp_chen2020, nmc811_ocp_chen2020
from electrolyx.parameters.marquis2019 import graphite_ocp_dualfoil1998


@pytest.fixture(scope="module")
def space():
    mesh = dolfinx.mesh.create_unit_interval(MPI.COMM_SELF, 4)
    return fem.functionspace(mesh, basix.ufl.element("Lagrange", "interval", 1))


def residual_and_jacobian(space, open_circuit_potential, coefficients_in_order=True):
    """A Butler-Volmer-like residual of (concentration, potential) and its Jacobian blocks."""
    if coefficients_in_order:
        concentration, potential = fem.Function(space), fem.Function(space)
    else:
        potential, concentration = fem.Function(space), fem.Function(space)
    rate = fem.Constant(space.mesh, 2.0)
    test = ufl.TestFunction(space)
    overpotential = potential - open_circuit_potential(concentration, mod=ufl)
    residual = [
        rate * ufl.sinh(overpotential) * test * ufl.dx
        + ufl.inner(ufl.grad(concentration), ufl.grad(test)) * ufl.dx,
        concentration * ufl.sinh(overpotential) * test * ufl.dx,
    ]
    unknowns = [concentration, potential]
    jacobian = [[ufl.derivative(F, u) for u in unknowns] for F in residual]
    return residual + [J for row in jacobian for J in row]


def ufl_signatures(forms):
    """UFL's own signatures, computed afresh (copies: no signature stored on them)."""
    return [ufl.Form(form.integrals()).signature() for form in forms]


def test_same_forms_same_key_and_ufl_signatures(space, tmp_path):
    first = residual_and_jacobian(space, graphite_ocp_chen2020)
    second = residual_and_jacobian(space, graphite_ocp_chen2020)  # new functions, same forms
    key = form_signatures.prime(first, tmp_path)
    assert key is not None  # nothing stored yet
    form_signatures.store(first, tmp_path, key)
    assert form_signatures.prime(second, tmp_path) is None  # found: the signatures are set
    # Exactly UFL's signatures (strings equal), so FFCx names the same module.
    assert [form.signature() for form in second] == ufl_signatures(second)
    assert ufl_signatures(second) == ufl_signatures(first)


@pytest.mark.parametrize(
    "other",
    [
        {"open_circuit_potential": graphite_ocp_dualfoil1998},  # another parameter set's OCP
        {"open_circuit_potential": nmc811_ocp_chen2020},  # another electrode's
        # the same expression, its two coefficients numbered the other way round
        {"open_circuit_potential": graphite_ocp_chen2020, "coefficients_in_order": False},
    ],
)
def test_changed_forms_compile_anew(space, tmp_path, other):
    stored = residual_and_jacobian(space, graphite_ocp_chen2020)
    form_signatures.store(stored, tmp_path, form_signatures.key(stored))
    changed = residual_and_jacobian(space, **other)
    # UFL signs them differently: a hit would load the wrong kernels.
    assert ufl_signatures(changed) != ufl_signatures(stored)
    assert form_signatures.key(changed) != form_signatures.key(stored)
    assert form_signatures.prime(changed, tmp_path) is not None  # not found
    assert all(form._signature is None for form in changed)  # UFL computes them


def test_changed_literal_changes_key(space):
    def scaled_ocp(factor):
        return lambda sto, mod: factor * graphite_ocp_chen2020(sto, mod)

    base = residual_and_jacobian(space, scaled_ocp(1.0))
    changed = residual_and_jacobian(space, scaled_ocp(1.0 + 1e-12))
    assert ufl_signatures(changed) != ufl_signatures(base)
    assert form_signatures.key(changed) != form_signatures.key(base)


def test_jit_forms_with_stored_signatures_assemble_alike(space, tmp_path, monkeypatch):
    """Through electrolyx.jit.forms: the run that stores and the run that reuses agree."""
    cache = str(tmp_path / "forms")
    options = dolfinx.jit.get_options()
    monkeypatch.setitem(options, "cache_dir", cache)
    monkeypatch.setattr(dolfinx.jit, "get_options", lambda: options)
    primed = []
    prime = form_signatures.prime
    monkeypatch.setattr(
        form_signatures, "prime", lambda *args: primed.append(prime(*args)) or primed[-1]
    )
    values = []
    for _ in range(2):
        ufl_forms = residual_and_jacobian(space, graphite_ocp_chen2020)
        compiled = jit.forms(ufl_forms)
        for function in ufl_forms[0].coefficients():
            function.x.array[:] = np.linspace(0.1, 0.9, function.x.array.size)
        values.append(fem.assemble_vector(compiled[0]).array.copy())
    assert primed[0] is not None and primed[1] is None  # stored by the first, found by the second
    assert len(list((tmp_path / "forms" / "signatures").iterdir())) == 1
    # Same kernels, same data: equal to the last bit.
    np.testing.assert_array_equal(values[0], values[1])


def test_each_forms_own_numbering_is_in_the_key(space):
    """Two forms sharing a coefficient: the second numbers its two coefficients by creation."""

    def two_forms(first_created_first):
        if first_created_first:
            first, second = fem.Function(space), fem.Function(space)
        else:
            second, first = fem.Function(space), fem.Function(space)
        test = ufl.TestFunction(space)
        return [second * test * ufl.dx, first * second.dx(0) * test * ufl.dx]

    one, other = two_forms(True), two_forms(False)
    assert ufl_signatures(one)[1] != ufl_signatures(other)[1]
    assert form_signatures.key(one) != form_signatures.key(other)


def test_jit_forms_assemble_as_dolfinx_forms_bit_for_bit(space):
    """electrolyx.jit.forms attaches coefficients and constants as dolfinx.fem.form does.

    The Jacobian blocks drop some of the residual's coefficients (the compiled form's original
    coefficient positions then skip them), and the two unknowns are numbered both ways.
    """
    for in_order in (True, False):
        ufl_forms = residual_and_jacobian(space, graphite_ocp_chen2020, in_order)
        concentration, potential = ufl_forms[1].coefficients()[:: 1 if in_order else -1]
        test, trial = ufl.TestFunction(space), ufl.TrialFunction(space)
        # d/d(potential) of a form linear in it: the potential is no coefficient of the result
        ufl_forms.append(
            ufl.derivative(concentration * potential * test * ufl.dx, potential, trial)
        )
        for number, function in enumerate(ufl_forms[0].coefficients()):
            function.x.array[:] = np.linspace(0.1, 0.9, function.x.array.size) ** (number + 1)
        ours = jit.forms(ufl_forms)
        theirs = fem.form(ufl_forms)
        for form, own, reference in zip(ufl_forms, ours, theirs, strict=True):
            if len(form.arguments()) == 1:
                values = fem.assemble_vector(own).array, fem.assemble_vector(reference).array
            else:
                values = (
                    fem.assemble_matrix(own).to_dense(),
                    fem.assemble_matrix(reference).to_dense(),
                )
            assert np.abs(values[1]).max() > 0.01  # a real comparison, not of zeros
            np.testing.assert_array_equal(values[0], values[1])  # exact: same kernels and data


def test_renumbering_is_ufls_own(space):
    """The numbers the key takes from coefficients()/constants() are UFL's terminal numbering."""
    forms = residual_and_jacobian(space, graphite_ocp_chen2020, coefficients_in_order=False)
    concentration = fem.Function(space)
    variable = ufl.variable(concentration)  # a label, as TSTimeDerivative.rate_of makes
    forms.append(ufl.diff(ufl.exp(variable), variable) * ufl.TestFunction(space) * ufl.dx)
    for form in forms:
        own = form_signatures._renumbering(form)
        ufl_numbering = {**form.domain_numbering(), **form.terminal_numbering()}
        assert own == {item: ufl_numbering[item] for item in own}
        assert len(own) >= 2  # a mesh and at least one coefficient
