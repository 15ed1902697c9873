"""Shared plumbing of the gmsh generators: a scoped gmsh model, distribution, named-group look-ups.

Generators build their gmsh model on one rank inside :func:`distribute_gmsh_model`, which starts
gmsh only if nobody else did (and then stops it), restores the global gmsh options it touched,
turns a failure on the building rank into the same exception on every rank (no deadlock in the
collective :func:`dolfinx.io.gmsh.model_to_mesh`) and distributes the mesh.

Mesh files go through :func:`merge_msh_file` only: gmsh runs a file whose content it does not
recognise as a mesh as a ``.geo`` script (whatever its extension), and ``.geo`` scripts can run
shell commands (``SystemCall``); a file that does not start with ``$MeshFormat`` never reaches
gmsh.

gmsh (a 30 MB shared library, ~12 ms to load) is imported by the functions that call it, not
with this module: a run whose mesh comes from the mesh cache (a DFN cell's, usually) never
loads it.

Callers never use bare integer tags: :func:`physical_tag` and :func:`tagged_entities` look groups
up by name, :func:`facet_bounding_boxes` gives the extent of every named boundary (for rendering,
probes and checks).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mpi4py import MPI

import numpy as np
from dolfinx.io import gmsh as gmshio
from dolfinx.mesh import entities_to_geometry

if TYPE_CHECKING:
    import gmsh

__all__ = [
    "MshFileError",
    "distribute_gmsh_model",
    "facet_bounding_boxes",
    "gmsh_options",
    "merge_msh_file",
    "on_rank",
    "physical_tag",
    "size_field_options",
    "tagged_entities",
    "wall_distance_threshold",
]

_model_counter = itertools.count()


class MshFileError(ValueError):
    """A file given as a gmsh mesh that is not one."""


def merge_msh_file(path: str | Path) -> None:
    """``gmsh.merge`` a gmsh ``.msh`` mesh file, and never anything else.

    gmsh decides what a file is by its content: anything it does not recognise as a mesh it
    parses as a ``.geo`` script, whose ``SystemCall`` runs shell commands. Only a file that
    starts with ``$MeshFormat`` (MSH 2 and 4, ASCII and binary) reaches gmsh here.

    Raises:
        MshFileError: naming the file, for one that is not an MSH mesh.
        OSError: if the file cannot be opened.
    """
    with open(path, "rb") as stream:
        head = stream.read(64)
    if not head.lstrip().startswith(b"$MeshFormat"):
        raise MshFileError(
            f"{path}: not a gmsh mesh file (an MSH file starts with $MeshFormat; scripts "
            "(.geo) and other formats are not read)"
        )
    import gmsh

    gmsh.merge(str(path))


@contextlib.contextmanager
def gmsh_options(options: Mapping[str, float]) -> Iterator[None]:
    """Set numeric gmsh options for the duration of a ``with`` block, then restore them.

    gmsh options are global to the gmsh session, which the caller may own: a generator must not
    leave its meshing choices behind.

    Args:
        options: Option name (e.g. ``"Mesh.MeshSizeFromPoints"``) to value.
    """
    import gmsh

    previous = {name: gmsh.option.getNumber(name) for name in options}
    try:
        for name, value in options.items():
            gmsh.option.setNumber(name, value)
        yield
    finally:
        for name, value in previous.items():
            gmsh.option.setNumber(name, value)


def size_field_options() -> dict[str, float]:
    """Options under which the gmsh background size field alone sets the element size."""
    return {
        "Mesh.MeshSizeExtendFromBoundary": 0,
        "Mesh.MeshSizeFromPoints": 0,
        "Mesh.MeshSizeFromCurvature": 0,
        "General.NumThreads": 1,  # deterministic meshes
    }


def wall_distance_threshold(
    model: type[gmsh.model],
    distance_expression: str,
    *,
    size_near: float,
    size_far: float,
    layer: float,
    growth_rate: float,
    solid_depth_expression: str | None = None,
) -> None:
    """Set the background mesh size from the distance to the charged walls.

    A gmsh MathEval field gives the exact distance d(x, y, z) to the walls; a Threshold field
    turns it into size_near for d <= layer, growing linearly with slope ``growth_rate`` up to
    size_far. Inside a dielectric solid (no double layer) the fine layer is cut to four wall
    cells: there the distance handed to the threshold is d + min(K depth, layer), with
    K = layer / (4 size_near), so sizes grow from 4 size_near deep on.

    Args:
        model: The current gmsh model.
        distance_expression: gmsh MathEval expression of the distance to the walls.
        size_near: Element size at the walls (model units).
        size_far: Largest element size (model units).
        layer: Distance from the walls over which size_near is kept (model units).
        growth_rate: Size increase per unit distance beyond ``layer``.
        solid_depth_expression: MathEval expression of the depth into the solid, 0 elsewhere.
    """
    if solid_depth_expression is not None:
        skip = layer / (4 * size_near)
        distance_expression = (
            f"({distance_expression}) + min({skip!r}*({solid_depth_expression}), {layer!r})"
        )
    distance = model.mesh.field.add("MathEval")
    model.mesh.field.setString(distance, "F", distance_expression)
    threshold = model.mesh.field.add("Threshold")
    model.mesh.field.setNumber(threshold, "InField", distance)
    model.mesh.field.setNumber(threshold, "SizeMin", size_near)
    model.mesh.field.setNumber(threshold, "SizeMax", size_far)
    model.mesh.field.setNumber(threshold, "DistMin", layer)
    model.mesh.field.setNumber(threshold, "DistMax", layer + (size_far - size_near) / growth_rate)
    model.mesh.field.setAsBackgroundMesh(threshold)


@contextlib.contextmanager
def _scoped_model(name: str) -> Iterator[type[gmsh.model]]:
    """A fresh, current gmsh model; gmsh is initialized (and finalized) here only if needed.

    A caller's gmsh session is left as found: its current model is current again afterwards.
    """
    import gmsh

    started_here = not gmsh.isInitialized()
    if started_here:
        gmsh.initialize(interruptible=False)
    callers_model = None if started_here or not gmsh.model.list() else gmsh.model.getCurrent()
    model_name = f"{name}_{next(_model_counter)}"
    try:
        with gmsh_options({"General.Terminal": 0}):
            gmsh.model.add(model_name)
            gmsh.model.setCurrent(model_name)
            try:
                yield gmsh.model
            finally:
                gmsh.model.setCurrent(model_name)
                gmsh.model.remove()
                if callers_model is not None:
                    gmsh.model.setCurrent(callers_model)
    finally:
        if started_here:
            gmsh.finalize()


def distribute_gmsh_model(
    comm: MPI.Comm,
    build: Callable[[type[gmsh.model]], None],
    *,
    gdim: int,
    name: str,
    rank: int = 0,
    partitioner: Callable | None = None,
) -> gmshio.MeshData:
    """Build a gmsh model on one rank and distribute its mesh over ``comm``.

    Args:
        comm: Communicator the mesh is distributed on.
        build: Called on rank ``rank`` only with the current ``gmsh.model``: creates the geometry,
            the named physical groups and the mesh (node coordinates in metres).
        gdim: Geometric dimension of the mesh.
        name: Prefix of the (temporary) gmsh model name.
        rank: Rank that builds the gmsh model.
        partitioner: Cell partitioner passed to dolfinx (default: dolfinx's, no ghost cells);
            ``dolfinx.mesh.create_cell_partitioner(GhostMode.shared_facet, 2)`` for forms with
            interior-facet integrals over internal interfaces.

    Returns:
        The distributed mesh with cell tags, facet tags and named physical groups.

    Raises:
        RuntimeError: on every rank, if building the model failed on rank ``rank``.
    """
    if comm.rank != rank:
        on_rank(comm, rank, name, None)
        return gmshio.model_to_mesh(None, comm, rank, gdim=gdim, partitioner=partitioner)
    with _scoped_model(name) as model:
        on_rank(comm, rank, name, lambda: build(model))
        return gmshio.model_to_mesh(model, comm, rank, gdim=gdim, partitioner=partitioner)


def on_rank(comm: MPI.Comm, rank: int, name: str, work: Callable[[], Any] | None) -> Any:
    """``work()`` on rank ``rank`` (None elsewhere), its failure raised on every rank (collective).

    There the exception itself; on the other ranks a RuntimeError naming it, so that none of
    them waits for ever in the collective step that follows (the mesh's distribution).
    """
    result, failure = None, None
    if comm.rank == rank:
        try:
            result = work()
        except Exception as error:  # reported on every rank below, then re-raised here
            comm.bcast(f"{type(error).__name__}: {error}", root=rank)
            raise
    failure = comm.bcast(failure, root=rank)
    if failure is not None:
        raise RuntimeError(f"gmsh model {name!r} failed on rank {rank}: {failure}")
    return result


def physical_tag(mesh_data: gmshio.MeshData, name: str) -> int:
    """Integer tag of the physical group ``name`` (the only way callers should obtain one).

    Raises:
        KeyError: naming the groups that exist, if ``name`` is not one of them.
    """
    try:
        return int(mesh_data.physical_groups[name].tag)
    except KeyError:
        known = ", ".join(sorted(mesh_data.physical_groups))
        raise KeyError(f"no physical group {name!r}; the mesh has: {known}") from None


def tagged_entities(mesh_data: gmshio.MeshData, name: str) -> tuple[int, np.ndarray]:
    """Topological dimension and local indices (owned and ghost) of the entities of group ``name``.

    Args:
        mesh_data: Mesh with its tags, as returned by the generators.
        name: Physical-group name of cells or facets.

    Returns:
        ``(dim, indices)`` with ``indices`` local to this rank.
    """
    tdim = mesh_data.mesh.topology.dim
    dim = int(mesh_data.physical_groups[name].dim) if name in mesh_data.physical_groups else -1
    tags = {tdim: mesh_data.cell_tags, tdim - 1: mesh_data.facet_tags}.get(dim)
    if tags is None:
        raise KeyError(
            f"{name!r} is not a cell or facet group; cell/facet groups: "
            + ", ".join(
                sorted(g for g, pg in mesh_data.physical_groups.items() if pg.dim >= tdim - 1)
            )
        )
    return dim, tags.find(physical_tag(mesh_data, name))


def facet_bounding_boxes(
    mesh_data: gmshio.MeshData,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Axis-aligned bounding box of every named facet group, over all ranks (collective).

    Args:
        mesh_data: Mesh with its facet tags, as returned by the generators.

    Returns:
        Group name to ``(lower_corner, upper_corner)``, each of length 3, in metres (the unused
        coordinates of a 2D mesh are 0).
    """
    mesh = mesh_data.mesh
    fdim = mesh.topology.dim - 1
    comm = mesh.comm
    boxes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in sorted(mesh_data.physical_groups):
        if mesh_data.physical_groups[name].dim != fdim:
            continue
        _, facets = tagged_entities(mesh_data, name)
        lower = np.full(3, np.inf)
        upper = np.full(3, -np.inf)
        if facets.size:
            nodes = mesh.geometry.x[entities_to_geometry(mesh, fdim, facets).ravel()]
            lower, upper = nodes.min(axis=0), nodes.max(axis=0)
        global_lower = np.empty(3)
        global_upper = np.empty(3)
        comm.Allreduce(np.ascontiguousarray(lower, dtype=np.float64), global_lower, op=MPI.MIN)
        comm.Allreduce(np.ascontiguousarray(upper, dtype=np.float64), global_upper, op=MPI.MAX)
        boxes[name] = (global_lower, global_upper)
    return boxes
