"""Random disk (2D) and sphere (3D) packings of electrode particles, and their gmsh meshes.

:func:`random_packing` places particles by random sequential addition, reproducibly from a seed:
radii drawn from a (truncated) log-normal distribution, each particle put at a random position
where it keeps ``min_gap`` from the other particles (or, with ``max_overlap`` > 0, overlaps them
clearly), until the solid fraction of the box reaches the target. Particles may be cut by the
collector face x = 0 and the lateral faces (so that they touch the collector), never by the
separator-side face x = L_x. The solid fraction of the cut, overlapping union is estimated on a
fine cell-centred grid while placing.

:func:`packing_mesh` meshes the packing: the box (pore phase "electrolyte" and phase
"particles"), optionally followed by a particle-free separator slab. Physical groups:

- cells: "electrolyte", "particles", and "separator" when ``separator_thickness`` > 0
  (electrolyte too: the pore phase is "electrolyte" + "separator");
- facets: "interface" (particle | electrolyte, interior), "collector" (x = 0),
  "separator_side" (the outer end, where a counter electrode sits), "side_wall" (the lateral
  faces), and "electrode_separator_boundary" (x = L_x, interior) with a separator slab.

Coordinates are in metres; gmsh works in units of the mean particle radius.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mpi4py import MPI

import dolfinx
import gmsh
import numpy as np
from dolfinx.io import gmsh as gmshio

from ..progress import Progress
from .gmsh_tools import distribute_gmsh_model, gmsh_options, merge_msh_file

__all__ = ["Packing", "packing_mesh", "random_packing"]


@dataclass(frozen=True)
class Packing:
    """Spherical (3D) or circular (2D) particles in the box [0, L_x] x [0, L_y] (x [0, L_z]).

    Attributes:
        box: Box side lengths in m (2 or 3 of them).
        centres: Particle centres, shape (n, dim), in m.
        radii: Particle radii, shape (n,), in m.
        solid_fraction_estimate: Solid fraction of the box (cut and overlapping particles
            counted once), from the cell-centred grid used while placing.
        grid_spacing: Spacing of that grid in m.
    """

    box: tuple[float, ...]
    centres: np.ndarray
    radii: np.ndarray
    solid_fraction_estimate: float
    grid_spacing: float

    @property
    def dim(self) -> int:
        """Geometric dimension, 2 or 3."""
        return len(self.box)


def _draw_radius(
    rng: np.random.Generator, mean: float, std: float, bounds: tuple[float, float]
) -> float:
    """A log-normal radius with the given mean and standard deviation, resampled into bounds."""
    if std == 0:
        return mean
    sigma2 = np.log1p((std / mean) ** 2)
    mu = np.log(mean) - sigma2 / 2
    while True:
        radius = float(rng.lognormal(mu, np.sqrt(sigma2)))
        if bounds[0] <= radius <= bounds[1]:
            return radius


def _fits(
    centre: np.ndarray,
    radius: float,
    centres: np.ndarray,
    radii: np.ndarray,
    box: np.ndarray,
    min_gap: float,
    max_overlap: float,
) -> bool:
    """Whether a particle keeps clear of the separator face and of (or clearly overlaps) others.

    Near-tangent contacts are refused (both with particles and box faces): they would create
    slivers that no mesh resolves.
    """
    if centre[0] + radius > box[0] - min_gap:  # the separator-side face is never cut
        return False
    # Other faces: either clear by min_gap or cut at least min_gap deep.
    to_faces = np.concatenate([[centre[0]], centre[1:], box[1:] - centre[1:]])
    if np.any(np.abs(to_faces - radius) < min_gap):
        return False
    if centres.shape[0] == 0:
        return True
    distance = np.linalg.norm(centres - centre, axis=1)
    contact = radii + radius
    clear = distance >= contact + min_gap
    if max_overlap == 0:
        return bool(np.all(clear))
    overlapping = (distance <= contact - min_gap) & (distance >= (1 - max_overlap) * contact)
    return bool(np.all(clear | overlapping))


def random_packing(
    box: tuple[float, ...],
    *,
    solid_fraction: float,
    mean_radius: float,
    radius_std: float = 0.0,
    radius_bounds: tuple[float, float] | None = None,
    min_gap: float | None = None,
    max_overlap: float = 0.0,
    seed: int = 0,
    attempts_per_particle: int = 2000,
    grid_points: int = 2**20,
) -> Packing:
    """Random sequential addition of disks (2D box) or spheres (3D box) up to a solid fraction.

    Args:
        box: Side lengths (L_x, L_y[, L_z]) in m; x runs from the collector to the separator.
        solid_fraction: Target solid (particle) volume fraction of the box, in (0, 1).
        mean_radius: Mean particle radius in m.
        radius_std: Standard deviation of the log-normal radius distribution in m (0: monodisperse).
        radius_bounds: Radii outside these bounds (m) are redrawn; default (mean/2, 2 mean).
        min_gap: Smallest surface-to-surface gap between separate particles and between particles
            and box faces they do not cross, in m; default mean_radius/10.
        max_overlap: 0 for disjoint particles; otherwise pairs may also overlap with a centre
            distance down to (1 - max_overlap) (r_1 + r_2) (and at least min_gap inside contact).
        seed: Seed of the random generator: equal seeds give equal packings.
        attempts_per_particle: Random positions tried for one particle before drawing another.
        grid_points: Points of the grid estimating the solid fraction.

    Returns:
        The packing; its ``solid_fraction_estimate`` is >= ``solid_fraction`` and exceeds it by
        at most the share of the last particle placed (plus the grid error).

    Raises:
        RuntimeError: if 50 particles in a row find no place (lower the target or allow overlap).
    """
    box_array = np.asarray(box, dtype=float)
    dim = box_array.size
    if dim not in (2, 3):
        raise ValueError(f"box must have 2 or 3 side lengths, got {box!r}")
    if not 0 < solid_fraction < 1:
        raise ValueError(f"solid_fraction must be in (0, 1), got {solid_fraction!r}")
    if not (0 <= max_overlap < 1):
        raise ValueError(f"max_overlap must be in [0, 1), got {max_overlap!r}")
    if mean_radius <= 0 or radius_std < 0 or np.any(box_array <= 0):
        raise ValueError("mean_radius and box lengths must be > 0, radius_std >= 0")
    bounds = radius_bounds or (mean_radius / 2, 2 * mean_radius)
    min_gap = mean_radius / 10 if min_gap is None else min_gap

    spacing = float((np.prod(box_array) / grid_points) ** (1 / dim))
    shape = np.maximum(np.ceil(box_array / spacing).astype(int), 1)
    spacings = box_array / shape
    covered = np.zeros(shape, dtype=bool)
    axes = [(np.arange(n) + 0.5) * h for n, h in zip(shape, spacings, strict=True)]

    def cover(centre: np.ndarray, radius: float) -> None:
        lower = np.clip(np.floor((centre - radius) / spacings).astype(int), 0, shape)
        upper = np.clip(np.ceil((centre + radius) / spacings).astype(int) + 1, 0, shape)
        window = tuple(slice(lo, hi) for lo, hi in zip(lower, upper, strict=True))
        local = np.meshgrid(
            *[axis[lo:hi] for axis, lo, hi in zip(axes, lower, upper, strict=True)], indexing="ij"
        )
        squared = sum((coordinate - c) ** 2 for coordinate, c in zip(local, centre, strict=True))
        covered[window] |= squared <= radius**2

    rng = np.random.default_rng(seed)
    centres = np.empty((0, dim))
    radii = np.empty(0)
    failures_in_a_row = 0
    while covered.mean() < solid_fraction:
        radius = _draw_radius(rng, mean_radius, radius_std, bounds)
        for _ in range(attempts_per_particle):
            # Centres inside the box: a cut particle keeps at least half of itself (no thin caps).
            high = box_array.copy()
            high[0] -= radius + min_gap
            centre = rng.random(dim) * high
            if _fits(centre, radius, centres, radii, box_array, min_gap, max_overlap):
                centres = np.vstack([centres, centre])
                radii = np.append(radii, radius)
                cover(centre, radius)
                failures_in_a_row = 0
                break
        else:
            failures_in_a_row += 1
            if failures_in_a_row >= 50:
                raise RuntimeError(
                    f"no room for more particles at solid fraction {covered.mean():.3f} "
                    f"(target {solid_fraction}): lower the target, min_gap, or allow overlap"
                )
    return Packing(
        box=tuple(float(length) for length in box_array),
        centres=centres,
        radii=radii,
        solid_fraction_estimate=float(covered.mean()),
        grid_spacing=float(spacings.max()),
    )


def packing_mesh(
    comm: MPI.Comm,
    packing: Packing,
    *,
    element_size: float,
    separator_thickness: float = 0.0,
    segments_per_circle: int = 16,
    rank: int = 0,
    ghost_mode: str = "none",
    mesh_file: str | Path | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> gmshio.MeshData:
    """Mesh a packing: electrolyte and particle cells, interface, collector and separator faces.

    Args:
        comm: Communicator the mesh is distributed on.
        packing: Particles from :func:`random_packing` (m).
        element_size: Largest element size in m.
        separator_thickness: Thickness in m of a particle-free electrolyte slab beyond x = L_x
            (cells "separator"); 0 for none.
        segments_per_circle: Elements per full circle along curved particle surfaces, which
            refines small particles and overlap necks below ``element_size``.
        rank: Rank that builds the gmsh model.
        ghost_mode: "none" or "shared_facet" (ghost cells across process boundaries, needed by
            interior-facet integrals over the particle/electrolyte interface).
        mesh_file: A gmsh ``.msh`` cache: when it exists it is read instead of meshing (the
            caller keeps it consistent with ``packing`` and the sizes), otherwise the new mesh
            is written there. Large packings take minutes to mesh.
        log: Progress of the stages (geometry, meshing) on the building rank: one line per
            stage, or a live bar (:mod:`electrolyx.progress`).

    Returns:
        The distributed mesh (coordinates in m) with cell tags, facet tags and named groups.
    """
    if element_size <= 0 or separator_thickness < 0 or len(packing.radii) == 0:
        raise ValueError("need element_size > 0, separator_thickness >= 0 and a particle")
    unit = float(np.mean(packing.radii))
    box = np.asarray(packing.box) / unit
    centres = packing.centres / unit
    radii = packing.radii / unit
    slab = separator_thickness / unit
    dim = packing.dim
    tol = 1e-6 * float(box.min())

    stages = Progress(log, 2, unit="mesh stage")

    def build(model: type[gmsh.model]) -> None:
        with stages:
            _build(model)

    def _build(model: type[gmsh.model]) -> None:
        if mesh_file is not None and Path(mesh_file).exists():
            stages.step(0, f"read {Path(mesh_file).name}")
            merge_msh_file(mesh_file)
            return
        stages.step(0, f"geometry of {len(radii)} particles (union, clip, fragment)")
        occ = model.occ
        if dim == 2:
            electrode = occ.addRectangle(0, 0, 0, box[0], box[1])
            particles = [
                occ.addDisk(c[0], c[1], 0, r, r) for c, r in zip(centres, radii, strict=True)
            ]
            separator = occ.addRectangle(box[0], 0, 0, slab, box[1]) if slab > 0 else None
        else:
            electrode = occ.addBox(0, 0, 0, *box)
            particles = [occ.addSphere(*c, r) for c, r in zip(centres, radii, strict=True)]
            separator = occ.addBox(box[0], 0, 0, slab, box[1], box[2]) if slab > 0 else None
        particle_tags = [(dim, tag) for tag in particles]
        if len(particle_tags) > 1:
            particle_tags, _ = occ.fuse(particle_tags[:1], particle_tags[1:])
        clip = occ.addRectangle(0, 0, 0, *box) if dim == 2 else occ.addBox(0, 0, 0, *box)
        particle_tags, _ = occ.intersect(particle_tags, [(dim, clip)])
        others = [(dim, electrode)] + ([(dim, separator)] if separator is not None else [])
        _, children = occ.fragment(others, particle_tags)
        occ.synchronize()

        solid = {tag for parent in children[len(others) :] for _, tag in parent}
        separator_cells = {tag for _, tag in children[1]} if separator is not None else set()
        cells = {
            "particles": sorted(solid),
            "electrolyte": sorted({tag for _, tag in children[0]} - solid - separator_cells),
            "separator": sorted(separator_cells),
        }
        facets: dict[str, list[int]] = {}
        for _, facet in model.getEntities(dim - 1):
            lower = np.asarray(model.getBoundingBox(dim - 1, facet)[:3])[:dim]
            upper = np.asarray(model.getBoundingBox(dim - 1, facet)[3:])[:dim]
            owners = set(model.getAdjacencies(dim - 1, facet)[0])
            if upper[0] < tol:
                name = "collector"
            elif lower[0] > box[0] + slab - tol:
                name = "separator_side"
            elif slab > 0 and abs(lower[0] - box[0]) < tol and abs(upper[0] - box[0]) < tol:
                name = "electrode_separator_boundary"
            elif np.any(upper[1:] < tol) or np.any(lower[1:] > box[1:] - tol):
                name = "side_wall"
            elif owners & solid and owners - solid:
                name = "interface"
            else:
                continue  # a facet between two pieces of one phase: untagged interior facet
            facets.setdefault(name, []).append(facet)

        for name, tags in cells.items():
            if tags:
                model.addPhysicalGroup(dim, tags, name=name)
        for name, tags in facets.items():
            model.addPhysicalGroup(dim - 1, tags, name=name)

        options = {
            "Mesh.MeshSizeMax": element_size / unit,
            "Mesh.MeshSizeFromCurvature": segments_per_circle,
            "Mesh.MeshSizeExtendFromBoundary": 1,
            "General.NumThreads": 1,
        }
        stages.update(quantity=f"{len(model.getEntities(dim))} pieces after the fragmentation")
        stages.step(1, f"gmsh {dim}D mesh, element size {element_size:.3g} m")
        with gmsh_options(options):
            model.mesh.generate(dim)
        stages.update(quantity=f"{sum(len(t) for t in model.mesh.getElements(dim)[1])} cells")
        model.mesh.affineTransform([unit, 0, 0, 0, 0, unit, 0, 0, 0, 0, unit, 0])
        if mesh_file is not None:
            Path(mesh_file).parent.mkdir(parents=True, exist_ok=True)
            gmsh.write(str(mesh_file))

    partitioner = None  # dolfinx's default: no ghost cells
    if ghost_mode != "none":
        partitioner = dolfinx.mesh.create_cell_partitioner(dolfinx.mesh.GhostMode[ghost_mode], 2)
    return distribute_gmsh_model(
        comm, build, gdim=dim, name=f"packing_{dim}d", rank=rank, partitioner=partitioner
    )
