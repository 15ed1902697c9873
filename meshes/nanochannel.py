"""2D slit nanochannel between two rectangular reservoirs, refined at the charged walls.

Geometry (SI metres, channel centred at the origin, x along the channel)::

    y = +H/2  +-----------+                       +-----------+
              | reservoir |        solid          | reservoir |
    y = +h    |   left    +-----------------------+   right   |
              |           |        channel        |           |
    y = -h    |           +-----------------------+           |
              |           |        solid          |           |
    y = -H/2  +-----------+                       +-----------+
          -L/2-L_r      -L/2                    +L/2       +L/2+L_r

Without ``dielectric_walls`` the "solid" rectangles are not meshed: the channel walls and the
membrane faces at x = +-L/2 are then outer boundaries. With ``half_channel`` only y >= 0 is meshed
and y = 0 is the "symmetry" boundary.

Element size: a distance field (exact distance to the channel-wall segments) feeds a gmsh
Threshold field, ``wall_size`` (default lambda_D/4) within ``wall_layer_thickness`` of a charged
wall, growing linearly at ``growth_rate`` (size increase per unit distance) up to ``max_size``.
Every edge of every triangle touching a wall is then <= ``wall_size``. For long channels,
``axial_size`` switches the channel to a structured grid instead: columns ``axial_size`` long,
rows graded geometrically from exactly ``wall_size`` at each wall (only the wall-normal size is
then bounded by ``wall_size``); the distance field then only refines around the channel mouths.

Physical groups (names are the interface; tags are never used bare):

- cells: "channel", "reservoir_left", "reservoir_right", and "solid" with ``dielectric_walls``;
- facets: "channel_wall" (both walls), "reservoir_left_end", "reservoir_right_end",
  "reservoir_wall" (reservoir sides y = +-H/2), "membrane_surface_left" and
  "membrane_surface_right" (the faces x = -+L/2, h < |y| < H/2), "channel_entrance_left" and
  "channel_entrance_right" (interior facets x = -+L/2, |y| < h, for fluxes through the channel),
  "symmetry" with ``half_channel``, "solid_outer_boundary" (y = +-H/2, |x| < L/2) with
  ``dielectric_walls``. With ``dielectric_walls``, "channel_wall" and the membrane surfaces are
  interior (electrolyte | solid) facets.
"""

from __future__ import annotations

from mpi4py import MPI

import gmsh
import numpy as np
from dolfinx.io import gmsh as gmshio

from .gmsh_tools import (
    distribute_gmsh_model,
    gmsh_options,
    size_field_options,
    wall_distance_threshold,
)
from .interval import geometric_ratio

__all__ = ["WALL_SIZE_SAFETY", "slit_nanochannel", "wall_graded_cells"]

WALL_SIZE_SAFETY = 0.7
"""Ratio of the size handed to gmsh to the requested wall size, for triangles.

gmsh meets a size field only approximately: the longest edge of a triangle with a facet on the
wall reaches 1.25x the target (measured on 15 channel shapes, full, half and with solid walls);
asking for 0.7x kept every such edge <= 0.92 of the requested wall size. The tests in
tests/test_meshes_nanofluidic.py check the requested bound itself.
"""


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")


def wall_graded_cells(height: float, first_size: float, growth_rate: float) -> tuple[int, float]:
    """Fewest cells, and their geometric ratio, that fill ``height`` from ``first_size`` up.

    Args:
        height: Length to fill (any unit).
        first_size: Size of the first cell (same unit).
        growth_rate: The ratio r of successive sizes may not exceed 1 + growth_rate.

    Returns:
        ``(cells, ratio)`` with first_size (ratio**cells - 1) / (ratio - 1) = height, or
        ``(ceil(height / first_size), 1.0)`` when uniform cells of at most first_size fit best.
    """
    uniform = max(1, int(np.ceil(height / first_size - 1e-9)))
    for cells in range(2, uniform):  # one cell is first_size whatever the ratio
        ratio = geometric_ratio(height, first_size, cells)
        if ratio <= 1 + growth_rate:
            return cells, ratio
    return uniform, 1.0


