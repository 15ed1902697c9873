"""Cycle ageing (issue 14, items 7 and 9): cyclable lithium conserved over CC-CV cycles with
lithium plating and SEI growth, and one row per cycle in cycles.csv."""

import csv
import json
from pathlib import Path

from mpi4py import MPI

import numpy as np
import pytest
from conftest import CASES

from electrolyx.case import load_case
from electrolyx.constants import FARADAY
from electrolyx.driver import run_case
from electrolyx.experiment import parse_experiment, repeat
from electrolyx.models.dfn import DFN, DFNResolution, SideReactions
from electrolyx.parameters import okane2022
from electrolyx.postprocess.plots import plot_results

DATA = Path(__file__).parent / "data" / "pybamm"

#: A 1C/1C CC-CV cycle, its hold ending at C/5 (shorter than the issue's C/20, which
#: test_ten_cycles_match_pybamm_per_cycle runs).
CYCLE = [
    "Discharge at 1C until 2.5 V",
    "Charge at 1C until 4.2 V",
    "Hold at 4.2 V until C/5",
]


def _plating_and_sei_model(resolution: DFNResolution):
    """OKane2022 with partially reversible plating and reaction-limited SEI (with its film
    resistance) on the negative electrode: the cell and its DFN."""
    cell = okane2022()
    side = SideReactions(
        ("lithium-plating", "sei"), "partially-reversible", "reaction-limited", cell.degradation
    )
    return cell, DFN(cell, resolution, side_reactions={"negative": side})


@pytest.mark.mpi
def test_cyclable_lithium_is_conserved_over_three_cc_cv_cycles():
    """Electrolyte + particles + plated + dead + SEI lithium over 3 CC-CV cycles at 298.15 K
    (partially reversible plating, reaction-limited SEI with film resistance), coarse mesh."""
    _, model = _plating_and_sei_model(DFNResolution(8, 4, 8, 8, 8))
    solution = model.run_experiment(parse_experiment(repeat(CYCLE, 3)))
    assert max(solution.step_index) == 8  # all nine steps ran
    values = model.outputs.degradation.values()
    # The side reactions did take lithium (measured on this mesh: 1.5e-3 mol plated and dead,
    # 9.4e-6 mol dead, 7.2e-5 mol in the SEI): without them the sum below would test the
    # intercalation balance alone.
    assert values["plated_lithium_mol"] > 1e-4
    assert values["dead_lithium_mol"] > 1e-6
    assert values["sei_lithium_mol"] > 1e-5
    total = np.asarray(solution.lithium_mol) + solution.lithium_in_side_reactions_mol
    # Exact in the equations (the side reactions take their Li+ from the electrolyte, which the
    # intercalation current refills); what is left is Newton's tolerance times the steps:
    # measured 2.4e-12 relative. The issue asks 1e-10.
    assert np.max(np.abs(total - total[0])) / total[0] < 1e-10


def test_a_3c_cycle_after_a_depleting_discharge_in_a_few_hundred_steps():
    """A 3C discharge that depletes the positive electrode's electrolyte, then the 3C charge
    and the hold, on the default 20-cell mesh (the cycling bench's model): the charge refills
    the depleted nodes without Newton failing step after step."""
    cell, model = _plating_and_sei_model(DFNResolution(20, 6, 20, 20, 20))
    cycle = ["Discharge at 3C until 2.5 V", "Charge at 3C until 4.2 V", "Hold at 4.2 V until C/20"]
    model.run_experiment(parse_experiment(cycle[:1]))
    # The discharge did deplete it: below the depletion threshold 1e-6 c_e0 (measured 3.9e-6
    # mol/m3 against 1e-3 mol/m3).
    c0 = cell.electrolyte.initial_concentration_mol_m3
    assert model.outputs.minimum_electrolyte_concentration()[0] < 1e-6 * c0
    solution = model.run_experiment(parse_experiment(cycle))
    assert max(solution.step_index) == 2
    assert "the current fell" in solution.stop_reason
    # Measured 394 steps (56 rejected); with the tie's former eps = 1e-18 the same cycle took
    # 2354 (552 rejected, every one a Newton failure of the charge; bench/README.md, "The
    # log-concentration tie's eps"). 600 leaves room for round-off on other machines and
    # fails on that behaviour.
    assert solution.accepted_steps < 600
    total = np.asarray(solution.lithium_mol) + solution.lithium_in_side_reactions_mol
    # Measured 1.4e-12 relative; the issue asks 1e-10.
    assert np.max(np.abs(total - total[0])) / total[0] < 1e-10


