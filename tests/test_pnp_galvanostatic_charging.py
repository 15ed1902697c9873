"""The charging current of a galvanostatic PNP electrode (issue 14): the metal's charge.

A current-controlled ``butler_volmer`` electrode balances the applied current with the faradaic
current plus the charging current of its Stern layer, i = j + d sigma_M / dt, integrated from
t = 0 (docs/pnp.md): sigma_M(t) - sigma_M(0) + Q_F(t) = int_0^t i dt, with dQ_F/dt = j.

A blocking electrode (exchange current 0: no reaction) under a constant current then charges
linearly, sigma_M(t) = i t (exact), and once its double layer is quasi-static its potential
follows the Gouy-Chapman-Stern charge-potential relation (cases/edl-gouy-chapman's formulas):

    phi_M - phi_b = sigma / C_S + 2 V_T asinh(sigma / sqrt(8 eps R T c_b)),

phi_b and c_b = sqrt(c+ c-) those just outside the diffuse layer (c+ c- is constant across a
layer in Boltzmann equilibrium, whatever the salt the layer took from its neighbourhood).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import electrolyx as ex
from electrolyx.constants import FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY

TEMPERATURE = 298.15
THERMAL_VOLTAGE = GAS_CONSTANT * TEMPERATURE / FARADAY
PERMITTIVITY = 78.5 * VACUUM_PERMITTIVITY
BULK = 10.0  # mol/m3
DIFFUSIVITY = 2e-9  # m2/s, both ions
DEBYE = math.sqrt(PERMITTIVITY * THERMAL_VOLTAGE / (2 * FARADAY * BULK))  # 3.04 nm
GAP = 100 * DEBYE
STERN = 0.5  # F/m2
CURRENT = -100.0  # A/m2: the metal charges negatively
END = 4.0e-4  # s
# RC time of the cell, lambda_D L / D = 4.6e-7 s: the run lasts ~900 of them.
RC_TIME = DEBYE * GAP / DIFFUSIVITY


def blocking_case() -> dict:
    return {
        "case": {"model": "pnp", "title": "blocking galvanostatic electrode"},
        "electrolyte": {"temperature": TEMPERATURE, "relative_permittivity": 78.5},
        "species": [
            {
                "name": "cation",
                "charge_number": 1,
                "diffusivity": DIFFUSIVITY,
                "bulk_concentration": BULK,
            },
            {
                "name": "anion",
                "charge_number": -1,
                "diffusivity": DIFFUSIVITY,
                "bulk_concentration": BULK,
            },
        ],
        "mesh": {
            "generator": "interval",
            "length": "100 lambda_D",
            "cells": 200,
            "first_cell_size": "0.05 lambda_D",
            "grading": "left",
            "left_name": "metal",
            "right_name": "reservoir",
        },
        "boundaries": {
            "metal": {
                "kind": "butler_volmer",
                "species": "cation",
                "current_density": CURRENT,
                "exchange_current_density": 0.0,  # no reaction: a blocking metal
                "stern_capacitance": STERN,
            },
            "reservoir": {"kind": "reservoir"},
        },
        "study": {
            "type": "transient",
            "end_time": END,
            "initial_step": 1e-12,
            "relative_tolerance": 1e-5,
            "absolute_tolerance": 1e-5,
            "output_times": [1e-4, 2e-4, 3e-4, 4e-4],
        },
        "output": {
            "fields": False,
            "probes": [{"name": "outer", "point": ["15 lambda_D"], "concentrations": True}],
        },
    }


@pytest.fixture(scope="module")
def blocking():
    solution = ex.Simulation(blocking_case()).solve()
    assert solution.status == "completed"
    return solution


@pytest.mark.mpi
def test_a_blocking_electrode_charges_linearly_and_conserves_charge(blocking):
    time = blocking["time_s"]
    charge = blocking["surface_charge_C_m2"]  # Gauss's law's boundary flux at the metal
    # No reaction: no faradaic charge, and the whole current charges the metal.
    assert np.abs(blocking["faradaic_charge_metal_C_m2"]).max() == 0.0
    # (The t = 0 row is the bulk state before the current starts.)
    charging = blocking["charging_current_metal_A_m2"][time > 0]
    assert np.abs(charging - CURRENT).max() <= 1e-9 * -CURRENT
    # sigma_M(t) = i t, exact: the balance holds the charge to Newton's tolerance at every
    # step (1e-12 of the scaled row: 1e-12 eps V_T / lambda_D = 6e-15 C/m2) and the surface
    # charge is the consistent flux of the same Stern term (measured 3e-15 C/m2 at most,
    # against i t = 0.04 C/m2 at the end).
    assert np.abs(charge - CURRENT * time).max() <= 1e-13


@pytest.mark.mpi
def test_the_charged_blocking_electrode_follows_gouy_chapman_stern(blocking):
    time = blocking["time_s"]
    charge = blocking["surface_charge_C_m2"]
    metal = blocking["electrode_potential_metal_V"]
    outer = blocking["potential_outer_V"]
    salt = np.sqrt(
        blocking["concentration_cation_outer_mol_m3"] * blocking["concentration_anion_outer_mol_m3"]
    )
    grahame = np.sqrt(8 * PERMITTIVITY * GAS_CONSTANT * TEMPERATURE * salt)
    # The ohmic drop of the current between the layer and the probe 15 lambda_D away (3e-5 V;
    # kappa = F^2 c (D+ + D-) / RT).
    conductivity = FARADAY**2 * salt * 2 * DIFFUSIVITY / (GAS_CONSTANT * TEMPERATURE)
    ohmic = CURRENT * 15 * DEBYE / conductivity
    expected = charge / STERN + 2 * THERMAL_VOLTAGE * np.arcsinh(charge / grahame) + ohmic
    quasi_static = time >= 100 * RC_TIME
    error = np.abs(metal - outer - expected)[quasi_static]
    # Measured 3e-6 V while psi_D < 1 V_T, 4.6e-5 V (2.6e-4 of the 0.18 V) at the end, psi_D =
    # 3.9 V_T: the mesh (cells of lambda_D / 20 at the metal, 200 in all), the layer's lag
    # behind the charge (i lambda_D / (F D c) = 1.6e-4 V_T) and its tail beyond the probe
    # (4 tanh(psi_D / 4) e^-15 V_T = 3e-7 V). Bound: 1e-4 V, 5.6e-4 of the drop.
    assert error.max() <= 1e-4, error.max()
    # The layer is strongly charged at the end: psi_D > 3 V_T (nonlinear Gouy-Chapman).
    assert abs(np.arcsinh(charge[-1] / grahame[-1])) * 2 > 3
