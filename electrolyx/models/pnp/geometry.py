"""Geometry and mesh layer of the PNP model: the mesh, its named boundaries and regions.

Meshes are made by gmsh from ``[mesh]`` (or read from a .msh file) in metres. Axisymmetric
meshes are the (r, z) half-plane of a body of revolution: every integral then carries the
weight 2 pi r (:meth:`PNPGeometry.measure_weight`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mpi4py import MPI

import dolfinx
import numpy as np
import ufl
from dolfinx import fem

from ...mesh_input import build_mesh
from ..base import require_boundaries

__all__ = ["PNPGeometry"]


class PNPGeometry:
    """The distributed mesh of a PNP case and its named facet and cell groups.

    Args:
        settings: The case's resolved settings.
        case_dir: Folder of the case (for a .msh file).
        comm: Communicator of the mesh.
        debye_length: Bulk Debye length [m] (mesh sizes may be given in Debye lengths).
        log: Where a cached mesh came from (electrolyx.mesh_cache).
    """

    def __init__(
        self,
        settings: dict[str, Any],
        case_dir: Path,
        comm: MPI.Comm,
        debye_length,
        log: Callable[[str], None] = lambda _: None,
    ):
        self.settings = settings
        self.comm = comm
        self.mesh_data = build_mesh(settings["mesh"], case_dir, comm, debye_length, log)
        require_boundaries(settings["boundaries"], self.facet_groups())
        require_boundaries(settings["regions"], self.cell_groups(), where="regions")
        tdim = self.mesh.topology.dim
        self.mesh.topology.create_connectivity(tdim - 1, tdim)

    @property
    def mesh(self) -> dolfinx.mesh.Mesh:
        """The distributed mesh."""
        return self.mesh_data.mesh

    @property
    def axisymmetric(self) -> bool:
        """Whether the mesh is the (r, z) half-plane of an axisymmetric geometry."""
        return self.settings["mesh"]["generator"] == "axisymmetric_nanopore"

    def facet_groups(self) -> list[str]:
        """Names of the mesh's boundary (facet) groups."""
        tdim = self.mesh.topology.dim
        return [n for n, g in self.mesh_data.physical_groups.items() if g.dim == tdim - 1]

    def cell_groups(self) -> list[str]:
        """Names of the mesh's regions (cell groups)."""
        tdim = self.mesh.topology.dim
        return [n for n, g in self.mesh_data.physical_groups.items() if g.dim == tdim]

    def tag(self, name: str) -> int:
        """Tag of the facet or cell group ``name``."""
        return self.mesh_data.physical_groups[name].tag

    def facets(self, name: str) -> np.ndarray:
        """Local indices of the facets of boundary ``name``."""
        return self.mesh_data.facet_tags.find(self.tag(name))

    def cells(self, name: str) -> np.ndarray:
        """Local indices of the cells of region ``name``."""
        return self.mesh_data.cell_tags.find(self.tag(name))

    def measure_weight(self) -> Any:
        """2 pi r on axisymmetric meshes (x = r), else 1."""
        if self.axisymmetric:
            return 2 * math.pi * ufl.SpatialCoordinate(self.mesh)[0]
        return fem.Constant(self.mesh, 1.0)

    def smallest_feature(self) -> float:
        """Smallest geometric length: channel height, pore diameter, or the domain extent."""
        m = self.settings["mesh"]
        if m["generator"] == "slit_nanochannel":
            return 2 * m["channel_half_height"]
        if m["generator"] in ("cylindrical_nanopore", "axisymmetric_nanopore"):
            return 2 * m["pore_radius"]
        return float(self.bounding_box_sides().min())

    def bounding_box_sides(self) -> np.ndarray:
        """Sides of the mesh's bounding box (m), one per geometric dimension, on every rank."""
        x = self.mesh.geometry.x
        lo, hi = np.empty(3), np.empty(3)
        self.comm.Allreduce(x.min(axis=0) if len(x) else np.full(3, np.inf), lo, op=MPI.MIN)
        self.comm.Allreduce(x.max(axis=0) if len(x) else np.full(3, -np.inf), hi, op=MPI.MAX)
        return (hi - lo)[: self.mesh.geometry.dim]

    @functools.cached_property
    def _interior_facet_groups(self) -> frozenset[int]:
        mesh = self.mesh
        tdim = mesh.topology.dim
        exterior = dolfinx.mesh.exterior_facet_indices(mesh.topology)
        num_owned = mesh.topology.index_map(tdim - 1).size_local
        interior = set()
        for name in self.facet_groups():
            facets = self.facets(name)
            owned = facets[facets < num_owned]
            local = bool(np.any(~np.isin(owned, exterior)))
            if self.comm.allreduce(local, op=MPI.LOR):
                interior.add(self.tag(name))
        return frozenset(interior)

    def interior_facet_groups(self) -> frozenset[int]:
        """Tags of facet groups that lie inside the mesh (solid/electrolyte interfaces).

        Found once (collective at the first call): the boundary terms, the measures and the
        outputs' current sides all ask.
        """
        return self._interior_facet_groups

    @functools.cached_property
    def cell_space(self) -> fem.FunctionSpace:
        """The piecewise-constant (DG0) space of the mesh, shared by the per-cell indicators."""
        return fem.functionspace(self.mesh, ("DG", 0))

    def current_far_sides(self) -> dict[str, str | None]:
        """Of each facet group inside the mesh, the region a positive current through it enters.

        The current through an inside group is the flux out of every cell but the far side's
        (:class:`electrolyx.models.pnp.outputs.PNPOutputs`). Between two electrolyte regions
        the far side is the larger (by measure): at the openings of a channel or a pore the
        current is positive out of the channel or pore, as an outer boundary's is out of the
        domain. At an electrolyte | solid interface it is the solid, which no ion enters (the
        current is zero to round-off). ``None`` where no side is defined: a group with the
        same region on both sides of a facet, or between more than two electrolyte regions.
        """
        mesh = self.mesh
        tdim = mesh.topology.dim
        facet_cells = mesh.topology.connectivity(tdim - 1, tdim)
        num_cells = mesh.topology.index_map(tdim).size_local
        num_cells += mesh.topology.index_map(tdim).num_ghosts
        region_tag = np.full(num_cells, -1, dtype=np.int64)
        tags = self.mesh_data.cell_tags
        region_tag[tags.indices] = tags.values
        names = {self.tag(name): name for name in self.cell_groups()}
        solids = set(self.settings["regions"])
        inside = self.interior_facet_groups()
        far_sides: dict[str, str | None] = {}
        measures: dict[str, float] = {}
        for name in self.facet_groups():
            if self.tag(name) not in inside:
                continue
            adjacent: set[int] = set()
            one_region_across = False
            for facet in self.facets(name):
                regions = region_tag[facet_cells.links(facet)]
                adjacent.update(regions.tolist())
                one_region_across |= len(regions) == 2 and regions[0] == regions[1]
            adjacent = set().union(*self.comm.allgather(adjacent))
            one_region_across = self.comm.allreduce(one_region_across, op=MPI.LOR)
            regions = {names[t] for t in adjacent if t in names}
            electrolyte = sorted(regions - solids)
            if one_region_across or not 1 <= len(electrolyte) <= 2:
                far_sides[name] = None
            elif len(electrolyte) == 1:
                solid = sorted(regions & solids)
                far_sides[name] = solid[0] if len(solid) == 1 else None
            else:
                measures = measures or self.region_measures()
                far_sides[name] = max(electrolyte, key=lambda region: measures[region])
        return far_sides

    def region_measures(self) -> dict[str, float]:
        """Area or volume of each region (with the weight 2 pi r on axisymmetric meshes)."""
        indicator = fem.Function(self.cell_space)
        form = fem.form(self.measure_weight() * indicator * ufl.dx(domain=self.mesh))
        measures = {}
        for name in self.cell_groups():
            indicator.x.array[:] = 0.0
            indicator.x.array[self.cells(name)] = 1.0
            local = fem.assemble_scalar(form)
            measures[name] = self.comm.allreduce(local, op=MPI.SUM)
        return measures

    def region_coefficients(self) -> tuple[fem.Function, fem.Function]:
        """Relative permittivity (over the electrolyte's) and electrolyte indicator, per cell."""
        cells = self.cell_space
        permittivity = fem.Function(cells, name="relative_permittivity_ratio")
        electrolyte = fem.Function(cells, name="electrolyte_indicator")
        permittivity.x.array[:] = 1.0
        electrolyte.x.array[:] = 1.0
        eps_electrolyte = self.settings["electrolyte"]["relative_permittivity"]
        for name, region in self.settings["regions"].items():
            found = self.cells(name)
            permittivity.x.array[found] = region["relative_permittivity"] / eps_electrolyte
            electrolyte.x.array[found] = 0.0
        permittivity.x.scatter_forward()
        electrolyte.x.scatter_forward()
        return permittivity, electrolyte

    def boundary_measures(self) -> dict[str, float]:
        """Length or area of each boundary (1 per point in 1D), assembled over its facets.

        With the weight 2 pi r on axisymmetric meshes (the area of the surface of revolution,
        exact for straight segments); inside facets (solid/electrolyte interfaces) count once.
        """
        weight = self.measure_weight()
        tags = self.mesh_data.facet_tags
        ds = ufl.Measure("ds", domain=self.mesh, subdomain_data=tags)
        dS = ufl.Measure("dS", domain=self.mesh, subdomain_data=tags)
        interior = self.interior_facet_groups()
        measures = {}
        for name in self.facet_groups():
            tag = self.tag(name)
            integrand = weight("+") * dS(tag) if tag in interior else weight * ds(tag)
            local = fem.assemble_scalar(fem.form(integrand))
            measures[name] = self.comm.allreduce(local, op=MPI.SUM)
        return measures
