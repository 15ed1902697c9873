"""Microstructure-resolved half cell: conservation, current continuity, relaxation, ranks.

A tiny 2D disk packing (10 overlapping disks, all linked to the collector) keeps every test to
seconds. The checks are exact properties of the continuous problem that the discretisation
keeps to round-off (lithium balance, current continuity) and the thermodynamic end state of a
rest (uniform particles at the open-circuit potential of their average stoichiometry).
"""

from __future__ import annotations

import json

from mpi4py import MPI

import numpy as np
import pytest
from conftest import run_cli

from electrolyx.constants import FARADAY
from electrolyx.forms.kinetics import Kinetics
from electrolyx.meshes.packing import packing_mesh, random_packing
from electrolyx.models.microstructure import (
    ResolvedHalfCell,
    discharge,
    particles_connected_to_collector,
)
from electrolyx.parameters import chen2020, marquis2019

BOX = (16e-6, 10e-6)


def _packing():
    return random_packing(
        BOX,
        solid_fraction=0.6,
        mean_radius=2.5e-6,
        radius_std=0.5e-6,
        max_overlap=0.5,
        seed=0,
    )


def _cell(
    comm: MPI.Comm,
    double_layer: bool = False,
    petsc_options: dict | None = None,
    parameters=None,
    kinetics=None,
) -> ResolvedHalfCell:
    packing = MPI.COMM_WORLD.bcast(_packing() if MPI.COMM_WORLD.rank == 0 else None, root=0)
    mesh_data = packing_mesh(
        comm, packing, element_size=1.2e-6, separator_thickness=4e-6, ghost_mode="shared_facet"
    )
    return ResolvedHalfCell(
        mesh_data,
        parameters or chen2020(),
        depth_m=BOX[1],
        double_layer=double_layer,
        petsc_options=petsc_options,
        kinetics=kinetics,
    )


@pytest.fixture(scope="module")
def packing():
    return _packing()


def _total_lithium(row) -> float:
    return row["lithium_electrolyte_mol"] + row["lithium_particles_mol"]


def test_packing_is_connected_to_the_collector(packing):
    # Every disk overlaps a chain to x = 0, so every particle takes part (the rest test needs it).
    assert particles_connected_to_collector(packing).all()
    assert len(packing.radii) == 10


@pytest.mark.parametrize(
    "double_layer, parameters, kinetics",
    [
        (False, None, None),
        (True, None, None),
        # Another chemistry (LiCoO2 of Marquis2019) and another kinetic law through the same
        # reactions: the balances are exact properties of the discretisation either way.
        (False, marquis2019(), Kinetics("marcus-hush-chidsey", reorganisation_energy_J_mol=4e4)),
    ],
    ids=["chen2020", "chen2020-double-layer", "marquis2019-mhc"],
)
def test_lithium_and_charge_conservation(double_layer, parameters, kinetics):
    cell = _cell(MPI.COMM_WORLD, double_layer, parameters=parameters, kinetics=kinetics)
    current = 2.0 * cell.one_c_current_A
    rows: list[dict[str, float]] = []
    termination = discharge(cell, current, 3.0, 90.0, 30.0, on_row=rows.append)
    # Three 30 s steps (a step may be halved where Newton fails at first).
    assert termination == "time" and len(rows) >= 4 and rows[-1]["time_s"] == pytest.approx(90.0)
    start = _total_lithium(rows[0])
    for row in rows[1:]:
        # Lithium in electrolyte and particles grows by exactly what the metal gave up, Q/F. The
        # per-step balance holds to the Newton tolerance (scaled residual 1e-11 of the 1C
        # current), i.e. ~1e-13 of the inventory; 1e-10 (the bound) leaves a wide margin.
        gained = _total_lithium(row) - start
        passed = row["discharge_capacity_Ah"] * 3600.0 / FARADAY
        assert abs(gained - passed) / start < 1e-10
        # Current continuity: solid charge balance (interface vs collector) and electrolyte
        # charge balance (interface vs lithium metal) hold to the same tolerance; Newton on the
        # collector voltage stops at 1e-12 of the 1C current (ResolvedHalfCell.step).
        assert abs(row["interface_current_A"] - current) / current < 1e-10
        assert abs(row["counter_electrode_current_A"] - current) / current < 1e-10
        if not double_layer:
            # Without a double layer the faradaic currents balance, so the salt in the
            # electrolyte stays constant (lithium enters at the metal as fast as it leaves).
            salt = row["lithium_electrolyte_mol"] - rows[0]["lithium_electrolyte_mol"]
            assert abs(salt) / rows[0]["lithium_electrolyte_mol"] < 1e-10
    # The discharge did something: particles took up lithium and the voltage fell.
    assert rows[-1]["average_stoichiometry"] > rows[0]["average_stoichiometry"] + 1e-3
    assert rows[-1]["voltage_V"] < rows[0]["voltage_V"] - 0.01


