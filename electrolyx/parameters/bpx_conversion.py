"""A validated BPX model converted into :class:`CellParameters`: numbers, curves, laws' constants.

The conventions are those listed in :mod:`.bpx` (Bruggeman exponent from the transport
efficiency, active fraction from the surface area, j0's rate constant, Arrhenius factors,
initial stoichiometries in the window, the thermal values as PyBaMM maps them).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from electrolyx.constants import FARADAY
from electrolyx.forms.arrhenius import arrhenius_factor

from .base import (
    CellParameters,
    ElectrodeParameters,
    ElectrolyteParameters,
    SeparatorParameters,
    StoichiometryWindow,
)
from .bpx_validation import BPXError
from .expressions import PiecewiseLinear, SafeExpression
from .thermal import ThermalParameters

STOICHIOMETRY = (0.0, 1.0)
"""Range of the stoichiometry x = c_s / c_s,max [-]."""

#: a material function of one argument: (x, mod) -> value
_Curve = Callable[[Any, Any], Any]


def _curve(
    value: Any, key: str, texts: dict[str, str], domain: tuple[float, float] | None = None
) -> _Curve:
    """A BPX FloatFunctionTable (number, expression string in x, or x/y table) as f(x, mod).

    ``texts``: the file's function strings by key (the validated ``value`` of a string is only
    its placeholder). ``domain``: range of x (stoichiometry: [0, 1]) over which a string's
    saturated tanh terms are evaluated in a well-conditioned form (see :class:`SafeExpression`).
    """
    from bpx import InterpolatedTable

    if key in texts:
        expression = SafeExpression(texts[key], ("x",), key, domain=domain)
        return lambda x, mod: expression(mod, x=x)
    if isinstance(value, InterpolatedTable):
        table = PiecewiseLinear(value.x, value.y, key)
        return lambda x, mod: table(x, mod)
    number = float(value)
    return lambda x, mod: number + 0.0 * x


@dataclass(frozen=True)
class BPXFunction:
    """f(value / argument_scale) exp(E_a / R (1/T_ref - 1/T)): a BPX transport property.

    Called as ``(value, temperature_K=T_ref, mod=numpy)``, the signature of the electrolyte
    and particle-diffusivity functions of :mod:`electrolyx.parameters.base`.

    Attributes:
        curve: f(x, mod) from the file.
        activation_energy_J_mol: E_a [J/mol].
        reference_temperature_K: T_ref [K].
        argument_scale: Divides the argument (c_s,max turns c_s into the stoichiometry x).
        key: The BPX key it comes from.
    """

    curve: _Curve
    activation_energy_J_mol: float
    reference_temperature_K: float
    argument_scale: float = 1.0
    key: str = ""

    def __call__(self, value, temperature_K=None, mod=np):
        """Value at ``value`` (SI) and temperature [K] with ``mod`` = numpy or ufl."""
        temperature = self.reference_temperature_K if temperature_K is None else temperature_K
        x = value if self.argument_scale == 1.0 else value / self.argument_scale
        return self.curve(x, mod) * arrhenius_factor(
            self.activation_energy_J_mol, temperature, self.reference_temperature_K, mod
        )


def _constant(value: float) -> Callable:
    def function(c_e, temperature_K=None, mod=np):
        return value + 0.0 * c_e

    return function


def _bruggeman(porosity: float, transport_efficiency: float, key: str) -> float:
    """Bruggeman exponent b with eps^b = transport efficiency."""
    if not (0.0 < porosity <= 1.0 and 0.0 < transport_efficiency <= 1.0):
        raise BPXError(
            f"{key}: porosity {porosity} and transport efficiency {transport_efficiency} "
            "must lie in (0, 1]"
        )
    if porosity == 1.0:
        if transport_efficiency != 1.0:
            raise BPXError(f"{key}: porosity 1 needs transport efficiency 1")
        return 1.5
    return math.log(transport_efficiency) / math.log(porosity)


def _divisor(value: float) -> float:
    """``value`` where it is a positive finite number, else NaN (reported later by key)."""
    return value if math.isfinite(value) and value > 0.0 else math.nan


def _transfer_coefficient(user_defined: dict[str, Any], name: str) -> float:
    """Transfer coefficient alpha of ``name`` from the User-defined section, or 0.5."""
    key = f"{name} charge transfer coefficient"
    if key not in user_defined:
        return 0.5
    value = user_defined[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 < value < 1.0:
        raise BPXError(f"User-defined / {key} = {value!r}: allowed a number in (0, 1)")
    return float(value)


def _electrode(
    electrode: Any,
    name: str,
    sto_initial: float,
    reference_K: float,
    electrolyte_reference_mol_m3: float,
    transfer_coefficient: float,
    texts: dict[str, str],
) -> ElectrodeParameters:
    key = f"Parameterisation / {name}"
    if not hasattr(electrode, "ocp"):
        raise BPXError(f"{key}: blended electrodes (several particle phases) are not supported")
    if electrode.ocp is None:
        raise BPXError(f"{key} / OCP [V]: required (hysteresis branches alone are not supported)")
    c_max = float(electrode.maximum_concentration)
    eps = float(electrode.porosity)
    radius = float(electrode.particle_radius)
    area = float(electrode.surface_area_per_unit_volume)
    ocp = _curve(electrode.ocp, f"{key} / OCP [V]", texts, STOICHIOMETRY)
    entropic_key = f"{key} / Entropic change coefficient [V.K-1]"
    entropic = (
        None
        if electrode.dudt is None
        else _curve(electrode.dudt, entropic_key, texts, STOICHIOMETRY)
    )
    return ElectrodeParameters(
        thickness_m=float(electrode.thickness),
        porosity=eps,
        active_material_volume_fraction=area * radius / 3.0,
        particle_radius_m=radius,
        bruggeman_electrolyte=_bruggeman(eps, float(electrode.transport_efficiency), key),
        bruggeman_electrode=0.0,
        conductivity_S_m=float(electrode.conductivity),
        max_concentration_mol_m3=c_max,
        initial_concentration_mol_m3=sto_initial * c_max,
        particle_diffusivity=BPXFunction(
            _curve(electrode.diffusivity, f"{key} / Diffusivity [m2.s-1]", texts, STOICHIOMETRY),
            float(electrode.diffusivity_activation_energy or 0.0),
            reference_K,
            argument_scale=c_max,
            key=f"{key} / Diffusivity [m2.s-1]",
        ),
        reference_open_circuit_potential=ocp,
        entropic_change=entropic,
        # j0 = F k sqrt(c_e / c_e0) sqrt(x (1 - x)) = [F k / (sqrt(c_e0) c_max)]
        #      sqrt(c_e) sqrt(c_s) sqrt(c_max - c_s).
        # A size that is not positive is reported by _check_values with its key; until then
        # it divides as NaN rather than raising here.
        exchange_current_rate_constant=FARADAY
        * float(electrode.reaction_rate_constant)
        / (math.sqrt(_divisor(electrolyte_reference_mol_m3)) * _divisor(c_max)),
        exchange_current_activation_energy_J_mol=float(
            electrode.reaction_rate_constant_activation_energy or 0.0
        ),
        reference_temperature_K=reference_K,
        anodic_transfer_coefficient=transfer_coefficient,
        cathodic_transfer_coefficient=1.0 - transfer_coefficient,
        double_layer_capacity_F_m2=0.0,
    )


def _cell_parameters(
    model: Any, texts: dict[str, str], source: str, initial_state_of_charge: float | None
) -> CellParameters:
    """The conversion of a validated BPX model (see :func:`bpx_to_cell_parameters`)."""
    p = model.parameterisation
    cell = p.cell
    reference_K = float(cell.reference_temperature)
    initial = model.state.initial_conditions if model.state is not None else None
    environment = model.state.thermal_environment if model.state is not None else None
    soc = initial_state_of_charge
    if soc is None:
        soc = 1.0 if initial is None or initial.initial_soc is None else initial.initial_soc
    if not 0.0 <= soc <= 1.0:
        raise BPXError(f"{source}: initial state of charge {soc} is not in [0, 1]")
    c_e0 = 1000.0
    if initial is not None and initial.initial_electrolyte_concentration is not None:
        c_e0 = float(initial.initial_electrolyte_concentration)
    ambient_K = reference_K
    if environment is not None and environment.ambient_temperature is not None:
        ambient_K = float(environment.ambient_temperature)

    negative_bpx, positive_bpx = p.negative_electrode, p.positive_electrode
    sto_n = negative_bpx.minimum_stoichiometry + soc * (
        negative_bpx.maximum_stoichiometry - negative_bpx.minimum_stoichiometry
    )
    sto_p = positive_bpx.maximum_stoichiometry - soc * (
        positive_bpx.maximum_stoichiometry - positive_bpx.minimum_stoichiometry
    )
    user_defined = dict(p.user_defined.model_extra or {}) if p.user_defined else {}
    negative = _electrode(
        negative_bpx,
        "Negative electrode",
        sto_n,
        reference_K,
        c_e0,
        _transfer_coefficient(user_defined, "Negative electrode"),
        texts,
    )
    positive = _electrode(
        positive_bpx,
        "Positive electrode",
        sto_p,
        reference_K,
        c_e0,
        _transfer_coefficient(user_defined, "Positive electrode"),
        texts,
    )
    electrolyte_bpx = p.electrolyte
    key = "Parameterisation / Electrolyte"
    electrolyte = ElectrolyteParameters(
        initial_concentration_mol_m3=c_e0,
        diffusivity=BPXFunction(
            _curve(electrolyte_bpx.diffusivity, f"{key} / Diffusivity [m2.s-1]", texts),
            float(electrolyte_bpx.diffusivity_activation_energy or 0.0),
            reference_K,
            key=f"{key} / Diffusivity [m2.s-1]",
        ),
        conductivity=BPXFunction(
            _curve(electrolyte_bpx.conductivity, f"{key} / Conductivity [S.m-1]", texts),
            float(electrolyte_bpx.conductivity_activation_energy or 0.0),
            reference_K,
            key=f"{key} / Conductivity [S.m-1]",
        ),
        transference_number=_constant(float(electrolyte_bpx.cation_transference_number)),
        thermodynamic_factor=_constant(1.0),
    )
    separator = SeparatorParameters(
        thickness_m=float(p.separator.thickness),
        porosity=float(p.separator.porosity),
        bruggeman_electrolyte=_bruggeman(
            float(p.separator.porosity),
            float(p.separator.transport_efficiency),
            "Parameterisation / Separator",
        ),
    )
    header = model.header
    return CellParameters(
        thermal=_thermal(cell, environment, initial, user_defined),
        name=str(header.title or Path(source).stem),
        negative=negative,
        separator=separator,
        positive=positive,
        electrolyte=electrolyte,
        electrode_area_m2=float(cell.electrode_area) * float(cell.number_of_electrodes),
        nominal_capacity_Ah=float(cell.nominal_cell_capacity),
        lower_voltage_cutoff_V=float(cell.lower_voltage_cutoff),
        upper_voltage_cutoff_V=float(cell.upper_voltage_cutoff),
        ambient_temperature_K=ambient_K,
        reference_temperature_K=reference_K,
        citation=f"BPX file {Path(source).name}: {header.title}",
        stoichiometry_window=StoichiometryWindow(
            float(negative_bpx.minimum_stoichiometry),
            float(negative_bpx.maximum_stoichiometry),
            float(positive_bpx.maximum_stoichiometry),
            float(positive_bpx.minimum_stoichiometry),
        ),
    )


def _thermal(cell: Any, environment: Any, initial: Any, user_defined: dict) -> ThermalParameters:
    """The cell's thermal values as PyBaMM's BPX importer maps them.

    BPX gives one density, specific heat capacity and thermal conductivity for the whole cell:
    every layer gets them; the collectors are taken as 0 m thick (their mass is in the cell's
    density); "External surface area" is the cooling area, "Volume" the cell volume, the heat
    transfer coefficient and the initial temperature come from the file's state when given, the
    thermal conductivity (not a BPX field) from its "User-defined" section or the cell's.
    """
    values: dict[str, float] = {}
    layers = (
        "negative_current_collector",
        "negative_electrode",
        "separator",
        "positive_electrode",
        "positive_current_collector",
    )
    key = "Thermal conductivity [W.m-1.K-1]"
    conductivity = user_defined.get(key, (getattr(cell, "model_extra", None) or {}).get(key))
    for attribute, suffix in (
        (cell.density, "density_kg_m3"),
        (cell.specific_heat_capacity, "specific_heat_capacity_J_kg_K"),
        (conductivity, "thermal_conductivity_W_m_K"),
    ):
        if attribute is not None:
            values.update({f"{layer}_{suffix}": float(attribute) for layer in layers})
    values["negative_current_collector_thickness_m"] = 0.0
    values["positive_current_collector_thickness_m"] = 0.0
    if cell.external_surface_area is not None:
        values["cell_cooling_surface_area_m2"] = float(cell.external_surface_area)
    if cell.volume is not None:
        values["cell_volume_m3"] = float(cell.volume)
    if environment is not None and environment.heat_transfer_coefficient is not None:
        values["total_heat_transfer_coefficient_W_m2_K"] = float(
            environment.heat_transfer_coefficient
        )
    if initial is not None and initial.initial_temperature is not None:
        values["initial_temperature_K"] = float(initial.initial_temperature)
    return ThermalParameters(**values)
