"""A cache of generated meshes: mesh once, then read the mesh distributed on any number of ranks.

gmsh builds a generated mesh on one rank, which then holds gmsh's whole model (for the 1.1 M
unknown 3D nanopore: 418 s of meshing and 3 GB resident on rank 0 before any PNP object;
bench/README.md). A cached mesh is read from XDMF/HDF5 by every rank, each its own share, and
partitioned in parallel: no rank holds the whole mesh and gmsh is not started.

An entry is a folder ``<key>/`` holding ``mesh.xdmf`` and ``mesh.h5`` (the mesh, its cell and
facet tags) and ``groups.json`` (the named physical groups) (:func:`cached_mesh`), or for a mesh
that one rank distributes, a file ``<key>.npz`` of gmsh's own arrays (:func:`cached_arrays`,
:class:`electrolyx.meshes.gmsh_arrays.GmshMesh`: the DFN's 1D interval and pouch stacks, whose
mesh and numbering are then exactly those gmsh's model gives; XDMF would also store a 1D mesh
with 2D coordinates). The key is a SHA-256 of
everything the mesh depends on: the generator's settings and the lengths derived from the
physics (e.g. the Debye length), the source of electrolyx's mesh generators and the gmsh and
DOLFINx versions; changing any of them makes a new entry. An entry is written into a
temporary folder and renamed when complete, so a run that dies while writing leaves no entry
that a later run would read, and two runs that write the same entry at once keep one.

The cache lives in ``$ELECTROLYX_MESH_CACHE`` when set, else ``$XDG_CACHE_HOME/electrolyx/meshes``
(by default ``~/.cache/electrolyx/meshes``). Deleting it, or any entry, is always safe.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from mpi4py import MPI

import dolfinx
from dolfinx.io import XDMFFile
from dolfinx.io import gmsh as gmshio

from . import cache_directory
from .heap import release_free_heap
from .meshes.gmsh_arrays import GmshMesh

__all__ = ["cached_arrays", "cached_mesh", "mesh_cache_directory", "mesh_cache_key"]

#: Changes when the layout of an entry changes.
FORMAT = 1


def mesh_cache_directory() -> Path:
    """``$ELECTROLYX_MESH_CACHE``, else ``$XDG_CACHE_HOME/electrolyx/meshes``."""
    return Path(cache_directory("meshes", "ELECTROLYX_MESH_CACHE"))


def _generator_source_digest() -> str:
    """SHA-256 of the source of electrolyx's mesh generators (``electrolyx.meshes``)."""
    digest = hashlib.sha256()
    package = resources.files("electrolyx.meshes")
    for entry in sorted(package.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".py"):
            digest.update(entry.name.encode())
            digest.update(entry.read_bytes())
    return digest.hexdigest()


