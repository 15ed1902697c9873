"""Any parameter of a cell by its PyBaMM/BPX name: list them, override them.

A case's ``[parameters.values]`` table sets values of the chosen set by the names battery
modellers know from PyBaMM and BPX (``"Negative particle diffusivity [m2.s-1]" = 4e-14``). A
number replaces a value, or a function by a constant; a string is an expression in the safe
expression language of BPX files (:mod:`electrolyx.parameters.expressions`, never ``eval``) in

* ``x``, the stoichiometry c_s / c_s,max, and ``T`` [K] for the functions of an electrode's
  particles (diffusivity, open-circuit potential and its entropic change, volume change);
* ``x``, the salt concentration c_e [mol/m3], and ``T`` [K] for the electrolyte's functions.

:func:`parameter_names` lists every name of a set with its value (``electrolyx check``).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .base import CellParameters
from .degradation import DEGRADATION_NAMES
from .expressions import ExpressionError, SafeExpression
from .thermal import thermal_parameter_names

__all__ = [
    "PARAMETER_NAMES",
    "ParameterName",
    "cracking_parameter_names",
    "mechanical_parameter_names",
    "parameter_names",
    "with_values",
]


@dataclass(frozen=True)
class ParameterName:
    """Where a named parameter lives in :class:`CellParameters` and what it is.

    Attributes:
        component: ``"negative"``, ``"separator"``, ``"positive"``, ``"electrolyte"``,
            ``"degradation"`` (plating and SEI), ``"thermal"``
            (:class:`electrolyx.parameters.thermal.ThermalParameters`) or ``"cell"`` (the cell's
            own fields).
        field: Attribute of the component.
        kind: ``"number"``, ``"particle function"`` (of x = c_s / c_s,max and T),
            ``"ocp function"`` (of x; also the volume change), ``"electrolyte function"`` (of
            x = c_e and T),
            ``"transfer coefficient"`` (alpha_a = alpha, alpha_c = 1 - alpha) or ``"count"``
            (a whole number >= 1).
    """

    component: str
    field: str
    kind: str = "number"


def _electrode_names(side: str) -> dict[str, ParameterName]:
    title = side.capitalize()
    return {
        f"{title} electrode thickness [m]": ParameterName(side, "thickness_m"),
        f"{title} electrode porosity": ParameterName(side, "porosity"),
        f"{title} electrode active material volume fraction": ParameterName(
            side, "active_material_volume_fraction"
        ),
        f"{title} particle radius [m]": ParameterName(side, "particle_radius_m"),
        f"{title} electrode Bruggeman coefficient (electrolyte)": ParameterName(
            side, "bruggeman_electrolyte"
        ),
        f"{title} electrode Bruggeman coefficient (electrode)": ParameterName(
            side, "bruggeman_electrode"
        ),
        f"{title} electrode conductivity [S.m-1]": ParameterName(side, "conductivity_S_m"),
        f"Maximum concentration in {side} electrode [mol.m-3]": ParameterName(
            side, "max_concentration_mol_m3"
        ),
        f"Initial concentration in {side} electrode [mol.m-3]": ParameterName(
            side, "initial_concentration_mol_m3"
        ),
        f"{title} particle diffusivity [m2.s-1]": ParameterName(
            side, "particle_diffusivity", "particle function"
        ),
        f"{title} electrode OCP [V]": ParameterName(
            side, "reference_open_circuit_potential", "ocp function"
        ),
        f"{title} electrode OCP entropic change [V.K-1]": ParameterName(
            side, "entropic_change", "ocp function"
        ),
        f"{title} electrode exchange-current rate constant [A.m-2.m4.5.mol-1.5]": (
            ParameterName(side, "exchange_current_rate_constant")
        ),
        f"{title} electrode reaction rate constant activation energy [J.mol-1]": (
            ParameterName(side, "exchange_current_activation_energy_J_mol")
        ),
        f"{title} electrode charge transfer coefficient": ParameterName(
            side, "anodic_transfer_coefficient", "transfer coefficient"
        ),
        f"{title} electrode double-layer capacity [F.m-2]": ParameterName(
            side, "double_layer_capacity_F_m2"
        ),
        **mechanical_parameter_names(side),
        **cracking_parameter_names(side),
        f"{title} electrode activation energy for cracking rate [J.mol-1]": ParameterName(
            side, "cracking_activation_energy_J_mol"
        ),
    }


def mechanical_parameter_names(side: str) -> dict[str, ParameterName]:
    """The particle-mechanics parameters of an electrode by their PyBaMM names."""
    title = side.capitalize()
    return {
        f"{title} electrode Young's modulus [Pa]": ParameterName(side, "youngs_modulus_Pa"),
        f"{title} electrode Poisson's ratio": ParameterName(side, "poissons_ratio"),
        f"{title} electrode partial molar volume [m3.mol-1]": ParameterName(
            side, "partial_molar_volume_m3_mol"
        ),
        f"{title} electrode reference concentration for free of deformation [mol.m-3]": (
            ParameterName(side, "reference_concentration_mol_m3")
        ),
        f"{title} electrode volume change": ParameterName(side, "volume_change", "ocp function"),
    }


def cracking_parameter_names(side: str) -> dict[str, ParameterName]:
    """The particle-cracking parameters of an electrode by their PyBaMM names.

    The cracking rate is a number here (k_cr at the reference temperature, per hour; PyBaMM's
    is a function of T), its temperature dependence the activation energy.
    """
    title = side.capitalize()
    return {
        f"{title} electrode initial crack length [m]": ParameterName(
            side, "initial_crack_length_m"
        ),
        f"{title} electrode initial crack width [m]": ParameterName(side, "crack_width_m"),
        f"{title} electrode number of cracks per unit area [m-2]": ParameterName(
            side, "cracks_per_area_1_m2"
        ),
        f"{title} electrode Paris' law constant b": ParameterName(side, "paris_law_b"),
        f"{title} electrode Paris' law constant m": ParameterName(side, "paris_law_m"),
        f"{title} electrode cracking rate": ParameterName(side, "cracking_rate"),
    }


#: Allowed values of the parameters with a range: field -> (test, what is allowed).
_RANGES: dict[str, tuple[Callable[[float], bool], str]] = {
    "youngs_modulus_Pa": (lambda value: value > 0.0, "allowed > 0"),
    "poissons_ratio": (lambda value: -1.0 < value < 0.5, "allowed -1 < nu < 0.5"),
    "ambient_temperature_K": (lambda value: value > 0.0, "allowed > 0 K"),
    "total_heat_transfer_coefficient_W_m2_K": (lambda value: value >= 0.0, "allowed >= 0"),
    **{
        field: (lambda value: value > 0.0, "allowed > 0")
        for field in thermal_parameter_names().values()
        if field != "total_heat_transfer_coefficient_W_m2_K" and not field.endswith("thickness_m")
    },
    # A collector 0 m thick (BPX: its mass is in the cell's density) has no heat capacity.
    "negative_current_collector_thickness_m": (lambda value: value >= 0.0, "allowed >= 0"),
    "positive_current_collector_thickness_m": (lambda value: value >= 0.0, "allowed >= 0"),
    "initial_crack_length_m": (lambda value: value > 0.0, "allowed > 0"),
    "crack_width_m": (lambda value: value >= 0.0, "allowed >= 0"),
    "cracks_per_area_1_m2": (lambda value: value >= 0.0, "allowed >= 0"),
    "paris_law_m": (lambda value: value > 0.0, "allowed > 0"),
    "cracking_rate": (lambda value: value >= 0.0, "allowed >= 0"),
}


#: name -> where it lives, for every parameter that can be set by name
PARAMETER_NAMES: dict[str, ParameterName] = {
    **_electrode_names("negative"),
    "Separator thickness [m]": ParameterName("separator", "thickness_m"),
    "Separator porosity": ParameterName("separator", "porosity"),
    "Separator Bruggeman coefficient (electrolyte)": ParameterName(
        "separator", "bruggeman_electrolyte"
    ),
    **_electrode_names("positive"),
    "Initial concentration in electrolyte [mol.m-3]": ParameterName(
        "electrolyte", "initial_concentration_mol_m3"
    ),
    "Electrolyte diffusivity [m2.s-1]": ParameterName(
        "electrolyte", "diffusivity", "electrolyte function"
    ),
    "Electrolyte conductivity [S.m-1]": ParameterName(
        "electrolyte", "conductivity", "electrolyte function"
    ),
    "Cation transference number": ParameterName(
        "electrolyte", "transference_number", "electrolyte function"
    ),
    "Thermodynamic factor": ParameterName(
        "electrolyte", "thermodynamic_factor", "electrolyte function"
    ),
    "Electrode area [m2]": ParameterName("cell", "electrode_area_m2"),
    "Nominal cell capacity [A.h]": ParameterName("cell", "nominal_capacity_Ah"),
    "Lower voltage cut-off [V]": ParameterName("cell", "lower_voltage_cutoff_V"),
    "Upper voltage cut-off [V]": ParameterName("cell", "upper_voltage_cutoff_V"),
    "Ambient temperature [K]": ParameterName("cell", "ambient_temperature_K"),
    # Lithium plating and SEI of the negative electrode (sets with degradation: OKane2022).
    **{name: ParameterName("degradation", field) for name, field in DEGRADATION_NAMES.items()},
    **{name: ParameterName("thermal", field) for name, field in thermal_parameter_names().items()},
    "Number of electrodes connected in parallel to make a cell": ParameterName(
        "cell", "electrodes_in_parallel", "count"
    ),
}


def _component(cell: CellParameters, name: str) -> Any:
    return cell if name == "cell" else getattr(cell, name)


def parameter_names(cell: CellParameters) -> dict[str, Any]:
    """Every name of :data:`PARAMETER_NAMES` with the set's value (functions as "function")."""
    result: dict[str, Any] = {}
    for name, where in PARAMETER_NAMES.items():
        if (
            where.component in ("negative", "positive", "degradation")
            and _component(cell, where.component) is None
        ):
            continue
        value = getattr(_component(cell, where.component), where.field)
        result[name] = value if isinstance(value, int | float) or value is None else "function"
    return result