def test_rest_relaxes_to_open_circuit_potential_of_the_average():
    cell = _cell(MPI.COMM_WORLD)
    discharge(cell, cell.one_c_current_A, 3.0, 60.0, 30.0)
    loaded = cell.state()
    ocp = cell.electrode.open_circuit_potential
    # Under load the voltage sits well below the open-circuit potential of the average.
    assert ocp(loaded.average_stoichiometry, cell.temperature_K) - loaded.voltage_V > 0.02
    rest = [100.0 * 2**k for k in range(10)] + [1e5] * 4  # 100 s ... 1e5 s, ~5e5 s in all
    for dt in rest:
        cell.step(dt, 0.0)
    state = cell.state()
    # At rest the particles become uniform, the salt uniform at its initial value (phi_e = 0 at
    # the metal), so V = U(average sto) exactly in the limit. The slowest mode is diffusion along
    # the longest chain of overlapping disks, L^2/(pi^2 D_s) ~ 6500 s for L = 16 um; implicit
    # Euler damps it by 1/(1 + dt/tau) per step, below 1e-7 over these steps, so an initial
    # 0.1 V spread leaves < 1e-8 V; 1e-6 V bounds that and the solver tolerances.
    assert state.voltage_V == pytest.approx(
        float(ocp(state.average_stoichiometry, cell.temperature_K)), abs=1e-6
    )
    # Resting moved no lithium between the metal and the electrode, up to the tolerance on the
    # current (1e-12 of 1C) over ~5e5 s, i.e. ~1.4e-10 of the capacity (1C for 3600 s).
    assert state.average_stoichiometry == pytest.approx(loaded.average_stoichiometry, rel=1e-9)


def test_full_newton_steps_reach_the_backtracking_solution():
    # line_search = "basic": Newton on the fields and the collector voltage takes full steps.
    # At C/2 from rest it converges without backtracking, to the same discrete solution: both
    # stop at a scaled residual below 1e-11 (1e-11 of the 1C current per node, ~1e-12 V), so
    # 1e-9 V is a bound with margin that still catches a wrong voltage update (a 1 % error in
    # dV is ~1e-4 V). A fresh Jacobian at every iteration (the model's default reuses one for
    # up to three): full steps along a reused Jacobian's direction overshoot in one of these
    # 30 s steps, which TS then halves, so the rows would not fall at the same times.
    voltages = []
    for line_search in ("bt", "basic"):
        options = {"snes_linesearch_type": line_search, "snes_lag_jacobian": 1}
        cell = _cell(MPI.COMM_SELF, petsc_options=options)
        rows: list[dict[str, float]] = []
        discharge(cell, 0.5 * cell.one_c_current_A, 3.0, 120.0, 30.0, on_row=rows.append)
        voltages.append(np.array([row["voltage_V"] for row in rows]))
    assert voltages[0][0] - voltages[0][-1] > 0.2  # the voltage moved under load
    np.testing.assert_allclose(voltages[1], voltages[0], rtol=0, atol=1e-9)


@pytest.mark.mpi
def test_distributed_matches_serial():
    # Every rank runs a serial copy and the distributed cell; they must give the same voltage.
    serial = _cell(MPI.COMM_SELF)
    distributed = _cell(MPI.COMM_WORLD)
    voltages = []
    for cell in (serial, distributed):
        discharge(cell, 2.0 * cell.one_c_current_A, 3.0, 60.0, 30.0)
        voltages.append(cell.state().voltage_V)
    # Both solve the same discrete equations to Newton tolerance 1e-10 of the 1C current;
    # the issue asks for agreement within 1e-8 V.
    assert abs(voltages[0] - voltages[1]) < 1e-8
    assert serial.state().lithium_particles_mol == pytest.approx(
        distributed.state().lithium_particles_mol, rel=1e-10
    )


