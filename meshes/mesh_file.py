"""Read an externally made (e.g. segmented) mesh: gmsh .msh directly, other formats via meshio.

:func:`read_mesh_file` returns the same :class:`dolfinx.io.gmsh.MeshData` as the generators, with
cells grouped by name, so a mesh from a segmentation tool and a generated packing are used alike.

- ``.msh``: read by gmsh; physical groups keep their names (cells and facets).
- ``.vtu``, ``.xdmf`` and any other format meshio reads: the cells of the highest dimension
  (linear triangles or tetrahedra) are grouped by an integer cell-data array (``gmsh:physical``
  when present, else the only integer array, else the one named by ``cell_data``). Groups are
  named by meshio's ``field_data`` when it names them (files written from gmsh), else
  ``"<array>_<value>"`` (e.g. ``phase_1``). A triangle mesh whose points all have z = 0 is 2D.

The file is read on one rank and the mesh distributed over the communicator. It is first read
into a scratch model on that rank (:func:`mesh_file_problem`): a file that is not a mesh with
cells (not a mesh format, unreadable, no triangles or tetrahedra, no cell groups) is a
:class:`MeshFileError` on every rank, before any collective step. ``.msh`` files reach gmsh only
if they start with ``$MeshFormat`` (gmsh would run anything else as a ``.geo`` script).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mpi4py import MPI

import numpy as np
from dolfinx.io import gmsh as gmshio

from .gmsh_tools import MshFileError, distribute_gmsh_model, gmsh_options, merge_msh_file

if TYPE_CHECKING:
    import gmsh

__all__ = ["MeshFileError", "mesh_file_problem", "read_mesh_file"]


class MeshFileError(ValueError):
    """A mesh file that cannot be read as a mesh with grouped cells (raised on every rank)."""


#: meshio cell type -> (gmsh element type, topological dimension)
_SIMPLICES = {"triangle": (2, 2), "tetra": (4, 3)}


def _group_array(mesh, cell_type: str, cell_data: str | None) -> tuple[str, np.ndarray]:
    """Name and values of the integer cell-data array that groups the cells of ``cell_type``."""
    arrays = {}
    for name, blocks in mesh.cell_data.items():
        values = [b for b, c in zip(blocks, mesh.cells, strict=True) if c.type == cell_type]
        if values and np.issubdtype(np.asarray(values[0]).dtype, np.integer):
            arrays[name] = np.concatenate([np.asarray(v).ravel() for v in values])
    if cell_data is not None:
        if cell_data not in arrays:
            raise ValueError(
                f"no integer cell-data array {cell_data!r}; the file has: {sorted(arrays)}"
            )
        return cell_data, arrays[cell_data]
    if "gmsh:physical" in arrays:
        return "gmsh:physical", arrays["gmsh:physical"]
    if len(arrays) == 1:
        return next(iter(arrays.items()))
    raise ValueError(
        "cannot tell which cell-data array names the phases; integer arrays in the file: "
        f"{sorted(arrays) or 'none'} (name one with cell_data=...)"
    )


def _build_from_meshio(model: type[gmsh.model], path: Path, cell_data: str | None) -> None:
    import meshio

    mesh = meshio.read(path)
    present = [c.type for c in mesh.cells if c.type in _SIMPLICES]
    if not present:
        raise ValueError(
            f"{path.name}: no triangle or tetra cells (found {[c.type for c in mesh.cells]})"
        )
    cell_type = max(present, key=lambda t: _SIMPLICES[t][1])
    element_type, tdim = _SIMPLICES[cell_type]
    cells = np.concatenate([c.data for c in mesh.cells if c.type == cell_type])
    array_name, values = _group_array(mesh, cell_type, cell_data)
    names = {
        int(tag_dim[0]): name
        for name, tag_dim in mesh.field_data.items()
        if len(tag_dim) >= 2 and int(tag_dim[1]) == tdim
    }

    used, local_cells = np.unique(cells, return_inverse=True)
    points = np.zeros((used.size, 3))
    points[:, : mesh.points.shape[1]] = mesh.points[used]
    local_cells = local_cells.reshape(cells.shape)

    node_tags = np.arange(1, used.size + 1)
    element_offset = 1
    for group, value in enumerate(np.unique(values), start=1):
        entity = model.addDiscreteEntity(tdim)
        if group == 1:
            model.mesh.addNodes(tdim, entity, node_tags, points.ravel())
        selected = local_cells[values == value]
        element_tags = np.arange(element_offset, element_offset + len(selected))
        element_offset += len(selected)
        model.mesh.addElementsByType(entity, element_type, element_tags, (selected + 1).ravel())
        name = names.get(int(value), f"{array_name.replace('gmsh:', '')}_{int(value)}")
        model.addPhysicalGroup(tdim, [entity], tag=group, name=name)


def read_mesh_file(
    comm: MPI.Comm,
    path: str | Path,
    *,
    gdim: int | None = None,
    cell_data: str | None = None,
    rank: int = 0,
) -> gmshio.MeshData:
    """Read a mesh file with named cell groups and distribute it.

    Args:
        comm: Communicator the mesh is distributed on.
        path: A .msh file, or a file meshio reads (.vtu, .xdmf, ...). Coordinates in m.
        gdim: Geometric dimension; default 3 for tetrahedra, for triangles 2 if every z is 0.
        cell_data: Integer cell-data array that groups cells (meshio formats only).
        rank: Rank that reads the file.

    Returns:
        The distributed mesh with cell tags (facet tags too for .msh files that have them) and
        named physical groups.

    Raises:
        MeshFileError: on every rank, if ``path`` is missing or cannot be read as described
            above.
    """
    path = Path(path)
    problem, dimension = comm.bcast(
        mesh_file_problem(path, cell_data) if comm.rank == rank else None, root=rank
    )
    if problem is not None:
        raise MeshFileError(problem)
    gdim = dimension if gdim is None else gdim

    def build(model: type[gmsh.model]) -> None:
        if path.suffix == ".msh":
            merge_msh_file(path)
        else:
            _build_from_meshio(model, path, cell_data)

    return distribute_gmsh_model(comm, build, gdim=gdim, name=f"file_{path.stem}", rank=rank)


def mesh_file_problem(path: Path, cell_data: str | None = None) -> tuple[str | None, int]:
    """(What is wrong with a mesh file or None, its geometric dimension); rank-local.

    The file is read into a scratch model (gmsh for .msh, meshio otherwise): it must hold
    triangles or tetrahedra (lines for a 1D .msh) in named or numbered groups. The dimension is
    3 for volume cells or points off the plane z = 0, else 2.
    """
    if not path.is_file():
        return f"no mesh file {path}", 3
    if path.suffix == ".msh":
        return _msh_problem(path)
    import meshio

    try:
        mesh = meshio.read(path)
        present = [c.type for c in mesh.cells if c.type in _SIMPLICES]
        if not present:
            return f"{path.name}: no triangle or tetra cells", 3
        cell_type = max(present, key=lambda t: _SIMPLICES[t][1])
        _group_array(mesh, cell_type, cell_data)
    except Exception as error:  # any reader failure means: not a mesh file we can use
        return f"{path}: cannot be read as a mesh ({type(error).__name__}: {error})", 3
    if any(c.type == "tetra" for c in mesh.cells):
        return None, 3
    flat = mesh.points.shape[1] < 3 or not np.any(mesh.points[:, 2] != 0)
    return None, 2 if flat else 3


def _msh_problem(path: Path) -> tuple[str | None, int]:
    """:func:`mesh_file_problem` of a gmsh .msh file."""
    import gmsh  # (loaded when used: gmsh_tools)

    started = not gmsh.isInitialized()
    if started:
        gmsh.initialize(interruptible=False)
    callers_model = None if started or not gmsh.model.list() else gmsh.model.getCurrent()
    try:
        with gmsh_options({"General.Terminal": 0}):
            gmsh.model.add("mesh_file_probe")
            try:
                merge_msh_file(path)
                dimension = gmsh.model.getDimension()
                _, coordinates, _ = gmsh.model.mesh.getNodes()
                groups = gmsh.model.getPhysicalGroups(dimension)
                elements = gmsh.model.mesh.getElements(dimension)[1]
            finally:
                gmsh.model.remove()
    except MshFileError as error:
        return str(error), 3
    except Exception as error:  # gmsh reports a bad file as a plain Exception
        return f"{path}: cannot be read as a gmsh mesh ({error})", 3
    finally:
        if started:
            gmsh.finalize()
        elif callers_model is not None:
            gmsh.model.setCurrent(callers_model)
    if dimension < 1 or sum(len(e) for e in elements) == 0:
        return f"{path}: holds no cells (mesh dimension {dimension})", 3
    if not groups:
        return f"{path}: has no physical groups naming its {dimension}D cells", 3
    z = np.asarray(coordinates).reshape(-1, 3)[:, 2]
    return None, 3 if dimension == 3 or (z.size and np.any(z != 0)) else max(dimension, 2)
