"""Battery Parameter eXchange (BPX) JSON files read into :class:`CellParameters`.

BPX (Faraday Institution, https://github.com/FaradayInstitution/BPX) describes a DFN cell in SI
units. The file is validated by the ``bpx`` package (pydantic schema; legacy v0.x files are
converted to v1) and its validation errors are reported as ``BPXError`` naming each key. Values
then map onto the typed containers as follows (the conventions of the BPX standard, also used by
PyBaMM's importer):

* ``Transport efficiency`` eps^b gives the electrolyte Bruggeman exponent b = ln(TE) / ln(eps);
* ``Surface area per unit volume`` a_s gives the active volume fraction eps_s = a_s R / 3;
* electrode ``Conductivity`` is already effective (no Bruggeman correction, b_solid = 0);
* the exchange-current density is j0 = F k sqrt(c_e / c_e0) sqrt(x (1 - x)) with x = c_s / c_max,
  k the ``Reaction rate constant [mol.m-2.s-1]`` and c_e0 the initial electrolyte concentration,
  i.e. the law of :mod:`electrolyx.forms.exchange_current` with rate constant F k / (sqrt(c_e0)
  c_max); Butler-Volmer transfer coefficients alpha_a = alpha, alpha_c = 1 - alpha from PyBaMM's
  ``"Negative electrode charge transfer coefficient"`` (and positive) in the file's
  ``User-defined`` section, 0.5 when absent (BPX 1.x has no such key of its own);
* every transport property and rate constant carries an Arrhenius factor
  exp(E_a / R (1/T_ref - 1/T)) with the file's activation energy (0 when absent);
* U(x, T) = U(x) + (T - T_ref) dU/dT(x) with the ``Entropic change coefficient``;
* particle diffusivities are functions of the stoichiometry x, electrolyte properties of the
  concentration x = c_e [mol/m3];
* the electrode area times the number of electrode pairs in parallel is the cell's area;
* initial stoichiometries sit linearly in the window: x_n = x_n,min + SOC (x_n,max - x_n,min),
  x_p = x_p,max - SOC (x_p,max - x_p,min), SOC from the file's initial state (1 by default).

Functions given as strings become :class:`~electrolyx.parameters.expressions.SafeExpression`
(an AST whitelist, never ``eval``), tables become
:class:`~electrolyx.parameters.expressions.PiecewiseLinear`; both evaluate with numpy and UFL.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from electrolyx.constants import FARADAY
from electrolyx.forms.arrhenius import arrhenius_factor

from .base import CellParameters, ElectrodeParameters, ElectrolyteParameters, SeparatorParameters
from .expressions import ExpressionError, PiecewiseLinear, SafeExpression

__all__ = [
    "BPXError",
    "BPXFunction",
    "bpx_to_cell_parameters",
    "read_bpx",
]

STOICHIOMETRY = (0.0, 1.0)
"""Range of the stoichiometry x = c_s / c_s,max [-]."""

#: a material function of one argument: (x, mod) -> value
_Curve = Callable[[Any, Any], Any]


class BPXError(ValueError):
    """A BPX file that cannot be read, does not validate, or that electrolyx cannot use."""


def _curve(value: Any, key: str, domain: tuple[float, float] | None = None) -> _Curve:
    """A BPX FloatFunctionTable (number, expression string in x, or x/y table) as f(x, mod).

    ``domain``: range of x (stoichiometry: [0, 1]) over which a string's saturated tanh terms
    are evaluated in a well-conditioned form (see :class:`SafeExpression`).
    """
    from bpx import InterpolatedTable

    if isinstance(value, InterpolatedTable):
        table = PiecewiseLinear(value.x, value.y, key)
        return lambda x, mod: table(x, mod)
    if isinstance(value, str):
        expression = SafeExpression(str(value), ("x",), key, domain=domain)
        return lambda x, mod: expression(mod, x=x)
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


def _key_path(data: Any, loc: tuple, kind: str) -> str:
    """The JSON keys of a pydantic error location, without the union-member tags."""
    parts: list[str] = []
    node = data
    section = data.get("Parameterisation") if isinstance(data, dict) else None
    if loc and isinstance(section, dict) and loc[0] in section and loc[0] not in data:
        parts, node = ["Parameterisation"], section
    for part in loc:
        if isinstance(node, dict) and part in node:
            parts.append(str(part))
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            parts.append(str(part))
            node = node[part]
        else:
            if kind in ("missing", "extra_forbidden") or not parts:
                parts.append(str(part))
            break
    return " / ".join(parts)


def _validation_error(error: Any, data: Any, source: str) -> BPXError:
    """One BPXError listing every invalid key of a pydantic ValidationError."""
    messages: dict[str, list[str]] = {}
    for item in error.errors():
        kind = item["type"]
        path = _key_path(data, tuple(item["loc"]), kind)
        if kind == "missing":
            text = "required key is missing"
        elif kind == "extra_forbidden":
            text = "not a BPX key (check the spelling and the SI unit in brackets)"
        else:
            text = item["msg"]
        messages.setdefault(path, [])
        if text not in messages[path]:
            messages[path].append(text)
    lines = [f"  {path}: {' | '.join(texts)}" for path, texts in messages.items()]
    return BPXError(f"{source}: invalid BPX file:\n" + "\n".join(lines))


def _validate(data: Any, source: str):
    """The ``bpx`` package's validated model of ``data`` (a parsed JSON object)."""
    import bpx
    import pydantic

    if not isinstance(data, dict):
        raise BPXError(f"{source}: a BPX file holds a JSON object, not {type(data).__name__}")
    with warnings.catch_warnings():
        # v0.x example files are converted to the v1 schema, which bpx announces every time.
        warnings.filterwarnings("ignore", message="Detected a legacy BPX", category=UserWarning)
        try:
            return bpx.parse_bpx_obj(data)
        except pydantic.ValidationError as error:
            raise _validation_error(error, data, source) from None
        except (TypeError, ValueError, KeyError) as error:
            raise BPXError(f"{source}: invalid BPX file: {error}") from None


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
    ocp = _curve(electrode.ocp, f"{key} / OCP [V]", STOICHIOMETRY)
    entropic_key = f"{key} / Entropic change coefficient [V.K-1]"
    entropic = (
        None if electrode.dudt is None else _curve(electrode.dudt, entropic_key, STOICHIOMETRY)
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
            _curve(electrode.diffusivity, f"{key} / Diffusivity [m2.s-1]", STOICHIOMETRY),
            float(electrode.diffusivity_activation_energy or 0.0),
            reference_K,
            argument_scale=c_max,
            key=f"{key} / Diffusivity [m2.s-1]",
        ),
        reference_open_circuit_potential=ocp,
        entropic_change=entropic,
        # j0 = F k sqrt(c_e / c_e0) sqrt(x (1 - x)) = [F k / (sqrt(c_e0) c_max)]
        #      sqrt(c_e) sqrt(c_s) sqrt(c_max - c_s).
        exchange_current_rate_constant=FARADAY
        * float(electrode.reaction_rate_constant)
        / (math.sqrt(electrolyte_reference_mol_m3) * c_max),
        exchange_current_activation_energy_J_mol=float(
            electrode.reaction_rate_constant_activation_energy or 0.0
        ),
        reference_temperature_K=reference_K,
        anodic_transfer_coefficient=transfer_coefficient,
        cathodic_transfer_coefficient=1.0 - transfer_coefficient,
        double_layer_capacity_F_m2=0.0,
    )


