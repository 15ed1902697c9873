"""Convection by a prescribed solvent velocity in the Nernst-Planck flux (issue 3).

Two reservoirs at x = 0 (c = 10 mol/m3) and x = L (c = 1 mol/m3), both at phi = 0, a 1:1
electrolyte with equal diffusivities: c+ = c- and phi = 0 solve PNP exactly, and each ion obeys
steady advection-diffusion D c'' = v c', so
    c(x) = c0 + (c1 - c0) (exp(Pe x / L) - 1) / (exp(Pe) - 1),   Pe = v L / D.
"""

from __future__ import annotations

import math

from mpi4py import MPI

import numpy as np
import pytest
from conftest import CASES

from electrolyx.case import load_case
from electrolyx.models.pnp import PoissonNernstPlanck

LENGTH, D, PECLET = 1.0e-6, 2e-9, 5.0


def solve(cells):
    overrides = [
        f"mesh.length={LENGTH}",
        f"mesh.cells={cells}",
        "mesh.grading='none'",
        "boundaries={wall={kind='reservoir', concentrations=[10.0, 10.0]},"
        " bulk={kind='reservoir', concentrations=[1.0, 1.0]}}",
        f"flow.velocity=[{PECLET * D / LENGTH}]",
        "output.profiles=[]",
    ]
    case = load_case(CASES / "edl-gouy-chapman", overrides)
    model = PoissonNernstPlanck(case.settings, case.directory, MPI.COMM_SELF)
    model.build_mesh()
    model.prepare()
    model.solve()
    row = model.update_outputs()
    x = model.output_space.tabulate_dof_coordinates()[:, 0]
    exact = 10.0 + (1.0 - 10.0) * np.expm1(PECLET * x / LENGTH) / math.expm1(PECLET)
    return model, row, np.abs(model.concentrations[0].x.array / exact - 1).max()


def test_advection_diffusion_profile_and_flux():
    errors = [solve(cells)[2] for cells in (100, 200)]
    model, row, error = solve(400)
    # P1 nodal error converges at second order here (measured orders >= 1.9); on 400 cells
    # the profile is within 1e-4 relative of the exact exponential.
    assert error <= 1e-4
    assert math.log2(errors[0] / errors[1]) >= 1.9
    assert math.log2(errors[1] / error) >= 1.9
    # Equal diffusivities and equal boundary data: no charge separation, no potential.
    assert np.abs(model.potential.x.array).max() <= 1e-9
    # Net ionic current is zero (c+ = c-), although each ion is convected.
    assert abs(row["ionic_current_wall_A_m2"]) <= 1e-6
    # Amount of each ion: int c dx of the exact profile (per m2), within the mesh error.
    amount = LENGTH * (10.0 + (1.0 - 10.0) * (math.expm1(PECLET) / PECLET - 1) / math.expm1(PECLET))
    assert row["amount_cation_mol_m2"] == pytest.approx(amount, rel=1e-5)
