"""Settings fields in words: type, allowed range or choices, unit and default.

The same sentences appear in error messages ("expected a number in (0, inf) K") and in the
reference docs/case-format.md, so the two cannot disagree. The helpers here also take pydantic
annotations apart (``Annotated``, optional values, unions, lists, tables) for :mod:`.translate`
and :mod:`.reference`.
"""

from __future__ import annotations

import json
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

__all__ = [
    "allowed",
    "choices",
    "default_text",
    "describe",
    "field_unit",
    "is_model",
    "list_item",
    "model_union",
    "shape",
    "strip",
    "table_value",
]


def is_model(tp: Any) -> bool:
    """Whether ``tp`` is a settings table (a pydantic model class)."""
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def strip(tp: Any) -> tuple[Any, list[Any], str | None]:
    """Take ``Annotated`` and ``| None`` off a type.

    Returns:
        The bare type, the constraints found on the way (``annotated_types`` objects such as
        ``Gt(0)``) and the name of the discriminating key of a tagged union, if any.
    """
    constraints: list[Any] = []
    discriminator = None
    while True:
        if get_origin(tp) is Annotated:
            base, *metadata = get_args(tp)
            for item in metadata:
                if isinstance(item, FieldInfo):
                    constraints.extend(item.metadata)
                    if isinstance(item.discriminator, str):
                        discriminator = item.discriminator
                else:
                    constraints.append(item)
            tp = base
            continue
        if _is_union(tp):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp, constraints, discriminator


def model_union(tp: Any) -> list[type[BaseModel]] | None:
    """The tables of a union of tables (a table whose keys depend on a kind), else None."""
    tp = strip(tp)[0]
    if _is_union(tp):
        members = [strip(a)[0] for a in get_args(tp)]
        if all(is_model(m) for m in members):
            return members
    return None


def shape(tp: Any) -> str:
    """How a field sits in a case file.

    Returns:
        ``"table"`` (a sub-table), ``"union"`` (a table whose keys depend on a kind),
        ``"named"`` (a table of names the user chooses, ``[boundaries.NAME]`` or name = value
        pairs), ``"array"`` (an array of tables, ``[[species]]``) or ``"leaf"`` (a value).
    """
    bare = strip(tp)[0]
    if is_model(bare):
        return "table"
    if model_union(bare) is not None:
        return "union"
    if table_value(bare) is not None:
        return "named"
    item = list_item(bare)
    if item is not None and shape(item) in ("table", "union"):
        return "array"
    return "leaf"


def list_item(tp: Any) -> Any | None:
    """The item type of a list type, else None."""
    tp = strip(tp)[0]
    if get_origin(tp) is list:
        return get_args(tp)[0]
    return None


def table_value(tp: Any) -> Any | None:
    """The value type of a table of names chosen by the user (``dict[str, X]``), else None."""
    tp = strip(tp)[0]
    if get_origin(tp) is dict:
        return get_args(tp)[1]
    return None


def choices(tp: Any) -> tuple[Any, ...] | None:
    """The allowed values of a ``Literal`` type, else None."""
    tp = strip(tp)[0]
    if get_origin(tp) is Literal:
        return get_args(tp)
    return None


def field_unit(field: FieldInfo | None) -> str:
    """SI unit of a field ("" when dimensionless or not a number)."""
    extra = field.json_schema_extra if field is not None else None
    return extra.get("unit", "") if isinstance(extra, dict) else ""


def _number(value: float) -> str:
    return f"{value:g}"


def _range(constraints: list[Any]) -> str:
    low = high = None
    low_open = high_open = True
    for c in constraints:
        if getattr(c, "gt", None) is not None:
            low, low_open = c.gt, True
        if getattr(c, "ge", None) is not None:
            low, low_open = c.ge, False
        if getattr(c, "lt", None) is not None:
            high, high_open = c.lt, True
        if getattr(c, "le", None) is not None:
            high, high_open = c.le, False
    if low is None and high is None:
        return ""
    left = "(" if low is None or low_open else "["
    right = ")" if high is None or high_open else "]"
    lo = "-inf" if low is None else _number(low)
    hi = "inf" if high is None else _number(high)
    return f" in {left}{lo}, {hi}{right}"


def _lengths(constraints: list[Any]) -> tuple[int | None, int | None]:
    low = high = None
    for c in constraints:
        if getattr(c, "min_length", None) is not None:
            low = c.min_length
        if getattr(c, "max_length", None) is not None:
            high = c.max_length
    return low, high


_PLURALS = {
    "a number": "numbers",
    "an integer": "integers",
    "a string": "strings",
    "a non-empty string": "non-empty strings",
    "true or false": "booleans (true or false)",
    "a table": "tables",
    "any TOML value": "TOML values",
}


def _plural(text: str) -> str:
    for singular, plural in _PLURALS.items():
        if text.startswith(singular):
            return plural + text[len(singular) :]
    return "values, each " + text


def describe(tp: Any, constraints: list[Any] | None = None, unit_symbol: str = "") -> str:
    """The values of type ``tp`` (with its constraints) in words.

    Args:
        tp: A field annotation.
        constraints: Constraints that pydantic keeps beside the annotation (``field.metadata``).
        unit_symbol: SI unit, written after a range.
    """
    tp, inner, _ = strip(tp)
    constraints = [*(constraints or []), *inner]
    allowed_values = choices(tp)
    if allowed_values is not None:
        return "one of " + ", ".join(repr(v) for v in allowed_values)
    if _is_union(tp):
        members = [a for a in get_args(tp) if a is not type(None)]
        return " or ".join(describe(m, unit_symbol=unit_symbol) for m in members)
    suffix = f" {unit_symbol}" if unit_symbol else ""
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer" + _range(constraints)
    if tp is float:
        bounds = _range(constraints)
        return "a number" + bounds + (suffix if bounds else "")
    if tp is str:
        low, high = _lengths(constraints)
        if high is not None:
            if not low:
                return f"a string of at most {high} characters"
            return f"a string of {low} to {high} characters"
        return "a non-empty string" if low else "a string"
    if tp is Any:
        return "any TOML value"
    if is_model(tp):
        return "a table"
    item = list_item(tp)
    if item is not None:
        items = _plural(describe(item, unit_symbol=unit_symbol))
        low, high = _lengths(constraints)
        if low is not None and low == high:
            return f"a list of {low} {items}"
        if low and high is not None:
            return f"a list of {low} to {high} {items}"
        if high is not None:
            return f"a list of at most {high} {items}"
        if low == 1:
            return f"a non-empty list of {items}"
        if low:
            return f"a list of at least {low} {items}"
        return f"a list of {items}"
    value = table_value(tp)
    if value is not None:
        return "a table of name = value pairs, each " + describe(value, unit_symbol=unit_symbol)
    return getattr(tp, "__name__", str(tp))


def allowed(field: FieldInfo) -> str:
    """The allowed values of a field in words, e.g. ``a number in (1, 1000) K``."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if "allowed" in extra:
        return str(extra["allowed"])
    return describe(field.annotation, list(field.metadata), field_unit(field))


def default_text(field: FieldInfo) -> str:
    """The default of a field as the reference shows it (Markdown)."""
    if field.is_required():
        return "**required**"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, BaseModel):
        return "(table)"
    if isinstance(value, list | dict):
        return f"`{json.dumps(value)}`"
    return f"`{value!r}`"