def bpx_to_cell_parameters(
    data: dict[str, Any], source: str = "BPX", initial_state_of_charge: float | None = None
) -> CellParameters:
    """A cell parameter set from a parsed BPX JSON object.

    Args:
        data: The JSON object (``json.load`` of a BPX file).
        source: Name of the file, quoted in errors and in the citation.
        initial_state_of_charge: Initial SOC in [0, 1] (default: the file's initial state,
            1 for v0.x files).

    Raises:
        BPXError: naming the key, for a file that does not validate or an expression outside
            the whitelist.
    """
    model = _validate(data, source)
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

    try:
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
        )
        positive = _electrode(
            positive_bpx,
            "Positive electrode",
            sto_p,
            reference_K,
            c_e0,
            _transfer_coefficient(user_defined, "Positive electrode"),
        )
        electrolyte_bpx = p.electrolyte
        key = "Parameterisation / Electrolyte"
        electrolyte = ElectrolyteParameters(
            initial_concentration_mol_m3=c_e0,
            diffusivity=BPXFunction(
                _curve(electrolyte_bpx.diffusivity, f"{key} / Diffusivity [m2.s-1]"),
                float(electrolyte_bpx.diffusivity_activation_energy or 0.0),
                reference_K,
                key=f"{key} / Diffusivity [m2.s-1]",
            ),
            conductivity=BPXFunction(
                _curve(electrolyte_bpx.conductivity, f"{key} / Conductivity [S.m-1]"),
                float(electrolyte_bpx.conductivity_activation_energy or 0.0),
                reference_K,
                key=f"{key} / Conductivity [S.m-1]",
            ),
            transference_number=_constant(float(electrolyte_bpx.cation_transference_number)),
            thermodynamic_factor=_constant(1.0),
        )
    except ExpressionError as error:
        raise BPXError(f"{source}: {error}") from None
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
    )


def read_bpx(path: str | Path, initial_state_of_charge: float | None = None) -> CellParameters:
    """Read, validate and convert a BPX JSON file.

    Args:
        path: The ``.json`` file.
        initial_state_of_charge: Initial SOC in [0, 1] (default: the file's initial state).

    Raises:
        BPXError: naming the file and, for invalid content, every offending key.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        raise BPXError(f"{path}: cannot read the BPX file ({error.strerror})") from None
    except json.JSONDecodeError as error:
        raise BPXError(
            f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    return bpx_to_cell_parameters(data, str(path), initial_state_of_charge)
