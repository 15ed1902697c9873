"""Fickian diffusion of lithium in spherical electrode particles (the pseudo-dimension r).

    dc_s/dt = r^-2 d/dr(r^2 D_s(c_s) dc_s/dr),  0 < r < R,
    -D_s dc_s/dr = N_surf = j_F / F at r = R,   dc_s/dr = 0 at r = 0.

Discretisation in r: continuous piecewise-linear elements on nodes 0 = rho_0 < ... < rho_N = 1
(rho = r / R, graded toward the surface) with a lumped (row-sum) mass matrix, i.e. a
vertex-centred finite-volume scheme that conserves lithium exactly. With w_k the test function
of node k, the equations multiplied by 3 eps_s read

    3 eps_s [ m_k dc_k/dt + (1/R^2) sum_edges D_s g_e (c_k+1 - c_k)(w_k+1 - w_k) ]
        + (3 eps_s / R) N_surf w_N = 0,

with m_k = int rho^2 phi_k drho and g_e = (rho_k+1^3 - rho_k^3) / (3 h_e^2). Summed over k the
first term is d/dt of eps_s times the particle-averaged concentration, the last a_s j_F / F
(a_s = 3 eps_s / R), so the particle and electrolyte equations exchange lithium exactly.

The radial unknowns of one particle are the N+1 components of a vector-valued field over the
cell mesh (1D, 2D or 3D alike); the x-integral uses vertex quadrature, so each mesh node carries
one independent particle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import ufl

__all__ = [
    "RadialGrid",
    "particle_average_concentration",
    "particle_diffusion_residual",
    "particle_surface_concentration",
    "radial_grid",
]


@dataclass(frozen=True)
class RadialGrid:
    """Nodes of the radial grid on the unit sphere and the weights of the lumped scheme.

    Attributes:
        nodes: rho_0 = 0 < ... < rho_N = 1.
        mass: m_k = int_0^1 rho^2 phi_k drho (sums to 1/3).
        conductance: g_e = (rho_k+1^3 - rho_k^3) / (3 h_e^2) of each of the N edges.
    """

    nodes: np.ndarray
    mass: np.ndarray
    conductance: np.ndarray

    @property
    def size(self) -> int:
        """Number of radial nodes N + 1."""
        return len(self.nodes)


def radial_grid(points: int, surface_refinement: float = 1.0) -> RadialGrid:
    """Radial grid of ``points`` nodes, refined toward the particle surface.

    rho_k = 1 - (1 - k/N)**p with p = ``surface_refinement``: p = 1 is uniform, p = 2 makes the
    surface cell about 2/N times the size of the centre cell.

    Args:
        points: Number of nodes N + 1 (at least 3).
        surface_refinement: Grading exponent p >= 1.
    """
    if points < 3:
        raise ValueError(f"a radial grid needs at least 3 points, got {points}")
    if surface_refinement < 1.0:
        raise ValueError(f"surface_refinement must be >= 1, got {surface_refinement}")
    s = np.linspace(0.0, 1.0, points)
    nodes = 1.0 - (1.0 - s) ** surface_refinement
    nodes[0], nodes[-1] = 0.0, 1.0
    a, b = nodes[:-1], nodes[1:]
    h = b - a
    # int_a^b rho^2 (b - rho)/h and int_a^b rho^2 (rho - a)/h, exact.
    left = (b**4 / 12 - a**3 * b / 3 + a**4 / 4) / h
    right = (b**4 / 4 - a * b**3 / 3 + a**4 / 12) / h
    mass = np.zeros(points)
    mass[:-1] += left
    mass[1:] += right
    conductance = (b**3 - a**3) / (3.0 * h**2)
    return RadialGrid(nodes=nodes, mass=mass, conductance=conductance)


def particle_surface_concentration(concentration):
    """c_s at r = R: the last radial component."""
    return concentration[concentration.ufl_shape[0] - 1]


def particle_average_concentration(concentration, grid: RadialGrid):
    """Volume average 3 int_0^1 rho^2 c_s drho of the lumped scheme [same unit as c_s]."""
    return sum(3.0 * float(m) * concentration[k] for k, m in enumerate(grid.mass))


def particle_diffusion_residual(
    concentration,
    concentration_rate,
    test_function,
    grid: RadialGrid,
    radius,
    diffusivity: Callable,
    surface_molar_flux,
    active_material_volume_fraction,
    dx_vertex: ufl.Measure,
) -> ufl.Form:
    """Residual of spherical diffusion with an outward surface flux [mol/(m2 s) per test].

    Args:
        concentration: Vector of the N+1 nodal concentrations c_s [mol/m3].
        concentration_rate: Vector dc_s/dt from the caller's time discretisation [mol/(m3 s)].
        test_function: Vector test function of the same space.
        grid: Radial grid.
        radius: Particle radius R [m].
        diffusivity: ``D_s(c)`` [m2/s], called with the mean of the two nodes of each edge.
        surface_molar_flux: N_surf = j_F / F, outward [mol/(m2 s)].
        active_material_volume_fraction: eps_s [-].
        dx_vertex: Electrode measure with vertex quadrature (one particle per mesh node).
    """
    c, rate, w = concentration, concentration_rate, test_function
    n = grid.size
    if c.ufl_shape != (n,):
        raise ValueError(f"concentration has shape {c.ufl_shape}, the radial grid {n} nodes")
    storage = sum(float(grid.mass[k]) * rate[k] * w[k] for k in range(n))
    exchange = sum(
        diffusivity(0.5 * (c[k] + c[k + 1]))
        * float(grid.conductance[k])
        * (c[k + 1] - c[k])
        * (w[k + 1] - w[k])
        for k in range(n - 1)
    )
    eps_s = active_material_volume_fraction
    return (
        3.0 * eps_s * (storage + exchange / radius**2)
        + 3.0 * eps_s / radius * surface_molar_flux * w[n - 1]
    ) * dx_vertex
