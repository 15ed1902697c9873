"""The CLI end to end on the shipped Gouy-Chapman case, serially and on 2 MPI ranks."""

from __future__ import annotations

import csv
import gc
import json
import math
import os
import subprocess
import sys

import pytest
from conftest import BIN, CASES, run_cli
from PIL import Image

from electrolyx import __version__
from electrolyx.cli import main
from electrolyx.constants import FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY

CASE = CASES / "edl-gouy-chapman"
RT = GAS_CONSTANT * 298.15
# Grahame: sigma = sqrt(8 c0 eps RT) sinh(F zeta / 2RT) for the shipped case (c0 = 10 mol/m3,
# eps_r = 78.5, zeta = 0.1 V).
GRAHAME = math.sqrt(8 * 10.0 * 78.5 * VACUUM_PERMITTIVITY * RT) * math.sinh(
    0.1 * FARADAY / (2 * RT)
)


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("ranks", [1, 2])
def test_run_writes_every_output(tmp_path, ranks):
    out = tmp_path / "results"
    result = run_cli("run", str(CASE), "--out", str(out), ranks=ranks)
    assert result.returncode == 0, result.stderr
    assert "results written to" in result.stdout
    # Progress and results are printed once, by rank 0 only.
    assert result.stdout.count("steady solve converged") == 1

    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "completed"
    assert info["mpi_size"] == ranks
    assert info["electrolyx"] == __version__
    assert info["dolfinx"].startswith("0.11")
    assert info["petsc"].startswith("3.")
    assert {k: v for k, v in info["mesh"].items() if k != "boundaries"} == {
        "dimension": 1,
        "geometric_dimension": 1,
        "cells": 800,
        "vertices": 801,
        "unknowns": 3 * 801,
    }
    assert info["mesh"]["boundaries"]["bulk"][0][0] == pytest.approx(1.25e-7)
    assert info["case"]["solver"]["linear_solver"] == "mumps"  # defaults filled in
    assert info["solver"]["converged"] is True
    assert info["solver"]["newton_iterations"] >= 1
    assert info["solver"]["linear_iterations"] >= 1
    assert set(info["timings_s"]) >= {"mesh", "forms", "solve", "output", "total"}

    rows = read_csv(out / "timeseries.csv")
    assert len(rows) == 1 and list(rows[0])[0] == "time_s"
    # Grahame within 1e-4 relative (measured 5e-6; see test_gouy_chapman.py).
    assert abs(float(rows[0]["surface_charge_C_m2"]) / GRAHAME - 1) < 1e-4

    profile = read_csv(out / "profiles.csv")
    assert list(profile[0]) == ["time_s", "profile", "field", "x_m", "y_m", "z_m", "value"]
    fields = {r["field"] for r in profile if r["profile"] == "wall_normal"}
    assert {"potential_V", "concentration_cation_mol_m3", "concentration_anion_mol_m3"} <= fields
    potential = [r for r in profile if r["field"] == "potential_V"]
    # Each of the 301 points exactly once, whatever the partition.
    assert len(potential) == 301
    assert len({r["x_m"] for r in potential}) == 301
    assert float(potential[0]["value"]) == pytest.approx(0.1, abs=1e-12)

    assert (out / "fields" / "fields.pvd").is_file()
    assert (out / "fields" / "fields.bp").is_dir()
    assert not list(tmp_path.glob(".results.tmp-*"))


def test_fields_open_in_a_vtk_reader(tmp_path):
    import pyvista

    out = tmp_path / "results"
    assert run_cli("run", str(CASE), "--out", str(out), "--quiet").returncode == 0
    reader = pyvista.get_reader(str(out / "fields" / "fields.pvd"))
    data = reader.read()[0]
    assert {"potential_V", "concentration_cation_mol_m3", "space_charge_density_C_m3"} <= set(
        data.point_data.keys()
    )
    assert data.n_points == 801
    assert float(data["potential_V"].max()) == pytest.approx(0.1, rel=1e-12)


def test_solver_failure_is_reported_and_keeps_what_was_written(tmp_path):
    out = tmp_path / "results"
    result = run_cli(
        "run",
        str(CASE),
        "--out",
        str(out),
        "--set",
        "solver.max_iterations=1",
        "--set",
        "solver.continuation_steps=1",
    )
    assert result.returncode == 1
    assert "Newton did not converge" in result.stdout
    # A failed run goes beside the requested folder, which only ever holds a completed run.
    assert not out.exists()
    (failed,) = tmp_path.glob("results.failed-*")
    info = json.loads((failed / "run.json").read_text())
    assert info["status"] == "failed"
    assert "continuation: stuck at" in info["message"]
    assert "residual norms" in info["message"]
    assert info["solver"]["converged"] is False


