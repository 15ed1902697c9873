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
__all__ = ["Simulation", "Solution", "SweepSolution", "__version__", "load", "one_blas_thread"]

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
            _one_blas_thread_per_rank()
            import dolfinx_solver  # noqa: F401

        return None  # the ordinary finders import the module itself


def _one_blas_thread_per_rank() -> None:
    """One OpenBLAS thread per MPI rank when there are several ranks and the user chose none.

    On several ranks, one rank per core: see :func:`one_blas_thread`. A serial process keeps
    OpenBLAS's default here (a Python session's numpy); the ``electrolyx`` command sets one
    thread in its processes whatever their number. An ``OPENBLAS_NUM_THREADS`` already set is
    kept.
    """
    from mpi4py import MPI

    if MPI.COMM_WORLD.size > 1:
        one_blas_thread()


def one_blas_thread() -> None:
    """One OpenBLAS thread in this process, unless ``OPENBLAS_NUM_THREADS`` is set already.

    The only threaded OpenBLAS here is numpy's: PETSc's (dolfinx_solver's, which MUMPS uses) is
    built sequential. numpy's keeps a worker thread on a 2-core machine, which a BLAS call of
    more than a few thousand entries (a dot product of the outputs) wakes and which then spins
    for a while, on another core, for nothing: the serial 3D pouch's first 10 minutes at 1C took
    the same wall time with one thread as with two (medians of 5 pairs, 37.1 s both) and 37.1 s
    of CPU instead of 48.3 s; on 2 ranks of 2 cores that thread took the other rank's core (the
    first minute through the Python API 43 s, against 29 s for ``electrolyx run``;
    bench/README.md).
    Sets the variable (read by an OpenBLAS loaded later) and the thread count of those loaded
    already.
    """
    import os

    if "OPENBLAS_NUM_THREADS" in os.environ:
        return
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    _one_thread_in_loaded_openblas()


#: OpenBLAS's thread-count setters, by the symbol names its builds export (numpy's and scipy's
#: wheels bundle builds with a ``scipy_`` prefix and, numpy's, a 64-bit-integer suffix)
_OPENBLAS_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)


def _one_thread_in_loaded_openblas() -> None:
    """One thread for the OpenBLAS libraries loaded before ``OPENBLAS_NUM_THREADS`` was set.

    numpy is imported before PETSc (by electrolyx itself, or by the user's script), and its
    OpenBLAS reads the variable when it loads (:func:`one_blas_thread`). Linux only (the loaded
    libraries are read from /proc/self/maps).
    """
    import ctypes

    try:
        with open("/proc/self/maps") as maps:
            paths = {
                fields[-1]
                for fields in (line.split() for line in maps)
                if len(fields) == 6 and "openblas" in fields[-1].rpartition("/")[2]
            }
    except OSError:
        return
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _OPENBLAS_SETTERS:
            setter = getattr(library, name, None)
            if setter is not None:
                setter(1)
                break


def _remove_finder() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _LoadMPIFirst)]


def form_cache_directory() -> str:
    """Where DOLFINx keeps the forms electrolyx compiles (FFCx's C code and shared libraries).

    ``$ELECTROLYX_FORM_CACHE`` when set, else ``$XDG_CACHE_HOME/electrolyx/forms`` (by default
    ``~/.cache/electrolyx/forms``). A directory of electrolyx's own rather than DOLFINx's shared
    ``~/.cache/fenics``: FFCx lists the whole directory once per form it loads, and a cache
    shared with every other FEniCS program and test suite grows to tens of thousands of files
    (36,000 on the development machine cost 1.9 s of listing per run of the default case).
    A user's own ``cache_dir`` JIT option (dolfinx_jit_options.json) still takes precedence.
    """
    return cache_directory("forms", "ELECTROLYX_FORM_CACHE")


def cache_directory(name: str, variable: str) -> str:
    """``$variable`` when set, else ``$XDG_CACHE_HOME/electrolyx/<name>`` (``~/.cache`` by default).

    The one rule for every cache electrolyx keeps (forms, meshes).
    """
    import os

    explicit = os.environ.get(variable)
    if explicit:
        return os.path.expanduser(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "electrolyx", name)


#: Seconds a process waits for another process compiling the same form module (FFCx's default,
#: 10 s, is shorter than one compile of a block system's module on a loaded machine: the 3D
#: thermal pouch's module took longer, and of two runs that compiled it at once, for example
#: the serial runs on each rank of ``tests/test_every_case_on_two_ranks.py`` with an empty
#: cache, one gave up with a TimeoutError while the other went on).
FORM_COMPILE_WAIT_S = 600