@pytest.mark.mpi
def test_cycles_csv_has_one_row_per_cycle_from_the_timeseries(shared_tmp_path):
    """``[experiment] repeat = 3``: cycles.csv, against the charge balance of the positive
    particles (which take no side reaction) and the time series it was read from."""
    case = load_case(
        CASES / "dfn-plating-fast-charge",
        [
            f"experiment.steps={json.dumps(CYCLE)}",
            "experiment.repeat=3",
            "parameters.initial_state_of_charge=1.0",
            "mesh.negative_cells=8",
            "mesh.separator_cells=4",
            "mesh.positive_cells=8",
            "mesh.negative_radial_points=8",
            "mesh.positive_radial_points=8",
            "output.profiles=[]",
            "output.row_interval=300.0",
        ],
    )
    code, folder = run_case(case, shared_tmp_path / "out", MPI.COMM_WORLD, lambda _: None)
    assert code == 0
    with open(folder / "cycles.csv") as stream:
        cycles = list(csv.DictReader(stream))
    with open(folder / "timeseries.csv") as stream:
        rows = list(csv.DictReader(stream))
    series = {key: np.array([float(r[key]) for r in rows]) for key in rows[0]}
    assert [c["cycle"] for c in cycles] == ["1", "2", "3"]
    cell = okane2022()
    positive = cell.positive
    volume = positive.active_material_volume_fraction * positive.thickness_m
    volume *= cell.electrode_area_m2
    for cycle in cycles:
        start, end = float(cycle["start_time_s"]), float(cycle["end_time_s"])
        inside = (series["time_s"] >= start) & (series["time_s"] <= end)
        concentration = series["average_positive_particle_concentration_mol_m3"][inside]
        # Net charge out = lithium into the positive particles (no side reaction there):
        # measured 1.0e-4 of the cycle's discharge capacity apart (the particle average's
        # quadrature against the trapezoidal integral of the current); 5e-4 still fails a
        # capacity counted in the wrong cycle or with the wrong sign by orders of magnitude.
        net = float(cycle["discharge_capacity_Ah"]) - float(cycle["charge_capacity_Ah"])
        lithium = FARADAY * (concentration[-1] - concentration[0]) * volume / 3600.0
        assert net == pytest.approx(lithium, abs=5e-4 * float(cycle["discharge_capacity_Ah"]))
        # Lost lithium at the cycle's end: the timeseries' own columns at that row.
        last = np.flatnonzero(inside)[-1]
        for column in (
            "sei_lithium_mol",
            "plated_lithium_mol",
            "loss_of_lithium_inventory_percent",
        ):
            assert float(cycle[column]) == series[column][last]
        shares = float(cycle["sei_lithium_percent"]) + float(cycle["plated_lithium_percent"])
        assert shares == pytest.approx(series["loss_of_lithium_inventory_percent"][last], 1e-12)
        assert "the current fell to 1 A" in cycle["end_reason"]
    # The 1C discharge of the charged LG M50 delivers its ~5 A h (4.99 measured); later cycles
    # start from the C/5 end of the hold (4.67 measured).
    assert float(cycles[0]["discharge_capacity_Ah"]) == pytest.approx(5.0, rel=0.02)
    # Resistance from the first step of each later discharge: measured 0.0314 ohm (LG M50's
    # DC resistance at 1C is 20-40 mOhm).
    for cycle in cycles[1:]:
        assert 0.01 < float(cycle["resistance_ohm"]) < 0.06
    # The report's capacity-fade figure.
    if MPI.COMM_WORLD.rank == 0:
        written = plot_results(folder)
        assert folder / "figures" / "capacity_fade.png" in written


