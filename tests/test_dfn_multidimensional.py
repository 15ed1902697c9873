"""DFN on 2D (P3D) and 3D (P4D) pouch stacks against the 1D (P2D) DFN and Ohm's law in a foil.

Issue 5: "a 2D and a 3D DFN with uniform in-plane properties reproduce the 1D DFN voltage within
0.1 mV". The same forms run on a structured quadrilateral / hexahedral stack
(:mod:`electrolyx.meshes.pouch`) whose terminals are the whole outer faces; tabs and foils are
checked against the exact in-plane Ohmic drop of a foil that collects a uniform current.
"""

import csv
import json
import re
from dataclasses import replace
from pathlib import Path

from mpi4py import MPI

import numpy as np
import pytest
from conftest import CASES
from scipy.interpolate import CubicSpline

import electrolyx  # noqa: F401  (loads MPI/PETSc libraries first)
from electrolyx.case import load_case
from electrolyx.driver import run_case
from electrolyx.models.dfn import (
    DFN,
    CellGeometry,
    CurrentCollectorFoil,
    DFNResolution,
    LithiumCounterElectrode,
    TabPlacement,
)
from electrolyx.parameters import chen2020

# 10/4/10 cells and 10 radial points: coarse (0.1 mV from the converged 1D DFN) but the
# comparison is between dimensions on the same through-plane mesh, which is what the issue asks.
RESOLUTION = DFNResolution(10, 4, 10, 10, 10)
DATA = Path(__file__).parent / "data" / "pybamm"
COPPER = CurrentCollectorFoil(12e-6, 58411000.0)  # PyBaMM Chen2020 foils
ALUMINIUM = CurrentCollectorFoil(16e-6, 36914000.0)


@pytest.fixture(scope="module")
def one_d():
    """The 1D DFN's 1C discharge of the Chen2020 cell to 2.5 V."""
    return DFN(chen2020(), RESOLUTION, comm=MPI.COMM_WORLD).discharge(5.0)


def _max_voltage_difference(solution, reference) -> float:
    """Largest |V - V_1D| at the steps of ``solution``, V_1D interpolated linearly in time.

    Both runs take the same adaptive steps when the physics is the same (the error control sees
    the same solution), so the interpolation is at the 1D run's own times.
    """
    voltage = np.interp(solution.time_s, reference.time_s, reference.voltage_V)
    return float(np.max(np.abs(np.asarray(solution.voltage_V) - voltage)))


@pytest.mark.parametrize(
    "geometry",
    [
        pytest.param(CellGeometry(0.065, 3), id="2D"),
        pytest.param(CellGeometry(0.065, 2, 0.08, 2), id="3D"),
    ],
)
def test_uniform_stack_reproduces_1d_voltage(one_d, geometry):
    solution = DFN(chen2020(), RESOLUTION, comm=MPI.COMM_WORLD, geometry=geometry).discharge(5.0)
    assert solution.termination == "event"
    # Issue 5 asks for 0.1 mV. The tensor-product Q1 elements with the 1D quadrature in x make
    # the x-only solution solve the 2D/3D discrete equations exactly, so what remains is Newton's
    # tolerance (1e-11 of the scaled residual) and round-off: measured 4e-13 V (2D), 1e-12 V
    # (3D); 1e-9 V would catch any wrong area, terminal or residual scaling.
    assert _max_voltage_difference(solution, one_d) < 1e-9
    assert abs(solution.time_s[-1] - one_d.time_s[-1]) < 1e-6


def test_half_cell_cross_section_reproduces_1d_voltage():
    """Lithium counter electrode on the separator's outer face of a 2D cross-section."""
    cell = replace(chen2020(), upper_voltage_cutoff_V=4.4, lower_voltage_cutoff_V=3.0)
    counter = LithiumCounterElectrode(70.6)
    one_d = DFN(cell, RESOLUTION, counter_electrode=counter).discharge(5.0, duration_s=1200.0)
    geometry = CellGeometry(0.065, 2)
    two_d = DFN(cell, RESOLUTION, counter_electrode=counter, geometry=geometry)
    solution = two_d.discharge(5.0, duration_s=1200.0)
    # Exact reproduction as for the full cell (measured 1.7e-13 V): 1e-9 V.
    assert _max_voltage_difference(solution, one_d) < 1e-9


