"""Diffusion-induced stress of a spherical particle (electrolyx.forms.mechanics) against exact
solutions.

1. The laws against the elasticity problem itself: a traction-free sphere with the parabolic
   profile c = c0 + dc rho^2 (rho = r / R) as eigenstrain Omega c / 3, solved here for the
   radial displacement u(r) with P3 elements (the exact u is a cubic: Timoshenko and Goodier,
   section 151), must give the stresses of the closed-form laws (with the profile's exact
   averages cbar(rho) = c0 + 3 dc rho^2 / 5) to 1e-6 relative.
2. The discretisation on the DFN's radial grid: exact for a profile linear in rho (its averages
   are the exact integrals of the piecewise-linear interpolant), second order for the parabola.
3. The steady galvanostatic limit: a particle delithiated at a constant surface flux N reaches
   c(r) - c(0) = -N r^2 / (2 D R) (Crank, eq. 6.46), whose surface hoop stress is
   sigma_t(R) = Omega E N R / (15 D (1 - nu)) (tension); with stress-induced diffusion the
   profile is the Kirchhoff transform of the same parabola.
"""

from mpi4py import MPI

import dolfinx
import numpy as np
import pytest
import ufl
from dolfinx import fem
from dolfinx.fem.petsc import LinearProblem, NonlinearProblem
from scipy.integrate import quad

from electrolyx.constants import GAS_CONSTANT
from electrolyx.forms.mechanics import (
    ElasticParticle,
    cumulative_average_concentration,
    particle_hoop_stress_profile,
    particle_radial_stress_profile,
    particle_surface_hoop_stress,
    sphere_hoop_stress,
    sphere_hydrostatic_stress,
    sphere_radial_stress,
    stress_enhanced_diffusivity,
)
from electrolyx.forms.particle_diffusion import particle_diffusion_residual, radial_grid

# PyBaMM's OKane2022 graphite: E = 15 GPa, nu = 0.3, Omega = 3.1e-6 m3/mol.
GRAPHITE = ElasticParticle(15e9, 0.3, 3.1e-6, 0.0)
C0, DC = 20000.0, -8000.0  # mol/m3: c = C0 + DC rho^2


def exact_parabola_stresses(rho: np.ndarray, material: ElasticParticle):
    """The laws with the parabola's exact averages: (sigma_r, sigma_t) at rho."""
    average = C0 + 0.6 * DC * rho**2
    surface_average = C0 + 0.6 * DC
    c = C0 + DC * rho**2
    return (
        sphere_radial_stress(average, surface_average, material),
        sphere_hoop_stress(c, average, surface_average, material),
    )


