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

No string of the file ever reaches the ``bpx`` package: its validators turn function strings into
Python source and execute it (``Function.to_python_function``, called by its voltage-window
check, also leaves a temporary ``.py`` file per call). Before validation every string outside
``Header`` and the free-text ``Description`` entries is set aside and replaced by a constant
two-point table, which ``bpx`` accepts wherever a function is allowed and refuses where a number is
required; the texts are then read by :class:`SafeExpression` only. The file is read as strict
UTF-8 JSON of at most :data:`MAX_FILE_BYTES` bytes and :data:`MAX_NESTING` levels, without
NaN or Infinity; every function must give finite values over the electrode's stoichiometry
window (electrolyte functions: from 0.1 to 2 times the initial concentration).
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

from .base import (
    CellParameters,
    ElectrodeParameters,
    ElectrolyteParameters,
    SeparatorParameters,
    StoichiometryWindow,
)
from .expressions import ExpressionError, PiecewiseLinear, SafeExpression
from .thermal import ThermalParameters

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_NESTING",
    "BPXError",
    "BPXFunction",
    "bpx_to_cell_parameters",
    "read_bpx",
]

STOICHIOMETRY = (0.0, 1.0)
"""Range of the stoichiometry x = c_s / c_s,max [-]."""

#: a material function of one argument: (x, mod) -> value
_Curve = Callable[[Any, Any], Any]

MAX_FILE_BYTES = 16 * 1024 * 1024
"""Largest BPX file read [bytes] (the example files: 3 to 5 kB)."""

MAX_NESTING = 32
"""Deepest nesting of JSON objects and arrays accepted (BPX files: 5 levels)."""

#: keys whose strings are free text, never a function
_FREE_TEXT_KEYS = frozenset({"Description", "description"})


def _placeholder_table() -> dict[str, list[float]]:
    """What ``bpx`` validates in place of a function string: the constant 1 as a table."""
    return {"x": [0.0, 1.0], "y": [1.0, 1.0]}


class BPXError(ValueError):
    """A BPX file that cannot be read, does not validate, or that electrolyx cannot use."""


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


