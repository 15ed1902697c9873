"""Effective transport properties of a porous medium: porosity and tortuosity corrections.

A property P of the phase that fills the volume fraction eps (electrolyte diffusivity D_e and
conductivity kappa in the pores; electronic conductivity sigma in the solid) becomes

    P_eff = P B,   B = eps / tau     (transport efficiency, tortuosity factor tau >= 1),

with either the Bruggeman relation tau = eps^(1 - b), i.e. B = eps^b (b = 1.5 for packed
spheres), or a tortuosity factor given explicitly (measured, or computed on a resolved
microstructure by ``electrolyx homogenise``).

Homogenisation runs the relations backwards: from the measured efficiency B = D_eff / D of a
phase of volume fraction eps, tau = eps / B and b = 1 - ln(tau) / ln(eps)
(:func:`tortuosity_factor_of_efficiency`, :func:`bruggeman_exponent_of_tortuosity`).
"""

from __future__ import annotations

import math

__all__ = [
    "bruggeman_exponent_of_tortuosity",
    "bruggeman_transport_efficiency",
    "effective_property",
    "tortuosity_factor_of_efficiency",
    "tortuosity_transport_efficiency",
]


def bruggeman_transport_efficiency(volume_fraction, exponent):
    """B = eps^b [-] (Bruggeman).

    Args:
        volume_fraction: eps of the conducting phase [-].
        exponent: Bruggeman exponent b [-] (0 leaves the property uncorrected).
    """
    return volume_fraction**exponent


def tortuosity_transport_efficiency(volume_fraction, tortuosity_factor):
    """B = eps / tau [-] with an explicit tortuosity factor tau >= 1.

    Args:
        volume_fraction: eps of the conducting phase [-].
        tortuosity_factor: tau [-].
    """
    return volume_fraction / tortuosity_factor


def effective_property(bulk_value, transport_efficiency):
    """P_eff = P B: an effective diffusivity [m2/s] or conductivity [S/m] of the porous medium.

    Args:
        bulk_value: P of the pure phase (number or UFL expression of c and T).
        transport_efficiency: B from :func:`bruggeman_transport_efficiency` or
            :func:`tortuosity_transport_efficiency`.
    """
    return bulk_value * transport_efficiency


def tortuosity_factor_of_efficiency(volume_fraction: float, transport_efficiency: float) -> float:
    """Tau = eps / B [-], the inverse of :func:`tortuosity_transport_efficiency`.

    Args:
        volume_fraction: eps of the conducting phase [-].
        transport_efficiency: B = P_eff / P [-]; 0 (a phase without a path) gives tau = inf.
    """
    return volume_fraction / transport_efficiency if transport_efficiency > 0 else math.inf


def bruggeman_exponent_of_tortuosity(volume_fraction: float, tortuosity_factor: float) -> float:
    """B = 1 - ln(tau) / ln(eps) [-], the exponent with tau = eps^(1 - b) (B = eps^b).

    Args:
        volume_fraction: eps of the conducting phase [-]; eps = 1 leaves b undefined (nan).
        tortuosity_factor: tau [-]; inf (no path) gives b = inf.
    """
    if volume_fraction >= 1.0:
        return math.nan
    if math.isinf(tortuosity_factor):
        return math.inf
    return 1.0 - math.log(tortuosity_factor) / math.log(volume_fraction)
