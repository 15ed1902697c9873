"""The homogenisation bridge: effective DFN parameters of a resolved microstructure.

From a mesh of a box [x_0, x_1] x [y_0, y_1] (x [z_0, z_1]) whose cells are tagged as pore
(electrolyte) or solid (particles) phase, :func:`homogenise` computes

- the porosity eps = |pore| / |box| (pore volume over the volume of pore and solid cells);
- the specific surface area a_s = |interface| / |box| in 1/m (pore/solid interface area per
  total volume; in 2D, interface length per area);
- in each requested direction i, the relative effective diffusivity D_eff,i / D of the pore
  phase, from steady diffusion through it (:mod:`electrolyx.forms.pore_diffusion`) with unit
  concentration drop between the two faces normal to i and no flux elsewhere:
  D_eff,i / D = Q L_i / (A_i D (c_in - c_out)), with Q the molar flow through the box, L_i its
  length along i and A_i = |box| / L_i its cross-section;
- the tortuosity factor tau_i = eps D / D_eff,i (so that D_eff = eps D / tau);
- the Bruggeman exponent b_i with eps^b_i = eps / tau_i, i.e. tau_i = eps^(1 - b_i):
  b_i = 1 - ln(tau_i) / ln(eps).

The flow Q is the dissipation int D |grad c|^2 dx / (c_in - c_out) of the discrete solution,
which equals the consistent (residual) flux through either face; their mismatch, reported, is
the linear-solver error. A pore phase that does not connect the two faces carries no flow: the
computed Q is then round-off, and D_eff / D below :data:`PERCOLATION_THRESHOLD` is reported as 0
(tau = inf, b = inf).

Everything is collective: the same numbers on any number of MPI ranks (up to the linear-solver
tolerance for the iterative solver, to round-off for the direct one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mpi4py import MPI
from petsc4py import PETSc

import dolfinx
import numpy as np
import ufl
from dolfinx import fem
from dolfinx.fem.petsc import LinearProblem

from ...forms.effective_transport import (
    bruggeman_exponent_of_tortuosity,
    tortuosity_factor_of_efficiency,
)
from ...forms.pore_diffusion import (
    consistent_boundary_flux,
    diffusion_dissipation,
    steady_diffusion_form,
)
from .microstructure import AXES, Microstructure, bounding_box, cells_with_tags
from .properties import DirectionalTransport, EffectiveProperties

__all__ = ["LINEAR_SOLVERS", "PERCOLATION_THRESHOLD", "homogenise"]

#: D_eff / D below this is taken for the round-off of a pore phase without a path between the
#: faces (measured: 1e-24 for closed layers). A straight pore channel one element wide already
#: gives (h / L)^(d - 1), 1e-6 for 1000 elements per side in 3D.
PERCOLATION_THRESHOLD = 1e-10

#: Linear solvers for the cell problem (symmetric positive definite).
LINEAR_SOLVERS: dict[str, dict[str, Any]] = {
    "cg-gamg": {"ksp_type": "cg", "pc_type": "gamg", "ksp_norm_type": "unpreconditioned"},
    # Null-pivot detection (ICNTL 24) keeps pores that touch neither face (a singular block
    # with zero right-hand side) from stopping the factorisation; they get a constant.
    "mumps": {
        "ksp_type": "preonly",
        "pc_type": "lu",
        "pc_factor_mat_solver_type": "mumps",
        "mat_mumps_icntl_24": 1,
    },
}


def _sum(comm: MPI.Comm, form: ufl.Form) -> float:
    return comm.allreduce(fem.assemble_scalar(fem.form(form)), op=MPI.SUM)


def homogenise(
    micro: Microstructure,
    directions: Sequence[str] | None = None,
    *,
    linear_solver: str = "cg-gamg",
    relative_tolerance: float = 1e-12,
    degree: int = 1,
    on_direction: Callable[[str, DirectionalTransport | None], None] | None = None,
) -> EffectiveProperties:
    """Porosity, specific surface area, tortuosity factors and Bruggeman exponents (collective).

    Args:
        micro: The meshed two-phase box.
        directions: Axes to compute transport along ("x", "y", "z"); default all of the mesh's.
        linear_solver: "cg-gamg" (conjugate gradients, algebraic multigrid) or "mumps" (direct).
        relative_tolerance: Relative residual tolerance of the iterative solver.
        degree: Lagrange degree of the concentration.
        on_direction: Called with (direction, None) before each cell problem and with
            (direction, its transport) after it (progress).

    Returns:
        The effective properties.

    Raises:
        ValueError: for an unknown direction or solver, or a mesh without pore cells.
        RuntimeError: if the linear solver fails.
    """
    mesh = micro.mesh
    comm = mesh.comm
    tdim = mesh.topology.dim
    gdim = mesh.geometry.dim
    axes = list(AXES)[:gdim]
    directions = list(directions) if directions is not None else axes
    unknown = [d for d in directions if d not in axes]
    if unknown:
        raise ValueError(f"direction {unknown[0]!r} not in {axes} for a {gdim}D mesh")
    if linear_solver not in LINEAR_SOLVERS:
        raise ValueError(f"linear_solver {linear_solver!r} not one of {list(LINEAR_SOLVERS)}")

    pore_cells = cells_with_tags(micro, micro.pore_tags)
    box_cells = cells_with_tags(micro, micro.pore_tags + micro.solid_tags)
    n_pore = comm.allreduce(
        int(np.sum(pore_cells < mesh.topology.index_map(tdim).size_local)), op=MPI.SUM
    )
    if n_pore == 0:
        raise ValueError("the mesh has no pore cells")
    lower, upper = bounding_box(mesh, box_cells)
    tol = 1e-9 * float(np.max(upper - lower))

    dx = ufl.Measure("dx", domain=mesh, subdomain_data=micro.cell_tags)
    one = fem.Constant(mesh, 1.0)
    volume = _sum(comm, sum((one * dx(t) for t in micro.pore_tags + micro.solid_tags), ufl.zero()))
    pore_volume = _sum(comm, sum((one * dx(t) for t in micro.pore_tags), ufl.zero()))

    # The pore phase as a mesh of its own: its exterior facets are the box faces and the
    # interface with the solid.
    submesh, _, _, _ = dolfinx.mesh.create_submesh(mesh, tdim, pore_cells)
    fdim = tdim - 1
    submesh.topology.create_connectivity(fdim, tdim)
    exterior = dolfinx.mesh.exterior_facet_indices(submesh.topology)

    def on_face(axis: int, value: float):
        return lambda x: np.abs(x[axis] - value) < tol

    faces = {
        (axis, side): dolfinx.mesh.locate_entities_boundary(
            submesh, fdim, on_face(axis, (lower, upper)[side][axis])
        )
        for axis in range(gdim)
        for side in (0, 1)
    }
    on_box = np.unique(np.concatenate(list(faces.values())))
    interface = np.setdiff1d(exterior, on_box)
    interface_tags = dolfinx.mesh.meshtags(
        submesh, fdim, interface.astype(np.int32), np.ones(interface.size, dtype=np.int32)
    )
    ds = ufl.Measure("ds", domain=submesh, subdomain_data=interface_tags)
    interface_area = _sum(comm, fem.Constant(submesh, 1.0) * ds(1))

    props = EffectiveProperties(
        dimension=gdim,
        box_lower=[float(v) for v in lower],
        box_upper=[float(v) for v in upper],
        volume=volume,
        pore_volume=pore_volume,
        interface_area=interface_area,
        porosity=pore_volume / volume,
        specific_surface_area=interface_area / volume,
    )

    space = fem.functionspace(submesh, ("Lagrange", degree))
    props.pore_unknowns = space.dofmap.index_map.size_global
    # D cancels in D_eff / D. Taking D = L^(2 - d) (L the box size) gives the stiffness matrix
    # the entries of the same problem in units of L: O(1), like the unit rows of the Dirichlet
    # values, so that the solver's relative tolerance means the same on any length scale.
    reference_length = float(np.max(upper - lower))
    scale = reference_length ** (2 - tdim)
    diffusivity = fem.Constant(submesh, scale)
    dx_pore = ufl.Measure("dx", domain=submesh)
    trial, test = ufl.TrialFunction(space), ufl.TestFunction(space)
    bilinear = steady_diffusion_form(trial, test, diffusivity, dx_pore)
    zero_source = fem.Constant(submesh, 0.0) * test * dx_pore
    options = dict(LINEAR_SOLVERS[linear_solver])
    if options["ksp_type"] != "preonly":
        options.update({"ksp_rtol": relative_tolerance, "ksp_atol": 0.0, "ksp_max_it": 10000})

    for direction in directions:
        if on_direction is not None:
            on_direction(direction, None)
        axis = AXES[direction]
        length = float(upper[axis] - lower[axis])
        inlet_dofs = fem.locate_dofs_topological(space, fdim, faces[(axis, 0)])
        outlet_dofs = fem.locate_dofs_topological(space, fdim, faces[(axis, 1)])
        bcs = [
            fem.dirichletbc(PETSc.ScalarType(1.0), inlet_dofs, space),
            fem.dirichletbc(PETSc.ScalarType(0.0), outlet_dofs, space),
        ]
        problem = LinearProblem(
            bilinear,
            zero_source,
            bcs=bcs,
            petsc_options_prefix=f"homogenise_{direction}_",
            petsc_options=options,
        )
        concentration = problem.solve()
        reason = problem.solver.getConvergedReason()
        if reason <= 0:
            raise RuntimeError(
                f"linear solver ({linear_solver}) failed in direction {direction}: "
                f"KSP converged reason {reason}"
            )
        iterations = problem.solver.getIterationNumber()
        flows = []
        for dofs in (inlet_dofs, outlet_dofs):
            indicator = fem.Function(space)
            indicator.x.array[dofs] = 1.0
            indicator.x.scatter_forward()
            flows.append(
                _sum(comm, consistent_boundary_flux(concentration, indicator, diffusivity, dx_pore))
            )
        flow = _sum(comm, diffusion_dissipation(concentration, diffusivity, dx_pore)) / scale
        inflow, outflow = flows[0] / scale, -flows[1] / scale
        relative = flow * length / (volume / length)
        if relative < PERCOLATION_THRESHOLD:
            relative = mismatch = 0.0
        else:
            mismatch = abs(inflow - outflow) / flow
        tau = tortuosity_factor_of_efficiency(props.porosity, relative)
        exponent = bruggeman_exponent_of_tortuosity(props.porosity, tau)
        props.directions[direction] = DirectionalTransport(
            direction=direction,
            relative_effective_diffusivity=relative,
            tortuosity_factor=tau,
            bruggeman_exponent=exponent,
            flux_mismatch=mismatch,
            linear_iterations=iterations,
        )
        if on_direction is not None:
            on_direction(direction, props.directions[direction])
        problem.solver.destroy()
    return props
