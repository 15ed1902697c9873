"""Blocked residual and Jacobian assembly with the per-call Python work done once.

``dolfinx.fem.petsc.assemble_vector(b, [L_0, ..., L_n])`` and
``assemble_matrix(A, [[a_00, ...], ...], bcs)`` redo at every call what does not change between
the calls of a time integrator: they walk the nested lists to find the function spaces, create
the index sets of the blocks (``create_index_sets``), fetch and restore a local sub-matrix per
block twice (once to add, once to insert the Dirichlet diagonal, for every block, with or
without a condition on it), allocate a work array per residual block and pack constants and
coefficients through a recursive Python helper. On the 1D DFN (28 Jacobian blocks, a few
hundred dofs) that Python work costs more than the kernels themselves.

:class:`BlockAssembler` does it once: the index sets, the local sub-matrices the blocks add
into (kept for as long as the matrix is the same), the work arrays, the list of non-empty
blocks and the diagonal blocks a Dirichlet condition touches. Per call it packs each form's
constants and coefficients (once for Jacobian blocks that pack the same, :func:`_packing_groups`)
and calls the same C++ kernels as dolfinx (``dolfinx.cpp.fem.assemble_vector``,
``dolfinx.cpp.fem.petsc.assemble_matrix`` and ``insert_diagonal``), in the same order, so the
results are those of dolfinx's functions bit for bit (tests/test_block_assembly.py).

In a serial run on a 1D mesh it goes further (``compiled``, the default): one C call per
residual or Jacobian over every block (:mod:`electrolyx.compiled_assembly`), the same results
bit for bit.

It also creates the system's blocked matrix and vectors and sets the Dirichlet values in a
blocked vector (:meth:`BlockAssembler.create_matrix`, :meth:`~BlockAssembler.create_vector`,
:meth:`~BlockAssembler.set_bc`), as ``dolfinx.fem.petsc``'s functions of those names do, from
``dolfinx.cpp`` and ``dolfinx.la.petsc``: importing ``dolfinx.fem.petsc`` parses C declarations
with pycparser (for its CFFI helpers), 20 ms of the default DFN case's 0.9 s, which a model
assembled only through this class does not pay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence, Set
from typing import Any

from petsc4py import PETSc

import dolfinx.la.petsc
import numpy as np
from dolfinx import cpp as _cpp
from dolfinx import fem

from .heap import release_free_heap

__all__ = ["BlockAssembler", "assembled_block", "keep_nonzero_pattern", "nested_blocks"]

_pack_constants = _cpp.fem.pack_constants
_pack_coefficients = _cpp.fem.pack_coefficients
_assemble_vector = _cpp.fem.assemble_vector
_assemble_matrix = _cpp.fem.petsc.assemble_matrix
_insert_diagonal = _cpp.fem.petsc.insert_diagonal


class BlockAssembler:
    """Residual blocks F_i and Jacobian blocks J_ij (None: an empty block) of one system.

    Args:
        residual: One linear form per field (the layout of the blocked vector).
        jacobian: The bilinear forms J_ij, None where empty (every row and column has one).
        bcs: Dirichlet conditions (see :meth:`set_bcs`).
        compiled: In a serial run on a 1D mesh, assemble through one compiled loop per call
            (:class:`electrolyx.compiled_assembly.CompiledAssembly`, the same results) where
            the system allows it.
        nodal: (vector form, function, copy) triples: before each Jacobian the form is
            assembled into the function's values (zeroed first; ghosts added to their owners,
            then updated), for Jacobian blocks that read them (TSIntegrator's
            ``nodal_terms``); ``copy`` (None, or a scalar function on the same mesh) then gets
            the function's first component.
        nodal_residual: The same, before each residual, for residual blocks that read them.
        before_assembly: Called before every residual and Jacobian assembly, before the nodal
            terms (e.g. :meth:`electrolyx.coefficient_views.CoefficientViews.update`).
    """

    def __init__(
        self,
        residual: Sequence[fem.Form],
        jacobian: Sequence[Sequence[fem.Form | None]],
        bcs: Sequence[fem.DirichletBC] = (),
        compiled: bool = True,
        nodal: Sequence[tuple[fem.Form, fem.Function, fem.Function | None]] = (),
        nodal_residual: Sequence[tuple[fem.Form, fem.Function, fem.Function | None]] = (),
        before_assembly: Callable[[], None] | None = None,
    ):
        #: the residual's forms, and the non-empty Jacobian blocks as (i, j, form)
        self.residual_forms = list(residual)
        #: (vector form, function, copy) filled before each Jacobian, and before each residual
        self.nodal = list(nodal)
        self.nodal_residual = list(nodal_residual)
        self._before_assembly = before_assembly
        self.jacobian_forms = [
            (i, j, block)
            for i, row in enumerate(jacobian)
            for j, block in enumerate(row)
            if block is not None
        ]
        self.spaces = [form.function_spaces[0] for form in residual]
        maps = [(V.dofmaps[0].index_map, V.dofmaps[0].index_map_bs) for V in self.spaces]
        self._maps = maps
        #: each field's owned entries of a blocked vector (its block size included)
        self.owned = [index_map.size_local * bs for index_map, bs in maps]
        # each field's owned entries in a blocked vector's owned array
        starts = np.concatenate(([0], np.cumsum(self.owned))).tolist()
        self._owned_ranges = list(zip(starts[:-1], starts[1:], strict=True))
        ghosts = [index_map.num_ghosts * bs for index_map, bs in maps]
        self._work = [
            np.zeros(n + g, dtype=PETSc.ScalarType) for n, g in zip(self.owned, ghosts, strict=True)
        ]
        # rows and columns of one space each: the blocks' local index sets, as dolfinx makes them
        for i, row in enumerate(jacobian):
            for j, block in enumerate(row):
                if block is not None and (
                    block.function_spaces[0] is not self.spaces[i]
                    or block.function_spaces[1] is not self.spaces[j]
                ):
                    raise ValueError(f"Jacobian block ({i}, {j}) is not on the residual's spaces")
        self._index_sets = _cpp.la.petsc.create_index_sets(maps)
        self._jacobian = [
            [None if block is None else block._cpp_object for block in row] for row in jacobian
        ]
        # (each residual form and Jacobian block as a list of forms over parts of its entities:
        # one part, the form itself, until split_forms)
        self._residual_parts = [[form._cpp_object] for form in residual]
        self._blocks = [
            (i, j, [block._cpp_object])
            for i, row in enumerate(jacobian)
            for j, block in enumerate(row)
            if block is not None
        ]
        # Blocks that pack the same data: packed once per Jacobian (see _packing_groups).
        self._constant_groups, self._coefficient_groups = _packing_groups(
            [block for row in jacobian for block in row if block is not None]
        )
        # The order the Jacobian's blocks are assembled in: group by group (in the order the
        # groups first appear, each group's blocks in their order), so that one group's packed
        # coefficients are alive at a time. Each block adds into its own entries, so the order
        # changes no value. (The 3D half cell's Jacobian, rows first, held three groups'
        # packs at once, two of them every pore cell's: ~0.4 kB per unknown.)
        # (With the forms split into parts, each group part by part: the blocks of a group have
        # the same entities, so the same parts, and their k-th parts pack the same.)
        self._assembly_groups: dict[int, list[int]] = {}
        for position, group in enumerate(self._coefficient_groups):
            self._assembly_groups.setdefault(group, []).append(position)
        # Whether to give the C heap's free pages back before packing (see _mapped_afresh):
        # decided at the first residual or Jacobian, by the size of its packs.
        self._release_heap = False
        # matrix handle -> (the matrix, its blocks' local sub-matrices or blocks, nested)
        self._kept: dict[int, tuple[PETSc.Mat, list[PETSc.Mat], bool]] = {}
        # the compiled loop: None until first needed, False where not used (nor with a hook
        # before the assemblies, which the compiled calls would not make)
        self._compiled: Any = None if compiled and before_assembly is None else False
        self.set_bcs(bcs)

    def set_bcs(self, bcs: Sequence[fem.DirichletBC]) -> None:
        """Dirichlet conditions: rows and columns zeroed in J_ij, ``diag`` on their diagonal."""
        self._bcs = [bc._cpp_object for bc in bcs]
        # each field's conditions (dolfinx.fem.bcs_by_block), for set_bc
        self._bcs_by_block = fem.bcs_by_block(self.spaces, list(bcs))
        # dolfinx inserts the diagonal into every block whose rows and columns are one space;
        # insert_diagonal sets only the dofs of the conditions on that space: skip the others.
        self._diagonal = [
            (i, j)
            for i, j, _ in self._blocks
            if self.spaces[i] is self.spaces[j]
            and any(self.spaces[i].contains(bc.function_space) for bc in self._bcs)
        ]
        if self._compiled:
            self._compiled.set_bcs()  # (its matrices' tables follow the conditions)

    @property
    def compiled(self) -> Any:
        """The compiled loop (CompiledAssembly) this assembles through, or None."""
        if self._compiled is None:
            from .compiled_assembly import compiled_assembly

            self._compiled = compiled_assembly(self) or False
        return self._compiled or None

    # -------------------------------------------------- matrix and vectors
    def create_matrix(self, kind: str | None = None) -> PETSc.Mat:
        """One matrix of type ``kind`` with the pattern of all the Jacobian blocks.

        ``dolfinx.fem.petsc.create_matrix(jacobian, kind)``: a single matrix, or with ``kind``
        "nest" a nested one (MATNEST) of one AIJ matrix per block (None: no block), each made
        from its own sparsity pattern: no pattern of the whole system is built, whose transient
        (every block's entries, repeated per cell and facet, before they are made unique) is
        ~3.7 kB per unknown on the 3D microstructure. Its rows and columns are numbered as the
        single matrix's (each rank's owned rows field by field), so that it multiplies the
        same vectors and a field split finds its blocks by the same index sets, without copies.
        """
        if self._jacobian is None:
            raise RuntimeError("create_matrix needs the whole forms: call it before split_forms")
        if kind == PETSc.Mat.Type.NEST:
            return _cpp.fem.petsc.create_matrix_nest(self._jacobian, None)
        return _cpp.fem.petsc.create_matrix_block(self._jacobian, kind)

    def split_forms(self, max_bytes: int, entity_maps: Sequence[Any] | None = None) -> bool:
        """Assemble each form as forms over parts of its entities, packs of ``max_bytes`` at most.

        (:func:`electrolyx.jit.form_parts`.) The vector and matrix assembled are the same bit
        for bit in serial (to round-off in parallel: PETSc sums the entries other ranks add in
        an order of its own); a pack of coefficients is then one part's, not the whole mesh's:
        on the 3D half cell at 1 M unknowns a residual row's pack over every pore cell was ~0.25
        kB per unknown, held on top of the linear solver's memory. The whole forms are let go
        (``residual_forms`` and ``jacobian_forms`` become None): :meth:`create_matrix`, which
        needs them, comes first. Not with the compiled loop (a 1D mesh, whose forms are small):
        then nothing is split. ``entity_maps``: those the forms were made with.

        Returns:
            Whether a form was split (on this rank: its parts are assembled locally).
        """
        from .jit import form_parts

        def parts(cpp_forms: list, form: fem.Form) -> list:
            split = form_parts(form, max_bytes, entity_maps)
            return cpp_forms if len(split) == 1 else [part._cpp_object for part in split]

        residual = [
            parts(cpp_forms, form)
            for cpp_forms, form in zip(self._residual_parts, self.residual_forms, strict=True)
        ]
        blocks = [
            (i, j, parts(cpp_forms, form))
            for (i, j, cpp_forms), (_, _, form) in zip(
                self._blocks, self.jacobian_forms, strict=True
            )
        ]
        split = any(len(p) > 1 for p in residual) or any(len(p) > 1 for _, _, p in blocks)
        if not split or self.compiled is not None:
            return False
        self._residual_parts, self._blocks = residual, blocks
        self.residual_forms = self.jacobian_forms = None
        self._jacobian = None
        self._compiled = False
        return True

    def create_vector(self, kind: str | None = None) -> PETSc.Vec:
        """A blocked vector of the residual's layout, its block offsets attached (``_blocks``).

        ``dolfinx.fem.petsc.create_vector(spaces, kind)``.
        """
        return dolfinx.la.petsc.create_vector(self._maps, kind=kind)

    def set_bc(self, b: PETSc.Vec, x0: PETSc.Vec | None = None, alpha: float = 1.0) -> None:
        """Owned constrained entries of the blocked vector b to ``alpha (g - x0)``.

        ``dolfinx.fem.petsc.set_bc(b, bcs_by_block, x0, alpha)`` for a blocked vector of this
        layout: g is the condition's value, x0 (a vector of the same layout) zero if None.
        """
        if not self._bcs:
            return
        b_array = b.getArray(readonly=False)
        x_array = None if x0 is None else x0.getArray(readonly=True)
        for (start, end), bcs in zip(self._owned_ranges, self._bcs_by_block, strict=True):
            x_part = None if x_array is None else x_array[start:end]
            for bc in bcs:
                bc.set(b_array[start:end], x_part, alpha)

    # -------------------------------------------------------------- vector
    def assemble_vector(
        self, b: PETSc.Vec, skip: Set[int] = frozenset(), only: Set[int] | None = None
    ) -> None:
        """The residual blocks into b: owned entries, then ghosts (dolfinx's blocked layout).

        Like ``dolfinx.fem.petsc.assemble_vector(b, residual)`` on a zeroed b: b is
        overwritten, ghosts not accumulated. ``skip``: fields whose blocks are left zero (not
        assembled). ``only``: the fields whose blocks are written, the others' entries of b
        left as they were (for a caller that reads only those).
        """
        compiled = self.compiled
        if compiled is not None:
            compiled.assemble_vector(b, skip, only)
            return
        if self._before_assembly is not None:
            self._before_assembly()
        self.evaluate_nodal(self.nodal_residual)
        offsets, ghost_offsets = b.getAttr("_blocks")
        fields = range(len(self._residual_parts)) if only is None else sorted(only)
        if self._release_heap:
            release_free_heap()
        with b.localForm() as local:
            array = local.array_w
            for i in fields:
                work = self._work[i]
                work.fill(0.0)
                if i not in skip:
                    parts = self._residual_parts[i]
                    constants = _pack_constants(parts[0])
                    for form in parts:
                        packed = _pack_coefficients(form)
                        self._release_heap = self._release_heap or _mapped_afresh(packed)
                        _assemble_vector(work, form, constants, packed)
                        del packed
                owned = self.owned[i]
                array[offsets[i] : offsets[i + 1]] = work[:owned]
                array[ghost_offsets[i] : ghost_offsets[i + 1]] = work[owned:]

    # -------------------------------------------------------------- matrix
    def _local_submatrices(self, A: PETSc.Mat) -> list[PETSc.Mat]:
        """The blocks' local sub-matrices of A, kept while A is a matrix assembled into.

        A local sub-matrix only translates indices and adds into A (MatCreateLocalRef); these
        are used for adding values only (their insert mode stays ADD_VALUES). The same matrix
        is recognised by its handle: PETSc's TS passes its Jacobian to every callback in a new
        petsc4py object, and the one kept here holds a reference, so that no other matrix can
        take its address while it is kept. (Kept for every matrix assembled into, usually one:
        the Jacobian, and TSIntegrator's matrix of lagged blocks.) Of a nested matrix, its
        blocks themselves (references to them).
        """
        kept = self._kept.get(A.handle)
        if kept is None:
            nested = A.getType() == PETSc.Mat.Type.NEST
            if nested:
                # The blocks themselves, each with its field's local-to-global maps.
                submatrices = [A.getNestSubMatrix(i, j) for i, j, _ in self._blocks]
            else:
                sets = self._index_sets
                submatrices = [A.getLocalSubMatrix(sets[i], sets[j]) for i, j, _ in self._blocks]
            kept = self._kept[A.handle] = (A, submatrices, nested)
        return kept[1]

    def assemble_matrix(
        self,
        A: PETSc.Mat,
        diag: float = 1.0,
        skip_rows: Set[int] = frozenset(),
        skip_blocks: Set[tuple[int, int]] = frozenset(),
        only_blocks: Set[tuple[int, int]] | None = None,
    ) -> None:
        """Add the Jacobian blocks into A, then ``diag`` on the constrained diagonal.

        Like ``dolfinx.fem.petsc.assemble_matrix(A, jacobian, bcs, diag)``: A is not zeroed
        first and not finally assembled (flushed only when a diagonal is inserted).
        ``skip_rows``: fields whose rows are not assembled (no block J_ij, no diagonal), for a
        caller that overwrites those rows. ``skip_blocks``: blocks (i, j) not assembled (nor
        their diagonal); ``only_blocks``: the blocks assembled, the others not (for a caller
        that adds those blocks from elsewhere).
        """
        compiled = self.compiled
        if compiled is not None and compiled.assemble_matrix(
            A, diag, skip_rows, skip_blocks, only_blocks
        ):
            return
        if self._before_assembly is not None:
            self._before_assembly()
        self.evaluate_nodal(self.nodal)
        bcs = self._bcs

        def wanted(i: int, j: int) -> bool:
            return assembled_block(i, j, skip_rows, skip_blocks, only_blocks)

        constants: dict[int, np.ndarray] = {}
        submatrices = self._local_submatrices(A)
        if self._release_heap:
            release_free_heap()
        # Group by group, and within a group part by part: one group's packed values (of one
        # part) alive at a time (a 3D system's packs are large: every cell's values of a
        # block row's coefficients).
        for group in self._assembly_groups.values():
            positions = [p for p in group if wanted(*self._blocks[p][:2])]
            if not positions:
                continue
            for part in range(len(self._blocks[positions[0]][2])):
                packed_coefficients = None
                for position in positions:
                    form = self._blocks[position][2][part]
                    constant_group = self._constant_groups[position]
                    packed_constants = constants.get(constant_group)
                    if packed_constants is None:
                        packed_constants = constants[constant_group] = _pack_constants(form)
                    if packed_coefficients is None:
                        packed_coefficients = _pack_coefficients(form)
                        self._release_heap = self._release_heap or _mapped_afresh(
                            packed_coefficients
                        )
                    _assemble_matrix(
                        submatrices[position],
                        form,
                        packed_constants,
                        packed_coefficients,
                        bcs,
                        True,
                    )
                # (freed before the next part or group is packed)
                del packed_coefficients
        diagonal = [(i, j) for i, j in self._diagonal if wanted(i, j)]
        if diagonal:
            # switch from adding to inserting
            A.assemble(PETSc.Mat.AssemblyType.FLUSH)
            nested = A.getType() == PETSc.Mat.Type.NEST
            for i, j in diagonal:
                if nested:
                    _insert_diagonal(A.getNestSubMatrix(i, j), self.spaces[i], bcs, diag)
                    continue
                rows, columns = self._index_sets[i], self._index_sets[j]
                submatrix = A.getLocalSubMatrix(rows, columns)
                _insert_diagonal(submatrix, self.spaces[i], bcs, diag)
                A.restoreLocalSubMatrix(rows, columns, submatrix)

    @staticmethod
    def evaluate_nodal(nodal: Sequence[tuple]) -> None:
        """Each (form, function, copy)'s form assembled into its function, ghosts included.

        The function's first component is then copied into ``copy`` (where not None).
        """
        for form, function, copy in nodal:
            cpp_form = form._cpp_object
            values = function.x
            values.array[:] = 0.0
            _assemble_vector(
                values.array, cpp_form, _pack_constants(cpp_form), _pack_coefficients(cpp_form)
            )
            if form.mesh.comm.size > 1:
                values.scatter_reverse(dolfinx.la.InsertMode.add)
                values.scatter_forward()
            if copy is not None:
                copy.x.array[:] = values.array[:: values.block_size]

    def release(self) -> None:
        """Give back the local sub-matrices of the matrices assembled into."""
        if self._compiled:
            self._compiled.release()
        for matrix, submatrices, nested in self._kept.values():
            alive = bool(matrix.handle)
            if nested:
                # A nested matrix's own blocks: only the references taken here go.
                for submatrix in submatrices:
                    submatrix.destroy()
                continue
            for (i, j, _), submatrix in zip(self._blocks, submatrices, strict=True):
                if alive:
                    matrix.restoreLocalSubMatrix(
                        self._index_sets[i], self._index_sets[j], submatrix
                    )
                else:
                    submatrix.destroy()
        self._kept = {}


def assembled_block(
    i: int,
    j: int,
    skip_rows: Set[int],
    skip_blocks: Set[tuple[int, int]],
    only_blocks: Set[tuple[int, int]] | None,
) -> bool:
    """Whether a Jacobian call with these selections assembles block (i, j) (and its diagonal).

    The selections of :meth:`BlockAssembler.assemble_matrix`, for it and the compiled loop.
    """
    return (
        i not in skip_rows
        and (i, j) not in skip_blocks
        and (only_blocks is None or (i, j) in only_blocks)
    )


def keep_nonzero_pattern(matrix: PETSc.Mat) -> None:
    """MAT_KEEP_NONZERO_PATTERN on ``matrix``, and on each block of a nested one.

    Rows zeroed (``make_consistent``'s held rows) keep their entries in the pattern for later
    assemblies. PETSc's nested matrix passes the option on to no block.
    """
    matrix.setOption(PETSc.Mat.Option.KEEP_NONZERO_PATTERN, True)
    if matrix.getType() == PETSc.Mat.Type.NEST:
        for _, _, block in nested_blocks(matrix):
            block.setOption(PETSc.Mat.Option.KEEP_NONZERO_PATTERN, True)


def nested_blocks(matrix: PETSc.Mat) -> Iterator[tuple[int, int, PETSc.Mat]]:
    """A nested matrix's blocks (i, j, block) in row order, the empty (null) ones left out.

    The same on every rank: a loop over them may make collective calls.
    """
    rows, columns = matrix.getNestSize()
    for i in range(rows):
        for j in range(columns):
            block = matrix.getNestSubMatrix(i, j)
            if block.handle:
                yield i, j, block


#: glibc's malloc maps an allocation above this afresh each time (its largest mmap threshold).
_MMAP_THRESHOLD_MAX = 32 * 2**20


def _mapped_afresh(packed: dict) -> bool:
    """Whether a packed array is larger than :data:`_MMAP_THRESHOLD_MAX`.

    Such an array never reuses the heap's free pages: with them still resident (what the last
    linear solve and assemblies freed), they add to the pack's peak. Giving them back first
    (:func:`electrolyx.heap.release_free_heap`, milliseconds) lowered the 3D half cell's peak
    by 0.1 kB per unknown at 1 M unknowns; on small meshes (every pack below it) it is not done.
    """
    return any(array.nbytes > _MMAP_THRESHOLD_MAX for array in packed.values())


def _packing_groups(forms: Sequence[fem.Form]) -> tuple[list[int], list[int]]:
    """Group numbers of the forms whose packed constants, and packed coefficients, are equal.

    Packed constants are the values of the form's constants in order: equal for forms with the
    same constants (the same objects). Packed coefficients are, per integral (type and
    position), the values on each of its entities of the coefficients its kernel reads (the
    others are left zero): equal for forms on the same mesh, with the same entity maps (one
    system's forms), with the same coefficients in the same order and integrals over the same
    entities that read the same coefficients. The Jacobian blocks of one residual row mostly
    are such forms (the 1D DFN with an x-full temperature: 46 blocks, 8 coefficient groups),
    and the packing was a quarter of their assembly's time.
    """
    constant_keys: dict[tuple, int] = {}
    # (mesh, coefficients, integrals read) -> [(each integral's entities, group number)]
    candidates: dict[tuple, list[tuple[list, int]]] = {}
    constant_groups, coefficient_groups = [], []
    count = 0
    for form in forms:
        cpp_form = form._cpp_object
        # (The objects themselves, held in the keys: compared by identity.)
        constant_key = tuple(cpp_form.constants)
        constant_groups.append(constant_keys.setdefault(constant_key, len(constant_keys)))
        entities = [
            cpp_form.domains(integral_type, k)
            for integral_type in sorted(cpp_form.integral_types, key=lambda t: t.name)
            for k in range(cpp_form.num_integrals(integral_type, 0))
        ]
        key = (cpp_form.mesh, tuple(cpp_form.coefficients), _integrals_read(form))
        # The entities compared only with those of forms alike in the rest (no copies: a 3D
        # mesh's lists are large).
        alike = candidates.setdefault(key, [])
        group = next(
            (
                number
                for other, number in alike
                if len(other) == len(entities)
                and all(np.array_equal(a, b) for a, b in zip(other, entities, strict=True))
            ),
            None,
        )
        if group is None:
            group = count
            count += 1
            alike.append((entities, group))
        coefficient_groups.append(group)
    return constant_groups, coefficient_groups


def _integrals_read(form: fem.Form) -> tuple:
    """Each compiled integral's type, subdomain and which of the form's coefficients it reads."""
    ufcx_form = form.ufcx_form
    offsets = [ufcx_form.form_integral_offsets[i] for i in range(len(fem.IntegralType) + 1)]
    count = ufcx_form.num_coefficients
    read = []
    for integral_type in fem.IntegralType:
        for j in range(offsets[integral_type.value], offsets[integral_type.value + 1]):
            enabled = ufcx_form.form_integrals[j].enabled_coefficients
            read.append(
                (
                    integral_type.name,
                    ufcx_form.form_integral_ids[j],
                    tuple(bool(enabled[i]) for i in range(count)),
                )
            )
    return tuple(read)
