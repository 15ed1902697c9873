"""The shipped DFN case through the case loader and driver (what `electrolyx run` does)."""

import csv
import json

from mpi4py import MPI

import numpy as np
import pytest
from conftest import CASES, ROOT

from electrolyx.case import load_case
from electrolyx.driver import run_case
from electrolyx.errors import CaseError

CASE = CASES / "dfn-chen2020-1C"
REFERENCE = ROOT / "tests" / "data" / "pybamm" / "chen2020_1C.csv"


@pytest.mark.mpi
def test_shipped_case_writes_timeseries_profiles_and_inventory(shared_tmp_path):
    case = load_case(CASE)
    code, folder = run_case(case, shared_tmp_path / "out", MPI.COMM_WORLD, lambda _: None)
    assert code == 0
    info = json.loads((folder / "run.json").read_text())
    assert info["status"] == "completed"
    # Lithium inventory in run.json: conserved to 1e-10 relative (issue 4).
    assert info["solver"]["lithium_inventory"]["max_relative_change"] < 1e-10
    with open(folder / "timeseries.csv") as stream:
        rows = list(csv.DictReader(stream))
    for column in ("time_s", "voltage_V", "current_A", "discharge_capacity_Ah"):
        assert column in rows[0]
    reference = np.loadtxt(REFERENCE, delimiter=",", skiprows=1)
    # Cut-off time and discharge capacity of PyBaMM's finest mesh, within 0.05 % (issue 4).
    assert float(rows[-1]["time_s"]) == pytest.approx(reference[-1, 0], rel=5e-4)
    assert float(rows[-1]["discharge_capacity_Ah"]) == pytest.approx(reference[-1, 3], rel=5e-4)
    assert float(rows[-1]["voltage_V"]) == pytest.approx(2.5, abs=1e-6)
    with open(folder / "profiles.csv") as stream:
        profiles = list(csv.DictReader(stream))
    times = sorted({float(r["time_s"]) for r in profiles})
    # t = 0, the three requested times, the cut-off.
    assert len(times) == 5
    np.testing.assert_allclose(times[1:4], case.settings["output"]["profile_times"], rtol=1e-12)
    solid = [r for r in profiles if r["field"] == "solid_potential_V" and float(r["time_s"]) == 0]
    x = np.array([float(r["x_m"]) for r in solid])
    # No solid phase in the separator (85.2 to 97.2 um): no samples there.
    assert not np.any((x > 85.3e-6) & (x < 97.1e-6))
    assert np.any(x < 85.2e-6) and np.any(x > 97.2e-6)


def test_bad_protocol_sentence_is_a_case_error():
    with pytest.raises(CaseError, match="experiment.steps: cannot parse step 'Fly at 1C'"):
        load_case(CASE, ['experiment.steps=["Fly at 1C"]'])


def test_drive_cycle_case(tmp_path):
    case_dir = tmp_path / "cycle"
    case_dir.mkdir()
    (case_dir / "case.toml").write_text(
        '[case]\nmodel = "dfn"\n\n[experiment]\ndrive_cycle = "cycle.csv"\n\n'
        "[output]\nfields = false\n"
    )
    (case_dir / "cycle.csv").write_text("time_s,current_A\n0,5\n60,2\n120,-1\n")
    case = load_case(case_dir)
    code, folder = run_case(case, tmp_path / "out", MPI.COMM_SELF, lambda _: None)
    assert code == 0
    with open(folder / "timeseries.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert float(rows[-1]["time_s"]) == pytest.approx(120.0, abs=1e-9)
    # Exact charge of the piecewise-linear current: (5+2)/2 * 60 + (2-1)/2 * 60 A s.
    assert float(rows[-1]["discharge_capacity_Ah"]) == pytest.approx(240.0 / 3600.0, rel=1e-12)
    (case_dir / "cycle.csv").write_text("time_s,current_A\n5,1\n6,1\n")
    with pytest.raises(CaseError, match="experiment.drive_cycle: .* must start at 0"):
        load_case(case_dir)


POUCH = CASES / "pouch-3d-tabs"
# The shipped 3D pouch case, coarsened to run in seconds: 4 x 4 cells in the plane, 4/2/4 through
# the stack, 5 radial points, 5 minutes at 1C.
SMALL_POUCH = [
    "geometry.height_cells=4",
    "geometry.width_cells=4",
    "mesh.negative_cells=4",
    "mesh.separator_cells=2",
    "mesh.positive_cells=4",
    "mesh.negative_radial_points=5",
    "mesh.positive_radial_points=5",
    'experiment.steps=["Discharge at 1C for 5 minutes"]',
    "output.profile_times=[]",
]


@pytest.mark.mpi
def test_pouch_case_writes_maps_and_conserves_lithium(shared_tmp_path):
    case = load_case(POUCH, SMALL_POUCH)
    code, folder = run_case(case, shared_tmp_path / "out", MPI.COMM_WORLD, lambda _: None)
    assert code == 0
    info = json.loads((folder / "run.json").read_text())
    assert info["status"] == "completed"
    assert info["mesh"]["dimension"] == 3
    # 0.1027 m2 of electrode in 0.2 m x 0.1 m layer pairs (exact up to round-off).
    assert info["diagnostics"]["layer_pairs_of_the_cell"] == pytest.approx(5.135, rel=1e-12)
    # Lithium conserved (1e-10, issue 5) and the interfacial current is the applied 5 A, summed
    # over all layer pairs (1e-9: the Newton tolerance at the foils' round-off level).
    assert info["solver"]["lithium_inventory"]["max_relative_change"] < 1e-10
    reaction = info["solver"]["reaction_current_A"]
    assert reaction["negative_electrode"] == pytest.approx(5.0, rel=1e-9)
    assert reaction["positive_electrode"] == pytest.approx(-5.0, rel=1e-9)
    # Both profiles (one up a 16 um foil into its tab) are sampled everywhere.
    assert info["missing_profile_points"] == {"along_positive_foil": 0, "across_stack": 0}
    with open(folder / "timeseries.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert float(rows[-1]["time_s"]) == pytest.approx(300.0, abs=1e-9)
    # The maps written for ParaView include the foil current density (a vector).
    first_fields = sorted((folder / "fields").glob("fields*.pvtu"))[0].read_text()
    for name in ("interfacial_current_density_A_m2", "particle_stoichiometry"):
        assert name in first_fields
    assert 'Name="collector_current_density_A_m2" NumberOfComponents="3"' in first_fields


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (["geometry.dimension=2"], "geometry.width: only with dimension = 3"),
        (["geometry.dimension=1"], "geometry.height = 0.2: only with dimension = 2 or 3"),
        (
            ["geometry.positive_foil_thickness=0"],
            "geometry.tabs = true: needs geometry.positive_foil_thickness > 0",
        ),
        (
            ["geometry.positive_tab=[0.09, 0.2]"],
            r"geometry.positive_tab = \[0.09, 0.2\]: give \[start, end\] with 0 <= start < end",
        ),
        (["geometry.negative_tab=[-0.01, 0.04]"], r"geometry.negative_tab = \[-0.01, 0.04\]"),
    ],
)
def test_bad_geometry_is_a_case_error(override, message):
    with pytest.raises(CaseError, match=message):
        load_case(POUCH, override)
