"""The interface state a reaction reads and the terms it returns (shared by every reaction)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Interface", "Reaction", "ReactionState", "ReactionTerms", "with_film"]


@dataclass(frozen=True)
class ReactionState:
    """A quantity a reaction carries at each point of its interface (plated lithium, SEI).

    The model adds it as a differential unknown beside the reaction's electrode and integrates

        d(state)/dt = ReactionTerms.state_rates[name]

    with the same time steps as the other unknowns.

    Attributes:
        name: Name of the unknown (unique in the model, e.g. ``"plated_lithium_concentration"``).
        scale: Its typical size, in its unit (Newton and the error control see value / scale).
        initial_value: Its value at t = 0.
        lithium_per_unit: Lithium it holds per unit of its value and per m3 of electrode
            [mol/m3 per unit]: the lithium inventory adds sum (value - initial) x this (None:
            it holds no lithium, or its reaction says otherwise).
        total_current: Instead of a differential state, an algebraic one: the interface's
            total current density j = sum_k j_k [A/m2] (PyBaMM's "total interfacial current
            density as a state"), which a film overpotential -j L_SEI rho_SEI needs.
    """

    name: str
    scale: float
    initial_value: float = 0.0
    lithium_per_unit: float | None = None
    total_current: bool = False


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
        states: name -> value of the reaction states of the interface's reactions
            (:class:`ReactionState`: plated lithium concentration, SEI thickness, ...).
        film_overpotential: Potential lost across a surface film, added to the overpotential
            of the reactions beneath it [V] (the SEI's -j L_SEI rho_SEI; 0 without a film).
    """

    solid_potential: Any
    electrolyte_potential: Any
    electrolyte_concentration: Any
    temperature: Any
    particle_surface_concentration: Any = None
    surface_potential_difference_rate: Any = None
    states: dict[str, Any] = field(default_factory=dict)
    film_overpotential: Any = 0.0


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
        state_rates: name -> d(state)/dt of the reaction's own states (:class:`ReactionState`).
        heat_overpotential: phi_s - phi_e - U_k [V], U_k the reaction's equilibrium potential:
            the voltage its charge loses as heat, a_s j_k (phi_s - phi_e - U_k) per volume of
            electrode (Bernardi et al. 1985). Under a resistive film it is the reaction's
            overpotential less the film's (negative) drop, so the film's ohmic heat
            j_k (-eta_film) is in it. None: the reaction turns no charge into heat (the
            double layer's charging current stores it).
    """

    current_density: Any
    electrolyte_lithium_source: Any = 0.0
    particle_lithium_outflux: Any = 0.0
    outputs: dict[str, Any] = field(default_factory=dict)
    state_rates: dict[str, Any] = field(default_factory=dict)
    heat_overpotential: Any = None


def with_film(overpotential, interface: Interface):
    """``overpotential`` plus the interface's film overpotential (unchanged without a film)."""
    film = interface.film_overpotential
    if isinstance(film, int | float) and film == 0.0:
        return overpotential
    return overpotential + film


class Reaction(Protocol):
    """An interfacial reaction: a name and the terms it adds at an interface."""

    name: str

    def terms(self, interface: Interface) -> ReactionTerms:
        """The reaction's current density and lithium fluxes at ``interface``."""
