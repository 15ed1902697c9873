"""Lengths of a PNP case in bulk Debye lengths ("200 lambda_D"), resolved to metres from the
case's own electrolyte and species (electrolyx.settings.lengths)."""

import math
from pathlib import Path

import pytest

from electrolyx.case import load_case
from electrolyx.constants import FARADAY, VACUUM_PERMITTIVITY, thermal_voltage
from electrolyx.errors import CaseError

CASES = Path(__file__).resolve().parents[1] / "cases"


def test_a_gap_in_debye_lengths_is_that_many_debye_lengths_in_metres():
    case = load_case(CASES / "edl-charging", [])
    # lambda_D = sqrt(eps V_T / (F sum z^2 c)) of the case: 1:1 salt at 10 mol/m3 in water at
    # 298.15 K, written out here independently of the model's scales.
    debye = math.sqrt(
        VACUUM_PERMITTIVITY * 78.5 * thermal_voltage(298.15) / (FARADAY * (10.0 + 10.0))
    )
    assert debye == pytest.approx(3.042e-9, rel=1e-3)  # the case file's comment
    assert case.settings["mesh"]["length"] == pytest.approx(200 * debye, rel=1e-14)
    assert case.settings["output"]["profiles"][0]["end"] == pytest.approx([200 * debye], rel=1e-14)


def test_a_length_follows_the_concentration_it_is_measured_in():
    # Four times the concentration halves the Debye length, and with it the gap.
    case = load_case(
        CASES / "edl-charging",
        ["species.0.bulk_concentration=40.0", "species.1.bulk_concentration=40.0"],
    )
    base = load_case(CASES / "edl-charging", [])
    assert case.settings["mesh"]["length"] == pytest.approx(
        0.5 * base.settings["mesh"]["length"], rel=1e-14
    )


def test_an_unknown_length_unit_names_the_key():
    with pytest.raises(CaseError) as error:
        load_case(CASES / "edl-charging", ['mesh.length="200 lambda"'])
    assert "mesh.length" in str(error.value)
