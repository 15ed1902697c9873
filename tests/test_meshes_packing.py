"""Random particle packings: reproducibility, solid fraction vs target, box measures, groups."""

from __future__ import annotations

import electrolyx  # noqa: F401  (loads the MPI/PETSc libraries before dolfinx)

# isort: split

from mpi4py import MPI

import numpy as np
import pytest
from dolfinx.mesh import entities_to_geometry

from electrolyx.meshes.gmsh_tools import tagged_entities
from electrolyx.meshes.packing import Packing, packing_mesh, random_packing

RADIUS = 1.0e-6  # m, a typical NMC/graphite particle radius scale

# Straight box faces are meshed exactly: round-off only (scaling and summation).
STRAIGHT_RTOL = 1e-10

CELL_GROUPS = {"electrolyte", "particles", "separator"}
FACET_GROUPS = {
    "interface",
    "collector",
    "separator_side",
    "side_wall",
    "electrode_separator_boundary",
}


def _measure(mesh_data, name: str) -> float:
    """Global length/area/volume of a named group (exact for straight-sided simplices)."""
    mesh = mesh_data.mesh
    dim, entities = tagged_entities(mesh_data, name)
    entities = entities[entities < mesh.topology.index_map(dim).size_local]
    local = 0.0
    if entities.size:
        points = mesh.geometry.x[entities_to_geometry(mesh, dim, entities)]
        edges = points[:, 1:] - points[:, :1]
        gram = np.einsum("nid,njd->nij", edges, edges)
        k = edges.shape[1]
        local = float(np.sum(np.sqrt(np.abs(np.linalg.det(gram)))) / np.prod(np.arange(1, k + 1)))
    return mesh.comm.allreduce(local, op=MPI.SUM)


def _longest_edge(mesh_data, name: str) -> float:
    mesh = mesh_data.mesh
    dim, entities = tagged_entities(mesh_data, name)
    local = 0.0
    if entities.size:
        x = mesh.geometry.x[entities_to_geometry(mesh, dim, entities)]
        k = x.shape[1]
        local = max(
            float(np.linalg.norm(x[:, i] - x[:, j], axis=1).max())
            for i in range(k)
            for j in range(i)
        )
    return mesh.comm.allreduce(local, op=MPI.MAX)


def _faceting_bound(mesh_data, min_radius: float) -> float:
    """Bound on |meshed - exact| particle area/volume from the faceted interface (global).

    Interface vertices lie on circles/spheres of radius >= r_min. A chord of length e leaves a
    gap <= r - sqrt(r**2 - e**2/4) to its arc; a triangle with longest edge e leaves
    <= r - sqrt(r**2 - e**2/3) (its points' power w.r.t. its circumcircle is <= e**2/3), and
    the gap grows as r decreases, so r_min bounds it. The region between a facet of measure A
    and its patch is then <= A gap / (1 - gap/r_min)**(d-1) (radial projection of the facet).
    """
    mesh = mesh_data.mesh
    fdim = mesh.topology.dim - 1
    _, facets = tagged_entities(mesh_data, "interface")
    facets = facets[facets < mesh.topology.index_map(fdim).size_local]
    local = 0.0
    if facets.size:
        x = mesh.geometry.x[entities_to_geometry(mesh, fdim, facets)]
        k = x.shape[1]
        longest = np.max(
            [np.linalg.norm(x[:, i] - x[:, j], axis=1) for i in range(k) for j in range(i)], axis=0
        )
        edges = x[:, 1:] - x[:, :1]
        measure = np.sqrt(np.abs(np.linalg.det(np.einsum("nid,njd->nij", edges, edges))))
        measure /= np.prod(np.arange(1, k))
        gap = min_radius - np.sqrt(min_radius**2 - longest**2 / (4 if k == 2 else 3))
        local = float(np.sum(measure * gap / (1 - gap / min_radius) ** (k - 1)))
    return mesh.comm.allreduce(local, op=MPI.SUM)


def test_random_packing_is_reproducible_from_its_seed():
    parameters = {"solid_fraction": 0.3, "mean_radius": RADIUS, "radius_std": 0.3 * RADIUS}
    first = random_packing((8 * RADIUS, 6 * RADIUS), seed=7, **parameters)
    again = random_packing((8 * RADIUS, 6 * RADIUS), seed=7, **parameters)
    other = random_packing((8 * RADIUS, 6 * RADIUS), seed=8, **parameters)
    np.testing.assert_array_equal(first.centres, again.centres)
    np.testing.assert_array_equal(first.radii, again.radii)
    assert first.centres.shape != other.centres.shape or not np.allclose(
        first.centres, other.centres
    )


