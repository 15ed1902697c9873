"""Nanochannel and nanopore meshes: exact region measures, named groups, Debye-length wall size.

Measures are summed over owned entities with exact formulas for straight-sided cells (triangle
area, tetrahedron volume, Pappus' theorem for the axisymmetric 2 pi r dA), so any error is the
geometry's, not a quadrature's.
"""

from __future__ import annotations

import electrolyx  # noqa: F401  (loads the MPI/PETSc libraries before dolfinx)

# isort: split

from mpi4py import MPI

import gmsh
import numpy as np
import pytest
from dolfinx.mesh import entities_to_geometry

from electrolyx.meshes.gmsh_tools import (
    distribute_gmsh_model,
    facet_bounding_boxes,
    physical_tag,
    tagged_entities,
)
from electrolyx.meshes.interval import geometric_ratio
from electrolyx.meshes.nanochannel import slit_nanochannel, wall_graded_cells
from electrolyx.meshes.nanopore import axisymmetric_nanopore, cylindrical_nanopore

DEBYE_LENGTH = 1.0e-9  # m (about 92 mol/m3 of a 1:1 salt in water at 298 K)

# Straight-sided regions are meshed exactly: only round-off in the scaling from Debye-length
# units to metres and in the summation over ~1e4 cells remains (~1e-13 relative).
STRAIGHT_RTOL = 1e-10


def _owned(mesh, dim: int, entities: np.ndarray) -> np.ndarray:
    return entities[entities < mesh.topology.index_map(dim).size_local]


def _simplex_measures(points: np.ndarray) -> np.ndarray:
    """Length, area or volume of simplices given as (n, k + 1, 3) vertex arrays."""
    edges = points[:, 1:] - points[:, :1]
    gram = np.einsum("nid,njd->nij", edges, edges)
    k = edges.shape[1]
    return np.sqrt(np.abs(np.linalg.det(gram))) / np.prod(np.arange(1, k + 1))


def _measure(mesh_data, name: str, axisymmetric: bool = False) -> float:
    """Global length/area/volume of a named group; 2 pi r weighted when axisymmetric."""
    mesh = mesh_data.mesh
    dim, entities = tagged_entities(mesh_data, name)
    entities = _owned(mesh, dim, entities)
    if entities.size == 0:
        local = 0.0
    else:
        points = mesh.geometry.x[entities_to_geometry(mesh, dim, entities)]
        measures = _simplex_measures(points)
        if axisymmetric:  # Pappus: int 2 pi r dA = 2 pi r_centroid A, exact on a simplex
            measures = measures * 2 * np.pi * points[:, :, 0].mean(axis=1)
        local = float(measures.sum())
    return mesh.comm.allreduce(local, op=MPI.SUM)


def _global_count(mesh_data, name: str) -> int:
    mesh = mesh_data.mesh
    dim, entities = tagged_entities(mesh_data, name)
    return mesh.comm.allreduce(int(_owned(mesh, dim, entities).size), op=MPI.SUM)


def _edge_lengths(points: np.ndarray) -> np.ndarray:
    """Longest edge of each simplex in an (n, k + 1, 3) vertex array."""
    k = points.shape[1]
    return np.max(
        [np.linalg.norm(points[:, i] - points[:, j], axis=1) for i in range(k) for j in range(i)],
        axis=0,
    )


def _longest_edge_of_cells_on(mesh_data, facet_group: str) -> float:
    """Longest edge of any cell with a facet in ``facet_group`` (global)."""
    mesh = mesh_data.mesh
    tdim = mesh.topology.dim
    _, facets = tagged_entities(mesh_data, facet_group)
    mesh.topology.create_connectivity(tdim - 1, tdim)
    facet_to_cells = mesh.topology.connectivity(tdim - 1, tdim)
    local = 0.0
    if facets.size:
        cells = np.unique(np.concatenate([facet_to_cells.links(f) for f in facets]))
        local = float(_edge_lengths(mesh.geometry.x[entities_to_geometry(mesh, tdim, cells)]).max())
    return mesh.comm.allreduce(local, op=MPI.MAX)