def test_ten_cycles_match_pybamm_per_cycle():
    """The issue's ageing cycle (1C discharge to 2.5 V, 1C charge to 4.2 V, hold to C/20) ten
    times at 298.15 K from OKane2022's stored state, reaction-limited SEI with its film
    resistance and partially reversible plating, 8 cells per electrode and 8 radial nodes:
    per cycle, the discharge capacity, the lithium lost (LLI) and its SEI and plating shares
    against PyBaMM's DFN on its default mesh (20 volumes), tests/data/pybamm/
    okane2022_ageing_10cycles.csv (bench/make_pybamm_ageing_reference.py)."""
    _, model = _plating_and_sei_model(DFNResolution(8, 4, 8, 8, 8))
    reference = np.genfromtxt(DATA / "okane2022_ageing_10cycles.csv", delimiter=",", names=True)
    hold = "Hold at 4.2 V until C/20"
    ours = []
    for cycle in range(1, 11):
        first_row = len(model.solution.time_s)
        # The model numbers the protocol's steps across calls: each call gets the protocol up
        # to this cycle and runs its last three steps.
        solution = model.run_experiment(parse_experiment([*CYCLE[:2], hold] * cycle))
        capacity = np.asarray(solution.discharge_capacity_Ah[max(first_row - 1, 0) :])
        values = model.outputs.degradation.values()
        ours.append(
            (
                np.sum(np.clip(np.diff(capacity), 0.0, None)),
                values["loss_of_lithium_inventory_percent"],
                values["sei_lithium_mol"],
                values["plated_lithium_mol"],
            )
        )
    capacity, lost, sei, plated = (np.array(column) for column in zip(*ours, strict=True))
    # All 30 steps ran (before the exchange current's regularised square roots, the second
    # discharge failed in Newton on NaN after the first hold to C/20).
    assert max(solution.step_index) == 29
    # Measured against PyBaMM's 20 volumes, cycles 1-10 (PyBaMM's own 8-volume mesh in
    # brackets, the spread of the two codes' coarse meshes): discharge capacity -1.5e-5 to
    # -1.35e-4 relative (8 volumes: 2.9e-4 from its 20); 5e-4 bounds both.
    assert np.max(np.abs(capacity / reference["discharge_capacity_Ah"] - 1)) < 5e-4
    # Lithium lost (0.26 % after the first cycle, +0.011 % per cycle): -8e-5 to +5.4e-4
    # relative (8 volumes: 6.9e-3); plated and dead lithium -1.5e-4 to +1.5e-4 (7.7e-3);
    # SEI lithium +1.52e-3 to +1.56e-3 at every cycle (PyBaMM's 8 volumes: 1e-4 from its 20;
    # the offset is not PyBaMM's mesh error). 2e-3 on the first two (a third of PyBaMM's mesh
    # spread) and 3e-3 on the SEI.
    assert np.max(np.abs(lost / reference["loss_of_lithium_inventory_percent"] - 1)) < 2e-3
    assert np.max(np.abs(plated / reference["plated_lithium_mol"] - 1)) < 2e-3
    assert np.max(np.abs(sei / reference["sei_lithium_mol"] - 1)) < 3e-3
    # Per cycle: the lithium lost in each of cycles 2-10, within 0.13-0.27 % of PyBaMM's
    # (8 volumes: 0.10-0.23 %); the capacity fade from cycle to cycle (7.8e-4 A h per cycle),
    # 0.38-0.64 % after the second cycle and 1.7 % into it (8 volumes: 1.4-1.8 %): 1 % and 3 %.
    per_cycle = np.diff(lost) / np.diff(reference["loss_of_lithium_inventory_percent"])
    assert np.max(np.abs(per_cycle - 1)) < 1e-2
    fade = np.diff(capacity) / np.diff(reference["discharge_capacity_Ah"])
    assert np.max(np.abs(fade - 1)) < 3e-2
