"""A Galerkin coarse correction from a few given modes, for nested (field-by-field) Jacobians.

Given m columns Z (the coarse space: modes a smoother such as a block Gauss-Seidel sweep damps
slowly), the correction of a residual r is

    y = Z E^-1 Z^T r,   E = Z^T A Z   (m x m, dense, inverted at each set-up)

which is exact on the span of Z. Used before another preconditioner P in PETSc's
multiplicative composite (``PC.CompositeType.MULTIPLICATIVE``: y = C r, then
y += P (r - A y)), it is the two-level method of domain decomposition and multigrid, with the
block preconditioner as the smoother.

The operator must be a nested matrix (``MATNEST``) of the fields' blocks, the layout the field
split works on; Z is given per field, as one sparse matrix per field whose rows are that
field's owned rows and whose m columns are all owned by rank 0 (so that E, its inverse and the
coarse vectors are rank 0's alone). E is made from the blocks by sparse products,
E = sum_ij Z_i^T A_ij Z_j, each a pass over one block's entries.
"""

from __future__ import annotations

from collections.abc import Sequence

from petsc4py import PETSc

import numpy as np

__all__ = ["GalerkinCoarseCorrection", "coarse_columns"]


def coarse_columns(comm, columns: np.ndarray, values: np.ndarray, width: int) -> PETSc.Mat:
    """One field's part of Z, its rows this rank's owned rows of the field, in order.

    ``columns`` and ``values``: (rows, k) arrays, each row's k entries (zeros are left out);
    ``width``: m, the number of coarse modes (all owned by rank 0).
    """
    rows = len(columns)
    columns = np.asarray(columns, dtype=PETSc.IntType)
    values = np.asarray(values, dtype=PETSc.ScalarType)
    keep = values != 0.0
    indptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(PETSc.IntType)
    local_width = width if comm.rank == 0 else 0
    return PETSc.Mat().createAIJ(
        ((rows, None), (local_width, width)),
        csr=(indptr, columns[keep], values[keep]),
        comm=comm,
    )


class GalerkinCoarseCorrection:
    """``y = Z (Z^T A Z)^-1 Z^T r`` on a nested operator (a petsc4py python-PC context).

    Args:
        fields: Per block row of the nested operator, its part of Z (see
            :func:`coarse_columns`), or None where the field has no coarse modes.
    """

    def __init__(self, fields: Sequence[PETSc.Mat | None]):
        self.fields = list(fields)
        present = [z for z in self.fields if z is not None]
        if not present:
            raise ValueError("a coarse correction needs at least one field with coarse modes")
        self.width = present[0].getSize()[1]
        self._coarse = present[0].createVecRight()
        self._inverse: np.ndarray | None = None
        #: The operator's block rows (its nested index sets), read at each set-up.
        self._rows: list[PETSc.IS] = []
        #: Set-ups and applications so far (for benchmarks).
        self.setups = 0
        self.applications = 0

    def setUp(self, pc: PETSc.PC) -> None:
        """E = sum_ij Z_i^T A_ij Z_j from the operator's blocks, inverted on rank 0."""
        operator = pc.getOperators()[0]
        if operator.getType() != PETSc.Mat.Type.NEST:
            raise TypeError(
                f"GalerkinCoarseCorrection needs a nested operator (MATNEST), got "
                f"{operator.getType()!r}"
            )
        self._rows = operator.getNestISs()[0]
        rows = len(self._rows)
        comm = operator.getComm().tompi4py()
        coarse = np.zeros((self.width, self.width)) if comm.rank == 0 else None
        for i in range(rows):
            z_i = self.fields[i]
            if z_i is None:
                continue
            for j in range(rows):
                z_j = self.fields[j]
                block = operator.getNestSubMatrix(i, j)
                if z_j is None or block is None or block.handle == 0:
                    continue
                # A_ij Z_j, made and dropped block by block: the 25 products kept for the next
                # set-up raised the peak at 1 M unknowns from 3007 to 3270 bytes per unknown
                # (one run each, bench/README.md).
                product = block.matMult(z_j)
                part = z_i.transposeMatMult(product)
                product.destroy()
                if comm.rank == 0:
                    indptr, indices, values = part.getValuesCSR()
                    rows_of = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
                    np.add.at(coarse, (rows_of, indices), values)
                part.destroy()
        if comm.rank == 0:
            self._inverse = np.linalg.inv(coarse)
        self.setups += 1

    def apply(self, pc: PETSc.PC, x: PETSc.Vec, y: PETSc.Vec) -> None:
        """The correction of ``x``: ``y = Z E^-1 Z^T x``."""
        coarse = self._coarse
        coarse.set(0.0)
        for z, rows in zip(self.fields, self._rows, strict=True):
            if z is None:
                continue
            part = x.getSubVector(rows)
            z.multTransposeAdd(part, coarse, coarse)
            x.restoreSubVector(rows, part)
        if self._inverse is not None:  # rank 0, which owns the coarse vector
            values = coarse.getArray()
            values[:] = self._inverse @ values
        y.set(0.0)
        for z, rows in zip(self.fields, self._rows, strict=True):
            if z is None:
                continue
            part = y.getSubVector(rows)
            z.mult(coarse, part)
            y.restoreSubVector(rows, part)
        self.applications += 1
