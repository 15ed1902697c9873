"""Shared test helpers: the repository paths and running the CLI as a user would.

Importing electrolyx here, before any test module, loads the MPI/PETSc shared libraries
(dolfinx_solver) ahead of dolfinx, petsc4py and mpi4py in every test file.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

# The tests' forms (thousands of variants) in a cache of their own, so that they never lengthen
# the listing FFCx does of a user's run cache (electrolyx.form_cache_directory); subprocesses
# and mpiexec ranks inherit it.
os.environ.setdefault(
    "ELECTROLYX_FORM_CACHE",
    os.path.join(os.path.expanduser("~"), ".cache", "electrolyx", "test-forms"),
)
# Generated meshes likewise (electrolyx.mesh_cache): a user's run never reads a test's mesh.
os.environ.setdefault(
    "ELECTROLYX_MESH_CACHE",
    os.path.join(os.path.expanduser("~"), ".cache", "electrolyx", "test-meshes"),
)

import electrolyx  # noqa: E402, F401  (must precede dolfinx/petsc4py imports)

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "cases"
BIN = Path(sys.executable).parent


def run_cli(*args: str, ranks: int = 1, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``electrolyx ARGS`` in a fresh process (under mpiexec when ranks > 1)."""
    command = [str(BIN / "electrolyx"), *args]
    if ranks > 1:
        command = [str(BIN / "mpiexec"), "-n", str(ranks), *command]
    env = dict(os.environ)
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
    )


def rank_processes(pid: int) -> list[int]:
    """The electrolyx processes under ``pid`` (the ranks below mpiexec), or [pid]."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            todo.append(child)
            try:
                command = (Path("/proc") / str(child) / "cmdline").read_bytes()
            except OSError:
                continue
            # A rank runs the `electrolyx` script (argv[0] or, through its #! line, argv[1]).
            # Matching "electrolyx" anywhere also caught MPICH's hydra_pmi_proxy whenever the
            # checkout's path holds the word (a clone in .../electrolyx/): signalled, the proxy
            # made mpiexec end its whole process group, pytest included (exit 15, no traceback).
            if any(Path(arg.decode()).name == "electrolyx" for arg in command.split(b"\0")[:2]):
                found.append(child)
    return found or [pid]


@pytest.fixture(autouse=True)
def _collect_garbage_on_every_rank_at_once():
    """Under MPI: destroy the PETSc objects earlier tests left, at the same point on every rank.

    Their destruction is collective; left to each rank's garbage collector it can start inside
    a solve on one rank only, and the ranks then wait for each other for ever (seen on 2 ranks:
    a DFN test after the PNP tests, the two mechanics test files one after the other).
    """
    from mpi4py import MPI

    if MPI.COMM_WORLD.size > 1:
        gc.collect()
        MPI.COMM_WORLD.Barrier()
    yield
    if MPI.COMM_WORLD.size > 1:
        gc.collect()
        MPI.COMM_WORLD.Barrier()


@pytest.fixture
def shared_tmp_path(tmp_path):
    """A temporary folder that is the same on every MPI rank."""
    from mpi4py import MPI

    return Path(MPI.COMM_WORLD.bcast(str(tmp_path), root=0))
