"""Resources known before they are spent (issue 17, item 4)."""

from __future__ import annotations

import time

from mpi4py import MPI

import pytest
from conftest import CASES

import electrolyx.resources as resources
from electrolyx.case import load_case
from electrolyx.cli import build_parser, main
from electrolyx.driver import prepare
from electrolyx.output import PhaseTimer
from electrolyx.resources import FIGURES, estimate, unknowns_from_settings

DFN = CASES / "dfn-chen2020-1C"

build_parser()  # imports every subcommand's modules once: timings below measure work


@pytest.mark.parametrize(
    ("case", "overrides"),
    [
        ("dfn-chen2020-1C", []),
        ("half-cell-nmc811", []),
        ("dfn-bpx-nmc-pouch", ["mesh.negative_cells=7", "mesh.separator_cells=3"]),
        # crack lengths: the negative electrode's only (the forms of tests/test_dfn_cracking.py)
        (
            "dfn-ai2020-cracking-1C",
            [
                'mechanics.particle="none"',
                'mechanics.negative="swelling-and-cracking"',
                "mechanics.stress_induced_diffusion=false",
            ],
        ),
    ],
)
def test_the_1d_dfn_unknowns_from_the_settings_are_exact(case, overrides):
    loaded = load_case(CASES / case, overrides)
    expected = unknowns_from_settings(loaded.model, loaded.settings)
    model = prepare(loaded, MPI.COMM_SELF, PhaseTimer())
    assert expected == model.unknowns()  # counted, not estimated: exact


@pytest.mark.parametrize(
    ("case", "built"),
    # Unknowns of the built models (DFN.unknowns() after `prepare`), with the default
    # log-concentration unknown: 42,033 and 59,685 (40,106 and 55,010 with the concentration
    # unknown alone, as bench/README.md's 3D pouch).
    [("pouch-2d-cross-section", 42_033), ("pouch-3d-tabs", 59_685)],
)
def test_the_2d_3d_dfn_unknowns_from_the_settings_leave_out_only_the_tabs(case, built):
    loaded = load_case(CASES / case)
    estimated = unknowns_from_settings(loaded.model, loaded.settings)
    # The tabs' few vertices are not counted: 8 and 32 unknowns fewer (0.02 %, 0.06 %).
    assert 0 < built - estimated <= 1e-3 * built


@pytest.mark.parametrize(
    ("case", "overrides", "built"),
    [
        # `electrolyx check`: 801 vertices x (potential + 2 species).
        ("edl-gouy-chapman", [], 2403),
        # 400 + 1 vertices in the electrolyte, 20 more in the solid layer, 3 fields on each.
        ("edl-gouy-chapman", ["mesh.cells=400", "mesh.solid_thickness=1e-9"], 421 * 3),
        # Transient: 401 vertices x (potential + 2 log-concentrations + 2 projected ones).
        ("edl-charging", ["study.end_time=1e-6"], 401 * 5),
    ],
)
def test_the_pnp_interval_unknowns_from_the_settings_are_exact(case, overrides, built):
    loaded = load_case(CASES / case, overrides)
    assert unknowns_from_settings(loaded.model, loaded.settings) == built
    if overrides:
        model = prepare(loaded, MPI.COMM_SELF, PhaseTimer())
        assert model.unknowns() == built
        if loaded.settings["study"]["type"] == "transient":
            model.prepare()
            assert model.problem.unknowns.global_size() == built  # what the model solves for


def test_other_meshes_are_counted_once_built():
    case = load_case(CASES / "nanochannel-conductance")
    assert unknowns_from_settings(case.model, case.settings) is None


# The largest meshes the settings allow, on a machine with 16 GB free (the real MemAvailable
# differs from machine to machine; these cases need 7x and 28x that).
SIXTEEN_GB = 16e9
FINEST_1D = [
    "mesh.negative_cells=100000",
    "mesh.separator_cells=100000",
    "mesh.positive_cells=100000",
    "mesh.negative_radial_points=200",
    "mesh.positive_radial_points=200",
]


