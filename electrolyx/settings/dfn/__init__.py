"""Settings of a Doyle-Fuller-Newman case (``[case] model = "dfn"``, :mod:`..models.dfn_case`).

Rules that need only the settings are validators here (half-cell keys, geometry by dimension,
protocol sentences, mesh size); those that need files (the BPX file, the drive cycle, the
parameter set's voltage window) are in ``DFNCase.check_consistency``.

Modules, one a group of tables: :mod:`.cell` (``[case]``, ``[parameters]``, ``[cell]``, the
electrodes' reactions, ``[degradation]``), :mod:`.geometry` (``[geometry]``, ``[mesh]``),
:mod:`.protocol` (``[experiment]``, ``[time_stepping]``, ``[output]``), :mod:`.mechanics`
(``[mechanics]``, ``[elasticity]``), :mod:`.thermal` (``[thermal]``) and :mod:`.dfn_settings`
(:class:`DFNSettings`, the tables together and the rules across them). Every table is also a
name of this package (``electrolyx.settings.dfn.Geometry``), as before the split.
"""

from __future__ import annotations

from ...experiment import MAX_PROTOCOL_STEPS
from .cell import Cell as Cell
from .cell import Degradation as Degradation
from .cell import DFNCase as DFNCase
from .cell import NegativeElectrode as NegativeElectrode
from .cell import Parameters as Parameters
from .cell import ParameterValue as ParameterValue
from .dfn_settings import DFNSettings
from .geometry import MAX_MESH_CELLS
from .geometry import Geometry as Geometry
from .geometry import Mesh as Mesh
from .mechanics import Elasticity as Elasticity
from .mechanics import LayerElasticity as LayerElasticity
from .mechanics import Mechanics as Mechanics
from .protocol import DFNOutput as DFNOutput
from .protocol import Experiment as Experiment
from .protocol import TimeStepping as TimeStepping
from .thermal import THERMAL_BOUNDARIES as THERMAL_BOUNDARIES
from .thermal import BoundaryCooling as BoundaryCooling
from .thermal import SchedulePoint as SchedulePoint
from .thermal import Thermal as Thermal

__all__ = ["MAX_MESH_CELLS", "MAX_PROTOCOL_STEPS", "DFNSettings"]