def test_random_packing_keeps_gaps_and_the_separator_face_clear():
    box = (10 * RADIUS, 6 * RADIUS)
    gap = 0.1 * RADIUS
    packing = random_packing(box, solid_fraction=0.4, mean_radius=RADIUS, min_gap=gap, seed=3)
    centres, radii = packing.centres, packing.radii
    distance = np.linalg.norm(centres[:, None] - centres[None], axis=2)
    clearance = distance - radii[:, None] - radii[None]
    np.fill_diagonal(clearance, np.inf)
    assert clearance.min() >= gap  # exact: an inequality the placement enforces
    assert np.all(centres[:, 0] + radii <= box[0] - gap)
    # Target reached by the grid estimate, overshooting by at most the last particle's share,
    # counted on the grid: its pixels differ from its area by <= 2 sqrt(2) h 2 pi r / |box|.
    last_share = np.pi * radii[-1] ** 2 / np.prod(box)
    last_pixels = 2 * np.sqrt(2) * packing.grid_spacing * 2 * np.pi * radii[-1] / np.prod(box)
    assert 0.4 <= packing.solid_fraction_estimate <= 0.4 + last_share + last_pixels


def _solid_fraction_tolerance(mesh_data, packing) -> tuple[float, float]:
    """Bounds (below, above) on mesh solid fraction - target, each term an inequality.

    - placement stops at the first grid estimate >= target: overshoot <= last particle's share;
    - grid estimate: only grid cells within h sqrt(d) of the particle boundary (length/area P)
      can be misclassified, so |estimate - exact| <= 2 sqrt(d) h P / |box|;
    - faceting: :func:`_faceting_bound`.
    """
    dim = packing.dim
    box_measure = float(np.prod(packing.box))
    # Chords e <= r_min fall short of their arcs by < asin(1/2)**2 / 6 < 5%.
    assert _longest_edge(mesh_data, "interface") <= packing.radii.min()
    perimeter = _measure(mesh_data, "interface") / 0.95
    grid = 2 * np.sqrt(dim) * packing.grid_spacing * perimeter / box_measure
    faceting = _faceting_bound(mesh_data, packing.radii.min()) / box_measure
    last_share = (np.pi if dim == 2 else 4 * np.pi / 3) * packing.radii[-1] ** dim / box_measure
    return grid + faceting, last_share + grid + faceting


@pytest.mark.mpi
@pytest.mark.parametrize("max_overlap", [0.0, 0.3])
def test_disk_packing_mesh_fraction_groups_and_exact_box(max_overlap):
    box = (10 * RADIUS, 6 * RADIUS)
    separator = 2 * RADIUS
    target = 0.4
    packing = random_packing(
        box,
        solid_fraction=target,
        mean_radius=RADIUS,
        radius_std=0.3 * RADIUS,
        max_overlap=max_overlap,
        seed=11,
    )
    mesh_data = packing_mesh(
        MPI.COMM_WORLD, packing, element_size=0.5 * RADIUS, separator_thickness=separator
    )
    assert set(mesh_data.physical_groups) == CELL_GROUPS | FACET_GROUPS
    measures = {name: _measure(mesh_data, name) for name in sorted(mesh_data.physical_groups)}
    assert all(value > 0 for value in measures.values()), measures

    # The outer box is straight: exact up to round-off.
    electrode_area = box[0] * box[1]
    assert measures["electrolyte"] + measures["particles"] == pytest.approx(
        electrode_area, rel=STRAIGHT_RTOL
    )
    assert measures["separator"] == pytest.approx(separator * box[1], rel=STRAIGHT_RTOL)
    assert measures["collector"] == pytest.approx(box[1], rel=STRAIGHT_RTOL)
    assert measures["separator_side"] == pytest.approx(box[1], rel=STRAIGHT_RTOL)
    assert measures["electrode_separator_boundary"] == pytest.approx(box[1], rel=STRAIGHT_RTOL)
    assert measures["side_wall"] == pytest.approx(2 * (box[0] + separator), rel=STRAIGHT_RTOL)

    below, above = _solid_fraction_tolerance(mesh_data, packing)
    fraction = measures["particles"] / electrode_area
    assert target - below <= fraction <= target + above


def test_disk_packing_interface_length_without_overlap():
    """Disjoint disks cut only by the box: interface = arcs inside the box, minus faceting."""
    box = (10 * RADIUS, 6 * RADIUS)
    packing = random_packing(box, solid_fraction=0.35, mean_radius=RADIUS, seed=5)
    mesh_data = packing_mesh(MPI.COMM_SELF, packing, element_size=0.5 * RADIUS)
    # Arc length inside the box, from 2**16 equispaced angles per disk: each disk's arcs have
    # at most 8 ends (two per face), each misplaced by < one angle step: relative error < 1e-3.
    angles = np.linspace(0, 2 * np.pi, 2**16, endpoint=False)
    arcs = 0.0
    for centre, radius in zip(packing.centres, packing.radii, strict=True):
        points = centre + radius * np.column_stack([np.cos(angles), np.sin(angles)])
        inside = np.all((points > 0) & (points < np.asarray(box)), axis=1)
        arcs += 2 * np.pi * radius * inside.mean()
    # Chords of arcs of angle theta have length (sin(theta/2)/(theta/2)) x the arc, and
    # 1 - sin(u)/u <= u**2/6 with u = theta/2 <= asin(e / (2 r_min)).
    half_angle = np.arcsin(_longest_edge(mesh_data, "interface") / (2 * packing.radii.min()))
    shortfall = half_angle**2 / 6
    interface = _measure(mesh_data, "interface")
    assert arcs * (1 - shortfall - 1e-3) <= interface <= arcs * (1 + 1e-3)


