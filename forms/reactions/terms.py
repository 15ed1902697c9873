"""The interface state a reaction reads and the terms it returns (shared by every reaction)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Interface", "Reaction", "ReactionTerms"]


@dataclass(frozen=True)
class Interface:
    """The state at an electrode-electrolyte interface, as UFL expressions in SI units.

    Attributes:
        solid_potential: phi_s [V].
        electrolyte_potential: phi_e [V].
        electrolyte_concentration: c_e [mol/m3].
        temperature: T [K] (a ``fem.Constant`` or a temperature ``Function``).
        particle_surface_concentration: c_s at the particle surface [mol/m3] (None at a metal).
        surface_potential_difference_rate: d(phi_s - phi_e)/dt [V/s] from the time
            discretisation (None where no reaction needs it).
    """

    solid_potential: Any
    electrolyte_potential: Any
    electrolyte_concentration: Any
    temperature: Any
    particle_surface_concentration: Any = None
    surface_potential_difference_rate: Any = None


@dataclass(frozen=True)
class ReactionTerms:
    """What one reaction contributes, per unit interfacial area.

    Attributes:
        current_density: j_k [A/m2], positive anodic.
        electrolyte_lithium_source: Li+ entering the electrolyte s_e,k [mol/(m2 s)].
        particle_lithium_outflux: Li leaving the particle through its surface N_s,k
            [mol/(m2 s)].
        outputs: Named UFL expressions worth writing (overpotential, exchange current, ...),
            keys with their SI unit as suffix.
    """

    current_density: Any
    electrolyte_lithium_source: Any = 0.0
    particle_lithium_outflux: Any = 0.0
    outputs: dict[str, Any] = field(default_factory=dict)


class Reaction(Protocol):
    """An interfacial reaction: a name and the terms it adds at an interface."""

    name: str

    def terms(self, interface: Interface) -> ReactionTerms:
        """The reaction's current density and lithium fluxes at ``interface``."""
