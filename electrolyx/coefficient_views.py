"""Copies of submesh functions on the mesh the forms integrate over, to save the forms' memory.

A DOLFINx 0.11 ``Form`` integrated over a parent mesh keeps, for every integral and every
coefficient on another mesh (a submesh), its own copy of the integral's entity list mapped to
that mesh (``Form.h``: ``_cdata``; a coefficient on the integration mesh itself is read through
the integral's own list). The resolved 3D half cell integrates its 30 residual and Jacobian
blocks over the parent mesh while its four field unknowns live on the pore and particle
submeshes: every interface integral held a mapped copy of the interface's facets (16 bytes per
facet) for each of c_e, phi_e, c_s and psi, in each of the 30 forms (bench/README.md).

A :class:`CoefficientViews` holds one continuous P1 function on the integration mesh ("a
view") per P1 source function on a submesh, equal to the source on every cell of the
submesh, and :meth:`CoefficientViews.replace` writes the forms with the views in place of the
sources. The forms then compute the same integrals (each view restricted to a cell of its
submesh *is* the source there; a P1 function is its vertex values) but keep no mapped copies
for them. The test and trial functions stay on their submeshes: the unknowns' layout is not
changed. :meth:`CoefficientViews.update` copies the sources' values, ghosts included, into the
views; call it before every assembly that reads them (the views of a phase are not read on
cells outside it, where they stay 0).

Forms must be differentiated with respect to the sources before :meth:`replace` (a view is a
coefficient, not the unknown).
"""

from __future__ import annotations

from collections.abc import Sequence

import basix
import numpy as np
import ufl
from dolfinx import fem, mesh

__all__ = ["CoefficientViews"]

#: Cells of a submesh matched against their parent cells per chunk (bounds the set-up's
#: temporary arrays, ~0.5 kB per cell).
_CHUNK_CELLS = 1 << 18


class CoefficientViews:
    """P1 views on ``integration_mesh`` of the P1 functions in ``sources`` on its submeshes.

    Args:
        integration_mesh: The mesh the forms integrate over.
        sources: Functions; those on a submesh of ``integration_mesh`` (one of
            ``entity_maps``' sub-topologies) in a scalar P1 Lagrange space get a view, the
            others are left as they are.
        entity_maps: The cell maps between ``integration_mesh`` and its submeshes, as passed to
            ``dolfinx.fem.form``.
    """

    def __init__(
        self,
        integration_mesh: mesh.Mesh,
        sources: Sequence[fem.Function],
        entity_maps: Sequence[mesh.EntityMap],
    ):
        tdim = integration_mesh.topology.dim
        cell_maps = [m for m in entity_maps if m.dim == tdim]
        self._space: fem.FunctionSpace | None = None
        #: source -> its view
        self.views: dict[fem.Function, fem.Function] = {}
        # (source, view, the view's index of each source value): update's copies
        self._copies: list[tuple[fem.Function, fem.Function, np.ndarray]] = []
        maps: dict[int, np.ndarray] = {}  # dofmap -> the view's index of each of its dofs
        for source in sources:
            space = source.function_space
            if not _scalar_p1(space):
                continue
            cell_map = _cell_map(space.mesh, integration_mesh, cell_maps)
            if cell_map is None:
                continue
            if self._space is None:
                self._space = fem.functionspace(integration_mesh, ("Lagrange", 1))
                view_x = self._space.tabulate_dof_coordinates()
            # (one correspondence per dofmap: spaces made by clone() share theirs; the
            # storage's address identifies it, a Python wrapper's id() would not)
            key = space.dofmap.list.ctypes.data
            if key not in maps:
                maps[key] = _dof_correspondence(space, self._space, view_x, cell_map)
            view = fem.Function(self._space, name=f"{source.name}_view")
            self.views[source] = view
            self._copies.append((source, view, maps[key]))
        self.update()

    def replace(self, form):
        """``form`` (a UFL form, or None) with every source replaced by its view."""
        if form is None or not self.views:
            return form
        return ufl.replace(form, self.views)

    def update(self) -> None:
        """Copy every source's values (owned and ghost) into its view."""
        for source, view, view_dofs in self._copies:
            view.x.array[view_dofs] = source.x.array


def _scalar_p1(space: fem.FunctionSpace) -> bool:
    element = space.element.basix_element
    return (
        space.dofmap.bs == 1
        and space.value_shape == ()
        and element.family == basix.ElementFamily.P
        and element.degree == 1
        and not element.discontinuous
    )


def _cell_map(
    submesh: mesh.Mesh, parent: mesh.Mesh, cell_maps: Sequence[mesh.EntityMap]
) -> mesh.EntityMap | None:
    """The map from ``submesh``'s cells to ``parent``'s among ``cell_maps``, or None."""
    for cell_map in cell_maps:
        maps = cell_map._cpp_object
        if (
            maps.sub_topology is submesh.topology._cpp_object
            and maps.topology is parent.topology._cpp_object
        ):
            return cell_map
    return None


def _dof_correspondence(
    space: fem.FunctionSpace,
    view_space: fem.FunctionSpace,
    view_x: np.ndarray,
    cell_map: mesh.EntityMap,
) -> np.ndarray:
    """The index in ``view_space`` (dof coordinates ``view_x``) of each dof of ``space``.

    Cell by cell of the submesh (owned and ghost): its vertices' dofs and those of its parent
    cell, matched by the dofs' coordinates (the same points to round-off, whatever the local
    order; the two nearest of a cell's vertices must be at least 1e6 times farther apart).
    """
    submesh = space.mesh
    tdim = submesh.topology.dim
    index_map = submesh.topology.index_map(tdim)
    cell_count = index_map.size_local + index_map.num_ghosts
    source_list = space.dofmap.list
    view_list = view_space.dofmap.list
    source_x = space.tabulate_dof_coordinates()
    view_of_source = np.full(source_x.shape[0], -1, dtype=np.int32)
    for start in range(0, cell_count, _CHUNK_CELLS):
        cells = np.arange(start, min(start + _CHUNK_CELLS, cell_count), dtype=np.int32)
        parents = cell_map.sub_topology_to_topology(cells, False)
        if np.any(parents < 0):
            raise RuntimeError("a submesh cell has no parent cell")
        own = source_list[cells]
        theirs = view_list[parents]
        # squared distances between the cell's vertices and its parent's (round-off apart)
        distance = np.sum((source_x[own][:, :, None, :] - view_x[theirs][:, None, :, :]) ** 2, -1)
        nearest = np.sort(distance, axis=2)
        if not np.all(nearest[:, :, 0] <= 1e-12 * nearest[:, :, 1]):
            raise RuntimeError("a submesh cell's vertices are not its parent cell's")
        matched = np.take_along_axis(theirs, distance.argmin(axis=2), axis=1)
        view_of_source[own.ravel()] = matched.ravel()
    if np.any(view_of_source < 0):
        raise RuntimeError("a dof of the submesh's space is on none of its cells")
    return view_of_source