def _without_strings(
    node: Any, path: list[str], texts: dict[str, str], source: str, depth: int = 0
) -> Any:
    """A copy of a parsed BPX object whose function strings are placeholder tables.

    Strings under ``Header`` and ``Description`` entries stay; every other string goes into
    ``texts`` under its key path ("Parameterisation / Negative electrode / OCP [V]").

    Raises:
        BPXError: for nesting deeper than MAX_NESTING, integers beyond floats, NaN or inf.
    """
    where = " / ".join(path) or "top level"
    if depth > MAX_NESTING:
        raise BPXError(f"{source}: {where}: nested more than {MAX_NESTING} levels deep")
    if isinstance(node, dict):
        return {
            key: _without_strings(value, [*path, str(key)], texts, source, depth + 1)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [
            _without_strings(value, [*path, str(index)], texts, source, depth + 1)
            for index, value in enumerate(node)
        ]
    if isinstance(node, str):
        if not path or path[0] == "Header" or path[-1] in _FREE_TEXT_KEYS:
            return node
        texts[where] = node
        return _placeholder_table()
    if isinstance(node, int) and not isinstance(node, bool):
        if abs(node) > 2**1023:
            raise BPXError(
                f"{source}: {where}: an integer of {len(str(abs(node)))} digits "
                "is too large for a number (at most 1.8e308)"
            )
    elif isinstance(node, float) and not math.isfinite(node):
        raise BPXError(f"{source}: {where} = {node}: expected a finite number")
    return node


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


def _validate(data: Any, source: str) -> tuple[Any, dict[str, str]]:
    """The ``bpx`` package's validated model of ``data`` and the function strings by key.

    ``bpx`` validates a copy of ``data`` whose function strings are placeholder tables (see
    :func:`_without_strings`): none of its validators sees, parses or executes a string of the
    file. The strings are then parsed here by :class:`SafeExpression`.

    Raises:
        BPXError: naming every invalid key.
    """
    import bpx
    import pydantic

    if not isinstance(data, dict):
        raise BPXError(f"{source}: a BPX file holds a JSON object, not {type(data).__name__}")
    texts: dict[str, str] = {}
    harmless = _without_strings(data, [], texts, source)
    with warnings.catch_warnings():
        # v0.x example files are converted to the v1 schema, which bpx announces every time.
        warnings.filterwarnings("ignore", message="Detected a legacy BPX", category=UserWarning)
        try:
            model = bpx.parse_bpx_obj(harmless)
        except pydantic.ValidationError as error:
            raise _validation_error(error, harmless, source) from None
        except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as error:
            raise BPXError(f"{source}: invalid BPX file: {error}") from None
    problems = []
    for key, text in texts.items():
        if "User-defined" in key.split(" / "):
            continue  # never used by electrolyx, never parsed
        try:
            SafeExpression(text, ("x",), key)
        except ExpressionError as error:
            problems.append(f"  {error}")
    if problems:
        raise BPXError(f"{source}: invalid BPX file:\n" + "\n".join(problems))
    return model, texts


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
    model, texts = _validate(data, source)
    try:
        cell_parameters = _cell_parameters(model, texts, source, initial_state_of_charge)
    except ExpressionError as error:
        raise BPXError(f"{source}: {error}") from None
    except (AttributeError, TypeError) as error:
        # An SPM or partial parameterisation validates but lacks what a DFN cell needs.
        raise BPXError(
            f"{source}: not a full DFN parameterisation (Cell, Electrolyte, Negative electrode, "
            f"Positive electrode and Separator with their transport properties): {error}"
        ) from None
    _check_values(cell_parameters, model.parameterisation, source)
    return cell_parameters


def _positive_numbers(source: str, values: dict[str, float]) -> list[str]:
    """Problems of the values that must be finite and positive, by key."""
    return [
        f"  {key} = {value!r}: expected a positive number"
        for key, value in values.items()
        if not (math.isfinite(value) and value > 0.0)
    ]


def _check_values(cell: CellParameters, p: Any, source: str) -> None:
    """Refuse sizes that are not positive and functions that are not finite where used.

    First the numbers: sizes, concentrations, temperatures and the cell's capacity must be
    positive, the cut-offs ordered, each stoichiometry window inside [0, 1]. Then every function
    is evaluated on 101 points: electrode functions over the stoichiometry window, electrolyte
    functions from 0.1 to 2 times the initial concentration; they must be finite there, and
    diffusivities and conductivities positive at the initial state.

    Raises:
        BPXError: naming each offending key, its value and what is allowed.
    """
    key = "Parameterisation"
    numbers = {
        f"{key} / Cell / Electrode area [m2]": cell.electrode_area_m2,
        f"{key} / Cell / Nominal cell capacity [A.h]": cell.nominal_capacity_Ah,
        f"{key} / Cell / Reference temperature [K]": cell.reference_temperature_K,
        f"{key} / Separator / Thickness [m]": cell.separator.thickness_m,
        "State / Initial conditions / Initial electrolyte concentration [mol.m-3]": (
            cell.electrolyte.initial_concentration_mol_m3
        ),
        "State / Thermal environment / Ambient temperature [K]": cell.ambient_temperature_K,
    }
    electrodes = (
        ("Negative electrode", cell.negative, p.negative_electrode),
        ("Positive electrode", cell.positive, p.positive_electrode),
    )
    problems = []
    if not cell.lower_voltage_cutoff_V < cell.upper_voltage_cutoff_V:
        problems.append(
            f"  {key} / Cell / Lower voltage cut-off [V] = {cell.lower_voltage_cutoff_V!r}: must "
            f"be below the upper cut-off ({cell.upper_voltage_cutoff_V!r} V)"
        )
    windows = {}
    for name, electrode, raw in electrodes:
        where = f"{key} / {name}"
        numbers.update(
            {
                f"{where} / Thickness [m]": electrode.thickness_m,
                f"{where} / Particle radius [m]": electrode.particle_radius_m,
                f"{where} / Maximum concentration [mol.m-3]": electrode.max_concentration_mol_m3,
                f"{where} / Conductivity [S.m-1]": electrode.conductivity_S_m,
                f"{where} / Surface area per unit volume [m-1]": float(
                    raw.surface_area_per_unit_volume
                ),
            }
        )
        low, high = float(raw.minimum_stoichiometry), float(raw.maximum_stoichiometry)
        if not 0.0 <= low < high <= 1.0:
            problems.append(
                f"  {where} / Minimum stoichiometry = {low!r}, Maximum stoichiometry = {high!r}: "
                "need 0 <= minimum < maximum <= 1"
            )
        windows[name] = np.linspace(low, high, 101)
    problems = _positive_numbers(source, numbers) + problems
    if problems:  # the functions below divide by these numbers
        raise BPXError(f"{source}: invalid BPX file:\n" + "\n".join(problems))

    for name, electrode, _ in electrodes:
        where = f"{key} / {name}"
        x = windows[name]
        c_max = electrode.max_concentration_mol_m3
        functions = {
            f"{where} / OCP [V]": lambda x=x, e=electrode: e.reference_open_circuit_potential(
                x, np
            ),
            f"{where} / Diffusivity [m2.s-1]": (
                lambda x=x, e=electrode, c=c_max: e.particle_diffusivity(x * c)
            ),
        }
        if electrode.entropic_change is not None:
            functions[f"{where} / Entropic change coefficient [V.K-1]"] = lambda x=x, e=electrode: (
                e.entropic_change(x, np)
            )
        problems += _finite_values(functions, "x", x)
        initial = _evaluate(
            lambda e=electrode: e.particle_diffusivity(e.initial_concentration_mol_m3), 1
        )
        if np.all(np.isfinite(initial)) and not np.all(initial > 0.0):
            problems.append(
                f"  {where} / Diffusivity [m2.s-1] = {float(initial[0])!r} at the initial "
                "stoichiometry: expected a positive number"
            )
    c_e = np.linspace(0.1, 2.0, 101) * cell.electrolyte.initial_concentration_mol_m3
    where = f"{key} / Electrolyte"
    electrolyte = cell.electrolyte
    problems += _finite_values(
        {
            f"{where} / Diffusivity [m2.s-1]": lambda: electrolyte.diffusivity(c_e),
            f"{where} / Conductivity [S.m-1]": lambda: electrolyte.conductivity(c_e),
        },
        "c_e [mol.m-3]",
        c_e,
    )
    for name, label in (
        ("diffusivity", "Diffusivity [m2.s-1]"),
        ("conductivity", "Conductivity [S.m-1]"),
    ):
        function = getattr(electrolyte, name)
        value = _evaluate(lambda f=function: f(electrolyte.initial_concentration_mol_m3), 1)
        if np.all(np.isfinite(value)) and not np.all(value > 0.0):
            problems.append(
                f"  {where} / {label} = {float(value[0])!r} at the initial concentration: "
                "expected a positive number"
            )
    if problems:
        raise BPXError(f"{source}: invalid BPX file:\n" + "\n".join(problems))


def _evaluate(function: Callable[[], Any], size: int) -> np.ndarray:
    """``function()`` as ``size`` floats; NaN where the arithmetic fails (1/0 of Python floats)."""
    with np.errstate(all="ignore"):
        try:
            values = np.asarray(function(), dtype=float)
        except (ZeroDivisionError, OverflowError, ValueError, FloatingPointError, TypeError):
            return np.full(size, np.nan)
    if values.size not in (1, size):
        return np.full(size, np.nan)
    return np.broadcast_to(values.reshape(-1), (size,))


def _finite_values(functions: dict[str, Callable[[], Any]], name: str, grid) -> list[str]:
    """Problems of the functions that are not finite on ``grid`` (the first point shown)."""
    problems = []
    for key, function in functions.items():
        values = _evaluate(function, grid.size)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            i = bad[0]
            problems.append(
                f"  {key}: {float(values[i])!r} at {name} = {grid[i]:.6g} (expected finite values "
                f"for {name} from {grid[0]:.6g} to {grid[-1]:.6g}: a division by zero or an "
                "overflow there)"
            )
    return problems


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
        with open(path, "rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise BPXError(f"{path}: cannot read the BPX file ({error.strerror})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise BPXError(f"{path}: larger than {MAX_FILE_BYTES} bytes, too large for a BPX file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BPXError(
            f"{path}: not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start}); "
            "a BPX file is UTF-8 JSON"
        ) from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise BPXError(
            f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except RecursionError:
        raise BPXError(f"{path}: nested more than {MAX_NESTING} levels deep") from None
    except ValueError as error:  # NaN/Infinity, or an integer of more than 4300 digits
        raise BPXError(f"{path}: not valid BPX JSON: {error}") from None
    return bpx_to_cell_parameters(data, str(path), initial_state_of_charge)


def _refuse_constant(name: str) -> float:
    """``json.loads`` hook: NaN, Infinity and -Infinity are not numbers of a parameter file."""
    raise ValueError(f"{name} is not allowed (parameters are finite numbers)")
