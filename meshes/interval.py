"""Graded 1D interval meshes made by gmsh, refined geometrically toward one or both ends.

Double layers, reaction fronts and electrode surfaces sit at the ends of 1D cells; a geometric
progression of cell sizes resolves them with few cells. The mesh is built by gmsh on one rank and
distributed by :func:`dolfinx.io.gmsh.model_to_mesh`, with named physical groups: the interval
("electrolyte" by default) and its two end points (``left_name`` at x = 0, ``right_name`` at x = L).
"""

from __future__ import annotations

from mpi4py import MPI

import gmsh
import numpy as np
from dolfinx.io import gmsh as gmshio

__all__ = ["geometric_ratio", "graded_interval"]


def geometric_ratio(length: float, first_size: float, cells: int) -> float:
    """Ratio r of successive cell sizes so that ``cells`` cells starting at ``first_size`` span L.

    Solves first_size * (r**cells - 1) / (r - 1) = length for r >= 1 by bisection.

    Raises:
        ValueError: if ``cells * first_size > length`` (no grading can fit).
    """
    if cells * first_size > length * (1 + 1e-12):
        raise ValueError(
            f"{cells} cells of at least {first_size:g} m do not fit in {length:g} m: "
            "use fewer cells or a smaller first cell"
        )
    if abs(cells * first_size - length) <= 1e-12 * length:
        return 1.0

    def total(r: float) -> float:
        exponent = cells * np.log(r)
        if exponent > 700.0:  # r**cells would overflow: far longer than any length
            return np.inf
        return first_size * cells if r == 1.0 else first_size * np.expm1(exponent) / (r - 1)

    lo, hi = 1.0, 2.0
    while total(hi) < length:
        hi *= 2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if total(mid) < length:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _graded_nodes(length: float, first_size: float, cells: int, grading: str) -> np.ndarray:
    """Node coordinates of the interval for the requested grading."""
    if grading == "none":
        return np.linspace(0.0, length, cells + 1)
    if grading == "both":
        half_cells = cells // 2
        if 2 * half_cells != cells:
            raise ValueError(f"grading 'both' needs an even number of cells, got {cells}")
        r = geometric_ratio(0.5 * length, first_size, half_cells)
        sizes = first_size * r ** np.arange(half_cells)
        half = np.concatenate([[0.0], np.cumsum(sizes)])
        half *= 0.5 * length / half[-1]
        return np.concatenate([half, length - half[-2::-1]])
    r = geometric_ratio(length, first_size, cells)
    sizes = first_size * r ** np.arange(cells)
    nodes = np.concatenate([[0.0], np.cumsum(sizes)])
    nodes *= length / nodes[-1]  # remove round-off so the end lands exactly on L
    if grading == "right":
        nodes = length - nodes[::-1]
    return nodes


def graded_interval(
    comm: MPI.Comm,
    length: float,
    cells: int,
    first_cell_size: float | None = None,
    grading: str = "left",
    left_name: str = "left",
    right_name: str = "right",
    domain_name: str = "electrolyte",
    rank: int = 0,
    solid_thickness: float = 0.0,
    solid_cells: int = 0,
    solid_name: str = "dielectric",
    interface_name: str = "interface",
) -> gmshio.MeshData:
    """Create a 1D interval [0, length] graded toward one or both ends.

    Args:
        comm: Communicator the mesh is distributed on.
        length: Interval length in m.
        cells: Number of cells.
        first_cell_size: Size of the cell(s) at the graded end(s) in m; ignored for "none".
        grading: "left", "right", "both" or "none".
        left_name: Physical-group name of the point x = 0.
        right_name: Physical-group name of the point x = length.
        domain_name: Physical-group name of the interval.
        rank: Rank that builds the gmsh model.
        solid_thickness: If > 0, a solid layer [-solid_thickness, 0] of ``solid_cells``
            uniform cells (region ``solid_name``) precedes the interval; x = 0 is then the
            interior point ``interface_name`` and ``left_name`` is x = -solid_thickness.
        solid_cells: Cells across the solid layer.
        solid_name: Physical-group name of the solid cells.
        interface_name: Physical-group name of the solid/electrolyte interface point.

    Returns:
        The distributed mesh with cell and facet (point) tags and named physical groups.
    """
    if grading != "none" and first_cell_size is None:
        raise ValueError("first_cell_size is needed for a graded interval")
    nodes = _graded_nodes(length, first_cell_size or 0.0, cells, grading)
    solid_nodes = np.linspace(-solid_thickness, 0.0, solid_cells + 1)[:-1] if solid_cells else []
    all_nodes = np.concatenate([solid_nodes, nodes])
    n_solid = len(solid_nodes)
    started_here = not gmsh.isInitialized()
    if started_here:
        gmsh.initialize(interruptible=False)
    gmsh.option.setNumber("General.Terminal", 0)
    model = gmsh.model()
    name = f"interval_{id(nodes)}"
    model.add(name)
    model.setCurrent(name)
    if comm.rank == rank:
        # One gmsh line per cell keeps the prescribed node positions exactly.
        points = [model.geo.addPoint(x, 0.0, 0.0) for x in all_nodes]
        lines = [model.geo.addLine(points[i], points[i + 1]) for i in range(len(points) - 1)]
        model.geo.synchronize()
        for line in lines:
            model.mesh.setTransfiniteCurve(line, 2)
        model.addPhysicalGroup(1, lines[n_solid:], name=domain_name)
        if n_solid:
            model.addPhysicalGroup(1, lines[:n_solid], name=solid_name)
            model.addPhysicalGroup(0, [points[n_solid]], name=interface_name)
        model.addPhysicalGroup(0, [points[0]], name=left_name)
        model.addPhysicalGroup(0, [points[-1]], name=right_name)
        model.mesh.generate(1)
    try:
        mesh_data = gmshio.model_to_mesh(model, comm, rank, gdim=1)
    finally:
        model.remove()
        if started_here:
            gmsh.finalize()
    return mesh_data
