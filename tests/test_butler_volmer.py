"""Reactive electrode with Frumkin-corrected Butler-Volmer kinetics in PNP (issue 3).

A 1:1 binary electrolyte (D+ = 1e-9, D- = 2e-9 m2/s, c0 = 10 mol/m3) between a metal that
deposits/dissolves the cation and a reservoir L = 3 um away (lambda_D / L = 1e-3).
"""

from __future__ import annotations

from pathlib import Path

from mpi4py import MPI

import pytest

from electrolyx.case import load_case
from electrolyx.constants import FARADAY
from electrolyx.models.pnp import PoissonNernstPlanck

CASE = Path(__file__).parent / "data" / "pnp-deposition"
LIMITING = 2 * FARADAY * 1e-9 * 10.0 / 3e-6  # binary electrolyte: i_lim = 2 F D+ c0 / L


def solve(overrides, comm=MPI.COMM_WORLD):
    case = load_case(CASE, overrides)
    model = PoissonNernstPlanck(case.settings, case.directory, comm)
    model.build_mesh()
    model.prepare()
    model.solve()
    return model.update_outputs()


@pytest.mark.mpi
def test_no_current_at_the_equilibrium_potential_despite_a_double_layer():
    row = solve(
        ["boundaries.electrode.potential=0.05", "boundaries.electrode.equilibrium_potential=0.05"]
    )
    # Frumkin: the diffuse-layer potential shifts eta and c at the plane in compensating ways,
    # so phi_M = U is equilibrium whatever the double layer (here 5.4 mC/m2 of charge).
    assert abs(row["surface_charge_C_m2"]) > 5e-3
    # Zero against j0 = 10 A/m2: measured 7e-16 A/m2 (round-off).
    assert abs(row["faradaic_current_electrode_A_m2"]) <= 1e-10 * 10.0


@pytest.mark.mpi
def test_current_is_continuous_from_the_electrode_to_the_reservoir():
    row = solve(["boundaries.electrode.potential=-0.05"])
    faradaic = row["faradaic_current_electrode_A_m2"]
    assert faradaic < 0  # cathodic: cations are deposited
    # The ionic current leaving the electrolyte through the electrode (consistent flux) is the
    # faradaic current, and the same current enters from the reservoir (steady state);
    # both to the Newton tolerance (measured 5e-10 relative).
    assert row["ionic_current_electrode_A_m2"] == pytest.approx(-faradaic, rel=1e-8)
    assert row["ionic_current_bulk_A_m2"] == pytest.approx(faradaic, rel=1e-8)


def test_cathodic_current_reaches_the_binary_electrolyte_limiting_current():
    row = solve(["boundaries.electrode.potential=-0.4"], MPI.COMM_SELF)
    ratio = -row["faradaic_current_electrode_A_m2"] / LIMITING
    # Far beyond the diffusion limit the current saturates at i_lim = 2 F D+ c0 / L (the anion
    # is at equilibrium and doubles the cation flux by migration). PNP exceeds it by the
    # extended space-charge layer, O((lambda_D/L)^(2/3)) = 1 % (Rubinstein & Shtilman 1979);
    # measured 1.0101. A 2 % band holds the limit and that correction.
    assert ratio == pytest.approx(1.0, abs=0.02)


@pytest.mark.mpi
def test_reaction_current_equals_the_current_through_the_reservoir():
    """Issue 12: the reaction current integrates to the cell current to 1e-10 relative.

    PNP has no applied current: at steady state the cell current is the ionic current through
    the reservoir, and the Frumkin-Butler-Volmer reaction integrated over the electrode carries
    it (measured 7.8e-14 relative at -0.05 V in serial; the consistent flux evaluated at the
    electrode itself subtracts terms of the natural size F D c0 / lambda_D and carries their
    round-off, 1e-9 of this current, hence the separate 1e-8 bound above).
    """
    for potential in (-0.05, 0.03):
        row = solve([f"boundaries.electrode.potential={potential}"])
        faradaic = row["faradaic_current_electrode_A_m2"]
        assert abs(faradaic) > 1.0  # a real reaction current (A/m2)
        assert row["ionic_current_bulk_A_m2"] == pytest.approx(faradaic, rel=1e-10)