def elasticity_sphere_stresses(rho: np.ndarray, material: ElasticParticle, cells: int = 4):
    """Solve the sphere's radial elasticity with eigenstrain Omega (c - c_ref) / 3 (R = 1).

    Virtual work int (sigma_r de_r + 2 sigma_t de_t) r^2 dr = 0, e_r = u', e_t = u / r,
    sigma = lambda tr(e - e*) I + 2 mu (e - e*), u(0) = 0, sigma_r(1) = 0 (natural).
    """
    mesh = dolfinx.mesh.create_unit_interval(MPI.COMM_SELF, cells)
    space = fem.functionspace(mesh, ("Lagrange", 3))
    u, v = ufl.TrialFunction(space), ufl.TestFunction(space)
    (r,) = ufl.SpatialCoordinate(mesh)
    E, nu = material.youngs_modulus_Pa, material.poissons_ratio
    lam = E * nu / ((1 + nu) * (1 - 2 * nu))
    mu = E / (2 * (1 + nu))
    eigen = material.partial_molar_volume_m3_mol * (C0 + DC * r**2) / 3.0

    def stresses(w, eigenstrain):
        er, et = w.dx(0) - eigenstrain, w / r - eigenstrain  # (u/r r^2 = u r: polynomial)
        trace = er + 2 * et
        return lam * trace + 2 * mu * er, lam * trace + 2 * mu * et

    def work(sr, st, w):
        return (sr * w.dx(0) * r**2 + 2 * st * w * r) * ufl.dx(metadata={"quadrature_degree": 10})

    sr_u, st_u = stresses(u, 0.0)
    sr_0, st_0 = stresses(fem.Constant(mesh, 0.0) * r, eigen)
    centre = fem.locate_dofs_geometrical(space, lambda x: np.isclose(x[0], 0.0))
    problem = LinearProblem(
        work(sr_u, st_u, v),
        -work(sr_0, st_0, v),
        bcs=[fem.dirichletbc(0.0, centre, space)],
        petsc_options_prefix="sphere_elasticity_",
        petsc_options={"ksp_type": "preonly", "pc_type": "lu"},
    )
    displacement = problem.solve()
    # Exact stresses of the discrete displacement at rho (u' and u/r of the P3 field).
    points = np.zeros((len(rho), 3))
    points[:, 0] = rho
    tree = dolfinx.geometry.bb_tree(mesh, 1)
    candidates = dolfinx.geometry.compute_collisions_points(tree, points)
    cells_ = dolfinx.geometry.compute_colliding_cells(mesh, candidates, points)
    cell = np.array([cells_.links(i)[0] for i in range(len(rho))], dtype=np.int32)
    sr, st = stresses(displacement, eigen)
    values = []
    for expression in (sr, st):
        compiled = fem.Expression(expression, np.array([[0.5]]))
        # Evaluate at each point through its reference coordinate.
        result = []
        for i, c in enumerate(cell):
            x = mesh.geometry.x[mesh.geometry.dofmaps[0][c], 0]
            reference = (rho[i] - x[0]) / (x[1] - x[0])
            compiled = fem.Expression(expression, np.array([[reference]]))
            result.append(compiled.eval(mesh, np.array([c], dtype=np.int32))[0, 0])
        values.append(np.array(result))
    return values


def test_sphere_laws_against_the_elasticity_solution():
    rho = np.array([0.05, 0.2, 0.37, 0.5, 0.71, 0.9, 0.999])
    sr_exact, st_exact = exact_parabola_stresses(rho, GRAPHITE)
    sr_fe, st_fe = elasticity_sphere_stresses(rho, GRAPHITE)
    scale = np.max(np.abs(st_exact))
    # The P3 displacement holds the exact cubic, so only round-off separates the two (measured
    # 5.6e-14); 1e-6 relative to the largest stress is the bar.
    assert np.max(np.abs(sr_fe - sr_exact)) / scale < 1e-6
    assert np.max(np.abs(st_fe - st_exact)) / scale < 1e-6
    # The surface is traction-free, and hoop = radial at the centre.
    assert abs(sphere_radial_stress(C0 + 0.6 * DC, C0 + 0.6 * DC, GRAPHITE)) == 0.0
    sr0, st0 = exact_parabola_stresses(np.array([0.0]), GRAPHITE)
    assert st0[0] == pytest.approx(sr0[0], rel=1e-14)
    # Hydrostatic stress is (sigma_r + 2 sigma_t) / 3.
    c = C0 + DC * rho**2
    assert np.allclose(
        sphere_hydrostatic_stress(c, C0 + 0.6 * DC, GRAPHITE),
        (sr_exact + 2 * st_exact) / 3,
        rtol=1e-12,
        atol=1e-12 * scale,
    )


@pytest.mark.parametrize("refinement", [1.0, 2.0])
def test_radial_grid_stresses_exact_for_linear_profiles(refinement):
    grid = radial_grid(15, refinement)
    rho = grid.nodes
    c = C0 + DC * rho  # piecewise linear: represented exactly
    averages = np.array(cumulative_average_concentration(c, grid))
    exact_average = C0 + 0.75 * DC * rho  # (3 / rho^3) int (C0 + DC s) s^2 ds
    assert np.allclose(averages, exact_average, rtol=1e-13)
    sr = np.array(particle_radial_stress_profile(c, grid, GRAPHITE))
    st = np.array(particle_hoop_stress_profile(c, grid, GRAPHITE))
    surface = C0 + 0.75 * DC
    scale = GRAPHITE.stress_scale_Pa_m3_mol * abs(DC)
    # Round-off only (sums of 15 terms of size C0): 1e-10 of the stress scale.
    assert np.max(np.abs(sr - sphere_radial_stress(exact_average, surface, GRAPHITE))) < 1e-10 * (
        scale
    )
    assert np.max(np.abs(st - sphere_hoop_stress(c, exact_average, surface, GRAPHITE))) < (
        1e-10 * scale
    )


