"""Parameter sets of lithium-ion cells, each named after the paper its values come from.

Built-in sets: :func:`chen2020`, :func:`marquis2019`, :func:`ecker2015`; any cell described by a
Battery Parameter eXchange file: :func:`read_bpx`.
"""

from .base import CellParameters, ElectrodeParameters, ElectrolyteParameters, SeparatorParameters
from .bpx import BPXError, read_bpx
from .chen2020 import chen2020
from .ecker2015 import ecker2015
from .marquis2019 import marquis2019

__all__ = [
    "BPXError",
    "CellParameters",
    "ElectrodeParameters",
    "ElectrolyteParameters",
    "SeparatorParameters",
    "chen2020",
    "ecker2015",
    "marquis2019",
    "read_bpx",
]
