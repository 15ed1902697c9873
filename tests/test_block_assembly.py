"""BlockAssembler gives dolfinx's blocked assembly bit for bit.

A nonlinear block system of three fields (two scalar P1 fields, one blocked P1 field of 3
components: the layout of the DFN's potentials and particle concentrations), cell, vertex
quadrature and boundary facet integrals, an empty Jacobian block and a Dirichlet condition on
the first field. The residual and Jacobian assembled by :class:`BlockAssembler` are compared
with ``dolfinx.fem.petsc.assemble_vector`` / ``assemble_matrix`` on the same forms: same
kernels called in the same order, so the comparison is exact (tolerance 0), at two states
and after the matrix assembled into changes (the kept local sub-matrices must follow it).
"""

from mpi4py import MPI
from petsc4py import PETSc

import numpy as np
import pytest
import ufl
from dolfinx import fem, mesh
from dolfinx.fem.petsc import (
    assemble_matrix,
    assemble_vector,
    create_matrix,
    create_vector,
    set_bc,
)

import electrolyx  # noqa: F401  (loads MPI/PETSc libraries first)
from electrolyx.block_assembly import BlockAssembler, _packing_groups
from electrolyx.jacobian_pattern import compressed_matrix
from electrolyx.jit import forms


def _system(comm):
    domain = mesh.create_unit_interval(comm, 12)
    V = fem.functionspace(domain, ("Lagrange", 1))
    Q = V.clone()
    W = fem.functionspace(domain, ("Lagrange", 1, (3,)))
    u, q, c = fem.Function(V), fem.Function(Q), fem.Function(W)
    rng = np.random.default_rng(7 + comm.rank)
    for f in (u, q, c):
        f.x.array[:] = 1.0 + 0.1 * rng.standard_normal(f.x.array.size)
        f.x.scatter_forward()
    v, w, z = ufl.TestFunction(V), ufl.TestFunction(Q), ufl.TestFunction(W)
    dx_vertex = ufl.Measure(
        "dx", domain=domain, metadata={"quadrature_rule": "vertex", "quadrature_degree": 1}
    )
    k = fem.Constant(domain, 0.7)
    residual = [
        (ufl.exp(q) * ufl.inner(ufl.grad(u), ufl.grad(v)) + k * ufl.sinh(u - c[2]) * v) * ufl.dx
        + u * v * ufl.ds,
        (q - u**2) * w * dx_vertex,
        (ufl.inner(c, z) * c[0] - q * z[1] + ufl.inner(ufl.grad(c), ufl.grad(z))) * ufl.dx,
    ]
    unknowns = [u, q, c]
    jacobian = [
        [
            ufl.derivative(F, x, ufl.TrialFunction(x.function_space))
            if x in F.coefficients()
            else None
            for x in unknowns
        ]
        for F in residual
    ]
    assert jacobian[1][2] is None and jacobian[2][0] is None  # empty blocks are covered
    F, J = forms([residual, jacobian])
    left = fem.locate_dofs_geometrical(V, lambda x: np.isclose(x[0], 0.0))
    bcs = [fem.dirichletbc(0.3, left, V)]
    return F, J, bcs, unknowns, k


def _csr(matrix: PETSc.Mat):
    offsets, columns, values = matrix.getValuesCSR()
    return offsets.copy(), columns.copy(), values.copy()


