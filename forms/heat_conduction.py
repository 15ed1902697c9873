"""Energy balance of a cell: heat conduction with storage, sources and convective cooling.

    rho c_p dT/dt = div(lambda grad T) + q,
    -lambda grad(T).n = h (T - T_amb) + C_b dT/dt    on a cooled face,

with rho c_p the volumetric heat capacity and lambda the thermal conductivity of each region, q
the heat generated per unit volume (:mod:`electrolyx.forms.heat_sources`), h the heat transfer
coefficient to the ambient temperature T_amb and C_b = rho_b c_p,b L_b the heat capacity per unit
area of a thin layer lumped on the face (a current-collector foil, isothermal across its
thickness). Weak form (test function v):

    int rho c_p dT/dt v dx + int lambda grad(T).grad(v) dx
      + int [C_b dT/dt + h (T - T_amb)] v ds - int q v dx = 0.

With v = 1 it is the cell's energy balance, d/dt (stored heat) = generated - removed, which a
conforming discretisation keeps exactly. The lumped model is the same balance for one
temperature (lambda -> infinity):

    C dT/dt = Q - h A (T - T_amb),    C = int rho c_p dV,  Q = int q dV.
"""

from __future__ import annotations

from collections.abc import Sequence

import ufl

from electrolyx.form_sums import sum_forms

__all__ = ["heat_equation_residual", "lumped_energy_balance"]


def heat_equation_residual(
    temperature,
    temperature_rate,
    test_function,
    regions: Sequence[tuple],
    sources: Sequence[tuple],
    cooled_faces: Sequence[tuple] = (),
) -> ufl.Form:
    """Residual of rho c_p dT/dt = div(lambda grad T) + q with cooled faces [W per m2 of area].

    Args:
        temperature: T [K] (UFL).
        temperature_rate: dT/dt [K/s] (UFL).
        test_function: v.
        regions: ``(rho c_p [J/(m3 K)], lambda [W/(m K)], dx)`` of each region.
        sources: ``(q [W/m3], measure)`` pairs.
        cooled_faces: ``(h [W/(m2 K)], T_amb [K], C_b [J/(m2 K)], ds)`` of each cooled face.
    """
    v = test_function
    terms = []
    for heat_capacity, conductivity, dx in regions:
        terms.append(heat_capacity * temperature_rate * v * dx)
        terms.append(conductivity * ufl.inner(ufl.grad(temperature), ufl.grad(v)) * dx)
    for coefficient, ambient, face_capacity, ds in cooled_faces:
        terms.append(
            (face_capacity * temperature_rate + coefficient * (temperature - ambient)) * v * ds
        )
    for source, measure in sources:
        terms.append(-(source * v * measure))
    # (One Form of all the terms: the same form as adding them one by one, built faster.)
    return sum_forms(terms)


def lumped_energy_balance(
    heat_capacity_J_K, temperature, temperature_rate, heat_W, cooling_W_K, ambient_K
):
    """C dT/dt - Q + hA (T - T_amb) [W]: the residual of one energy balance (all UFL or numbers).

    Args:
        heat_capacity_J_K: C = int rho c_p dV [J/K].
        temperature: T [K].
        temperature_rate: dT/dt [K/s].
        heat_W: Q, the heat generated in the cell [W].
        cooling_W_K: hA, heat transfer coefficient times cooled area [W/K].
        ambient_K: T_amb [K].
    """
    return heat_capacity_J_K * temperature_rate - heat_W + cooling_W_K * (temperature - ambient_K)
