"""UFL weak forms of electrochemical transport, one physical law per module.

Installed as ``electrolyx.forms``. Each form is written for any number of species and any
spatial dimension; scaling is the caller's choice (pass consistent coefficients).
"""

from .nernst_planck import (
    nernst_planck_flux,
    nernst_planck_flux_log,
    species_conservation_residual,
)
from .poisson import debye_length, gauss_law_residual, space_charge_density

__all__ = [
    "debye_length",
    "gauss_law_residual",
    "nernst_planck_flux",
    "nernst_planck_flux_log",
    "space_charge_density",
    "species_conservation_residual",
]