@pytest.mark.mpi
def test_residual_and_jacobian_equal_dolfinx_bit_for_bit():
    F, J, bcs, unknowns, k = _system(MPI.COMM_WORLD)
    lean = BlockAssembler(F, J, bcs)
    # The comparison covers shared packing: dF_1/dq and dF_2/dq pack the same (no
    # coefficient, every cell) once; dF_0/dq (u, q) and dF_0/dc (u, c) each their own.
    blocks = [(i, j) for i, j, _ in lean._blocks]
    groups = dict(zip(blocks, lean._coefficient_groups, strict=True))
    assert groups[1, 1] == groups[2, 1] and groups[0, 1] != groups[0, 2]
    spaces = [form.function_spaces[0] for form in F]
    reference_vector = create_vector(spaces, kind="mpi")
    lean_vector = create_vector(spaces, kind="mpi")
    reference_matrix = create_matrix(J, kind="mpi")
    matrices = [reference_matrix.duplicate(), reference_matrix.duplicate()]
    for state, matrix in enumerate([matrices[0], matrices[0], matrices[1]]):
        # the vector is overwritten, not added to: start from garbage
        with lean_vector.localForm() as local:
            local.set(np.nan)
        lean.assemble_vector(lean_vector)
        with reference_vector.localForm() as local:
            local.set(0.0)
        assemble_vector(reference_vector, F)
        with reference_vector.localForm() as ref, lean_vector.localForm() as new:
            assert np.array_equal(ref.array_r, new.array_r)  # exact: same kernels, same order
        reference_matrix.zeroEntries()
        assemble_matrix(reference_matrix, J, bcs, diag=1.0)
        reference_matrix.assemble()
        matrix.zeroEntries()
        lean.assemble_matrix(matrix, diag=1.0)
        matrix.assemble()
        for ref, new in zip(_csr(reference_matrix), _csr(matrix), strict=True):
            assert np.array_equal(ref, new)  # exact, as above
        assert reference_matrix.norm() > 1.0  # a real comparison, not of two zero matrices
        # the next state
        k.value += 0.5
        for f in unknowns:
            f.x.array[:] *= 1.0 + 0.01 * (state + 1)
    lean.release()
    for matrix in (*matrices, reference_matrix):
        matrix.destroy()


@pytest.mark.mpi
def test_matrix_vectors_and_dirichlet_values_as_dolfinx_makes_them():
    """create_matrix, create_vector and set_bc give dolfinx.fem.petsc's, exactly."""
    F, J, bcs, _, _ = _system(MPI.COMM_WORLD)
    lean = BlockAssembler(F, J, bcs)
    spaces = [form.function_spaces[0] for form in F]
    reference_matrix, matrix = create_matrix(J, kind="mpi"), lean.create_matrix("mpi")
    assert matrix.getType() == reference_matrix.getType()
    assert matrix.getSizes() == reference_matrix.getSizes()
    assert matrix.getOwnershipRange() == reference_matrix.getOwnershipRange()
    # the same preallocated pattern: assembled, both hold the same entries
    assemble_matrix(reference_matrix, J, bcs)
    reference_matrix.assemble()
    lean.assemble_matrix(matrix)
    matrix.assemble()
    for ref, new in zip(_csr(reference_matrix), _csr(matrix), strict=True):
        assert np.array_equal(ref, new)  # exact: same kernels, same order
    reference, vector = create_vector(spaces, kind="mpi"), lean.create_vector("mpi")
    assert vector.getSizes() == reference.getSizes()
    assert np.array_equal(
        np.concatenate(vector.getAttr("_blocks")), np.concatenate(reference.getAttr("_blocks"))
    )
    rng = np.random.default_rng(3 + MPI.COMM_WORLD.rank)
    x0 = vector.duplicate()
    x0.getArray()[:] = rng.standard_normal(x0.getLocalSize())
    for alpha, start in ((-1.0, x0), (1.0, None)):
        filled = rng.standard_normal(vector.getLocalSize())
        reference.getArray()[:] = filled
        vector.getArray()[:] = filled
        set_bc(reference, fem.bcs_by_block(spaces, bcs), x0=start, alpha=alpha)
        lean.set_bc(vector, x0=start, alpha=alpha)
        assert np.array_equal(vector.getArray(), reference.getArray())  # exact: same values
    # the condition's dof changed on the rank that owns it (a real comparison)
    changed = np.count_nonzero(reference.getArray() != filled)
    assert MPI.COMM_WORLD.allreduce(changed) == 1
    lean.release()
    for m in (matrix, reference_matrix, vector, reference, x0):
        m.destroy()


def test_no_diagonal_without_conditions():
    """Without Dirichlet conditions nothing is inserted: A is J exactly, as dolfinx has it."""
    F, J, _, _, _ = _system(MPI.COMM_SELF)
    lean = BlockAssembler(F, J, [])
    assert lean._diagonal == []
    reference = create_matrix(J, kind="mpi")
    matrix = reference.duplicate()
    assemble_matrix(reference, J, [], diag=1.0)
    reference.assemble()
    lean.assemble_matrix(matrix)
    matrix.assemble()
    for ref, new in zip(_csr(reference), _csr(matrix), strict=True):
        assert np.array_equal(ref, new)  # exact: same kernels, same order


