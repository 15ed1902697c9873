"""Python's cycle collector paused while the console script starts a command.

Starting a run builds some 10^6 long-lived objects: the modules of DOLFINx, UFL, pydantic and
electrolyx, the settings' validators, the model's forms. While they are made, the collector
runs every 2,000 new objects and searches the young ones for cycles, again and again as they
age: 55 collections and ~20 ms of the default DFN case's ~0.8 s, nearly all before its first
time step, finding next to nothing (bench/README.md, "The cycle collector paused at
start-up"). The console script pauses it (:func:`pause`) until the model is built
(:func:`resume`, from :func:`electrolyx.driver.run_case`), then moves everything made so far
out of its reach (``gc.freeze``) and lets it run as usual for the rest of the run. Every other
command resumes it as soon as its arguments are read (:func:`electrolyx.cli.main`).

A process that only calls :func:`electrolyx.cli.main` or the Python API is left as it is:
:func:`resume` does nothing where :func:`pause` did not pause the collector.
"""

from __future__ import annotations

import gc

__all__ = ["EARLIER_MODELS", "collect_earlier_models", "pause", "resume"]

_paused = False

#: Models built since :func:`collect_earlier_models` last collected (or since the start).
_built_since_collection = 0

#: Models after which the next one first collects the garbage (a serial process).
EARLIER_MODELS = 4


def pause() -> None:
    """Stop automatic collection, if it runs (the console script, at its start)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """After :func:`pause`: freeze the objects made since, and collect automatically again."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def collect_earlier_models() -> None:
    """Before a new model is built: the earlier ones that are garbage collected, now and then.

    A model lets go of its meshes, spaces and solvers only when Python's cycle collector
    reaches it: its parts refer to each other (callbacks, outputs, the integrator). Each holds
    MPI communicators (dolfinx duplicates one for every mesh, index map and scatterer), some
    30 for a 1D DFN and hundreds in 3D, and MPICH has 2048 of them per process. A long-lived
    process that builds model after model (the test workers, a notebook, a parameter sweep
    through the Python API) can run out of them before the collector has run: dolfinx's
    MPI_Comm_dup then fails, and dolfinx ends the process through MPI_Abort (what ended test
    workers, together with the meshes of compiled forms that CPython 3.13.0 kept:
    bench/README.md, "The test worker that died"). The model object itself is freed at
    once, its parts are not: so the models are
    counted, not watched. In a serial process the model built after :data:`EARLIER_MODELS`
    others since the last collection first runs one (16-100 ms); a process that builds one
    model, as the command line does (a case and its DFN: two), never does. On several ranks
    the collector is left alone: the destruction of distributed objects must start at the
    same point on every rank (the tests collect at each test's start and end there).
    """
    from mpi4py import MPI  # (here: the commands that build no model do not load MPI)

    global _built_since_collection
    if MPI.COMM_WORLD.size == 1 and _built_since_collection >= EARLIER_MODELS:
        gc.collect()
        _built_since_collection = 0
    _built_since_collection += 1
