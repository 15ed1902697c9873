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

__all__ = ["pause", "resume"]

_paused = False


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
