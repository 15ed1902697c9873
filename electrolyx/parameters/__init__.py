"""Parameter sets of lithium-ion cells, each named after the paper its values come from.

Built-in sets: :func:`chen2020`, :func:`marquis2019`, :func:`ecker2015`, :func:`okane2022`
(Chen2020 with degradation, particle-mechanics and cracking parameters), :func:`ai2020` (with
particle mechanics and cracking); any cell described by a Battery Parameter eXchange file:
:func:`read_bpx`.
"""

from .ai2020 import ai2020
from .base import CellParameters, ElectrodeParameters, ElectrolyteParameters, SeparatorParameters
from .bpx import BPXError, read_bpx
from .chen2020 import chen2020
from .degradation import DegradationParameters, okane2022
from .ecker2015 import ecker2015
from .marquis2019 import marquis2019

#: Built-in parameter sets by the name case files use.
PARAMETER_SETS = {
    "Chen2020": chen2020,
    "Marquis2019": marquis2019,
    "Ecker2015": ecker2015,
    "OKane2022": okane2022,
    "Ai2020": ai2020,
}


def parameter_set(name: str) -> CellParameters:
    """The built-in set ``name`` (a key of :data:`PARAMETER_SETS`)."""
    if name not in PARAMETER_SETS:
        raise ValueError(
            f"parameter set {name!r} is not one of " + ", ".join(map(repr, PARAMETER_SETS))
        )
    return PARAMETER_SETS[name]()


__all__ = [
    "PARAMETER_SETS",
    "BPXError",
    "CellParameters",
    "DegradationParameters",
    "ElectrodeParameters",
    "ElectrolyteParameters",
    "SeparatorParameters",
    "ai2020",
    "chen2020",
    "ecker2015",
    "marquis2019",
    "okane2022",
    "parameter_set",
    "read_bpx",
]
