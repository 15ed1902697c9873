"""The compiled assembly loop gives DOLFINx's blocked assembly bit for bit.

:class:`electrolyx.compiled_assembly.CompiledAssembly` calls the same FFCx kernels as DOLFINx,
on the same entities in the same order, with coefficients read from where DOLFINx packs them
and element entries added at the positions DOLFINx's insertion would: every sum is formed in
the same order, so the comparisons are exact (tolerance 0). A wrong address, position, entity
map or Dirichlet row would show as a difference of the size of the entries themselves.
"""

from mpi4py import MPI
from petsc4py import PETSc

import numpy as np
import pytest
import ufl
from dolfinx import fem, mesh
from dolfinx.fem.petsc import assemble_matrix, assemble_vector, create_matrix, create_vector

import electrolyx  # noqa: F401  (loads MPI/PETSc libraries first)
from electrolyx.block_assembly import BlockAssembler
from electrolyx.jacobian_pattern import compressed_matrix
from electrolyx.jit import forms


def _system(comm, cells: int = 12):
    """Three fields on an interval and a fourth on its left half (a submesh, as the DFN's
    electrodes): cell, vertex-quadrature, boundary and interior-facet integrals, a blocked
    field, an integral over the parent mesh of a submesh field, a Dirichlet condition."""
    domain = mesh.create_unit_interval(comm, cells)
    tdim = domain.topology.dim
    left_cells = mesh.locate_entities(domain, tdim, lambda x: x[0] <= 0.5 + 1e-12)
    tags = mesh.meshtags(domain, tdim, left_cells, np.full(left_cells.size, 1, dtype=np.int32))
    left, entity_map, _, _ = mesh.create_submesh(domain, tdim, left_cells)
    V = fem.functionspace(domain, ("Lagrange", 1))
    Q = V.clone()
    W = fem.functionspace(domain, ("Lagrange", 1, (3,)))
    S = fem.functionspace(left, ("Lagrange", 1))
    u, q, c, s = fem.Function(V), fem.Function(Q), fem.Function(W), fem.Function(S)
    rng = np.random.default_rng(11 + comm.rank)
    for f in (u, q, c, s):
        f.x.array[:] = 1.0 + 0.1 * rng.standard_normal(f.x.array.size)
        f.x.scatter_forward()
    v, w, z, y = (ufl.TestFunction(X) for X in (V, Q, W, S))
    dx = ufl.Measure("dx", domain=domain, subdomain_data=tags)
    ds = ufl.Measure("ds", domain=domain)
    # interior facets of the left half (the submesh's, away from its end)
    left_facets = mesh.locate_entities(
        domain, tdim - 1, lambda x: (x[0] > 1e-12) & (x[0] < 0.5 - 1e-12)
    )
    facet_tags = mesh.meshtags(
        domain, tdim - 1, left_facets, np.full(left_facets.size, 1, dtype=np.int32)
    )
    dS = ufl.Measure("dS", domain=domain, subdomain_data=facet_tags)
    dx_vertex = ufl.Measure(
        "dx", domain=domain, metadata={"quadrature_rule": "vertex", "quadrature_degree": 1}
    )
    k = fem.Constant(domain, 0.7)
    residual = [
        (ufl.exp(q) * ufl.inner(ufl.grad(u), ufl.grad(v)) + k * ufl.sinh(u - c[2]) * v) * ufl.dx
        + u * v * ds
        + s * u * v * dx(1)
        + ufl.jump(u) * ufl.jump(v) * dS,
        (q - u**2) * w * dx_vertex,
        (ufl.inner(c, z) * c[0] - q * z[1] + ufl.inner(ufl.grad(c), ufl.grad(z))) * ufl.dx,
        (ufl.exp(s - u) - k * s) * y * dx(1) + ufl.avg(q) * ufl.jump(q) * ufl.avg(y) * dS(1),
    ]
    unknowns = [u, q, c, s]
    jacobian = [
        [
            ufl.derivative(F, x, ufl.TrialFunction(x.function_space))
            if x in F.coefficients()
            else None
            for x in unknowns
        ]
        for F in residual
    ]
    F, J = forms([residual, jacobian], entity_maps=[entity_map])
    boundary = fem.locate_dofs_geometrical(V, lambda x: np.isclose(x[0], 0.0))
    bcs = [fem.dirichletbc(0.3, boundary, V)]
    return F, J, bcs, unknowns, k


