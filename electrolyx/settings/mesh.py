"""The ``[mesh]`` table of a PNP case: a gmsh generator and its parameters, or a mesh file.

``generator`` selects the table; :mod:`electrolyx.mesh_input` builds the mesh from it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from .base import SettingsTable, unit

__all__ = [
    "AxisymmetricNanopore",
    "CylindricalNanopore",
    "GmshFile",
    "Interval",
    "MeshSettings",
    "SlitNanochannel",
]


def _length(description: str, default: Any = ...) -> Any:
    return Field(default, gt=0.0, description=description, json_schema_extra=unit("m"))


class Interval(SettingsTable):
    """1D interval [0, length] made by gmsh, graded geometrically toward one or both ends.

    Its end points are boundaries named `left_name` and `right_name`; the cells are the region
    `electrolyte`.
    """

    generator: Literal["interval"] = "interval"
    length: float = _length("Interval length.")
    cells: int = Field(400, ge=1, le=10**8, description="Number of cells.")
    first_cell_size: float | None = _length(
        "Size of the cell at each graded end (ignored for grading 'none').", None
    )
    grading: Literal["left", "right", "both", "none"] = Field(
        "left", description="Where cells are smallest."
    )
    left_name: str = Field("left", min_length=1, description="Boundary name of the left end.")
    right_name: str = Field("right", min_length=1, description="Boundary name of x = length.")
    solid_thickness: float = Field(
        0.0,
        ge=0.0,
        description="Thickness of a solid layer [-solid_thickness, 0] in front of the interval "
        "(region `solid`, interface point `interface`; 0: none).",
        json_schema_extra=unit("m"),
    )
    solid_cells: int = Field(
        20, ge=1, le=10**7, description="Uniform cells across the solid layer."
    )


class _RefinedAtWalls(SettingsTable):
    wall_size: float | None = _length(
        "Element size at the charged walls (default lambda_D / 4).", None
    )
    max_size: float = _length("Largest element size, far from the walls.")
    wall_layer_thickness: float | None = Field(
        None,
        ge=0.0,
        description="Distance from the walls over which wall_size is kept (default 3 lambda_D).",
        json_schema_extra=unit("m"),
    )
    growth_rate: float = Field(
        0.3, gt=0.0, description="Element size increase per unit distance beyond the wall layer."
    )
    cache: bool = Field(
        True,
        description="Keep the generated mesh in electrolyx's mesh cache ($ELECTROLYX_MESH_CACHE, "
        "else ~/.cache/electrolyx/meshes) and read it from there, distributed over the ranks, "
        "when this table with the same Debye length is meshed again (false: mesh every run).",
    )


class SlitNanochannel(_RefinedAtWalls):
    """2D slit nanochannel between two rectangular reservoirs, refined at the channel walls.

    Walls at y = +-h, centred at x = 0. Boundaries: `channel_wall`, `reservoir_left_end`,
    `reservoir_right_end`, `reservoir_wall`, `membrane_surface_left`, `membrane_surface_right`
    (and `symmetry` for a half channel); regions `channel`, `reservoir_left`, `reservoir_right`.
    """

    generator: Literal["slit_nanochannel"] = "slit_nanochannel"
    channel_length: float = _length("Channel length L.")
    channel_half_height: float = _length("Channel half height h.")
    reservoir_length: float = _length("Length of each reservoir along x.")
    reservoir_height: float = _length("Full height of each reservoir (> 2h).")
    axial_size: float | None = _length(
        "If set, a structured channel grid with cells this long along x (long channels).", None
    )
    half_channel: bool = Field(
        False, description="Mesh only y >= 0 with a `symmetry` boundary at y = 0."
    )
    dielectric_walls: bool = Field(
        False,
        description="Also mesh the solid around the channel (region `solid`; `channel_wall` and "
        "the membrane surfaces become interfaces; outer boundary `solid_outer_boundary`).",
    )


class _Nanopore(_RefinedAtWalls):
    pore_radius: float = _length("Pore radius a.")
    pore_length: float = _length("Pore length (membrane thickness).")
    reservoir_radius: float = _length("Radius of the reservoirs (> a).")
    reservoir_height: float = _length("Height of each reservoir along z.")
    size_factor: float = Field(
        1.0, gt=0.0, description="Multiplies wall and maximum sizes (< 1 refines everywhere)."
    )


class CylindricalNanopore(_Nanopore):
    """3D cylindrical pore through a membrane between two cylindrical reservoirs (axis z).

    Boundaries: `pore_wall`, `membrane_surface_top`, `membrane_surface_bottom`,
    `reservoir_top_end`, `reservoir_bottom_end`, `reservoir_wall`; regions `pore`,
    `reservoir_top`, `reservoir_bottom`.
    """

    generator: Literal["cylindrical_nanopore"] = "cylindrical_nanopore"


class AxisymmetricNanopore(_Nanopore):
    """The (r, z) section of `cylindrical_nanopore`, solved with the measure 2 pi r dx.

    x = r >= 0, y = z: 3D results at 2D cost. Extra boundary `axis` (r = 0). Boundaries:
    `pore_wall`, `membrane_surface_top`, `membrane_surface_bottom`, `reservoir_top_end`,
    `reservoir_bottom_end`, `reservoir_wall`; regions `pore`, `reservoir_top`,
    `reservoir_bottom`.
    """

    generator: Literal["axisymmetric_nanopore"] = "axisymmetric_nanopore"


class GmshFile(SettingsTable):
    """A gmsh .msh file in the case folder (physical groups name regions and boundaries)."""

    generator: Literal["gmsh_file"] = "gmsh_file"
    path: str = Field(
        min_length=1, description="Path of the .msh file, relative to the case folder."
    )
    dimension: int = Field(3, ge=1, le=3, description="Geometric dimension of the mesh.")


#: The ``[mesh]`` table: ``generator`` selects which.
MeshSettings = Annotated[
    Interval | SlitNanochannel | CylindricalNanopore | AxisymmetricNanopore | GmshFile,
    Field(discriminator="generator"),
]
