"""Lithium intercalation Li+ + e- + Theta <-> Li Theta at the surface of an insertion particle.

    x = c_s,surf / c_s,max,   U = U_ref(x) + (T - T_ref) dU/dT(x),
    j0 = k A(T) c_e^(1/2) R(c_s,surf^+) R((c_s,max - c_s,surf)^+)   (R: a regularised square root),
    eta = phi_s - phi_e - U (+ eta_film under an SEI film),   j = kinetics(j0, eta, R T / F),

and every Li that leaves the particle (N_s = j / F) enters the electrolyte (s_e = j / F).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from electrolyx.constants import FARADAY
from electrolyx.constants import thermal_voltage as thermal_voltage_at
from electrolyx.forms import ufl_math
from electrolyx.forms.kinetics import Kinetics, overpotential

from .terms import Interface, ReactionTerms, with_film

__all__ = ["Intercalation"]


@dataclass(frozen=True)
class Intercalation:
    """Intercalation into the particles of one electrode.

    Attributes:
        material: The electrode's parameters (:class:`electrolyx.parameters.ElectrodeParameters`:
            ``open_circuit_potential``, ``exchange_current_density``, c_s,max).
        kinetics: The kinetic law and its coefficients.
        name: Name of the reaction in outputs.
    """

    material: Any
    kinetics: Kinetics = Kinetics()
    name: str = "intercalation"

    def terms(self, interface: Interface) -> ReactionTerms:
        """Current density, lithium fluxes and outputs (eta, j0, U) at ``interface``."""
        material = self.material
        temperature = interface.temperature
        c_max = material.max_concentration_mol_m3
        # A full or empty surface (a constant-voltage hold, the end of a discharge) meets
        # round-off and the error control just outside (0, c_max): there j0 = 0 (the regularised
        # square roots of forms/exchange_current.py take positive parts), so it is fed no further.
        c_surf = interface.particle_surface_concentration
        ocp = material.open_circuit_potential(c_surf / c_max, temperature, mod=ufl_math)
        j0 = material.exchange_current_density(
            interface.electrolyte_concentration, c_surf, c_max, temperature, mod=ufl_math
        )
        driving = overpotential(interface.solid_potential, interface.electrolyte_potential, ocp)
        eta = with_film(driving, interface)  # + eta_film under a resistive film (SEI)
        current = self.kinetics.current_density(j0, eta, thermal_voltage_at(temperature))
        return ReactionTerms(
            current_density=current,
            electrolyte_lithium_source=current / FARADAY,
            particle_lithium_outflux=current / FARADAY,
            outputs={
                "open_circuit_potential_V": ocp,
                "exchange_current_density_A_m2": j0,
                "overpotential_V": eta,
                "intercalation_current_density_A_m2": current,
            },
            heat_overpotential=driving,
        )
