"""Parameter sets of lithium-ion cells, each named after the paper its values come from."""

from .base import CellParameters, ElectrodeParameters, ElectrolyteParameters, SeparatorParameters
from .chen2020 import chen2020
from .marquis2019 import marquis2019

__all__ = [
    "CellParameters",
    "ElectrodeParameters",
    "ElectrolyteParameters",
    "SeparatorParameters",
    "chen2020",
    "marquis2019",
]
