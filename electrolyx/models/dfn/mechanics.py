"""The DFN's choice of particle mechanics (the laws: :mod:`electrolyx.forms.mechanics`)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PARTICLE_MECHANICS", "ParticleMechanics"]

#: Values of :attr:`ParticleMechanics.particle`.
PARTICLE_MECHANICS = ("none", "swelling-only")


@dataclass(frozen=True)
class ParticleMechanics:
    """Which particle mechanics the DFN solves (:mod:`electrolyx.forms.mechanics`).

    Attributes:
        particle: "none", or "swelling-only": the stresses of elastic spheres from the
            concentration profiles (outputs only; they do not feed back unless below).
        stress_induced_diffusion: Particle flux -D (1 + theta (c - c_ref)) grad c.
    """

    particle: str = "none"
    stress_induced_diffusion: bool = False

    def __post_init__(self):
        if self.particle not in PARTICLE_MECHANICS:
            raise ValueError(
                f"particle mechanics {self.particle!r}: allowed {', '.join(PARTICLE_MECHANICS)}"
            )

    @property
    def needs_elastic_constants(self) -> bool:
        """Whether the particles' E, nu, Omega and c_ref are used."""
        return self.particle != "none" or self.stress_induced_diffusion
