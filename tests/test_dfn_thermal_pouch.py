"""Distributed temperature on the 2D cross-section and the 3D pouch ([thermal] model "2d"/"3d").

Checked against the layered medium's exact conduction (series and parallel conductivities),
the energy balance (generated = stored + removed), the lumped and x-full models with the same
cooling (PyBaMM's consistent-cooling idea), the serial answer on two ranks, and, for an ambient
temperature that follows a schedule, the exact solution of the lumped balance at rest.
"""

from __future__ import annotations

import shutil

from mpi4py import MPI

import numpy as np
import pytest
import ufl
from conftest import CASES
from dolfinx import fem, mesh
from dolfinx.fem.petsc import LinearProblem

import electrolyx  # noqa: F401  (loads MPI/PETSc libraries first)
from electrolyx.case import load_case
from electrolyx.errors import CaseError
from electrolyx.models.dfn import (
    DFN,
    AmbientSchedule,
    CellGeometry,
    CurrentCollectorFoil,
    DFNResolution,
    TabPlacement,
    ThermalModel,
)
from electrolyx.models.dfn.thermal import stack_conductivities
from electrolyx.parameters import chen2020

# Coarse: 4/2/4 cells through the stack, 6 radial points, 2-3 cells in the plane. The checks
# are identities of the discretisation (energy balance, 1 vs 2 ranks, exact linear
# conduction) or compare models on the same through-plane mesh, so the mesh need not be fine.
RESOLUTION = DFNResolution(4, 2, 4, 6, 6, 2.0)
COPPER = CurrentCollectorFoil(12e-6, 58411000.0)  # PyBaMM Chen2020 foils
ALUMINIUM = CurrentCollectorFoil(16e-6, 36914000.0)
CROSS_SECTION = CellGeometry(
    0.065,
    3,
    negative_foil=COPPER,
    positive_foil=ALUMINIUM,
    negative_tab=TabPlacement(),
    positive_tab=TabPlacement(),
)
POUCH = CellGeometry(
    0.065,
    2,
    0.08,
    3,
    negative_foil=COPPER,
    positive_foil=ALUMINIUM,
    negative_tab=TabPlacement(0.0, 0.02),
    positive_tab=TabPlacement(0.05, 0.07),
)


def _discharge(model: str, geometry=None, parameters=None, comm=MPI.COMM_WORLD, **kwargs):
    """Rows (time, voltage, thermal columns) of a 1C discharge to 2.5 V (or ``kwargs``)."""
    cell = DFN(
        parameters or chen2020(),
        RESOLUTION,
        comm=comm,
        geometry=geometry,
        thermal=ThermalModel(model),
        row_interval_s=60.0,
    )
    rows = []

    def observe(kind: str) -> None:
        if kind == "row":
            rows.append({"time_s": cell.time_s, "voltage_V": cell.voltage()})
            rows[-1].update(cell.outputs.thermal.row())

    cell.observer = observe
    cell.discharge(
        current_A=kwargs.get("current_A", 5.0), cutoff_voltage_V=kwargs.get("cutoff", 2.5)
    )
    return cell, {key: np.array([row[key] for row in rows]) for key in rows[0]}


@pytest.fixture(scope="module")
def pouch():
    """The 3D pouch's 1C discharge with h = 10 W/m2/K on every boundary."""
    return _discharge("3d", POUCH)


