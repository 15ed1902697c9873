"""A nodal algebraic field eliminated exactly from Newton's linear systems (a Schur complement).

Order the unknowns as (q, r): q the condensed field, r all the others. Where q's own rows
depend on q only node by node (a tie such as the DFN's u = ln c_e: its block J_qq is
diagonal, D), the Newton system

    [D    J_qr] [dq]   [f_q]
    [J_rq J_rr] [dr] = [f_r]

is solved exactly by

    S dr = f_r - J_rq D^-1 f_q,   S = J_rr - J_rq D^-1 J_qr,   dq = D^-1 (f_q - J_qr dr),

so that the direct solver factorises S, smaller than J by the field's unknowns. A direct
solver's work grows like the cube of its largest fronts, which in 3D are the separators'
unknowns; a field less on every node of them shrinks them all.

:class:`CondensedField` keeps S (``schur``) as one matrix whose pattern is fixed after its
first assembly, so that MUMPS analyses it once, and refreshes its values after each Jacobian
(:meth:`update`); the linear solver is PETSc's field split of Schur type (full factorisation)
with the user's S: the q block by its diagonal (Jacobi, exact for a diagonal block), S by the
direct solver named in the options.
"""

from __future__ import annotations

from petsc4py import PETSc

import numpy as np

__all__ = ["CondensedField"]

_SUBSET = PETSc.Mat.Structure.SUBSET_NONZERO_PATTERN


class CondensedField:
    """The exact elimination of one field's unknowns (``mask``: its owned entries)."""

    def __init__(self, comm, mask: np.ndarray, start: int):
        rows = np.arange(mask.size, dtype=np.int64) + start
        self.condensed = PETSc.IS().createGeneral(rows[mask].astype(PETSc.IntType), comm=comm)
        self.kept = PETSc.IS().createGeneral(rows[~mask].astype(PETSc.IntType), comm=comm)
        self._blocks: dict[str, PETSc.Mat | None] = dict.fromkeys(("qr", "rq", "rr"))
        self._product: PETSc.Mat | None = None
        # P's diagonal and D^-1 (q's entries of it), kept between Jacobians
        self._diagonal: PETSc.Vec | None = None
        self._inverse: PETSc.Vec | None = None
        self.schur: PETSc.Mat | None = None
        self._of: int | None = None
        # Linear solvers whose field split waits for the first S (set up before any Jacobian).
        self._waiting: list[PETSc.PC] = []

    def configure(self, ksp: PETSc.KSP, factor_options: dict) -> None:
        """``ksp`` (a Newton solver's) as the field split over (q, r) with S factorised.

        ``factor_options``: the direct solver's PETSc options (``pc_factor_*``), for S. A
        linear solver that is already so configured (a kept one) is left as it is.
        """
        pc = ksp.getPC()
        if pc.getType() == PETSc.PC.Type.FIELDSPLIT:
            return
        ksp.setType(PETSc.KSP.Type.PREONLY)
        pc.setType(PETSc.PC.Type.FIELDSPLIT)
        pc.setFieldSplitIS(("condensed", self.condensed), ("kept", self.kept))
        pc.setFieldSplitType(PETSc.PC.CompositeType.SCHUR)
        pc.setFieldSplitSchurFactType(PETSc.PC.FieldSplitSchurFactType.FULL)
        # (Left in the options database under this solver's own prefix: the field split
        # makes its inner solvers at its first set-up, and reads them then.)
        options = PETSc.Options()
        prefix = ksp.getOptionsPrefix() or ""
        inner = {
            "fieldsplit_condensed_ksp_type": "preonly",
            "fieldsplit_condensed_pc_type": "jacobi",
            "fieldsplit_kept_ksp_type": "preonly",
            "fieldsplit_kept_pc_type": "lu",
            **{f"fieldsplit_kept_{key}": value for key, value in factor_options.items()},
        }
        for key, value in inner.items():
            options[f"{prefix}{key}"] = value
        pc.setFromOptions()
        if self.schur is not None:
            pc.setFieldSplitSchurPreType(PETSc.PC.FieldSplitSchurPreType.USER, self.schur)
        else:
            self._waiting.append(pc)

    def update(self, P: PETSc.Mat) -> None:
        """S's values from the assembled Jacobian P (its pattern from P's first)."""
        if self._of != P.handle:  # a new Jacobian matrix (drop_structural_zeros): S anew
            self._release()
            self._of = P.handle
        blocks = self._blocks
        blocks["qr"] = P.createSubMatrix(self.condensed, self.kept, submat=blocks["qr"])
        blocks["rq"] = P.createSubMatrix(self.kept, self.condensed, submat=blocks["rq"])
        blocks["rr"] = P.createSubMatrix(self.kept, self.kept, submat=blocks["rr"])
        if self._diagonal is None:
            self._diagonal = P.createVecLeft()
        P.getDiagonal(self._diagonal)
        entries = self._diagonal.getSubVector(self.condensed)
        if self._inverse is None:
            self._inverse = entries.duplicate()
        entries.copy(self._inverse)
        self._diagonal.restoreSubVector(self.condensed, entries)
        self._inverse.reciprocal()
        # D^-1 J_qr in place (the block is extracted afresh from P at every update)
        blocks["qr"].diagonalScale(L=self._inverse)
        if self._product is None:
            self._product = blocks["rq"].matMult(blocks["qr"])
        else:
            blocks["rq"].matMult(blocks["qr"], result=self._product)
        if self.schur is None:
            self.schur = blocks["rr"].copy()
            self.schur.axpy(-1.0, self._product, PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN)
        else:
            self.schur.zeroEntries()
            self.schur.axpy(1.0, blocks["rr"], _SUBSET)
            self.schur.axpy(-1.0, self._product, _SUBSET)
        for pc in self._waiting:
            pc.setFieldSplitSchurPreType(PETSc.PC.FieldSplitSchurPreType.USER, self.schur)
        self._waiting.clear()

    def _release(self) -> None:
        for key, block in self._blocks.items():
            if block is not None:
                block.destroy()
            self._blocks[key] = None
        for item in (self._product, self.schur, self._diagonal, self._inverse):
            if item is not None:
                item.destroy()
        self._product = self.schur = self._diagonal = self._inverse = None