def _dense(matrix: PETSc.Mat) -> np.ndarray:
    """The whole matrix on every rank (small test matrices only)."""
    offsets, columns, values = matrix.getValuesCSR()
    start, end = matrix.getOwnershipRange()
    rows = np.zeros((end - start, matrix.getSize()[1]))
    for row in range(end - start):
        rows[row, columns[offsets[row] : offsets[row + 1]]] = values[
            offsets[row] : offsets[row + 1]
        ]
    return np.vstack(matrix.comm.tompi4py().allgather(rows))


@pytest.mark.mpi
def test_compressed_matrix_grows_by_the_nonzeros_outside_its_pattern():
    """A term switched off where the pattern was found still reaches the Jacobian later.

    With k = 0 the block dF_0/dc (the sinh term) is zero and drops out of the compressed
    pattern; with k = 0.7 the same assembly into the compressed matrix must give the whole
    Jacobian, equal entry for entry to dolfinx's full-pattern one (exact: the same values are
    added, only exact zeros are skipped), with fewer stored entries than the full pattern.
    """
    F, J, bcs, _, k = _system(MPI.COMM_WORLD)
    lean = BlockAssembler(F, J, bcs)
    full = create_matrix(J, kind="mpi")
    k.value = 0.0
    lean.assemble_matrix(full)
    full.assemble()
    compressed = compressed_matrix(full, grow=True)
    compressed.setOption(PETSc.Mat.Option.KEEP_NONZERO_PATTERN, True)
    stored_at_k0 = compressed.getInfo(PETSc.Mat.InfoType.GLOBAL_SUM)["nz_used"]
    k.value = 0.7
    reference = create_matrix(J, kind="mpi")
    assemble_matrix(reference, J, bcs, diag=1.0)
    reference.assemble()
    compressed.zeroEntries()
    lean.assemble_matrix(compressed)
    compressed.assemble()
    grown = compressed.getInfo(PETSc.Mat.InfoType.GLOBAL_SUM)["nz_used"]
    full_pattern = reference.getInfo(PETSc.Mat.InfoType.GLOBAL_SUM)["nz_used"]
    assert stored_at_k0 < grown < full_pattern  # it grew, and still skips structural zeros
    assert np.array_equal(_dense(compressed), _dense(reference))  # exact, see the docstring
    lean.release()
    for matrix in (full, compressed, reference):
        matrix.destroy()


@pytest.mark.mpi
def test_only_some_fields_written():
    """``only``: those fields' entries as the full assembly has them; the others untouched.

    The quadrature fields' solve (electrolyx.ts_integrator) reads only its own rows.
    """
    F, J, bcs, _, _ = _system(MPI.COMM_WORLD)
    lean = BlockAssembler(F, J, bcs)
    spaces = [form.function_spaces[0] for form in F]
    full = create_vector(spaces, kind="mpi")
    partial = create_vector(spaces, kind="mpi")
    lean.assemble_vector(full)
    with partial.localForm() as local:
        local.set(np.nan)
    lean.assemble_vector(partial, only={1})
    offsets, ghost_offsets = full.getAttr("_blocks")
    with full.localForm() as reference, partial.localForm() as written:
        for i in range(len(F)):
            owned = (offsets[i], offsets[i + 1])
            for start, end in (owned, (ghost_offsets[i], ghost_offsets[i + 1])):
                ref, new = reference.array_r[start:end], written.array_r[start:end]
                if i == 1:
                    assert np.array_equal(ref, new)  # exact: the same kernel call
                else:
                    assert np.isnan(new).all()  # not written
        # not a zero block: |q - u^2| ~ 0.1 (the states' spread) times a nodal weight 1/12
        assert np.abs(reference.array_r[offsets[1] : offsets[2]]).max() > 1e-3


def test_forms_reading_different_coefficients_do_not_share_their_packing():
    """Packed coefficients hold only what each integral's kernel reads (the rest zero).

    A and B have the same coefficients (u, q) and integrals over the same cells, but A's
    integral over region 2 does not read q and B's over region 1 does not: their packings
    differ, and B assembled with A's would lose q on region 1. A' (A again) shares A's.
    """
    domain = mesh.create_unit_interval(MPI.COMM_SELF, 4)
    cells = np.arange(4, dtype=np.int32)
    regions = mesh.meshtags(domain, 1, cells, np.array([1, 1, 2, 2], dtype=np.int32))
    dx = ufl.Measure("dx", domain, subdomain_data=regions)
    V = fem.functionspace(domain, ("Lagrange", 1))
    u, q = fem.Function(V), fem.Function(V)
    u.x.array[:], q.x.array[:] = 1.0, 2.0
    v = ufl.TestFunction(V)
    A, B, A_again = forms(
        [
            (u + q) * v * dx(1) + u * v * dx(2),
            u * v * dx(1) + (u + q) * v * dx(2),
            (u + q) * v * dx(1) + u * v * dx(2),
        ]
    )
    constant_groups, coefficient_groups = _packing_groups([A, B, A_again])
    assert coefficient_groups[0] != coefficient_groups[1]
    assert coefficient_groups[0] == coefficient_groups[2]
    assert constant_groups == [0, 0, 0]  # no constants: one (empty) packing


