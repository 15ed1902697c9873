"""Structured 2D/3D meshes of a pouch-cell electrode stack with protruding tabs.

The stack is a sequence of layers through the thickness (x), e.g. negative foil | negative
electrode | separator | positive electrode | positive foil, each ``height`` tall (in 2D along y,
in 3D along z) and, in 3D, ``width`` wide (along y). Tabs are strips that leave a layer (a foil)
at its top edge and stick out by ``length``; their outer end faces are the cell's terminals.

Every piece is a gmsh box (rectangle in 2D) split on common in-plane break points, so the whole
stack is meshed transfinitely into hexahedra (quadrilaterals in 2D): layers as thin as a foil
stay conforming with their neighbours, with a prescribed number of cells across each layer and
no element of poor shape in the through-thickness direction.

Physical groups: one cell group per layer (a tab belongs to the group of its layer), the outer
faces x = 0 and x = total thickness (``left_name``, ``right_name``) and each tab's end face
(the tab's name).

gmsh builds the mesh on one rank (:func:`pouch_cell_arrays`, the arrays a DFN cell keeps in the
mesh cache) and :func:`electrolyx.meshes.gmsh_arrays.distribute_arrays` distributes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mpi4py import MPI

import numpy as np
from dolfinx.io import gmsh as gmshio

from .gmsh_arrays import GmshMesh, distribute_arrays, model_arrays
from .gmsh_tools import on_rank
from .layered_interval import Layer

__all__ = ["Tab", "pouch_cell_arrays", "pouch_cell_mesh"]


@dataclass(frozen=True)
class Tab:
    """A current-collector tab leaving a layer at its top edge.

    Attributes:
        name: Physical-group name of the tab's end face (the terminal).
        layer: Name of the layer it leaves (a current-collector foil).
        start_m: Start of its span along the width (3D only) [m].
        end_m: End of its span along the width (3D only) [m].
        length_m: How far it sticks out beyond the top edge [m].
        cells: Cells along its length.
    """

    name: str
    layer: str
    start_m: float = 0.0
    end_m: float = 0.0
    length_m: float = 0.01
    cells: int = 2


def _check(layers, height_m, height_cells, width_m, width_cells, tabs) -> None:
    if not layers:
        raise ValueError("a pouch stack needs at least one layer")
    for layer in layers:
        if layer.cells < 1 or not layer.thickness_m > 0:
            raise ValueError(f"layer {layer.name!r}: needs cells >= 1 and thickness > 0")
    if not height_m > 0 or height_cells < 1:
        raise ValueError(f"height {height_m!r} m with {height_cells!r} cells: need > 0 and >= 1")
    if width_m is not None and (not width_m > 0 or width_cells < 1):
        raise ValueError(f"width {width_m!r} m with {width_cells!r} cells: need > 0 and >= 1")
    names = [layer.name for layer in layers]
    for tab in tabs:
        if tab.layer not in names:
            raise ValueError(f"tab {tab.name!r}: layer {tab.layer!r} is not one of {names}")
        if not tab.length_m > 0 or tab.cells < 1:
            raise ValueError(f"tab {tab.name!r}: needs length > 0 and cells >= 1")
        if width_m is not None and not 0 <= tab.start_m < tab.end_m <= width_m:
            raise ValueError(
                f"tab {tab.name!r}: span [{tab.start_m}, {tab.end_m}] m must lie in "
                f"[0, {width_m}] m and be non-empty"
            )


def width_break_points(width_m: float, tabs: Sequence[Tab]) -> np.ndarray:
    """Sorted in-plane break points along the width: 0, the tab ends, the width."""
    points = [0.0, width_m, *(t.start_m for t in tabs), *(t.end_m for t in tabs)]
    points = np.unique(np.round(np.asarray(points) / width_m, 12)) * width_m
    return points


def pouch_cell_mesh(
    comm: MPI.Comm,
    layers: Sequence[Layer],
    height_m: float,
    height_cells: int,
    width_m: float | None = None,
    width_cells: int = 1,
    tabs: Sequence[Tab] = (),
    left_name: str = "left",
    right_name: str = "right",
    rank: int = 0,
) -> gmshio.MeshData:
    """Hexahedral (3D, with ``width_m``) or quadrilateral (2D) mesh of a layered stack with tabs.

    Args:
        comm: Communicator the mesh is distributed on.
        layers: Layers from x = 0 upward, with their cells across.
        height_m: Height of the stack (y in 2D, z in 3D) [m].
        height_cells: Cells along the height.
        width_m: Width (y, 3D). None for a 2D cross-section in the x-y plane.
        width_cells: Cells along the width (3D), spread over the pieces between tab ends in
            proportion to their length (at least one each).
        tabs: Tabs at the top edge (in 2D a tab spans its layer's thickness; its span along the
            width is ignored).
        left_name: Physical-group name of the face x = 0.
        right_name: Physical-group name of the face at the far end of the stack.
        rank: Rank that builds the gmsh model.

    Returns:
        Mesh data with a cell group per layer and facet groups for both outer faces and each
        tab's end.
    """
    _check(layers, height_m, height_cells, width_m, width_cells, tabs)
    arrays = on_rank(
        comm,
        rank,
        "pouch_cell",
        lambda: pouch_cell_arrays(
            layers, height_m, height_cells, width_m, width_cells, tabs, left_name, right_name
        ),
    )
    return distribute_arrays(comm, arrays, gdim=2 if width_m is None else 3, rank=rank)


def pouch_cell_arrays(
    layers: Sequence[Layer],
    height_m: float,
    height_cells: int,
    width_m: float | None = None,
    width_cells: int = 1,
    tabs: Sequence[Tab] = (),
    left_name: str = "left",
    right_name: str = "right",
) -> GmshMesh:
    """The gmsh mesh of :func:`pouch_cell_mesh`, as arrays (built by gmsh in this process)."""
    _check(layers, height_m, height_cells, width_m, width_cells, tabs)
    three_d = width_m is not None
    height_axis = 2 if three_d else 1  # coordinate along the height
    x_edges = np.concatenate([[0.0], np.cumsum([layer.thickness_m for layer in layers])])
    thickness = x_edges[-1]
    y_edges = width_break_points(width_m, tabs) if three_d else np.array([0.0, 1.0])
    # Cells per piece of the width in proportion to its length, halves rounded up, at least 1.
    y_cells = [
        max(1, int(np.floor(width_cells * (b - a) / (width_m or 1.0) + 0.5 + 1e-9)))
        for a, b in zip(y_edges, y_edges[1:], strict=False)
    ]
    layer_index = {layer.name: i for i, layer in enumerate(layers)}

    def cells_along(axis: int, low: float, high: float) -> int:
        """Cells on a curve along ``axis`` spanning [low, high]."""
        middle = 0.5 * (low + high)
        if axis == 0:
            k = int(np.searchsorted(x_edges, middle)) - 1
            return layers[k].cells
        if axis == height_axis:
            if middle < height_m:
                return height_cells
            tab = min(tabs, key=lambda t: abs(high - low - t.length_m))
            return tab.cells
        k = int(np.searchsorted(y_edges, middle)) - 1
        return y_cells[k]

    def build(model) -> None:
        occ = model.occ
        pieces: list[tuple[str, int]] = []  # (layer name, occ tag)
        for layer, x0, x1 in zip(layers, x_edges, x_edges[1:], strict=False):
            if three_d:
                for y0, y1 in zip(y_edges, y_edges[1:], strict=False):
                    tag = occ.addBox(x0, y0, 0.0, x1 - x0, y1 - y0, height_m)
                    pieces.append((layer.name, tag))
            else:
                pieces.append((layer.name, occ.addRectangle(x0, 0.0, 0.0, x1 - x0, height_m)))
        for tab in tabs:
            k = layer_index[tab.layer]
            x0, x1 = x_edges[k], x_edges[k + 1]
            if three_d:
                span = tab.end_m - tab.start_m
                tag = occ.addBox(x0, tab.start_m, height_m, x1 - x0, span, tab.length_m)
            else:
                tag = occ.addRectangle(x0, height_m, 0.0, x1 - x0, tab.length_m)
            pieces.append((tab.layer, tag))
        dim = 3 if three_d else 2
        _, piece_map = occ.fragment([(dim, tag) for _, tag in pieces], [])
        occ.synchronize()
        groups: dict[str, list[int]] = {layer.name: [] for layer in layers}
        for (name, _), children in zip(pieces, piece_map, strict=True):
            groups[name] += [tag for _, tag in children]

        # OCC bounding boxes are padded by its tolerance: use the end points (exact).
        for _, curve in model.getEntities(1):
            ends = model.getBoundary([(1, curve)], combined=False, oriented=False)
            a, b = (np.asarray(model.getValue(0, abs(p), [])) for _, p in ends)
            axis = int(np.argmax(np.abs(b - a)))
            n = cells_along(axis, min(a[axis], b[axis]), max(a[axis], b[axis]))
            model.mesh.setTransfiniteCurve(curve, n + 1)
        for _, surface in model.getEntities(2):
            model.mesh.setTransfiniteSurface(surface)
            model.mesh.setRecombine(2, surface)
        if three_d:
            for _, volume in model.getEntities(3):
                model.mesh.setTransfiniteVolume(volume)
                model.mesh.setRecombine(3, volume)

        for layer in layers:
            model.addPhysicalGroup(dim, sorted(set(groups[layer.name])), name=layer.name)
        tolerance = 1e-9 * max(thickness, height_m)
        faces: dict[str, list[int]] = {left_name: [], right_name: []}
        faces.update({tab.name: [] for tab in tabs})
        for _, facet in model.getEntities(dim - 1):
            centre = np.asarray(model.occ.getCenterOfMass(dim - 1, facet))
            if abs(centre[0]) < tolerance:
                faces[left_name].append(facet)
            elif abs(centre[0] - thickness) < tolerance:
                faces[right_name].append(facet)
            for tab in tabs:
                k = layer_index[tab.layer]
                at_end = abs(centre[height_axis] - height_m - tab.length_m) < tolerance
                inside = x_edges[k] < centre[0] < x_edges[k + 1]
                if three_d:
                    inside &= tab.start_m < centre[1] < tab.end_m
                if at_end and inside:
                    faces[tab.name].append(facet)
        for name, facets in faces.items():
            if not facets:
                raise ValueError(f"pouch mesh: no facet found for the group {name!r}")
            model.addPhysicalGroup(dim - 1, facets, name=name)
        model.mesh.generate(dim)

    return model_arrays(build, name="pouch_cell")
