"""electrolyx: finite-element simulation of ion and electron transport in electrochemical cells.

The Python API (:mod:`electrolyx.api`)::

    import electrolyx as ex
    solution = ex.Simulation("dfn-chen2020-1C").solve()

Importing the package is cheap: the numerical stack (MPI, PETSc, DOLFINx) is loaded when first
used, and always in the order it needs (see :class:`_LoadMPIFirst`).
"""

from __future__ import annotations

import sys
from typing import Any

__version__ = "0.1.0"
__all__ = ["Simulation", "Solution", "SweepSolution", "__version__", "load"]

#: top-level modules linked against the PETSc and MPI libraries that dolfinx_solver checks and
#: loads (dolfinx_solver itself imports only mpi4py.MPI, which may come first: never one of these)
_NEEDS_DOLFINX_SOLVER = frozenset({"petsc4py", "slepc4py", "dolfinx", "adios4dolfinx"})


class _LoadMPIFirst:  # a meta path finder (importlib.abc costs 80 ms to import)
    """Import ``dolfinx_solver`` just before the first of petsc4py, slepc4py or dolfinx.

    dolfinx_solver must be imported before dolfinx or petsc4py: it loads the MPI and PETSc
    shared libraries that the wheels of dolfinx and petsc4py link against (libmpi.so.12), by
    importing mpi4py.MPI (which a program may import before it: the order is the same).
    Importing it here, when one of them is first imported, keeps that order for every module
    imported after ``electrolyx`` (ours, a test's, a user's) without paying for MPI in commands
    that do not use it (``electrolyx cases``, ``--help``).
    """

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.partition(".")[0] in _NEEDS_DOLFINX_SOLVER:
            _remove_finder()
            import dolfinx_solver  # noqa: F401

        return None  # the ordinary finders import the module itself


def _remove_finder() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _LoadMPIFirst)]


if "dolfinx_solver" not in sys.modules:
    if any(name in sys.modules for name in _NEEDS_DOLFINX_SOLVER):
        import dolfinx_solver  # noqa: F401  (fails clearly if the order is already wrong)
    else:
        sys.meta_path.insert(0, _LoadMPIFirst())


def __getattr__(name: str) -> Any:
    """The API's names, imported on first use (``electrolyx.Simulation``)."""
    if name in ("Simulation", "Solution", "SweepSolution", "load"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'electrolyx' has no attribute {name!r}")
