"""Interfacial kinetic laws: current density j(j0, eta, T) of one electrode reaction.

Each law is one function in its own module with the signature

    law(exchange_current_density, overpotential, thermal_voltage, kinetics) -> j [A/m2]

(UFL expressions; j > 0 anodic, i.e. oxidation, lithium leaving the solid; ``kinetics`` is the
:class:`Kinetics` choice carrying the law's coefficients). :data:`KINETIC_LAWS` is the registry
the case files choose from (``kinetics = "butler-volmer"``): a new law is one new module and one
line here. The overpotential is eta = phi_s - phi_e - U (:func:`overpotential`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .butler_volmer import butler_volmer_current_density
from .linear import linear_current_density
from .marcus_hush_chidsey import marcus_hush_chidsey_current_density
from .symmetric_butler_volmer import symmetric_butler_volmer_current_density
from .tafel import tafel_current_density

__all__ = [
    "KINETIC_LAWS",
    "Kinetics",
    "butler_volmer_current_density",
    "linear_current_density",
    "marcus_hush_chidsey_current_density",
    "overpotential",
    "symmetric_butler_volmer_current_density",
    "tafel_current_density",
]

#: law name (as in case files) -> current density function
KINETIC_LAWS: dict[str, Callable[..., Any]] = {
    "butler-volmer": butler_volmer_current_density,
    "symmetric-butler-volmer": symmetric_butler_volmer_current_density,
    "tafel": tafel_current_density,
    "linear": linear_current_density,
    "marcus-hush-chidsey": marcus_hush_chidsey_current_density,
}


def overpotential(solid_potential, electrolyte_potential, open_circuit_potential):
    """Reaction overpotential eta = phi_s - phi_e - U [V]."""
    return solid_potential - electrolyte_potential - open_circuit_potential


@dataclass(frozen=True)
class Kinetics:
    """The kinetic law of one reaction and its coefficients.

    Attributes:
        law: A key of :data:`KINETIC_LAWS`.
        anodic_transfer_coefficient: alpha_a [-] (Butler-Volmer, Tafel, linear).
        cathodic_transfer_coefficient: alpha_c [-].
        reorganisation_energy_J_mol: lambda of Marcus-Hush-Chidsey kinetics [J/mol]
            (1 eV per molecule = 96485 J/mol).
        tafel_direction: ``"anodic"`` or ``"cathodic"``: the one branch a Tafel law keeps.
    """

    law: str = "butler-volmer"
    anodic_transfer_coefficient: float = 0.5
    cathodic_transfer_coefficient: float = 0.5
    reorganisation_energy_J_mol: float | None = None
    tafel_direction: str = "anodic"

    def __post_init__(self):
        if self.law not in KINETIC_LAWS:
            raise ValueError(
                f"kinetics {self.law!r} is not one of " + ", ".join(map(repr, KINETIC_LAWS))
            )
        for name in ("anodic_transfer_coefficient", "cathodic_transfer_coefficient"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} = {value!r}: allowed 0 <= value <= 1")
        if self.law == "marcus-hush-chidsey" and not (self.reorganisation_energy_J_mol or 0) > 0:
            raise ValueError("Marcus-Hush-Chidsey kinetics needs a reorganisation energy > 0")
        if self.tafel_direction not in ("anodic", "cathodic"):
            raise ValueError(
                f"tafel_direction = {self.tafel_direction!r}: allowed 'anodic' or 'cathodic'"
            )

    def current_density(self, exchange_current_density, overpotential, thermal_voltage):
        """Current density of this law [A/m2] (UFL)."""
        law = KINETIC_LAWS[self.law]
        return law(exchange_current_density, overpotential, thermal_voltage, self)
