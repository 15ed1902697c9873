"""The DFN's electrode swelling driving the cell-level elasticity of its 2D/3D stack.

:class:`StackElasticity` owns a :class:`electrolyx.models.elasticity.CellElasticity` on the DFN's
own mesh: a material per layer (a tab is its foil's), the electrodes' free swelling strain
(the DFN output ``electrode_swelling_strain``, piecewise linear in each electrode, 0 elsewhere)
as eigenstrain, and the casing as boundary conditions on the stack's outer faces:

* ``stack-pressure``: u_x = 0 on the negative collector's face x = 0 (a rigid plate the stack
  slides on), the traction -p n on the positive collector's face, u_k = 0 on the stack's edge
  faces x_k = 0 and x_k = its extent of each in-plane direction k (rollers: the stack held in
  its plane, as far from the edges of a large pouch; a tab's end is free);
* ``fixed``: u = 0 on both collector faces (bonded between rigid plates).

The collector faces are the stack's, below its height: the faces of the tabs that stick out
above it are free (outside the plates).

:meth:`update` solves it at the DFN's present state (one way: the stresses do not act back).
"""

from __future__ import annotations

from collections.abc import Mapping

from mpi4py import MPI

import dolfinx
import numpy as np
import ufl
from dolfinx import fem

from electrolyx.models.elasticity import CellElasticity, ElasticMaterial, region_field

from .geometry import (
    NEGATIVE,
    NEGATIVE_COLLECTOR,
    NEGATIVE_FOIL,
    POSITIVE,
    POSITIVE_COLLECTOR,
    POSITIVE_FOIL,
    SEPARATOR,
)

__all__ = ["CASINGS", "StackElasticity"]

#: Values of the ``casing`` argument.
CASINGS = ("stack-pressure", "fixed")

#: Facet markers of the collector faces; in-plane direction k has 2k + 1 (x_k = 0) and 2k + 2.
_X0, _XL = 1, 2


