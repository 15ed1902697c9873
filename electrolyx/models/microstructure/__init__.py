"""Microstructure-resolved half cell: positive-electrode particles of a packing, lithium counter.

Layers, each a module: :mod:`.cell` (the mesh's phases, named unknowns and one residual per law,
the interface as a reactions list, the collector voltage a one-dof unknown of the same system),
:mod:`.discharge` (the galvanostatic discharge on the shared PETSc TS integrator), :mod:`.case`
(the case-file model).
"""

from .case import MicrostructureHalfCell
from .cell import (
    FIELDS,
    HalfCellState,
    ResolvedHalfCell,
)
from .connectivity import particles_connected_to_collector
from .discharge import discharge, step_with_halving
from .solver_options import ITERATIVE_SOLVER

__all__ = [
    "FIELDS",
    "ITERATIVE_SOLVER",
    "HalfCellState",
    "MicrostructureHalfCell",
    "ResolvedHalfCell",
    "discharge",
    "particles_connected_to_collector",
    "step_with_halving",
]