def _dolfinx_matrix(J, bcs, pattern: PETSc.Mat) -> PETSc.Mat:
    reference = pattern.duplicate()
    reference.zeroEntries()
    assemble_matrix(reference, J, bcs, diag=1.0)
    reference.assemble()
    return reference


def _csr(matrix: PETSc.Mat):
    offsets, columns, values = matrix.getValuesCSR()
    return offsets.copy(), columns.copy(), values.copy()


def test_compiled_loop_equals_dolfinx_bit_for_bit():
    F, J, bcs, unknowns, k = _system(MPI.COMM_SELF)
    compiled = BlockAssembler(F, J, bcs)
    assert compiled.compiled is not None  # serial, 1D: the compiled loop is used
    spaces = [form.function_spaces[0] for form in F]
    matrix = create_matrix(J, kind="mpi")
    # (its first assembly finds the pattern through DOLFINx: an unassembled matrix's
    # compressed rows are not final)
    compiled.assemble_matrix(matrix, diag=1.0)
    matrix.assemble()
    reference_vector, vector = create_vector(spaces, kind="mpi"), create_vector(spaces, "mpi")
    for state in range(3):
        with vector.localForm() as local:
            local.set(np.nan)  # overwritten, not added to
        compiled.assemble_vector(vector)
        reference_vector.set(0.0)
        assemble_vector(reference_vector, F)
        assert np.array_equal(vector.getArray(), reference_vector.getArray())  # exact
        assert np.abs(reference_vector.getArray()).max() > 0.1  # not a comparison of zeros
        matrix.zeroEntries()
        compiled.assemble_matrix(matrix, diag=1.0)
        matrix.assemble()
        assert compiled.compiled.supports(matrix)
        reference = _dolfinx_matrix(J, bcs, matrix)
        for ref, new in zip(_csr(reference), _csr(matrix), strict=True):
            assert np.array_equal(ref, new)  # exact
        reference.destroy()
        k.value += 0.5
        for f in unknowns:
            f.x.array[:] *= 1.0 + 0.02 * (state + 1)
    # Without the condition (the DFN switches its terminal condition on and off), and back.
    for conditions in ([], bcs):
        compiled.set_bcs(conditions)
        matrix.zeroEntries()
        compiled.assemble_matrix(matrix, diag=1.0)
        matrix.assemble()
        reference = _dolfinx_matrix(J, conditions, matrix)
        assert np.array_equal(_csr(reference)[2], _csr(matrix)[2])  # exact
        reference.destroy()
    compiled.release()
    for item in (matrix, vector, reference_vector):
        item.destroy()


def test_compiled_loop_skips_and_selects_as_the_block_assembler():
    """``skip``/``only`` of the residual, ``skip_rows``/``skip_blocks``/``only_blocks`` of the
    Jacobian: the compiled loop and DOLFINx's per-block calls write the same entries."""
    F, J, bcs, _, _ = _system(MPI.COMM_SELF)
    compiled, per_block = BlockAssembler(F, J, bcs), BlockAssembler(F, J, bcs, compiled=False)
    assert compiled.compiled is not None and per_block.compiled is None
    for options in ({"skip": {0}}, {"only": {1, 3}}, {"skip": {2}, "only": {2, 3}}):
        vectors = [compiled.create_vector("mpi") for _ in range(2)]
        for assembler, vector in zip((compiled, per_block), vectors, strict=True):
            vector.set(np.nan)
            assembler.assemble_vector(vector, **options)
        one, two = (v.getArray() for v in vectors)
        assert np.array_equal(np.isnan(one), np.isnan(two))
        assert np.array_equal(one[~np.isnan(one)], two[~np.isnan(two)])  # exact
    pattern = compiled.create_matrix("mpi")
    per_block.assemble_matrix(pattern)
    pattern.assemble()
    for options in (
        {"skip_rows": {0}},
        {"skip_blocks": {(0, 3), (3, 3)}},
        {"only_blocks": {(0, 0), (3, 1)}},
    ):
        matrices = [pattern.duplicate() for _ in range(2)]
        for assembler, matrix in zip((compiled, per_block), matrices, strict=True):
            matrix.zeroEntries()
            assembler.assemble_matrix(matrix, diag=1.0, **options)
            matrix.assemble()
        assert compiled.compiled.supports(matrices[0])
        values = [_csr(matrix)[2] for matrix in matrices]
        assert np.array_equal(values[0], values[1])  # exact
        assert np.abs(values[0]).max() > 0.1
        for matrix in matrices:
            matrix.destroy()
    pattern.destroy()


