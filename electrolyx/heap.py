"""Freed C-heap memory given back to the operating system (glibc's ``malloc_trim``)."""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

__all__ = ["release_free_heap"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:
        return None


def release_free_heap() -> None:
    """Return the free pages of the C heap to the system (``malloc_trim(0)``; elsewhere: nothing).

    glibc's malloc maps an allocation above 32 MiB afresh each time (dolfinx's packed
    coefficients of a 3D residual, 72 MiB at 224 k PNP unknowns) and never places it in the
    heap's free space: pages that an earlier phase freed but left resident (the preconditioner's
    set-up reading the Jacobian a slab at a time, GAMG's set-up) add to that allocation's peak.
    A few milliseconds; a no-op where the C library has no ``malloc_trim``.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