def _longest_facet_edge(mesh_data, facet_group: str) -> float:
    mesh = mesh_data.mesh
    _, facets = tagged_entities(mesh_data, facet_group)
    local = 0.0
    if facets.size:
        points = mesh.geometry.x[entities_to_geometry(mesh, mesh.topology.dim - 1, facets)]
        local = float(_edge_lengths(points).max())
    return mesh.comm.allreduce(local, op=MPI.MAX)


def _assert_all_cells_grouped(mesh_data, cell_groups: set[str]) -> None:
    mesh = mesh_data.mesh
    tdim = mesh.topology.dim
    grouped = sum(_global_count(mesh_data, name) for name in sorted(cell_groups))
    assert grouped == mesh.topology.index_map(tdim).size_global


# --- slit nanochannel -----------------------------------------------------------------------

SLIT = {
    "channel_length": 4 * DEBYE_LENGTH,
    "channel_half_height": 1 * DEBYE_LENGTH,
    "reservoir_length": 2 * DEBYE_LENGTH,
    "reservoir_height": 5 * DEBYE_LENGTH,
    "debye_length": DEBYE_LENGTH,
    "max_size": 1 * DEBYE_LENGTH,
    "wall_layer_thickness": 0.5 * DEBYE_LENGTH,
}


@pytest.mark.mpi
@pytest.mark.parametrize("half_channel", [False, True])
@pytest.mark.parametrize("dielectric_walls", [False, True])
def test_slit_nanochannel_regions_boundaries_and_wall_size(half_channel, dielectric_walls):
    mesh_data = slit_nanochannel(
        MPI.COMM_WORLD, half_channel=half_channel, dielectric_walls=dielectric_walls, **SLIT
    )
    length, h = SLIT["channel_length"], SLIT["channel_half_height"]
    res_length, height = SLIT["reservoir_length"], SLIT["reservoir_height"]
    walls = 1 if half_channel else 2  # charged walls; also the fraction of the height meshed
    span = height / 2 if half_channel else height

    cells = {
        "channel": length * h * walls,
        "reservoir_left": res_length * span,
        "reservoir_right": res_length * span,
    }
    facets = {
        "channel_wall": length * walls,
        "channel_entrance_left": h * walls,
        "channel_entrance_right": h * walls,
        "membrane_surface_left": (height / 2 - h) * walls,
        "membrane_surface_right": (height / 2 - h) * walls,
        "reservoir_left_end": span,
        "reservoir_right_end": span,
        "reservoir_wall": res_length * 2 * walls,
    }
    if half_channel:
        facets["symmetry"] = length + 2 * res_length
    if dielectric_walls:
        cells["solid"] = length * (height / 2 - h) * walls
        facets["solid_outer_boundary"] = length * walls
    assert set(mesh_data.physical_groups) == set(cells) | set(facets)
    for name, exact in (cells | facets).items():
        assert _global_count(mesh_data, name) > 0, name
        assert _measure(mesh_data, name) == pytest.approx(exact, rel=STRAIGHT_RTOL), name
    _assert_all_cells_grouped(mesh_data, set(cells))

    # The requirement itself: every edge of every triangle touching a charged wall <= lambda_D/4.
    assert _longest_edge_of_cells_on(mesh_data, "channel_wall") <= DEBYE_LENGTH / 4
    # ...and away from the walls the mesh does coarsen (the size field is not uniformly fine).
    mesh = mesh_data.mesh
    x = mesh.geometry.x[
        entities_to_geometry(mesh, 2, np.arange(mesh.topology.index_map(2).size_local))
    ]
    coarsest = mesh.comm.allreduce(float(_edge_lengths(x).max(initial=0.0)), op=MPI.MAX)
    assert coarsest > DEBYE_LENGTH / 2