def test_foils_with_face_terminals_add_only_their_through_plane_resistance():
    """Foils resolved as conducting layers, terminals on their outer faces (2D)."""
    geometry = CellGeometry(0.065, 2, negative_foil=COPPER, positive_foil=ALUMINIUM)
    # With foils the TS integration restarts whenever phi_s is re-centred (round-off of the foil
    # rows), so the two runs do not take the same steps: both are integrated tightly (rtol
    # 1e-7) and compared at the same interpolated rows, every 10 s.
    settings = {"relative_tolerance": 1e-7, "row_interval_s": 10.0}
    solution = DFN(
        chen2020(), RESOLUTION, comm=MPI.COMM_WORLD, geometry=geometry, **settings
    ).discharge(5.0)
    plain = DFN(chen2020(), RESOLUTION, comm=MPI.COMM_WORLD, **settings).discharge(5.0)
    ours = dict(zip(np.round(solution.time_s, 9), solution.voltage_V, strict=True))
    theirs = dict(zip(np.round(plain.time_s, 9), plain.voltage_V, strict=True))
    common = [t for t in set(ours) & set(theirs) if abs(t / 10.0 - round(t / 10.0)) < 1e-9]
    assert len(common) > 300
    difference = max(abs(ours[t] - theirs[t]) for t in common)
    # The foils add i (t_n / sigma_n + t_p / sigma_p) = 48.7 A/m2 x 6.4e-13 m2/S = 3e-11 V in
    # series. What remains is the two integrations' difference: measured 3.4e-7 V re-centring
    # at 16 V_T (3.0e-7 V at 4 V_T; 9.6e-7 V before Newton's test allowed the foils' rows their
    # round-off; with the former BDF2 loop, which shifted its history instead of restarting and
    # took the same steps in both: 2.7e-8 V, Newton's round-off floor of the stiff foil rows).
    # 2e-6 V bounds it, 50 times inside the 0.1 mV.
    assert difference < 2e-6


def _tabbed_cross_section(comm, height_cells=8):
    geometry = CellGeometry(
        0.065,
        height_cells,
        negative_foil=COPPER,
        positive_foil=ALUMINIUM,
        negative_tab=TabPlacement(),
        positive_tab=TabPlacement(),
        tab_length_m=0.01,
        tab_cells=2,
    )
    return DFN(chen2020(), RESOLUTION, comm=comm, geometry=geometry)


def test_negative_foil_drop_matches_ohms_law():
    """In-plane potential drop along the copper foil of a 2D cross-section with tabs.

    The foil (thickness t, conductivity sigma) collects the through-plane current density i
    uniformly over the height H and carries it out through a tab of length L: at its bottom
    edge phi_s - phi_tab = i H (H / 2 + L) / (sigma t) (per unit depth: Ohm's law with the
    current i y growing linearly along y).
    """
    model = _tabbed_cross_section(MPI.COMM_WORLD, height_cells=16)
    current_A = 5.0
    model.discharge(current_A, duration_s=1.0)
    parameters = model.parameters
    i = current_A / parameters.electrode_area_m2
    height, length = 0.065, 0.01
    expected = i * height * (height / 2 + length) / (COPPER.conductivity_S_m * COPPER.thickness_m)
    # phi_s at the foil's bottom outer corner (x = 0, y = 0); the tab end is at 0.
    potential = model.unknowns["solid_potential_negative"]
    space = potential.space
    values = potential.physical_array()
    x = space.tabulate_dof_coordinates()
    corner = np.flatnonzero((np.abs(x[:, 0]) < 1e-12) & (np.abs(x[:, 1]) < 1e-12))
    local = [float(values[corner[0]])] if corner.size else []
    (bottom,) = [v for part in model.comm.allgather(local) for v in part][:1]
    # The local current density is uniform only to ~0.1 % (the foil drops of 0.1-0.2 mV
    # against the ~0.1 V of the stack's own polarisation), and P1 is nodally exact for the
    # quadratic potential of a uniform source: measured 4e-4 relative; 5e-3 bounds it.
    assert -bottom == pytest.approx(expected, rel=5e-3)
    # The interfacial current of each electrode carries the applied current (1e-9 relative,
    # the Newton tolerance).
    reaction = model.reaction_current_A()
    assert reaction["negative_electrode"] == pytest.approx(current_A, rel=1e-9)
    assert reaction["positive_electrode"] == pytest.approx(-current_A, rel=1e-9)


