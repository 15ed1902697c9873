"""One electrode of a DFN cell: its submeshes, radial grid, spaces and reactions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dolfinx
import numpy as np
from dolfinx import fem

from electrolyx.forms.kinetics import Kinetics
from electrolyx.forms.mechanics import CrackingParticle, ElasticParticle
from electrolyx.forms.particle_diffusion import radial_grid
from electrolyx.forms.reactions import (
    DoubleLayer,
    Intercalation,
    LithiumPlating,
    Reaction,
    SEIGrowth,
)
from electrolyx.parameters.base import ElectrodeParameters

from .geometry import CellLayout, Submesh

__all__ = ["ElectrodeDomain", "SideReactions", "default_reactions"]

#: Reactions an electrode's list may name besides intercalation (the double layer has its own
#: switch, ``double_layer``).
SIDE_REACTIONS = ("lithium-plating", "sei")


@dataclass(frozen=True)
class SideReactions:
    """Side reactions of an electrode besides intercalation, and their options.

    Attributes:
        names: Entries of :data:`SIDE_REACTIONS` ("lithium-plating", "sei").
        lithium_plating: Option of :class:`electrolyx.forms.reactions.LithiumPlating`.
        sei: Option of :class:`electrolyx.forms.reactions.SEIGrowth`.
        degradation: The set's :class:`electrolyx.parameters.degradation.DegradationParameters`.
        reference_temperature_K: T_ref of the SEI's Arrhenius factor [K].
        sei_film_resistance: The SEI film's resistance in the overpotentials of the reactions
            beneath it (PyBaMM's "SEI film resistance" = "distributed"; False: "none").
        sei_on_cracks: SEI also grows, by the same law, on the faces of the particles' cracks
            (PyBaMM's "SEI on cracks" = "true"; needs "sei" and cracking particles).
    """

    names: tuple[str, ...] = ()
    lithium_plating: str = "partially-reversible"
    sei: str = "reaction-limited"
    degradation: Any = None
    reference_temperature_K: float = 298.15
    sei_film_resistance: bool = True
    sei_on_cracks: bool = False

    def __post_init__(self):
        unknown = [name for name in self.names if name not in SIDE_REACTIONS]
        if unknown:
            raise ValueError(f"reactions {unknown}: allowed " + ", ".join(SIDE_REACTIONS))
        if self.names and self.degradation is None:
            raise ValueError(
                f"reactions {list(self.names)} need degradation parameters (set 'OKane2022')"
            )

    def build(self, params: ElectrodeParameters, intercalation: Reaction) -> list[Reaction]:
        """The reactions of :attr:`names` on the particles of ``params``."""
        a_s = params.specific_surface_area_1_m
        built: list[Reaction] = []
        for name in self.names:
            if name == "lithium-plating":
                built.append(LithiumPlating(self.degradation, a_s, self.lithium_plating))
            else:
                built.append(
                    SEIGrowth(
                        self.degradation,
                        a_s,
                        self.reference_temperature_K,
                        intercalation,
                        self.sei,
                        self.sei_film_resistance,
                    )
                )
        return built

    def crack_sei(self, params: ElectrodeParameters, intercalation: Reaction) -> SEIGrowth | None:
        """The SEI growth on the crack faces of ``params``'s particles (None without it).

        The same law as on the particle surface; the problem gives it the crack area a_cr and
        the thickness of the SEI on the cracks (:meth:`.problem.DFNProblem`).
        """
        if not (self.sei_on_cracks and "sei" in self.names):
            return None
        return SEIGrowth(
            self.degradation,
            params.specific_surface_area_1_m,
            self.reference_temperature_K,
            intercalation,
            self.sei,
            False,
            "sei_on_cracks",
        )


def default_reactions(
    params: ElectrodeParameters,
    kinetics: Kinetics | None,
    double_layer: bool,
    side_reactions: SideReactions | None = None,
) -> list[Reaction]:
    """The reactions of an electrode: intercalation, the double layer, side reactions.

    The double layer is added if asked for, the side reactions (lithium plating, SEI growth)
    if given.

    Intercalation follows ``kinetics`` (default: Butler-Volmer with the set's transfer
    coefficients); the double-layer current is added when asked for and the set has a
    capacitance.
    """
    if kinetics is None:
        kinetics = Kinetics(
            "butler-volmer",
            params.anodic_transfer_coefficient,
            params.cathodic_transfer_coefficient,
        )
    reactions: list[Reaction] = [Intercalation(params, kinetics)]
    if double_layer and params.double_layer_capacity_F_m2 > 0:
        reactions.append(DoubleLayer(params.double_layer_capacity_F_m2))
    if side_reactions is not None:
        reactions += side_reactions.build(params, reactions[0])
    return reactions


class ElectrodeDomain:
    """One electrode: its submeshes, radial grid, spaces and reactions.

    phi_s lives on the electrode and its current-collector foil (if resolved), c_s on the
    electrode only.
    """

    def __init__(
        self,
        name: str,
        params: ElectrodeParameters,
        layout: CellLayout,
        radial_points: int,
        radial_refinement: float,
        reactions: Sequence[Reaction],
        material: ElasticParticle | None = None,
    ):
        self.name = name
        self.side = name.split("_")[0]
        self.params = params
        self.tag = layout.tag(name)
        self.foil = layout.foils.get(name)
        conductor = [name] if self.foil is None else [name, self.foil[0]]
        self.conductor = Submesh(layout.mesh_data, conductor)
        self.particles = self.conductor if self.foil is None else Submesh(layout.mesh_data, [name])
        self.grid = radial_grid(radial_points, radial_refinement)
        self.potential_space = fem.functionspace(self.conductor.mesh, ("Lagrange", 1))
        self.concentration_space = fem.functionspace(
            self.particles.mesh, ("Lagrange", 1, (self.grid.size,))
        )
        self.reactions = list(reactions)
        #: The particles' elastic constants, when mechanics is on.
        self.material = material
        #: The particles' crack parameters, when they crack (``swelling-and-cracking``).
        self.cracking: CrackingParticle | None = None
        #: Scalar P1 space of the crack length on the particles' submesh, when they crack.
        self.crack_space: fem.FunctionSpace | None = None
        #: SEI growth on the crack faces (SEI on cracks), when asked for and they crack.
        self.crack_sei: SEIGrowth | None = None

    @property
    def potential(self) -> str:
        """Name of the electrode's solid-potential unknown."""
        return f"solid_potential_{self.side}"

    @property
    def concentration(self) -> str:
        """Name of the electrode's particle-concentration unknown."""
        return f"particle_concentration_{self.side}"

    @property
    def crack_length(self) -> str:
        """Name of the electrode's particle crack-length unknown (when the particles crack)."""
        return f"particle_crack_length_{self.side}"

    @property
    def crack_sei_amount(self) -> str:
        """Name of the unknown SEI on the crack faces per electrode volume [mol/m3]."""
        return f"crack_sei_concentration_{self.side}"

    def enable_cracking(self, cracking: CrackingParticle) -> None:
        """Let the particles crack: a crack length per node of the electrode."""
        self.cracking = cracking
        self.crack_space = fem.functionspace(self.particles.mesh, ("Lagrange", 1))

    @property
    def entity_maps(self) -> list:
        """Entity maps of its submeshes."""
        maps = [self.conductor.entity_map]
        return maps if self.particles is self.conductor else [*maps, self.particles.entity_map]

    def foil_dofs(self, layout: CellLayout) -> np.ndarray:
        """Dofs of the electrode's phi_s on its foil's cells, tab included.

        Local, ghosts included; none without a resolved foil.
        """
        if self.foil is None:
            return np.zeros(0, dtype=np.int32)
        cells = layout.mesh_data.cell_tags.find(layout.tag(self.foil[0]))
        sub_cells = self.conductor.entity_map.sub_topology_to_topology(cells, True)
        sub_cells = sub_cells[sub_cells >= 0].astype(np.int32)
        tdim = self.conductor.mesh.topology.dim
        self.conductor.mesh.topology.create_connectivity(tdim, tdim)
        return fem.locate_dofs_topological(self.potential_space, tdim, sub_cells)

    def terminal_dofs(self, layout: CellLayout, name: str) -> np.ndarray:
        """Dofs of the electrode's phi_s on the facet group ``name`` (local, ghosts included)."""
        topology = layout.mesh.topology
        fdim = topology.dim - 1
        facets = layout.mesh_data.facet_tags.find(layout.tag(name))
        topology.create_connectivity(fdim, 0)
        vertices = dolfinx.mesh.compute_incident_entities(topology, facets, fdim, 0)
        sub_vertices = self.conductor.vertex_map.sub_topology_to_topology(vertices, True)
        if np.any(sub_vertices < 0):
            raise ValueError(f"the terminal {name!r} is not on the {self.name}")
        submesh = self.conductor.mesh
        submesh.topology.create_connectivity(0, submesh.topology.dim)
        return fem.locate_dofs_topological(self.potential_space, 0, sub_vertices.astype(np.int32))
