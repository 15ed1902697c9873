"""1D mesh of consecutive layers (e.g. negative electrode | separator | positive electrode).

Each layer is one gmsh line with a uniform transfinite subdivision and its own named cell group;
the two outer end points are named too. gmsh builds the mesh on one rank
(:func:`layered_interval_arrays`, the arrays that can be kept in a file: the 1D DFN's mesh cache)
and :func:`electrolyx.meshes.gmsh_arrays.distribute_arrays` distributes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mpi4py import MPI

from dolfinx.io import gmsh as gmshio

from .gmsh_arrays import GmshMesh, distribute_arrays, model_arrays
from .gmsh_tools import on_rank

__all__ = ["Layer", "layered_interval", "layered_interval_arrays"]


@dataclass(frozen=True)
class Layer:
    """One layer of a layered interval.

    Attributes:
        name: Physical-group name of its cells.
        thickness_m: Thickness [m].
        cells: Number of (equal) cells across it.
    """

    name: str
    thickness_m: float
    cells: int


def layered_interval(
    comm: MPI.Comm,
    layers: Sequence[Layer],
    left_name: str = "left",
    right_name: str = "right",
    rank: int = 0,
) -> gmshio.MeshData:
    """Interval [0, sum of thicknesses] made of the given layers, from left to right.

    Args:
        comm: Communicator the mesh is distributed on.
        layers: Layers from x = 0 upward.
        left_name: Physical-group name of the point x = 0.
        right_name: Physical-group name of the far end point.
        rank: Rank that builds the gmsh model.

    Returns:
        Mesh data with cell tags named after the layers and point tags at both ends.
    """
    _check(layers)
    arrays = on_rank(
        comm,
        rank,
        "layered_interval",
        lambda: layered_interval_arrays(layers, left_name, right_name),
    )
    return distribute_arrays(comm, arrays, gdim=1, rank=rank)


def layered_interval_arrays(
    layers: Sequence[Layer], left_name: str = "left", right_name: str = "right"
) -> GmshMesh:
    """The gmsh mesh of :func:`layered_interval`, as arrays (built by gmsh in this process)."""
    _check(layers)

    def build(model) -> None:
        x = 0.0
        points = [model.geo.addPoint(0.0, 0.0, 0.0)]
        for layer in layers:
            x += layer.thickness_m
            points.append(model.geo.addPoint(x, 0.0, 0.0))
        lines = [model.geo.addLine(points[i], points[i + 1]) for i in range(len(layers))]
        model.geo.synchronize()
        for line, layer in zip(lines, layers, strict=True):
            model.mesh.setTransfiniteCurve(line, layer.cells + 1)
            model.addPhysicalGroup(1, [line], name=layer.name)
        model.addPhysicalGroup(0, [points[0]], name=left_name)
        model.addPhysicalGroup(0, [points[-1]], name=right_name)
        model.mesh.generate(1)

    return model_arrays(build, name="layered_interval")


def _check(layers: Sequence[Layer]) -> None:
    """ValueError unless there is a layer and every layer has cells and a thickness."""
    if not layers:
        raise ValueError("a layered interval needs at least one layer")
    for layer in layers:
        if layer.cells < 1 or layer.thickness_m <= 0:
            raise ValueError(f"layer {layer.name!r} needs cells >= 1 and thickness > 0")
