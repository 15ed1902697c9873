"""Settings layer of the PNP model: the reference scales a case's settings define.

Lengths are scaled by the bulk Debye length lambda_D (:func:`electrolyx.forms.debye_length`),
potentials by the thermal voltage V_T = R T / F, concentrations by c_ref = sum_k z_k^2 c_k,bulk
and time by the Debye charging time lambda_D^2 / D_max.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ...constants import FARADAY, VACUUM_PERMITTIVITY
from ...constants import thermal_voltage as thermal_voltage_at
from ...forms import debye_length

__all__ = ["PNPScales"]


@dataclass(frozen=True)
class PNPScales:
    """Reference scales of the PNP problem (SI)."""

    temperature: float  # K
    thermal_voltage: float  # RT/F, V
    concentration: float  # c_ref = sum z^2 c_bulk, mol/m3
    debye_length: float  # m
    diffusivity: float  # largest D_k, m2/s
    permittivity: float  # eps_0 eps_r, F/m

    @property
    def time(self) -> float:
        """Charging time of the Debye layer, lambda_D^2 / D_max (s)."""
        return self.debye_length**2 / self.diffusivity

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> PNPScales:
        """Scales of the resolved ``[electrolyte]`` and ``[[species]]`` settings."""
        temperature = settings["electrolyte"]["temperature"]
        thermal_voltage = thermal_voltage_at(temperature)
        species = settings["species"]
        c_ref = sum(s["charge_number"] ** 2 * s["bulk_concentration"] for s in species)
        permittivity = VACUUM_PERMITTIVITY * settings["electrolyte"]["relative_permittivity"]
        return cls(
            temperature=temperature,
            thermal_voltage=thermal_voltage,
            concentration=c_ref,
            debye_length=debye_length(permittivity, thermal_voltage, c_ref, FARADAY, mod=math),
            diffusivity=max(s["diffusivity"] for s in species),
            permittivity=permittivity,
        )
