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

The solver's own vertex-quadrature integrals evaluate their integrand once per cell around a
node; :func:`covered_forms` takes those whose integrand is continuous at the nodes over a
cover of the nodes by some of the cells instead (:func:`covering_cells`), weighted so that
the sums are the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dolfinx
import numpy as np
import ufl
from dolfinx import fem
from ufl.classes import (
    Argument,
    Coefficient,
    Curl,
    Div,
    GeometricQuantity,
    Grad,
    NablaDiv,
    NablaGrad,
    ReferenceDiv,
    ReferenceGrad,
    SpatialCoordinate,
)
from ufl.corealg.traversal import unique_pre_traversal

from electrolyx.jit import forms, sorted_unique

__all__ = [
    "NodalValues",
    "continuous_at_nodes",
    "covered_forms",
    "covering_cells",
]


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


def covering_cells(topology: Any, cells: np.ndarray) -> np.ndarray:
    """A subset of ``cells`` whose vertices are all the vertices of ``cells`` (sorted).

    Vertex quadrature over these cells evaluates an integrand at every node of ``cells`` once
    or a few times, where over all of ``cells`` it is evaluated once per cell sharing the node
    (two in 1D, 8 on a hexahedral mesh, 13 on average on a tetrahedral cube). Greedy: first
    the cells none of whose vertices is taken yet (in 1D every other cell), then a cell for
    each vertex still missing.

    Args:
        topology: The mesh's C++ topology (one cell type).
        cells: Local cell indices.
    """
    cells = np.asarray(cells, dtype=np.int32)
    if cells.size == 0:
        return cells
    tdim = topology.dim
    topology.create_connectivity(tdim, 0)
    connectivity = topology.connectivity(tdim, 0)
    offsets = connectivity.offsets
    per_cell = int(offsets[1] - offsets[0]) if offsets.size > 1 else 0
    if np.any(np.diff(offsets) != per_cell):
        raise ValueError("covering_cells needs a mesh of one cell type")
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


#: First id of the covers among a mesh's cell subdomains (:func:`covered_forms`).
FIRST_COVER_ID = 1_000_000


def continuous_at_nodes(expression) -> bool:
    """Whether every cell around a node gives ``expression`` the same value there.

    True where it reads only continuous (Lagrange) functions and arguments, constants and the
    spatial coordinate, and takes no spatial derivative: no discontinuous or quadrature
    function, no gradient, no cell-wise geometry (a cell's volume or diameter, a normal).
    One pass over the expression's nodes (a covered DFN is ~20 integrals of large ones).
    """
    for node in unique_pre_traversal(expression):
        if isinstance(node, (Coefficient, Argument)):
            element = node.ufl_element()
            if getattr(element, "discontinuous", True) or element.embedded_superdegree < 1:
                return False
        elif isinstance(node, _SPATIAL_DERIVATIVES):
            return False
        elif isinstance(node, GeometricQuantity) and not isinstance(node, SpatialCoordinate):
            return False
    return True


def covered_forms(forms: Sequence[ufl.Form]) -> list[ufl.Form]:
    """The forms with each vertex-quadrature cell integral over a cover of its nodes.

    An integral int f dx_v over the cells T of a subdomain (vertex quadrature: f at each
    vertex of each cell, weighted |cell| / (d + 1)) is sum_i W_i f(x_i), W_i the lumped weight
    of node i over T. Where f has one value at a node whichever cell it is read from
    (:func:`continuous_at_nodes`; the test function w_i included), the same sum is int rho f
    dx_v over a cover C of T's nodes (:func:`covering_cells`), with rho_i = W_i / W_i(C): f is
    evaluated at each node once or a few times instead of once per cell around it. The same
    value to round-off; the other integrals unchanged. A form's cell integrals on a mesh then
    read a list of (id, owned cells): its subdomains' and its covers' (ids from
    :data:`FIRST_COVER_ID`).
    """
    covers = _Covers()
    result = []
    for form in forms:
        planned = [(integral, covers.cover_of(integral)) for integral in form.integrals()]
        if all(cover is None for _, cover in planned):
            result.append(form)
            continue
        # per mesh, the one list of (id, cells) all the form's cell integrals there read
        subdomains: dict[Any, dict[int, np.ndarray]] = {}
        for integral, cover in planned:
            if integral.integral_type() == "cell":
                listed = subdomains.setdefault(integral.ufl_domain(), {})
                if cover is not None:
                    listed[cover[0]] = covers.cells[cover[0]]
                else:
                    listed.update(_Covers.subdomains_of(integral))
        data = {domain: sorted(listed.items()) for domain, listed in subdomains.items()}
        integrals = []
        for integral, cover in planned:
            if integral.integral_type() != "cell":
                integrals.append(integral)
            elif cover is None:
                integrals.append(integral.reconstruct(subdomain_data=data[integral.ufl_domain()]))
            else:
                cover_id, ratio = cover
                integrals.append(
                    integral.reconstruct(
                        integrand=ratio * integral.integrand(),
                        subdomain_id=cover_id,
                        subdomain_data=data[integral.ufl_domain()],
                    )
                )
        result.append(ufl.Form(integrals))
    covers.weigh()
    return result