@pytest.mark.mpi
def test_sphere_packing_mesh_fraction_groups_and_exact_box():
    box = (6 * RADIUS, 4 * RADIUS, 4 * RADIUS)
    target = 0.2
    packing = random_packing(
        box, solid_fraction=target, mean_radius=RADIUS, max_overlap=0.3, seed=2, grid_points=2**21
    )
    mesh_data = packing_mesh(MPI.COMM_WORLD, packing, element_size=0.5 * RADIUS)
    expected_groups = (CELL_GROUPS | FACET_GROUPS) - {"separator", "electrode_separator_boundary"}
    assert set(mesh_data.physical_groups) == expected_groups
    measures = {name: _measure(mesh_data, name) for name in sorted(mesh_data.physical_groups)}
    assert all(value > 0 for value in measures.values()), measures
    volume = float(np.prod(box))
    assert measures["electrolyte"] + measures["particles"] == pytest.approx(
        volume, rel=STRAIGHT_RTOL
    )
    assert measures["collector"] == pytest.approx(box[1] * box[2], rel=STRAIGHT_RTOL)
    below, above = _solid_fraction_tolerance(mesh_data, packing)
    fraction = measures["particles"] / volume
    assert target - below <= fraction <= target + above
    # The worst-case grid bound dominates in 3D (h = 0.03 r); it still excludes gross errors
    # (a phase swapped would give 0.8, a lost cut particle ~0.15).
    assert above < 0.7 * target


def test_sphere_mesh_of_hand_placed_particles_has_the_exact_solid_volume():
    """Whole, cut (face, edge) and overlapping spheres: volumes known in closed form."""
    r, small, distance = RADIUS, 0.8 * RADIUS, 1.0 * RADIUS
    packing = Packing(
        box=(6 * RADIUS, 4 * RADIUS, 4 * RADIUS),
        centres=np.array(
            [
                [3.0, 2.0, 2.0],  # whole sphere
                [0.0, 2.0, 2.0],  # halved by the collector face
                [3.0, 0.0, 0.0],  # quartered on the edge y = z = 0
                [4.6, 2.5, 3.0],  # two overlapping spheres of radius 0.8 r, 1.0 r apart
                [4.6, 1.5, 3.0],
            ]
        )
        * RADIUS,
        radii=np.array([r, r, r, small, small]),
        solid_fraction_estimate=np.nan,
        grid_spacing=np.nan,
    )
    mesh_data = packing_mesh(
        MPI.COMM_WORLD, packing, element_size=0.5 * RADIUS, segments_per_circle=24
    )
    ball = 4 / 3 * np.pi * r**3
    # Lens shared by two spheres of radius a at distance d: pi (4a + d)(2a - d)**2 / 12.
    lens = np.pi * (4 * small + distance) * (2 * small - distance) ** 2 / 12
    exact = ball + ball / 2 + ball / 4 + 2 * (4 / 3 * np.pi * small**3) - lens
    tolerance = _faceting_bound(mesh_data, small)
    assert _measure(mesh_data, "particles") == pytest.approx(exact, abs=tolerance)
    # Tight enough to mean something: losing the quarter sphere would change the volume by 9%.
    assert tolerance < 0.05 * exact
    assert _measure(mesh_data, "electrolyte") + _measure(mesh_data, "particles") == (
        pytest.approx(96 * RADIUS**3, rel=STRAIGHT_RTOL)
    )


@pytest.mark.mpi
def test_packing_mesh_distributed_equals_serial():
    packing = random_packing(
        (6 * RADIUS, 4 * RADIUS, 3 * RADIUS), solid_fraction=0.15, mean_radius=RADIUS, seed=4
    )
    distributed = packing_mesh(MPI.COMM_WORLD, packing, element_size=0.6 * RADIUS)
    serial = packing_mesh(MPI.COMM_SELF, packing, element_size=0.6 * RADIUS)
    assert distributed.physical_groups == serial.physical_groups
    assert (
        distributed.mesh.topology.index_map(3).size_global
        == serial.mesh.topology.index_map(3).size_global
    )
    for name in sorted(serial.physical_groups):
        # Same simplices summed in another partition and order: round-off only.
        assert _measure(distributed, name) == pytest.approx(
            _measure(serial, name), rel=STRAIGHT_RTOL
        ), name
