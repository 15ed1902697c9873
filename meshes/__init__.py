"""gmsh mesh generators for 1D/2D/3D cells and microstructures (installed as electrolyx.meshes).

Each generator builds its gmsh model on one rank, distributes it with dolfinx and returns
``dolfinx.io.gmsh.MeshData`` with named physical groups.
"""

from .gmsh_tools import facet_bounding_boxes, physical_tag, tagged_entities
from .interval import geometric_ratio, graded_interval
from .nanochannel import slit_nanochannel, wall_graded_cells
from .nanopore import axisymmetric_nanopore, cylindrical_nanopore
from .packing import Packing, packing_mesh, random_packing
from .pouch import Tab, pouch_cell_mesh

__all__ = [
    "Packing",
    "Tab",
    "axisymmetric_nanopore",
    "cylindrical_nanopore",
    "facet_bounding_boxes",
    "geometric_ratio",
    "graded_interval",
    "packing_mesh",
    "physical_tag",
    "pouch_cell_mesh",
    "random_packing",
    "slit_nanochannel",
    "tagged_entities",
    "wall_graded_cells",
]