class _Covers:
    """The covers of :func:`covered_forms`, made once per (mesh, subdomain)."""

    def __init__(self):
        #: cover id -> its owned cells
        self.cells: dict[int, np.ndarray] = {}
        #: (ufl domain, subdomain data, ids) -> (cover id, rho)
        self._made: dict[tuple, tuple[int, fem.Function]] = {}
        #: (rho, the subdomain's cells, its cover) of each cover, for :meth:`weigh`
        self._unweighed: list[tuple[fem.Function, np.ndarray, np.ndarray]] = []
        #: ufl domain -> its scalar P1 space (the rhos' space, one per mesh)
        self._spaces: dict[Any, fem.FunctionSpace] = {}

    def cover_of(self, integral) -> tuple[int, fem.Function] | None:
        """(cover id, rho) of a coverable integral, else None (rho filled by :meth:`weigh`)."""
        if integral.integral_type() != "cell":
            return None
        if integral.metadata().get("quadrature_rule") != "vertex":
            return None
        data = integral.subdomain_data()
        if data is not None and not isinstance(data, dolfinx.mesh.MeshTags):
            return None
        subdomain = integral.subdomain_id()
        if subdomain in ("everywhere", "otherwise"):
            ids = None
        elif data is None:
            return None
        else:
            ids = tuple(sorted(subdomain)) if isinstance(subdomain, tuple) else (subdomain,)
        if not continuous_at_nodes(integral.integrand()):
            return None
        domain = integral.ufl_domain()
        key = (domain, id(data), ids)
        made = self._made.get(key)
        if made is None:
            topology = domain.ufl_cargo().topology
            owned = topology.index_map(topology.dim).size_local
            if ids is None:
                cells = np.arange(owned, dtype=np.int32)
            else:
                cells = _owned_cells(data, ids, owned)
            cover = covering_cells(topology, cells)
            cover_id = FIRST_COVER_ID + len(self._made)
            self.cells[cover_id] = cover
            space = self._spaces.get(domain)
            if space is None:
                mesh = dolfinx.mesh.Mesh(domain.ufl_cargo(), domain)
                space = self._spaces[domain] = fem.functionspace(mesh, ("Lagrange", 1))
            ratio = fem.Function(space, name="cover_weight")
            self._unweighed.append((ratio, cells, cover))
            made = self._made[key] = (cover_id, ratio)
        return made

    def weigh(self) -> None:
        """Fill each rho = W / W_C at the nodes (0 off the cover).

        W and W_C are the lumped weights over the subdomain's cells and over its cover; every
        cover's two forms are compiled and loaded as one module.
        """
        if not self._unweighed:
            return
        vertex = {"quadrature_rule": "vertex", "quadrature_degree": 1}
        weight_forms = forms(
            [
                [
                    ufl.TestFunction(ratio.function_space)
                    * ufl.Measure(
                        "dx",
                        domain=ratio.function_space.mesh,
                        subdomain_data=[(1, s)],
                        metadata=vertex,
                    )(1)
                    for s in (cells, cover)
                ]
                for ratio, cells, cover in self._unweighed
            ]
        )
        for (ratio, _, _), pair in zip(self._unweighed, weight_forms, strict=True):
            weights = []
            for form in pair:
                vector = fem.assemble_vector(form)
                vector.scatter_reverse(dolfinx.la.InsertMode.add)
                vector.scatter_forward()
                weights.append(vector.array)
            np.divide(weights[0], weights[1], out=ratio.x.array, where=weights[1] != 0.0)
        self._unweighed = []

    @staticmethod
    def subdomains_of(integral) -> dict[int, np.ndarray]:
        """{id: owned cells} of each of the integral's subdomain ids.

        An empty array where this rank has none: every rank lists every id its form reads.
        """
        subdomain = integral.subdomain_id()
        if subdomain in ("everywhere", "otherwise"):
            return {}
        ids = subdomain if isinstance(subdomain, tuple) else (subdomain,)
        topology = integral.ufl_domain().ufl_cargo().topology
        owned = topology.index_map(topology.dim).size_local
        data = integral.subdomain_data()
        return {int(i): _owned_cells(data, (int(i),), owned) for i in ids}


_SPATIAL_DERIVATIVES = (Grad, Div, Curl, NablaGrad, NablaDiv, ReferenceGrad, ReferenceDiv)


def _owned_cells(tags, ids: Sequence[int], owned: int) -> np.ndarray:
    cells = sorted_unique(np.concatenate([tags.find(int(i)) for i in ids]))
    return cells[cells < owned].astype(np.int32)