def mesh_cache_key(description: dict[str, Any]) -> str:
    """Key of the mesh that ``description`` (JSON-serialisable settings) generates."""
    record = {
        "format": FORMAT,
        "description": description,
        "generators": _generator_source_digest(),
        # gmsh's installed version, read without loading gmsh (a read from the cache never
        # starts gmsh; 0.5 ms once dolfinx_solver has listed the distributions)
        "gmsh": importlib.metadata.version("gmsh"),
        "dolfinx": dolfinx.__version__,
    }
    text = json.dumps(record, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cached_mesh(
    comm: MPI.Comm,
    description: dict[str, Any],
    generate: Callable[[], gmshio.MeshData],
    directory: Path | None = None,
    ghost_mode: dolfinx.mesh.GhostMode = dolfinx.mesh.GhostMode.none,
) -> tuple[gmshio.MeshData, str]:
    """The mesh of ``description``: read from the cache, or generated and then cached.

    Args:
        comm: Communicator the mesh is distributed on (collective).
        description: Everything the generated mesh depends on, JSON-serialisable.
        generate: Makes the mesh when the cache has none (collective on ``comm``).
        directory: The cache (default :func:`mesh_cache_directory`).
        ghost_mode: Ghost cells of a mesh read from the cache (as ``generate`` makes them).

    Returns:
        The distributed mesh with its cell and facet tags and named physical groups, and
        where it came from: ``"read from the cache <folder>"`` or
        ``"generated, cached in <folder>"``
        (``"generated (not cached: <why>)"`` when the cache cannot be written).
    """
    directory = mesh_cache_directory() if directory is None else Path(directory)
    entry = directory / (mesh_cache_key(description) if comm.rank == 0 else "")
    entry = Path(comm.bcast(str(entry), root=0))
    complete = comm.bcast((entry / "groups.json").is_file() if comm.rank == 0 else None, root=0)
    if complete:
        mesh_data = _read(comm, entry, ghost_mode)
        # (the reader's and the partitioner's freed buffers: 73 of 130 MiB at 318 k cells,
        # resident until given back, under every later peak)
        release_free_heap()
        return mesh_data, f"read from the cache {entry}"
    mesh_data = generate()
    try:
        _write(comm, mesh_data, entry)
    except OSError as error:
        return mesh_data, f"generated (not cached: {error})"
    return mesh_data, f"generated, cached in {entry}"


def cached_arrays(
    description: dict[str, Any],
    generate: Callable[[], GmshMesh],
    directory: Path | None = None,
) -> tuple[GmshMesh, str]:
    """The gmsh arrays of ``description``: read from the cache, or generated and then cached.

    Not collective: one rank calls it (the rank that distributes the mesh,
    :func:`electrolyx.meshes.gmsh_arrays.distribute_arrays`). The entry is written to a
    temporary file and renamed; an entry that cannot be read (another format) is replaced.

    Returns:
        The arrays and where they came from, worded as :func:`cached_mesh`'s.
    """
    directory = mesh_cache_directory() if directory is None else Path(directory)
    entry = directory / f"{mesh_cache_key(description)}.npz"
    try:
        return GmshMesh.load(entry), f"read from the cache {entry}"
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        pass  # none yet, or unreadable: made below
    arrays = generate()
    temporary = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{entry.stem}.", suffix=".npz", dir=directory)
        os.close(handle)
        os.chmod(temporary, 0o644)  # (mkstemp's 0600: readable as the other entries)
        arrays.save(temporary)
        os.replace(temporary, entry)
    except OSError as error:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        return arrays, f"generated (not cached: {error})"
    return arrays, f"generated, cached in {entry}"


def _read(comm: MPI.Comm, entry: Path, ghost_mode: dolfinx.mesh.GhostMode) -> gmshio.MeshData:
    """An entry, read and partitioned by every rank of ``comm``."""
    groups = json.loads((entry / "groups.json").read_text()) if comm.rank == 0 else None
    groups = comm.bcast(groups, root=0)
    with XDMFFile(comm, entry / "mesh.xdmf", "r") as xdmf:
        mesh = xdmf.read_mesh(ghost_mode=ghost_mode, name="mesh")
        tdim = mesh.topology.dim
        mesh.topology.create_connectivity(tdim - 1, tdim)
        cell_tags = xdmf.read_meshtags(mesh, name="cell_tags") if groups["cells"] else None
        facet_tags = xdmf.read_meshtags(mesh, name="facet_tags") if groups["facets"] else None
    physical = {name: gmshio.PhysicalGroup(dim, tag) for name, (dim, tag) in groups["groups"]}
    return gmshio.MeshData(mesh, cell_tags, facet_tags, None, None, physical)


def _write(comm: MPI.Comm, mesh_data: gmshio.MeshData, entry: Path) -> None:
    """Write an entry: into a temporary folder, renamed to ``entry`` when complete."""
    problem = None
    temporary = None
    if comm.rank == 0:
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            temporary = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
            temporary.chmod(0o755)  # (mkdtemp's 0700: the renamed entry is readable as usual)
        except OSError as error:
            problem = error
    problem, temporary = comm.bcast((problem, temporary), root=0)
    if problem is not None:
        raise problem
    mesh = mesh_data.mesh
    tdim = mesh.topology.dim
    mesh.topology.create_connectivity(tdim - 1, tdim)
    try:
        with XDMFFile(comm, temporary / "mesh.xdmf", "w") as xdmf:
            xdmf.write_mesh(mesh)
            named = {"cell_tags": mesh_data.cell_tags, "facet_tags": mesh_data.facet_tags}
            for name, tags in named.items():
                if tags is not None:
                    own_name, tags.name = tags.name, name
                    xdmf.write_meshtags(tags, mesh.geometry)
                    tags.name = own_name
    except RuntimeError as error:  # HDF5's (e.g. a full disk), raised on every rank
        if comm.rank == 0:
            shutil.rmtree(temporary, ignore_errors=True)
        raise OSError(f"writing {temporary}: {error}") from None
    groups = {
        "cells": mesh_data.cell_tags is not None,
        "facets": mesh_data.facet_tags is not None,
        "groups": [[name, [g.dim, g.tag]] for name, g in mesh_data.physical_groups.items()],
    }
    comm.barrier()
    if comm.rank == 0:
        try:
            (temporary / "groups.json").write_text(json.dumps(groups, indent=1))
            try:
                temporary.rename(entry)
            except OSError:
                if not (entry / "groups.json").is_file():
                    raise
                shutil.rmtree(temporary)  # another run wrote the same entry first
        except OSError as error:
            shutil.rmtree(temporary, ignore_errors=True)
            problem = error
    problem = comm.bcast(problem, root=0)
    if problem is not None:
        raise problem