def test_radial_grid_stresses_converge_for_the_parabola():
    """P1 interpolation of rho^2 errs by at most h^2 / 4 dc: the stresses by O(h^2)."""
    errors = []
    points = [21, 41, 81, 161, 321]
    stresses = []
    for n in points:
        grid = radial_grid(n, 1.0)
        rho = grid.nodes
        c = C0 + DC * rho**2
        st = np.array(particle_hoop_stress_profile(c, grid, GRAPHITE))
        sr = np.array(particle_radial_stress_profile(c, grid, GRAPHITE))
        sr_exact, st_exact = exact_parabola_stresses(rho, GRAPHITE)
        scale = np.max(np.abs(st_exact))
        stresses.append((sr, st))
        errors.append(max(np.max(np.abs(st - st_exact)), np.max(np.abs(sr - sr_exact))) / scale)
    errors = np.array(errors)
    rates = np.log2(errors[:-1] / errors[1:])
    # Second order: the averages of the interpolant err by O(h^2) (measured rates 2.00).
    assert np.all(np.abs(rates - 2.0) < 0.05), rates
    # Each error is below the interpolation bound: |c - I c| <= dc h^2 / 4 feeds at most
    # (2 + 1 + 3) x that into sigma_t / (Omega E / (9 (1 - nu))), relative to max |sigma_t|
    # = 1.2 |dc| of the same scale: 6 / 4 / 1.2 h^2 = 1.25 h^2 (measured 1.04e-3 at h = 1/20).
    h = 1.0 / (np.array(points) - 1)
    assert np.all(errors < 1.25 * h**2), (errors, 1.25 * h**2)
    # The error is a pure h^2 term: Richardson's extrapolation of the two finest grids at their
    # common nodes, (4 S_h/2 - S_h) / 3, is the closed form to the 1e-6 relative.
    rho = radial_grid(points[-2], 1.0).nodes
    sr_exact, st_exact = exact_parabola_stresses(rho, GRAPHITE)
    scale = np.max(np.abs(st_exact))
    for fine, coarse, exact in zip(
        (stresses[-1][0][::2], stresses[-1][1][::2]),
        stresses[-2],
        (sr_exact, st_exact),
        strict=True,
    ):
        assert np.max(np.abs((4 * fine - coarse) / 3 - exact)) / scale < 1e-6


RADIUS, DIFFUSIVITY, FLUX = 5e-6, 1e-14, 1e-5  # m, m2/s, mol/(m2 s) outward
TEMPERATURE = 298.15


def pseudo_steady_profile(points: int, diffusivity) -> tuple[np.ndarray, np.ndarray]:
    """Discrete profile c_k of the constant-flux regime, dc/dt = -3 N / R, with c(0) = C0."""
    mesh = dolfinx.mesh.create_unit_interval(MPI.COMM_SELF, 1)
    grid = radial_grid(points, 1.0)
    space = fem.functionspace(mesh, ("Lagrange", 1, (grid.size,)))
    c = fem.Function(space)
    c.x.array[:] = C0
    w = ufl.TestFunction(space)
    rate = ufl.as_vector([fem.Constant(mesh, -3.0 * FLUX / RADIUS)] * grid.size)
    dx = ufl.Measure("dx", mesh, metadata={"quadrature_rule": "vertex", "quadrature_degree": 1})
    residual = particle_diffusion_residual(c, rate, w, grid, RADIUS, diffusivity, FLUX, 0.6, dx)
    mesh.topology.create_connectivity(0, 1)
    centre = fem.locate_dofs_topological(space.sub(0), 0, np.arange(2, dtype=np.int32))
    problem = NonlinearProblem(
        residual,
        c,
        bcs=[fem.dirichletbc(C0, centre, space.sub(0))],
        petsc_options_prefix=f"stress_steady_{points}_{id(diffusivity)}_",
        petsc_options={
            "snes_type": "newtonls",
            "snes_rtol": 1e-14,
            "snes_atol": 1e-12,
            "ksp_type": "preonly",
            "pc_type": "lu",
        },
    )
    problem.solve()
    assert problem.solver.getConvergedReason() > 0
    return grid, c.x.array.reshape(-1, grid.size)[0].copy()


