"""gmsh mesh generators for 1D/2D/3D cells and microstructures (installed as electrolyx.meshes).

Each generator builds its gmsh model on one rank, distributes it with dolfinx and returns
``dolfinx.io.gmsh.MeshData`` with named physical groups.
"""

from .interval import geometric_ratio, graded_interval

__all__ = ["geometric_ratio", "graded_interval"]
