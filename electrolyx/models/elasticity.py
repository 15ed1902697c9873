"""Cell-level linear elasticity: a layered cell swelling against its casing or a stack pressure.

The displacement u of the cell's layers (:mod:`electrolyx.forms.elasticity`, plane strain in
2D) with a Young's modulus and Poisson's ratio per region (cell tag) and the free linear
swelling strain s of each region (a number per tag, or any UFL expression or function, e.g. the
electrodes' dV/V / 3 from the DFN's particles) as eigenstrain. Boundary conditions by facet tag:

* ``fixed``: u = 0 (a rigid casing the cell is bonded to);
* ``rollers``: (tag, component) pairs, u_i = 0 on that face (a rigid wall the cell slides on,
  or a plane of symmetry);
* ``pressure``: tag -> p [Pa], the traction -p n (stack pressure; p < 0 pulls);
* ``prescribed``: tag -> a function of x giving u there (tests, imposed motions).

The linear system is solved (``linear_solver``) either by conjugate gradients with
smoothed-aggregation algebraic multigrid (``"gamg"``: PETSc GAMG given the rigid-body modes as
its near null space, ``A.setNearNullSpace``: 3 modes in 2D, 6 in 3D), the solver that scales to
large 3D meshes of well-shaped cells and runs distributed, or by a sparse Cholesky factorisation
(``"direct"``: MUMPS, distributed too), factored once (the matrix does not change between
solves: only the swelling and pressures do) and reused by every solve. The direct one is for
the thin layers of a cell stack meshed with the in-plane cells of a pouch: hexahedra 100-1000
times wider than thick, on which GAMG stalls (CG + GAMG reached 1e-4 relative residual in 1000
iterations on the 3D pouch of cases/pouch-3d-tabs, 15 243 unknowns, where MUMPS' Cholesky
factors and solves in 0.1 s).

The solver's PETSc options live under a prefix of its own (``elasticity_<id>_``) in the options
database until the solver is set up (GAMG reads its levels' smoother and coarse-solver options
while it builds its hierarchy, at set-up) and are removed then, so that no other solver of the
process (the DFN's Newton and its MUMPS LU, under their own prefixes) reads them or is read by
this one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mpi4py import MPI
from petsc4py import PETSc

import dolfinx
import numpy as np
import ufl
from dolfinx import fem
from dolfinx.fem.petsc import apply_lifting, assemble_matrix, assemble_vector, set_bc

from electrolyx.forms.elasticity import (
    elastic_stress,
    linear_elasticity_residual,
    out_of_plane_stress,
    von_mises_stress,
)
from electrolyx.petsc_options import unique_prefix

__all__ = [
    "LINEAR_SOLVERS",
    "CellElasticity",
    "ElasticMaterial",
    "region_field",
    "rigid_body_modes",
]

#: Values of ``CellElasticity(linear_solver=...)``.
LINEAR_SOLVERS = ("gamg", "direct")


@dataclass(frozen=True)
class ElasticMaterial:
    """An isotropic layer: Young's modulus E > 0 [Pa], Poisson's ratio -1 < nu < 0.5."""

    youngs_modulus_Pa: float
    poissons_ratio: float

    def __post_init__(self):
        if not self.youngs_modulus_Pa > 0.0:
            raise ValueError(f"Young's modulus {self.youngs_modulus_Pa!r} Pa: allowed > 0")
        if not -1.0 < self.poissons_ratio < 0.5:
            raise ValueError(f"Poisson's ratio {self.poissons_ratio!r}: allowed -1 < nu < 0.5")


def rigid_body_modes(space: fem.FunctionSpace) -> PETSc.NullSpace:
    """The rigid-body motions of a vector P1/P2 space, orthonormalised (near null space).

    2D: two translations and the rotation (-y, x); 3D: three translations and three rotations.
    """
    gdim = space.mesh.geometry.dim
    index_map, bs = space.dofmap.index_map, space.dofmap.index_map_bs
    count = 3 if gdim == 2 else 6
    basis = [dolfinx.la.vector(index_map, bs=bs, dtype=PETSc.ScalarType) for _ in range(count)]
    arrays = [b.array.reshape(-1, bs) for b in basis]
    x = space.tabulate_dof_coordinates()
    for i in range(gdim):
        arrays[i][:, i] = 1.0
    rotations = [(0, 1)] if gdim == 2 else [(0, 1), (1, 2), (2, 0)]
    for mode, (i, j) in enumerate(rotations, start=gdim):
        arrays[mode][:, i] = -x[:, j]
        arrays[mode][:, j] = x[:, i]
    dolfinx.la.orthonormalize(basis)
    owned = index_map.size_local * bs
    vectors = [
        PETSc.Vec().createWithArray(b.array[:owned], bsize=bs, comm=space.mesh.comm) for b in basis
    ]
    return PETSc.NullSpace().create(vectors=vectors)


def region_field(
    source: fem.Function, cell_tags: dolfinx.mesh.MeshTags, tags: Sequence[int], name: str
) -> fem.Function:
    """A P1 field kept on the cells of ``tags`` and 0 elsewhere, as a DG1 function.

    For a swelling strain that jumps at the layers' interfaces (an electrode's next to an
    inert separator): the P1 nodal values of an output (NaN off its regions, e.g. the DFN's
    ``electrode_swelling_strain``) become piecewise linear inside each listed region.
    """
    mesh = source.function_space.mesh
    field = fem.Function(fem.functionspace(mesh, ("DG", 1)), name=name)
    finite = fem.Function(source.function_space)
    finite.x.array[:] = np.nan_to_num(source.x.array, nan=0.0)
    field.interpolate(finite)
    tdim = mesh.topology.dim
    cells = mesh.topology.index_map(tdim).size_local + mesh.topology.index_map(tdim).num_ghosts
    keep = np.zeros(cells, dtype=bool)
    for tag in tags:
        keep[cell_tags.find(tag)] = True
    dofmap = field.function_space.dofmap
    for cell in np.flatnonzero(~keep):
        field.x.array[dofmap.cell_dofs(cell)] = 0.0
    return field


class CellElasticity:
    """Displacement, stress and von Mises stress of a layered cell with swelling layers.

    Args:
        mesh: The cell mesh (2D: plane strain; 3D).
        cell_tags: Regions of the mesh.
        facet_tags: Boundary faces.
        materials: cell tag -> :class:`ElasticMaterial` (every cell must be covered).
        swelling_strain: cell tag -> free linear swelling strain s [-] (a number or UFL), or
            one UFL expression/function for the whole mesh; missing tags do not swell.
        fixed: Facet tags where u = 0.
        rollers: (facet tag, component) pairs where u_component = 0.
        pressure: facet tag -> stack pressure p [Pa] (traction -p n).
        prescribed: facet tag -> callable x -> u(x) of shape (gdim, N).
        degree: Polynomial degree of u (1 or 2).
        rtol: Relative tolerance of CG on the preconditioned residual (``"gamg"``).
        linear_solver: ``"gamg"`` (CG + GAMG with the rigid-body near null space) or
            ``"direct"`` (MUMPS Cholesky, factored once).
    """

    def __init__(
        self,
        mesh: dolfinx.mesh.Mesh,
        cell_tags: dolfinx.mesh.MeshTags,
        facet_tags: dolfinx.mesh.MeshTags,
        materials: Mapping[int, ElasticMaterial],
        swelling_strain: Mapping[int, Any] | Any = None,
        fixed: Sequence[int] = (),
        rollers: Sequence[tuple[int, int]] = (),
        pressure: Mapping[int, float] | None = None,
        prescribed: Mapping[int, Callable] | None = None,
        degree: int = 1,
        rtol: float = 1e-12,
        linear_solver: str = "gamg",
    ):
        if linear_solver not in LINEAR_SOLVERS:
            raise ValueError(
                f"linear_solver {linear_solver!r}: allowed {', '.join(LINEAR_SOLVERS)}"
            )
        self.linear_solver = linear_solver
        self.mesh = mesh
        self.comm = mesh.comm
        gdim = mesh.geometry.dim
        self.space = fem.functionspace(mesh, ("Lagrange", degree, (gdim,)))
        self.displacement = fem.Function(self.space, name="displacement_m")
        dg0 = fem.functionspace(mesh, ("DG", 0))
        self.youngs_modulus = fem.Function(dg0, name="youngs_modulus_Pa")
        self.poissons_ratio = fem.Function(dg0, name="poissons_ratio")
        self.youngs_modulus.x.array[:] = np.nan
        for tag, material in materials.items():
            cells = cell_tags.find(tag)
            self.youngs_modulus.x.array[cells] = material.youngs_modulus_Pa
            self.poissons_ratio.x.array[cells] = material.poissons_ratio
        self.youngs_modulus.x.scatter_forward()
        self.poissons_ratio.x.scatter_forward()
        owned = mesh.topology.index_map(mesh.topology.dim).size_local
        uncovered = int(np.isnan(self.youngs_modulus.x.array[:owned]).sum())
        if self.comm.allreduce(uncovered, op=MPI.SUM):
            raise ValueError(
                f"{uncovered} cells have no material: give every cell tag one "
                f"(materials for tags {sorted(materials)})"
            )
        dx = ufl.Measure("dx", domain=mesh, subdomain_data=cell_tags)
        ds = ufl.Measure("ds", domain=mesh, subdomain_data=facet_tags)
        # The swelling strain: per tag (DG0 where numbers), or one expression.
        if swelling_strain is None or isinstance(swelling_strain, Mapping):
            self.swelling = fem.Function(dg0, name="swelling_strain")
            for tag, value in (swelling_strain or {}).items():
                self.swelling.x.array[cell_tags.find(tag)] = float(value)
            self.swelling.x.scatter_forward()
            swelling = self.swelling
        else:
            self.swelling = swelling = swelling_strain
        u, v = ufl.TrialFunction(self.space), ufl.TestFunction(self.space)
        E, nu = self.youngs_modulus, self.poissons_ratio
        self.pressure = {tag: fem.Constant(mesh, float(p)) for tag, p in (pressure or {}).items()}
        normal = ufl.FacetNormal(mesh)
        tractions = [(-p * normal, ds(tag)) for tag, p in self.pressure.items()]
        bilinear = linear_elasticity_residual(elastic_stress(u, E, nu), v, dx)
        # The eigenstrain and tractions: the residual at u = 0, moved to the right-hand side.
        zero = fem.Constant(mesh, np.zeros(gdim))
        residual_at_zero = linear_elasticity_residual(
            elastic_stress(zero, E, nu, swelling), v, dx, tractions
        )
        self._a = fem.form(bilinear)
        self._L = fem.form(-residual_at_zero)
        self.bcs = self._boundary_conditions(facet_tags, fixed, rollers, prescribed or {})
        self._stress = elastic_stress(self.displacement, E, nu, swelling)
        self._out_of_plane = (
            out_of_plane_stress(self.displacement, E, nu, swelling) if gdim == 2 else None
        )
        self._matrix = assemble_matrix(self._a, bcs=self.bcs)
        self._matrix.assemble()
        self._matrix.setNearNullSpace(rigid_body_modes(self.space))
        self._rhs = assemble_vector(self._L)
        self.solver = PETSc.KSP().create(self.comm)
        prefix = unique_prefix("elasticity")
        self.solver.setOptionsPrefix(prefix)
        options = PETSc.Options()
        if linear_solver == "gamg":
            chosen = {
                "ksp_type": "cg",
                "ksp_rtol": rtol,
                "ksp_atol": 1e-50,
                "ksp_max_it": 1000,
                "pc_type": "gamg",
                "pc_gamg_type": "agg",
                "pc_gamg_coarse_eq_limit": 1000,
                "mg_levels_ksp_type": "chebyshev",
                "mg_levels_pc_type": "jacobi",
            }
        else:
            # The matrix is symmetric positive definite (Dirichlet rows and columns zeroed
            # with a unit diagonal): Cholesky.
            self._matrix.setOption(PETSc.Mat.Option.SPD, True)
            chosen = {
                "ksp_type": "preonly",
                "pc_type": "cholesky",
                "pc_factor_mat_solver_type": "mumps",
            }
        for key, value in chosen.items():
            options[prefix + key] = value
        self.solver.setOperators(self._matrix)
        self.solver.setFromOptions()
        # Set up (GAMG's hierarchy and its levels' solvers; the factorisation) while the
        # options are in the database: they are read there, then removed.
        self.solver.setUp()
        for key in chosen:
            options.delValue(prefix + key)

    def _boundary_conditions(self, facet_tags, fixed, rollers, prescribed):
        mesh, space = self.mesh, self.space
        fdim = mesh.topology.dim - 1
        mesh.topology.create_connectivity(fdim, mesh.topology.dim)
        bcs = []
        zero = np.zeros(mesh.geometry.dim, dtype=PETSc.ScalarType)
        for tag in fixed:
            dofs = fem.locate_dofs_topological(space, fdim, facet_tags.find(tag))
            bcs.append(fem.dirichletbc(zero, dofs, space))
        for tag, component in rollers:
            sub = space.sub(component)
            dofs = fem.locate_dofs_topological(sub, fdim, facet_tags.find(tag))
            bcs.append(fem.dirichletbc(PETSc.ScalarType(0.0), dofs, sub))
        for tag, function in prescribed.items():
            value = fem.Function(space)
            value.interpolate(function)
            dofs = fem.locate_dofs_topological(space, fdim, facet_tags.find(tag))
            bcs.append(fem.dirichletbc(value, dofs))
        return bcs

    def solve(self) -> fem.Function:
        """Solve for the displacement with the present swelling and pressures [m].

        Raises:
            RuntimeError: if CG does not converge (or the factorisation fails).
        """
        rhs = self._rhs
        with rhs.localForm() as local:
            local.set(0.0)
        dolfinx.fem.petsc.assemble_vector(rhs, self._L)
        apply_lifting(rhs, [self._a], bcs=[self.bcs])
        rhs.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        set_bc(rhs, self.bcs)
        self.solver.solve(rhs, self.displacement.x.petsc_vec)
        reason = self.solver.getConvergedReason()
        if reason <= 0:
            method = "CG + GAMG" if self.linear_solver == "gamg" else "Cholesky (MUMPS)"
            raise RuntimeError(
                f"elasticity: {method} did not converge (reason {reason}, "
                f"{self.solver.getIterationNumber()} iterations)"
            )
        self.displacement.x.scatter_forward()
        return self.displacement

    @property
    def iterations(self) -> int:
        """CG iterations of the last solve (1 for the direct solver)."""
        return self.solver.getIterationNumber()

    def stress(self):
        """sigma(u) (UFL) [Pa]: the in-plane 2x2 tensor in 2D."""
        return self._stress

    def out_of_plane_stress(self):
        """sigma_zz of plane strain (UFL) [Pa]; None in 3D."""
        return self._out_of_plane

    def von_mises(self):
        """The von Mises stress (UFL) [Pa], with the plane-strain sigma_zz in 2D."""
        return von_mises_stress(self._stress, self._out_of_plane)

    def cell_values(self, expression, name: str) -> fem.Function:
        """A UFL expression's values at the cell midpoints, as a DG0 function (fields)."""
        space = fem.functionspace(self.mesh, ("DG", 0, expression.ufl_shape))
        function = fem.Function(space, name=name)
        function.interpolate(fem.Expression(expression, space.element.interpolation_points))
        return function