def test_a_2d_pouch_too_large_is_refused_before_its_mesh(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: SIXTEEN_GB)
    big = ["geometry.height_cells=10000"]
    start = time.perf_counter()
    code = main(
        ["run", str(CASES / "pouch-2d-cross-section"), "--out", str(tmp_path / "o"), "--set", *big]
    )
    assert code == 2
    assert time.perf_counter() - start < 1.0  # 10^4 rows of cells were never meshed
    assert "estimated memory 112 GB for 10251025 unknowns" in capsys.readouterr().err


def test_estimate_uses_the_bench_figures():
    case = load_case(DFN)
    needs = estimate(case.model, case.settings, 976, MPI.COMM_SELF, "settings")
    figures = FIGURES["dfn"]
    # 185 MB per process + 976 x 10.9 kB (bench/README.md: 1D and P3D DFN runs).
    assert needs.memory_bytes == pytest.approx(185e6 + 976 * 10.9e3, rel=1e-12)
    # 3 Newton iterations of 976 x 5.6 us (1.81 s for 332 iterations of the 1C discharge).
    assert needs.seconds_per_step == pytest.approx(3 * 976 * 5.6e-6, rel=1e-12)
    text = "\n".join(needs.lines())
    assert "unknowns: 976 (from the settings, no mesh built)" in text
    assert "memory 196 MB" in text and "bench/README.md" in text
    assert figures.source in text


def test_a_case_beyond_the_available_memory_is_refused_before_anything_is_built(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: SIXTEEN_GB)
    out = tmp_path / "results"
    start = time.perf_counter()
    code = main(["run", str(DFN), "--out", str(out), *_set(FINEST_1D)])
    assert code == 2
    assert time.perf_counter() - start < 1.0  # no mesh of 300,000 cells was attempted
    error = capsys.readouterr().err
    # 3 x 300,001 electrolyte (c_e, u = ln c_e / c_e0, phi_e) + 2 x 100,001 x 201 particle
    # unknowns = 41,100,405; x 10.9 kB (plus 185 MB) = 448 GB.
    assert "estimated memory 448 GB for 41100405 unknowns on 1 rank(s) exceeds the 16 GB" in error
    assert "--force" in error
    assert list(tmp_path.iterdir()) == []


def test_check_reports_the_estimate_and_refuses_what_cannot_fit(capsys, monkeypatch):
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: SIXTEEN_GB)
    assert main(["check", str(DFN), *_set(FINEST_1D)]) == 2
    printed = capsys.readouterr()
    assert "unknowns: 41100405 (from the settings, no mesh built)" in printed.out
    assert "DOES NOT FIT" in printed.out
    assert main(["check", str(DFN)]) == 0
    assert "memory 196 MB" in capsys.readouterr().out


def _set(overrides: list[str]) -> list[str]:
    return [word for override in overrides for word in ("--set", override)]


def test_force_runs_a_case_estimated_beyond_memory(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: 1e6)  # a 1 MB machine
    case = str(CASES / "edl-gouy-chapman")
    assert main(["run", case, "--out", str(tmp_path / "a"), "--quiet"]) == 2
    assert "exceeds the 1 MB available" in capsys.readouterr().err
    assert main(["run", case, "--out", str(tmp_path / "b"), "--quiet", "--force"]) == 0


@pytest.mark.mpi
def test_the_estimate_is_the_same_on_every_rank():
    comm = MPI.COMM_WORLD
    case = load_case(CASES / "edl-gouy-chapman")
    needs = estimate(case.model, case.settings, 2403, comm)
    values = comm.allgather((needs.memory_bytes, needs.seconds_per_step, needs.fits))
    assert all(v == values[0] for v in values)
    # 150 MB per rank + 2403 x 1.8 kB shared by the ranks.
    assert needs.memory_bytes == pytest.approx(comm.size * 150e6 + 2403 * 1.8e3, rel=1e-12)
