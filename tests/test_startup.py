"""Commands that need no solver start without importing one (timings: bench/startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("dolfinx", "petsc4py", "mpi4py", "matplotlib", "pyvista", "vtk", "gmsh", "pandas")

PROBE = """
import contextlib, io, json, os, sys
from electrolyx.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as stop:  # --help
        code = stop.code
loaded = {name.partition(".")[0] for name in sys.modules}
heavy = sorted(loaded & set(json.loads(os.environ["HEAVY"])))
print(json.dumps({"code": code, "heavy": heavy}))
"""


@pytest.mark.parametrize(
    "argv", [["--help"], ["cases"], ["plot", "--help"], ["docs"], ["check", "--help"]]
)
def test_commands_without_a_solver_import_none(argv):
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HEAVY": json.dumps(HEAVY), "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["code"] == 0
    assert answer["heavy"] == []


def test_import_electrolyx_loads_the_mpi_stack_only_when_needed():
    probe = (
        "import sys, electrolyx\n"
        "before = 'dolfinx_solver' in sys.modules\n"
        "import dolfinx\n"
        "print(before, 'dolfinx_solver' in sys.modules,"
        " list(sys.modules).index('dolfinx_solver') < list(sys.modules).index('dolfinx'))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # Not loaded by `import electrolyx`; loaded, and before dolfinx, by `import dolfinx`.
    assert result.stdout.split() == ["False", "True", "True"]


def test_the_api_module_imports_nothing_heavy():
    probe = (
        "import sys, electrolyx\n"
        "electrolyx.Simulation, electrolyx.Solution, electrolyx.load\n"
        "print(sorted({m.partition('.')[0] for m in sys.modules} & set(sys.argv[1:])))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *HEAVY, "xarray", "dolfinx_solver"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
