"""Geometry of a DFN cell: the layered mesh (1D, or a 2D/3D pouch stack) and its named parts.

Regions negative electrode | separator | positive electrode lie on one gmsh interval (1D) or on
a pouch-cell stack (2D cross-section or 3D, :class:`CellGeometry`, optionally with
current-collector foils and tabs). :class:`CellLayout` builds the mesh and knows its terminals,
the electrolyte-filled regions and how much of the cell's electrode area the mesh stands for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mpi4py import MPI

import dolfinx
import numpy as np

from electrolyx.mesh_cache import cached_arrays
from electrolyx.meshes.gmsh_arrays import GmshMesh, distribute_arrays
from electrolyx.meshes.gmsh_tools import on_rank, physical_tag
from electrolyx.meshes.layered_interval import Layer, layered_interval_arrays
from electrolyx.meshes.pouch import Tab, pouch_cell_arrays
from electrolyx.parameters.base import CellParameters

__all__ = [
    "CellGeometry",
    "CellLayout",
    "CurrentCollectorFoil",
    "DFNResolution",
    "LithiumCounterElectrode",
    "Submesh",
    "TabPlacement",
]

NEGATIVE, SEPARATOR, POSITIVE = "negative_electrode", "separator", "positive_electrode"
LITHIUM = "lithium_counter_electrode"
NEGATIVE_FOIL, POSITIVE_FOIL = "negative_foil", "positive_foil"
NEGATIVE_COLLECTOR, POSITIVE_COLLECTOR = "negative_current_collector", "positive_current_collector"
NEGATIVE_TAB, POSITIVE_TAB = "negative_tab", "positive_tab"


@dataclass(frozen=True)
class LithiumCounterElectrode:
    """Lithium-metal counter electrode of a half cell (replaces the negative electrode).

    Symmetric Butler-Volmer kinetics (alpha_a = alpha_c = 0.5) with open-circuit potential 0 V
    against itself: j_Li = 2 j0_Li sinh(eta_Li / (2 V_T)), positive when lithium dissolves.

    Attributes:
        exchange_current_density_A_m2: j0_Li per unit electrode area [A/m2] (constant).
    """

    exchange_current_density_A_m2: float

    def __post_init__(self):
        if not self.exchange_current_density_A_m2 > 0:
            raise ValueError("the lithium exchange-current density must be positive")


@dataclass(frozen=True)
class CurrentCollectorFoil:
    """A current-collector foil resolved as a thin conducting layer (2D/3D cells).

    Attributes:
        thickness_m: Foil thickness [m].
        conductivity_S_m: Electronic conductivity sigma_cc [S/m].
        cells: Cells across the foil.
    """

    thickness_m: float
    conductivity_S_m: float
    cells: int = 1

    def __post_init__(self):
        if not (self.thickness_m > 0 and self.conductivity_S_m > 0 and self.cells >= 1):
            raise ValueError("a foil needs thickness > 0, conductivity > 0 and cells >= 1")


@dataclass(frozen=True)
class TabPlacement:
    """Span of a tab along the width of a 3D pouch [m] (in 2D any placement: the foil's top end).

    Attributes:
        start_m: Start of the span along the width.
        end_m: End of the span.
    """

    start_m: float = 0.0
    end_m: float = 0.0


@dataclass(frozen=True)
class CellGeometry:
    """2D (cross-section, P3D) or 3D (pouch, P4D) geometry of the electrode stack.

    x runs through the stack; the height runs along y in 2D and z in 3D, the width along y
    (3D). A tab leaves its foil at the top edge and sticks out by ``tab_length_m``; its end
    face is the terminal. Without a tab the terminal is the whole outer face of the stack
    (with uniform properties the solution is then the 1D one).

    The mesh stands for one of A / A_geometry identical layer pairs of the cell (A: the
    parameter set's electrode area, A_geometry: height x width, in 2D height x 1 m): the
    applied current is shared among them.

    Attributes:
        height_m: Electrode height [m].
        height_cells: Cells along the height.
        width_m: Electrode width [m]; None for a 2D cross-section.
        width_cells: Cells along the width (3D).
        negative_foil: Negative current collector (full cell only), or None.
        positive_foil: Positive current collector, or None.
        negative_tab: Tab of the negative foil, or None (terminal: the outer face).
        positive_tab: Tab of the positive foil, or None.
        tab_length_m: How far tabs stick out beyond the top edge [m].
        tab_cells: Cells along a tab's length.
    """

    height_m: float
    height_cells: int = 1
    width_m: float | None = None
    width_cells: int = 1
    negative_foil: CurrentCollectorFoil | None = None
    positive_foil: CurrentCollectorFoil | None = None
    negative_tab: TabPlacement | None = None
    positive_tab: TabPlacement | None = None
    tab_length_m: float = 0.01
    tab_cells: int = 2

    def __post_init__(self):
        if self.negative_tab is not None and self.negative_foil is None:
            raise ValueError("a negative tab needs a negative foil to leave from")
        if self.positive_tab is not None and self.positive_foil is None:
            raise ValueError("a positive tab needs a positive foil to leave from")

    @property
    def dimension(self) -> int:
        """Topological dimension of the mesh (2 or 3)."""
        return 2 if self.width_m is None else 3

    @property
    def modelled_area_m2(self) -> float:
        """Electrode area the mesh represents: height x width (2D: height x 1 m) [m2]."""
        return self.height_m * (1.0 if self.width_m is None else self.width_m)

    @property
    def in_plane_cell_area_m2(self) -> float:
        """In-plane area of one column of cells (residual scaling) [m2]."""
        area = self.height_m / self.height_cells
        return area if self.width_m is None else area * self.width_m / self.width_cells

    def mesh(self, comm: MPI.Comm, layers: Sequence[Layer], left_name: str):
        """Mesh of the layers, foils added on the outside, tabs at the top."""
        layers = list(layers)
        if self.negative_foil is not None:
            foil = self.negative_foil
            layers.insert(0, Layer(NEGATIVE_FOIL, foil.thickness_m, foil.cells))
        if self.positive_foil is not None:
            foil = self.positive_foil
            layers.append(Layer(POSITIVE_FOIL, foil.thickness_m, foil.cells))
        tabs = []
        for tab, name, tab_name in (
            (self.negative_tab, NEGATIVE_FOIL, NEGATIVE_TAB),
            (self.positive_tab, POSITIVE_FOIL, POSITIVE_TAB),
        ):
            if tab is not None:
                span = (tab.start_m, tab.end_m) if self.width_m is not None else (0.0, 0.0)
                tabs.append(Tab(tab_name, name, *span, self.tab_length_m, self.tab_cells))
        arguments = (layers, self.height_m, self.height_cells, self.width_m, self.width_cells)
        description = {
            "generator": "pouch_cell",
            "layers": [[layer.name, layer.thickness_m, layer.cells] for layer in layers],
            "height_m": self.height_m,
            "height_cells": self.height_cells,
            "width_m": self.width_m,
            "width_cells": self.width_cells,
            "tabs": [dataclasses.asdict(tab) for tab in tabs],
            "left_name": left_name,
            "right_name": POSITIVE_COLLECTOR,
        }
        return _cached_mesh(
            comm,
            description,
            lambda: pouch_cell_arrays(*arguments, tabs, left_name, POSITIVE_COLLECTOR),
            gdim=2 if self.width_m is None else 3,
        )


@dataclass(frozen=True)
class DFNResolution:
    """Mesh resolution of the DFN model.

    Attributes:
        negative_cells: Cells across the negative electrode.
        separator_cells: Cells across the separator.
        positive_cells: Cells across the positive electrode.
        negative_radial_points: Radial nodes of the negative particles (centre and surface
            included).
        positive_radial_points: Radial nodes of the positive particles.
        radial_surface_refinement: Exponent p of the radial grading (1 = uniform).
    """

    negative_cells: int = 20
    separator_cells: int = 6
    positive_cells: int = 20
    negative_radial_points: int = 20
    positive_radial_points: int = 20
    radial_surface_refinement: float = 2.0


class Submesh:
    """A submesh of the cell mesh made of named cell groups, with its entity maps."""

    def __init__(self, mesh_data, names: Sequence[str]):
        mesh = mesh_data.mesh
        self.tags = tuple(physical_tag(mesh_data, name) for name in names)
        cells = np.sort(np.concatenate([mesh_data.cell_tags.find(t) for t in self.tags]))
        self.mesh, self.entity_map, self.vertex_map, _ = dolfinx.mesh.create_submesh(
            mesh, mesh.topology.dim, cells
        )


def _cached_mesh(
    comm: MPI.Comm, description: dict, make: Callable[[], GmshMesh], gdim: int
) -> dolfinx.io.gmsh.MeshData:
    """A cell's gmsh mesh (``make()``: its arrays), generated once and then cached.

    Rank 0 reads gmsh's arrays from the mesh cache (:func:`electrolyx.mesh_cache.cached_arrays`)
    or has gmsh make them, and distributes the mesh: the same mesh, numbering and tags either
    way. A run that reads them does not load or start gmsh: 22 ms of the default case's
    ~0.8 s, ~0.1 s of a pouch cell's (bench/README.md, "The 1D mesh from the cache").
    """

    def cached() -> GmshMesh:
        return cached_arrays(description, make)[0]

    arrays = on_rank(comm, 0, str(description["generator"]), cached)
    return distribute_arrays(comm, arrays, gdim=gdim)


class CellLayout:
    """The cell mesh with its regions, terminals and the share of the cell it stands for.

    Args:
        parameters: The cell (layer thicknesses and electrode area).
        resolution: Cells across each layer.
        comm: Communicator of the mesh.
        geometry: A 2D/3D stack, or None for the 1D (P2D) cell.
        half_cell: Separator | positive electrode with a lithium counter electrode at x = 0.

    Attributes:
        mesh_data: gmsh mesh with named cell and facet groups.
        length_m: Thickness of the modelled stack (foils excluded).
        modelled_area_m2: Electrode area the mesh stands for (1 m2 in 1D).
        in_plane_cell_area_m2: In-plane area of one column of cells (residual scaling).
        area_scale: The cell's electrode area over ``modelled_area_m2`` (layer pairs).
        negative_terminal, positive_terminal: Facet groups of the terminals.
        foils: electrode name -> (foil region, conductivity [S/m]) of the resolved foils.
        electrolyte: The electrolyte submesh (only when foils are resolved), else None.
        electrolyte_regions: Names of the electrolyte-filled regions.
    """

    def __init__(
        self,
        parameters: CellParameters,
        resolution: DFNResolution,
        comm: MPI.Comm,
        geometry: CellGeometry | None,
        half_cell: bool,
    ):
        p = parameters
        self.comm = comm
        self.geometry = geometry
        self.half_cell = half_cell
        layers = [
            Layer(SEPARATOR, p.separator.thickness_m, resolution.separator_cells),
            Layer(POSITIVE, p.positive.thickness_m, resolution.positive_cells),
        ]
        if not half_cell:
            layers.insert(0, Layer(NEGATIVE, p.negative.thickness_m, resolution.negative_cells))
        self.length_m = sum(layer.thickness_m for layer in layers)
        left_name = LITHIUM if half_cell else NEGATIVE_COLLECTOR
        self.foils: dict[str, tuple[str, float]] = {}
        if geometry is None:
            description = {
                "generator": "layered_interval",
                "layers": [[layer.name, layer.thickness_m, layer.cells] for layer in layers],
                "left_name": left_name,
                "right_name": POSITIVE_COLLECTOR,
            }
            self.mesh_data = _cached_mesh(
                comm,
                description,
                lambda: layered_interval_arrays(layers, left_name, POSITIVE_COLLECTOR),
                gdim=1,
            )
            # Per unit electrode area: the 1D mesh stands for 1 m2.
            self.modelled_area_m2 = self.in_plane_cell_area_m2 = 1.0
            self.negative_terminal, self.positive_terminal = left_name, POSITIVE_COLLECTOR
        else:
            if half_cell and (geometry.negative_foil or geometry.negative_tab):
                raise ValueError("a half cell has no negative foil or tab")
            self.mesh_data = geometry.mesh(comm, layers, left_name)
            self.modelled_area_m2 = geometry.modelled_area_m2
            self.in_plane_cell_area_m2 = geometry.in_plane_cell_area_m2
            self.negative_terminal = NEGATIVE_TAB if geometry.negative_tab else left_name
            self.positive_terminal = POSITIVE_TAB if geometry.positive_tab else POSITIVE_COLLECTOR
            if geometry.negative_foil is not None:
                self.foils[NEGATIVE] = (NEGATIVE_FOIL, geometry.negative_foil.conductivity_S_m)
            if geometry.positive_foil is not None:
                self.foils[POSITIVE] = (POSITIVE_FOIL, geometry.positive_foil.conductivity_S_m)
        self.area_scale = p.electrode_area_m2 / self.modelled_area_m2
        self.mesh = self.mesh_data.mesh
        regions = [SEPARATOR, POSITIVE] if half_cell else [NEGATIVE, SEPARATOR, POSITIVE]
        self.electrolyte_regions = regions
        # The electrolyte fills the electrodes and the separator; with foils, a submesh.
        self.electrolyte = Submesh(self.mesh_data, regions) if self.foils else None
        self.profile_point = self._nearest_central_line()

    def tag(self, name: str) -> int:
        """Tag of the physical group ``name``."""
        return physical_tag(self.mesh_data, name)

    def _nearest_central_line(self) -> np.ndarray:
        """In-plane coordinates of the mesh line through the stack nearest the electrode's middle.

        The middle is height/2 (and width/2 in 3D); empty in 1D. Collective.
        """
        geometry = self.geometry
        if geometry is None:
            return np.zeros(0)
        centre = np.array([geometry.height_m / 2])
        if geometry.width_m is not None:
            centre = np.array([geometry.width_m / 2, geometry.height_m / 2])
        points = self.mesh.geometry.x[:, 1 : self.mesh.geometry.dim]
        distance = np.linalg.norm(points - centre, axis=1)
        nearest = int(np.argmin(distance)) if distance.size else -1
        best = self.comm.allreduce(
            (float(distance[nearest]) if nearest >= 0 else np.inf, self.comm.rank), op=MPI.MIN
        )
        point = points[nearest] if self.comm.rank == best[1] else None
        return self.comm.bcast(point, root=best[1])
