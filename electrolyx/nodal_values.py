"""Values of UFL expressions at the nodes of a P1 space, from the forms the solver uses.

Outputs (reaction currents, overpotentials, exchange currents, stresses later) are the same UFL
expressions as in the residual, evaluated at the mesh vertices by a lumped projection with
vertex quadrature:

    f_i = int f phi_i dx_v / int phi_i dx_v,

where dx_v places one quadrature point on each vertex of a cell. Only the cells of the
expression's measure contribute, and phi_i is 1 at vertex i and 0 at the others, so f_i is
f(x_i) wherever f is continuous at the vertex (the volume-weighted mean of the cells' values
where a coefficient jumps), exactly as the vertex-quadrature source terms of the residual see
it. Nodes outside every cell of the measure get NaN. Works on submeshes through entity maps and
in parallel (owned and ghost values are consistent after the scatter).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dolfinx
import numpy as np
import ufl
from dolfinx import cpp as _cpp
from dolfinx import fem

from electrolyx.jit import forms

__all__ = ["NodalValues", "covering_cells", "covering_measure"]


class NodalValues:
    """Nodal values of named expressions on a scalar P1 space of the parent mesh.

    The expressions that share a measure are assembled together, as the components of one
    vector form whose last component is the weight int phi_i dx_v: one compiled form per
    measure rather than two per expression (FFCx compiles each form separately, about 0.2 s
    apiece on a first run), and the measures' forms compiled as one module
    (:func:`electrolyx.jit.forms`: one module to load, ~2 ms a module on a warm run).

    Args:
        space: Scalar P1 space of the (parent) mesh.
        expressions: name -> (UFL expression, vertex-quadrature measure).
        entity_maps: Entity maps of the submeshes the expressions' coefficients live on.
    """

    def __init__(
        self,
        space: fem.FunctionSpace,
        expressions: Mapping[str, tuple[Any, ufl.Measure]],
        entity_maps: Sequence[Any] = (),
    ):
        self.space = space
        maps = list(entity_maps) or None
        groups: dict[ufl.Measure, list[str]] = {}
        for name, (_expression, measure) in expressions.items():
            groups.setdefault(measure, []).append(name)
        element = space.ufl_element()
        ufl_forms: list[ufl.Form] = []
        group_names: list[list[str]] = []
        for measure, names in groups.items():
            components = len(names) + 1
            vector_space = fem.functionspace(
                space.mesh, (element.family_name, element.degree, (components,))
            )
            # The blocked space numbers its nodes as the scalar space does (same element
            # layout, block size `components`): value k of node i is entry i * components + k.
            if not np.array_equal(vector_space.dofmap.list, space.dofmap.list):
                raise RuntimeError("a blocked P1 space did not number its nodes as the scalar one")
            test = ufl.TestFunction(vector_space)
            integrand = (
                sum(expressions[name][0] * test[k] for k, name in enumerate(names))
                + test[len(names)]
            )
            ufl_forms.append(integrand * measure)
            group_names.append(names)
        # all the measures' forms compiled (and loaded) as one module
        compiled = forms(ufl_forms, entity_maps=maps) if ufl_forms else []
        #: per measure: (form, the names of its components but the last, which is the weight)
        self._groups: list[tuple[fem.Form, list[str]]] = list(
            zip(compiled, group_names, strict=True)
        )

    def evaluate(self, names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Values at the local nodes (ghosts included), NaN off the expression's cells."""
        wanted = None if names is None else set(names)
        result = {}
        for form, group_names in self._groups:
            if wanted is not None and wanted.isdisjoint(group_names):
                continue
            vector = fem.assemble_vector(form)
            vector.scatter_reverse(dolfinx.la.InsertMode.add)
            vector.scatter_forward()
            table = vector.array.reshape(-1, len(group_names) + 1)
            weight = table[:, -1]
            inside = weight > 0
            for k, name in enumerate(group_names):
                values = np.full(weight.shape, np.nan)
                values[inside] = table[inside, k] / weight[inside]
                result[name] = values
        if names is not None:
            return {name: result[name] for name in names}
        return result


#: Tag of the covering cells in the mesh tags :func:`covering_measure` makes.
COVER_TAG = 1


def covering_cells(topology: Any, cells: np.ndarray) -> np.ndarray:
    """A subset of ``cells`` whose vertices are all the vertices of ``cells`` (sorted).

    Vertex quadrature over these cells evaluates an integrand at every node of ``cells`` once
    or a few times, where over all of ``cells`` it is evaluated once per cell sharing the node
    (two in 1D, ~6 in 2D, ~20 in 3D). Greedy: first the cells none of whose vertices is taken
    yet (in 1D every other cell), then a cell for each vertex still missing.

    Args:
        topology: The mesh's C++ topology (one cell type).
        cells: Local cell indices.
    """
    tdim = topology.dim
    topology.create_connectivity(tdim, 0)
    connectivity = topology.connectivity(tdim, 0)
    offsets = connectivity.offsets
    per_cell = int(offsets[1] - offsets[0]) if offsets.size > 1 else 0
    if np.any(np.diff(offsets) != per_cell):
        raise ValueError("covering_cells needs a mesh of one cell type")
    cells = np.asarray(cells, dtype=np.int32)
    vertices = connectivity.array.reshape(-1, per_cell)[cells].tolist()
    taken = bytearray(topology.index_map(0).size_local + topology.index_map(0).num_ghosts)
    chosen = bytearray(len(cells))
    for k, cell in enumerate(vertices):
        if not any(taken[v] for v in cell):
            chosen[k] = 1
            for v in cell:
                taken[v] = 1
    for k, cell in enumerate(vertices):
        if not all(taken[v] for v in cell):
            chosen[k] = 1
            for v in cell:
                taken[v] = 1
    return np.sort(cells[np.frombuffer(bytes(chosen), dtype=np.uint8).astype(bool)])


def covering_measure(measure: ufl.Measure) -> ufl.Measure:
    """``measure`` (a cell measure) over a subset of its owned cells that holds all their nodes.

    The same metadata (vertex quadrature), over :func:`covering_cells` of the measure's own
    cells on this rank: on every rank they hold every vertex of the rank's owned cells, so
    together every node of the measure's cells.
    """
    if measure.integral_type() != "cell":
        raise ValueError(f"covering_measure needs a cell measure, not {measure.integral_type()}")
    cpp_mesh = measure.ufl_domain().ufl_cargo()
    topology = cpp_mesh.topology
    owned = topology.index_map(topology.dim).size_local
    subdomain = measure.subdomain_id()
    if subdomain == "everywhere":
        cells = np.arange(owned, dtype=np.int32)
    else:
        tags = measure.subdomain_data()
        ids = subdomain if isinstance(subdomain, tuple) else (subdomain,)
        # (sorted and made unique by hand: numpy's unique imports numpy.ma, ~8 ms of a run)
        cells = np.sort(np.concatenate([tags.find(int(i)) for i in ids]))
        first = np.ones(cells.size, dtype=bool)
        first[1:] = cells[1:] != cells[:-1]
        cells = cells[first & (cells < owned)].astype(np.int32)
    cover = covering_cells(topology, cells)
    tags = dolfinx.mesh.MeshTags(
        _cpp.mesh.MeshTags_int32(
            topology, topology.dim, cover, np.full(cover.size, COVER_TAG, dtype=np.int32)
        )
    )
    return ufl.Measure(
        "dx", domain=measure.ufl_domain(), subdomain_data=tags, metadata=measure.metadata()
    )(COVER_TAG)
