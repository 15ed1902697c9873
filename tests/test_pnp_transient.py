"""Transient PNP: double-layer charging of blocking electrodes, conservation, N species (issue 3).

Reference: Bazant, Thornton & Ajdari, Phys. Rev. E 70, 021506 (2004). For a small step V << RT/F
between blocking electrodes a gap 2L apart, the diffuse charge on each electrode follows the
equivalent RC circuit q(t) = q_inf (1 - exp(-t/tau)) with tau = lambda_D L / D and
q_inf = (eps / lambda_D) V/2, up to corrections of order lambda_D / L.
"""

from __future__ import annotations

import csv
import json
import math
import re

from mpi4py import MPI

import numpy as np
import pytest
from conftest import CASES, run_cli

from electrolyx.case import load_case
from electrolyx.constants import FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY
from electrolyx.models.pnp import PoissonNernstPlanck

VT = GAS_CONSTANT * 298.15 / FARADAY
EPS = 78.5 * VACUUM_PERMITTIVITY
DEBYE = math.sqrt(EPS * VT / (2 * FARADAY * 10.0))


def read_timeseries(folder):
    with open(folder / "timeseries.csv") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


@pytest.fixture(scope="module")
def charging(tmp_path_factory):
    out = tmp_path_factory.mktemp("charging") / "results"
    result = run_cli("run", str(CASES / "edl-charging"), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    return out


def test_linear_charging_follows_the_rc_circuit(charging):
    series = read_timeseries(charging)
    t, q = series["time_s"], series["surface_charge_electrode_left_C_m2"]
    half_gap = 100 * DEBYE
    tau = DEBYE * half_gap / 2e-9
    q_inf = EPS / DEBYE * 1.25e-3
    deviation = np.abs(q / q_inf - (1 - np.exp(-t / tau)))
    # Issue 3: within 2 %. Measured max 1.0 %: the instantaneous geometric charge
    # eps V / (2 L) = (lambda_D / L) q_inf at t = 0+, the O(lambda_D/L) correction of the theory.
    assert deviation.max() <= 0.02
    # The run spans the charging time and reaches equilibrium (within 1e-3 of q_inf: the
    # remaining exp(-t/tau) is e^-400 and the linear-theory q_inf is exact to O(V/V_T)^2).
    assert abs(q[-1] / q_inf - 1) <= 1e-3


def test_one_run_covers_eight_decades_with_adaptive_steps(charging):
    series = read_timeseries(charging)
    t = series["time_s"]
    assert t[1] <= 1e-11 and t[-1] == pytest.approx(2e-4)  # from 1e-12 s to 2e-4 s
    info = json.loads((charging / "run.json").read_text())
    # Error control, not a hand-tuned step list: ~100 steps for 8 decades (measured 98).
    assert info["solver"]["accepted_steps"] <= 300
    assert info["status"] == "completed"


def test_ions_are_conserved_in_the_closed_cell(charging):
    series = read_timeseries(charging)
    for name in ("amount_cation_mol_m2", "amount_anion_mol_m2"):
        drift = np.abs(series[name] / series[name][0] - 1).max()
        # BDF in c = exp(u) conserves each species exactly up to the Newton tolerance
        # (relative 1e-12 per step); measured 1.2e-11 over 98 steps; issue bound 1e-10.
        assert drift <= 1e-10, name


def test_three_species_follow_boltzmann_at_a_charged_wall():
    overrides = [
        "species=[{name='calcium', charge_number=2, diffusivity=0.8e-9, bulk_concentration=5.0},"
        " {name='sodium', charge_number=1, diffusivity=1.3e-9, bulk_concentration=10.0},"
        " {name='chloride', charge_number=-1, diffusivity=2.0e-9, bulk_concentration=20.0}]",
        "boundaries.wall.potential=-0.05",
    ]
    case = load_case(CASES / "edl-gouy-chapman", overrides)
    from mpi4py import MPI

    model = PoissonNernstPlanck(case.settings, case.directory, MPI.COMM_SELF)
    model.build_mesh()
    model.prepare()
    model.solve()
    model.update_outputs()
    phi = model.potential.x.array
    assert phi.min() == pytest.approx(-0.05)
    for species, field in zip(case.settings["species"], model.concentrations, strict=True):
        boltzmann = species["bulk_concentration"] * np.exp(-species["charge_number"] * phi / VT)
        # Equilibrium: each c_k = c_k,bulk exp(-z_k F phi / RT); issue bound 1e-5 relative
        # (the log-concentration form makes it hold to the Newton tolerance at the nodes).
        assert np.abs(field.x.array / boltzmann - 1).max() <= 1e-5
    # Calcium is enriched most at the negative wall: exp(2 * 0.05 / V_T) = 49.
    assert model.concentrations[0].x.array.max() / 5.0 == pytest.approx(
        math.exp(0.1 / VT), rel=1e-5
    )


@pytest.mark.mpi
def test_transient_on_two_ranks_gives_the_serial_answer():
    """Under mpiexec -n 2: the same adaptive steps and charges as a serial run on each rank."""
    from mpi4py import MPI

    histories = []
    for comm in (MPI.COMM_WORLD, MPI.COMM_SELF):
        case = load_case(CASES / "edl-charging", ["study.end_time=2e-6", "output.profiles=[]"])
        model = PoissonNernstPlanck(case.settings, case.directory, comm)
        model.build_mesh()
        model.prepare()
        history = []

        def on_step(t, _is_output, model=model, history=history):
            history.append((t, model.update_outputs()["surface_charge_electrode_left_C_m2"]))

        model.solve_transient(on_step)
        histories.append(np.array(history))
    parallel, serial = histories
    # Error control reduces over all ranks, so the step sequence is the same up to round-off
    # in the step sizes (measured 5e-11 relative); the direct solver makes the charges equal to
    # round-off (bound 1e-9 of q_inf = 2.9e-4 C/m2).
    assert parallel.shape == serial.shape
    assert np.all(np.abs(parallel[:, 0] - serial[:, 0]) <= 1e-9 * serial[:, 0])
    assert np.abs(parallel[:, 1] - serial[:, 1]).max() <= 1e-9 * 2.9e-4


@pytest.mark.mpi
def test_a_march_makes_no_steady_solver_and_the_steady_forms_read_no_rates():
    """A transient model builds no steady Newton solver (nor its Jacobian); the steady solver's
    residual is the march's with every rate zero, without the rates as coefficients, and its
    root is the one of the residual that carries them (zero)."""
    from electrolyx.solver import NewtonSolver, petsc_options_from_case

    march = load_case(CASES / "edl-charging", ["output.fields=false"])
    model = PoissonNernstPlanck(march.settings, march.directory, MPI.COMM_WORLD)
    model.build_mesh()
    model.prepare()
    assert model.solver is None
    rates = set(model.problem.time_derivative.functions)
    assert rates & set(model.problem.residual.coefficients())  # d a_k/dt
    assert not rates & set(model.problem.steady_residual.coefficients())

    steady = load_case(CASES / "nanochannel-conductance", ["output.fields=false"])
    model = PoissonNernstPlanck(steady.settings, steady.directory, MPI.COMM_WORLD)
    model.build_mesh()
    model.prepare()
    model.solve()  # (from the bulk state)
    without_rates = model.update_outputs()
    # the steady solver as built before: on the residual with its rates (zero)
    model.solver = NewtonSolver(
        model.problem.residual,
        model.problem.solution,
        model.problem.bcs,
        petsc_options_from_case(steady.settings["solver"]),
        name="pnp_rates",
    )
    model.solve()  # (from the bulk state again)
    with_rates = model.update_outputs()
    # The storage terms are rate x weight = 0 exactly: the same residual, so the same root to
    # Newton's tolerance (1e-10 of the scaled residual): each column to 1e-9 of the largest
    # column of its unit. (Serially every column came out equal; on 2 ranks the blocking walls'
    # currents, round-off of zero at ~5e-16 A/m where 5.7e-6 A/m flows, move with the kernels'
    # summation order: measured 6e-17 apart.)
    unit = re.compile(r"_(A|C|mol|V|S)(_m\d?)?$")
    scale: dict[str, float] = {}
    for key, value in without_rates.items():
        group = unit.search(key).group(0)
        scale[group] = max(scale.get(group, 0.0), abs(value))
    for key, value in without_rates.items():
        bound = 1e-9 * scale[unit.search(key).group(0)]
        assert abs(value - with_rates[key]) <= bound, key
    assert scale["_A_m"] == pytest.approx(5.73e-6, rel=1e-2)  # the current the bound scales
