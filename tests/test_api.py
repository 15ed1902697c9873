"""The Python API (electrolyx.api): the same results as the CLI, overrides, files, MPI."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from conftest import BIN, CASES, ROOT, run_cli
from PIL import Image

import electrolyx as ex
from electrolyx.constants import FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY
from electrolyx.errors import CaseError

DFN = CASES / "dfn-chen2020-1C"
# A coarse DFN (19 cells, 8 radial points): seconds per run; the physics checked here does not
# depend on the resolution.
COARSE = {
    "mesh.negative_cells": 8,
    "mesh.separator_cells": 3,
    "mesh.positive_cells": 8,
    "mesh.negative_radial_points": 8,
    "mesh.positive_radial_points": 8,
}
COARSE_SET = [arg for key, value in COARSE.items() for arg in ("--set", f"{key}={value}")]
TEN_MINUTES_AT_2C = ["Discharge at 2C for 10 minutes"]

RT = GAS_CONSTANT * 298.15
# Grahame's surface charge of the shipped Gouy-Chapman case (c0 = 10 mol/m3, eps_r = 78.5,
# zeta = 0.1 V), as tests/test_cli.py.
GRAHAME = math.sqrt(8 * 10.0 * 78.5 * VACUUM_PERMITTIVITY * RT) * math.sinh(
    0.1 * FARADAY / (2 * RT)
)


def read_rows(path):
    with open(path, newline="") as stream:
        return list(csv.reader(stream))


def test_api_gives_exactly_the_cli_timeseries_and_profiles(tmp_path):
    out = tmp_path / "cli"
    result = run_cli("run", str(DFN), "--out", str(out), *COARSE_SET)
    assert result.returncode == 0, result.stderr
    solution = ex.Simulation(DFN, set=COARSE).solve()
    assert solution.status == "completed"
    assert solution.folder is None  # the temporary folder is gone

    header, *rows = read_rows(out / "timeseries.csv")
    assert list(solution.timeseries.columns) == header
    assert len(solution.timeseries) == len(rows) > 100
    for index, name in enumerate(header):
        # Exact: the same code path, and the CSV holds each float's round-trip repr.
        np.testing.assert_array_equal(solution[name], [float(row[index]) for row in rows])

    # Every value of profiles.csv at its place in the DataArray over (time, x).
    concentration = solution["electrolyte_concentration_mol_m3"]
    assert concentration.dims == ("time", "x")
    profile_rows = read_rows(out / "profiles.csv")[1:]
    wanted = [r for r in profile_rows if r[2] == "electrolyte_concentration_mol_m3"]
    assert concentration.size == len(wanted) == 5 * 173  # 5 saved times, 173 points
    for time_s, _, _, x_m, _, _, value in wanted[::97]:
        picked = concentration.sel(time=float(time_s), x=float(x_m))
        assert float(picked) == float(value)
    # The run.json of both runs: same case, same mesh.
    info = json.loads((out / "run.json").read_text())
    assert solution.info["case"] == info["case"]
    assert solution.info["mesh"] == info["mesh"]


def test_experiment_and_parameter_overrides_reach_the_model():
    warm = ex.Simulation(DFN, experiment=TEN_MINUTES_AT_2C, set=COARSE).solve()
    # 2C of the 5 A h cell, for exactly 600 s: 10 A and 10 A x 600 s = 1.6667 A h (exact up
    # to rounding: the current is constant).
    np.testing.assert_array_equal(warm["current_A"], 10.0)
    assert warm["time_s"][-1] == pytest.approx(600.0, rel=1e-12)
    assert warm["discharge_capacity_Ah"][-1] == pytest.approx(10.0 * 600 / 3600, rel=1e-9)

    cold = ex.Simulation(
        DFN,
        experiment=TEN_MINUTES_AT_2C,
        parameters={"Ambient temperature [K]": 268.15},
        set=COARSE,
    ).solve()
    assert cold.info["case"]["parameters"]["values"] == {"Ambient temperature [K]": 268.15}
    # Chen2020's exchange currents follow Arrhenius (35 and 17.8 kJ/mol): at 268.15 K they are
    # 0.21 and 0.51 of their 298.15 K values, which in the Tafel limit costs the negative
    # electrode alone 2RT/F ln(1/0.21) = 72 mV (measured: 79 to 80 mV in all). The cold cell's
    # voltage is lower at every time by at least 30 mV (the linear regime gives less than Tafel).
    times = np.arange(10.0, 600.0, 10.0)
    drop = np.interp(times, warm["time_s"], warm["voltage_V"]) - np.interp(
        times, cold["time_s"], cold["voltage_V"]
    )
    assert drop.min() > 0.030


def test_a_bad_override_is_refused_naming_the_key():
    with pytest.raises(CaseError, match="experiment.steps"):
        ex.Simulation(DFN, experiment=["Fly to the moon"])
    with pytest.raises(CaseError, match="Ambient temperature"):
        ex.Simulation(DFN, parameters={"Ambient temperature [K]": "warm"})


def test_a_case_is_found_by_name_or_given_as_a_dict(tmp_path):
    by_name = ex.Simulation("edl-gouy-chapman")
    assert by_name.case.directory == (CASES / "edl-gouy-chapman").resolve()
    import tomllib

    document = tomllib.loads((CASES / "edl-gouy-chapman" / "case.toml").read_text())
    from_dict = ex.Simulation(document, directory=tmp_path)
    assert from_dict.settings == by_name.settings
    from electrolyx.settings import SETTINGS

    settings_object = SETTINGS["pnp"].model_validate(document)
    assert ex.Simulation(settings_object).settings == by_name.settings
    # Another simulation's case, overridden again: only the overridden value differs.
    lower = ex.Simulation(by_name.case, set={"boundaries.wall.potential": 0.05})
    assert lower.settings["boundaries"]["wall"]["potential"] == 0.05
    assert by_name.settings["boundaries"]["wall"]["potential"] == 0.1
    with pytest.raises(CaseError, match="shipped case"):
        ex.Simulation("no-such-case")


def test_save_and_load_round_trip_exactly(tmp_path):
    solution = ex.Simulation(DFN, experiment=TEN_MINUTES_AT_2C, set=COARSE).solve(
        out=tmp_path / "kept"
    )
    assert (solution.folder / "run.json").is_file()
    path = solution.save(tmp_path / "discharge.nc")
    loaded = ex.load(path)
    assert loaded.timeseries.equals(solution.timeseries)
    assert list(loaded.timeseries.columns) == list(solution.timeseries.columns)
    for name, dataset in solution.profiles.items():
        assert loaded.profiles[name].identical(dataset)
    assert loaded.info == json.loads(json.dumps(solution.info))
    # A result folder loads the same way.
    assert ex.load(solution.folder).timeseries.equals(solution.timeseries)
    with pytest.raises(FileExistsError):
        solution.save(path)  # never overwritten


def test_plot_draws_the_named_series(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    solution = ex.Simulation(DFN, experiment=TEN_MINUTES_AT_2C, set=COARSE).solve()
    ax = solution.plot("voltage_V")
    line = ax.get_lines()[0]
    # 600 s reads best in minutes.
    assert ax.get_xlabel() == "time (min)"
    np.testing.assert_allclose(line.get_xdata(), solution["time_s"] / 60, rtol=1e-15)
    np.testing.assert_array_equal(line.get_ydata(), solution["voltage_V"])
    ax = solution.plot("electrolyte_concentration_mol_m3")
    assert len(ax.get_lines()) == solution["electrolyte_concentration_mol_m3"].sizes["time"]


@pytest.mark.mpi
def test_every_rank_holds_the_gathered_solution():
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    solution = ex.Simulation("edl-gouy-chapman").solve()
    assert solution.info["mpi_size"] == comm.size
    # Grahame within 1e-4 relative (measured 5e-6; see test_gouy_chapman.py).
    assert abs(solution["surface_charge_C_m2"][0] / GRAHAME - 1) < 1e-4
    potential = solution["potential_V"]
    # All 301 points of the profile, whatever the partition, and the same on every rank.
    assert potential.sizes["x"] == 301
    assert not np.isnan(potential.values).any()
    gathered = comm.allgather(potential.values.tobytes())
    assert all(item == gathered[0] for item in gathered)


def test_api_under_mpiexec_gives_the_serial_answer(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(
        "import sys\n"
        "import electrolyx as ex\n"
        "solution = ex.Simulation('edl-gouy-chapman').solve()\n"
        "solution.save(sys.argv[1])\n"
    )
    command = [str(BIN / "mpiexec"), "-n", "2", sys.executable, str(script), "parallel.nc"]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=None
    )
    assert result.returncode == 0, result.stderr
    parallel = ex.load(tmp_path / "parallel.nc")
    serial = ex.Simulation("edl-gouy-chapman").solve()
    assert parallel.info["mpi_size"] == 2
    # Parallel and serial solves differ by rounding only (MUMPS on 2 ranks): 1e-9 relative.
    np.testing.assert_allclose(
        parallel["surface_charge_C_m2"], serial["surface_charge_C_m2"], rtol=1e-9
    )
    np.testing.assert_allclose(
        parallel["potential_V"].values, serial["potential_V"].values, rtol=1e-9, atol=1e-15
    )


def test_homogenisation_results_come_back_as_a_row(tmp_path):
    # A small packing (20 um box, 3 um elements): seconds; the numbers are checked against
    # their own effective_properties.json, which test_homogenise.py verifies.
    solution = ex.Simulation(
        "homogenise-3d-packing",
        set={
            "microstructure.box": [20e-6, 20e-6, 20e-6],
            "microstructure.element_size": 3e-6,
            "homogenisation.directions": ["x"],
        },
    ).solve(out=tmp_path / "h")
    properties = json.loads((solution.folder / "effective_properties.json").read_text())
    assert len(solution.timeseries) == 1
    assert solution["porosity"][0] == properties["porosity"]
    assert 0.3 < solution["porosity"][0] < 0.7  # a packing of solid fraction 0.5 (target)
    assert solution["tortuosity_factor_x"][0] > 1.0  # any porous medium: D_eff/D < porosity


def test_the_api_example_reproduces_the_pybamm_comparison(tmp_path):
    """examples/dfn_vs_pybamm.py (the README's figure with the API only) on a 10/4/10 mesh."""
    mesh = ["negative_cells=10", "separator_cells=4", "positive_cells=10"]
    mesh += ["negative_radial_points=10", "positive_radial_points=10"]
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "dfn_vs_pybamm.py"), "figure.png"]
        + [arg for item in mesh for arg in ("--set", f"mesh.{item}")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    rms = float(result.stdout.split("RMS voltage difference ")[1].split(" mV")[0])
    # bench/README.md: this mesh is 0.55 mV RMS from PyBaMM's finest at 1C (measured here
    # 0.51 mV over the case's reference capacities); 1 mV bounds it.
    assert rms < 1.0
    # Matplotlib's default figure size at the example's 150 dpi (960 x 720 pixels).
    width, height = matplotlib.rcParams["figure.figsize"]
    with Image.open(tmp_path / "figure.png") as figure:
        assert figure.size == (round(width * 150), round(height * 150))


def test_microstructure_results_come_back_with_their_run_json():
    # One 120 s step of the shipped 2D half cell (test_microstructure.py checks its physics).
    solution = ex.Simulation("microstructure-2d-halfcell", set={"discharge.duration": 120}).solve()
    assert solution.model == "microstructure" and solution.status == "completed"
    np.testing.assert_allclose(solution["time_s"], [0.0, 120.0], rtol=1e-12)
    # The discharge current is C/5 of the particles' own capacity (run.json's diagnostics).
    current = solution.info["diagnostics"]["applied_current_A"]
    assert solution["current_A"][-1] == pytest.approx(current, rel=1e-12)
    assert solution["discharge_capacity_Ah"][-1] == pytest.approx(current * 120 / 3600, rel=1e-9)


@pytest.mark.mpi
def test_one_openblas_thread_per_rank_under_mpi_unless_chosen(monkeypatch):
    """Several ranks: OPENBLAS_NUM_THREADS=1 (numpy's OpenBLAS thread would take another rank's
    core: the 3D pouch on 2 ranks of 2 cores 7-10 % slower, bench/README.md); one rank in a
    Python session: OpenBLAS's default; a value the user set is kept. Exact strings, no
    tolerance."""

    from mpi4py import MPI

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    ex._one_blas_thread_per_rank()
    expected = "1" if MPI.COMM_WORLD.size > 1 else None
    assert os.environ.get("OPENBLAS_NUM_THREADS") == expected
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    ex._one_blas_thread_per_rank()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4"


@pytest.mark.mpi
def test_numpys_openblas_gets_one_thread_per_rank_under_mpi(monkeypatch):
    """numpy's OpenBLAS is loaded before the variable is set (numpy comes first): its thread
    count is set at run time. It is raised to 2 here first, so that the test can fail on a
    one-core machine too; under several ranks it must read 1 after, on one rank stay 2. Exact
    integers, no tolerance."""
    import ctypes

    from mpi4py import MPI

    with open("/proc/self/maps") as maps:
        paths = [line.split()[-1] for line in maps if "scipy_openblas64_" in line]
    if not paths:
        pytest.skip("this numpy does not bundle scipy-openblas64 (the lock file's does)")
    path = paths[0]
    library = ctypes.CDLL(path)
    original = library.scipy_openblas_get_num_threads64_()
    library.scipy_openblas_set_num_threads64_(2)
    assert library.scipy_openblas_get_num_threads64_() == 2
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    ex._one_blas_thread_per_rank()
    expected = 1 if MPI.COMM_WORLD.size > 1 else 2
    count = library.scipy_openblas_get_num_threads64_()
    os.environ.pop("OPENBLAS_NUM_THREADS", None)
    library.scipy_openblas_set_num_threads64_(original)
    assert count == expected


def test_console_script_runs_one_openblas_thread_unless_chosen():
    """The ``electrolyx`` command (console_main) gives numpy's OpenBLAS one thread on one rank
    too (its second thread only spins: a quarter of a serial 3D pouch run's CPU time,
    bench/README.md), set while numpy is loaded already; a value the user set is kept, and the
    count left as it was. Checked in fresh processes at their exit. Exact values."""
    probe = (
        "import atexit, ctypes, os, sys\n"
        "import numpy\n"
        "paths = [l.split()[-1] for l in open('/proc/self/maps') if 'scipy_openblas64_' in l]\n"
        "if not paths:\n"
        "    print('skip'); sys.exit(0)\n"
        "library = ctypes.CDLL(paths[0])\n"
        "library.scipy_openblas_set_num_threads64_(2)\n"
        "atexit.register(lambda: print(os.environ.get('OPENBLAS_NUM_THREADS'),\n"
        "    library.scipy_openblas_get_num_threads64_(), flush=True))\n"
        "sys.argv = ['electrolyx', 'cases']\n"
        "from electrolyx.cli import console_main\n"
        "sys.exit(console_main())\n"
    )
    for chosen, expected in ((None, ["1", "1"]), ("3", ["3", "2"])):
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
        if chosen is not None:
            env["OPENBLAS_NUM_THREADS"] = chosen
        result = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
        )
        last = result.stdout.split("\n")[-2].split()
        if last == ["skip"]:
            pytest.skip("this numpy does not bundle scipy-openblas64 (the lock file's does)")
        assert last == expected