def _energy_is_conserved(rows) -> None:
    # The issue: generated = stored + removed to 1e-6 relative over the discharge. The two
    # accumulators are unknowns integrated with the temperature's own steps and the weak form
    # with v = 1 is the discrete energy balance, so it holds to Newton's tolerance (measured
    # 6.0e-9 in 2D, 2.8e-8 in 3D, the largest over the rows).
    generated = rows["heat_generated_J"]
    imbalance = generated - rows["heat_stored_J"] - rows["heat_removed_J"]
    assert generated[-1] > 2000.0  # J: about 0.75 W for an hour, a real heat
    print(f"energy imbalance {np.max(np.abs(imbalance)) / generated[-1]:.3g}")
    assert np.max(np.abs(imbalance)) < 1e-6 * generated[-1]
    assert rows["heat_stored_J"][-1] > 10.0  # J: the cell does warm (about 0.45 K)
    # The heat removed now [W], by boundary and in all: its integral over the rows (trapezoids)
    # is the removed heat, integrated by the time stepper with its own steps. The rows are 60 s
    # apart: the trapezoids' error is what remains (measured 1.9e-5 in 2D, 1.6e-5 in 3D); 2e-4.
    removed_now = rows["heat_removed_W"]
    boundaries = [
        key
        for key in rows
        if key.startswith("heat_removed_") and key.endswith("_W") and key != "heat_removed_W"
    ]
    by_boundary = sum(rows[key] for key in boundaries)
    assert len(boundaries) >= 4  # the two large faces, the rim, at least one tab
    assert np.allclose(by_boundary, removed_now, rtol=1e-12, atol=1e-12 * np.max(removed_now))
    t = rows["time_s"]
    integral = np.sum(0.5 * (removed_now[1:] + removed_now[:-1]) * np.diff(t))
    print(f"removed heat by the rows' rates {integral / rows['heat_removed_J'][-1] - 1:.3g}")
    assert integral == pytest.approx(rows["heat_removed_J"][-1], rel=2e-4)


def test_cross_section_conserves_energy():
    cell, rows = _discharge("2d", CROSS_SECTION)
    _energy_is_conserved(rows)
    # The foils' and tabs' ohmic heat is part of the solid's (it is zero without foils).
    assert rows["heat_ohmic_solid_W"][-1] > 0.0
    assert rows["max_temperature_K"][-1] >= rows["temperature_K"][-1]
    assert 0.0 <= rows["max_temperature_y_m"][-1] <= 0.065 + POUCH.tab_length_m


def test_pouch_conserves_energy(pouch):
    _, rows = pouch
    _energy_is_conserved(rows)
    assert "max_temperature_z_m" in rows


def test_lumped_x_full_and_pouch_agree_with_the_same_cooling(pouch):
    """The issue's consistent cooling: h = 10 W/m2/K on every face of each model.

    x-full cools both faces of the layer pair (2 A_electrode); the lumped model gets A = 2
    A_electrode and V = A_electrode L (L with the collectors), the same heat capacity and
    cooling. The pouch cools its two large faces and, in addition, its rim (0.6 % more area on
    this 6.5 cm x 8 cm pair) and its two 2 cm x 1 cm tabs on both sides (7.7 % more), and its
    in-plane current adds foil and tab heat (ohmic solid heat 3.7 % of the total against
    3.3 %). Measured (this coarse mesh): mean temperatures 3D - lumped 0.0283 K, 3D - x-full
    0.0284 K at most (the pouch warms by 0.468 K, the others by 0.496 K), lumped - x-full
    3.8e-4 K: within the issue's 0.05 K.
    """
    from electrolyx.parameters.by_name import with_values

    base = chen2020()
    area = base.electrode_area_m2
    thermal = base.thermal
    thickness = (
        base.thickness_m
        + thermal.negative_current_collector_thickness_m
        + thermal.positive_current_collector_thickness_m
    )
    lumped_parameters = with_values(
        base, {"Cell cooling surface area [m2]": 2 * area, "Cell volume [m3]": area * thickness}
    )
    _, lumped = _discharge("lumped", parameters=lumped_parameters)
    _, full = _discharge("x-full")
    _, pouch_rows = pouch
    end = min(lumped["time_s"][-1], full["time_s"][-1], pouch_rows["time_s"][-1])
    t = np.linspace(0.0, end, 400)
    mean = {
        name: np.interp(t, rows["time_s"], rows["temperature_K"])
        for name, rows in (("lumped", lumped), ("x-full", full), ("3d", pouch_rows))
    }
    for name in ("lumped", "x-full"):
        print(f"3d - {name}: {np.max(np.abs(mean['3d'] - mean[name])):.3g} K")
    print(f"lumped - x-full: {np.max(np.abs(mean['lumped'] - mean['x-full'])):.3g} K")
    assert mean["3d"][-1] - 298.15 > 0.4  # K: the pouch does warm
    for name in ("lumped", "x-full"):
        assert np.max(np.abs(mean["3d"] - mean[name])) < 0.05, name
    assert np.max(np.abs(mean["lumped"] - mean["x-full"])) < 0.05