def test_check_reports_size_and_scales():
    result = run_cli("check", str(CASE))
    assert result.returncode == 0, result.stderr
    # Without --mesh: counted from the settings (3 fields on 801 vertices), no mesh built.
    assert "unknowns: 2403 (from the settings, no mesh built)" in result.stdout
    line = next(ln for ln in result.stdout.splitlines() if "debye_length_m" in ln)
    assert math.isclose(float(line.split(":")[1]), 3.042057e-9, rel_tol=1e-6)  # as below
    result = run_cli("check", str(CASE), "--mesh")
    assert result.returncode == 0, result.stderr
    assert "801 vertices; unknowns: 2403" in result.stdout
    line = next(ln for ln in result.stdout.splitlines() if "debye_length_m" in ln)
    # lambda_D = sqrt(eps RT / (2 F^2 c0)) = 3.042 nm for 10 mol/m3 in water at 25 C.
    assert math.isclose(float(line.split(":")[1]), 3.042057e-9, rel_tol=1e-6)
    assert "electroneutrality_verdict" in result.stdout


def test_cases_and_version():
    result = run_cli("cases")
    assert result.returncode == 0
    assert "edl-gouy-chapman" in result.stdout and "[pnp]" in result.stdout
    result = run_cli("--version")
    assert result.stdout.strip() == f"electrolyx {__version__}"


def test_plot_draws_the_gouy_chapman_figure(tmp_path):
    out = tmp_path / "results"
    assert run_cli("run", str(CASE), "--out", str(out), "--quiet").returncode == 0
    result = run_cli("plot", str(out))
    assert result.returncode == 0, result.stderr
    # The two-panel figure of postprocess/edl.py: 10 x 4.2 in at 150 dpi.
    with Image.open(out / "figures" / "gouy_chapman.png") as figure:
        assert figure.size == (1500, 630)


def test_sweep_runs_one_result_folder_per_value(tmp_path):
    out = tmp_path / "sweep"
    result = run_cli(
        "run",
        str(CASE),
        "--out",
        str(out),
        "--quiet",
        "--set",
        'sweep.keys=["boundaries.wall.potential"]',
        "--set",
        "sweep.values=[0.05, 0.1]",
    )
    assert result.returncode == 0, result.stderr
    table = read_csv(out / "sweep.csv")
    for index, zeta in enumerate((0.05, 0.1)):
        run = out / f"run_{index:03d}"
        info = json.loads((run / "run.json").read_text())
        assert info["case"]["boundaries"]["wall"]["potential"] == zeta
        sigma = float(read_csv(run / "timeseries.csv")[0]["surface_charge_C_m2"])
        # sweep.csv: one row per run with its value, status and final (here: only) row.
        assert table[index]["folder"] == f"run_{index:03d}"
        assert float(table[index]["boundaries.wall.potential"]) == zeta
        assert table[index]["status"] == "completed"
        assert float(table[index]["final_surface_charge_C_m2"]) == sigma
        grahame = math.sqrt(8 * 10.0 * 78.5 * VACUUM_PERMITTIVITY * RT) * math.sinh(
            zeta * FARADAY / (2 * RT)
        )
        # Each run is the full case at its own zeta: Grahame within 1e-4 as in the single run.
        assert abs(sigma / grahame - 1) < 1e-4


def test_sweep_rejects_a_bad_value_before_running_anything(tmp_path):
    out = tmp_path / "sweep"
    result = run_cli(
        "run",
        str(CASE),
        "--out",
        str(out),
        "--set",
        'sweep.keys=["electrolyte.temperature"]',
        "--set",
        "sweep.values=[300.0, -1.0]",
    )
    assert result.returncode == 2
    assert "electrolyte.temperature = -1.0 K is out of range" in result.stderr
    assert not out.exists()


def test_the_console_script_exits_without_the_interpreters_teardown():
    """The console script runs the exit handlers, finalises, and ends without a teardown.

    The teardown only frees the run's objects (~20 ms of the default case, bench/README.md).
    Checked exactly: an ``atexit`` handler still runs, before PETSc and then MPI are finalised
    (as at a normal exit), an object's ``__del__`` at teardown does not run, the command's exit code
    is kept (2 for an invalid case), and nothing after ``console_main`` runs. :func:`main`
    itself leaves the interpreter as it was (the freeze count is unchanged).
    """
    before = gc.get_freeze_count()
    assert main(["cases"]) == 0
    assert gc.get_freeze_count() == before
    probe = (
        "import atexit, sys\n"
        "import electrolyx\n"
        "from electrolyx.cli import console_main\n"
        "from mpi4py import MPI\n"
        "from petsc4py import PETSc\n"
        "atexit.register(lambda: print('atexit', MPI.Is_finalized(), PETSc.Sys.isFinalized()))\n"
        "class Teardown:\n"
        "    def __del__(self):\n"
        "        print('teardown')\n"
        "kept = Teardown()\n"
        "def finalise(name, finalize):\n"
        "    return lambda: (print(name, 'finalised'), finalize())\n"
        "PETSc._finalize = finalise('PETSc', PETSc._finalize)\n"
        "MPI.Finalize = finalise('MPI', MPI.Finalize)\n"
        "sys.argv = ['electrolyx', *sys.argv[1:]]\n"
        "console_main()\n"
        "print('after')\n"
    )
    for arguments, code in ((["cases"], 0), (["run", "/no/such/case"], 2)):
        result = subprocess.run(
            [sys.executable, "-c", probe, *arguments], capture_output=True, text=True
        )
        assert result.returncode == code, result.stderr
        lines = result.stdout.splitlines()
        assert lines[-3:] == ["atexit False False", "PETSc finalised", "MPI finalised"]
        assert "teardown" not in lines and "after" not in lines