def _function(
    name: str, where: ParameterName, value: Any, c_max: float | None, reference_K: float
) -> Callable:
    """The material function a number or an expression string stands for."""
    if isinstance(value, str):
        variables = ("x",) if where.kind == "ocp function" else ("x", "T")
        expression = SafeExpression(value, variables, f"parameters.values.{name!r}")
    else:
        number = float(value)
        expression = None

    if where.kind == "ocp function":

        def ocp(stoichiometry, mod=np):
            if expression is None:
                return number + 0.0 * stoichiometry
            return expression(mod, x=stoichiometry)

        return ocp

    def material(argument, temperature_K=reference_K, mod=np):
        x = argument / c_max if where.kind == "particle function" else argument
        if expression is None:
            return number + 0.0 * argument
        return expression(mod, x=x, T=temperature_K)

    return material


def with_values(cell: CellParameters, values: Mapping[str, Any]) -> CellParameters:
    """A copy of ``cell`` with the named values set.

    Raises:
        ValueError: naming the parameter, for an unknown name (with the closest names), a
            value of the wrong type, or an expression outside the safe language.
    """
    changes: dict[str, dict[str, Any]] = {}

    def numbers_first(item: tuple[str, Any]) -> bool:
        # Functions of x = c_s / c_s,max use the final c_s,max, set by name or not.
        where = PARAMETER_NAMES.get(item[0])
        return where is not None and where.kind != "number"

    for name, value in sorted(values.items(), key=numbers_first):
        where = PARAMETER_NAMES.get(name)
        if where is None:
            close = difflib.get_close_matches(name, list(PARAMETER_NAMES), n=3, cutoff=0.5)
            hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
            raise ValueError(
                f"parameters.values: {name!r} is not a parameter name{hint}; "
                "`electrolyx check` lists them all"
            )
        component = _component(cell, where.component)
        if component is None:
            hint = (
                " parameters (set = 'OKane2022' has them)"
                if where.component == "degradation"
                else ""
            )
            raise ValueError(
                f"parameters.values.{name!r}: this cell has no {where.component}{hint}"
            )
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if is_number and not math.isfinite(float(value)):
            raise ValueError(f"parameters.values.{name!r} = {value!r}: a finite number is needed")
        if where.kind in ("number", "transfer coefficient") and not is_number:
            raise ValueError(f"parameters.values.{name!r} = {value!r}: allowed a number")
        if where.kind == "count":
            if not (is_number and float(value) >= 1.0 and float(value).is_integer()):
                raise ValueError(
                    f"parameters.values.{name!r} = {value!r}: allowed a whole number >= 1"
                )
            changes.setdefault(where.component, {})[where.field] = int(value)
            continue
        if not (is_number or isinstance(value, str)):
            raise ValueError(
                f"parameters.values.{name!r} = {value!r}: allowed a number or an expression "
                "string in x (and T)"
            )
        fields = changes.setdefault(where.component, {})
        if where.kind == "number":
            test, allowed = _RANGES.get(where.field, (lambda _: True, ""))
            if not test(float(value)):
                raise ValueError(f"parameters.values.{name!r} = {value!r}: {allowed}")
            fields[where.field] = float(value)
        elif where.kind == "transfer coefficient":
            if not 0.0 < value < 1.0:
                raise ValueError(f"parameters.values.{name!r} = {value!r}: allowed 0 < alpha < 1")
            fields["anodic_transfer_coefficient"] = float(value)
            fields["cathodic_transfer_coefficient"] = 1.0 - float(value)
        else:
            c_max = fields.get(
                "max_concentration_mol_m3", getattr(component, "max_concentration_mol_m3", None)
            )
            try:
                fields[where.field] = _function(
                    name, where, value, c_max, cell.reference_temperature_K
                )
            except ExpressionError as error:
                raise ValueError(str(error)) from None
    cell_fields = changes.pop("cell", {})
    components = {key: replace(_component(cell, key), **fields) for key, fields in changes.items()}
    return replace(cell, **components, **cell_fields)
