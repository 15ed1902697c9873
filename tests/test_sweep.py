"""Sweeps over any key with values of any TOML type, validated before running; sweep.csv."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import CASES, run_cli

from electrolyx.case import load_case
from electrolyx.errors import CaseError
from electrolyx.settings import resolve_settings
from electrolyx.settings.common import sweep_assignments
from electrolyx.sweep import run_results, sweep_cases, sweep_cell, write_sweep_table

GOUY_CHAPMAN = CASES / "edl-gouy-chapman"
DFN = CASES / "dfn-chen2020-1C"
DIFFUSIVITY = "Negative particle diffusivity [m2.s-1]"


def test_assignments_one_key_and_several():
    # One key: each entry is the value, lists included (a list value, not a tuple).
    assert sweep_assignments(["a"], [1, [2, 3]]) == [{"a": 1}, {"a": [2, 3]}]
    # Several keys: a list entry is one value per key; a single value goes to every key.
    assert sweep_assignments(["a", "b"], [[1, "x"], 5]) == [{"a": 1, "b": "x"}, {"a": 5, "b": 5}]


def test_sweep_over_values_of_every_type():
    overrides = [
        'sweep.keys=["electrolyte.temperature", "mesh.grading", "output.fields", '
        '"output.profiles.0.end"]',
        'sweep.values=[[300, "both", false, [2e-8]], [310.5, "left", true, [3e-8]]]',
    ]
    runs = sweep_cases(load_case(GOUY_CHAPMAN, overrides))
    assert [r.folder_name for r in runs] == ["run_000", "run_001"]
    first, second = (r.case.settings for r in runs)
    # Each run is the case with its own values (number, string, boolean, list)...
    assert (first["electrolyte"]["temperature"], second["electrolyte"]["temperature"]) == (
        300.0,
        310.5,
    )
    assert (first["mesh"]["grading"], second["mesh"]["grading"]) == ("both", "left")
    assert (first["output"]["fields"], second["output"]["fields"]) == (False, True)
    assert first["output"]["profiles"][0]["end"] == [2e-8]
    # ... and is a single run: no sweep of its own.
    assert first["sweep"] == {"keys": [], "values": []}
    assert runs[1].label() == (
        "run_001 (electrolyte.temperature = 310.5, mesh.grading = 'left', output.fields = True, "
        "output.profiles.0.end = [3e-08])"
    )


def test_every_run_is_validated_before_any_runs():
    overrides = [
        'sweep.keys=["electrolyte.temperature"]',
        "sweep.values=[300.0, -1.0, 2000.0]",
    ]
    with pytest.raises(CaseError) as info:
        sweep_cases(load_case(GOUY_CHAPMAN, overrides))
    # Both bad runs are reported, each with its run and value; the good one is not.
    assert len(info.value.problems) == 2
    assert info.value.problems[0].startswith("sweep run_001 (electrolyte.temperature = -1.0): ")
    assert "electrolyte.temperature = -1.0 K is out of range" in info.value.problems[0]
    assert "run_002 (electrolyte.temperature = 2000.0)" in info.value.problems[1]


def test_sweep_errors_name_the_sweep_keys():
    for overrides, fragment in [
        (['sweep.keys=["a", "b"]', "sweep.values=[[1]]"], "sweep.values[0] = [1] is not allowed"),
        (['sweep.keys=["a"]', "sweep.values=[]"], "sweep.values is empty"),
        (['sweep.keys=["case.model"]', "sweep.values=[1]"], "cannot change [case]"),
        (['sweep.keys=["mesh..cells"]', "sweep.values=[1]"], "sweep.keys[0] = 'mesh..cells'"),
        (['sweep.keys=["mesh.cells"]', "sweep.values=[[1, nan]]"], "NaN and infinities"),
        (['sweep.keys=["mesh.cels"]', "sweep.values=[100]"], "unknown key 'mesh.cels'"),
    ]:
        with pytest.raises(CaseError) as info:
            sweep_cases(load_case(GOUY_CHAPMAN, overrides))
        assert fragment in str(info.value), overrides


def test_quoted_parameter_names_are_swept():
    key = f'parameters.values."{DIFFUSIVITY}"'
    case = load_case(DFN)
    document = {**case.document, "sweep": {"keys": [key], "values": [3e-14, "4e-14 * 1.5"]}}
    settings = resolve_settings("dfn", document)
    assert settings["sweep"]["keys"] == [key]
    # The run documents carry the value under the quoted name and validate as settings ...
    case = type(case)(case.directory, "dfn", settings, document)
    runs = sweep_cases(case)
    # ... and reach the parameter set of each run: a number, and an expression in x and T.
    from mpi4py import MPI

    from electrolyx.models.dfn.case import DFNCase

    models = [DFNCase(run.case.settings, run.case.directory, MPI.COMM_SELF) for run in runs]
    diffusivities = [m.parameters.negative.particle_diffusivity(1e4, 298.15) for m in models]
    assert diffusivities == pytest.approx([3e-14, 6e-14], rel=1e-15)


def test_sweep_table_columns_and_cells(tmp_path):
    run = tmp_path / "run_000"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"status": "completed"}))
    (run / "timeseries.csv").write_text(
        "time_s,voltage_V,current_A,discharge_capacity_Ah\n0,4.1,5,0\n60,3.9,5,0.0833\n"
    )
    # The DFN's headline: end time, final voltage, discharge capacity (the last row).
    assert run_results("dfn", run) == {
        "status": "completed",
        "final_time_s": "60",
        "final_voltage_V": "3.9",
        "final_discharge_capacity_Ah": "0.0833",
    }
    # Other models: every column of the last row; a missing folder: status "missing".
    assert run_results("pnp", run)["final_current_A"] == "5"
    assert run_results("pnp", tmp_path / "nope") == {"status": "missing"}
    assert [sweep_cell(v) for v in ("a b", True, 0.1, [1, "x"], {"k": 2})] == [
        "a b",
        "true",
        "0.1",
        '[1, "x"]',
        '{"k": 2}',
    ]
    keys = ['parameters.values."A [m]"', "b"]
    rows = [
        {
            "run": 0,
            "folder": "run_000",
            keys[0]: "1.0",
            "b": "x",
            "status": "completed",
            "final_time_s": "60",
        },
        {"run": 1, "folder": "run_001", keys[0]: "2.0", "b": "y", "status": "failed"},
    ]
    write_sweep_table(tmp_path / "sweep.csv", keys, rows)
    with open(tmp_path / "sweep.csv", newline="") as stream:
        table = list(csv.reader(stream))
    assert table[0] == ["run", "folder", 'parameters.values."A [m]"', "b", "status", "final_time_s"]
    assert table[2] == ["1", "run_001", "2.0", "y", "failed", ""]  # missing result: empty cell
    assert not list(tmp_path.glob(".sweep.csv.tmp-*"))  # written through a renamed temporary


def test_dfn_sweep_over_list_values_writes_the_table(tmp_path):
    out = tmp_path / "sweep"
    result = run_cli(
        "run",
        str(DFN),
        "--out",
        str(out),
        "--quiet",
        *("--set", "mesh.negative_cells=4", "--set", "mesh.separator_cells=2"),
        *("--set", "mesh.positive_cells=4", "--set", "mesh.negative_radial_points=5"),
        *("--set", "mesh.positive_radial_points=5", "--set", "output.fields=false"),
        *("--set", "output.profile_times=[]"),
        "--set",
        'sweep.keys=["experiment.steps"]',
        "--set",
        'sweep.values=[["Discharge at 1C for 1 minutes"], ["Discharge at 1C for 2 minutes"]]',
    )
    assert result.returncode == 0, result.stderr
    with open(out / "sweep.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [r["experiment.steps"] for r in rows] == [
        '["Discharge at 1C for 1 minutes"]',
        '["Discharge at 1C for 2 minutes"]',
    ]
    assert [r["status"] for r in rows] == ["completed", "completed"]
    for row, seconds in zip(rows, (60.0, 120.0), strict=True):
        # Each run ends at its own duration, and 1C (5 A for Chen2020's 5 Ah) for t seconds
        # discharges exactly 5 t / 3600 A h (the current is imposed; round-off only).
        assert float(row["final_time_s"]) == pytest.approx(seconds, abs=1e-9)
        assert float(row["final_discharge_capacity_Ah"]) == pytest.approx(
            5.0 * seconds / 3600.0, rel=1e-12
        )
        assert 3.0 < float(row["final_voltage_V"]) < 4.2  # a voltage on the discharge curve
        # The row is the last row of the run's own timeseries.csv.
        with open(out / row["folder"] / "timeseries.csv", newline="") as stream:
            last = list(csv.DictReader(stream))[-1]
        assert row["final_voltage_V"] == last["voltage_V"]