@pytest.mark.parametrize("grow", [True, False])
def test_compressed_pattern_grows_or_drops_as_petsc_inserts(grow):
    """Into a compressed matrix (the DFN's): entries outside its pattern that are nonzero are
    added to it where it grows (and dropped where not), as PETSc's insertion does; the next
    assembly finds the grown pattern. With k = 0 the sinh term's block is out of the pattern."""
    F, J, bcs, _, k = _system(MPI.COMM_SELF)
    compiled, per_block = BlockAssembler(F, J, bcs), BlockAssembler(F, J, bcs, compiled=False)
    full = compiled.create_matrix("mpi")
    k.value = 0.0
    per_block.assemble_matrix(full)
    full.assemble()
    matrices = [compressed_matrix(full, grow=grow) for _ in range(2)]
    k.value = 0.7
    for _ in range(2):  # (the second assembly: into the grown pattern)
        for assembler, matrix in zip((compiled, per_block), matrices, strict=True):
            matrix.zeroEntries()
            assembler.assemble_matrix(matrix, diag=1.0)
            matrix.assemble()
        assert compiled.compiled.supports(matrices[0])
        for ref, new in zip(_csr(matrices[1]), _csr(matrices[0]), strict=True):
            assert np.array_equal(ref, new)  # exact: the same pattern and values
    stored = matrices[0].getInfo()["nz_used"]
    before = compressed_matrix(full, grow=grow).getInfo()["nz_used"]
    assert (stored > before) == grow
    for matrix in (*matrices, full):
        matrix.destroy()


@pytest.mark.parametrize("grow", [True, False])
def test_the_c_jacobian_grows_or_drops_as_the_python_assembly(grow):
    """TS's Jacobian as a C function (CompiledAssembly.jacobian_function) into a compressed
    matrix: the per-block assembly's matrix exactly, the entries met outside the pattern
    added to it where it grows (handed back to Python) or dropped; the state loaded from TS's
    vector, the shift set, the calls counted."""
    from cffi import FFI

    F, J, bcs, unknowns, k = _system(MPI.COMM_SELF)
    compiled, per_block = BlockAssembler(F, J, bcs), BlockAssembler(F, J, bcs, compiled=False)
    full = compiled.create_matrix("mpi")
    k.value = 0.0
    per_block.assemble_matrix(full)
    full.assemble()
    matrices = [compressed_matrix(full, grow=grow) for _ in range(2)]
    k.value = 0.7
    rates = [fem.Function(u.function_space) for u in unknowns]
    shift = fem.Constant(unknowns[0].function_space.mesh, 0.0)
    residual = compiled.compiled.residual_function(unknowns, rates)
    jacobian = compiled.compiled.jacobian_function(residual, matrices[0], shift)
    x, x_dot = compiled.create_vector("mpi"), compiled.create_vector("mpi")
    offsets = compiled.compiled._offsets
    for i, u in enumerate(unknowns):
        x.getArray()[offsets[i] : offsets[i + 1]] = u.x.array[: offsets[i + 1] - offsets[i]]
        u.x.array[:] = np.nan  # (loaded again from x by the C function)
    ffi = FFI()
    function = ffi.cast(
        "int(*)(void*, double, void*, void*, double, void*, void*, void*)", jacobian.function
    )
    matrix = ffi.cast("void*", matrices[0].handle)
    handles = [ffi.cast("void*", v.handle) for v in (x, x_dot)]
    for _ in range(2):  # (the second assembly: into the grown pattern)
        context = ffi.cast("void*", jacobian.context)
        assert function(ffi.NULL, 0.0, *handles, 2.5, matrix, matrix, context) == 0
        matrices[1].zeroEntries()
        per_block.assemble_matrix(matrices[1], diag=1.0)
        matrices[1].assemble()
        for ref, new in zip(_csr(matrices[1]), _csr(matrices[0]), strict=True):
            assert np.array_equal(ref, new)  # exact: the same pattern and values
    assert shift.value == 2.5 and jacobian.take_calls() == 2
    stored = matrices[0].getInfo()["nz_used"]
    before = compressed_matrix(full, grow=grow).getInfo()["nz_used"]
    assert (stored > before) == grow
    jacobian.release()
    for petsc_object in (*matrices, full, x, x_dot):
        petsc_object.destroy()