def _structure_channel(
    model: type[gmsh.model],
    surfaces: list[int],
    *,
    axial_cells: int,
    first_size: float,
    growth_rate: float,
    wall_y: float,
    tol: float,
) -> None:
    """Make each channel half a transfinite grid, graded toward its wall at |y| = wall_y."""
    for surface in surfaces:
        for _, curve in model.getBoundary([(2, surface)], oriented=False):
            # Points at the ends of the curve's parameter range, in the curve's own direction.
            lower, upper = model.getParametrizationBounds(1, curve)
            start = model.getValue(1, curve, [lower[0]])
            end = model.getValue(1, curve, [upper[0]])
            if abs(start[1] - end[1]) < tol:  # along the channel
                model.mesh.setTransfiniteCurve(curve, axial_cells + 1)
                continue
            cells, ratio = wall_graded_cells(abs(end[1] - start[1]), first_size, growth_rate)
            # Sizes grow by `ratio` along the curve: start at the wall end.
            starts_at_wall = abs(abs(start[1]) - wall_y) < tol
            model.mesh.setTransfiniteCurve(
                curve, cells + 1, "Progression", ratio if starts_at_wall else 1 / ratio
            )
        model.mesh.setTransfiniteSurface(surface, "Alternate")


def slit_nanochannel(
    comm: MPI.Comm,
    *,
    channel_length: float,
    channel_half_height: float,
    reservoir_length: float,
    reservoir_height: float,
    debye_length: float,
    max_size: float,
    wall_size: float | None = None,
    wall_layer_thickness: float | None = None,
    growth_rate: float = 0.3,
    half_channel: bool = False,
    dielectric_walls: bool = False,
    axial_size: float | None = None,
    rank: int = 0,
) -> gmshio.MeshData:
    """Mesh a slit nanochannel of length L and height 2h between two reservoirs.

    Args:
        comm: Communicator the mesh is distributed on.
        channel_length: Channel length L in m.
        channel_half_height: Channel half height h in m (walls at y = +-h).
        reservoir_length: Length L_r of each reservoir along x in m.
        reservoir_height: Full height H of each reservoir in m (> 2h).
        debye_length: Debye length lambda_D of the electrolyte in m.
        max_size: Largest element size in m, reached far from the walls.
        wall_size: Element size at the channel walls in m; default lambda_D/4.
        wall_layer_thickness: Distance from the walls over which ``wall_size`` is kept, in m;
            default 3 lambda_D (where the double-layer potential has decayed to ~5%).
        growth_rate: Increase of element size per unit distance beyond that layer (0.3: each
            element ~30% larger than its neighbour toward the wall).
        half_channel: Mesh only y >= 0, with a "symmetry" boundary at y = 0.
        dielectric_walls: Also mesh the solid between the channel and the reservoir height
            (cells "solid"), for a Poisson problem with a permittivity per subdomain.
        axial_size: If given, the channel is a structured triangle grid instead: cells of
            length ``axial_size`` along x and heights growing geometrically (ratio at most
            1 + growth_rate) from exactly ``wall_size`` at each wall. Long channels then cost
            ~L/axial_size columns of cells instead of (L/wall_size) x (layer/wall_size); the
            wall-normal size, the one a double layer parallel to the wall needs, stays
            ``wall_size``. Cells are anisotropic near the walls, so only choose it when the
            fields vary slowly along x (away from the entrances, within ~ axial_size).
        rank: Rank that builds the gmsh model.

    Returns:
        The distributed mesh (coordinates in m) with cell tags, facet tags and named groups.
    """
    wall_size = debye_length / 4 if wall_size is None else wall_size
    wall_layer_thickness = (
        3 * debye_length if wall_layer_thickness is None else wall_layer_thickness
    )
    _check_positive(
        channel_length=channel_length,
        channel_half_height=channel_half_height,
        reservoir_length=reservoir_length,
        reservoir_height=reservoir_height,
        debye_length=debye_length,
        max_size=max_size,
        wall_size=wall_size,
        growth_rate=growth_rate,
    )
    if wall_layer_thickness < 0:
        raise ValueError(f"wall_layer_thickness must be >= 0, got {wall_layer_thickness!r}")
    if reservoir_height <= 2 * channel_half_height:
        raise ValueError(
            f"reservoir_height ({reservoir_height:g} m) must exceed the channel height "
            f"2 h = {2 * channel_half_height:g} m"
        )
    if wall_size > max_size:
        raise ValueError(f"wall_size ({wall_size:g} m) exceeds max_size ({max_size:g} m)")
    if axial_size is not None and not axial_size > 0:
        raise ValueError(f"axial_size must be > 0, got {axial_size!r}")

    # gmsh works in units of the Debye length: nanometre coordinates in metres would fall
    # below its geometric tolerance (1e-8). Nodes are scaled back to metres after meshing.
    unit = debye_length
    half_length = 0.5 * channel_length / unit
    h = channel_half_height / unit
    res_length = reservoir_length / unit
    top = 0.5 * reservoir_height / unit
    bottom = 0.0 if half_channel else -top
    channel_bottom = 0.0 if half_channel else -h
    tol = 1e-3 * min(h, half_length, res_length, top - h)

    def build(model: type[gmsh.model]) -> None:
        occ = model.occ
        # A structured channel is made of two halves (y < 0, y > 0), each graded to its wall.
        channel_pieces = (
            [(0.0, h), (-h, 0.0)]
            if axial_size is not None and not half_channel
            else [(channel_bottom, h)]
        )
        rectangles = {
            "channel": [
                occ.addRectangle(-half_length, y0, 0, 2 * half_length, y1 - y0)
                for y0, y1 in channel_pieces
            ],
            "reservoir_left": [
                occ.addRectangle(-half_length - res_length, bottom, 0, res_length, top - bottom)
            ],
            "reservoir_right": [occ.addRectangle(half_length, bottom, 0, res_length, top - bottom)],
        }
        if dielectric_walls:
            rectangles["solid"] = [occ.addRectangle(-half_length, h, 0, 2 * half_length, top - h)]
            if not half_channel:
                rectangles["solid"].append(
                    occ.addRectangle(-half_length, -top, 0, 2 * half_length, top - h)
                )
        all_tags = [(2, tag) for tags in rectangles.values() for tag in tags]
        occ.fragment(all_tags[:1], all_tags[1:])
        occ.synchronize()

        cells: dict[str, list[int]] = {}
        for _, surface in model.getEntities(2):
            x, y, _ = occ.getCenterOfMass(2, surface)
            if x < -half_length:
                name = "reservoir_left"
            elif x > half_length:
                name = "reservoir_right"
            elif abs(y) < h:
                name = "channel"
            else:
                name = "solid"
            cells.setdefault(name, []).append(surface)

        facets: dict[str, list[int]] = {}
        for _, curve in model.getEntities(1):
            xmin, ymin, _, xmax, ymax, _ = model.getBoundingBox(1, curve)
            within_channel = xmin > -half_length - tol and xmax < half_length + tol
            if abs(ymax - ymin) < tol:  # horizontal
                y = abs(ymin)
                if y < tol:
                    if not half_channel:
                        continue  # midline between the structured channel halves: interior
                    name = "symmetry"
                elif abs(y - h) < tol and within_channel:
                    name = "channel_wall"
                elif abs(y - top) < tol:
                    name = "solid_outer_boundary" if within_channel else "reservoir_wall"
                else:
                    raise RuntimeError(f"unclassified horizontal curve at y = {ymin * unit:g} m")
            elif abs(xmax - xmin) < tol:  # vertical
                x = xmin
                side = "left" if x < 0 else "right"
                inside_channel = max(abs(ymin), abs(ymax)) < h + tol
                if abs(abs(x) - half_length - res_length) < tol:
                    name = f"reservoir_{side}_end"
                elif abs(abs(x) - half_length) < tol:
                    name = (
                        f"channel_entrance_{side}"
                        if inside_channel
                        else (f"membrane_surface_{side}")
                    )
                else:
                    raise RuntimeError(f"unclassified vertical curve at x = {x * unit:g} m")
            else:
                raise RuntimeError(f"curve {curve} is neither horizontal nor vertical")
            facets.setdefault(name, []).append(curve)

        for name, surfaces in cells.items():
            model.addPhysicalGroup(2, surfaces, name=name)
        for name, curves in facets.items():
            if dielectric_walls or name != "solid_outer_boundary":
                model.addPhysicalGroup(1, curves, name=name)

        # Exact distance (in Debye lengths) to the two wall segments |x| <= L/2, y = +-h; with
        # a structured channel only its four corners (channel mouths) still need the field.
        axial_term = (
            f"abs(x)-{half_length!r}"
            if axial_size is not None
            else (f"max(abs(x)-{half_length!r},0)")
        )
        wall_distance_threshold(
            model,
            f"sqrt(({axial_term})^2 + (abs(y)-{h!r})^2)",
            size_near=WALL_SIZE_SAFETY * wall_size / unit,
            size_far=max_size / unit,
            layer=max(wall_layer_thickness, wall_size) / unit,
            growth_rate=growth_rate,
            solid_depth_expression=(
                f"max(min(abs(y)-{h!r}, {half_length!r}-abs(x)), 0)" if dielectric_walls else None
            ),
        )
        if axial_size is not None:
            _structure_channel(
                model,
                cells["channel"],
                axial_cells=max(1, round(2 * half_length / (axial_size / unit))),
                # 0.1% below wall_size absorbs gmsh's rounding of the progression (~1e-7).
                first_size=0.999 * wall_size / unit,
                growth_rate=growth_rate,
                wall_y=h,
                tol=tol,
            )
        with gmsh_options(size_field_options()):
            model.mesh.generate(2)
        model.mesh.affineTransform([unit, 0, 0, 0, 0, unit, 0, 0, 0, 0, unit, 0])

    return distribute_gmsh_model(comm, build, gdim=2, name="slit_nanochannel", rank=rank)