def test_the_stack_conducts_as_a_layered_medium():
    """Steady conduction on the pouch mesh with the model's own regions and conductivities.

    T = 1 on one large face and 0 on the other: the heat flow is lambda_through A / L with the
    series conductivity; T = 1 and 0 on the two faces across the width: lambda_in L W... with
    the thickness-weighted mean (:func:`stack_conductivities`). Both temperatures are exactly
    linear through each layer (Q1 elements hold them), so the flows agree to round-off
    (measured 4.4e-16 both ways): 1e-9.
    """
    geometry = CellGeometry(0.065, 2, 0.08, 2, negative_foil=COPPER, positive_foil=ALUMINIUM)
    cell = DFN(chen2020(), RESOLUTION, geometry=geometry, thermal=ThermalModel("3d"))
    thermal = cell.problem.thermal
    in_plane, through = thermal.effective_conductivities_W_m_K()
    layers = thermal._layers
    expected_in, expected_through = stack_conductivities(
        [(L, thermal.thermal.conductivity_W_m_K(name)) for name, L in layers.items()]
    )
    assert (in_plane, through) == (expected_in, expected_through)
    # Copper and aluminium foils carry the heat in the plane, the separator blocks it across.
    assert in_plane > 10 * through
    domain = cell.mesh
    thickness = sum(layers.values())
    space = fem.functionspace(domain, ("Lagrange", 1))
    T, v = ufl.TrialFunction(space), ufl.TestFunction(space)
    conduction = sum(
        lam * ufl.inner(ufl.grad(T), ufl.grad(v)) * dx for _, lam, dx in thermal._regions
    )
    zero = fem.Constant(domain, 0.0) * v * ufl.dx
    fdim = domain.topology.dim - 1
    for axis, length, section, expected in (
        (0, thickness, 0.065 * 0.08, through),
        (1, 0.08, 0.065 * thickness, in_plane),
    ):
        bcs = []
        for where, value in ((0.0, 1.0), (length, 0.0)):
            facets = mesh.locate_entities_boundary(
                domain, fdim, lambda x, w=where, a=axis: np.isclose(x[a], w, atol=1e-12)
            )
            dofs = fem.locate_dofs_topological(space, fdim, facets)
            bcs.append(fem.dirichletbc(value, dofs, space))
        solution = LinearProblem(
            conduction,
            zero,
            bcs=bcs,
            petsc_options_prefix=f"stack_conduction_{axis}_",
            petsc_options={"ksp_type": "preonly", "pc_type": "lu"},
        ).solve()
        flow = cell.problem.integral(
            fem.form(
                sum(
                    lam * ufl.inner(ufl.grad(solution), ufl.grad(solution)) * dx
                    for _, lam, dx in thermal._regions
                )
            )
        )
        print(f"conduction axis {axis}: {flow / (expected * section / length) - 1:.3g}")
        assert flow == pytest.approx(expected * section / length, rel=1e-9)


def test_ambient_schedule_at_rest_follows_the_exact_lumped_solution():
    """At rest (no heat) C dT/dt = -hA (T - T_amb(t)) with T_amb a ramp 298.15 -> 318.15 K.

    Exact: T = T_0 + r (t - tau (1 - exp(-t / tau))) on the ramp (tau = C / hA, r = 20 K /
    1800 s), then an exponential approach to 318.15 K. The ramp's end is a kink of T_amb; the
    integrator's own error (relative tolerance 1e-6) is what remains: measured 1.6e-4 K
    (9.6e-3 K at the default 1e-4): 1e-3 K.
    """
    schedule = AmbientSchedule((0.0, 1800.0), (298.15, 318.15))
    cell = DFN(
        chen2020(),
        DFNResolution(10, 6, 10, 10, 10, 2.0),
        thermal=ThermalModel("lumped", schedule),
        row_interval_s=60.0,
        relative_tolerance=1e-6,
    )
    rows = []
    cell.observer = lambda kind: (
        rows.append((cell.time_s, cell.outputs.thermal.row())) if kind == "row" else None
    )
    cell.discharge(current_A=0.0, duration_s=5400.0)
    thermal = cell.problem.thermal
    tau = thermal.heat_capacity_J_K / thermal.cooling_W_K
    t = np.array([time for time, _ in rows])
    T = np.array([row["temperature_K"] for _, row in rows])
    rate = 20.0 / 1800.0
    at_kink = 298.15 + rate * (1800.0 - tau * (1.0 - np.exp(-1800.0 / tau)))
    exact = np.where(
        t <= 1800.0,
        298.15 + rate * (t - tau * (1.0 - np.exp(-t / tau))),
        318.15 + (at_kink - 318.15) * np.exp(-(t - 1800.0) / tau),
    )
    assert t[-1] == pytest.approx(5400.0)
    assert max(abs(row["heat_total_W"]) for _, row in rows) < 1e-12  # W: at rest, no heat
    print(f"schedule: largest error {np.max(np.abs(T - exact)):.3g} K")
    assert np.max(np.abs(T - exact)) < 1e-3
    assert T[-1] > 318.0  # K: it did follow the schedule up


