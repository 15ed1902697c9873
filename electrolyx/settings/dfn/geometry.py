"""Geometry and mesh of a DFN case (``[geometry]``, ``[mesh]``); what each dimension allows."""

from __future__ import annotations

from pydantic import Field

from ..base import SettingsTable, unit

#: Most cells of the cell mesh (through the stack times in the plane): beyond, memory runs out.
MAX_MESH_CELLS = 10_000_000


def _cells(default: int, description: str, high: int = 100_000) -> int:
    return Field(default, ge=1, le=high, description=description)


class Mesh(SettingsTable):
    """Cells across each region (gmsh interval) and radial points of the particles."""

    negative_cells: int = _cells(20, "Cells across the negative electrode.")
    separator_cells: int = _cells(6, "Cells across the separator.")
    positive_cells: int = _cells(20, "Cells across the positive electrode.")
    negative_radial_points: int = Field(
        20, ge=3, le=200, description="Radial nodes of the negative particles."
    )
    positive_radial_points: int = Field(
        20, ge=3, le=200, description="Radial nodes of the positive particles."
    )
    radial_surface_refinement: float = Field(
        2.0,
        ge=1.0,
        le=4.0,
        description="Exponent p of the radial grid r_k = R (1 - (1 - k/N)^p) (1 = uniform).",
    )


def _positive_length(description: str, default: float | None = None) -> float | None:
    return Field(default, gt=0.0, description=description, json_schema_extra=unit("m"))


class Geometry(SettingsTable):
    """Cell geometry: the 1D cell (P2D), a 2D cross-section (P3D) or a 3D pouch stack (P4D).

    The 2D and 3D stacks have resolved current-collector foils and tabs
    (electrolyx.meshes.pouch). x runs through the stack; the height along y (2D) or z (3D),
    the width along y (3D). The mesh stands for one of A / (height x width) identical layer
    pairs of the set's electrode area A (2D: width 1 m).
    """

    dimension: int = Field(1, ge=1, le=3, description="1, 2 or 3.")
    height: float | None = _positive_length("Electrode height (2D and 3D).")
    height_cells: int = _cells(10, "Cells along the height.", high=10_000)
    width: float | None = _positive_length("Electrode width (3D only).")
    width_cells: int = _cells(10, "Cells along the width (3D).", high=10_000)
    negative_foil_thickness: float = Field(
        0.0,
        ge=0.0,
        description="Thickness of the negative current-collector foil, resolved as a "
        "conducting layer; 0: no foil, the negative terminal is the electrode's outer face.",
        json_schema_extra=unit("m"),
    )
    negative_foil_conductivity: float = Field(
        58411000.0,
        gt=0.0,
        description="Electronic conductivity of the negative foil (copper; PyBaMM's Chen2020 "
        "value).",
        json_schema_extra=unit("S/m"),
    )
    positive_foil_thickness: float = Field(
        0.0,
        ge=0.0,
        description="Thickness of the positive current-collector foil; 0: no foil.",
        json_schema_extra=unit("m"),
    )
    positive_foil_conductivity: float = Field(
        36914000.0,
        gt=0.0,
        description="Electronic conductivity of the positive foil (aluminium; PyBaMM's "
        "Chen2020 value).",
        json_schema_extra=unit("S/m"),
    )
    foil_cells: int = _cells(1, "Cells across each foil.", high=1000)
    tabs: bool = Field(
        False,
        description="Terminals on tabs that leave the foils at the top edge (needs both foils; "
        "a half cell: the positive one); false: on the outer faces of the stack.",
    )
    negative_tab: list[float] | None = Field(
        None,
        description="Span [start, end] of the negative tab along the width (3D with tabs).",
        json_schema_extra=unit("m"),
    )
    positive_tab: list[float] | None = Field(
        None,
        description="Span [start, end] of the positive tab along the width (3D with tabs).",
        json_schema_extra=unit("m"),
    )
    tab_length: float = Field(
        0.01,
        gt=0.0,
        description="How far the tabs stick out beyond the top edge.",
        json_schema_extra=unit("m"),
    )
    tab_cells: int = _cells(2, "Cells along a tab's length.", high=1000)


def _mesh_cells(mesh: Mesh, g: Geometry, half: bool) -> int:
    """Cells of the cell mesh: across the stack, times those in the plane (2D, 3D)."""
    across = mesh.separator_cells + mesh.positive_cells + (0 if half else mesh.negative_cells)
    if g.dimension == 1:
        return across
    across += sum(g.foil_cells for t in (g.negative_foil_thickness, g.positive_foil_thickness) if t)
    return across * g.height_cells * (g.width_cells if g.dimension == 3 else 1)


def _geometry_problems(g: Geometry, half: bool) -> list[tuple[str, str]]:
    """What ``[geometry]`` allows in each dimension (keys relative to the case)."""
    dimension = g.dimension
    if dimension == 1:
        extra = [k for k in ("height", "width", "negative_tab", "positive_tab") if getattr(g, k)]
        extra += [
            k for k in ("negative_foil_thickness", "positive_foil_thickness") if getattr(g, k)
        ]
        extra += ["tabs"] if g.tabs else []
        return [
            (
                f"geometry.{key}",
                f"{{key}} = {getattr(g, key)}: only with dimension = 2 or 3 (dimension is 1)",
            )
            for key in extra
        ]
    problems = []
    if g.height is None:
        problems.append(("geometry.height", f"{{key}}: required with dimension = {dimension}"))
    if dimension == 2 and g.width is not None:
        problems.append(
            ("geometry.width", "{key}: only with dimension = 3 (2D is a cross-section)")
        )
    if dimension == 3 and g.width is None:
        problems.append(("geometry.width", "{key}: required with dimension = 3"))
    if half and g.negative_foil_thickness > 0:
        problems.append(
            (
                "geometry.negative_foil_thickness",
                f"{{key}} = {g.negative_foil_thickness}: a half cell has no negative foil "
                "(allowed: 0)",
            )
        )
    for side in ("negative", "positive"):
        key = f"geometry.{side}_tab"
        span = getattr(g, f"{side}_tab")
        if not g.tabs or (side == "negative" and half):
            if span is not None:
                problems.append((key, f"{{key}}: only with tabs = true (and a {side} foil)"))
            continue
        if getattr(g, f"{side}_foil_thickness") == 0:
            problems.append(
                (
                    "geometry.tabs",
                    f"{{key}} = true: needs geometry.{side}_foil_thickness > 0 (a tab leaves its "
                    "foil)",
                )
            )
        if dimension == 2:
            if span is not None:
                problems.append((key, "{key}: only in 3D (a 2D tab is the foil's end)"))
            continue
        width = g.width or 0.0
        if span is None or len(span) != 2 or not 0 <= span[0] < span[1] <= width:
            problems.append(
                (
                    key,
                    f"{{key}} = {span}: give [start, end] with 0 <= start < end <= width "
                    f"({width} m)",
                )
            )
    return problems
