"""Preconditioners for the PNP Jacobian, usable from a case file as PETSc ``python`` PCs.

The steady PNP Newton system in the unknowns (psi, u_1..u_N) = (F phi/RT, ln c_k/c_ref), one
interleaved block of 1 + N values per mesh vertex, reads (scaled, linearised)

    -div(grad dpsi) - sum_k z_k c_k du_k                = r_psi   (Gauss's law)
    -div(D_k c_k (grad du_k + z_k grad dpsi)) + ...     = r_k     (Nernst-Planck, species k)

Its off-diagonal blocks are as strong as its diagonal ones, so block Gauss-Seidel in these
unknowns needs tens of Krylov iterations. In the electrochemical potentials
dmu_k = du_k + z_k dpsi the transport rows depend on dmu_k alone (up to the small term
c_k du_k (grad u_k + z_k grad psi) proportional to the ionic flux), and Gauss's law becomes the
screened Poisson equation -div(grad dpsi) + sum_k z_k^2 c_k dpsi = r_psi + sum_k z_k c_k dmu_k.
The system is then block lower triangular, and :class:`ElectrochemicalPotentialPC` applies

    1. dmu_k = A_kk^-1 r_k                      (one scalar solve per species, GAMG by default)
    2. dpsi  = S^-1 (r_psi - sum_k A_psi,k dmu_k),  S = A_psi,psi - sum_k z_k A_psi,k
    3. du_k  = dmu_k - z_k dpsi

where the A blocks are the blocks of the assembled Jacobian and S is assembled from them (the
screened Poisson operator). On large meshes (read in slabs, below) the couplings A_psi,k are not
stored: sum_k A_psi,k dmu_k is the potential rows of the Jacobian times the vector
(0, dmu_1, ..., dmu_N), one product with the operator itself. Case-file use, in ``[solver.petsc]``::

    ksp_type = "gmres"
    pc_type = "python"
    pc_python_type = "electrolyx.preconditioners.ElectrochemicalPotentialPC"
    pc_electrochemical_charge_numbers = "1,-1"      # z_k in [[species]] order
    # optional, defaults shown: inner solvers of the species and potential blocks
    transport_ksp_type = "preonly"
    transport_pc_type = "gamg"
    potential_ksp_type = "preonly"
    potential_pc_type = "gamg"
    # on several ranks and large meshes, drop the multigrid triple products' kept data after
    # each set-up (less memory, a little more time; see _clear_products)
    pc_electrochemical_clear_products = true
"""

from __future__ import annotations

import ctypes

from mpi4py import MPI
from petsc4py import PETSc

import numpy as np

from .heap import release_free_heap

__all__ = ["ElectrochemicalPotentialPC"]


def _clear_products(pc: PETSc.PC) -> None:
    """Drop the kept data of the products that made a multigrid's coarse operators.

    GAMG makes each coarse operator as P^T A P and keeps the product's intermediate data for
    the next set-up's numeric product. On several ranks that data (MPIAIJ's triple product)
    made a hierarchy 3.4 times as large (436,437 unknowns on 2 ranks: 108 MiB a rank against
    63 MiB for the whole problem serially); without it the next set-up makes the product's
    symbolic part again (MatProductClear, then GAMG's reuse of its interpolation recreates
    the product): on 2 ranks 7-9 % less peak memory, 8 % more time per Newton iteration
    (bench/README.md, "The steady 3D PNP's whole run"). Serially the kept data is small (the
    whole hierarchy 31 MiB at 224,391 unknowns) and making it again cost 5 % of a Newton
    iteration: kept there. Only called on meshes read in slabs: on the small ones read whole
    the rebuild cost more than that (`make bench-quick`'s 46,395 unknowns on 2 ranks: 1.906
    Poisson solves per Newton iteration against 1.75).
    """
    if pc.getType() not in (PETSc.PC.Type.GAMG, PETSc.PC.Type.MG) or pc.getComm().getSize() < 2:
        return
    from .compiled_assembly import petsc_function

    clear = petsc_function("MatProductClear", [ctypes.c_void_p])
    levels = pc.getMGLevels()
    for level in range(levels - 1):  # the finest operator is the block itself
        operator = pc.getMGSmoother(level).getOperators()[0]
        error = clear(operator.handle)
        if error:
            raise RuntimeError(f"MatProductClear failed (PETSc error {error})")