def test_not_used_where_unsupported():
    """A 2D mesh: the per-block calls (the compiled loop is for 1D meshes)."""
    domain = mesh.create_unit_square(MPI.COMM_SELF, 3, 3)
    V = fem.functionspace(domain, ("Lagrange", 1))
    u = fem.Function(V)
    v = ufl.TestFunction(V)
    residual = (ufl.inner(ufl.grad(u), ufl.grad(v)) + u**2 * v) * ufl.dx
    F, J = forms([[residual], [[ufl.derivative(residual, u)]]])
    assert BlockAssembler(F, J).compiled is None


def test_without_its_c_helper_the_blocks_are_assembled_one_by_one(monkeypatch):
    """No C compiler (or no writable form cache): a warning that names why, and the per-block
    calls, whose results are DOLFINx's."""
    import electrolyx.compiled_assembly as compiled_assembly

    def no_compiler():
        raise OSError("cc: not found")

    monkeypatch.setattr(compiled_assembly, "_HELPER", None)
    monkeypatch.setattr(compiled_assembly, "_HELPER_FAILURE", None)
    monkeypatch.setattr(compiled_assembly, "_build_helper", no_compiler)
    F, J, bcs, _, _ = _system(MPI.COMM_SELF)
    assembler = BlockAssembler(F, J, bcs)
    with pytest.warns(RuntimeWarning, match="cc: not found"):
        assert assembler.compiled is None
    spaces = [form.function_spaces[0] for form in F]
    vector, reference = create_vector(spaces, "mpi"), create_vector(spaces, "mpi")
    assembler.assemble_vector(vector)
    assemble_vector(reference, F)
    assert np.array_equal(vector.getArray(), reference.getArray())  # exact: same kernels


@pytest.mark.mpi
def test_not_used_on_several_ranks():
    """Distributed: the per-block calls (ghosts, and the matrix is not one serial AIJ)."""
    F, J, bcs, _, _ = _system(MPI.COMM_WORLD)
    assembler = BlockAssembler(F, J, bcs)
    assert (assembler.compiled is None) == (MPI.COMM_WORLD.size > 1)


def test_the_ageing_dfn_assembles_through_the_compiled_loop():
    """The cycling benchmark's model (plating and SEI, 11 fields, 64 Jacobian blocks, a
    compressed Jacobian), under current and voltage control: the same residual and Jacobian
    as the per-block calls, exactly."""
    from electrolyx.experiment import parse_experiment
    from electrolyx.models.dfn import DFN, DFNResolution, SideReactions
    from electrolyx.parameters import okane2022

    cell = okane2022()
    side = SideReactions(
        ("lithium-plating", "sei"), "partially-reversible", "reaction-limited", cell.degradation
    )
    model = DFN(cell, DFNResolution(8, 4, 8, 8, 8), side_reactions={"negative": side})
    integrator = model.integrator
    assembler = integrator._assembler
    assert assembler.compiled is not None
    # (its nodal terms too: each assembler fills the intercalation current's nodal values)
    assert assembler.nodal and assembler.nodal_residual
    fields = len(assembler.residual_forms)
    jacobian = [[None] * fields for _ in range(fields)]
    for i, j, form in assembler.jacobian_forms:
        jacobian[i][j] = form
    per_block = BlockAssembler(
        assembler.residual_forms,
        jacobian,
        compiled=False,
        nodal=assembler.nodal,
        nodal_residual=assembler.nodal_residual,
    )
    nodal_functions = [
        function
        for _, values, copy in assembler.nodal + assembler.nodal_residual
        for function in (values, copy)
        if function is not None
    ]

    def forget_nodal_values():
        for function in nodal_functions:
            function.x.array[:] = np.nan

    for protocol in (["Discharge at 1C for 5 minutes"], ["Hold at 3.7 V for 1 minute"]):
        model.run_experiment(parse_experiment(protocol))
        per_block.set_bcs(integrator.bcs)
        vectors = [assembler.create_vector("mpi") for _ in range(2)]
        for assembler_, vector in zip((assembler, per_block), vectors, strict=True):
            forget_nodal_values()
            assembler_.assemble_vector(vector)
        assert np.array_equal(vectors[0].getArray(), vectors[1].getArray())  # exact
        assert np.all(np.isfinite(vectors[0].getArray()))
        matrix = integrator.matrix
        copy = matrix.duplicate()
        for assembler_, target in ((assembler, matrix), (per_block, copy)):
            forget_nodal_values()
            target.zeroEntries()
            assembler_.assemble_matrix(target, diag=1.0)
            target.assemble()
        assert assembler.compiled.supports(matrix)
        for ref, new in zip(_csr(copy), _csr(matrix), strict=True):
            assert np.array_equal(ref, new)  # exact
        copy.destroy()
    assert len(integrator.bcs) == 1  # the last comparison had the terminal condition


