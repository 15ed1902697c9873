"""Doyle-Fuller-Newman lithium-ion cell model on a 1D (P2D), 2D (P3D) or 3D (P4D) cell mesh.

Layers, each a module:

* :mod:`.geometry`: the cell's layers, foils and tabs, and the mesh with its named parts;
* :mod:`.electrode`: one electrode's submeshes, radial grid, spaces and reactions;
* :mod:`.problem`: the named unknowns and one residual block per law (the reactions of each
  electrode from :mod:`electrolyx.forms.reactions`);
* :mod:`electrolyx.ts_integrator`: the time integrator (PETSc TS, model-agnostic);
* :mod:`.outputs`: voltage, integrals, profiles and maps from the same UFL expressions
  (:mod:`.degradation_outputs`: lithium plating and SEI);
* :mod:`.stepping`: one protocol step on TS (consistent potentials, events, rows);
  :mod:`.bdf_stepping` the same on our BDF2 loop (``integrator="bdf2"``);
* :mod:`.cell`: :class:`DFN`, the cell under current, power and voltage control;
* :mod:`.case`: the case-file model (``[case] model = "dfn"``).
"""

from electrolyx.integrator import StepFailure

from .cell import DFN, DFNSolution
from .geometry import (
    CellGeometry,
    CurrentCollectorFoil,
    DFNResolution,
    LithiumCounterElectrode,
    TabPlacement,
)
from .outputs import NODAL_FIELDS
from .problem import ParticleMechanics, SideReactions
from .thermal import AmbientSchedule, BoundaryCooling, ThermalModel

__all__ = [
    "DFN",
    "AmbientSchedule",
    "BoundaryCooling",
    "NODAL_FIELDS",
    "CellGeometry",
    "CurrentCollectorFoil",
    "DFNResolution",
    "DFNSolution",
    "LithiumCounterElectrode",
    "ParticleMechanics",
    "SideReactions",
    "StepFailure",
    "TabPlacement",
    "ThermalModel",
]