@pytest.mark.mpi
@pytest.mark.parametrize("half_channel", [False, True])
def test_structured_slit_nanochannel_grades_the_wall_normal_size(half_channel):
    axial_size = 0.5 * DEBYE_LENGTH
    parameters = SLIT | {
        "channel_length": 20 * DEBYE_LENGTH,
        "channel_half_height": 3 * DEBYE_LENGTH,
        "reservoir_height": 8 * DEBYE_LENGTH,
    }
    mesh_data = slit_nanochannel(
        MPI.COMM_WORLD, half_channel=half_channel, axial_size=axial_size, **parameters
    )
    length, h = parameters["channel_length"], parameters["channel_half_height"]
    walls = 1 if half_channel else 2
    assert "symmetry" in mesh_data.physical_groups or not half_channel
    assert _measure(mesh_data, "channel") == pytest.approx(length * h * walls, rel=STRAIGHT_RTOL)
    assert _measure(mesh_data, "channel_wall") == pytest.approx(length * walls, rel=STRAIGHT_RTOL)

    # Structured: 2 triangles per (axial column x graded row), rows from wall_graded_cells.
    rows, _ = wall_graded_cells(h, 0.999 * DEBYE_LENGTH / 4, growth_rate=0.3)
    columns = round(length / axial_size)
    assert _global_count(mesh_data, "channel") == 2 * columns * rows * walls

    # Wall-normal height of each channel triangle on the wall: 2 area / wall edge = wall_size
    # less the 0.1% margin, up to gmsh's rounding of the progression (~1e-7).
    mesh = mesh_data.mesh
    _, wall_facets = tagged_entities(mesh_data, "channel_wall")
    _, channel_cells = tagged_entities(mesh_data, "channel")
    mesh.topology.create_connectivity(1, 2)
    facet_to_cells = mesh.topology.connectivity(1, 2)
    heights = []
    for facet in wall_facets:
        for cell in np.intersect1d(facet_to_cells.links(facet), channel_cells):
            triangle = mesh.geometry.x[entities_to_geometry(mesh, 2, np.array([cell]))[0]]
            edge = mesh.geometry.x[entities_to_geometry(mesh, 1, np.array([facet]))[0]]
            area = _simplex_measures(triangle[None])[0]
            heights.append(2 * area / np.linalg.norm(edge[1] - edge[0]))
    local = (min(heights), max(heights)) if heights else (np.inf, 0.0)
    lowest = mesh.comm.allreduce(local[0], op=MPI.MIN)
    highest = mesh.comm.allreduce(local[1], op=MPI.MAX)
    assert highest <= DEBYE_LENGTH / 4
    assert lowest == pytest.approx(0.999 * DEBYE_LENGTH / 4, rel=1e-6)


@pytest.mark.parametrize(
    ("height", "first_size", "growth_rate"), [(50.0, 0.25, 0.3), (3.0, 0.25, 0.1), (0.2, 0.25, 0.3)]
)
def test_wall_graded_cells_fill_the_height_with_the_fewest_cells(height, first_size, growth_rate):
    cells, ratio = wall_graded_cells(height, first_size, growth_rate)
    sizes = first_size * ratio ** np.arange(cells)
    if ratio > 1:
        assert sizes.sum() == pytest.approx(height, rel=1e-12)  # bisection to round-off
        assert ratio <= 1 + growth_rate
        # One cell fewer would need a steeper progression than allowed.
        assert geometric_ratio(height, first_size, cells - 1) > 1 + growth_rate or cells == 2
    else:
        assert cells == max(1, int(np.ceil(height / first_size)))


