"""Meshes of the ``[mesh]`` table of a PNP case: gmsh generators, or a mesh file.

The table itself (generators, their keys and ranges) is :mod:`electrolyx.settings.mesh`.

Every generator takes SI lengths; those that refine toward charged walls default their wall
element size to a quarter of the Debye length that the model passes in. :func:`build_mesh`
returns ``dolfinx.io.gmsh.MeshData`` with named physical groups for all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mpi4py import MPI

import dolfinx

from .meshes import graded_interval
from .meshes.mesh_file import read_mesh_file

__all__ = ["build_mesh", "mesh_boundary_names"]


def mesh_boundary_names(mesh: dict[str, Any]) -> list[str] | None:
    """Boundary names a generator will create (None when only the file knows them)."""
    generator = mesh["generator"]
    if generator == "interval":
        names = [mesh["left_name"], mesh["right_name"]]
        return names + (["interface"] if mesh["solid_thickness"] > 0 else [])
    if generator == "slit_nanochannel":
        names = [
            "channel_wall",
            "reservoir_left_end",
            "reservoir_right_end",
            "reservoir_wall",
            "membrane_surface_left",
            "membrane_surface_right",
        ]
        names += ["symmetry"] if mesh["half_channel"] else []
        return names + (["solid_outer_boundary"] if mesh["dielectric_walls"] else [])
    if generator in ("cylindrical_nanopore", "axisymmetric_nanopore"):
        extra = ["axis"] if generator == "axisymmetric_nanopore" else []
        return extra + [
            "pore_wall",
            "membrane_surface_top",
            "membrane_surface_bottom",
            "reservoir_top_end",
            "reservoir_bottom_end",
            "reservoir_wall",
        ]
    return None


def build_mesh(
    mesh: dict[str, Any],
    case_dir: Path,
    comm: MPI.Comm,
    debye_length: float | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> dolfinx.io.gmsh.MeshData:
    """Create the mesh described by a validated ``[mesh]`` table.

    A gmsh generator's mesh with ``cache = true`` is read from electrolyx's mesh cache
    (:mod:`electrolyx.mesh_cache`) when the same table and Debye length were meshed before,
    else generated and cached; ``log`` says which.
    """
    if mesh.get("cache"):
        from .mesh_cache import cached_mesh

        description = {
            "mesh": {key: value for key, value in mesh.items() if key != "cache"},
            "debye_length_m": debye_length,
        }
        mesh_data, origin = cached_mesh(
            comm, description, lambda: _generate(mesh, case_dir, comm, debye_length)
        )
        log(f"mesh {origin}")
        return mesh_data
    return _generate(mesh, case_dir, comm, debye_length)


def _generate(
    mesh: dict[str, Any], case_dir: Path, comm: MPI.Comm, debye_length: float | None
) -> dolfinx.io.gmsh.MeshData:
    """The mesh of a ``[mesh]`` table, made by its generator (or read from its file)."""
    generator = mesh["generator"]
    if generator == "interval":
        return graded_interval(
            comm,
            mesh["length"],
            mesh["cells"],
            mesh["first_cell_size"],
            mesh["grading"],
            mesh["left_name"],
            mesh["right_name"],
            solid_thickness=mesh["solid_thickness"],
            solid_cells=mesh["solid_cells"] if mesh["solid_thickness"] > 0 else 0,
            solid_name="solid",
        )
    if generator == "gmsh_file":
        # Checked on rank 0 first (a MeshFileError on every rank for a file that is not a mesh);
        # gmsh never sees a file that does not start with $MeshFormat.
        return read_mesh_file(comm, case_dir / mesh["path"], gdim=mesh["dimension"])
    if debye_length is None:
        raise ValueError(f"the {generator} generator needs a Debye length")
    if generator == "slit_nanochannel":
        from .meshes.nanochannel import slit_nanochannel

        return slit_nanochannel(
            comm,
            channel_length=mesh["channel_length"],
            channel_half_height=mesh["channel_half_height"],
            reservoir_length=mesh["reservoir_length"],
            reservoir_height=mesh["reservoir_height"],
            debye_length=debye_length,
            max_size=mesh["max_size"],
            wall_size=mesh["wall_size"],
            wall_layer_thickness=mesh["wall_layer_thickness"],
            growth_rate=mesh["growth_rate"],
            half_channel=mesh["half_channel"],
            dielectric_walls=mesh["dielectric_walls"],
            axial_size=mesh["axial_size"],
        )
    if generator in ("cylindrical_nanopore", "axisymmetric_nanopore"):
        from .meshes import nanopore

        return getattr(nanopore, generator)(
            comm,
            pore_radius=mesh["pore_radius"],
            pore_length=mesh["pore_length"],
            reservoir_radius=mesh["reservoir_radius"],
            reservoir_height=mesh["reservoir_height"],
            debye_length=debye_length,
            max_size=mesh["max_size"],
            wall_size=mesh["wall_size"],
            wall_layer_thickness=mesh["wall_layer_thickness"],
            growth_rate=mesh["growth_rate"],
            size_factor=mesh["size_factor"],
        )
    raise AssertionError(generator)
