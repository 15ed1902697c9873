"""Commands that need no solver start without importing one (timings: bench/startup.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import electrolyx

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


@pytest.mark.parametrize("dolfinx_first", [False, True])
def test_forms_compile_into_electrolyx_own_cache(tmp_path, dolfinx_first):
    """FFCx writes electrolyx's forms under $ELECTROLYX_FORM_CACHE, whichever is imported first,
    and waits up to electrolyx.FORM_COMPILE_WAIT_S for a module another process compiles.

    FFCx lists its whole cache directory for every form it loads; a cache of electrolyx's own
    keeps that listing short (electrolyx.form_cache_directory).
    """
    imports = (
        "import dolfinx_solver, dolfinx, electrolyx"
        if dolfinx_first
        else ("import electrolyx, dolfinx")
    )
    probe = (
        f"{imports}\n"
        "import ufl\n"
        "from mpi4py import MPI\n"
        "from dolfinx import fem, mesh\n"
        "domain = mesh.create_unit_interval(MPI.COMM_SELF, 2)\n"
        "space = fem.functionspace(domain, ('Lagrange', 1))\n"
        "coefficient = fem.Constant(domain, 0.0)\n"
        # a form no other test compiles: the constant's value is in the code
        f"integrand = (coefficient + {1 + dolfinx_first}.2345678) * ufl.TestFunction(space)\n"
        "fem.form(integrand * ufl.dx)\n"
        "import dolfinx.jit\n"
        "print(dolfinx.jit.get_options()['timeout'])\n"
    )
    cache = tmp_path / "forms"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "ELECTROLYX_FORM_CACHE": str(cache)},
    )
    assert result.returncode == 0, result.stderr
    # exactly one form compiled, so exactly one shared library in the new cache
    assert len(list(cache.glob("libffcx_forms_*.so"))) == 1
    # and a process that finds another compiling the same module waits for it (FFCx's 10 s
    # default is shorter than one compile of a block system's module under load)
    assert result.stdout.split() == [str(electrolyx.FORM_COMPILE_WAIT_S)]


def test_a_dfn_run_does_without_dolfinx_fem_petsc_and_numpy_ma(tmp_path):
    """The TS integrator's DFN creates its matrix and vectors and sets Dirichlet values through
    electrolyx.block_assembly: importing dolfinx.fem.petsc (pycparser parsing its CFFI
    declarations) was 20 ms of the default case's 0.9 s (bench/README.md). Its exterior-facet
    forms get their facets without numpy.intersect1d (electrolyx.jit.integration_domains),
    whose first call imports numpy.ma (6-10 ms)."""
    probe = (
        "import sys\n"
        "from electrolyx.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print(code, 'dolfinx.fem.petsc' in sys.modules, 'numpy.ma' in sys.modules,\n"
        "      'dolfinx' in sys.modules)\n"
    )
    argv = ["run", "dfn-chen2020-1C", "--quiet", "--out", str(tmp_path / "run")]
    argv += ["--set", 'experiment.steps=["Discharge at 1C for 1 minute"]']
    argv += ["--set", "output.fields=false"]
    result = subprocess.run(
        [sys.executable, "-c", probe, *argv], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    # the run succeeded and used dolfinx, without loading dolfinx.fem.petsc or numpy.ma
    assert result.stdout.split()[-4:] == ["0", "False", "False", "True"]


def test_a_dfn_run_with_its_mesh_cached_does_without_gmsh(tmp_path):
    """The 1D DFN's interval comes from the mesh cache after its first run (gmsh's arrays,
    electrolyx.meshes.gmsh_arrays): loading and starting gmsh was 22 ms of the default case's
    0.8 s (bench/README.md). The first run makes it with gmsh, the second only reads it."""
    probe = (
        "import sys\n"
        "from electrolyx.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print(code, 'gmsh' in sys.modules, 'dolfinx' in sys.modules)\n"
    )
    env = {**os.environ, "ELECTROLYX_MESH_CACHE": str(tmp_path / "meshes")}
    loaded = []
    for run in ("first", "second"):
        argv = ["run", "dfn-chen2020-1C", "--quiet", "--out", str(tmp_path / run)]
        argv += ["--set", 'experiment.steps=["Discharge at 1C for 1 minute"]']
        argv += ["--set", "output.fields=false"]
        result = subprocess.run(
            [sys.executable, "-c", probe, *argv],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        assert result.returncode == 0, result.stderr
        loaded.append(result.stdout.split()[-3:])
    assert loaded == [["0", "True", "True"], ["0", "False", "True"]]
    # and the two runs' tables are the same, bit for bit
    first, second = (
        (tmp_path / run / "timeseries.csv").read_bytes() for run in ("first", "second")
    )
    assert first == second