@pytest.mark.mpi
def test_nested_matrix_holds_the_single_matrix_blocks_and_compresses():
    """create_matrix("nest"): one matrix per block (None where no block), numbered as the
    single matrix, assembled (the Dirichlet diagonal included) to the single matrix's blocks
    exactly; compressed_matrix keeps a nested matrix nested, each block without its zeros
    (rows left empty in dF_2/dq, whose term q z[1] reaches one of c's three components)."""
    comm = MPI.COMM_WORLD
    F, J, bcs, _, _ = _system(comm)
    lean = BlockAssembler(F, J, bcs)
    single, nested = lean.create_matrix("mpi"), lean.create_matrix("nest")
    assert nested.getType() == "nest" and nested.getNestSize() == (3, 3)
    assert nested.getSizes() == single.getSizes()
    assert nested.getOwnershipRange() == single.getOwnershipRange()
    for matrix in (single, nested):
        lean.assemble_matrix(matrix, diag=1.0)
        matrix.assemble()
    start = single.getOwnershipRange()[0]
    offsets = lean.create_vector("mpi").getAttr("_blocks")[0]
    sets = [
        PETSc.IS().createStride(
            int(offsets[i + 1] - offsets[i]), start + int(offsets[i]), 1, comm=comm
        )
        for i in range(3)
    ]
    for i in range(3):
        for j in range(3):
            block = nested.getNestSubMatrix(i, j)
            assert bool(block.handle) == (J[i][j] is not None)
            if block.handle:
                part = single.createSubMatrix(sets[i], sets[j])
                # exact: the same kernels add the same values in the same order
                assert np.array_equal(_dense(block), _dense(part))
                part.destroy()
            block.destroy()
    compressed = compressed_matrix(nested)
    assert compressed.getType() == "nest"
    x, y, z = single.createVecRight(), single.createVecLeft(), single.createVecLeft()
    x.setRandom()
    nested.mult(x, y)
    compressed.mult(x, z)
    # Entries below 1e-14 of their (block) row's largest are left out: zeros, and round-off
    # of terms that are zero (measured: 3.6e-15 of |y|_inf ~ 20 in serial; allowed 1e-14 |y|).
    difference = np.max(np.abs(y.getArray() - z.getArray()), initial=0.0)
    assert comm.allreduce(difference, op=MPI.MAX) <= 1e-14 * y.norm(PETSc.NormType.INFINITY)
    assert y.norm() > 1.0

    def stored(matrix) -> int:
        return sum(
            int(matrix.getNestSubMatrix(i, j).getInfo(PETSc.Mat.InfoType.GLOBAL_SUM)["nz_used"])
            for i in range(3)
            for j in range(3)
            if J[i][j] is not None
        )

    # The vertex-quadrature blocks dF_1/du, dF_1/dq couple a vertex's own unknowns only.
    assert stored(compressed) < stored(nested)
    empty_rows = np.diff(compressed.getNestSubMatrix(2, 1).getValuesCSR()[0]) == 0
    assert comm.allreduce(int(empty_rows.sum())) > 0
    lean.release()
    for m in (single, nested, compressed, x, y, z, *sets):
        m.destroy()


