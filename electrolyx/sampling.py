"""Point evaluation of finite-element functions along line segments, correct under MPI.

Each point is evaluated on exactly one rank (the lowest rank that owns a cell containing it) and
the values are gathered on rank 0, so a profile holds every point once whatever the partition.
"""

from __future__ import annotations

from mpi4py import MPI

import dolfinx
import numpy as np

__all__ = ["LineSampler", "segment_points"]


def segment_points(start: list[float], end: list[float], count: int) -> np.ndarray:
    """``count`` equally spaced points from ``start`` to ``end`` (padded to 3 coordinates)."""
    a = np.zeros(3)
    b = np.zeros(3)
    a[: len(start)] = start
    b[: len(end)] = end
    s = np.linspace(0.0, 1.0, count)[:, None]
    return (1 - s) * a + s * b


class LineSampler:
    """Evaluates functions on one mesh at fixed points, gathered on rank 0.

    Args:
        mesh: The mesh the functions live on.
        points: Array (n, 3) of coordinates in m, the same on every rank.
    """

    def __init__(self, mesh: dolfinx.mesh.Mesh, points: np.ndarray):
        self.comm = mesh.comm
        self.points = np.ascontiguousarray(points, dtype=mesh.geometry.x.dtype)
        tdim = mesh.topology.dim
        num_owned = mesh.topology.index_map(tdim).size_local
        tree = dolfinx.geometry.bb_tree(mesh, tdim, entities=np.arange(num_owned, dtype=np.int32))
        candidates = dolfinx.geometry.compute_collisions_points(tree, self.points)
        n = len(self.points)
        # Among the bounding-box candidates pick the cell the point is most inside of, by its
        # smallest barycentric (simplices) or reference (quadrilaterals, hexahedra) coordinate,
        # exact for affine cells. dolfinx's own collision
        # test has an absolute tolerance that accepts neighbouring cells of nanometre meshes in
        # metres, whose (extrapolated) values would then be wrong.
        found = np.full(n, -1, dtype=np.int32)
        score = np.full(n, -np.inf)
        x = mesh.geometry.x
        dofmap = mesh.geometry.dofmaps[0]
        gdim = mesh.geometry.dim
        for i in range(n):
            cells = candidates.links(i)
            if len(cells) == 0:
                continue
            inside = inside_score(x[dofmap[cells]][:, :, :gdim], self.points[i, :gdim], tdim)
            best = int(np.argmax(inside))
            found[i], score[i] = cells[best], inside[best]
        global_score = np.empty(n)
        self.comm.Allreduce(score, global_score, op=MPI.MAX)
        # The lowest rank holding a best cell evaluates the point.
        tolerance = 1e-10
        holder = np.where(
            (found >= 0) & (score >= global_score - tolerance), self.comm.rank, self.comm.size
        ).astype(np.int32)
        owner = np.empty_like(holder)
        self.comm.Allreduce(holder, owner, op=MPI.MIN)
        outside = global_score < -1e-8
        self.missing = np.flatnonzero((owner == self.comm.size) | outside)
        mine = np.flatnonzero((owner == self.comm.rank) & ~outside)
        self._indices = mine
        self._cells = found[mine]

    def evaluate(self, function: dolfinx.fem.Function) -> np.ndarray | None:
        """Values (n, value_size) on rank 0 (NaN at points outside the mesh); None elsewhere."""
        width = max(1, int(np.prod(function.ufl_shape)))  # values per point
        if len(self._indices) > 0:
            local = np.asarray(function.eval(self.points[self._indices], self._cells))
            local = local.reshape(len(self._indices), -1)
        else:
            local = np.zeros((0, width))
        gathered = self.comm.gather((self._indices, local), root=0)
        if self.comm.rank != 0:
            return None
        width = max(v.shape[1] for _, v in gathered)
        values = np.full((len(self.points), width), np.nan)
        for idx, vals in gathered:
            values[idx] = vals
        return values


def inside_score(vertices: np.ndarray, point: np.ndarray, tdim: int) -> np.ndarray:
    """How far inside each cell ``point`` is, in reference coordinates (>= 0: inside).

    Simplices: the smallest barycentric coordinate. Quadrilaterals and hexahedra (2^tdim
    geometry nodes in dolfinx's tensor-product order) are treated as parallelograms /
    parallelepipeds spanned by nodes 0, 1, 2 (and 4): the smallest of xi_k and 1 - xi_k.
    """
    if vertices.shape[1] != 2**tdim or tdim == 1:
        return _barycentric_min(vertices, point, tdim)
    corners = vertices[:, [0, 1, 2, 4] if tdim == 3 else [0, 1, 2], :]
    origin = corners[:, 0, :]
    edges = corners[:, 1:, :] - origin[:, None, :]
    rhs = point[None, :] - origin
    xi = np.empty((len(corners), tdim))
    for c in range(len(corners)):
        xi[c] = np.linalg.lstsq(edges[c].T, rhs[c], rcond=None)[0]
    return np.minimum(xi, 1.0 - xi).min(axis=1)


def _barycentric_min(vertices: np.ndarray, point: np.ndarray, tdim: int) -> np.ndarray:
    """Smallest barycentric coordinate of ``point`` in each affine simplex (>= 0: inside).

    Args:
        vertices: (cells, tdim + 1, gdim) vertex coordinates (first tdim + 1 geometry nodes).
        point: (gdim,) coordinates.
        tdim: Topological dimension of the cells.
    """
    corners = vertices[:, : tdim + 1, :]
    origin = corners[:, 0, :]
    edges = corners[:, 1:, :] - origin[:, None, :]  # (cells, tdim, gdim)
    rhs = point[None, :] - origin
    # Least squares solves the (square when tdim == gdim) system edges^T lambda = rhs.
    lam = np.empty((len(corners), tdim))
    for c in range(len(corners)):
        lam[c] = np.linalg.lstsq(edges[c].T, rhs[c], rcond=None)[0]
    first = 1.0 - lam.sum(axis=1)
    return np.minimum(first, lam.min(axis=1))
