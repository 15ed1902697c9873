"""Steady PNP at a charged wall against the Gouy-Chapman solution (issue 2).

Exact solution for a 1:1 electrolyte next to a wall at potential zeta (semi-infinite domain):
    phi(x) = (4RT/F) artanh(tanh(F zeta / 4RT) exp(-x / lambda_D)),
    c_+- = c0 exp(-+ F phi / RT)                                   (Boltzmann),
    sigma = sqrt(8 c0 eps RT) sinh(F zeta / 2RT)                    (Grahame).
The shipped case is 41 Debye lengths long, so the truncation of the semi-infinite domain
changes phi by about exp(-41) zeta, far below every tolerance below.
"""

from __future__ import annotations

import math

from mpi4py import MPI

import numpy as np
import pytest
import ufl
from conftest import CASES
from dolfinx import fem

from electrolyx.case import load_case
from electrolyx.constants import FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY
from electrolyx.models.pnp import PoissonNernstPlanck

CASE = CASES / "edl-gouy-chapman"
T = 298.15
C0 = 10.0
ZETA = 0.1
VT = GAS_CONSTANT * T / FARADAY
EPS = 78.5 * VACUUM_PERMITTIVITY
DEBYE = math.sqrt(EPS * VT / (2 * FARADAY * C0))


def gouy_chapman(x, mod=np):
    """Exact potential; ``mod`` is numpy or ufl (artanh written with log for UFL)."""
    y = math.tanh(ZETA / (4 * VT)) * mod.exp(-x / DEBYE)
    return 4 * VT * 0.5 * mod.ln((1 + y) / (1 - y)) if mod is ufl else 4 * VT * np.arctanh(y)


def solve(comm=MPI.COMM_WORLD, overrides=()):
    case = load_case(CASE, list(overrides))
    model = PoissonNernstPlanck(case.settings, case.directory, comm)
    model.build_mesh()
    model.prepare()
    model.solve()
    row = model.update_outputs()
    return model, row


def refined(cells):
    """Overrides that refine the shipped mesh uniformly in the graded sense."""
    first = 7.5e-12 * 800 / cells
    return [f"mesh.cells={cells}", f"mesh.first_cell_size={first!r}"]


@pytest.mark.mpi
def test_potential_matches_gouy_chapman_at_nodes():
    model, _ = solve()
    x = model.output_space.tabulate_dof_coordinates()[:, 0]
    error = np.abs(model.potential.x.array - gouy_chapman(x)).max(initial=0.0)
    error = model.mesh.comm.allreduce(error, op=MPI.MAX)
    # Issue 2 asks max |phi - phi_GC| <= 1e-5 zeta; measured 2.6e-6 zeta on the shipped mesh
    # (800 cells, first cell lambda_D/400), so the bound holds with a factor 4 to spare.
    assert error <= 1e-5 * ZETA


def test_l2_convergence_order():
    errors, sizes = [], []
    for cells in (100, 200, 400, 800):
        model, _ = solve(MPI.COMM_SELF, refined(cells))
        x = ufl.SpatialCoordinate(model.mesh)[0]
        exact = gouy_chapman(x, ufl)
        dx = ufl.Measure("dx", domain=model.mesh, metadata={"quadrature_degree": 8})
        e2 = fem.assemble_scalar(fem.form((model.potential - exact) ** 2 * dx))
        errors.append(math.sqrt(e2))
        sizes.append(1.0 / cells)
    errors, sizes = np.array(errors), np.array(sizes)
    orders = np.log(errors[1:] / errors[:-1]) / np.log(sizes[1:] / sizes[:-1])
    # P1 elements on a smoothly graded mesh converge at order 2 in L2; the issue asks >= 1.9
    # for every refinement step (measured 1.98-2.00).
    assert orders.min() >= 1.9, (errors, orders)


@pytest.mark.mpi
def test_surface_charge_matches_grahame():
    _, row = solve()
    grahame = math.sqrt(8 * C0 * EPS * GAS_CONSTANT * T) * math.sinh(ZETA / (2 * VT))
    # Consistent (residual) flux converges at O(h^2): measured 5.2e-6 relative on the shipped
    # mesh; the bound is 1e-4.
    assert abs(row["surface_charge_C_m2"] / grahame - 1) <= 1e-4
    # Gauss: the diffuse layer carries exactly the opposite charge (to quadrature round-off).
    assert row["charge_electrolyte_C_m2"] == pytest.approx(-row["surface_charge_C_m2"], rel=1e-6)


@pytest.mark.mpi
def test_concentrations_follow_boltzmann():
    model, _ = solve()
    phi = model.potential.x.array
    cation, anion = (c.x.array for c in model.concentrations)
    # In the log-concentration form the electrochemical potential u_k + z_k psi is a P1
    # function, so Boltzmann holds at the nodes up to the Newton tolerance; 1e-5 is the bound
    # the issue asks for (measured ~1e-11).
    assert np.abs(cation / (C0 * np.exp(-phi / VT)) - 1).max(initial=0.0) <= 1e-5
    assert np.abs(anion / (C0 * np.exp(phi / VT)) - 1).max(initial=0.0) <= 1e-5


@pytest.mark.mpi
def test_two_ranks_give_the_one_rank_answer():
    """On 2 ranks (make test-mpi) the distributed solve equals a serial solve on each rank."""
    parallel, row_parallel = solve(MPI.COMM_WORLD)
    serial, row_serial = solve(MPI.COMM_SELF)
    x_par = parallel.output_space.tabulate_dof_coordinates()[:, 0]
    x_ser = serial.output_space.tabulate_dof_coordinates()[:, 0]
    order = np.argsort(x_ser)
    phi_serial = np.interp(x_par, x_ser[order], serial.potential.x.array[order])
    # Same mesh, same Newton path, direct solver: only round-off differs (issue: 1e-10).
    assert np.abs(parallel.potential.x.array - phi_serial).max(initial=0.0) <= 1e-10 * ZETA
    assert row_parallel["surface_charge_C_m2"] == pytest.approx(
        row_serial["surface_charge_C_m2"], rel=1e-10
    )


def test_continuation_rescues_a_failed_newton_solve():
    # A wall at 0.25 V (9.7 RT/F) with at most 4 Newton iterations per solve cannot be reached
    # from the bulk state in one go; continuation in the wall potential must get there.
    zeta = 0.25
    model, row = solve(
        MPI.COMM_SELF, [f"boundaries.wall.potential={zeta}", "solver.max_iterations=4"]
    )
    grahame = math.sqrt(8 * C0 * EPS * GAS_CONSTANT * T) * math.sinh(zeta / (2 * VT))
    assert model.solver.statistics.failures >= 1
    # At 9.7 RT/F the counter-ion layer at the wall is ~exp(-9.7/2) lambda_D thin, so the
    # shipped mesh (first cell lambda_D/400) gives 1.08e-3 relative (measured); 2e-3 allows
    # for that discretisation error while still failing if continuation lands elsewhere.
    assert abs(row["surface_charge_C_m2"] / grahame - 1) <= 2e-3