class StackElasticity:
    """Displacement and von Mises stress of the DFN's 2D/3D stack under its own swelling.

    Args:
        model: A :class:`electrolyx.models.dfn.DFN` on a 2D/3D geometry whose electrodes both
            have particle mechanics and volume changes.
        materials: layer name (``negative_electrode``, ``separator``, ``positive_electrode``,
            ``negative_foil``, ``positive_foil``) -> :class:`ElasticMaterial`; every layer of
            the mesh needs one.
        casing: ``"stack-pressure"`` or ``"fixed"``.
        stack_pressure_Pa: p on the positive collector's face (stack-pressure).
        linear_solver: ``"direct"`` (MUMPS Cholesky, factored once: the default, robust on
            the stack's thin layers) or ``"gamg"`` (CG + GAMG with the rigid-body near null
            space), see :class:`electrolyx.models.elasticity.CellElasticity`.
    """

    def __init__(
        self,
        model,
        materials: Mapping[str, ElasticMaterial],
        casing: str = "stack-pressure",
        stack_pressure_Pa: float = 0.0,
        linear_solver: str = "direct",
    ):
        if casing not in CASINGS:
            raise ValueError(f"casing {casing!r}: allowed {', '.join(CASINGS)}")
        if model.geometry is None:
            raise ValueError("the cell elasticity needs a 2D or 3D geometry")
        if not model.outputs.has_thickness_change:
            raise ValueError(
                "the cell elasticity needs particle mechanics and volume changes in both "
                "electrodes (the electrodes' swelling strain)"
            )
        self.model = model
        layout = model.layout
        mesh = layout.mesh
        cell_tags = layout.mesh_data.cell_tags
        present = [NEGATIVE_FOIL, NEGATIVE, SEPARATOR, POSITIVE, POSITIVE_FOIL]
        present = [name for name in present if name in layout.mesh_data.physical_groups]
        missing = [name for name in present if name not in materials]
        if missing:
            raise ValueError(f"no elastic material for the layers {', '.join(missing)}")
        by_tag = {layout.tag(name): materials[name] for name in present}
        self.facet_tags = self._outer_faces(layout)
        self.scalar_space = fem.functionspace(mesh, ("Lagrange", 1))
        self._nodal = fem.Function(self.scalar_space)
        electrodes = [layout.tag(e.name) for e in model.electrodes]
        self._electrode_tags = electrodes
        self.swelling = region_field(self._nodal, cell_tags, electrodes, "swelling_strain")
        gdim = mesh.geometry.dim
        if casing == "fixed":
            fixed, rollers, pressure = [_X0, _XL], [], {}
        else:
            fixed = []
            rollers = [(_X0, 0)]
            rollers += [(2 * k + end, k) for k in range(1, gdim) for end in (1, 2)]
            pressure = {_XL: stack_pressure_Pa}
        self.elasticity = CellElasticity(
            mesh,
            cell_tags,
            self.facet_tags,
            by_tag,
            swelling_strain=self.swelling,
            fixed=fixed,
            rollers=rollers,
            pressure=pressure,
            linear_solver=linear_solver,
        )
        #: Nodal averages of the cells' von Mises stress [Pa] (lumped L2 projection).
        self.von_mises = fem.Function(self.scalar_space, name="von_mises_stress_Pa")
        test = ufl.TestFunction(self.scalar_space)
        dx = ufl.Measure(
            "dx", domain=mesh, metadata={"quadrature_rule": "vertex", "quadrature_degree": 1}
        )
        self._von_mises_forms = (
            fem.form(self.elasticity.von_mises() * test * dx),
            fem.form(test * dx),
        )
        ds = ufl.Measure("ds", domain=mesh, subdomain_data=self.facet_tags)
        one = fem.Constant(mesh, 1.0)
        face = mesh.comm.allreduce(fem.assemble_scalar(fem.form(one * ds(_XL))), op=MPI.SUM)
        self._face_displacement = fem.form(self.elasticity.displacement[0] / face * ds(_XL))

    @staticmethod
    def _outer_faces(layout) -> dolfinx.mesh.MeshTags:
        """Facet tags of the stack's collector faces (1, 2) and edge faces (2k + 1, 2k + 2).

        x = 0 and x = L; x_k = 0 and x_k = the stack's extent (the height; in 3D along y the
        width) of each in-plane direction k.
        """
        mesh = layout.mesh
        fdim = mesh.topology.dim - 1
        mesh.topology.create_connectivity(fdim, mesh.topology.dim)
        source = layout.mesh_data.facet_tags
        geometry = layout.geometry
        tolerance = 1e-9 * geometry.height_m
        # The collector faces under the casing's plates: the stack's, not a tab's (a tab
        # sticks out beyond the height; pressed, its thin foil would bend as a cantilever).
        height_axis = mesh.geometry.dim - 1
        pieces = []
        for name, marker in ((NEGATIVE_COLLECTOR, _X0), (POSITIVE_COLLECTOR, _XL)):
            facets = source.find(layout.tag(name))
            midpoints = dolfinx.mesh.compute_midpoints(mesh, fdim, facets)
            pieces.append((facets[midpoints[:, height_axis] < geometry.height_m], marker))
        extents = {1: geometry.height_m} if mesh.geometry.dim == 2 else {}
        if mesh.geometry.dim == 3:
            extents = {1: geometry.width_m, 2: geometry.height_m}
        for k, extent in extents.items():
            for end, position in ((1, 0.0), (2, extent)):
                facets = dolfinx.mesh.locate_entities_boundary(
                    mesh,
                    fdim,
                    lambda x, k=k, at=position, tol=tolerance: np.abs(x[k] - at) < tol,
                )
                pieces.append((facets, 2 * k + end))
        facets = np.concatenate([f for f, _ in pieces]).astype(np.int32)
        values = np.concatenate([np.full(len(f), v, dtype=np.int32) for f, v in pieces])
        order = np.argsort(facets, kind="stable")
        facets, values = facets[order], values[order]
        # A facet on two groups (an edge of the x = 0 face in 3D is no facet): keep the first.
        facets, first = np.unique(facets, return_index=True)
        return dolfinx.mesh.meshtags(mesh, fdim, facets, values[first])

    def update(self) -> None:
        """Solve at the DFN's present state: swelling from its particles, then u and von Mises."""
        nodal = self.model.outputs.nodal_fields(self.scalar_space)["electrode_swelling_strain"]
        self._nodal.x.array[:] = nodal
        fresh = region_field(
            self._nodal, self.model.layout.mesh_data.cell_tags, self._electrode_tags, "s"
        )
        self.swelling.x.array[:] = fresh.x.array
        self.elasticity.solve()
        vectors = []
        for compiled in self._von_mises_forms:
            vector = fem.assemble_vector(compiled)
            vector.scatter_reverse(dolfinx.la.InsertMode.add)
            vector.scatter_forward()
            vectors.append(vector.array)
        self.von_mises.x.array[:] = vectors[0] / vectors[1]

    @property
    def displacement(self) -> fem.Function:
        """The displacement u [m] (vector P1)."""
        return self.elasticity.displacement

    def face_displacement_m(self) -> float:
        """Mean through-stack displacement of the positive collector's face [m] (collective)."""
        return self.model.problem.integral(self._face_displacement)

    def max_von_mises_Pa(self) -> float:
        """Largest nodal von Mises stress [Pa] (collective)."""
        owned = self.scalar_space.dofmap.index_map.size_local
        local = self.von_mises.x.array[:owned]
        return self.model.problem.comm.allreduce(
            float(local.max()) if local.size else -np.inf, op=MPI.MAX
        )