class ElectrochemicalPotentialPC:
    """Block-triangular preconditioner of the PNP Jacobian in electrochemical potentials.

    A petsc4py python-context for ``PC.Type.PYTHON``. The operator must be the interleaved
    (potential, species 1..N) Jacobian with 1 + N values per vertex, owned vertices contiguous
    on each rank (dolfinx's blocked P1 space), stored as AIJ or by its nodal blocks (BAIJ: the
    blocks are then read from its rows a slab at a time, or on small meshes from an AIJ copy).
    Inner solvers take their options from the prefixes ``<pc prefix>transport_`` (all
    species) and ``<pc prefix>potential_``.
    """

    #: Slabs a BAIJ operator is read in at a set-up, on every rank: each a collective
    #: MatCreateSubMatrix, whose cost grows with the global size. The transient is one slab's
    #: rows as BAIJ and as values with their columns and positions (~7 kB per vertex with two
    #: species, measured). With 16 it was +98 MiB a rank at 1.1 M unknowns on 2 ranks, as
    #: large as a residual assembly's before those were made in chunks; with 64, ~25 MiB
    #: (bench/README.md).
    slabs = 64
    #: Up to this many vertices on every rank a BAIJ operator is read whole, from an AIJ copy:
    #: on small meshes the slabs' calls and the heap's trimming cost 8 % of a Newton iteration
    #: (46 k unknowns on 2 ranks), and the copy's memory is small beside the libraries'.
    read_whole_up_to = 32768

    #: GAMG's threshold for dropping weak couplings from the aggregation graph, by whether the
    #: graph is squared (PETSc's default aggressive coarsening) or aggregated by MIS-2 (the
    #: default on meshes read in slabs); a case's ``*_pc_gamg_threshold`` wins. With the square
    #: graph 0.02 makes sparser coarse grids (46 k unknowns: 8 GMRES iterations per Newton
    #: step against 9.5 with 0); with MIS-2, 0 keeps more of the graph: at 1.1 M unknowns on 2
    #: ranks 1879 against 1976 B per unknown and 7.7 against 7.9 s per Newton iteration
    #: (bench/README.md).
    gamg_threshold = {True: 0.02, False: 0.0}

    def __init__(self) -> None:
        self.charge_numbers: np.ndarray | None = None
        self.clear_products = True
        self._fields: list[PETSc.IS] | None = None
        self._blocks: list[PETSc.Mat] = []
        # A_psi,k, stored where the operator is read whole (else products with the operator)
        self._couplings: list[PETSc.Mat] = []
        self._screened: PETSc.Mat | None = None
        self._transport_ksps: list[PETSc.KSP] = []
        self._in_slabs = False
        self._potential_ksp: PETSc.KSP | None = None

    def setFromOptions(self, pc: PETSc.PC) -> None:  # noqa: N802 (petsc4py hook name)
        """Read the charge numbers and whether to clear the multigrid products.

        ``pc_electrochemical_charge_numbers``: z_k, comma-separated (required);
        ``pc_electrochemical_clear_products``: default true (see :func:`_clear_products`).
        """
        options = PETSc.Options(pc.getOptionsPrefix())
        given = options.getString("pc_electrochemical_charge_numbers", "")
        if not given:
            raise ValueError(
                "ElectrochemicalPotentialPC needs the option "
                "pc_electrochemical_charge_numbers (z_k of each species, comma-separated)"
            )
        self.charge_numbers = np.array([float(z) for z in given.split(",")])
        self.clear_products = options.getBool("pc_electrochemical_clear_products", True)

    def _inner_ksp(self, pc: PETSc.PC, name: str, operator: PETSc.Mat) -> PETSc.KSP:
        """An inner solver, GAMG by default; on meshes read in slabs with MIS-2 aggregation.

        GAMG's aggressive coarsening of the finest level aggregates on the square of the
        block's graph by default: on meshes read in slabs (large ones) that product was the
        first set-up's transient and the run's peak (1.1 M unknowns on 2 ranks: 1172 MiB a
        rank, 1028 with MIS-2; bench/README.md). There the default is
        ``pc_gamg_aggressive_square_graph = false`` (MIS-2 on the graph itself: ~25 % more
        GMRES iterations, a Newton iteration a few per cent longer); a case's own setting wins.
        On small meshes the square graph stays: their memory is small beside the libraries',
        and the extra iterations cost time (`make bench-quick`'s PNP ratio: 1.88 in one run
        with MIS-2, 1.74-1.80 in six without).
        """
        prefix = f"{pc.getOptionsPrefix() or ''}{name}_"
        ksp = PETSc.KSP().create(operator.getComm())
        ksp.setOptionsPrefix(prefix)
        ksp.setType(PETSc.KSP.Type.PREONLY)
        ksp.getPC().setType(PETSc.PC.Type.GAMG)
        ksp.setOperators(operator)
        options = PETSc.Options(prefix)
        key = "pc_gamg_aggressive_square_graph"
        given = options.hasName(key)
        square_graph = options.getBool(key) if given else not self._in_slabs
        defaults: dict[str, bool | float] = {} if given else {key: square_graph}
        if not options.hasName("pc_gamg_threshold"):
            defaults["pc_gamg_threshold"] = self.gamg_threshold[square_graph]
        for option, value in defaults.items():
            options.setValue(option, value)
        ksp.setFromOptions()
        for option in defaults:
            options.delValue(option)
        return ksp

    def setUp(self, pc: PETSc.PC) -> None:  # noqa: N802 (petsc4py hook name)
        """Take the blocks of the (new) Jacobian, assemble S and set up the inner solvers."""
        if self.charge_numbers is None:
            self.setFromOptions(pc)
        _, matrix = pc.getOperators()
        n_species = len(self.charge_numbers)
        bs = 1 + n_species
        start, end = matrix.getOwnershipRange()
        if (end - start) % bs or start % bs:
            raise ValueError(
                f"operator rows {start}..{end} on this rank are not whole blocks of {bs} "
                f"(1 + {n_species} species from pc_electrochemical_charge_numbers)"
            )
        first = not self._blocks
        if first:  # (the operator's type and layout stay those of the first set-up)
            in_slabs = "baij" in matrix.getType()
            if in_slabs:
                vertices = matrix.getComm().tompi4py().allreduce((end - start) // bs, op=MPI.MAX)
                in_slabs = vertices > self.read_whole_up_to
            self._in_slabs = in_slabs
        in_slabs = self._in_slabs
        if in_slabs:
            self._read_nodal_blocks(matrix)
        elif "baij" in matrix.getType():
            # (into a new matrix: petsc4py's convert without one converts the operator in place)
            copy = matrix.convert(PETSc.Mat.Type.AIJ, PETSc.Mat())
            self._extract_blocks(copy)
            copy.destroy()
        else:
            self._extract_blocks(matrix)
        if first:
            self._transport_ksps = [self._inner_ksp(pc, "transport", b) for b in self._blocks]
            self._potential_ksp = self._inner_ksp(pc, "potential", self._screened)
            self._work = self._screened.createVecs()
            self._species_rhs = [b.createVecs() for b in self._blocks]
            # (0, dmu_1, ..., dmu_N) and the operator's product with it
            self._chemical, self._coupled = matrix.createVecs()
        else:
            for ksp, block in zip(self._transport_ksps, self._blocks, strict=True):
                ksp.setOperators(block)
            self._potential_ksp.setOperators(self._screened)
        for ksp in (*self._transport_ksps, self._potential_ksp):
            ksp.setUp()
            if in_slabs:
                if self.clear_products:
                    _clear_products(ksp.getPC())
                # The slabs' and this hierarchy's freed pages, resident until trimmed, would
                # add to the peak of the next hierarchy's products and of the next residual
                # assembly (bench/README.md).
                release_free_heap()

    def _extract_blocks(self, matrix: PETSc.Mat) -> None:
        """The blocks of an AIJ operator by ``MatCreateSubMatrix``, S by ``MatAXPY``.

        The couplings A_psi,k are kept for :meth:`apply`: on the meshes read whole their two
        scalar products are faster than one with the operator (46,395 unknowns on 2 ranks:
        1.74-1.81 Poisson solves per Newton iteration against 1.87-1.90; bench/README.md).
        """
        bs = 1 + len(self.charge_numbers)
        start, end = matrix.getOwnershipRange()
        comm = matrix.getComm()
        first = self._fields is None
        if first:
            nodes = (end - start) // bs
            self._fields = [
                PETSc.IS().createStride(nodes, start + f, bs, comm=comm) for f in range(bs)
            ]
        potential = self._fields[0]
        species = self._fields[1:]
        self._blocks = [
            matrix.createSubMatrix(f, f, submat=None if first else self._blocks[k])
            for k, f in enumerate(species)
        ]
        self._couplings = [
            matrix.createSubMatrix(potential, f, submat=None if first else self._couplings[k])
            for k, f in enumerate(species)
        ]
        self._screened = matrix.createSubMatrix(
            potential, potential, submat=None if first else self._screened
        )
        for z, coupling in zip(self.charge_numbers, self._couplings, strict=True):
            self._screened.axpy(-z, coupling, structure=PETSc.Mat.Structure.UNKNOWN_NONZERO_PATTERN)

    def _read_nodal_blocks(self, matrix: PETSc.Mat) -> None:
        """The blocks of a BAIJ operator, read a slab of vertices at a time (``slabs``).

        ``MatCreateSubMatrix`` on BAIJ widens a strided index set to whole nodal blocks, and an
        AIJ copy of the whole operator to extract from was the solve's largest transient
        (bench/README.md). Each slab of whole block rows is taken as BAIJ and read as values
        (``MatGetRow``: each point row holds its nodal blocks' columns in order, ``bs`` values
        each): the entry (f, g) of a vertex row's k-th block is point row f's value bs k + g.
        All blocks have the vertex graph's pattern (the operator's nodal blocks); S =
        A_psi,psi - sum_k z_k A_psi,k entry by entry (equal to ``_extract_blocks``'s MatAXPY
        sum: tests/test_nanopore.py).
        """
        bs = 1 + len(self.charge_numbers)
        n = len(self.charge_numbers)
        comm = matrix.getComm()
        start, end = matrix.getOwnershipRange()
        nodes = (end - start) // bs
        columns = PETSc.IS().createStride(end - start, start, 1, comm=comm)
        columns.setBlockSize(bs)
        # The same number of slabs on every rank (MatCreateSubMatrix is collective).
        slab = max(1, -(-nodes // self.slabs))
        first = not self._blocks
        # the pattern and values of the whole blocks, gathered on the first set-up only
        pieces: list[tuple[np.ndarray, ...]] = []
        for s in range(self.slabs):
            low, high = min(nodes, s * slab), min(nodes, (s + 1) * slab)
            rows = PETSc.IS().createStride((high - low) * bs, start + low * bs, 1, comm=comm)
            rows.setBlockSize(bs)
            part = matrix.createSubMatrix(rows, columns)
            indptr, point_columns, values = part.getValuesCSR()
            part.destroy()
            rows.destroy()
            # Vertex row i holds blocks_per_row[i] nodal blocks; its k-th block's values in
            # point row f are the bs values from indptr[bs i + f] + bs k on, column g's the g-th.
            blocks_per_row = np.diff(indptr[::bs]) // (bs * bs)
            node_indptr = np.zeros(high - low + 1, dtype=indptr.dtype)
            np.cumsum(blocks_per_row, out=node_indptr[1:])
            within_row = bs * (
                np.arange(node_indptr[-1]) - np.repeat(node_indptr[:-1], blocks_per_row)
            )
            # each block's first value in point row f
            starts = [np.repeat(indptr[f:-1:bs], blocks_per_row) + within_row for f in range(bs)]
            species = [values[starts[1 + k] + 1 + k] for k in range(n)]
            couplings = [values[starts[0] + 1 + k] for k in range(n)]
            screened = values[starts[0]]
            for z, coupling in zip(self.charge_numbers, couplings, strict=True):
                screened += -z * coupling
            node_columns = point_columns[starts[0]] // bs
            if first:
                pieces.append((node_indptr, node_columns, *species, screened))
                continue
            slab_rows = np.arange(start // bs + low, start // bs + high, dtype=indptr.dtype)
            targets = [*self._blocks, self._screened]
            for target, block_values in zip(targets, [*species, screened], strict=True):
                target.setValuesIJV(node_indptr, node_columns, block_values, rowmap=slab_rows)
        columns.destroy()
        if first:
            self._create_blocks(comm, nodes, pieces)
        else:
            for target in (*self._blocks, self._screened):
                target.assemble()

    def _create_blocks(
        self, comm: PETSc.Comm, nodes: int, pieces: list[tuple[np.ndarray, ...]]
    ) -> None:
        """The scalar blocks as AIJ matrices from the slabs' patterns and values."""
        offsets = np.cumsum([0] + [piece[0][-1] for piece in pieces[:-1]])
        indptr = np.concatenate(
            [[0]] + [piece[0][1:] + offset for piece, offset in zip(pieces, offsets, strict=True)]
        ).astype(pieces[0][0].dtype)
        node_columns = np.concatenate([piece[1] for piece in pieces])
        n = len(self.charge_numbers)
        matrices = []
        for b in range(n + 1):
            values = np.concatenate([piece[2 + b] for piece in pieces])
            block = PETSc.Mat().createAIJ(
                ((nodes, None), (nodes, None)), csr=(indptr, node_columns, values), comm=comm
            )
            block.setOption(PETSc.Mat.Option.NEW_NONZERO_LOCATION_ERR, True)
            block.assemble()
            matrices.append(block)
        self._blocks, self._screened = matrices[:n], matrices[-1]

    def apply(self, pc: PETSc.PC, x: PETSc.Vec, y: PETSc.Vec) -> None:
        """Apply P^-1 to x: species solves, screened-Poisson solve, back to (psi, u_k).

        The potential's right-hand side r_psi - sum_k A_psi,k dmu_k takes the couplings'
        product from the stored couplings, or without them (slabs) from the potential rows of
        the operator times (0, dmu_1, ..., dmu_N).
        """
        bs = 1 + len(self.charge_numbers)
        rhs = x.array_r.reshape(-1, bs)
        out = y.array.reshape(-1, bs)
        potential_rhs, potential = self._work
        potential_rhs.array[:] = rhs[:, 0]
        chemical = self._chemical.array.reshape(-1, bs)
        chemical[:, 0] = 0.0
        for k, ksp in enumerate(self._transport_ksps):
            species_rhs, species_mu = self._species_rhs[k]
            species_rhs.array[:] = rhs[:, 1 + k]
            ksp.solve(species_rhs, species_mu)
            chemical[:, 1 + k] = species_mu.array_r
            if self._couplings:
                self._couplings[k].mult(species_mu, species_rhs)
                potential_rhs.axpy(-1.0, species_rhs)
        if not self._couplings:
            pc.getOperators()[1].mult(self._chemical, self._coupled)  # (the one set up from)
            potential_rhs.array[:] -= self._coupled.array_r.reshape(-1, bs)[:, 0]
        self._potential_ksp.solve(potential_rhs, potential)
        dpsi = potential.array_r
        out[:, 0] = dpsi
        for k, z in enumerate(self.charge_numbers):
            out[:, 1 + k] = chemical[:, 1 + k] - z * dpsi

    def reset(self, pc: PETSc.PC) -> None:  # noqa: ARG002 (petsc4py hook)
        """Destroy the blocks, the inner solvers and the work vectors (PCReset, PCDestroy).

        Explicitly, so that they are freed at once on every rank (petsc4py defers the
        destruction of a dropped object that lives on several ranks).
        """
        objects = [*self._blocks, *self._couplings, self._screened]
        objects += [*self._transport_ksps, self._potential_ksp]
        if self._potential_ksp is not None:
            objects += [*self._work, self._chemical, self._coupled]
            objects += [v for pair in self._species_rhs for v in pair]
        for item in objects:
            if item is not None:
                item.destroy()
        for index_set in self._fields or []:
            index_set.destroy()
        self._blocks, self._couplings, self._screened, self._fields = [], [], None, None
        self._transport_ksps, self._potential_ksp = [], None

    destroy = reset

    def view(self, pc: PETSc.PC, viewer: PETSc.Viewer) -> None:
        """Describe the preconditioner and its inner solvers."""
        viewer.printfASCII(
            f"ElectrochemicalPotentialPC: charge numbers {self.charge_numbers.tolist()}\n"
        )
        if self._potential_ksp is not None:
            self._transport_ksps[0].view(viewer)
            self._potential_ksp.view(viewer)