def test_each_face_its_own_cooling_gives_the_steady_series_flow():
    """x-full at rest, T_amb = 308.15 K and h = 10 on the negative face, 298.15 K and h = 20
    on the positive: the steady flow through the layers is q = dT_amb / (1/h_1 + R + 1/h_2),
    R = sum L_i / lambda_i of electrodes and separator (the collectors lumped on the faces hold
    heat but add no resistance). T is linear in each layer, which P1 holds exactly; after 40
    face time constants (C_face / h ~ 60 s) what remains is the integrator's tolerance:
    measured 2.8e-8 K at both faces; 1e-6 K.
    """
    from electrolyx.models.dfn import BoundaryCooling

    parameters = chen2020()
    boundaries = {
        "negative_current_collector": BoundaryCooling(10.0, 308.15),
        "positive_current_collector": BoundaryCooling(20.0, 298.15),
    }
    cell = DFN(
        parameters,
        RESOLUTION,
        thermal=ThermalModel("x-full", boundaries=tuple(boundaries.items())),
    )
    cell.discharge(current_A=0.0, duration_s=4000.0)
    thermal = parameters.thermal
    resistance = sum(
        region.thickness_m / thermal.conductivity_W_m_K(layer)
        for region, layer in (
            (parameters.negative, "negative_electrode"),
            (parameters.separator, "separator"),
            (parameters.positive, "positive_electrode"),
        )
    )
    flow = (308.15 - 298.15) / (1 / 10.0 + resistance + 1 / 20.0)
    unknown = cell.problem.unknowns["temperature"]
    x = unknown.space.tabulate_dof_coordinates()[:, 0]
    T = unknown.physical_array()
    left, right = T[np.argmin(x)], T[np.argmax(x)]
    errors = (left - (308.15 - flow / 10.0), right - (298.15 + flow / 20.0))
    print("steady faces: {:.3g} K, {:.3g} K".format(*errors))
    assert left == pytest.approx(308.15 - flow / 10.0, abs=1e-6)
    assert right == pytest.approx(298.15 + flow / 20.0, abs=1e-6)
    assert left - right == pytest.approx(flow * resistance, abs=1e-6)
    # The heat removed through each face [W, the whole cell]: the flow enters through the warm
    # negative face (removed < 0) and leaves through the positive one. The faces' temperatures
    # are within 3e-8 K of the exact ones (h <= 20: 6e-7 W/m2 of ~60 W/m2; measured 2.1e-9
    # and 4.2e-9 relative); 1e-6 relative.
    cooling = cell.outputs.thermal.cooling_W()
    area = parameters.electrode_area_m2
    assert cooling["heat_removed_negative_current_collector_W"] == pytest.approx(
        -flow * area, rel=1e-6
    )
    assert cooling["heat_removed_positive_current_collector_W"] == pytest.approx(
        flow * area, rel=1e-6
    )
    assert abs(cooling["heat_removed_W"]) < 1e-6 * flow * area  # at rest: in = out