def test_slit_nanochannel_facet_bounding_boxes():
    mesh_data = slit_nanochannel(MPI.COMM_WORLD, **SLIT)
    half_length = SLIT["channel_length"] / 2
    h = SLIT["channel_half_height"]
    far = half_length + SLIT["reservoir_length"]
    top = SLIT["reservoir_height"] / 2
    expected = {
        "channel_wall": ([-half_length, -h], [half_length, h]),
        "channel_entrance_right": ([half_length, -h], [half_length, h]),
        "membrane_surface_left": ([-half_length, -top], [-half_length, top]),
        "reservoir_left_end": ([-far, -top], [-far, top]),
        "reservoir_wall": ([-far, -top], [far, top]),
    }
    boxes = facet_bounding_boxes(mesh_data)
    assert set(boxes) == {
        name for name, group in mesh_data.physical_groups.items() if group.dim == 1
    }
    for name, (lower, upper) in expected.items():
        # Box corners are mesh vertices on straight boundaries: exact up to round-off.
        np.testing.assert_allclose(boxes[name][0][:2], lower, rtol=0, atol=1e-12 * far)
        np.testing.assert_allclose(boxes[name][1][:2], upper, rtol=0, atol=1e-12 * far)


def test_slit_nanochannel_rejects_inconsistent_geometry():
    with pytest.raises(ValueError, match="reservoir_height"):
        slit_nanochannel(MPI.COMM_WORLD, **(SLIT | {"reservoir_height": 2 * DEBYE_LENGTH}))
    with pytest.raises(ValueError, match="wall_size"):
        slit_nanochannel(MPI.COMM_WORLD, **(SLIT | {"wall_size": 2 * SLIT["max_size"]}))


# --- nanopores ------------------------------------------------------------------------------

PORE = {
    "pore_radius": 0.5 * DEBYE_LENGTH,
    "pore_length": 0.5 * DEBYE_LENGTH,
    "reservoir_radius": 1.0 * DEBYE_LENGTH,
    "reservoir_height": 0.5 * DEBYE_LENGTH,
    "debye_length": DEBYE_LENGTH,
    "max_size": 1.0 * DEBYE_LENGTH,
    "wall_layer_thickness": 0.25 * DEBYE_LENGTH,
    "growth_rate": 1.0,
}


def _inscribed_deficit_bound(longest_edge: float, radius: float) -> float:
    """Bound on the relative area/volume a faceted circle or cylinder of ``radius`` misses.

    Facets with vertices on the circle of radius R and edges <= e span an angle
    phi <= 2 asin(e / 2R), so the faceted boundary stays outside radius R cos(phi / 2): the
    region contains the disc/cylinder of that radius and lies inside the exact one, so
    0 <= 1 - measure/exact <= 1 - cos(phi / 2)**2 = (e / 2R)**2.
    """
    return (longest_edge / (2 * radius)) ** 2


