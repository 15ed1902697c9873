"""Heat sources of the DFN, from the very expressions its balances use.

    q_rxn = a_s j (phi_s - phi_e - U),        q_side = a_s sum_k j_k (phi_s - phi_e - U_k),
    q_rev = a_s j T dU/dT,
    q_s = -i_s . grad(phi_s),      q_e = -i_e . grad(phi_e)   (i_e with its diffusion term),

with j the intercalation current density and k the side reactions on the particles (lithium
plating, U_Li = 0; SEI growth, U_SEI; the SEI on cracks per crack area a_cr); under an SEI film
each reaction's heat includes its share j_k (-eta_film) of the film's ohmic heat
(``ReactionTerms.heat_overpotential``); on a half cell's lithium metal j_Li eta_Li per unit area
(:mod:`electrolyx.forms.heat_sources`).
The reaction terms use the vertex quadrature of the reaction sources, the ohmic ones the
quadrature of the charge balances.
"""

from __future__ import annotations

from electrolyx.forms import ufl_math
from electrolyx.forms.heat_sources import (
    electrolyte_ohmic_heat,
    irreversible_reaction_heat,
    reversible_reaction_heat,
    solid_ohmic_heat,
)
from electrolyx.forms.particle_diffusion import particle_surface_concentration
from electrolyx.forms.solid_conduction import solid_current_density

from .geometry import LITHIUM

__all__ = ["HEAT_SOURCES", "heat_sources"]

#: Heat sources by output name (timeseries columns ``heat_<name>_W``): "irreversible" is the
#: intercalation's (and a lithium metal counter electrode's), "side_reactions" that of plating and
#: SEI growth.
HEAT_SOURCES = ("irreversible", "side_reactions", "reversible", "ohmic_solid", "ohmic_electrolyte")


def heat_sources(problem, electrolyte_current) -> dict[str, list[tuple]]:
    """Heat source name (:data:`HEAT_SOURCES`) -> ``(q [W/m3 or W/m2], measure)`` pairs.

    Args:
        problem: The :class:`~electrolyx.models.dfn.problem.DFNProblem` whose balances and
            unknowns the sources are built from.
        electrolyte_current: i_e of its electrolyte charge balance.
    """
    temperature = problem.temperature
    sources: dict[str, list[tuple]] = {name: [] for name in HEAT_SOURCES}
    for electrode in problem.electrodes:
        ep = electrode.params
        a_s = ep.specific_surface_area_1_m
        measure = problem.dx_vertex(electrode.tag)
        balance = problem.balances[electrode.name]
        for name, terms in balance.reactions.items():
            if terms.heat_overpotential is None:
                continue
            source = "irreversible" if name == "intercalation" else "side_reactions"
            heat = irreversible_reaction_heat(a_s, terms.current_density, terms.heat_overpotential)
            sources[source].append((heat, measure))
        crack_sei = problem.crack_sei_terms.get(electrode.side)
        if crack_sei is not None:
            crack_area = problem.crack_surface_area[electrode.side]
            heat = irreversible_reaction_heat(
                crack_area, crack_sei.current_density, crack_sei.heat_overpotential
            )
            sources["side_reactions"].append((heat, measure))
        if ep.entropic_change is not None:
            c_surf = particle_surface_concentration(problem.value(electrode.concentration))
            entropic = ep.entropic_change(c_surf / ep.max_concentration_mol_m3, ufl_math)
            current = balance.reactions["intercalation"].current_density
            sources["reversible"].append(
                (reversible_reaction_heat(a_s, current, temperature, entropic), measure)
            )
        phi_s = problem.value(electrode.potential)
        current = solid_current_density(phi_s, ep.effective_conductivity_S_m)
        sources["ohmic_solid"].append((solid_ohmic_heat(current, phi_s), problem.dx(electrode.tag)))
        if electrode.foil is not None:
            foil_name, foil_conductivity = electrode.foil
            foil_current = solid_current_density(phi_s, foil_conductivity)
            sources["ohmic_solid"].append(
                (solid_ohmic_heat(foil_current, phi_s), problem.dx(problem.layout.tag(foil_name)))
            )
    if LITHIUM in problem.balances:
        terms = problem.balances[LITHIUM].reactions["lithium_metal"]
        counter = problem.ds(problem.layout.tag(LITHIUM))
        sources["irreversible"].append((terms.current_density * terms.heat_overpotential, counter))
    phi_e = problem.value("electrolyte_potential")
    sources["ohmic_electrolyte"].append(
        (electrolyte_ohmic_heat(electrolyte_current, phi_e), problem.dx_electrolyte)
    )
    return sources
