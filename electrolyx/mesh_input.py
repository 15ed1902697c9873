"""The ``[mesh]`` table of a case: gmsh generators with their parameters, or a mesh file.

Every generator takes SI lengths; those that refine toward charged walls default their wall
element size to a quarter of the Debye length that the model passes in. :func:`build_mesh`
returns ``dolfinx.io.gmsh.MeshData`` with named physical groups for all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mpi4py import MPI

import dolfinx

from .meshes import graded_interval
from .meshes.mesh_file import read_mesh_file
from .schema import Key, Table, Variant

__all__ = ["build_mesh", "mesh_boundary_names", "mesh_variant"]

_POSITIVE_LENGTH = {"unit": "m", "low": 0.0, "low_open": True}


def _length(doc: str, default: Any = ...) -> Key:
    if default is ...:
        return Key("float", doc, **_POSITIVE_LENGTH)
    return Key("float", doc, default=default, **_POSITIVE_LENGTH)


_WALL_KEYS = {
    "wall_size": _length("Element size at the charged walls (default lambda_D / 4).", None),
    "max_size": _length("Largest element size, far from the walls."),
    "wall_layer_thickness": Key(
        "float",
        "Distance from the walls over which wall_size is kept (default 3 lambda_D).",
        unit="m",
        default=None,
        low=0.0,
    ),
    "growth_rate": Key(
        "float",
        "Element size increase per unit distance beyond the wall layer.",
        default=0.3,
        low=0.0,
        low_open=True,
    ),
}

_PORE_GROUPS = (
    "Boundaries: `pore_wall`, `membrane_surface_top`, `membrane_surface_bottom`, "
    "`reservoir_top_end`, `reservoir_bottom_end`, `reservoir_wall`; regions `pore`, "
    "`reservoir_top`, `reservoir_bottom`."
)
_PORE_KEYS = {
    "pore_radius": _length("Pore radius a."),
    "pore_length": _length("Pore length (membrane thickness)."),
    "reservoir_radius": _length("Radius of the reservoirs (> a)."),
    "reservoir_height": _length("Height of each reservoir along z."),
    **_WALL_KEYS,
    "size_factor": Key(
        "float",
        "Multiplies wall and maximum sizes (< 1 refines everywhere).",
        default=1.0,
        low=0.0,
        low_open=True,
    ),
}

GENERATORS: dict[str, Table] = {
    "interval": Table(
        "1D interval [0, length] made by gmsh, graded geometrically toward one or both ends; "
        "its end points are boundaries named `left_name` and `right_name`; the cells are the "
        "region `electrolyte`.",
        {
            "length": _length("Interval length."),
            "cells": Key("int", "Number of cells.", default=400, low=1, high=10**8),
            "first_cell_size": _length(
                "Size of the cell at each graded end (ignored for grading 'none').", None
            ),
            "grading": Key(
                "str",
                "Where cells are smallest.",
                default="left",
                choices=("left", "right", "both", "none"),
            ),
            "left_name": Key("str", "Boundary name of the left end.", default="left"),
            "right_name": Key("str", "Boundary name of x = length.", default="right"),
            "solid_thickness": Key(
                "float",
                "Thickness of a solid layer [-solid_thickness, 0] in front of the interval "
                "(region `solid`, interface point `interface`; 0: none).",
                unit="m",
                default=0.0,
                low=0.0,
            ),
            "solid_cells": Key(
                "int", "Uniform cells across the solid layer.", default=20, low=1, high=10**7
            ),
        },
    ),
    "slit_nanochannel": Table(
        "2D slit nanochannel (walls at y = +-h, centred at x = 0) between two rectangular "
        "reservoirs, refined at the channel walls. Boundaries: `channel_wall`, "
        "`reservoir_left_end`, `reservoir_right_end`, `reservoir_wall`, "
        "`membrane_surface_left`, `membrane_surface_right` (and `symmetry` for a half "
        "channel); regions `channel`, `reservoir_left`, `reservoir_right`.",
        {
            "channel_length": _length("Channel length L."),
            "channel_half_height": _length("Channel half height h."),
            "reservoir_length": _length("Length of each reservoir along x."),
            "reservoir_height": _length("Full height of each reservoir (> 2h)."),
            **_WALL_KEYS,
            "axial_size": _length(
                "If set, a structured channel grid with cells this long along x (long channels).",
                None,
            ),
            "half_channel": Key(
                "bool", "Mesh only y >= 0 with a `symmetry` boundary at y = 0.", default=False
            ),
            "dielectric_walls": Key(
                "bool",
                "Also mesh the solid around the channel (region `solid`; `channel_wall` and the "
                "membrane surfaces become interfaces; outer boundary `solid_outer_boundary`).",
                default=False,
            ),
        },
    ),
    "cylindrical_nanopore": Table(
        "3D cylindrical pore through a membrane between two cylindrical reservoirs (axis z). "
        + _PORE_GROUPS,
        _PORE_KEYS,
    ),
    "axisymmetric_nanopore": Table(
        "The (r, z) section of `cylindrical_nanopore` (x = r >= 0, y = z), solved with the "
        "axisymmetric measure 2 pi r dx: 3D results at 2D cost. Extra boundary `axis` (r = 0). "
        + _PORE_GROUPS,
        _PORE_KEYS,
    ),
    "gmsh_file": Table(
        "A gmsh .msh file in the case folder (physical groups name regions and boundaries).",
        {
            "path": Key("str", "Path of the .msh file, relative to the case folder."),
            "dimension": Key("int", "Geometric dimension of the mesh.", default=3, low=1, high=3),
        },
    ),
}


def mesh_variant(generators: tuple[str, ...] = tuple(GENERATORS)) -> Variant:
    """The ``[mesh]`` table offering the given generators."""
    return Variant(
        "The mesh: made by a gmsh generator from its parameters, or read from a .msh file.",
        "generator",
        {name: GENERATORS[name] for name in generators},
    )


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
    mesh: dict[str, Any], case_dir: Path, comm: MPI.Comm, debye_length: float | None = None
) -> dolfinx.io.gmsh.MeshData:
    """Create the mesh described by a validated ``[mesh]`` table."""
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
