"""Profile times in the units a user thinks in: "15 min", "0.5 h", "25 %" of the protocol.

A percentage is of the protocol's nominal duration (electrolyx.settings.times): known before
the run, so the steps land on it exactly. A discharge that ends on its cut-off before a
requested time never reaches it: no row is made up there; the end state is written as always.
"""

from __future__ import annotations

import csv
import json

import pytest
from conftest import CASES, run_cli

from electrolyx.case import load_case
from electrolyx.errors import CaseError

DFN = CASES / "dfn-chen2020-1C"


def times(*overrides):
    return load_case(DFN, list(overrides)).settings["output"]["profile_times"]


def test_shipped_case_asks_for_quarters_of_the_nominal_hour():
    # ["15 min", "30 min", "45 min"]: what "25 %", "50 %", "75 %" of its 1C discharge give.
    assert load_case(DFN).settings["output"]["profile_times"] == [900.0, 1800.0, 2700.0]
    assert times('output.profile_times=["25 %", "50 %", "75 %"]') == [900.0, 1800.0, 2700.0]


@pytest.mark.parametrize(
    ("profile_times", "steps", "expected"),
    [
        ('["15 min", "0.5 h", "90 s", 12.5, "2 hours"]', None, [900.0, 1800.0, 90.0, 12.5, 7200.0]),
        # 2 h at C/2, then the rest's hour: 3 h nominal.
        (
            '["50 %", "100 %"]',
            '["Discharge at 0.5C until 2.5 V", "Rest for 1 hour"]',
            [5400.0, 10800.0],
        ),
        # A 'for' duration counts as given, a charge at 2C as half an hour.
        ('["50 %"]', '["Discharge at 5 A for 10 minutes", "Charge at 2C until 4.1 V"]', [1200.0]),
    ],
)
def test_times_with_units_and_percentages(profile_times, steps, expected):
    overrides = [f"output.profile_times={profile_times}"]
    if steps is not None:
        overrides.append(f"experiment.steps={steps}")
    assert times(*overrides) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        (['output.profile_times=["5 parsecs"]'], ["output.profile_times = '5 parsecs'", "15 min"]),
        (['output.profile_times=["120 %"]'], ["'120 %'", "[0, 100] %"]),
        (['output.profile_times=["-5 min"]'], ["'-5 min' is not allowed"]),
        (
            ['output.profile_times=["25 %"]', 'experiment.steps=["Discharge at 5 A until 2.5 V"]'],
            ["output.profile_times = '25 %'", "no nominal duration"],
        ),
    ],
)
def test_unreadable_times_name_the_key_and_what_is_allowed(overrides, fragments):
    with pytest.raises(CaseError) as error:
        load_case(DFN, overrides)
    for fragment in fragments:
        assert fragment in str(error.value)


def test_rows_land_on_percentages_and_a_time_after_the_cut_off_is_not_made_up(tmp_path):
    out = tmp_path / "run"
    coarse = ["mesh.negative_cells=8", "mesh.separator_cells=3", "mesh.positive_cells=8"]
    coarse += ["mesh.negative_radial_points=8", "mesh.positive_radial_points=8"]
    result = run_cli(
        "run",
        str(DFN),
        "--out",
        str(out),
        "--quiet",
        *(arg for key in coarse for arg in ("--set", key)),
        "--set",
        "output.fields=false",
        "--set",
        'output.profile_times=["25 %", "99.9 %"]',
    )
    assert result.returncode == 0, result.stderr
    with open(out / "profiles.csv") as stream:
        saved = sorted({float(row["time_s"]) for row in csv.DictReader(stream)})
    with open(out / "timeseries.csv") as stream:
        rows = list(csv.DictReader(stream))
    end = float(rows[-1]["time_s"])
    # The cut-off comes at ~3555 s, before 99.9 % of the nominal hour (3596.4 s): profiles at
    # t = 0, exactly 900 s, and the end only.
    assert end < 0.999 * 3600.0
    assert saved == [0.0, 900.0, end]
    at_quarter = next(row for row in rows if float(row["time_s"]) == 900.0)
    # 5 A for 900 s: a quarter of the nominal 5 A h, to round-off.
    assert float(at_quarter["discharge_capacity_Ah"]) == pytest.approx(1.25, rel=1e-12)
    info = json.loads((out / "run.json").read_text())
    assert info["case"]["output"]["profile_times"] == pytest.approx([900.0, 3596.4], rel=1e-15)


def test_a_percentage_of_a_drive_cycle_is_refused(tmp_path):
    (tmp_path / "case.toml").write_text(
        '[case]\nmodel = "dfn"\n\n[experiment]\ndrive_cycle = "cycle.csv"\n\n'
        '[output]\nfields = false\nprofile_times = ["50 %"]\n'
    )
    (tmp_path / "cycle.csv").write_text("time_s,current_A\n0,5\n60,2\n")
    with pytest.raises(CaseError, match="'50 %': .* a drive cycle has no nominal duration"):
        load_case(tmp_path)
    (tmp_path / "case.toml").write_text(
        (tmp_path / "case.toml").read_text().replace('["50 %"]', '["0.5 min"]')
    )
    assert load_case(tmp_path).settings["output"]["profile_times"] == [30.0]
