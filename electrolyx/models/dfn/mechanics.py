"""The DFN's choice of particle mechanics (the laws: :mod:`electrolyx.forms.mechanics`)."""

from __future__ import annotations

from dataclasses import dataclass

import ufl
from dolfinx import fem

from electrolyx.forms.mechanics import (
    CRACK_TIME_UNIT_S,
    crack_growth_rate,
    crack_surface_area_per_volume,
    particle_surface_hoop_stress,
)

__all__ = ["PARTICLE_MECHANICS", "ParticleMechanics", "add_crack_lengths", "crack_growth_residual"]

#: Values of :attr:`ParticleMechanics.particle` (and of the per-electrode choices).
PARTICLE_MECHANICS = ("none", "swelling-only", "swelling-and-cracking")

SIDES = ("negative", "positive")


@dataclass(frozen=True)
class ParticleMechanics:
    """Which particle mechanics the DFN solves (:mod:`electrolyx.forms.mechanics`).

    Attributes:
        particle: "none"; "swelling-only": the stresses of elastic spheres from the
            concentration profiles (outputs only; they do not feed back unless below);
            "swelling-and-cracking": also the surface cracks' length, a differential unknown
            per electrode node grown by Paris' law from the tensile surface hoop stress.
        stress_induced_diffusion: Particle flux -D (1 + theta (c - c_ref)) grad c.
        negative: The negative electrode's choice when it differs from ``particle`` (None:
            ``particle``), as PyBaMM's option tuple ("swelling only", "none").
        positive: The positive electrode's, likewise.
    """

    particle: str = "none"
    stress_induced_diffusion: bool = False
    negative: str | None = None
    positive: str | None = None

    def __post_init__(self):
        for what, value in (
            ("particle mechanics", self.particle),
            ("negative particle mechanics", self.negative),
            ("positive particle mechanics", self.positive),
        ):
            if value is not None and value not in PARTICLE_MECHANICS:
                raise ValueError(f"{what} {value!r}: allowed {', '.join(PARTICLE_MECHANICS)}")

    def of(self, side: str) -> str:
        """The mechanics of the ``side`` electrode ("negative" or "positive")."""
        if side not in SIDES:
            raise ValueError(f"electrode side {side!r}: allowed negative, positive")
        own = getattr(self, side)
        return self.particle if own is None else own

    def swelling(self, side: str) -> bool:
        """Whether the ``side`` particles' stresses are computed."""
        return self.of(side) != "none"

    def cracking(self, side: str) -> bool:
        """Whether the ``side`` particles crack."""
        return self.of(side) == "swelling-and-cracking"

    def needs_elastic_constants_of(self, side: str) -> bool:
        """Whether the ``side`` particles' E, nu, Omega and c_ref are used."""
        return self.swelling(side) or self.stress_induced_diffusion

    @property
    def any_swelling(self) -> bool:
        """Whether any electrode's particle stresses are computed."""
        return any(self.swelling(side) for side in SIDES)

    @property
    def needs_elastic_constants(self) -> bool:
        """Whether any electrode's E, nu, Omega and c_ref are used."""
        return any(self.needs_elastic_constants_of(side) for side in SIDES)

    def describe(self) -> str:
        """The choice in the words of the case file."""
        if self.negative is None and self.positive is None:
            text = f"particle = {self.particle!r}"
        else:
            text = f"negative = {self.of('negative')!r}, positive = {self.of('positive')!r}"
        return f"{text}, stress_induced_diffusion = {str(self.stress_induced_diffusion).lower()}"


def add_crack_lengths(unknowns, electrodes) -> list[str]:
    """Add the crack length of each cracking electrode as a differential unknown; their names.

    l = l_0 + s u with s = 1e-3 l_0 (u = 0 at the start): the time integrator's error control
    then resolves the growth (1e-5 to 1e-3 of l_0 in a discharge), not l ~ l_0 itself.
    """
    names = []
    for electrode in electrodes:
        if electrode.cracking is None:
            continue
        initial = electrode.cracking.initial_crack_length_m
        scale = 1e-3 * initial
        offset = fem.Constant(electrode.particles.mesh, initial / scale)
        unknowns.add(electrode.crack_length, electrode.crack_space, scale, True, offset)
        names.append(electrode.crack_length)
    return names


def crack_growth_residual(electrode, concentration, length, rate, temperature, test, measure):
    """Paris' law at every node of a cracking electrode, per l_0 per hour, and its crack area.

    Residual (dl/dt - k_cr (b_cr sigma_t(R)+ sqrt(pi l))^m_cr / t0_cr) t0_cr / l_0 [1/h per
    test], sigma_t(R) the surface hoop stress of the particles' concentration profile; and
    a_cr = 2 l rho_cr w_cr a_s [1/m] (UFL), the crack faces a side reaction can use.
    """
    cracking = electrode.cracking
    hoop = particle_surface_hoop_stress(concentration, electrode.grid, electrode.material)
    growth = crack_growth_rate(hoop, length, cracking, temperature, mod=ufl)
    scale = CRACK_TIME_UNIT_S / cracking.initial_crack_length_m
    area = crack_surface_area_per_volume(
        length, cracking, electrode.params.specific_surface_area_1_m
    )
    return scale * (rate - growth) * test * measure, area
