"""Units read from the suffix of result column and field names.

Every column of ``timeseries.csv`` and every field of a result folder ends with its SI unit,
written with underscores: ``potential_V``, ``concentration_Li_mol_m3``, ``surface_charge_C_m2``.
This module splits such a name into the quantity and a typeset unit, so that every axis label and
scalar bar says what it shows and in which unit.
"""

from __future__ import annotations

import math

__all__ = [
    "UNIT_SUFFIXES",
    "axis_label",
    "length_scale",
    "quantity_name",
    "split_unit",
    "unit_of",
]

# Unit suffix (underscore-separated tokens) -> unit as printed on an axis. Longer suffixes are
# tried first, so that ``_mol_m3`` wins over ``_m3`` and ``_A_m2`` over ``_m2``.
UNIT_SUFFIXES: dict[str, str] = {
    "mol_m2_s": "mol/(m²·s)",
    "mol_m3_s": "mol/(m³·s)",
    "Ah_m2": "A·h/m²",
    "A_m2": "A/m²",
    "A_m3": "A/m³",
    "C_m2": "C/m²",
    "C_m3": "C/m³",
    "F_m2": "F/m²",
    "J_mol": "J/mol",
    "S_m": "S/m",
    "m2_s": "m²/s",
    "m_s": "m/s",
    "mol_m3": "mol/m³",
    "mol_m2": "mol/m²",
    "mol_kg": "mol/kg",
    "W_m2": "W/m²",
    "W_m3": "W/m³",
    "V_s": "V/s",
    "Ohm_m2": "Ω·m²",
    "Ohm_m": "Ω·m",
    "Ah": "A·h",
    "Wh": "W·h",
    "Ohm": "Ω",
    "mol": "mol",
    "Pa": "Pa",
    "Hz": "Hz",
    "kg": "kg",
    "m3": "m³",
    "m2": "m²",
    "m": "m",
    "s": "s",
    "h": "h",
    "V": "V",
    "A": "A",
    "C": "C",
    "F": "F",
    "S": "S",
    "K": "K",
    "W": "W",
    "J": "J",
    "1": "1",
    "percent": "%",
}

_SUFFIXES_LONGEST_FIRST = sorted(UNIT_SUFFIXES, key=lambda s: (-s.count("_"), -len(s)))

# SI prefixes for lengths, largest first: (threshold in m, factor to multiply by, unit).
# Lengths from half a unit up are shown in that unit (0.6 m, 400 mm, 30 nm, 0.6 µm).
_LENGTH_PREFIXES = (
    (0.5, 1.0, "m"),
    (0.5e-3, 1e3, "mm"),
    (0.5e-6, 1e6, "µm"),
    (0.5e-9, 1e9, "nm"),
    (0.0, 1e12, "pm"),
)


def split_unit(name: str) -> tuple[str, str]:
    """Split a result name into the quantity and its SI unit suffix.

    Args:
        name: Column or field name such as ``concentration_Li_mol_m3``.

    Returns:
        ``(quantity, suffix)``, e.g. ``("concentration_Li", "mol_m3")``; the suffix is ``""``
        when the name carries no known unit.
    """
    for suffix in _SUFFIXES_LONGEST_FIRST:
        tail = "_" + suffix
        if name.endswith(tail) and len(name) > len(tail):
            return name[: -len(tail)], suffix
    return name, ""


def unit_of(name: str) -> str:
    """Typeset unit of a result name (``"mol/m³"`` for ``c_mol_m3``), ``""`` when unknown."""
    return UNIT_SUFFIXES.get(split_unit(name)[1], "")


def quantity_name(name: str) -> str:
    """Readable quantity of a result name: ``concentration_Li_mol_m3`` -> ``concentration Li``."""
    return split_unit(name)[0].replace("_", " ")


def axis_label(name: str, unit: str | None = None) -> str:
    """Axis or colour-bar label ``"quantity (unit)"`` for a result name.

    Args:
        name: Column or field name with its unit suffix.
        unit: Unit text to print instead of the one parsed from the name (used when values were
            rescaled, e.g. lengths in nm).

    Returns:
        Label such as ``"potential (V)"``; names without a known unit keep no brackets.
    """
    shown = unit_of(name) if unit is None else unit
    quantity = quantity_name(name)
    if not shown or shown == "1":
        return quantity
    return f"{quantity} ({shown})"


def length_scale(max_length_m: float) -> tuple[float, str]:
    """Factor and unit to show lengths up to ``max_length_m`` with readable tick labels.

    Args:
        max_length_m: Largest absolute length to be shown, in metres.

    Returns:
        ``(factor, unit)``: multiply metres by ``factor`` to get values in ``unit``
        (``(1e9, "nm")`` for a 30 nm double layer).
    """
    if not math.isfinite(max_length_m) or max_length_m <= 0.0:
        return 1.0, "m"
    for threshold, factor, unit in _LENGTH_PREFIXES:
        if max_length_m >= threshold:
            return factor, unit
    return _LENGTH_PREFIXES[-1][1], _LENGTH_PREFIXES[-1][2]