def test_one_coefficient_group_packed_at_a_time():
    """The Jacobian's blocks are assembled group by group, each group's packs freed after it.

    Two fields u, q and F_i = q u v_i dx: dF_0/du and dF_1/du read q, dF_0/dq and dF_1/dq read
    u, so in row order the two groups alternate (0, 1, 0, 1). Assembled group by group, a
    group's packed coefficients are no longer held when the next is packed: at most one is
    alive (row by row, two were: the 3D half cell held three, ~0.4 kB per unknown at 1 M
    unknowns). The matrix is dolfinx's bit for bit (each block adds into its own entries).
    """
    import weakref

    from electrolyx import block_assembly

    domain = mesh.create_unit_square(MPI.COMM_SELF, 4, 4)
    V = fem.functionspace(domain, ("Lagrange", 1))
    u, q = fem.Function(V), fem.Function(V.clone())
    u.x.array[:] = np.linspace(1.0, 2.0, u.x.array.size)
    q.x.array[:] = np.linspace(3.0, 1.0, q.x.array.size)
    v, w = ufl.TestFunction(V), ufl.TestFunction(q.function_space)
    residual = [q * u * v * ufl.dx, 2.0 * q * u * w * ufl.dx]
    jacobian = [
        [ufl.derivative(F, x, ufl.TrialFunction(x.function_space)) for x in (u, q)]
        for F in residual
    ]
    F, J = forms([residual, jacobian])
    lean = BlockAssembler(F, J)
    assert lean._coefficient_groups == [0, 1, 0, 1]  # alternating in row order
    alive, most = [0], [0]
    pack = block_assembly._pack_coefficients

    def counted(form):
        packed = pack(form)
        for array in packed.values():
            alive[0] += 1
            weakref.finalize(array, lambda: alive.__setitem__(0, alive[0] - 1))
        most[0] = max(most[0], alive[0])
        return packed

    block_assembly._pack_coefficients = counted
    try:
        matrix = create_matrix(J, kind="mpi")
        lean.assemble_matrix(matrix)
        matrix.assemble()
    finally:
        block_assembly._pack_coefficients = pack
    # one integral (dx) per group: one array alive at a time (two in row order)
    assert most[0] == 1
    reference = create_matrix(J, kind="mpi")
    assemble_matrix(reference, J)
    reference.assemble()
    for ref, new in zip(_csr(reference), _csr(matrix), strict=True):
        assert np.array_equal(ref, new)  # exact: the same kernels on the same entries
    assert reference.norm() > 0.1  # (mass matrices of 1/32-sized cells weighted by 1..6)
    lean.release()
    for m in (matrix, reference):
        m.destroy()