@pytest.mark.mpi
@pytest.mark.parametrize("membrane_solid", [False, True])
def test_cylindrical_nanopore_volumes_groups_and_wall_size(membrane_solid):
    mesh_data = cylindrical_nanopore(MPI.COMM_WORLD, membrane_solid=membrane_solid, **PORE)
    a, length = PORE["pore_radius"], PORE["pore_length"]
    radius, height = PORE["reservoir_radius"], PORE["reservoir_height"]
    cells = {"pore", "reservoir_top", "reservoir_bottom"} | (
        {"membrane"} if membrane_solid else set()
    )
    facets = {
        "pore_wall",
        "pore_opening_top",
        "pore_opening_bottom",
        "membrane_surface_top",
        "membrane_surface_bottom",
        "reservoir_top_end",
        "reservoir_bottom_end",
        "reservoir_wall",
    } | ({"membrane_outer_wall"} if membrane_solid else set())
    assert set(mesh_data.physical_groups) == cells | facets
    for name in sorted(cells | facets):  # sets iterate in a per-rank hash order
        assert _global_count(mesh_data, name) > 0, name
    _assert_all_cells_grouped(mesh_data, cells)

    # Curved boundaries are inscribed polyhedra: each measure lies in [exact (1 - bound), exact]
    # with the bound of _inscribed_deficit_bound from the longest edge on that circle/cylinder.
    pore_bound = _inscribed_deficit_bound(_longest_facet_edge(mesh_data, "pore_wall"), a)
    outer_bound = _inscribed_deficit_bound(_longest_facet_edge(mesh_data, "reservoir_wall"), radius)
    # Wall edges <= lambda_D/4 on a pore of radius lambda_D/2 give at most (1/4)**2 = 0.0625.
    assert 0 < pore_bound <= (DEBYE_LENGTH / 4 / (2 * a)) ** 2
    exact_below = {
        "pore": (np.pi * a**2 * length, pore_bound),
        "pore_opening_top": (np.pi * a**2, pore_bound),
        "reservoir_top": (np.pi * radius**2 * height, outer_bound),
        "reservoir_bottom": (np.pi * radius**2 * height, outer_bound),
        "reservoir_top_end": (np.pi * radius**2, outer_bound),
    }
    for name, (exact, bound) in exact_below.items():
        measured = _measure(mesh_data, name)
        assert exact * (1 - bound) * (1 - STRAIGHT_RTOL) <= measured <= exact * (1 + STRAIGHT_RTOL)
    # Annuli gain the pore's deficit and lose the outer one: |error| <= max of the two.
    annulus = np.pi * (radius**2 - a**2)
    annulus_tolerance = max(np.pi * a**2 * pore_bound, np.pi * radius**2 * outer_bound)
    assert _measure(mesh_data, "membrane_surface_top") == pytest.approx(
        annulus, abs=annulus_tolerance
    )
    if membrane_solid:
        assert _measure(mesh_data, "membrane") == pytest.approx(
            annulus * length, abs=annulus_tolerance * length
        )

    boxes = facet_bounding_boxes(mesh_data)
    lower, upper = boxes["pore_wall"]
    # Vertices lie on the cylinder r = a, |z| <= L/2 (gmsh places them on the CAD surface).
    np.testing.assert_allclose([lower[2], upper[2]], [-length / 2, length / 2], atol=1e-12 * a)
    assert np.all(np.abs(np.concatenate([lower[:2], upper[:2]])) <= a * (1 + 1e-12))

    assert _longest_edge_of_cells_on(mesh_data, "pore_wall") <= DEBYE_LENGTH / 4


@pytest.mark.mpi
@pytest.mark.parametrize("membrane_solid", [False, True])
def test_axisymmetric_nanopore_volumes_groups_and_wall_size(membrane_solid):
    mesh_data = axisymmetric_nanopore(MPI.COMM_WORLD, membrane_solid=membrane_solid, **PORE)
    a, length = PORE["pore_radius"], PORE["pore_length"]
    radius, height = PORE["reservoir_radius"], PORE["reservoir_height"]
    # Volumes of revolution of the (r, z) rectangles, and areas of revolution of the boundaries.
    volumes = {
        "pore": np.pi * a**2 * length,
        "reservoir_top": np.pi * radius**2 * height,
        "reservoir_bottom": np.pi * radius**2 * height,
    }
    areas = {
        "pore_wall": 2 * np.pi * a * length,
        "pore_opening_top": np.pi * a**2,
        "pore_opening_bottom": np.pi * a**2,
        "membrane_surface_top": np.pi * (radius**2 - a**2),
        "membrane_surface_bottom": np.pi * (radius**2 - a**2),
        "reservoir_top_end": np.pi * radius**2,
        "reservoir_bottom_end": np.pi * radius**2,
        "reservoir_wall": 2 * 2 * np.pi * radius * height,
    }
    if membrane_solid:
        volumes["membrane"] = np.pi * (radius**2 - a**2) * length
        areas["membrane_outer_wall"] = 2 * np.pi * radius * length
    assert set(mesh_data.physical_groups) == set(volumes) | set(areas) | {"axis"}
    for name, exact in (volumes | areas).items():
        assert _global_count(mesh_data, name) > 0, name
        # Pappus on straight-sided triangles and segments is exact: round-off only.
        assert _measure(mesh_data, name, axisymmetric=True) == pytest.approx(
            exact, rel=STRAIGHT_RTOL
        ), name
    assert _measure(mesh_data, "axis") == pytest.approx(length + 2 * height, rel=STRAIGHT_RTOL)
    _assert_all_cells_grouped(mesh_data, set(volumes))
    assert _longest_edge_of_cells_on(mesh_data, "pore_wall") <= DEBYE_LENGTH / 4