def _use_electrolyx_jit_defaults(options: dict) -> None:
    """Set electrolyx's form cache and compile wait as DOLFINx's default JIT options."""
    options["cache_dir"] = (form_cache_directory(), options["cache_dir"][1])
    options["timeout"] = (FORM_COMPILE_WAIT_S, options["timeout"][1])


class _UseElectrolyxFormCache:
    """Make electrolyx's form cache and compile wait DOLFINx's defaults as ``dolfinx.jit`` loads."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "dolfinx.jit":
            return None
        sys.meta_path[:] = [f for f in sys.meta_path if f is not self]
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            execute(module)
            _use_electrolyx_jit_defaults(module.DOLFINX_DEFAULT_JIT_OPTIONS)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _ucx_without_memory_hooks() -> None:
    """UCX without its memory hooks (``UCX_MEM_EVENTS=no``) unless the user chose, or MPI is loaded.

    The MPICH wheel's libmpi loads UCX, whose memory-event hooks patch the process's allocation
    functions as MPI loads: 40 ms of every process (importing mpi4py.MPI took 60-61 ms, without
    the hooks 19 ms; a whole run of the default case 0.93 -> 0.88 s, bench/README.md). The hooks
    keep UCX's cache of memory registered with an RDMA network card valid; without them UCX
    registers a large message's buffer when it sends it. Between the ranks of one machine
    (shared memory) they do nothing: 2 ranks exchanged 32 MB messages as fast without them. On a
    cluster with InfiniBand, ``UCX_MEM_EVENTS=yes`` set in the job's environment keeps UCX's
    default.
    """
    import os

    if "mpi4py.MPI" not in sys.modules:
        os.environ.setdefault("UCX_MEM_EVENTS", "no")


def _singledispatchmethod_without_cache() -> None:
    """CPython 3.13.0-3.13.1's per-instance cache of ``functools.singledispatchmethod`` off.

    That cache (a WeakKeyDictionary whose values are closures that hold their key) keeps every
    instance it has served alive for good (CPython gh-127750; removed again in 3.13.2). UFL's
    DAG traversers are such instances, and each keeps the expressions it has seen: every form
    FFCx compiled (a form-cache miss) kept its mesh alive, with the mesh's MPI communicators
    (5 for an interval mesh, some 30 a 1D DFN model), until a long-lived process (a test
    worker) ran out of MPICH's 2048 and dolfinx ended it through MPI_Abort (bench/README.md,
    "The test worker that died"). With the cache None, the path 3.13.0 takes for instances it
    cannot weakly reference, each lookup makes its bound method as Python 3.12 does. Set for
    the ones UFL has made already and, through ``__init__``, for those made later.
    """
    import functools

    descriptor = functools.singledispatchmethod
    if getattr(descriptor, "_electrolyx_uncached", False):
        return
    if not hasattr(descriptor(len), "_method_cache"):
        return  # (a Python without the cache)
    init = descriptor.__init__

    def uncached_init(self, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self._method_cache = None

    descriptor.__init__ = uncached_init
    descriptor._electrolyx_uncached = True
    for name, module in list(sys.modules.items()):
        if name == "ufl" or name.startswith("ufl."):
            for value in list(vars(module).values()):
                if isinstance(value, type):
                    for attribute in list(vars(value).values()):
                        if isinstance(attribute, descriptor):
                            attribute._method_cache = None


_ucx_without_memory_hooks()
_singledispatchmethod_without_cache()
if "dolfinx_solver" not in sys.modules:
    if any(name in sys.modules for name in _NEEDS_DOLFINX_SOLVER):
        import dolfinx_solver  # noqa: F401  (fails clearly if the order is already wrong)
    else:
        sys.meta_path.insert(0, _LoadMPIFirst())
if "dolfinx.jit" in sys.modules:  # a program imported dolfinx first
    _use_electrolyx_jit_defaults(sys.modules["dolfinx.jit"].DOLFINX_DEFAULT_JIT_OPTIONS)
else:
    sys.meta_path.insert(0, _UseElectrolyxFormCache())


def __getattr__(name: str) -> Any:
    """The API's names, imported on first use (``electrolyx.Simulation``)."""
    if name in ("Simulation", "Solution", "SweepSolution", "load"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'electrolyx' has no attribute {name!r}")
