"""Jacobians assembled without the structural zeros of vertex-quadrature terms."""

from __future__ import annotations

from typing import TYPE_CHECKING

from petsc4py import PETSc

import numpy as np

from .block_assembly import nested_blocks

if TYPE_CHECKING:  # (not imported at run time: see electrolyx.block_assembly)
    from dolfinx.fem.petsc import NonlinearProblem

__all__ = ["compressed_matrix", "factor_without_structural_zeros"]


def compressed_matrix(matrix: PETSc.Mat, grow: bool = False, consume: bool = False) -> PETSc.Mat:
    """A matrix with the pattern of the assembled ``matrix`` minus its (numerical) zeros.

    Entries below 1e-14 of their row's largest are left out; the new matrix has the same
    local-to-global maps and ignores insertions outside its pattern (the zeros), so that it
    can be assembled into like the original. A nested matrix (MATNEST) gives a nested matrix
    of its blocks so compressed (a block's row judged by its own largest entry; rows may be
    empty).

    It skips every exact zero added off the diagonal before looking for its place in the
    pattern (PETSc's MAT_IGNORE_ZERO_ENTRIES): adding a zero changes no value, and most of
    what the element matrices of vertex-quadrature terms add are zeros (a particle's radial
    unknowns couple only within their node, but a cell's element matrix couples those of all
    its nodes). The 3D pouch with tabs (cases/pouch-3d-tabs), 10 minutes at 1C: the same tables
    byte for byte, solve 63.3 -> 57.0 s (medians of 5 alternating pairs, bench/README.md).

    With ``grow`` a nonzero outside the pattern (a term that was zero at the state the pattern
    was found, as a reaction switched off by a conditional) is added to the pattern, so that
    the Jacobian assembled into it is always the whole Jacobian; without, it is dropped.

    ``consume`` destroys ``matrix`` (a nested one's blocks each as soon as its compressed copy
    is made, where nothing else holds them): the whole pattern and the compressed one are then
    never both in memory (at 1 M unknowns of the half cell, 0.6 and 0.47 kB per unknown).
    """
    if matrix.getType() == PETSc.Mat.Type.NEST:
        rows, columns = matrix.getNestSize()
        comm = matrix.comm
        whole = list(nested_blocks(matrix))
        if consume:
            matrix.destroy()  # (its blocks now held here alone, unless held elsewhere)
        blocks: list[list[PETSc.Mat | None]] = [[None] * columns for _ in range(rows)]
        for i, j, block in whole:
            blocks[i][j] = compressed_matrix(block, grow, consume)
            block.destroy()  # (this reference; consume destroyed the block itself)
        nested = PETSc.Mat().createNest(blocks, comm=comm)
        for block in (block for row in blocks for block in row if block is not None):
            block.destroy()  # (the nested matrix holds its own reference)
        return nested
    offsets, columns, values = matrix.getValuesCSR()
    row_count = offsets.size - 1
    entries_per_row = np.diff(offsets)
    magnitude = np.abs(values)
    # each row's largest magnitude (zero for an empty row: a block's rows may be empty)
    row_max = np.zeros(row_count)
    nonempty = entries_per_row > 0
    row_starts = offsets[:-1][nonempty]
    if values.size:
        # (each segment from a non-empty row's start to the next one's: that row's entries)
        row_max[nonempty] = np.maximum.reduceat(magnitude, row_starts)
    keep = magnitude > np.repeat(1e-14 * row_max, entries_per_row)
    del magnitude
    kept_per_row = np.zeros(row_count, dtype=np.int64)
    if values.size:
        kept_per_row[nonempty] = np.add.reduceat(keep, row_starts, dtype=np.int64)
    compressed_offsets = np.concatenate([[0], np.cumsum(kept_per_row)]).astype(offsets.dtype)
    compressed = PETSc.Mat().createAIJ(
        matrix.getSizes(),
        csr=(compressed_offsets, columns[keep], values[keep]),
        comm=matrix.comm,
    )
    compressed.setLGMap(*matrix.getLGMap())
    compressed.setOption(PETSc.Mat.Option.IGNORE_ZERO_ENTRIES, True)
    # (for electrolyx.compiled_assembly, which adds the entries outside it itself)
    compressed.setAttr("_pattern_grows", grow)
    if grow:
        compressed.setOption(PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, False)
    else:
        compressed.setOption(PETSc.Mat.Option.NEW_NONZERO_LOCATIONS, False)
    if consume:
        matrix.destroy()
    return compressed


def factor_without_structural_zeros(problem: NonlinearProblem, unknowns) -> None:
    """Assemble and factor the Jacobian without the zeros its sparsity pattern carries.

    The particle and kinetics terms use vertex quadrature: they couple the unknowns of one node
    only, but the pattern of a cell integral couples every node of the cell, e.g. all radial
    unknowns of all 27 neighbours of a hexahedral vertex (~280 entries per row, mostly exact
    zeros): inserting them and the direct solver's fill-in for them dominate the cost. The
    entries that are zero at a randomly perturbed state (below 1e-14 of their row's largest)
    are zero at every state; the Jacobian is assembled into a matrix without them and factored:
    the same Newton step, many times cheaper in 2D and 3D.
    """
    from dolfinx.fem.petsc import assemble_jacobian, assign

    snes = problem.solver
    matrix = problem.A
    _, _, (_, _, context) = snes.getJacobian()
    saved = [u.x.array.copy() for u in unknowns]
    rng = np.random.default_rng(0)
    for u in unknowns:
        u.x.array[:] *= 1.0 + 1e-3 * rng.standard_normal(u.x.array.size)
        u.x.array[:] += 1e-3 * rng.standard_normal(u.x.array.size)
    assign(unknowns, problem.x)
    assemble_jacobian(snes, problem.x, matrix, None, **context)
    for u, values in zip(unknowns, saved, strict=True):
        u.x.array[:] = values
    assign(unknowns, problem.x)
    # Assemble straight into the compressed matrix: its local-to-global maps are the full one's,
    # and element entries outside its pattern (the zeros) are dropped on insertion.
    compressed = compressed_matrix(matrix)
    snes.setJacobian(assemble_jacobian, compressed, compressed, kargs=context)
    # The full-pattern matrix was only needed to find the pattern: free it (10.9 M entries on
    # the 38 k-unknown 3D mesh); the problem owns (and destroys) the compressed one instead.
    matrix.destroy()
    problem._A = compressed
