"""Effective transport properties of a porous medium: porosity and tortuosity corrections.

A property P of the phase that fills the volume fraction eps (electrolyte diffusivity D_e and
conductivity kappa in the pores; electronic conductivity sigma in the solid) becomes

    P_eff = P B,   B = eps / tau     (transport efficiency, tortuosity factor tau >= 1),

with either the Bruggeman relation tau = eps^(1 - b), i.e. B = eps^b (b = 1.5 for packed
spheres), or a tortuosity factor given explicitly (measured, or computed on a resolved
microstructure by ``electrolyx homogenise``).
"""

from __future__ import annotations

__all__ = [
    "bruggeman_transport_efficiency",
    "effective_property",
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