def test_ucx_memory_hooks_off_unless_chosen_or_mpi_loaded():
    """Importing electrolyx before MPI sets UCX_MEM_EVENTS=no (UCX's memory hooks cost every
    process 40 ms as MPI loads, bench/README.md), keeps a value the user set, and sets nothing
    once mpi4py.MPI is loaded (UCX has read its settings). The first two are checked in fresh
    processes that then load MPI. Exact strings."""
    probe = (
        "import os, sys\n"
        "import electrolyx\n"
        "print(os.environ.get('UCX_MEM_EVENTS'))\n"
        "from mpi4py import MPI\n"
    )
    for chosen, expected in ((None, "no"), ("yes", "yes")):
        env = {k: v for k, v in os.environ.items() if k != "UCX_MEM_EVENTS"}
        if chosen is not None:
            env["UCX_MEM_EVENTS"] = chosen
        result = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
        )
        assert result.stdout.split() == [expected]
    # In this process mpi4py.MPI is loaded already: nothing is set.
    saved = os.environ.pop("UCX_MEM_EVENTS", None)
    try:
        ex._ucx_without_memory_hooks()
        assert "UCX_MEM_EVENTS" not in os.environ
    finally:
        if saved is not None:
            os.environ["UCX_MEM_EVENTS"] = saved