def test_tabbed_cross_section_conserves_lithium_and_shows_in_plane_gradients():
    model = _tabbed_cross_section(MPI.COMM_WORLD)
    solution = model.discharge(10.0, duration_s=900.0)
    lithium = np.asarray(solution.lithium_mol)
    # Lithium only moves between the phases: conserved to round-off, 1e-10 relative.
    assert np.max(np.abs(lithium - lithium[0])) <= 1e-10 * lithium[0]
    # In-plane non-uniformity: near the tabs (top, y = H) the foils' Ohmic drop is smallest,
    # so the positive particles there take more lithium than at the bottom (y = 0). Estimate:
    # the foils drop ~0.8 mV at 2C against the stack's ~0.2 V polarisation, a ~0.4 % spread of
    # the current; after 15 minutes at 2C (a quarter of the capacity) that is a stoichiometry
    # difference of order 1e-3: asserted between 1e-4 and 1e-2 at the separator side.
    from dolfinx import fem

    space = fem.functionspace(model.mesh, ("Lagrange", 1))
    stoichiometry = model.nodal_fields(space)["particle_stoichiometry"]
    x = space.tabulate_dof_coordinates()
    p = model.parameters
    start = COPPER.thickness_m + p.negative.thickness_m + p.separator.thickness_m

    def at(y: float) -> float:
        here = np.flatnonzero((np.abs(x[:, 0] - start) < 1e-12) & (np.abs(x[:, 1] - y) < 1e-9))
        values = [float(stoichiometry[k]) for k in here]
        return [v for part in model.comm.allgather(values) for v in part][0]

    assert 1e-4 < at(0.065) - at(0.0) < 1e-2


@pytest.mark.mpi
def test_tabbed_cross_section_on_two_ranks_matches_serial():
    if MPI.COMM_WORLD.size == 1:
        pytest.skip("compares a distributed run with a serial one: run under mpiexec -n 2")

    def rows_every_10_s(comm) -> dict[float, float]:
        model = _tabbed_cross_section(comm)
        model.row_interval_s = 10.0
        solution = model.discharge(10.0, duration_s=600.0)
        return {
            round(t, 9): v
            for t, v in zip(solution.time_s, solution.voltage_V, strict=True)
            if abs(t / 10.0 - round(t / 10.0)) < 1e-9
        }

    distributed, serial = rows_every_10_s(MPI.COMM_WORLD), rows_every_10_s(MPI.COMM_SELF)
    # With foils the TS integration restarts at each re-centring of phi_s, and the step times
    # of 1 and 2 ranks drift apart at the round-off of the stiff foil rows (1e-7 relative; the
    # voltage at the steps then differs by 3e-8 V on the knee): compare at the same times, the
    # rows every 10 s (TS's interpolation), to the bound 1e-8 V.
    assert sorted(distributed) == sorted(serial) and len(serial) == 61
    assert max(abs(distributed[t] - serial[t]) for t in serial) < 1e-8


