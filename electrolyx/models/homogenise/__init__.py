"""Homogenisation: effective DFN parameters of a resolved microstructure.

From a meshed two-phase box (pore and solid cells): the porosity, the specific surface area, and
along each axis the relative effective diffusivity D_eff / D of the pore phase, its tortuosity
factor and Bruggeman exponent (the inverses of :mod:`electrolyx.forms.effective_transport`).

Layers, each a module:

* :mod:`.microstructure`: the two-phase box (a random packing or a mesh file), its phases and
  bounding box;
* :mod:`.cell_problem`: the steady diffusion cell problem of each direction
  (:mod:`electrolyx.forms.pore_diffusion`), solved and integrated (:func:`homogenise`);
* :mod:`.properties`: :class:`EffectiveProperties`; :mod:`.parameter_files`: the TOML parameter
  file a DFN case can include and its JSON;
* :mod:`.case`: the case model (``[case] model = "homogenise"``) and ``electrolyx homogenise``.
"""

from .case import Homogenisation, homogenise_command
from .cell_problem import LINEAR_SOLVERS, PERCOLATION_THRESHOLD, homogenise
from .microstructure import (
    AXES,
    Microstructure,
    microstructure_from_mesh_data,
    packed_mesh,
    packing_from_settings,
)
from .parameter_files import parameter_toml, write_parameter_files
from .properties import DirectionalTransport, EffectiveProperties

__all__ = [
    "AXES",
    "LINEAR_SOLVERS",
    "PERCOLATION_THRESHOLD",
    "DirectionalTransport",
    "EffectiveProperties",
    "Homogenisation",
    "Microstructure",
    "homogenise",
    "homogenise_command",
    "microstructure_from_mesh_data",
    "packed_mesh",
    "packing_from_settings",
    "parameter_toml",
    "write_parameter_files",
]
