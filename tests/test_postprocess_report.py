"""The HTML report: self-contained, summarises run.json, displays in headless Chromium."""

import csv
import json
import math
import re
import subprocess
from pathlib import Path

from mpi4py import MPI

import pytest
from conftest import CASES, run_cli
from PIL import Image
from postprocess_data import write_result_folder, write_sweep_folder

from electrolyx.postprocess import check_html, find_chromium, write_report
from electrolyx.postprocess.cli import main as postprocess_main
from electrolyx.postprocess.figure_tools import DPI, FIGURE_WIDTH_IN

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def chromium():
    """Chromium on PATH, installed by scripts/ensure-chromium.sh when missing."""
    if find_chromium() is None:
        subprocess.run([REPOSITORY / "scripts" / "ensure-chromium.sh"], check=False, timeout=900)
    found = find_chromium()
    if found is None:
        pytest.fail("no chromium: scripts/ensure-chromium.sh could not install it")
    return found


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    comm = MPI.COMM_WORLD
    root = comm.bcast(tmp_path_factory.mktemp("report") if comm.rank == 0 else None, root=0)
    return {kind: write_result_folder(Path(root) / kind, kind) for kind in ("2d", "dfn")}


@pytest.fixture(scope="module")
def report_2d(results):
    return write_report(results["2d"], render_size=(480, 360))


