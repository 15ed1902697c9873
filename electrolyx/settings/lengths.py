"""Lengths of a PNP case in the unit its physics sets: the Debye length, ``"100 lambda_D"``.

A double layer is resolved, a gap sized and a wall refined in multiples of the bulk Debye length
lambda_D = sqrt(eps V_T / (F sum_k z_k^2 c_k)) (:func:`electrolyx.forms.debye_length`, the
same expression the model scales with). A case may give any length of ``[mesh]`` and any
coordinate of ``[[output.profiles]]``, ``[[output.probes]]`` and ``[output.conductance]`` as text
``"<number> lambda_D"``; it is turned into metres from the case's own ``[electrolyte]`` and
``[[species]]`` before the settings are validated, so run.json and every later step see metres.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..constants import FARADAY, VACUUM_PERMITTIVITY
from ..constants import thermal_voltage as thermal_voltage_at

__all__ = ["DEBYE_LENGTH_UNITS", "resolve_debye_lengths"]

#: How a case may write the unit (case-insensitive).
DEBYE_LENGTH_UNITS = ("lambda_d", "debye_length", "debye_lengths")

_LENGTH_TEXT = re.compile(
    r"\s*(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<unit>[A-Za-z_]+)\s*"
)


def _bulk_debye_length(data: dict[str, Any]) -> float | None:
    """lambda_D of the raw case document, or None where its values are not yet valid."""
    from ..forms import debye_length  # (UFL: imported only when a case uses the unit)

    try:
        electrolyte = data.get("electrolyte", {})
        temperature = float(electrolyte.get("temperature", 298.15))
        relative_permittivity = float(electrolyte.get("relative_permittivity", 78.5))
        c_ref = sum(
            int(s["charge_number"]) ** 2 * float(s["bulk_concentration"]) for s in data["species"]
        )
        if not (temperature > 0 and relative_permittivity > 0 and c_ref > 0):
            return None
        value = debye_length(
            VACUUM_PERMITTIVITY * relative_permittivity,
            thermal_voltage_at(temperature),
            c_ref,
            FARADAY,
            mod=math,
        )
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def _convert(value: Any, scale: float) -> Any:
    """Text in Debye lengths -> metres; lists element-wise; anything else unchanged."""
    if isinstance(value, list):
        return [_convert(v, scale) for v in value]
    if isinstance(value, str):
        match = _LENGTH_TEXT.fullmatch(value)
        if match and match["unit"].lower() in DEBYE_LENGTH_UNITS:
            return float(match["number"]) * scale
    return value


def _mentions_unit(value: Any) -> bool:
    """Whether a Debye-length unit appears in any text of the document."""
    if isinstance(value, str):
        return any(unit in value.lower() for unit in DEBYE_LENGTH_UNITS)
    if isinstance(value, dict):
        return any(_mentions_unit(v) for v in value.values())
    if isinstance(value, list):
        return any(_mentions_unit(v) for v in value)
    return False


def resolve_debye_lengths(data: Any) -> Any:
    """The case document with lengths given in Debye lengths turned into metres.

    Looks at the values of ``[mesh]``, of each ``[[output.profiles]]`` and ``[[output.probes]]``
    entry and of ``[output.conductance]``; leaves the document as it is where lambda_D cannot be
    computed yet (the validation then reports the species or electrolyte values).
    """
    if not isinstance(data, dict) or not _mentions_unit(data):
        return data
    scale = _bulk_debye_length(data)
    if scale is None:
        return data
    data = dict(data)
    if isinstance(data.get("mesh"), dict):
        data["mesh"] = {key: _convert(v, scale) for key, v in data["mesh"].items()}
    output = data.get("output")
    if isinstance(output, dict):
        output = dict(output)
        for name in ("profiles", "probes"):
            if isinstance(output.get(name), list):
                output[name] = [
                    {key: _convert(v, scale) for key, v in entry.items()}
                    if isinstance(entry, dict)
                    else entry
                    for entry in output[name]
                ]
        if isinstance(output.get("conductance"), dict):
            output["conductance"] = {
                key: _convert(v, scale) for key, v in output["conductance"].items()
            }
        data["output"] = output
    return data
