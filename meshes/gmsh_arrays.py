"""A gmsh mesh as plain arrays: generated once by gmsh, kept in a file, distributed without gmsh.

:func:`dolfinx.io.gmsh.model_to_mesh` reads a few arrays from a gmsh model (node coordinates,
the tagged cells and facets with their physical tags, the group names) and builds the
distributed mesh from them. :func:`model_arrays` reads the same arrays (with dolfinx's own
``extract_geometry`` and ``extract_topology_and_markers``) into a :class:`GmshMesh`, which
:meth:`GmshMesh.save` and :meth:`GmshMesh.load` keep in a NumPy ``.npz`` file, and
:func:`distribute_arrays` makes the distributed mesh from them by the calls ``model_to_mesh``
makes (``create_mesh``, ``distribute_entity_data``, ``meshtags_from_entities``) with the same
inputs: the mesh, its numbering and its tags are those ``model_to_mesh`` gives for the model, so
a mesh read back from a file solves to the same numbers bit for bit.

For meshes of one cell type whose cells and facets are tagged (a DFN cell's layered interval
and pouch stack: :func:`electrolyx.meshes.layered_interval.layered_interval`,
:func:`electrolyx.meshes.pouch.pouch_cell_mesh`). Loading gmsh costs ~12 ms and
starting it and meshing a 1D interval ~10 ms more (the default DFN case's whole run is ~0.8 s);
a mesh from a file needs neither.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mpi4py import MPI

import numpy as np
from dolfinx import cpp as _cpp
from dolfinx import default_real_type
from dolfinx.graph import adjacencylist
from dolfinx.io import gmsh as gmshio
from dolfinx.io.utils import distribute_entity_data
from dolfinx.mesh import create_mesh, meshtags_from_entities

from .gmsh_tools import _scoped_model

if TYPE_CHECKING:
    import gmsh

__all__ = ["GmshMesh", "distribute_arrays", "model_arrays"]

#: Changes when the arrays kept in a file change.
FORMAT = 1


@dataclass(frozen=True)
class GmshMesh:
    """The arrays of a gmsh mesh that ``model_to_mesh`` reads (node and element numbers from 0).

    Attributes:
        nodes: Node coordinates, shape (nodes, 3), in gmsh's node order [m].
        cell_type: gmsh element type of the cells (1: line, 2: triangle, 4: tetrahedron, ...).
        cells: Node numbers of each tagged cell, shape (cells, nodes per cell), gmsh's order.
        cell_tags: Physical tag of each cell.
        facet_type: gmsh element type of the tagged facets (15: point), None if none are.
        facets: Node numbers of each tagged facet, shape (facets, nodes per facet).
        facet_tags: Physical tag of each facet.
        physical_groups: Group name to (dimension, tag).
    """

    nodes: np.ndarray
    cell_type: int
    cells: np.ndarray
    cell_tags: np.ndarray
    facet_type: int | None
    facets: np.ndarray
    facet_tags: np.ndarray
    physical_groups: dict[str, tuple[int, int]]

    def save(self, path: str | Path) -> None:
        """Write the arrays to ``path`` (a NumPy ``.npz`` file; no pickled objects)."""
        header = {
            "format": FORMAT,
            "cell_type": self.cell_type,
            "facet_type": self.facet_type,
            "physical_groups": {name: list(group) for name, group in self.physical_groups.items()},
        }
        with open(path, "wb") as stream:
            np.savez(
                stream,
                header=np.array(json.dumps(header)),
                nodes=self.nodes,
                cells=self.cells,
                cell_tags=self.cell_tags,
                facets=self.facets,
                facet_tags=self.facet_tags,
            )

    @classmethod
    def load(cls, path: str | Path) -> GmshMesh:
        """The arrays :meth:`save` wrote to ``path``.

        Raises:
            ValueError: for a file of another format (or not of this kind).
        """
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header.get("format") != FORMAT:
                raise ValueError(f"{path}: not a mesh of format {FORMAT}")
            return cls(
                nodes=data["nodes"],
                cell_type=int(header["cell_type"]),
                cells=data["cells"],
                cell_tags=data["cell_tags"],
                facet_type=header["facet_type"],
                facets=data["facets"],
                facet_tags=data["facet_tags"],
                physical_groups={
                    name: (int(dim), int(tag))
                    for name, (dim, tag) in header["physical_groups"].items()
                },
            )


def model_arrays(build: Callable[[type[gmsh.model]], None], name: str) -> GmshMesh:
    """Build a gmsh model in this process (:func:`gmsh_tools._scoped_model`) and read its arrays.

    Args:
        build: Called with the current ``gmsh.model``: creates the geometry, the named physical
            groups and the mesh.
        name: Prefix of the (temporary) gmsh model name.

    Groups of entities below the facets' dimension are not kept (``model_to_mesh``'s ridge and
    peak tags).

    Raises:
        ValueError: if the mesh has more than one element type in a dimension, or untagged
            cells.
    """
    with _scoped_model(name) as model:
        build(model)
        nodes = gmshio.extract_geometry(model)
        topologies, groups = gmshio.extract_topology_and_markers(model)
        by_dimension: dict[int, tuple[int, dict]] = {}
        for element_type, topology in topologies.items():
            dimension = model.mesh.getElementProperties(element_type)[1]
            if dimension in by_dimension:
                raise ValueError(f"gmsh model {name!r}: two element types of dimension {dimension}")
            by_dimension[dimension] = (int(element_type), topology)
        tdim = max(by_dimension)
        elements = sum(len(tags) for tags in model.mesh.getElements(dim=tdim)[1])
        if elements != len(by_dimension[tdim][1]["cell_data"]):
            raise ValueError(f"gmsh model {name!r}: every cell must be in one physical group")
    cell_type, cells = by_dimension[tdim]
    facet_type, facets = by_dimension.get(tdim - 1, (None, None))
    return GmshMesh(
        nodes=nodes,
        cell_type=cell_type,
        cells=np.asarray(cells["topology"], dtype=np.int64),
        cell_tags=np.asarray(cells["cell_data"], dtype=np.int32),
        facet_type=facet_type,
        facets=np.asarray(facets["topology"] if facets else np.zeros((0, 1)), dtype=np.int64),
        facet_tags=np.asarray(facets["cell_data"] if facets else [], dtype=np.int32),
        physical_groups={group: (int(g.dim), int(g.tag)) for group, g in groups.items()},
    )


def distribute_arrays(
    comm: MPI.Comm,
    arrays: GmshMesh | None,
    *,
    gdim: int,
    rank: int = 0,
    partitioner: Callable | None = None,
) -> gmshio.MeshData:
    """The distributed mesh of ``arrays`` (given on rank ``rank``, None elsewhere; collective).

    What ``dolfinx.io.gmsh.model_to_mesh(model, comm, rank, gdim, partitioner)`` returns for the
    model the arrays were read from: the same mesh, numbering and tags.
    """
    header = None
    if comm.rank == rank:
        assert arrays is not None
        header = (arrays.cell_type, arrays.facet_type, arrays.facets.shape[1])
        header = (*header, arrays.physical_groups)
    cell_type, facet_type, facet_nodes, groups = comm.bcast(header, root=rank)
    domain = gmshio.ufl_mesh(cell_type, gdim, dtype=default_real_type)
    cell_nodes = domain.ufl_coordinate_element().basix_element.dim
    if comm.rank == rank:
        order = gmshio.cell_perm_array(_cpp.mesh.to_type(str(domain.ufl_cell())), cell_nodes)
        cells = arrays.cells[:, order].copy()
        nodes = arrays.nodes
        tagged = [(arrays.cells, arrays.cell_tags), (arrays.facets, arrays.facet_tags)]
    else:
        cells = np.empty((0, cell_nodes), dtype=np.int64)
        nodes = np.empty((0, gdim), dtype=default_real_type)
        tagged = [
            (np.empty((0, cell_nodes), dtype=np.int32), np.empty(0, dtype=np.int32)),
            (np.empty((0, facet_nodes), dtype=np.int32), np.empty(0, dtype=np.int32)),
        ]
    mesh = create_mesh(
        comm,
        cells,
        domain,
        nodes[:, :gdim].astype(default_real_type, copy=False),
        partitioner,
        max_facet_to_cell_links=2,
    )
    tdim = mesh.topology.dim
    tags = {}
    kinds = [("cell_tags", True), ("facet_tags", facet_type is not None)]
    for codim, ((key, present), (entities, values)) in enumerate(zip(kinds, tagged, strict=True)):
        if not present:
            tags[key] = None
            continue
        local_entities, local_values = distribute_entity_data(mesh, tdim - codim, entities, values)
        mesh.topology.create_connectivity(tdim - codim, tdim)
        meshtags = meshtags_from_entities(
            mesh,
            tdim - codim,
            adjacencylist(local_entities),
            local_values.astype(np.int32, copy=False),
        )
        meshtags.name = key
        tags[key] = meshtags
    physical_groups = {name: gmshio.PhysicalGroup(dim, tag) for name, (dim, tag) in groups.items()}
    return gmshio.MeshData(mesh, tags["cell_tags"], tags["facet_tags"], None, None, physical_groups)
