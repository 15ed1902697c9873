"""Geometry layer of homogenisation: a meshed two-phase box, its phases and its bounding box.

The microstructure is a random packing of spheres (3D) or disks (2D) made by
:mod:`electrolyx.meshes.packing` (:func:`packing_from_settings`) or a mesh file read by
:mod:`electrolyx.meshes.mesh_file`, whose cells are tagged as pore (electrolyte) or solid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mpi4py import MPI

import dolfinx
import numpy as np

from ...mesh_cache import cached_mesh
from ...meshes.packing import Packing, packing_mesh, random_packing

__all__ = [
    "AXES",
    "Microstructure",
    "bounding_box",
    "cells_with_tags",
    "microstructure_from_mesh_data",
    "packed_mesh",
    "packing_from_settings",
]

#: Direction names and their coordinate index.
AXES = {"x": 0, "y": 1, "z": 2}


def packing_from_settings(settings: dict[str, Any]) -> Packing:
    """The random packing a ``[microstructure] generator = "random_packing"`` table describes."""
    m = settings
    bounds = None
    if m["radius_min"] is not None or m["radius_max"] is not None:
        bounds = (
            m["radius_min"] if m["radius_min"] is not None else m["mean_radius"] / 2,
            m["radius_max"] if m["radius_max"] is not None else 2 * m["mean_radius"],
        )
    return random_packing(
        tuple(m["box"]),
        solid_fraction=m["solid_fraction"],
        mean_radius=m["mean_radius"],
        radius_std=m["radius_std"],
        radius_bounds=bounds,
        min_gap=m["min_gap"],
        max_overlap=m["max_overlap"],
        seed=m["seed"],
    )


def packed_mesh(
    comm: MPI.Comm, settings: dict[str, Any], **mesh_options: Any
) -> tuple[Packing, dolfinx.io.gmsh.MeshData]:
    """The packing of ``settings`` (placed on rank 0, the placement is serial) and its mesh.

    Args:
        comm: Communicator of the mesh.
        settings: A ``[microstructure]`` table of a random packing.
        mesh_options: Further arguments of :func:`electrolyx.meshes.packing.packing_mesh`.
    """
    packing = packing_from_settings(settings) if comm.rank == 0 else None
    packing = comm.bcast(packing, root=0)

    def generate() -> dolfinx.io.gmsh.MeshData:
        return packing_mesh(
            comm,
            packing,
            element_size=settings["element_size"],
            segments_per_circle=settings["segments_per_circle"],
            **mesh_options,
        )

    if not settings.get("cache"):
        return packing, generate()
    # The packing follows from the settings (its seed); the ghost mode is applied on reading.
    description = {
        "packing": {key: value for key, value in settings.items() if key != "cache"},
        "mesh_options": {
            key: value for key, value in mesh_options.items() if key not in ("log", "ghost_mode")
        },
    }
    ghost_mode = dolfinx.mesh.GhostMode[mesh_options.get("ghost_mode", "none")]
    mesh_data, origin = cached_mesh(comm, description, generate, ghost_mode=ghost_mode)
    mesh_options.get("log", lambda _: None)(f"mesh {origin}")
    return packing, mesh_data


@dataclass(frozen=True)
class Microstructure:
    """A meshed two-phase box.

    Attributes:
        mesh: The whole mesh (coordinates in m).
        cell_tags: Cell tags of ``mesh``.
        pore_tags: Cell-tag values of the pore (electrolyte) phase.
        solid_tags: Cell-tag values of the solid phase; other tag values (e.g. a separator slab)
            are outside the homogenised box.
    """

    mesh: dolfinx.mesh.Mesh
    cell_tags: dolfinx.mesh.MeshTags
    pore_tags: tuple[int, ...]
    solid_tags: tuple[int, ...]


def microstructure_from_mesh_data(
    mesh_data: dolfinx.io.gmsh.MeshData,
    pore_groups: Sequence[str] = ("electrolyte",),
    solid_groups: Sequence[str] = ("particles",),
) -> Microstructure:
    """The microstructure of a mesh whose cell groups are named (e.g. ``packing_mesh``).

    Args:
        mesh_data: Mesh with cell tags and named physical groups.
        pore_groups: Names of the cell groups forming the pore phase.
        solid_groups: Names of the cell groups forming the solid phase (may be absent from the
            mesh: a box without particles).

    Raises:
        KeyError: if a pore group is not a cell group of the mesh.
    """
    tdim = mesh_data.mesh.topology.dim
    cell_groups = {n: g.tag for n, g in mesh_data.physical_groups.items() if g.dim == tdim}
    missing = [name for name in pore_groups if name not in cell_groups]
    if missing:
        raise KeyError(
            f"no cell group {missing[0]!r} in the mesh; its cell groups: "
            + ", ".join(repr(n) for n in sorted(cell_groups))
        )
    return Microstructure(
        mesh=mesh_data.mesh,
        cell_tags=mesh_data.cell_tags,
        pore_tags=tuple(int(cell_groups[n]) for n in pore_groups),
        solid_tags=tuple(int(cell_groups[n]) for n in solid_groups if n in cell_groups),
    )


def cells_with_tags(micro: Microstructure, tags: Sequence[int]) -> np.ndarray:
    """Local (owned and ghost) cells carrying one of ``tags``."""
    found = [micro.cell_tags.find(tag) for tag in tags]
    return np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int32)


def bounding_box(mesh: dolfinx.mesh.Mesh, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Global bounding box of ``cells`` (the first ``gdim`` coordinates)."""
    gdim = mesh.geometry.dim
    lower, upper = np.full(gdim, np.inf), np.full(gdim, -np.inf)
    if cells.size:
        nodes = mesh.geometry.x[mesh.geometry.dofmaps[0][cells].ravel(), :gdim]
        lower, upper = nodes.min(axis=0), nodes.max(axis=0)
    global_lower, global_upper = np.empty(gdim), np.empty(gdim)
    mesh.comm.Allreduce(lower, global_lower, op=MPI.MIN)
    mesh.comm.Allreduce(upper, global_upper, op=MPI.MAX)
    return global_lower, global_upper
