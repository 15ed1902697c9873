"""Settings of a Doyle-Fuller-Newman case (``[case] model = "dfn"``, :mod:`..models.dfn_case`).

Rules that need only the settings are validators here (half-cell keys, geometry by dimension,
protocol sentences, mesh size); those that need files (the BPX file, the drive cycle, the
parameter set's voltage window) are in ``DFNCase.check_consistency``.

Modules, one a group of tables: :mod:`.cell` (``[case]``, ``[parameters]``, ``[cell]``, the
electrodes' reactions, ``[degradation]``), :mod:`.geometry` (``[geometry]``, ``[mesh]``),
:mod:`.protocol` (``[experiment]``, ``[time_stepping]``, ``[output]``), :mod:`.mechanics`
(``[mechanics]``, ``[elasticity]``), :mod:`.thermal` (``[thermal]``) and :mod:`.dfn_settings`
(:class:`DFNSettings`, the tables together and the rules across them).
"""

from __future__ import annotations

from ...experiment import MAX_PROTOCOL_STEPS
from .dfn_settings import DFNSettings
from .geometry import MAX_MESH_CELLS

__all__ = ["MAX_MESH_CELLS", "MAX_PROTOCOL_STEPS", "DFNSettings"]
