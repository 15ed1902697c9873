"""Lithium plating on the pouch cross-section: a 3C charge from empty at 268.15 K (issue 14 item 8).

A 2D cross-section of a layer pair (copper and aluminium foils resolved, 0.2 m tall) with
OKane2022's partially reversible plating and SEI against the 1D DFN on the same through-stack
mesh. The charge starts from rest at 15 A into an empty graphite: the positive solid potential
jumps by more than a volt at t = 0, and the consistent potentials are found by ramping the
current with the positive phi_s unknown re-centred between the parts (before that the 2D and
3D cells stopped at t = 0 with "no consistent potentials"; the 1D cell, without foils, started).
"""

from __future__ import annotations

import json
from pathlib import Path

from mpi4py import MPI

import pytest
from conftest import CASES

from electrolyx.case import load_case
from electrolyx.driver import run_case

CROSS_SECTION = """
[case]
model = "dfn"
title = "Pouch cross-section, 3C charge at 268.15 K from empty, lithium plating"

[parameters]
set = "OKane2022"
temperature = 268.15
initial_state_of_charge = 0.0

[negative_electrode]
reactions = ["intercalation", "lithium-plating", "sei"]
lithium_plating = "partially-reversible"
sei = "reaction-limited"

[geometry]
dimension = 2
height = 0.2
height_cells = 4
negative_foil_thickness = 12e-6
positive_foil_thickness = 16e-6

[mesh]
negative_cells = 6
separator_cells = 3
positive_cells = 6
negative_radial_points = 8
positive_radial_points = 8

[experiment]
steps = ["Charge at 3C until 4.2 V"]

[time_stepping]
relative_tolerance = 3e-3

[output]
fields = false
"""

#: The 1D cell of cases/dfn-plating-fast-charge on the cross-section's through-stack mesh.
ONE_D = [
    "parameters.temperature=268.15",
    'experiment.steps=["Charge at 3C until 4.2 V"]',
    "time_stepping.relative_tolerance=3e-3",
    "mesh.negative_cells=6",
    "mesh.separator_cells=3",
    "mesh.positive_cells=6",
    "mesh.negative_radial_points=8",
    "mesh.positive_radial_points=8",
]


def _run(case, out: Path) -> dict:
    code, folder = run_case(case, out, MPI.COMM_WORLD, lambda message: None)
    assert code == 0
    return json.loads((Path(folder) / "run.json").read_text())


@pytest.mark.mpi
def test_cross_section_charged_fast_from_empty_plates_as_the_1d_cell(shared_tmp_path):
    folder = shared_tmp_path / "cross_section"
    if MPI.COMM_WORLD.rank == 0:
        folder.mkdir()
        (folder / "case.toml").write_text(CROSS_SECTION)
    MPI.COMM_WORLD.barrier()
    pouch = _run(load_case(folder), shared_tmp_path / "pouch_results")
    cell = _run(
        load_case(CASES / "dfn-plating-fast-charge", ONE_D), shared_tmp_path / "cell_results"
    )
    assert pouch["status"] == cell["status"] == "completed"

    def end_time(run: dict) -> float:
        return float(run["stop_reason"].split("t = ")[1].split(" s")[0])

    # Both reach 4.2 V (measured 46.2158 s in 2D, 46.2155 s in 1D): the foils' in-plane
    # resistance over 0.2 m at 3C spreads the current by a little; 1e-4 relative bounds it.
    assert "4.2 V cut-off" in pouch["stop_reason"]
    assert end_time(pouch) == pytest.approx(end_time(cell), rel=1e-4)
    # Plating begins where the 1D cell's does, on the negative electrode's separator face
    # (x = 12 um foil + 85.2 um electrode), at the same time (measured 21.3976 s against
    # 21.3997 s: rows of the two runs at different steps, 1e-4 apart; 1e-3 bounds it).
    onset_2d = pouch["solver"]["plating_onset"]
    onset_1d = cell["solver"]["plating_onset"]
    assert onset_2d["time_s"] == pytest.approx(onset_1d["time_s"], rel=1e-3)
    assert onset_2d["position_m"][0] == pytest.approx(12e-6 + 85.2e-6, abs=1e-9)
    assert onset_1d["position_m"][0] == pytest.approx(85.2e-6, abs=1e-9)
