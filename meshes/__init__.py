"""gmsh mesh generators for 1D/2D/3D cells and microstructures (installed as electrolyx.meshes).

Each generator builds its gmsh model on one rank, distributes it with dolfinx and returns
``dolfinx.io.gmsh.MeshData`` with named physical groups.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

#: Each public name, by the module that defines it. Loaded on first use (PEP 562): most of these
#: modules import gmsh, which a run that reads its meshes from the cache never needs.
_EXPORTS = {
    "facet_bounding_boxes": "gmsh_tools",
    "physical_tag": "gmsh_tools",
    "tagged_entities": "gmsh_tools",
    "geometric_ratio": "interval",
    "graded_interval": "interval",
    "slit_nanochannel": "nanochannel",
    "wall_graded_cells": "nanochannel",
    "axisymmetric_nanopore": "nanopore",
    "cylindrical_nanopore": "nanopore",
    "Packing": "packing",
    "packing_mesh": "packing",
    "random_packing": "packing",
    "Tab": "pouch",
    "pouch_cell_mesh": "pouch",
}

if TYPE_CHECKING:
    from .gmsh_tools import facet_bounding_boxes, physical_tag, tagged_entities
    from .interval import geometric_ratio, graded_interval
    from .nanochannel import slit_nanochannel, wall_graded_cells
    from .nanopore import axisymmetric_nanopore, cylindrical_nanopore
    from .packing import Packing, packing_mesh, random_packing
    from .pouch import Tab, pouch_cell_mesh


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


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