def test_the_console_script_runs_without_pydantic_plugins():
    """pydantic does not look for plugins in the console script's process (5-7 ms a command),
    unless the user set PYDANTIC_DISABLE_PLUGINS; main() in another process leaves them on."""
    probe = (
        "import atexit, os, sys\n"
        "from electrolyx.cli import console_main, main\n"
        "import pydantic.plugin._loader as loader\n"
        "def show():\n"
        "    print(os.environ.get('PYDANTIC_DISABLE_PLUGINS'), loader._plugins is None)\n"
        "if sys.argv[1] == 'main':\n"
        "    main(sys.argv[2:])\n"
        "    show()\n"
        "else:\n"
        "    atexit.register(show)\n"
        "    sys.argv = ['electrolyx', *sys.argv[2:]]\n"
        "    console_main()\n"
    )
    check = ["check", "dfn-chen2020-1C"]
    environment = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    answers = []
    for how, value in (("console", None), ("console", "logfire"), ("main", None)):
        env = (
            dict(environment)
            if value is None
            else {**environment, "PYDANTIC_DISABLE_PLUGINS": value}
        )
        result = subprocess.run(
            [sys.executable, "-c", probe, how, *check], capture_output=True, text=True, env=env
        )
        assert result.returncode == 0, result.stderr
        answers.append(result.stdout.splitlines()[-1])
    # the settings were validated (a model built) with no search for plugins; a user's value
    # kept; in-process main() searched as pydantic does by default
    assert answers == ["__all__ True", "logfire False", "None False"]


def test_the_console_script_pauses_the_cycle_collector_until_the_model_is_built(tmp_path):
    """electrolyx.collector: no automatic collection while a run starts (~20 ms of the default
    case's 0.8 s), the objects made until the model is built frozen, collection on again for
    the time loop; main() in another process leaves the collector as it was."""
    probe = (
        "import atexit, gc, sys\n"
        "from electrolyx import driver\n"
        "from electrolyx.cli import console_main, main\n"
        "seen = []\n"
        "prepare = driver.prepare\n"
        "def watched(*args, **kwargs):\n"
        "    seen.append(gc.isenabled())\n"
        "    return prepare(*args, **kwargs)\n"
        "driver.prepare = watched\n"
        "def show():\n"
        "    print(seen, gc.isenabled(), gc.get_freeze_count() > 0)\n"
        "if sys.argv[1] == 'main':\n"
        "    main(sys.argv[2:])\n"
        "    show()\n"
        "else:\n"
        "    atexit.register(show)\n"
        "    sys.argv = ['electrolyx', *sys.argv[2:]]\n"
        "    console_main()\n"
    )
    answers = []
    run = ["run", "dfn-chen2020-1C", "--quiet", "--out", str(tmp_path / "run")]
    run += ["--set", 'experiment.steps=["Discharge at 1C for 1 minute"]']
    run += ["--set", "output.fields=false", "--overwrite"]
    check = ["check", "dfn-chen2020-1C"]
    for how, command in (("console", run), ("main", run), ("console", check)):
        result = subprocess.run(
            [sys.executable, "-c", probe, how, *command],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        answers.append(result.stdout.splitlines()[-1])
    # console script: off while the model was built, on again after it, the start-up frozen
    # (the freeze before its exit, too); main(): on throughout, nothing frozen; another
    # command (no model built): on again once its arguments were read
    assert answers == ["[False] True True", "[True] True False", "[] True True"]


def test_a_closed_output_pipe_ends_the_command_without_a_traceback():
    """`electrolyx cases | head -1`: once the reader has gone, the command stops writing and
    exits with 1 (Python's advice for a broken pipe), with nothing on stderr. The pipe is
    closed before the first line is written, so the first write fails for certain."""
    process = subprocess.Popen(
        [str(BIN / "electrolyx"), "cases"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1
    assert stderr == b""
