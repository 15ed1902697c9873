"""Exchange-current density of an insertion reaction Li+ + e- + Theta <-> Li Theta.

Mass-action kinetics with symmetric (1/2) reaction orders, as in Doyle, Fuller and Newman and in
PyBaMM's and BPX's parameter sets:

    j0 = k A(T) c_e^(1/2) c_s,surf^(1/2) (c_s,max - c_s,surf)^(1/2),

with k the rate constant at the reference temperature [A m^-2 (m^3/mol)^1.5] and A(T) its
Arrhenius factor (:mod:`electrolyx.forms.arrhenius`). j0 vanishes like the square root of the
distance to an empty or full lattice.
"""

from __future__ import annotations

import ufl

__all__ = ["exchange_current_density"]


def exchange_current_density(
    rate_constant,
    arrhenius,
    electrolyte_concentration,
    surface_concentration,
    maximum_concentration,
    mod=ufl,
):
    """j0 = k A(T) sqrt(c_e) sqrt(c_s) sqrt(c_s,max - c_s) [A/m2].

    Args:
        rate_constant: k at T_ref [A m^-2 (m^3/mol)^1.5].
        arrhenius: A(T) [-] (see :func:`electrolyx.forms.arrhenius.arrhenius_factor`).
        electrolyte_concentration: c_e at the interface [mol/m3].
        surface_concentration: c_s,surf [mol/m3].
        maximum_concentration: c_s,max [mol/m3].
        mod: ``ufl`` or ``numpy``.
    """
    return (
        rate_constant
        * arrhenius
        * mod.sqrt(electrolyte_concentration)
        * mod.sqrt(surface_concentration)
        * mod.sqrt(maximum_concentration - surface_concentration)
    )