def _ageing_dfn(points: int = 8):
    from electrolyx.models.dfn import DFN, DFNResolution, SideReactions
    from electrolyx.parameters import okane2022

    cell = okane2022()
    side = SideReactions(
        ("lithium-plating", "sei"), "partially-reversible", "reaction-limited", cell.degradation
    )
    return DFN(
        cell, DFNResolution(points, 4, points, points, points), side_reactions={"negative": side}
    )


def test_the_c_residual_equals_the_python_callback():
    """TS's residual as a C function (CompiledAssembly.residual_function) gives what
    TSIntegrator's Python callback gives, exactly, at a perturbed state under current and
    voltage control: the residual, the state and rates kept as the last evaluation's, the
    unknowns loaded; and it counts its calls."""
    from cffi import FFI

    from electrolyx.experiment import parse_experiment

    model = _ageing_dfn()
    integrator = model.integrator
    compiled = integrator._assembler.compiled
    signature = "int(*)(void*, double, void*, void*, void*, void*)"
    rng = np.random.default_rng(3)
    for protocol in (["Discharge at 1C for 5 minutes"], ["Hold at 3.7 V for 1 minute"]):
        model.run_experiment(parse_experiment(protocol))
        x, x_dot = integrator.x.duplicate(), integrator.x.duplicate()
        x.getArray()[:] = integrator.x.getArray() * (1 + 1e-3 * rng.standard_normal(x.size))
        x_dot.getArray()[:] = 1e-4 * rng.standard_normal(x.size)
        kept = [x.duplicate() for _ in range(4)]
        results = [x.duplicate() for _ in range(2)]
        integrator._last_rates = (kept[0], kept[1])
        integrator._residual(None, 100.0, x, x_dot, results[0])
        python_unknowns = [u.x.array.copy() for u in integrator.unknowns]
        for u in integrator.unknowns:
            u.x.array[:] = np.nan
        residual = compiled.residual_function(
            integrator.unknowns, integrator.rates, last=(kept[2], kept[3])
        )
        ffi = FFI()
        function = ffi.cast(signature, residual.function)
        handles = [ffi.cast("void*", v) for v in (x.handle, x_dot.handle, results[1].handle)]
        assert function(ffi.NULL, 100.0, *handles, ffi.cast("void*", residual.context)) == 0
        assert residual.take_calls() == 1 and residual.take_calls() == 0
        integrator._last_rates = None
        assert np.array_equal(results[0].getArray(), results[1].getArray())  # exact
        assert np.all(np.isfinite(results[1].getArray()))
        for u, values in zip(integrator.unknowns, python_unknowns, strict=True):
            assert np.array_equal(u.x.array, values)
        assert np.array_equal(kept[2].getArray(), x.getArray())
        assert np.array_equal(kept[3].getArray(), x_dot.getArray())
        for vector in (x, x_dot, *kept, *results):
            vector.destroy()
    assert len(integrator.bcs) == 1  # the last comparison had the terminal condition


def test_integrations_with_the_c_residual_are_those_with_the_python_callback(monkeypatch):
    """A discharge, a voltage hold and a charge with TS calling the C residual, and with its
    Python callback: the same steps, evaluations and voltages, bit for bit."""
    from electrolyx.experiment import parse_experiment
    from electrolyx.ts_integrator import TSIntegrator

    protocol = parse_experiment(
        [
            "Discharge at 1C for 5 minutes",
            "Hold at 3.7 V for 1 minute",
            "Charge at 1C for 2 minutes",
        ]
    )
    python_calls = []
    residual = TSIntegrator._residual

    def counted(self, *args):
        python_calls.append(1)
        residual(self, *args)

    monkeypatch.setattr(TSIntegrator, "_residual", counted)
    runs = []
    for c_residual in (True, False):
        model = _ageing_dfn()
        integrator = model.integrator
        if not c_residual:
            integrator._compiled_residual = lambda ts, f, integrator=integrator: setattr(
                integrator, "_c_residual", None
            )
        python_calls.clear()
        solution = model.run_experiment(protocol)
        runs.append((np.array(solution.voltage_V), dict(integrator.counts), len(python_calls)))
    (voltage, counts, python_calls), (voltage_python, counts_python, all_calls) = runs
    # TS called the C function only (the Python callback: the consistent initial potentials')
    assert all_calls == counts_python["residual"] > 100
    assert python_calls < 0.2 * all_calls
    assert counts == counts_python
    assert np.array_equal(voltage, voltage_python)  # exact


