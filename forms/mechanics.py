"""Diffusion-induced stress in elastic spherical particles, and stress-enhanced diffusion.

A particle of radius R (Young's modulus E, Poisson's ratio nu, partial molar volume Omega)
whose lithium concentration c(r) swells it by the free volumetric strain Omega (c - c_ref)
(linear strain Omega (c - c_ref) / 3, c_ref the stress-free reference concentration) is the
thermal-stress problem of a sphere (Timoshenko and Goodier, Theory of Elasticity, 3rd ed.,
section 151) with alpha T = Omega (c - c_ref) / 3. With a traction-free surface (Christensen and
Newman, J. Electrochem. Soc. 153, A1019 (2006); Zhang, Shyy and Sastry, J. Electrochem. Soc. 154,
A910 (2007), eqs. 9-10):

    sigma_r(r) = 2 Omega E / (9 (1 - nu)) [cbar(R) - cbar(r)]                (radial)
    sigma_t(r) = Omega E / (9 (1 - nu)) [2 cbar(R) + cbar(r) - 3 c(r)]       (tangential, hoop)
    sigma_h(r) = (sigma_r + 2 sigma_t) / 3 = 2 Omega E / (9 (1 - nu)) [cbar(R) - c(r)]
    u(R)       = Omega R (cbar(R) - c_ref) / 3                               (surface displacement)

with cbar(r) = (3 / r^3) int_0^r c(rho) rho^2 drho the mean concentration of the sphere of
radius r (cbar(0) = c(0)); Zhang's (1/r^3) int_0^r c rho^2 drho is cbar(r) / 3. c_ref cancels
from the stresses. At the surface sigma_r = 0 and sigma_t(R) = Omega E (cbar(R) - c(R)) /
(3 (1 - nu)), the form PyBaMM's "particle mechanics" submodel uses (Ai et al., J. Electrochem.
Soc. 167, 013512 (2020), eq. 8); tension is positive.

Stress-enhanced diffusion (Zhang 2007, eq. 13): the hydrostatic stress lowers the chemical
potential, mu = mu_0 + R_g T ln c - Omega sigma_h, so the flux N = -D (grad c - Omega c /
(R_g T) grad sigma_h); with the sphere's sigma_h, grad sigma_h = -2 Omega E / (9 (1 - nu)) grad c
and

    N = -D (1 + theta (c - c_ref)) grad c,    theta = 2 Omega^2 E / (9 R_g T (1 - nu)),

as PyBaMM's "stress-induced diffusion" (Ai 2020, eq. 12; Zhang's c is c - c_ref with c_ref = 0).

Particle cracking (Paris' law for fatigue crack growth, as Ai 2020 eq. 15 after Deshpande et al.,
J. Electrochem. Soc. 159, A1730 (2012), and PyBaMM's "swelling and cracking"): the surface cracks
of length l grow under the tensile surface hoop stress,

    dl/dt = k_cr(T) (b_cr sigma_t(R) sqrt(pi l))^m_cr / t0_cr    when sigma_t(R) > 0, else 0,

t0_cr = 1 h (the time unit of k_cr), b_cr the stress-intensity geometry factor, m_cr Paris'
exponent. The cracks (rho_cr per unit particle area, width w_cr, two faces each) add the
crack surface

    a_cr = 2 l rho_cr w_cr a_s,    roughness ratio 1 + a_cr / a_s = 1 + 2 l rho_cr w_cr,

to the particles' interfacial area a_s, where side reactions (SEI on cracks) can run.

On the DFN's radial grid (:mod:`.particle_diffusion`: c piecewise linear in rho = r / R on the
nodes rho_0 = 0 < ... < rho_N = 1) the integrals are those of that piecewise-linear profile,
exact edge by edge, so cbar(R) is the particle average the lithium balance uses. Every function
here takes the concentrations as a UFL vector or a numpy array alike (indexing and arithmetic
only), so outputs, tests and the solver evaluate the same expression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import ufl

from electrolyx.constants import GAS_CONSTANT

from .arrhenius import arrhenius_factor
from .particle_diffusion import RadialGrid

__all__ = [
    "CRACK_TIME_UNIT_S",
    "CrackingParticle",
    "ElasticParticle",
    "crack_growth_rate",
    "crack_roughness_ratio",
    "crack_surface_area_per_volume",
    "cumulative_average_concentration",
    "particle_centre_radial_stress",
    "particle_hoop_stress_profile",
    "particle_radial_stress_profile",
    "particle_surface_displacement",
    "particle_surface_hoop_stress",
    "sphere_hoop_stress",
    "sphere_hydrostatic_stress",
    "sphere_radial_stress",
    "stress_enhanced_diffusivity",
    "stress_induced_diffusion_factor",
]


@dataclass(frozen=True)
class ElasticParticle:
    """Isotropic linear-elastic particle material.

    Attributes:
        youngs_modulus_Pa: E > 0 [Pa].
        poissons_ratio: -1 < nu < 0.5 [-].
        partial_molar_volume_m3_mol: Omega, volumetric strain per concentration [m3/mol].
        reference_concentration_mol_m3: c_ref, the stress-free concentration [mol/m3].
    """

    youngs_modulus_Pa: float
    poissons_ratio: float
    partial_molar_volume_m3_mol: float
    reference_concentration_mol_m3: float = 0.0

    def __post_init__(self):
        if not self.youngs_modulus_Pa > 0.0:
            raise ValueError(f"Young's modulus {self.youngs_modulus_Pa!r} Pa: allowed > 0")
        if not -1.0 < self.poissons_ratio < 0.5:
            raise ValueError(f"Poisson's ratio {self.poissons_ratio!r}: allowed -1 < nu < 0.5")

    @property
    def stress_scale_Pa_m3_mol(self) -> float:
        """Omega E / (9 (1 - nu)), the stress per concentration of the sphere laws [Pa m3/mol]."""
        return (
            self.partial_molar_volume_m3_mol
            * self.youngs_modulus_Pa
            / (9.0 * (1.0 - self.poissons_ratio))
        )


#: t0_cr of Paris' law: the cracking-rate constants k_cr are per hour (Ai 2020; PyBaMM) [s].
CRACK_TIME_UNIT_S = 3600.0


@dataclass(frozen=True)
class CrackingParticle:
    """Surface cracks of a particle (Paris' law; PyBaMM's names in brackets).

    Attributes:
        initial_crack_length_m: l_0 ("initial crack length [m]") > 0.
        crack_width_m: w_cr ("initial crack width [m]") >= 0.
        cracks_per_area_1_m2: rho_cr ("number of cracks per unit area [m-2]") >= 0.
        paris_law_b: b_cr, stress-intensity geometry factor ("Paris' law constant b").
        paris_law_m: m_cr > 0, Paris' exponent ("Paris' law constant m").
        cracking_rate: k_cr at the reference temperature ("cracking rate") [m / (Pa m^0.5)^m_cr]
            per hour.
        activation_energy_J_mol: E_a of k_cr ("activation energy for cracking rate [J.mol-1]").
        reference_temperature_K: Where k_cr(T) = k_cr.
    """

    initial_crack_length_m: float
    crack_width_m: float
    cracks_per_area_1_m2: float
    paris_law_b: float
    paris_law_m: float
    cracking_rate: float
    activation_energy_J_mol: float = 0.0
    reference_temperature_K: float = 298.15

    def __post_init__(self):
        if not self.initial_crack_length_m > 0.0:
            raise ValueError(f"initial crack length {self.initial_crack_length_m!r} m: allowed > 0")
        if not self.paris_law_m > 0.0:
            raise ValueError(f"Paris' law constant m {self.paris_law_m!r}: allowed > 0")
        for name in ("crack_width_m", "cracks_per_area_1_m2", "cracking_rate"):
            if not getattr(self, name) >= 0.0:
                raise ValueError(f"{name} {getattr(self, name)!r}: allowed >= 0")


def crack_growth_rate(hoop_stress, crack_length, cracking: CrackingParticle, temperature, mod=None):
    """dl/dt = k_cr(T) (b_cr max(sigma_t, 0) sqrt(pi l))^m_cr / t0_cr [m/s] (Paris' law).

    Compressive stress (sigma_t <= 0) does not grow cracks. k_cr(T) = k_cr A(T) with the
    Arrhenius factor of :mod:`.arrhenius` (1 at the reference temperature).

    Args:
        hoop_stress: Surface hoop stress sigma_t(R) [Pa] (UFL or numpy).
        crack_length: l [m].
        cracking: The crack parameters.
        temperature: T [K].
        mod: ``ufl`` (default) or ``numpy``.
    """
    mod = ufl if mod is None else mod
    tension = mod.max_value(hoop_stress, 0.0) if mod is ufl else np.maximum(hoop_stress, 0.0)
    rate = cracking.cracking_rate * arrhenius_factor(
        cracking.activation_energy_J_mol, temperature, cracking.reference_temperature_K, mod
    )
    intensity = cracking.paris_law_b * tension * mod.sqrt(np.pi * crack_length)
    return rate * intensity**cracking.paris_law_m / CRACK_TIME_UNIT_S


def crack_roughness_ratio(crack_length, cracking: CrackingParticle):
    """1 + 2 l rho_cr w_cr: particle plus crack surface over particle surface [-]."""
    return 1.0 + 2.0 * crack_length * cracking.cracks_per_area_1_m2 * cracking.crack_width_m


def crack_surface_area_per_volume(crack_length, cracking: CrackingParticle, specific_surface_area):
    """a_cr = 2 l rho_cr w_cr a_s: crack faces per electrode volume [1/m].

    The area a side reaction on the cracks (SEI on cracks) acts on.
    """
    return (crack_roughness_ratio(crack_length, cracking) - 1.0) * specific_surface_area


# ------------------------------------------------------------------ the sphere's laws
def sphere_radial_stress(average_to_r, average_to_surface, material: ElasticParticle):
    """sigma_r = 2 Omega E / (9 (1 - nu)) [cbar(R) - cbar(r)] [Pa]."""
    return 2.0 * material.stress_scale_Pa_m3_mol * (average_to_surface - average_to_r)


def sphere_hoop_stress(concentration, average_to_r, average_to_surface, material: ElasticParticle):
    """sigma_t = Omega E / (9 (1 - nu)) [2 cbar(R) + cbar(r) - 3 c(r)] [Pa]."""
    return material.stress_scale_Pa_m3_mol * (
        2.0 * average_to_surface + average_to_r - 3.0 * concentration
    )


def sphere_hydrostatic_stress(concentration, average_to_surface, material: ElasticParticle):
    """sigma_h = (sigma_r + 2 sigma_t) / 3 = 2 Omega E / (9 (1 - nu)) [cbar(R) - c(r)] [Pa]."""
    return 2.0 * material.stress_scale_Pa_m3_mol * (average_to_surface - concentration)


def stress_induced_diffusion_factor(concentration, material: ElasticParticle, temperature_K):
    """1 + theta (c - c_ref), theta = 2 Omega^2 E / (9 R_g T (1 - nu)) [-]."""
    theta = (
        2.0
        * material.partial_molar_volume_m3_mol
        * material.stress_scale_Pa_m3_mol
        / (GAS_CONSTANT * temperature_K)
    )
    return 1.0 + theta * (concentration - material.reference_concentration_mol_m3)


def stress_enhanced_diffusivity(diffusivity, material: ElasticParticle, temperature_K):
    """The particle diffusivity with the hydrostatic-stress gradient [m2/s].

    c -> D(c) (1 + theta (c - c_ref)), for :func:`.particle_diffusion.particle_diffusion_residual`.

    Args:
        diffusivity: ``D(c)`` [m2/s].
        material: The particle's elastic constants.
        temperature_K: T (number or UFL).
    """

    def enhanced(concentration):
        factor = stress_induced_diffusion_factor(concentration, material, temperature_K)
        return diffusivity(concentration) * factor

    return enhanced


# ------------------------------------------------------------- on the radial grid
def _edge_moments(nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The moments int rho^2 phi drho of each edge's left and right hat function, exact."""
    a, b = nodes[:-1], nodes[1:]
    h = b - a
    left = (b**4 / 12 - a**3 * b / 3 + a**4 / 4) / h
    right = (b**4 / 4 - a * b**3 / 3 + a**4 / 12) / h
    return left, right


def cumulative_average_concentration(concentration, grid: RadialGrid) -> list:
    """cbar(r_k) = (3 / rho_k^3) int_0^rho_k c rho^2 drho at every radial node (cbar_0 = c_0).

    Exact for the piecewise-linear profile of the nodal values; cbar at the last node is the
    particle average of :func:`.particle_diffusion.particle_average_concentration`.
    """
    left, right = _edge_moments(grid.nodes)
    averages = [concentration[0]]
    integral = 0.0
    for k in range(grid.size - 1):
        integral = (
            integral + float(left[k]) * concentration[k] + float(right[k]) * concentration[k + 1]
        )
        averages.append(3.0 / float(grid.nodes[k + 1]) ** 3 * integral)
    return averages


def particle_radial_stress_profile(concentration, grid: RadialGrid, material: ElasticParticle):
    """sigma_r at every radial node (0 at the surface) [Pa]."""
    averages = cumulative_average_concentration(concentration, grid)
    return [sphere_radial_stress(a, averages[-1], material) for a in averages]


def particle_hoop_stress_profile(concentration, grid: RadialGrid, material: ElasticParticle):
    """sigma_t at every radial node [Pa]."""
    averages = cumulative_average_concentration(concentration, grid)
    return [
        sphere_hoop_stress(concentration[k], a, averages[-1], material)
        for k, a in enumerate(averages)
    ]


def particle_surface_hoop_stress(concentration, grid: RadialGrid, material: ElasticParticle):
    """sigma_t(R) = Omega E (cbar(R) - c(R)) / (3 (1 - nu)) [Pa].

    Tensile (positive) at the surface of a delithiating particle: the stress that cracks it.
    """
    return particle_hoop_stress_profile(concentration, grid, material)[-1]


def particle_centre_radial_stress(concentration, grid: RadialGrid, material: ElasticParticle):
    """sigma_r(0) = sigma_t(0) = 2 Omega E (cbar(R) - c(0)) / (9 (1 - nu)) [Pa]."""
    return particle_radial_stress_profile(concentration, grid, material)[0]


def particle_surface_displacement(concentration, grid: RadialGrid, material, radius):
    """u(R) = Omega R (cbar(R) - c_ref) / 3 [m]."""
    average = cumulative_average_concentration(concentration, grid)[-1]
    reference = material.reference_concentration_mol_m3
    return material.partial_molar_volume_m3_mol * radius * (average - reference) / 3.0