@pytest.mark.mpi
def test_forms_split_into_parts_assemble_the_same_bit_for_bit():
    """split_forms: each form as forms over parts of its integrals' entities, the same result.

    A mixed-domain system like the 3D half cell's, on a unit cube's two halves: u on the
    submesh x < 1/2, q on the other, forms over the parent mesh with a cell integral per half,
    the interface between the halves (interior facets) and two boundary faces (exterior facets),
    coefficients read through the entity maps. With packs of at most 2000 bytes every integral
    is split (dozens of parts); the residual and the Jacobian must be those of the whole forms
    bit for bit (the parts add each entry's values in DOLFINx's order: cells, interior facets,
    exterior facets, which a test of the other order found to differ in the last bit), the
    matrix on 2 ranks to round-off.
    """
    comm = MPI.COMM_WORLD
    domain = mesh.create_unit_cube(comm, 4, 4, 4, ghost_mode=mesh.GhostMode.shared_facet)
    tdim = domain.topology.dim
    domain.topology.create_connectivity(tdim - 1, tdim)
    cells = domain.topology.index_map(tdim)
    cell_count = cells.size_local + cells.num_ghosts  # (the submeshes hold the ghosts too)
    midpoints = mesh.compute_midpoints(domain, tdim, np.arange(cell_count, dtype=np.int32))
    left = np.flatnonzero(midpoints[:, 0] < 0.5).astype(np.int32)
    right = np.flatnonzero(midpoints[:, 0] >= 0.5).astype(np.int32)
    left_mesh, left_map, _, _ = mesh.create_submesh(domain, tdim, left)
    right_mesh, right_map, _, _ = mesh.create_submesh(domain, tdim, right)
    entity_maps = [left_map, right_map]
    interface_facets = mesh.locate_entities(domain, tdim - 1, lambda x: np.isclose(x[0], 0.5))
    interface = fem.compute_integration_domains(
        fem.IntegralType.interior_facet, domain.topology, interface_facets
    ).reshape(-1, 4)
    # the "+" side in the left half
    in_left = np.zeros(cell_count, dtype=bool)
    in_left[left] = True
    swap = ~in_left[interface[:, 0]]
    interface[swap] = interface[swap][:, [2, 3, 0, 1]]
    boundary = fem.compute_integration_domains(
        fem.IntegralType.exterior_facet,
        domain.topology,
        mesh.locate_entities_boundary(domain, tdim - 1, lambda x: np.isclose(x[1], 0.0)),
    ).reshape(-1, 2)
    boundary = boundary[in_left[boundary[:, 0]]]  # (the face y = 0 of the left half)
    bottom = fem.compute_integration_domains(
        fem.IntegralType.exterior_facet,
        domain.topology,
        mesh.locate_entities_boundary(domain, tdim - 1, lambda x: np.isclose(x[2], 0.0)),
    ).reshape(-1, 2)
    bottom = bottom[in_left[bottom[:, 0]]]  # (z = 0: a second integral of the same type)
    dx = ufl.Measure(
        "dx",
        domain,
        subdomain_data=[
            (1, fem.compute_integration_domains(fem.IntegralType.cell, domain.topology, left)),
            (2, fem.compute_integration_domains(fem.IntegralType.cell, domain.topology, right)),
        ],
    )
    dS = ufl.Measure("dS", domain, subdomain_data=[(3, interface.ravel())])
    ds = ufl.Measure("ds", domain, subdomain_data=[(4, boundary.ravel()), (5, bottom.ravel())])
    V = fem.functionspace(left_mesh, ("Lagrange", 1))
    Q = fem.functionspace(right_mesh, ("Lagrange", 1))
    u, q = fem.Function(V), fem.Function(Q)
    rng = np.random.default_rng(11 + comm.rank)
    for f in (u, q):
        f.x.array[:] = 1.0 + 0.1 * rng.standard_normal(f.x.array.size)
        f.x.scatter_forward()
    v, w = ufl.TestFunctions(ufl.MixedFunctionSpace(V, Q))
    jump = ufl.sinh(u("+") - q("-"))
    residual = ufl.extract_blocks(
        (ufl.exp(u) * ufl.inner(ufl.grad(u), ufl.grad(v)) + u**3 * v) * dx(1)
        + (ufl.inner(ufl.grad(q), ufl.grad(w)) + ufl.cos(q) * w) * dx(2)
        + jump * v("+") * dS(3)
        - jump * w("-") * dS(3)
        + u**2 * v * ds(4)
        + ufl.exp(u) * v * ds(5)
    )
    unknowns = [u, q]
    jacobian = [
        [ufl.derivative(F, x, ufl.TrialFunction(x.function_space)) for x in unknowns]
        for F in residual
    ]
    F, J = forms([residual, jacobian], entity_maps=entity_maps)
    whole = BlockAssembler(F, J)
    split = BlockAssembler(F, J)
    matrices = [whole.create_matrix("mpi"), split.create_matrix("mpi")]
    assert not split.split_forms(10**9, entity_maps)  # within the limit: nothing split
    assert split.split_forms(2000, entity_maps)
    assert split.residual_forms is None and split.jacobian_forms is None
    parts = comm.allreduce(sum(len(p) for p in split._residual_parts), op=MPI.MAX)
    assert parts > 10  # (u and q: 8 doubles a cell, 16 an interface facet; 31, 15 a part)
    vectors = [whole.create_vector("mpi"), split.create_vector("mpi")]
    for assembler, vector, matrix in zip((whole, split), vectors, matrices, strict=True):
        assembler.assemble_vector(vector)
        assembler.assemble_matrix(matrix)
        matrix.assemble()
    assert np.array_equal(vectors[0].getArray(), vectors[1].getArray())  # exact: same order
    reference, new = _csr(matrices[0]), _csr(matrices[1])
    for reference_part, new_part in zip(reference[:2], new[:2], strict=True):
        assert np.array_equal(reference_part, new_part)  # the same pattern
    if comm.size == 1:
        assert np.array_equal(reference[2], new[2])  # exact, as above
    else:
        # The entries other ranks add to a row arrive through PETSc's stash, which sums them
        # in an order of its own: round-off (measured 2.2e-16 of entries up to ~1 on 2 ranks).
        largest = comm.allreduce(np.abs(reference[2]).max(initial=0.0), op=MPI.MAX)
        assert np.abs(reference[2] - new[2]).max(initial=0.0) <= 1e-15 * largest
    assert vectors[0].norm() > 0.1 and matrices[0].norm() > 1.0  # not zeros compared
    with pytest.raises(RuntimeError, match="split_forms"):
        split.create_matrix("mpi")
    for assembler in (whole, split):
        assembler.release()
    for m in (*matrices, *vectors):
        m.destroy()
