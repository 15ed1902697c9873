"""A residual and its Jacobian assembled over the cells a chunk at a time.

Before it assembles a form, dolfinx packs the coefficients of every one of its integration
entities into one array (``dolfinx.fem.pack_coefficients``; the residual's lifting packs the
Jacobian's as well): for the steady 3D PNP 14 values per tetrahedron, 100 MiB a rank at
1.1 M unknowns on 2 ranks, on top of the Jacobian and the preconditioner at each residual and
Jacobian assembly (bench/README.md, "The steady 3D PNP's whole run"). Here the cell integrals
that cover the whole mesh are compiled once under a subdomain id of their own
(:data:`CHUNK_SUBDOMAIN`), and one form per chunk of cells is made from that compiled form,
each with its chunk as the id's integration entities (dolfinx's precompiled-form interface,
as :mod:`electrolyx.jit` uses it). Each chunk's coefficients are packed alone, so the
transient is a chunk's. The chunks are the owned cells in their order, and the other integrals
(facets, tagged cells) go in the last chunk, so every entry is summed in the order of the
whole form's assembly: the same residual and Jacobian bit for bit
(tests/test_chunked_assembly.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from mpi4py import MPI
from petsc4py import PETSc

import dolfinx
import dolfinx.fem.petsc as fem_petsc
import numpy as np
import ufl
from dolfinx import cpp as _cpp
from dolfinx import fem

from electrolyx import jit

__all__ = ["CHUNK_SUBDOMAIN", "ChunkedResidual", "chunk_count"]

#: The subdomain id the whole-mesh cell integrals are compiled under (no mesh tag uses it).
CHUNK_SUBDOMAIN = 2**30 + 7


def chunk_count(mesh: dolfinx.mesh.Mesh, cells_per_chunk: int) -> int:
    """Chunks of at most ``cells_per_chunk`` owned cells, the same number on every rank.

    The same on every rank because each chunk's Jacobian assembly ends in a collective flush.
    """
    cells = mesh.topology.index_map(mesh.topology.dim).size_local
    return int(mesh.comm.allreduce(-(-cells // max(1, cells_per_chunk)), op=MPI.MAX)) or 1


def _tagged(form: ufl.Form) -> ufl.Form:
    """The form with its whole-mesh cell integrals under :data:`CHUNK_SUBDOMAIN`."""
    integrals = []
    for integral in form.integrals():
        if integral.integral_type() == "cell" and integral.subdomain_id() in (
            "everywhere",
            "otherwise",
        ):
            integral = integral.reconstruct(subdomain_id=CHUNK_SUBDOMAIN)
        integrals.append(integral)
    return ufl.Form(integrals)


def _form_over(whole: fem.Form, cells: np.ndarray, with_the_rest: bool) -> fem.Form:
    """``whole``'s compiled form over ``cells`` (and, if ``with_the_rest``, its other entities).

    ``whole``'s :data:`CHUNK_SUBDOMAIN` integrals have no entities (no tag carries the id).
    """
    empty = np.zeros(0, dtype=np.int32)
    subdomains: dict[fem.IntegralType, list[tuple[int, np.ndarray]]] = {}
    for integral_type, ids in jit.integral_ids(whole.ufcx_form).items():
        domains = []
        for index, subdomain_id in enumerate(ids):
            if integral_type is fem.IntegralType.cell and subdomain_id == CHUNK_SUBDOMAIN:
                domains.append((subdomain_id, cells))
            elif with_the_rest:
                entities = np.array(whole._cpp_object.domains(integral_type, index))
                domains.append((subdomain_id, entities))
            else:
                domains.append((subdomain_id, empty))
        if domains:
            subdomains[integral_type] = domains
    return jit.form_over(whole, subdomains)


class ChunkedResidual:
    """A residual F(u) and its Jacobian dF/du, assembled a chunk of cells at a time.

    Args:
        residual: The residual form (one form in the unknown's test function).
        unknown: The unknown u.
        chunks: How many chunks (the same on every rank: :func:`chunk_count`).

    Attributes:
        residual, jacobian: The whole forms (every owned cell in one form), for the layouts of
            the vector and the matrix; assembling them would pack every cell's coefficients.
        residual_chunks, jacobian_chunks: The forms per chunk.
    """

    def __init__(self, residual: ufl.Form, unknown: fem.Function, chunks: int):
        tagged = _tagged(residual)
        jacobian = ufl.derivative(tagged, unknown, ufl.TrialFunction(unknown.function_space))
        compiled_residual, compiled_jacobian = jit.forms([tagged, jacobian])
        mesh = unknown.function_space.mesh
        cells = np.arange(mesh.topology.index_map(mesh.topology.dim).size_local, dtype=np.int32)
        pieces = np.array_split(cells, chunks)
        self.unknown = unknown
        self.residual = _form_over(compiled_residual, cells, True)
        self.jacobian = _form_over(compiled_jacobian, cells, True)
        last = len(pieces) - 1
        self.residual_chunks = [
            _form_over(compiled_residual, piece, k == last) for k, piece in enumerate(pieces)
        ]
        self.jacobian_chunks = [
            _form_over(compiled_jacobian, piece, k == last) for k, piece in enumerate(pieces)
        ]

    def assemble_residual(self, x: PETSc.Vec, b: PETSc.Vec, bcs: Sequence[fem.DirichletBC]) -> None:
        """F(x) into ``b``, lifted, Dirichlet rows x - g: as dolfinx's NonlinearProblem does."""
        x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        fem_petsc.assign(x, self.unknown)
        with b.localForm() as local:
            local.set(0.0)
        for form in self.residual_chunks:
            fem_petsc.assemble_vector(b, form)
        for form in self.jacobian_chunks:
            fem_petsc.apply_lifting(b, [form], bcs=[list(bcs)], x0=[x], alpha=-1.0)
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        fem_petsc.set_bc(b, list(bcs), x0=x, alpha=-1.0)
        b.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)

    def assemble_jacobian(
        self, x: PETSc.Vec, matrix: PETSc.Mat, bcs: Sequence[fem.DirichletBC]
    ) -> None:
        """dF/du at ``x`` into ``matrix``, Dirichlet rows and columns zero and 1 on the diagonal."""
        x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        fem_petsc.assign(x, self.unknown)
        matrix.zeroEntries()
        cpp_bcs = [bc._cpp_object for bc in bcs]
        constants = fem.pack_constants(self.jacobian)  # (the chunks' constants are its own)
        for form in self.jacobian_chunks:
            _cpp.fem.petsc.assemble_matrix(
                matrix, form._cpp_object, constants, fem.pack_coefficients(form), cpp_bcs
            )
        matrix.assemblyBegin(PETSc.Mat.AssemblyType.FLUSH)
        matrix.assemblyEnd(PETSc.Mat.AssemblyType.FLUSH)
        _cpp.fem.petsc.insert_diagonal(matrix, self.jacobian.function_spaces[0], cpp_bcs, 1.0)
        matrix.assemble()
