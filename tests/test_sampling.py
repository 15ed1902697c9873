"""Line sampling (electrolyx.sampling.LineSampler) on tensor-product cells.

Points up a 16 um foil of a gmsh pouch mesh (hexahedra 12.5 mm tall) were once reported
missing: the inside test treated a hexahedron's first four nodes as a tetrahedron.
"""

from mpi4py import MPI

import numpy as np
import pytest
from dolfinx import fem

import electrolyx  # noqa: F401  (loads MPI/PETSc libraries first)
from electrolyx.meshes.layered_interval import Layer
from electrolyx.meshes.pouch import Tab, pouch_cell_mesh
from electrolyx.sampling import LineSampler


@pytest.mark.mpi
@pytest.mark.parametrize("width", [None, 0.1], ids=["2D", "3D"])
def test_points_up_a_thin_foil_into_its_tab_are_found_and_exact(width):
    layers = [Layer("electrode", 75e-6, 4), Layer("foil", 16e-6, 1)]
    tab = Tab("tab", "foil", 0.06, 0.09, length_m=0.015, cells=2)
    data = pouch_cell_mesh(MPI.COMM_WORLD, layers, 0.2, 16, width, 10, [tab])
    space = fem.functionspace(data.mesh, ("Lagrange", 1))
    linear = fem.Function(space)
    height = 1 if width is None else 2
    linear.interpolate(lambda x: 1e5 * x[0] + x[height])
    # 86 points from the bottom of the foil to near the end of its tab (mid-foil, mid-tab).
    points = np.zeros((86, 3))
    points[:, 0] = 75e-6 + 8e-6
    if width is not None:
        points[:, 1] = 0.075
    points[:, height] = np.linspace(0.0, 0.213, 86)
    sampler = LineSampler(data.mesh, points)
    values = sampler.evaluate(linear)
    assert len(sampler.missing) == 0  # (the old test lost 21 of these 86 points in 3D)
    if MPI.COMM_WORLD.rank == 0:
        # Q1 reproduces a linear field: the values are exact to round-off (1e-12).
        exact = 1e5 * points[:, 0] + points[:, height]
        assert np.max(np.abs(values[:, 0] - exact)) < 1e-12
