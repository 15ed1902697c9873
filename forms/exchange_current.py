"""Exchange-current density of an insertion reaction Li+ + e- + Theta <-> Li Theta.

Mass-action kinetics with symmetric (1/2) reaction orders, as in Doyle, Fuller and Newman and in
PyBaMM's and BPX's parameter sets:

    j0 = k A(T) c_e^(1/2) R(c_s,surf^+; c_s,max) R((c_s,max - c_s,surf)^+; c_s,max),

with k the rate constant at the reference temperature [A m^-2 (m^3/mol)^1.5], A(T) its Arrhenius
factor (:mod:`electrolyx.forms.arrhenius`) and R the regularised square root

    R(x; s) = s^(1/2) (x / s) ((x / s)^2 + delta^2)^(-1/4),   delta = 1e-3,

(PyBaMM's ``RegPower(x, 1/2, scale=s)`` with its default delta, which its DFN applies to the same
two factors, and in PyBaMM 26.10 to c_e^(1/2) too, with the scale c_e0).
R(x; s) = sqrt(x) (1 - delta^2 s^2 / (4 x^2) + ...) for x >> delta s (relative change 2.5e-5 at
x = 0.1 s, 2.5e-3 at 0.01 s); near an empty or full lattice it is linear,
R ~ x / sqrt(delta s), with a finite slope. Its arguments are the positive parts x^+ = max(x, 0):
a surface pushed past the lattice by round-off or the error control (c_s,surf > c_s,max in a
constant-voltage hold, c_s,surf < 0 at the end of a discharge) gets j0 = 0, so the reaction
stops feeding it, and particle diffusion takes it back inside; the unregularised law has no value
there at all. (R itself is odd, as PyBaMM's RegPower; used on signed arguments it made j0 < 0
past the lattice, and under an applied current that is a second, unphysical solution: a half cell
discharged 100 s past its voltage cliff, 4237.6 s against PyBaMM's 4134.3 s.)
c_e keeps its plain square root (the DFN holds it above its own floor,
:data:`electrolyx.models.dfn.problem.ELECTROLYTE_LAW_FLOOR`, or positive with the
log-concentration unknown; PyBaMM's regularised root of c_e, tried in the DFN, moved the end of
a 1C cycle by 4e-4 s and did not help the depleted regime: bench/README.md, "Lead: a 3C charge
after a 3C discharge in 2D").
"""

from __future__ import annotations

import numpy as np
import ufl

__all__ = ["REGULARISATION", "exchange_current_density", "regularised_square_root"]

#: delta of the regularised square root (PyBaMM's ``settings.tolerances["reg_power"]``).
REGULARISATION = 1e-3


def regularised_square_root(value, scale):
    """R(x; s) = s^(1/2) (x / s) ((x / s)^2 + delta^2)^(-1/4): an odd sqrt(x), linear near 0.

    Args:
        value: x (any sign).
        scale: s > 0, the size of x where R is sqrt(x) to delta^2 / 4 relative.

    UFL expressions and numpy arrays alike. The power -1/4 is taken as two square roots: a
    ``pow`` call in FFCx's C code, with another (-5/4) for each derivative, was a ninth of the
    cycling model's Jacobian; ``sqrt`` is one instruction (bench/README.md, "Cheaper
    transcendental functions").
    """
    ratio = value / scale
    root = ufl.sqrt if isinstance(ratio, ufl.core.expr.Expr) else np.sqrt
    return scale**0.5 * ratio / root(root(ratio * ratio + REGULARISATION**2))


def exchange_current_density(
    rate_constant,
    arrhenius,
    electrolyte_concentration,
    surface_concentration,
    maximum_concentration,
    mod=ufl,
):
    """j0 = k A(T) sqrt(c_e) R(c_s; c_s,max) R(c_s,max - c_s; c_s,max) [A/m2].

    Args:
        rate_constant: k at T_ref [A m^-2 (m^3/mol)^1.5].
        arrhenius: A(T) [-] (see :func:`electrolyx.forms.arrhenius.arrhenius_factor`).
        electrolyte_concentration: c_e at the interface [mol/m3].
        surface_concentration: c_s,surf [mol/m3] (outside (0, c_s,max) j0 = 0).
        maximum_concentration: c_s,max [mol/m3].
        mod: ``numpy``, or the math module of weak forms (:mod:`electrolyx.forms.ufl_math`).
    """
    positive = np.maximum if mod is np else ufl.max_value
    return (
        rate_constant
        * arrhenius
        * mod.sqrt(electrolyte_concentration)
        * regularised_square_root(positive(surface_concentration, 0.0), maximum_concentration)
        * regularised_square_root(
            positive(maximum_concentration - surface_concentration, 0.0), maximum_concentration
        )
    )