def _edited_case(tmp_path, edit):
    folder = tmp_path / "case"
    shutil.copytree(CASES / "dfn-chen2020-thermal-lumped", folder)
    path = folder / "case.toml"
    path.write_text(edit(path.read_text()))
    return folder


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            "ambient_schedule = [[0.0, 298.15], [0.0, 300.0]]",
            "thermal.ambient_schedule: times [0.0, 0.0]: allowed strictly increasing",
        ),
        (
            "ambient_schedule = [[0.0, 298.15], [60.0, -3.0]]",
            "thermal.ambient_schedule: T = -3.0 K at t = 60.0 s: allowed 1 < T < 1000 K",
        ),
        (
            "ambient_schedule = [[0.0, 298.15, 1.0]]",
            "thermal.ambient_schedule",
        ),
        (
            "ambient_temperature = 300.0\nambient_schedule = [[0.0, 298.15]]",
            "thermal.ambient_schedule: give it or ambient_temperature, not both",
        ),
        (
            "[thermal.boundaries.negative_tab]\nheat_transfer_coefficient = 5.0",
            "thermal.boundaries.negative_tab: not a boundary of model = 'lumped'",
        ),
        ('model = "3d"', "thermal.model = '3d': only with geometry.dimension = 3 (here 1)"),
        ("heat_transfer_coefficient = -1.0", "thermal.heat_transfer_coefficient"),
    ],
)
def test_bad_thermal_input_is_refused(tmp_path, table, message):
    def edit(text):
        return text.replace('[thermal]\nmodel = "lumped"', f'[thermal]\nmodel = "lumped"\n{table}')

    if table.startswith("model"):
        edit = lambda text: text.replace('model = "lumped"', table)  # noqa: E731
    with pytest.raises(CaseError) as info:
        load_case(_edited_case(tmp_path, edit))
    assert message in str(info.value)


def test_cooling_of_a_tab_the_cell_lacks_is_refused(tmp_path):
    folder = tmp_path / "case"
    shutil.copytree(CASES / "pouch-2d-cross-section", folder)
    path = folder / "case.toml"
    text = path.read_text().replace("tabs = true\ntab_length = 0.01                 # m\n", "")
    table = (
        '[thermal]\nmodel = "2d"\n'
        "[thermal.boundaries.negative_tab]\nheat_transfer_coefficient = 5.0"
    )
    path.write_text(text.replace("[mesh]", f"{table}\n\n[mesh]"))
    with pytest.raises(CaseError, match="thermal.boundaries.negative_tab: the cell has no tabs"):
        load_case(folder)


@pytest.mark.mpi
@pytest.mark.parametrize("geometry", [CROSS_SECTION, POUCH], ids=["2d", "3d"])
def test_pouch_thermal_on_two_ranks_gives_the_serial_answer(geometry):
    """Distributed over COMM_WORLD and alone on COMM_SELF: the same rows every 60 s.

    With foils the step times of 1 and 2 ranks drift apart at the round-off of the stiff foil
    rows (test_dfn_multidimensional.py): compare the rows at the same times (TS's
    interpolation). 1e-6 relative, as the isothermal 2D/3D DFN's heat columns in
    test_every_case_on_two_ranks.py (round-off amplified; measured 4.7e-8 in 2D, 1.2e-8 in
    3D).
    """
    if MPI.COMM_WORLD.size == 1:
        pytest.skip("compares a distributed run with a serial one: run under mpiexec -n 2")
    model = "2d" if geometry.width_m is None else "3d"

    def rows(comm):
        _, table = _discharge(model, geometry, comm=comm, current_A=10.0, cutoff=3.7)
        on_grid = np.abs(table["time_s"] / 60.0 - np.round(table["time_s"] / 60.0)) < 1e-9
        return np.column_stack([column[on_grid] for column in table.values()])

    distributed = rows(MPI.COMM_WORLD)
    alone = rows(MPI.COMM_SELF)
    assert distributed.shape == alone.shape
    scale = np.abs(alone).max(axis=0)
    # Relative to each value, with a floor of 1e-6 of the column's largest (a zero column,
    # e.g. the reversible heat of Chen2020, must then be zero on both).
    floor = np.maximum(np.abs(alone) + 1e-6 * scale, np.finfo(float).tiny)
    difference = np.max(np.abs(distributed - alone) / floor)
    print(f"largest relative difference {difference:.3g}")
    assert difference < 1e-6
    assert distributed[-1, 0] >= 120.0  # s: a real discharge to 3.7 V at 2C