def test_nanopore_size_factor_scales_cell_count():
    """Cells scale as size_factor**-3 in 3D; the factor makes hundred-cell test meshes."""
    counts = {}
    for size_factor in (2.0, 4.0):
        mesh_data = cylindrical_nanopore(MPI.COMM_SELF, size_factor=size_factor, **PORE)
        counts[size_factor] = mesh_data.mesh.topology.index_map(3).size_global
    assert counts[4.0] < 1000
    # Ideal ratio 2**3 = 8 for sizes proportional to size_factor; a factor 2 either way allows for
    # the surface meshes and the size clipping at the small pore, which do not scale exactly.
    assert 4 < counts[2.0] / counts[4.0] < 16


# --- plumbing -------------------------------------------------------------------------------


def test_named_groups_only_and_callers_gmsh_session_left_alone():
    gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 1)
        gmsh.model.add("callers_model")
        mesh_data = axisymmetric_nanopore(MPI.COMM_SELF, size_factor=4.0, **PORE)
        assert gmsh.isInitialized()
        assert gmsh.model.getCurrent() == "callers_model"
        assert gmsh.option.getNumber("Mesh.MeshSizeFromPoints") == 1
    finally:
        gmsh.finalize()
    tag = physical_tag(mesh_data, "pore_wall")
    assert mesh_data.facet_tags.find(tag).size > 0
    with pytest.raises(KeyError, match="pore_wall"):  # the message lists the known groups
        physical_tag(mesh_data, "channel_wall")


@pytest.mark.mpi
def test_a_failed_gmsh_build_raises_on_every_rank_and_cleans_up():
    """A failure on the building rank must not leave the other ranks waiting in model_to_mesh."""

    def build(model):
        model.occ.addRectangle(0, 0, 0, 1, 1)
        raise ValueError("geometry rejected")

    with pytest.raises((ValueError, RuntimeError), match="geometry rejected"):
        distribute_gmsh_model(MPI.COMM_WORLD, build, gdim=2, name="failing")
    assert not gmsh.isInitialized()  # the generator finalized the gmsh it had started


@pytest.mark.mpi
@pytest.mark.parametrize(
    ("generator", "parameters"),
    [
        (slit_nanochannel, SLIT),
        (slit_nanochannel, SLIT | {"axial_size": DEBYE_LENGTH / 2, "dielectric_walls": True}),
        (cylindrical_nanopore, PORE | {"membrane_solid": True}),
    ],
)
def test_distributed_mesh_matches_serial_mesh(generator, parameters):
    """Under mpiexec the mesh is split, not changed: counts and measures equal a serial build."""
    distributed = generator(MPI.COMM_WORLD, **parameters)
    serial = generator(MPI.COMM_SELF, **parameters)
    tdim = distributed.mesh.topology.dim
    assert (
        distributed.mesh.topology.index_map(tdim).size_global
        == serial.mesh.topology.index_map(tdim).size_global
    )
    assert distributed.physical_groups == serial.physical_groups
    for name in sorted(distributed.physical_groups):
        assert _global_count(distributed, name) == _global_count(serial, name), name
        # Same cells summed in another order and partition: round-off only.
        assert _measure(distributed, name) == pytest.approx(
            _measure(serial, name), rel=STRAIGHT_RTOL
        ), name
