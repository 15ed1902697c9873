"""The Galerkin coarse correction y = Z (Z^T A Z)^-1 Z^T x on a nested operator.

Checked against the same formula in dense numpy (a 2 x 2 nested matrix of random sparse
blocks, random coarse columns), serially and on 2 ranks; and with Z the identity, where the
correction is the exact inverse.
"""

from __future__ import annotations

from mpi4py import MPI
from petsc4py import PETSc

import numpy as np
import pytest

from electrolyx.coarse_correction import GalerkinCoarseCorrection, coarse_columns

SIZES = (7, 5)  # rows of the two fields on every rank


def _dense_operator(comm) -> np.ndarray:
    """The same random, diagonally dominant (invertible) global matrix on every rank."""
    rng = np.random.default_rng(3)
    n = comm.size * sum(SIZES)
    dense = rng.standard_normal((n, n)) * (rng.random((n, n)) < 0.3)
    return dense + 2 * n * np.eye(n)


def _global_rows(comm) -> list[np.ndarray]:
    """Global rows of each field in the nest's numbering (field by field on each rank)."""
    per_rank = sum(SIZES)
    start = comm.rank * per_rank
    return [
        start + np.arange(SIZES[0]),
        start + SIZES[0] + np.arange(SIZES[1]),
    ]


def _all_rows(comm, field: int) -> np.ndarray:
    return np.concatenate(
        [r * sum(SIZES) + sum(SIZES[:field]) + np.arange(SIZES[field]) for r in range(comm.size)]
    )


def _nest(comm, dense: np.ndarray) -> PETSc.Mat:
    blocks = []
    for i in range(2):
        row = []
        for j in range(2):
            local = dense[np.ix_(_global_rows(comm)[i], _all_rows(comm, j))]
            block = PETSc.Mat().createAIJ(
                ((SIZES[i], None), (SIZES[j], None)), comm=comm, nnz=(SIZES[j] * comm.size,) * 2
            )
            start = block.getOwnershipRange()[0]
            columns = np.arange(comm.size * SIZES[j], dtype=PETSc.IntType)
            for k in range(SIZES[i]):
                block.setValues(start + k, columns, local[k])
            block.assemble()
            row.append(block)
        blocks.append(row)
    return PETSc.Mat().createNest(blocks, comm=comm)


def _correction(comm, dense: np.ndarray, z: list[np.ndarray]):
    """The PC with coarse columns ``z`` (per field: global rows x m); its operator, x and y."""
    nest = _nest(comm, dense)
    width = z[0].shape[1]
    fields = []
    for field in range(2):
        local = z[field][comm.rank * SIZES[field] : (comm.rank + 1) * SIZES[field]]
        columns = np.tile(np.arange(width), (SIZES[field], 1))
        fields.append(coarse_columns(comm, columns, local, width))
    pc = PETSc.PC().create(comm)
    pc.setType(PETSc.PC.Type.PYTHON)
    context = GalerkinCoarseCorrection(fields)
    pc.setPythonContext(context)
    pc.setOperators(nest)
    pc.setUp()
    x = nest.createVecLeft()
    y = x.duplicate()
    return pc, context, nest, x, y


def _in_nest_order(comm, vector: np.ndarray) -> np.ndarray:
    """This rank's part of a global vector (fields in the global dense numbering)."""
    rows = np.concatenate(_global_rows(comm))
    return vector[rows]


@pytest.mark.parametrize("width", [1, 3])
def test_matches_the_dense_formula(width):
    comm = MPI.COMM_WORLD
    dense = _dense_operator(comm)
    rng = np.random.default_rng(5)
    z = [rng.standard_normal((comm.size * n, width)) for n in SIZES]
    # Z in the global numbering (rank by rank, field by field)
    n = comm.size * sum(SIZES)
    z_global = np.zeros((n, width))
    for field in range(2):
        z_global[_all_rows(comm, field)] = z[field]
    pc, context, nest, x, y = _correction(comm, dense, z)
    r = np.random.default_rng(7).standard_normal(n)
    x.getArray()[:] = _in_nest_order(comm, r)
    pc.apply(x, y)
    expected = z_global @ np.linalg.solve(z_global.T @ dense @ z_global, z_global.T @ r)
    # A dense solve of an m x m system of order-one entries against the PC's inverse of the
    # same matrix from sparse products: round-off, ~1e-15; bound 1e-12 relative.
    np.testing.assert_allclose(
        y.getArray(), _in_nest_order(comm, expected), rtol=0, atol=1e-12 * np.abs(expected).max()
    )
    assert context.setups == 1 and context.applications == 1


def test_identity_space_gives_the_exact_inverse():
    comm = MPI.COMM_WORLD
    dense = _dense_operator(comm)
    n = comm.size * sum(SIZES)
    identity = np.eye(n)
    z = [identity[_all_rows(comm, field)] for field in range(2)]
    pc, _, nest, x, y = _correction(comm, dense, z)
    x.setRandom()
    pc.apply(x, y)
    residual = nest.createVecLeft()
    nest.mult(y, residual)
    residual.axpy(-1.0, x)
    # Z = I: y = A^-1 x, so A y = x to the round-off of an n x n inverse (n <= 24, entries
    # of order n on the diagonal): ~1e-15 relative; bound 1e-12.
    assert residual.norm() <= 1e-12 * x.norm()


def test_needs_a_nested_operator():
    comm = MPI.COMM_WORLD
    columns = np.zeros((SIZES[0], 1), dtype=np.int64)
    z = coarse_columns(comm, columns, np.ones((SIZES[0], 1)), 1)
    matrix = PETSc.Mat().createAIJ(((SIZES[0], None), (SIZES[0], None)), comm=comm, nnz=1)
    start, end = matrix.getOwnershipRange()
    for row in range(start, end):
        matrix.setValue(row, row, 1.0)
    matrix.assemble()
    pc = PETSc.PC().create(comm)
    pc.setType(PETSc.PC.Type.PYTHON)
    pc.setPythonContext(GalerkinCoarseCorrection([z]))
    pc.setOperators(matrix)
    with pytest.raises(PETSc.Error):
        pc.setUp()


@pytest.mark.mpi
def test_matches_the_dense_formula_on_two_ranks():
    test_matches_the_dense_formula(3)
    test_identity_space_gives_the_exact_inverse()
