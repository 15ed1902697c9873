"""Interfacial reactions: everything that passes charge across an electrode-electrolyte interface.

An electrode carries a list of reactions (intercalation first; the double-layer current, lithium
plating and stripping, SEI growth are further entries). Each reaction turns the state at the
interface (:class:`Interface`) into its :class:`ReactionTerms`: a current density and the
lithium it moves, per unit interfacial area. The models add the terms of all reactions through
one sum (:func:`interfacial_balance`):

    solid and electrolyte charge:   j = sum_k j_k            (div i_s = -a_s j, div i_e = a_s j)
    electrolyte lithium:            sum_k s_e,k              (d(eps c_e)/dt + div N_e = a_s s_e)
    particle surface flux:          sum_k N_s,k              (-D_s dc_s/dr = N_s at r = R)

so a new reaction is one new module and one line in :data:`REACTIONS`, not a new code path.
A reaction that carries a quantity of its own (plated lithium, SEI thickness) declares it in
``states`` (:class:`ReactionState`) and returns its rate in ``ReactionTerms.state_rates``; the
model integrates it as one more differential unknown on the electrode.
Current densities are positive when anodic (oxidation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .double_layer import DoubleLayer
from .frumkin import frumkin_current_density
from .intercalation import Intercalation
from .lithium_metal import LithiumMetal
from .lithium_plating import LITHIUM_PLATING_OPTIONS, LithiumPlating
from .sei_growth import SEI_GROWTH_OPTIONS, SEIGrowth
from .terms import Interface, Reaction, ReactionState, ReactionTerms

__all__ = [
    "LITHIUM_PLATING_OPTIONS",
    "REACTIONS",
    "SEI_GROWTH_OPTIONS",
    "DoubleLayer",
    "Interface",
    "InterfacialBalance",
    "Intercalation",
    "LithiumMetal",
    "LithiumPlating",
    "Reaction",
    "ReactionState",
    "ReactionTerms",
    "SEIGrowth",
    "frumkin_current_density",
    "interfacial_balance",
    "reaction_states",
]


#: reaction name -> class
REACTIONS: dict[str, type] = {
    "intercalation": Intercalation,
    "double-layer": DoubleLayer,
    "lithium-metal": LithiumMetal,
    "lithium-plating": LithiumPlating,
    "sei": SEIGrowth,
}


def reaction_states(reactions: Sequence[Reaction]) -> list[ReactionState]:
    """The states (:class:`ReactionState`) the reactions carry, in the order of the list."""
    return [state for reaction in reactions for state in getattr(reaction, "states", ())]


@dataclass(frozen=True)
class InterfacialBalance:
    """The sums over the reactions of one interface, and each reaction's own terms.

    Attributes:
        current_density: j = sum_k j_k [A/m2].
        electrolyte_lithium_source: sum_k s_e,k [mol/(m2 s)].
        particle_lithium_outflux: sum_k N_s,k [mol/(m2 s)].
        reactions: name -> :class:`ReactionTerms`, in the order of the list.
    """

    current_density: Any
    electrolyte_lithium_source: Any
    particle_lithium_outflux: Any
    reactions: dict[str, ReactionTerms]


def interfacial_balance(reactions: Sequence[Reaction], interface: Interface) -> InterfacialBalance:
    """Add up the terms of ``reactions`` at ``interface`` (each name once)."""
    if not reactions:
        raise ValueError("an interface needs at least one reaction")
    terms: dict[str, ReactionTerms] = {}
    for reaction in reactions:
        if reaction.name in terms:
            raise ValueError(f"reaction {reaction.name!r} is listed twice")
        terms[reaction.name] = reaction.terms(interface)
    values = list(terms.values())
    return InterfacialBalance(
        current_density=sum((t.current_density for t in values[1:]), values[0].current_density),
        electrolyte_lithium_source=sum(
            (t.electrolyte_lithium_source for t in values[1:]), values[0].electrolyte_lithium_source
        ),
        particle_lithium_outflux=sum(
            (t.particle_lithium_outflux for t in values[1:]), values[0].particle_lithium_outflux
        ),
        reactions=terms,
    )