def test_shipped_case_runs_from_the_cli(tmp_path):
    out = tmp_path / "result"
    result = run_cli(
        "run",
        "cases/microstructure-2d-halfcell",
        "--set",
        "discharge.duration=360",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "completed"
    data = np.genfromtxt(out / "timeseries.csv", delimiter=",", names=True)
    assert data.dtype.names[:3] == ("time_s", "voltage_V", "current_A")
    # 360 s at 120 s per step: t = 0, 120, 240, 360 (exactly, the last step lands on the end).
    np.testing.assert_allclose(data["time_s"], [0.0, 120.0, 240.0, 360.0], rtol=1e-12)
    current = data["current_A"][1:]
    np.testing.assert_allclose(data["interface_current_A"][1:], current, rtol=1e-10)
    assert (out / "fields" / "fields.pvd").is_file()
    assert (out / "fields" / "particles.bp").is_dir()
    # Progress off a terminal: one line for the discharge, with the case's cut-off and end
    # time, the last row's time and voltage and the run's Newton iterations.
    progress = [line for line in result.stdout.splitlines() if "step 1/1 'Discharge at" in line]
    assert len(progress) == 1
    assert "until 3.5 V': t = 360 s of at most 360 s" in progress[0]
    assert f"{data['voltage_V'][-1]:.4f} V" in progress[0]
    assert f"{run['solver']['newton_iterations']} Newton iterations" in progress[0]


def _cell_3d(comm: MPI.Comm) -> ResolvedHalfCell:
    packing = MPI.COMM_WORLD.bcast(
        random_packing(
            (12e-6, 8e-6, 8e-6),
            solid_fraction=0.5,
            mean_radius=2.5e-6,
            radius_std=0.3e-6,
            max_overlap=0.3,
            seed=1,
        )
        if MPI.COMM_WORLD.rank == 0
        else None,
        root=0,
    )
    mesh_data = packing_mesh(
        comm,
        packing,
        element_size=1.5e-6,
        separator_thickness=4e-6,
        segments_per_circle=12,
        ghost_mode="shared_facet",
    )
    return ResolvedHalfCell(mesh_data, chen2020())


@pytest.mark.mpi
def test_distributed_matches_serial_in_3d():
    # 10 spheres (9 linked to the collector), ~8300 tetrahedra: a serial copy on every rank
    # against the distributed cell over three 1C steps.
    serial = _cell_3d(MPI.COMM_SELF)
    distributed = _cell_3d(MPI.COMM_WORLD)
    series = []
    for cell in (serial, distributed):
        rows: list[dict[str, float]] = []
        discharge(cell, cell.one_c_current_A, 3.0, 90.0, 30.0, on_row=rows.append)
        series.append(np.array([row["voltage_V"] for row in rows]))
    # Same discrete equations, Newton to 1e-10 of the 1C current and the collector voltage
    # to 1e-13 of the current: round-off apart. The issue asks for 1e-8 V.
    np.testing.assert_allclose(series[1], series[0], rtol=0, atol=1e-8)
    # The discharge moved the voltage (the comparison is not between two resting cells).
    assert series[0][0] - series[0][-1] > 0.05


def test_shipped_case_runs_with_marquis2019(tmp_path):
    """Issue 12: a microstructure run with ``parameters.set = "Marquis2019"`` completes."""
    out = tmp_path / "result"
    result = run_cli(
        "run",
        "cases/microstructure-2d-halfcell",
        "--set",
        'parameters.set="Marquis2019"',
        "--set",
        "discharge.duration=360",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "completed"
    data = np.genfromtxt(out / "timeseries.csv", delimiter=",", names=True)
    np.testing.assert_allclose(data["time_s"], [0.0, 120.0, 240.0, 360.0], rtol=1e-12)
    # The set is the one used: the rest voltage at t = 0 is Marquis2019's LiCoO2 open-circuit
    # potential at its initial stoichiometry (phi_s = U set at rest; round-off of V_T scaling).
    positive = marquis2019().positive
    sto = positive.initial_concentration_mol_m3 / positive.max_concentration_mol_m3
    ocp = float(positive.open_circuit_potential(sto, marquis2019().ambient_temperature_K))
    assert data["voltage_V"][0] == pytest.approx(ocp, abs=1e-12)
    assert abs(ocp - float(chen2020().positive.open_circuit_potential(sto, 298.15))) > 0.01
    # The interface reaction carries the applied current, and the lithium the metal gave up is
    # in electrolyte and particles, both to the Newton tolerance (1e-10, as for Chen2020).
    current = data["current_A"][1:]
    np.testing.assert_allclose(data["interface_current_A"][1:], current, rtol=1e-10)
    lithium = data["lithium_electrolyte_mol"] + data["lithium_particles_mol"]
    passed = data["discharge_capacity_Ah"] * 3600.0 / FARADAY
    assert np.max(np.abs(lithium - lithium[0] - passed)) <= 1e-10 * lithium[0]


def test_temperature_is_a_constant_or_a_field():
    """Issue 12 item 4: the laws read the temperature coefficient, whatever its kind."""
    from dolfinx import fem

    packing = _packing()
    mesh_data = packing_mesh(MPI.COMM_SELF, packing, element_size=1.2e-6, separator_thickness=4e-6)
    mesh = mesh_data.mesh

    def voltage(temperature) -> float:
        cell = ResolvedHalfCell(mesh_data, chen2020(), depth_m=BOX[1], temperature_K=temperature)
        rows: list[dict[str, float]] = []
        discharge(cell, 2.0 * cell.one_c_current_A, 3.0, 30.0, 30.0, on_row=rows.append)
        return rows[-1]["voltage_V"]

    uniform = fem.Function(fem.functionspace(mesh, ("Lagrange", 1)))
    uniform.x.array[:] = 318.15
    reference = voltage(318.15)
    # A number, a Constant and a uniform P1 field of the same value are the same laws: the
    # same voltage to round-off (the same Newton iterations from the same guess).
    assert voltage(fem.Constant(mesh, 318.15)) == pytest.approx(reference, abs=1e-12)
    assert voltage(uniform) == pytest.approx(reference, abs=1e-12)
    # A callable of the coordinates is interpolated into such a field.
    assert voltage(lambda x: np.full(x.shape[1], 318.15)) == pytest.approx(reference, abs=1e-12)
    # And the coefficient is read: 20 K colder moves the voltage after a 2C step (kinetics,
    # transport, entropic OCP) by more than 1 mV.
    assert abs(voltage(298.15) - reference) > 1e-3