def test_collector_loss_matches_pybamm_potential_pair_model():
    """2D cross-section with tabs against PyBaMM's 1+1D DFN with "potential pair" collectors.

    tests/data/pybamm/chen2020_1C_potential_pair.csv, written by
    bench/make_pybamm_potential_pair_reference.py: the Chen2020 cell at 1C with foil
    conductivities divided by 10 and both tabs at the top; the voltage of the collector model
    minus that of the plain 1D DFN isolates the collectors' effect (2.1 mV) from each code's
    own x/r discretisation error. PyBaMM treats the foils as
    sheets of zero thickness with point tabs; here they are resolved layers with 0.1 mm tabs
    (whose own resistance, 5e-7 V, is negligible).
    """
    reference = np.loadtxt(DATA / "chen2020_1C_potential_pair.csv", delimiter=",", skiprows=2)
    with open(DATA / "chen2020_1C_potential_pair.csv") as stream:
        header = stream.readline()
    end_1d, end_pair = (float(word) for word in re.findall(r"(\d+\.\d+) s", header))
    tenth = 0.1
    geometry = CellGeometry(
        0.065,
        10,
        negative_foil=CurrentCollectorFoil(12e-6, 58411000.0 * tenth),
        positive_foil=CurrentCollectorFoil(16e-6, 36914000.0 * tenth),
        negative_tab=TabPlacement(),
        positive_tab=TabPlacement(),
        tab_length_m=1e-4,
        tab_cells=1,
    )
    one_d = DFN(chen2020(), RESOLUTION, comm=MPI.COMM_WORLD).discharge(5.0)
    two_d = DFN(chen2020(), RESOLUTION, comm=MPI.COMM_WORLD, geometry=geometry).discharge(5.0)
    times = reference[:, 0]
    # Up to 3400 s: in the last minutes before the cut-off a difference at fixed time mostly
    # measures the time shift of a steep curve (compared separately below). Cubic splines through
    # the adaptive steps: their interpolation error (< 1 uV) stays far below the tolerance.
    window = times <= 3400.0
    ours = CubicSpline(two_d.time_s, two_d.voltage_V)(times) - CubicSpline(
        one_d.time_s, one_d.voltage_V
    )(times)
    theirs = reference[:, 2] - reference[:, 1]
    # The loss itself is 2.1 mV; the two codes agree to 9.5 uV (measured). 20 uV (1 % of the
    # loss) covers the different discretisations along the height (10 Q1 cells here, 40 finite
    # volumes there) and time stepping (rtol 1e-3 here, 1e-8 there).
    assert np.max(np.abs(ours[window] - theirs[window])) < 2e-5
    assert np.mean(theirs[window]) < -2e-3  # (the reference does hold a 2 mV loss)
    # The cut-off comes earlier by the same time: -0.475 s here, -0.473 s in PyBaMM, 0.05 s.
    shift = (two_d.time_s[-1] - one_d.time_s[-1]) - (end_pair - end_1d)
    assert abs(shift) < 0.05


@pytest.mark.mpi
def test_cross_section_charges_at_3c_after_a_depleting_3c_discharge(shared_tmp_path):
    """`cases/pouch-2d-cross-section` on a small mesh: a 3C discharge to 2.5 V leaves the
    positive electrode's electrolyte depleted, and the 3C charge that follows must go on.
    It gave up 1.2 s into the charge (every step rejected down to 1e-22 s: TSBDF's
    extrapolated Newton guess of the log-concentration overshot at the depleted nodes), until
    Newton's retries there, and the solves after them, started from the last accepted state
    (DFNProblem's start_from_last_state)."""
    case = load_case(
        CASES / "pouch-2d-cross-section",
        [
            "geometry.height_cells=4",
            "mesh.negative_cells=10",
            "mesh.separator_cells=4",
            "mesh.positive_cells=10",
            "mesh.negative_radial_points=10",
            "mesh.positive_radial_points=10",
            'experiment.steps=["Discharge at 3C until 2.5 V", "Charge at 3C for 3 seconds"]',
            "output.fields=false",
            "output.profile_times=[]",
        ],
    )
    messages = []
    code, folder = run_case(case, shared_tmp_path / "out", MPI.COMM_WORLD, messages.append)
    # On failure the run's last messages say where and why it gave up. On 2 ranks the steps
    # through the depleted seconds differ from run to run (round-off decides the rejections):
    # 2352-2555 rows in 11 runs of 55ffa1f's and 1c5171c's code (2026-12-07), one make test
    # of 1c5171c's failed here without its reason (the log was discarded then).
    assert code == 0, "\n".join(messages[-6:])
    run = json.loads((folder / "run.json").read_text())
    assert "its duration ended" in run["stop_reason"]
    assert "the electrolyte was depleted" in run["stop_reason"]
    with open(folder / "timeseries.csv") as stream:
        rows = list(csv.DictReader(stream))
    end = {key: float(value) for key, value in rows[-1].items()}
    discharge_end = max(float(r["time_s"]) for r in rows if float(r["step_index"]) == 0)
    assert end["time_s"] == pytest.approx(discharge_end + 3.0, abs=1e-9)
    # Lithium (electrolyte and particles) is conserved in the equations: measured 1.2e-13
    # relative after the ~2500 steps, 1e-10 the bound.
    lithium = [float(r["lithium_mol"]) for r in rows]
    assert max(abs(value - lithium[0]) for value in lithium) / lithium[0] < 1e-10
    # The serial answer on 2 ranks too: measured 3.75641559 V serial and on 2 ranks 3e-9 V
    # from it, though the 2-rank run takes its own steps through the depleted seconds
    # (round-off decides the rejections: 2424 steps against 2479). 1e-6 V is far below the
    # mesh's error.
    assert end["voltage_V"] == pytest.approx(3.7564156, abs=1e-6)
