"""The notebooks of examples/ run from top to bottom, and the numbers they print hold.

Each notebook is executed in a fresh Jupyter kernel of this Python (nbclient, ipykernel), in
examples/ as its working directory. Its last cell asserts its checks and prints them as JSON;
this test reads that output and asserts the same bounds again, so that a notebook whose checks
were loosened or removed still fails here. The tolerances are justified in each notebook's
"Checks" cell.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest
from conftest import ROOT

EXAMPLES = ROOT / "examples"
CELL_TIMEOUT_S = 600


def execute(name: str, tmp_path: Path) -> dict:
    """Run examples/NAME.ipynb; return the JSON its last code cell printed."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    # A kernel spec of this very interpreter: never a "python3" kernel of another install.
    spec = tmp_path / "kernels" / "electrolyx-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "electrolyx tests", "language": "python"})
    )
    specs = KernelSpecManager(kernel_dirs=[str(spec.parent)])
    manager = KernelManager(kernel_name="electrolyx-test", kernel_spec_manager=specs)
    notebook = nbformat.read(EXAMPLES / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        km=manager,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(EXAMPLES)}},
    )
    client.execute()
    last = [cell for cell in notebook.cells if cell.cell_type == "code"][-1]
    text = "".join(o["text"] for o in last.outputs if o.get("output_type") == "stream")
    return json.loads(text.strip().splitlines()[-1])


def test_notebooks_are_committed_without_outputs():
    for path in sorted(EXAMPLES.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert sum(len(cell.outputs) for cell in code) == 0, path.name
        assert [cell.execution_count for cell in code] == [None] * len(code), path.name
    names = sorted(path.stem for path in EXAMPLES.glob("*.ipynb"))
    expected = ["dfn_discharge_vs_pybamm", "edl_and_nanochannel", "parameter_sweep", "pouch_3d"]
    assert names == expected


def test_dfn_discharge_against_pybamm(tmp_path):
    checks = execute("dfn_discharge_vs_pybamm", tmp_path)
    # Coarse mesh 8/3/8, 8 radial points: measured 0.96 mV RMS from PyBaMM's finest.
    assert checks["rms_voltage_difference_mV"] < 1.5
    assert checks["end_time_s"] == pytest.approx(checks["reference_end_time_s"], rel=5e-4)
    assert checks["capacity_Ah"] == pytest.approx(checks["reference_capacity_Ah"], rel=5e-4)
    assert checks["end_voltage_V"] == pytest.approx(2.5, abs=1e-6)


def test_edl_and_nanochannel(tmp_path):
    checks = execute("edl_and_nanochannel", tmp_path)
    assert checks["surface_charge_over_grahame"] == pytest.approx(1.0, abs=1e-4)
    assert checks["max_potential_error_over_zeta"] <= 1e-5
    assert checks["low_concentration_conductance_over_plateau"] == pytest.approx(1.0, abs=0.05)
    assert checks["high_concentration_conductance_over_bulk"] == pytest.approx(1.0, abs=0.02)


def test_pouch_3d_with_render(tmp_path):
    checks = execute("pouch_3d", tmp_path)
    assert checks["discharge_capacity_Ah"] == pytest.approx(5.0 * 300 / 3600, rel=1e-9)
    assert checks["negative_reaction_current_A"] == pytest.approx(5.0, rel=1e-9)
    assert checks["positive_reaction_current_A"] == pytest.approx(-5.0, rel=1e-9)
    assert checks["lithium_max_relative_change"] < 1e-10
    # The foils' ohmic drop: ~3 mV for an even spread, more at the tabs; measured 4.31 mV.
    assert 2.0 < checks["foil_drop_mV"] < 8.0
    assert checks["image_shape"] == [600, 800, 3]
    assert checks["image_distinct_colours"] > 10


def test_parameter_sweep(tmp_path):
    checks = execute("parameter_sweep", tmp_path)
    assert checks["status"] == ["completed", "completed"]
    assert checks["capacity_Ah"][0] > checks["capacity_Ah"][1]  # 0.5C holds more than 2C
    # Measured 0.32 and 2.73 mV RMS, 0.003 % and 0.012 % in capacity.
    assert checks["rms_voltage_difference_mV"]["0.5C"] < 0.75
    assert checks["rms_voltage_difference_mV"]["2C"] < 4.0
    for ratio in checks["capacity_over_pybamm"].values():
        assert ratio == pytest.approx(1.0, abs=5e-4)