def test_scalar_forms_by_one_call_equal_dolfinx_bit_for_bit():
    """CompiledAssembly.scalar_function: each scalar form's value as dolfinx's assemble_scalar
    gives it (cell, vertex-quadrature, boundary and interior-facet integrals, a subdomain, a
    submesh's function over the parent mesh), exactly; and again after the functions change."""
    F, J, bcs, unknowns, k = _system(MPI.COMM_SELF)
    compiled = BlockAssembler(F, J, bcs).compiled
    u, q, c, s = unknowns
    domain = u.function_space.mesh
    tdim = domain.topology.dim
    left_cells = mesh.locate_entities(domain, tdim, lambda x: x[0] <= 0.5 + 1e-12)
    tags = mesh.meshtags(domain, tdim, left_cells, np.full(left_cells.size, 1, dtype=np.int32))
    # (s lives on the submesh of these cells: its entity map, found again by its vertices)
    left, entity_map, _, _ = mesh.create_submesh(domain, tdim, left_cells)
    s_here = fem.Function(fem.functionspace(left, ("Lagrange", 1)))
    dx = ufl.Measure("dx", domain=domain, subdomain_data=tags)
    dx_vertex = ufl.Measure(
        "dx", domain=domain, metadata={"quadrature_rule": "vertex", "quadrature_degree": 1}
    )
    scalars = forms(
        [
            ufl.exp(q) * ufl.inner(ufl.grad(u), ufl.grad(u)) * ufl.dx + k * u * ufl.ds,
            (q - u**2) * dx_vertex,
            ufl.jump(u) ** 2 * ufl.dS + c[1] * c[2] * ufl.dx,
            s_here * u * dx(1),
        ],
        entity_maps=[entity_map],
    )
    evaluate = compiled.scalar_function(scalars)
    rng = np.random.default_rng(5)
    for _ in range(2):
        s_here.x.array[:] = rng.standard_normal(s_here.x.array.size)
        u.x.array[:] *= 1.0 + 0.1 * rng.standard_normal(u.x.array.size)
        expected = [fem.assemble_scalar(form) for form in scalars]
        assert evaluate() == expected  # exact
    assert all(value != 0.0 for value in expected)


def test_newtons_test_screened_in_c_gives_the_same_integration():
    """Newton's convergence test answered in C for the usual iterations (the DFN's
    convergence_screen) and asked of Python otherwise: the same steps, evaluations and
    voltages as with the Python test at every iteration, bit for bit, with Python asked
    about a minority of the iterations."""
    from electrolyx.experiment import parse_experiment

    protocol = parse_experiment(["Discharge at 1C for 5 minutes", "Hold at 3.7 V for 1 minute"])
    runs = []
    for screened in (True, False):
        model = _ageing_dfn()
        integrator = model.integrator
        assert integrator.convergence_screen is not None  # (1D: no foils)
        if not screened:
            integrator.convergence_screen = None
        asked = []
        test = integrator.convergence_test

        def counted(*args, test=test, asked=asked):
            asked.append(args[0])
            return test(*args)

        integrator.convergence_test = counted
        solution = model.run_experiment(protocol)
        runs.append(
            (
                np.array(solution.voltage_V),
                dict(integrator.counts),
                dict(integrator.totals),
                len(asked),
            )
        )
    (voltage, counts, totals, asked), (voltage_python, counts_python, totals_python, every) = runs
    assert every >= totals_python["newton_iterations"] > 100
    # Python is asked only about the iterations C does not answer: a solve's relative-
    # decrease, step-size or last iteration (and then its first, told first); most solves
    # end below the absolute tolerance, all in C. Measured 68 of 431; the bound is a quarter
    # (when Python was asked every solve's first iteration as well: more than one in three).
    assert asked < 0.25 * every
    assert counts == counts_python and totals == totals_python
    assert np.array_equal(voltage, voltage_python)  # exact