def test_steady_galvanostatic_surface_hoop_stress():
    """Constant D: sigma_t(R) = Omega E N R / (15 D (1 - nu)) (tension on delithiation)."""
    exact = (
        GRAPHITE.partial_molar_volume_m3_mol
        * GRAPHITE.youngs_modulus_Pa
        * FLUX
        * RADIUS
        / (15 * DIFFUSIVITY * (1 - GRAPHITE.poissons_ratio))
    )
    errors = []
    for n in (21, 41, 81):
        grid, c = pseudo_steady_profile(n, lambda _: DIFFUSIVITY)
        errors.append(abs(particle_surface_hoop_stress(c, grid, GRAPHITE) / exact - 1))
    # Second order (measured -3.47e-4, -8.68e-5, -2.17e-5 on 21, 41, 81 nodes: ratios 4.00);
    # assert the order and the 81-node error with a 2x margin.
    assert errors[2] < errors[1] / 3.5 < errors[0] / 3.5**2, errors
    assert errors[2] < 5e-5, errors


def test_steady_galvanostatic_with_stress_induced_diffusion():
    """D (1 + theta c) dc/dr = -N r / R: the Kirchhoff transform c + theta c^2 / 2 is the
    parabola; its stresses follow from the exact averages (numerical quadrature, 1e-12)."""
    theta = (
        2
        * GRAPHITE.partial_molar_volume_m3_mol**2
        * GRAPHITE.youngs_modulus_Pa
        / (9 * GAS_CONSTANT * TEMPERATURE * (1 - GRAPHITE.poissons_ratio))
    )
    kirchhoff_drop = FLUX * RADIUS / (2 * DIFFUSIVITY)  # of c + theta c^2 / 2 from 0 to R

    def profile(rho):
        # c + theta c^2 / 2 = C0 + theta C0^2 / 2 - kirchhoff_drop rho^2, positive root
        k = C0 + theta * C0**2 / 2 - kirchhoff_drop * rho**2
        return (-1 + np.sqrt(1 + 2 * theta * k)) / theta

    surface_average = 3 * quad(lambda s: profile(s) * s**2, 0, 1, epsabs=0, epsrel=1e-13)[0]
    exact = sphere_hoop_stress(profile(1.0), surface_average, surface_average, GRAPHITE)
    # The enhancement matters here: theta C0 = 0.37 lowers the stress by 26 % (0.744 x).
    plain = GRAPHITE.stress_scale_Pa_m3_mol * 3 * 0.4 * kirchhoff_drop
    assert exact < 0.8 * plain
    errors = []
    for n in (21, 41, 81):
        grid, c = pseudo_steady_profile(
            n, stress_enhanced_diffusivity(lambda _: DIFFUSIVITY, GRAPHITE, TEMPERATURE)
        )
        errors.append(abs(particle_surface_hoop_stress(c, grid, GRAPHITE) / exact - 1))
    # Second order as for constant D (the factor at each edge's mean): measured -2.88e-4,
    # -6.83e-5, -1.62e-5; the order and the 81-node error with a 2x margin.
    assert errors[2] < errors[1] / 3.5 < errors[0] / 3.5**2, errors
    assert errors[2] < 4e-5, errors


def test_material_refuses_out_of_range_constants():
    with pytest.raises(ValueError, match="Poisson's ratio 0.5"):
        ElasticParticle(1e9, 0.5, 1e-6)
    with pytest.raises(ValueError, match="Poisson's ratio -1"):
        ElasticParticle(1e9, -1.0, 1e-6)
    with pytest.raises(ValueError, match="Young's modulus 0"):
        ElasticParticle(0.0, 0.3, 1e-6)
