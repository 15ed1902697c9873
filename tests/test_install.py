"""The wheel carries the shipped cases; installed outside the source tree, they run by name."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import CASES, ROOT, run_cli

from electrolyx.shipped_cases import cases_directory, shipped_case_names

#: what the source tree holds that a build must not see (a copy of the tree is built)
_NOT_SOURCE = shutil.ignore_patterns(
    ".venv", ".git", "results", "build", "*.egg-info", "__pycache__", ".*_cache", "*.pyc"
)


def _case_files() -> list[str]:
    """Every file of every shipped case (what a checkout holds, no run results)."""
    return sorted(
        str(path.relative_to(CASES))
        for path in CASES.rglob("*")
        if path.is_file() and "results" not in path.relative_to(CASES).parts
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built from a copy of the source tree (the checkout stays clean)."""
    root = tmp_path_factory.mktemp("build")
    source = root / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation"]
        + ["--wheel-dir", str(root / "dist"), "--quiet"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (built,) = (root / "dist").glob("electrolyx-*.whl")
    return built


def test_the_wheel_carries_every_shipped_case(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    packaged = sorted(n.removeprefix("electrolyx/cases/") for n in names if "/cases/" in n)
    assert packaged == _case_files()
    assert len(shipped_case_names()) == 25  # all of cases/, each with its case.toml
    for case in shipped_case_names():
        assert f"electrolyx/cases/{case}/case.toml" in names
    assert "electrolyx/shipped_cases.py" in names
    # The Ai2020 set's open-circuit-potential tables (package data of electrolyx.parameters).
    assert "electrolyx/parameters/data/ai2020_lico2_ocp.csv" in names
    assert "electrolyx/parameters/data/ai2020_graphite_ocp.csv" in names


def test_cases_are_listed_and_copied_but_never_over_a_folder(tmp_path):
    listing = run_cli("cases")
    assert listing.returncode == 0, listing.stderr
    assert [line.split()[0] for line in listing.stdout.splitlines()[:-1]] == shipped_case_names()
    target = tmp_path / "my-case"
    copied = run_cli("cases", "copy", "edl-gouy-chapman", str(target))
    assert copied.returncode == 0, copied.stderr
    original = cases_directory() / "edl-gouy-chapman" / "case.toml"
    assert (target / "case.toml").read_bytes() == original.read_bytes()
    (target / "notes.txt").write_text("mine")
    again = run_cli("cases", "copy", "edl-gouy-chapman", str(target))
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert (target / "notes.txt").read_text() == "mine"
    unknown = run_cli("cases", "copy", "no-such-case", str(tmp_path / "other"))
    assert unknown.returncode == 2 and "no-such-case" in unknown.stderr
    assert not (tmp_path / "other").exists()


@pytest.mark.slow
def test_an_installed_wheel_runs_a_case_by_name_outside_the_tree(wheel, tmp_path):
    """A venv holding only the wheel (its dependencies seen through the project's venv)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(sysconfig.get_paths()["purelib"])  # the project venv's site-packages
    new_purelib = Path(
        sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"]
    )
    # A plain path entry: the project venv's packages, without its editable electrolyx (that
    # needs its .pth file processed, which a path entry does not do).
    (new_purelib / "project-dependencies.pth").write_text(f"{purelib}\n")
    # The shared libraries that wheels of the dependencies put in the prefix (mpich's libmpi,
    # which mpi4py looks for in sys.prefix/lib; gmsh's).
    for library in (Path(sys.prefix) / "lib").iterdir():
        if not library.name.startswith("python"):
            (venv / "lib" / library.name).symlink_to(library)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install"]
        + ["--no-deps", "--no-index", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "ELECTROLYX_CASES"}
    env["PATH"] = f"{venv / 'bin'}:{Path(sys.executable).parent}:{env.get('PATH', '')}"

    def electrolyx(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(venv / "bin" / "electrolyx"), *args],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=work,
            env=env,
        )

    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import electrolyx; print(electrolyx.__file__)"],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
    )
    assert where.stdout.strip().startswith(str(new_purelib)), where.stdout + where.stderr
    listing = electrolyx("cases")
    assert listing.returncode == 0, listing.stderr
    assert "dfn-chen2020-1C" in listing.stdout and str(new_purelib) in listing.stdout
    copied = electrolyx("cases", "copy", "dfn-chen2020-1C", "mine")
    assert copied.returncode == 0, copied.stderr
    assert (work / "mine" / "pybamm_voltage_vs_capacity.csv").is_file()
    coarse = ["--set", "mesh.negative_cells=8", "--set", "mesh.positive_cells=8"]
    run = electrolyx("run", "dfn-chen2020-1C", "--out", "r", *coarse)
    assert run.returncode == 0, run.stderr
    info = json.loads((work / "r" / "run.json").read_text())
    assert info["status"] == "completed"
    assert Path(info["case_directory"]).is_relative_to(new_purelib)
    # The 1C discharge of the 5 A h cell to 2.5 V delivers 4.9 to 5.0 A h on any mesh
    # (PyBaMM: 4.94 A h; bench/README.md).
    with open(work / "r" / "timeseries.csv", newline="") as stream:
        last = list(csv.DictReader(stream))[-1]
    assert 4.9 < float(last["discharge_capacity_Ah"]) < 5.0


def test_a_shipped_case_by_name_writes_its_results_in_the_working_directory(tmp_path):
    """Its own folder may be inside an installed package: ./NAME-results instead."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "electrolyx"), "run", "edl-gouy-chapman", "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    info = json.loads((tmp_path / "edl-gouy-chapman-results" / "run.json").read_text())
    assert info["status"] == "completed"
    assert info["case_directory"] == str(cases_directory().resolve() / "edl-gouy-chapman")