def test_a_state_loaded_once_per_step_gives_the_same_rows():
    """TSIntegrator._state_at skips the post-step's load of the state the event indicator
    has just loaded: about one load per accepted step instead of two, and the same rows,
    bit for bit, as when every call loads (a CC discharge to a cut-off, then a voltage hold
    to a current limit: both kinds of event, one at every step)."""
    from electrolyx.experiment import parse_experiment
    from electrolyx.ts_integrator import TSIntegrator

    protocol = parse_experiment(["Discharge at 1C until 3.9 V", "Hold at 3.9 V until C/2"])
    runs = []
    for skipping in (True, False):
        model = _ageing_dfn()
        integrator = model.integrator
        loads = []
        load = integrator._load

        def counted(vector, functions, load=load, loads=loads, integrator=integrator):
            if functions is integrator.unknowns:
                loads.append(1)
            return load(vector, functions)

        integrator._load = counted
        if not skipping:

            def state_at(t, vector, integrator=integrator):
                integrator._state_loaded = None
                TSIntegrator._state_at(integrator, t, vector)

            integrator._state_at = state_at
        try:
            solution = model.run_experiment(protocol)
        finally:
            # (the wrappers refer to the integrator: no cycle keeps the model alive after)
            vars(integrator).pop("_load", None)
            vars(integrator).pop("_state_at", None)
        columns = (solution.time_s, solution.voltage_V, solution.lithium_in_side_reactions_mol)
        runs.append((tuple(np.array(c) for c in columns), integrator.totals["steps"], len(loads)))
    (rows, steps, loads), (rows_always, steps_always, loads_always) = runs
    assert steps == steps_always > 50
    for column, column_always in zip(rows, rows_always, strict=True):
        assert np.array_equal(column, column_always)  # exact
    # Skipping saves the post-step's load of each accepted step: one a step (the other loads,
    # the indicator's and the consistent initial states' Newton iterations, are the same).
    # Measured 220 -> 122 loads over 96 steps; the bound allows a few steps without it.
    assert loads_always - loads > 0.95 * steps


def test_the_event_indicator_in_c_gives_the_same_integration(monkeypatch):
    """The DFN's voltage cut-off and current limit evaluated in C (TSIntegrator's
    AffineIndicator, CompiledAssembly.indicator_function) give the integration of the Python
    indicator bit for bit: the same steps, event times and rows (a CC discharge to a cut-off,
    a CC charge to another, then a voltage hold to a current limit; a 3C discharge whose
    cut-off is located with trial steps). And TSEvent did call the C indicator."""
    from electrolyx.compiled_assembly import CompiledAssembly
    from electrolyx.experiment import parse_experiment
    from electrolyx.ts_integrator import TSIntegrator

    made = []
    build = CompiledAssembly.indicator_function

    def recorded(self, *args, **kwargs):
        made.append(build(self, *args, **kwargs))
        return made[-1]

    monkeypatch.setattr(CompiledAssembly, "indicator_function", recorded)
    protocol = parse_experiment(
        [
            "Discharge at 1C until 3.6 V",
            "Charge at 1C until 4.1 V",
            "Hold at 4.1 V until C/2",
            "Discharge at 3C until 3.3 V",
        ]
    )
    runs = []
    for in_c in (True, False):
        monkeypatch.setattr(TSIntegrator, "compiled_events", in_c)
        model = _ageing_dfn()
        solution = model.run_experiment(protocol)
        columns = (
            solution.time_s,
            solution.voltage_V,
            solution.current_A,
            solution.lithium_mol,
            solution.lithium_in_side_reactions_mol,
            solution.step_index,
        )
        runs.append((tuple(np.array(c) for c in columns), dict(model.integrator.totals)))
    (rows, totals), (rows_python, totals_python) = runs
    assert totals == totals_python and totals["steps"] > 50
    for column, column_python in zip(rows, rows_python, strict=True):
        assert np.array_equal(column, column_python)  # exact
    assert sorted(set(rows[-1].tolist())) == [0, 1, 2, 3]  # every protocol step ran
    # One C indicator per protocol step with a limit, none in the Python run; each called at
    # every accepted step at least (and at TS's start and the trial steps).
    assert len(made) == 4
    assert sum(indicator.pending_calls for indicator in made) > totals["steps"]
