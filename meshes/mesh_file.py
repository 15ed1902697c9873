"""Read an externally made (e.g. segmented) mesh: gmsh .msh directly, other formats via meshio.

:func:`read_mesh_file` returns the same :class:`dolfinx.io.gmsh.MeshData` as the generators, with
cells grouped by name, so a mesh from a segmentation tool and a generated packing are used alike.

- ``.msh``: read by gmsh; physical groups keep their names (cells and facets).
- ``.vtu``, ``.xdmf`` and any other format meshio reads: the cells of the highest dimension
  (linear triangles or tetrahedra) are grouped by an integer cell-data array (``gmsh:physical``
  when present, else the only integer array, else the one named by ``cell_data``). Groups are
  named by meshio's ``field_data`` when it names them (files written from gmsh), else
  ``"<array>_<value>"`` (e.g. ``phase_1``). A triangle mesh whose points all have z = 0 is 2D.

The file is read on one rank and the mesh distributed over the communicator.
"""

from __future__ import annotations

from pathlib import Path

from mpi4py import MPI

import gmsh
import numpy as np
from dolfinx.io import gmsh as gmshio

from .gmsh_tools import distribute_gmsh_model, gmsh_options

__all__ = ["read_mesh_file"]

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
        FileNotFoundError: if ``path`` does not exist.
        RuntimeError: on every rank, if the file cannot be read as described above.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no mesh file {path}")
    if gdim is None:
        gdim = comm.bcast(_geometric_dimension(path) if comm.rank == rank else None, root=rank)

    def build(model: type[gmsh.model]) -> None:
        if path.suffix == ".msh":
            gmsh.merge(str(path))
        else:
            _build_from_meshio(model, path, cell_data)

    return distribute_gmsh_model(comm, build, gdim=gdim, name=f"file_{path.stem}", rank=rank)


def _geometric_dimension(path: Path) -> int:
    """3 if the file has volume cells or points off the plane z = 0, else 2 (rank-local).

    A file that cannot be read gives 3: the build then reports the error on every rank.
    """
    if path.suffix == ".msh":
        started = not gmsh.isInitialized()
        if started:
            gmsh.initialize(interruptible=False)
        callers_model = None if started or not gmsh.model.list() else gmsh.model.getCurrent()
        try:
            with gmsh_options({"General.Terminal": 0}):
                gmsh.model.add("mesh_file_dimension_probe")
                gmsh.merge(str(path))
                dimension = gmsh.model.getDimension()
                _, coordinates, _ = gmsh.model.mesh.getNodes()
                gmsh.model.remove()
        except Exception:
            return 3
        finally:
            if started:
                gmsh.finalize()
            elif callers_model is not None:
                gmsh.model.setCurrent(callers_model)
        z = np.asarray(coordinates).reshape(-1, 3)[:, 2]
        return 3 if dimension == 3 or (z.size and np.any(z != 0)) else 2
    import meshio

    try:
        mesh = meshio.read(path)
    except Exception:
        return 3
    if any(c.type == "tetra" for c in mesh.cells):
        return 3
    return 3 if mesh.points.shape[1] == 3 and np.any(mesh.points[:, 2] != 0) else 2
