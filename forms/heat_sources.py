"""Heat generated in a porous-electrode cell, per unit volume, from the laws the cell solves.

    irreversible reaction heat    q_rxn = a_s sum_k j_k eta_k,  eta_k = phi_s - phi_e - U_k
    reversible (entropic) heat    q_rev = a_s j T dU/dT
    ohmic heat in the solid       q_s   = -i_s . grad(phi_s) = sigma_eff |grad(phi_s)|^2
    ohmic heat in the electrolyte q_e   = -i_e . grad(phi_e)

with j_k the current density of reaction k (positive anodic) and eta_k its overpotential
against its equilibrium potential U_k (a resistive film's drop included: its ohmic heat), j the
intercalation current density, U its open-circuit potential, i_s and i_e the solid and
electrolyte current densities of the charge balances (i_e of concentrated-solution theory, so
q_e contains the concentration-gradient (diffusion-potential) term:
q_e = kappa_eff |grad phi_e|^2 - 2 kappa_eff V_T (1 - t+) chi grad(ln c_e).grad(phi_e)).
Signs as in Bernardi, Pawlikowski and Newman, J. Electrochem. Soc. 132, 5 (1985) and PyBaMM's
thermal models: on discharge q_rxn, q_s and q_e are >= 0, q_rev has the sign of j dU/dT.

Their sum is what the energy balance of a thermal model receives: callers pass the same UFL
expressions (current densities, overpotentials, dU/dT) as their charge and species balances.
"""

from __future__ import annotations

import ufl

__all__ = [
    "electrolyte_ohmic_heat",
    "irreversible_reaction_heat",
    "reversible_reaction_heat",
    "solid_ohmic_heat",
]


def irreversible_reaction_heat(specific_surface_area, current_density, overpotential):
    """q_rxn = a_s j eta [W/m3] of one reaction (j [A/m2] positive anodic, eta [V])."""
    return specific_surface_area * current_density * overpotential


def reversible_reaction_heat(specific_surface_area, current_density, temperature, entropic_change):
    """q_rev = a_s j T dU/dT [W/m3] (T [K], dU/dT [V/K] of the reaction's OCP)."""
    return specific_surface_area * current_density * temperature * entropic_change


def solid_ohmic_heat(current_density, potential):
    """q_s = -i_s . grad(phi_s) [W/m3] (i_s = -sigma_eff grad phi_s: sigma_eff |grad phi_s|^2)."""
    return -ufl.inner(current_density, ufl.grad(potential))


def electrolyte_ohmic_heat(current_density, potential):
    """q_e = -i_e . grad(phi_e) [W/m3], i_e the concentrated-solution current density."""
    return -ufl.inner(current_density, ufl.grad(potential))
