"""The gmsh pouch-stack generator (electrolyx.meshes.pouch): groups, volumes, terminals, errors."""

from mpi4py import MPI

import pytest
import ufl
from dolfinx import fem

import electrolyx  # noqa: F401  (loads MPI/PETSc libraries first)
from electrolyx.meshes.gmsh_tools import physical_tag
from electrolyx.meshes.layered_interval import Layer
from electrolyx.meshes.pouch import Tab, pouch_cell_mesh

LAYERS = [Layer("foil_n", 12e-6, 1), Layer("electrode", 80e-6, 5), Layer("foil_p", 16e-6, 2)]
TABS = [Tab("tab_n", "foil_n", 0.01, 0.03, 0.015, 2), Tab("tab_p", "foil_p", 0.06, 0.09, 0.01, 3)]


def _measure(data, name: str) -> float:
    dim, _ = data.physical_groups[name]
    mesh = data.mesh
    tags = data.cell_tags if dim == mesh.topology.dim else data.facet_tags
    kind = "dx" if dim == mesh.topology.dim else "ds"
    measure = ufl.Measure(kind, domain=mesh, subdomain_data=tags)
    one = fem.Constant(mesh, 1.0)
    local = fem.assemble_scalar(fem.form(one * measure(physical_tag(data, name))))
    return mesh.comm.allreduce(local, op=MPI.SUM)


@pytest.mark.mpi
def test_3d_stack_volumes_and_terminal_areas_are_exact():
    data = pouch_cell_mesh(MPI.COMM_WORLD, LAYERS, 0.2, 8, 0.1, 5, TABS, "left", "right")
    assert data.mesh.topology.cell_name() == "hexahedron"
    # Boxes meshed transfinitely: volumes and areas exact to round-off (1e-12 relative).
    height, width = 0.2, 0.1
    assert _measure(data, "electrode") == pytest.approx(80e-6 * height * width, rel=1e-12)
    # A foil's group includes its tab.
    expected = 12e-6 * (height * width + 0.02 * 0.015)
    assert _measure(data, "foil_n") == pytest.approx(expected, rel=1e-12)
    assert _measure(data, "tab_n") == pytest.approx(12e-6 * 0.02, rel=1e-12)
    assert _measure(data, "tab_p") == pytest.approx(16e-6 * 0.03, rel=1e-12)
    # The outer face x = 0 includes the negative tab's outer side.
    assert _measure(data, "left") == pytest.approx(height * width + 0.02 * 0.015, rel=1e-12)
    # Cells across each layer as asked: 1 + 5 + 2 through the stack, 8 along the height, the
    # width split at the tab ends (0.01/0.02/0.03/0.03/0.01 m of 5 cells per 0.1 m -> 1/1/2/2/1
    # cells, halves rounded up), 2 and 3 cells along the tabs.
    cells = data.mesh.topology.index_map(3).size_global
    assert cells == 8 * 7 * 8 + 1 * 1 * 2 + 2 * 2 * 3


@pytest.mark.mpi
def test_2d_section_with_tabs():
    data = pouch_cell_mesh(MPI.COMM_WORLD, LAYERS, 0.2, 8, None, 1, TABS, "left", "right")
    assert data.mesh.topology.cell_name() == "quadrilateral"
    # In 2D a tab spans its layer's thickness (per unit depth): its end is the foil thickness.
    assert _measure(data, "tab_p") == pytest.approx(16e-6, rel=1e-12)
    assert _measure(data, "electrode") == pytest.approx(80e-6 * 0.2, rel=1e-12)


@pytest.mark.parametrize(
    ("tabs", "width", "message"),
    [
        ([Tab("t", "separator")], 0.1, "tab 't': layer 'separator' is not one of"),
        ([Tab("t", "foil_n", 0.05, 0.12)], 0.1, r"span \[0.05, 0.12\] m must lie in"),
        ([Tab("t", "foil_n", 0.0, 0.01, length_m=0.0)], 0.1, "needs length > 0"),
    ],
)
def test_bad_tabs_are_refused(tabs, width, message):
    with pytest.raises(ValueError, match=message):
        pouch_cell_mesh(MPI.COMM_SELF, LAYERS, 0.2, 4, width, 4, tabs)
