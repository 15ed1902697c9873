"""Mechanical parameters of electrode particles, by their PyBaMM names.

:data:`OKANE2022_MECHANICS` holds the particle-mechanics values of PyBaMM's ``OKane2022`` set
(the LG M50 cell of Chen2020 with degradation added): S. E. J. O'Kane, W. Ai, G. Madabattula,
D. Alonso-Alvarez, R. Timms, V. Sulzer, J. S. Edge, B. Wu, G. J. Offer and M. Marinescu,
"Lithium-ion battery degradation: how to model it", Phys. Chem. Chem. Phys. 24, 7909 (2022),
doi:10.1039/D2CP00417H, who take them from W. Ai, L. Kraft, J. Sturm, A. Jossen and B. Wu,
"Electrochemical thermal-mechanical modelling of stress inhomogeneity in lithium-ion pouch
cells", J. Electrochem. Soc. 167, 013512 (2020), doi:10.1149/2.0122001JES. The volume-change
functions: the graphite's ninth-degree polynomial fit of B. Rieger, S. V. Erhard, K. Rumpf and
A. Jossen, J. Electrochem. Soc. 163, A1566 (2016) as given by Ai et al.; the positive electrode
a volume change linear in its lithium content, Omega c_max x.

:func:`with_okane2022_mechanics` adds them to a cell (Chen2020: the cell they were fitted
with; :func:`electrolyx.parameters.okane2022` has them, cracking included); a case file gives
the same values in ``[parameters.values]`` (``cases/dfn-mechanics-1C``).
"""

from __future__ import annotations

import numpy as np

from .base import CellParameters
from .by_name import with_values

__all__ = [
    "GRAPHITE_VOLUME_CHANGE_AI2020",
    "OKANE2022_MECHANICS",
    "graphite_volume_change_ai2020",
    "with_okane2022_mechanics",
]

#: Coefficients p9 ... p0 of the graphite's volume change dV/V(x) = sum p_k x^k (Ai 2020).
GRAPHITE_VOLUME_CHANGE_AI2020 = (
    145.907,
    -681.229,
    1334.442,
    -1415.710,
    873.906,
    -312.528,
    60.641,
    -5.706,
    0.386,
    -4.966e-05,
)

#: The numbers of OKane2022's particle mechanics by PyBaMM name (SI units).
OKANE2022_MECHANICS: dict[str, float] = {
    "Negative electrode Young's modulus [Pa]": 15e9,
    "Negative electrode Poisson's ratio": 0.3,
    "Negative electrode partial molar volume [m3.mol-1]": 3.1e-6,
    "Negative electrode reference concentration for free of deformation [mol.m-3]": 0.0,
    "Positive electrode Young's modulus [Pa]": 375e9,
    "Positive electrode Poisson's ratio": 0.2,
    "Positive electrode partial molar volume [m3.mol-1]": 1.25e-5,
    "Positive electrode reference concentration for free of deformation [mol.m-3]": 0.0,
    # Particle cracking (Ai 2020; Deshpande 2012), both electrodes alike in OKane2022.py;
    # the cracking rates there are 3.9e-20 with an activation energy 0.
    **{
        f"{side} electrode {name}": value
        for side in ("Negative", "Positive")
        for name, value in (
            ("initial crack length [m]", 2e-8),
            ("initial crack width [m]", 1.5e-8),
            ("number of cracks per unit area [m-2]", 3.18e15),
            ("Paris' law constant b", 1.12),
            ("Paris' law constant m", 2.2),
            ("cracking rate", 3.9e-20),
        )
    },
}


def graphite_volume_change_ai2020(stoichiometry, mod=np):
    """Volume change of graphite particles dV/V against the lithium-free lattice [-] (Ai 2020)."""
    result = 0.0 * stoichiometry
    for coefficient in GRAPHITE_VOLUME_CHANGE_AI2020:  # Horner
        result = result * stoichiometry + coefficient
    return result


def with_okane2022_mechanics(cell: CellParameters) -> CellParameters:
    """``cell`` with OKane2022's particle mechanics: elastic constants and volume changes."""
    cell = with_values(cell, OKANE2022_MECHANICS)
    positive = OKANE2022_MECHANICS["Positive electrode partial molar volume [m3.mol-1]"]
    positive *= cell.positive.max_concentration_mol_m3
    from dataclasses import replace

    def positive_volume_change(stoichiometry, mod=np):
        """dV/V = Omega c_max x of the positive particles [-]."""
        return positive * stoichiometry

    return replace(
        cell,
        negative=replace(cell.negative, volume_change=graphite_volume_change_ai2020),
        positive=replace(cell.positive, volume_change=positive_volume_change),
    )
