"""The DFN's electrode swelling as the eigenstrain of the cell-level elasticity (2D section).

The DFN's swelling field (eps_s [dV/V(x_avg) - dV/V(x_avg,0)] / 3, the `electrode_swelling_strain`
output) varies only through the stack when the particles' state does; on rollers at x = 0 and
on the top and bottom faces (a cell in a casing that holds its height) with the positive
collector's face free, the exact displacement has u_y = 0 and du_x/dx = s (1 + nu) / (1 - nu)
in each layer, so the collector face moves by int s (1 + nu) / (1 - nu) dx: piecewise quadratic
in x, held exactly by P2 elements.
"""

from mpi4py import MPI

import dolfinx
import numpy as np
import pytest
import ufl
from dolfinx import fem

import electrolyx  # noqa: F401  (loads MPI/PETSc libraries first)
from electrolyx.models.dfn import DFN, CellGeometry, DFNResolution, ParticleMechanics
from electrolyx.models.elasticity import CellElasticity, ElasticMaterial, region_field
from electrolyx.parameters import chen2020
from electrolyx.parameters.mechanics import with_okane2022_mechanics

HEIGHT = 2e-4  # m
MATERIALS = {  # region -> (E [Pa], nu): effective layer moduli, illustrative
    "negative_electrode": (10e9, 0.3),
    "separator": (0.5e9, 0.35),
    "positive_electrode": (80e9, 0.25),
}


@pytest.mark.mpi
def test_dfn_swelling_drives_the_cell_elasticity():
    model = DFN(
        with_okane2022_mechanics(chen2020()),
        DFNResolution(8, 4, 8, 6, 6),
        comm=MPI.COMM_WORLD,
        geometry=CellGeometry(height_m=HEIGHT, height_cells=3),
        mechanics=ParticleMechanics("swelling-only"),
    )
    length = model.length_m
    # A state of charge that varies through the stack (a discharge's front), the same radially.
    for electrode in model.electrodes:
        function = model.unknowns[electrode.concentration].function
        x = function.function_space.tabulate_dof_coordinates()[:, 0]
        stoichiometry = 0.2 + 0.6 * x / length
        function.x.array[:] = np.repeat(stoichiometry, electrode.grid.size)
    mesh, layout = model.mesh, model.layout
    nodal = fem.Function(fem.functionspace(mesh, ("Lagrange", 1)))
    nodal.x.array[:] = model.outputs.nodal_fields(nodal.function_space)["electrode_swelling_strain"]
    # Piecewise linear in each electrode, 0 in the separator (it jumps at the interfaces).
    electrodes = [layout.tag(e.name) for e in model.electrodes]
    swelling = region_field(nodal, layout.mesh_data.cell_tags, electrodes, "swelling")
    assert np.max(np.abs(swelling.x.array)) > 1e-3
    # Boundary faces: x = 0, x = L, y = 0, y = H.
    tdim = mesh.topology.dim
    mesh.topology.create_connectivity(tdim - 1, tdim)
    faces = [(0, 0.0), (0, length), (1, 0.0), (1, HEIGHT)]
    found = [
        dolfinx.mesh.locate_entities_boundary(
            mesh, tdim - 1, lambda p, a=a, v=v: np.isclose(p[a], v, atol=1e-9 * length)
        )
        for a, v in faces
    ]
    facets = np.concatenate(found)
    tags = np.concatenate([np.full(f.size, i + 1, dtype=np.int32) for i, f in enumerate(found)])
    facets, unique = np.unique(facets, return_index=True)
    facet_tags = dolfinx.mesh.meshtags(mesh, tdim - 1, facets, tags[unique])
    materials = {layout.tag(name): ElasticMaterial(*value) for name, value in MATERIALS.items()}
    problem = CellElasticity(
        mesh,
        layout.mesh_data.cell_tags,
        facet_tags,
        materials,
        swelling_strain=swelling,
        rollers=[(1, 0), (3, 1), (4, 1)],
        degree=2,
        rtol=1e-13,
    )
    u = problem.solve()
    ds = ufl.Measure("ds", domain=mesh, subdomain_data=facet_tags)
    rise = mesh.comm.allreduce(fem.assemble_scalar(fem.form(u[0] / HEIGHT * ds(2))), op=MPI.SUM)
    nu = problem.poissons_ratio
    expected = mesh.comm.allreduce(
        fem.assemble_scalar(fem.form((1 + nu) / (1 - nu) * swelling / HEIGHT * ufl.dx)),
        op=MPI.SUM,
    )
    # Exact in the P2 space (piecewise-quadratic u_x): solver tolerance (measured 2.2e-13).
    assert rise == pytest.approx(expected, rel=1e-8)
    # The same swelling is the DFN's thickness change when taken up by thickness alone,
    # int 3 s dx per modelled area (vertex quadrature there, exact for the piecewise-linear s).
    thickness = mesh.comm.allreduce(
        fem.assemble_scalar(fem.form(3 * swelling / HEIGHT * ufl.dx)), op=MPI.SUM
    )
    assert model.outputs.cell_thickness_change_m() == pytest.approx(thickness, rel=1e-12)
