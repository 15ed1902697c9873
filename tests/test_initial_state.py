"""Initial state of charge or voltage (electrolyx.parameters.initial_state) against PyBaMM."""

from __future__ import annotations

import json
from pathlib import Path

from mpi4py import MPI

import pytest
from conftest import CASES

from electrolyx.case import load_case
from electrolyx.driver import prepare
from electrolyx.errors import CaseError
from electrolyx.models.dfn import DFN, DFNResolution
from electrolyx.output import PhaseTimer
from electrolyx.parameters import parameter_set, read_bpx
from electrolyx.parameters.initial_state import stoichiometry_window, with_initial_state

REFERENCE = json.loads((Path(__file__).parent / "data/pybamm/initial_state.json").read_text())
DFN_CASE = CASES / "dfn-chen2020-1C"
BPX_FILE = CASES / "dfn-bpx-nmc-pouch" / "nmc_pouch_cell_BPX.json"

# Both codes solve scalar equations for the stoichiometries to ~1e-13 (measured differences
# 2e-13 at most); 1e-9 leaves room for other root tolerances and still tells apart any change
# of the lithium balance or of the OCPs (1e-4 and more).
STOICHIOMETRY_TOLERANCE = 1e-9


def _stoichiometries(cell):
    return (
        cell.negative.initial_concentration_mol_m3 / cell.negative.max_concentration_mol_m3,
        cell.positive.initial_concentration_mol_m3 / cell.positive.max_concentration_mol_m3,
    )


@pytest.mark.parametrize("name", sorted(REFERENCE["sets"]))
def test_window_soc_and_voltage_match_pybamm(name):
    reference = REFERENCE["sets"][name]
    cell = parameter_set(name)
    window = stoichiometry_window(cell)
    expected = reference["window"]
    assert window.negative_at_0 == pytest.approx(expected["x_0"], abs=STOICHIOMETRY_TOLERANCE)
    assert window.negative_at_100 == pytest.approx(expected["x_100"], abs=STOICHIOMETRY_TOLERANCE)
    assert window.positive_at_0 == pytest.approx(expected["y_0"], abs=STOICHIOMETRY_TOLERANCE)
    assert window.positive_at_100 == pytest.approx(expected["y_100"], abs=STOICHIOMETRY_TOLERANCE)
    for soc, xy in reference["soc"].items():
        x, y = _stoichiometries(with_initial_state(cell, state_of_charge=float(soc)))
        assert (x, y) == pytest.approx((xy["x"], xy["y"]), abs=STOICHIOMETRY_TOLERANCE)
    for voltage, xy in reference["voltage"].items():
        x, y = _stoichiometries(with_initial_state(cell, voltage_V=float(voltage)))
        assert (x, y) == pytest.approx((xy["x"], xy["y"]), abs=STOICHIOMETRY_TOLERANCE)


def test_bpx_window_is_the_files_and_agrees_with_the_reader():
    # The file's own window: SOC 0.4 through the reader and through the initial state agree.
    by_reader = _stoichiometries(read_bpx(BPX_FILE, 0.4))
    by_state = _stoichiometries(with_initial_state(read_bpx(BPX_FILE), state_of_charge=0.4))
    assert by_state == pytest.approx(by_reader, abs=1e-15)


def test_a_dfn_at_rest_shows_the_initial_voltage():
    # At rest with uniform concentrations the terminal voltage is the OCV U_p(y) - U_n(x): the
    # DFN's first row equals the requested voltage to the bisection's 1e-14 in stoichiometry
    # times dU/dx (< 10 V), well inside 1e-9 V.
    cell = with_initial_state(parameter_set("Chen2020"), voltage_V=3.8)
    model = DFN(cell, DFNResolution(6, 3, 6, 6, 6), MPI.COMM_WORLD)
    solution = model.discharge(0.0, duration_s=10.0)
    assert solution.voltage_V[0] == pytest.approx(3.8, abs=1e-9)
    assert solution.voltage_V[-1] == pytest.approx(3.8, abs=1e-9)


def test_case_keys_reach_the_model_and_bad_values_are_refused():
    case = load_case(DFN_CASE, ["parameters.initial_state_of_charge=0.5"])
    assert case.settings["parameters"]["initial_state_of_charge"] == 0.5
    # The window depends on the set: refused when the model reads it (`electrolyx check`).
    with pytest.raises(CaseError, match=r"initial_voltage = 5.0: .* outside the set's cut-offs"):
        prepare(
            load_case(DFN_CASE, ["parameters.initial_voltage=5.0"]), MPI.COMM_SELF, PhaseTimer()
        )
    with pytest.raises(CaseError, match="not both"):
        load_case(
            DFN_CASE,
            ["parameters.initial_voltage=3.8", "parameters.initial_state_of_charge=0.5"],
        )