def test_report_is_self_contained(report_2d):
    page = report_2d.read_text()
    assert report_2d == report_2d.parent / "report.html"
    assert "<script" not in page
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:)""", page)  # only data: URIs
    images = re.findall(r'<img src="data:image/(png|gif);base64,', page)
    # residual history, 2 time series, 3 field renders
    assert len(images) == 6


def test_report_summarises_run_json(report_2d):
    page = report_2d.read_text()
    for heading in ("Mesh and unknowns", "Solver statistics", "Timings", "Conservation"):
        assert f"<h3>{heading}</h3>" in page
    assert _row("mesh.cells", 1920) in page
    assert _row("mesh.unknowns", 3075) in page
    assert _row("solver.newton_iterations", 5) in page
    assert _row("diagnostics.relative_ion_conservation_error", 3.1e-12) in page
    assert "bottom_wall, top_wall, inlet, outlet" in page
    # the last row of timeseries.csv: charging fraction 1 - exp(-10) of 1e-12 A at t = 1e-7 s
    assert "<h2>Scalar outputs at t = 1e-07 s</h2>" in page
    assert _row("current_outlet_A", 1e-12 * (1 - math.exp(-10))) in page
    assert '<span class="status completed">completed</span>' in page


def _row(key: str, value: float) -> str:
    """Table row of the report: keys may break after "." and "_", numbers right-aligned."""
    shown = key.replace(".", ".<wbr>").replace("_", "_<wbr>")
    return f'<tr><th>{shown}</th><td class="num">{value:.6g}</td></tr>'


def test_report_displays_in_chromium(chromium, report_2d):
    check = check_html(report_2d)
    assert check.errors == []
    assert len(check.images) == 6
    assert check.broken_images == []
    assert min(image["naturalWidth"] for image in check.images) >= 480


def test_browser_check_catches_errors_and_broken_images(chromium, report_2d, tmp_path):
    """The check can fail: a page with a console error, a failing script and a corrupted image."""
    page = report_2d.read_text()
    page = page.replace("base64,iVBORw0KGgo", "base64,AAAAAAAAAA", 1)  # break the first PNG
    page = page.replace("</body>", "<script>console.error('boom'); missing();</script></body>")
    broken = tmp_path / "broken.html"
    broken.write_text(page)
    check = check_html(broken)
    assert len(check.broken_images) == 1
    assert "console.error: boom" in check.errors
    assert any("missing is not defined" in error for error in check.errors)
    assert not check.ok


def test_report_without_fields_and_from_the_cli(chromium, results, capsys):
    assert postprocess_main(["report", str(results["dfn"]), "--no-renders"]) == 0
    report = results["dfn"] / "report.html"
    assert capsys.readouterr().out.strip() == str(report)
    check = check_html(report)
    assert check.ok
    # residual history, voltage (time and capacity), 4 time-series figures
    assert len(check.images) == 6


def test_report_of_the_shipped_case_from_the_cli(chromium, tmp_path):
    """End to end: run the Gouy-Chapman case, `electrolyx report` it, open it in Chromium."""
    out = tmp_path / "results"
    run = run_cli("run", str(CASES / "edl-gouy-chapman"), "--out", str(out), "--quiet")
    assert run.returncode == 0, run.stderr
    result = run_cli("report", str(out))
    assert result.returncode == 0, result.stderr
    report = out / "report.html"
    check = check_html(report)
    assert check.errors == [] and check.broken_images == []
    figures = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert "gouy_chapman.png" in figures  # the double-layer figure of postprocess/edl.py
    assert "solver_residuals.png" in figures
    assert len(check.images) == len(figures)  # every figure embedded, every one displayed
    info = json.loads((out / "run.json").read_text())
    page = report.read_text()
    assert _row("mesh.cells", info["mesh"]["cells"]) in page
    assert _row("mesh.unknowns", info["mesh"]["unknowns"]) in page


def test_report_of_a_sweep(chromium, tmp_path):
    sweep = write_sweep_folder(
        tmp_path / "sweep",
        "electrolyte.concentration_mol_m3",
        [10.0, 0.1, 1000.0],
        lambda c: {"conductance_S": 2e-11 + 1e-12 * c},
    )
    report = write_report(sweep)
    check = check_html(report)
    assert check.ok and len(check.images) == 1  # sweep_conductance_S.png
    page = report.read_text()
    # one row per run, ordered by concentration, with the final conductance
    rows = re.findall(r"<tr><td>([^<]*)</td><td>(run\d\d)</td>", page)
    assert rows == [("0.1", "run01"), ("10", "run00"), ("1000", "run02")]
    assert "<td>1.02e-09</td>" in page  # 2e-11 + 1e-12 * 1000 S


def test_a_dfn_report_opens_with_its_headline(chromium, tmp_path):
    """The Chen2020 1C discharge (coarse mesh): the headline as Chromium displays it."""
    out = tmp_path / "dfn"
    coarse = ["--set", "mesh.negative_cells=8", "--set", "mesh.positive_cells=8"]
    run = run_cli("run", str(CASES / "dfn-chen2020-1C"), "--out", str(out), "--quiet", *coarse)
    assert run.returncode == 0, run.stderr
    report = write_report(out, renders=False)
    check = check_html(report)
    assert check.ok
    assert check.first_table == "headline"  # before every other table
    shown = dict(check.headline)
    with open(out / "timeseries.csv", newline="") as stream:
        last = list(csv.DictReader(stream))[-1]
    info = json.loads((out / "run.json").read_text())
    capacity = float(last["discharge_capacity_Ah"])
    assert shown["discharge capacity"] == f"{capacity:.4g} A h"
    # 1C to 2.5 V: about an hour (PyBaMM: 3556 s), shown in minutes on a linear axis.
    assert shown["duration"] == f"{float(last['time_s']) / 60:.4g} min"
    assert shown["end"] == "voltage cut-off reached (final voltage 2.5000 V)"
    change = info["solver"]["lithium_inventory"]["max_relative_change"]
    assert shown["lithium inventory change"] == f"{change:.2e} (relative)"
    # Energy and mean voltage: PyBaMM's discharge (tests/data/pybamm/chen2020_1C.csv) delivers
    # 17.29 W h over 4.938 A h, a mean of 3.5015 V; this coarse mesh within 10 mV of it.
    mean = float(shown["mean voltage"].removesuffix(" V"))
    assert mean == pytest.approx(3.50, abs=0.01)
    energy = float(shown["energy delivered"].removesuffix(" W h"))
    assert energy == pytest.approx(capacity * mean, rel=1e-3)  # shown to 4 digits
    # The voltage figure has two panels (against time and capacity): 1.6 widths, 4 in high.
    with Image.open(out / "figures" / "voltage.png") as figure:
        assert figure.size == (round(1.6 * FIGURE_WIDTH_IN * DPI), round(4.0 * DPI))


def test_report_views_a_pouch_face_on_and_where_plating_began():
    """A 3D pouch's temperature is rendered face on, and its plated lithium face on on the plane
    through the stack where plating began (just inside the negative electrode); 1D/2D results
    and other fields keep the default view."""
    from types import SimpleNamespace

    from electrolyx.postprocess.report import _view

    onset = {"time_s": 21.09, "position_m": [9.72e-5, 0.06, 0.2]}
    run = {
        "mesh": {"dimension": 3},
        "case": {"geometry": {"negative_foil_thickness": 1.2e-5}},
        "solver": {"plating_onset": onset},
    }
    pouch = SimpleNamespace(run=run)
    assert _view(pouch, "temperature_K") == {"camera": "yz"}
    view = _view(pouch, "plated_lithium_concentration_mol_m3")
    assert view["camera"] == "yz"
    # 1 nm on the electrode's side of the onset plane (the separator face at 97.2 um)
    assert view["slice"].startswith("x=") and float(view["slice"][2:]) == pytest.approx(
        9.72e-5 - 1e-9, rel=1e-12
    )
    assert _view(pouch, "electrolyte_potential_V") == {}
    assert _view(SimpleNamespace(run={**run, "mesh": {"dimension": 2}}), "temperature_K") == {}
    no_plating = SimpleNamespace(run={**run, "solver": {}})
    assert _view(no_plating, "plated_lithium_concentration_mol_m3") == {}
