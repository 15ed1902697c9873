"""pydantic's validation errors as case problems: dotted key, value given, what is allowed.

:func:`validate_settings` is the one place where a case document meets its settings model. A
pydantic :class:`~pydantic.ValidationError` never leaves this module: each of its errors is
located in the case by walking the settings model along the error's location (tables, arrays of
tables, tables of named tables, tables whose keys depend on a kind), and becomes one message in
the style of every electrolyx error::

    unknown key 'electrolyte.relative_permitivity' (did you mean 'relative_permittivity'?)
    species[0].bulk_concentration = -10.0 mol/m3 is out of range: allowed a number in (0, inf) mol/m3
    boundaries.wall.kind = 'potentail' is not allowed: expected one of 'potential', ... (did you mean 'potential'?)
    missing key 'mesh.length': Interval length. (a number in (0, inf) m)
"""  # noqa: E501

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from ..errors import CaseError
from .base import CASE_PROBLEM
from .describe import (
    allowed,
    choices,
    describe,
    field_unit,
    is_model,
    list_item,
    model_union,
    shape,
    strip,
    table_value,
)

__all__ = ["dotted", "suggest", "validate_settings"]

_MISSING: Any = object()
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_CONTAINER_ERRORS = {"model_type", "model_attributes_type", "dict_type", "list_type"}


def dotted(path: str, key: str) -> str:
    """``path.key``, with ``key`` quoted as in TOML when it is not a bare key."""
    part = key if _BARE_KEY.match(key) else '"' + key.replace('"', '\\"') + '"'
    return f"{path}.{part}" if path else part


def suggest(key: str, valid: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest valid key, else the list of valid keys."""
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return " (valid keys: " + ", ".join(valid) + ")" if valid else ""


@dataclass
class _Site:
    """Where an error's location leads in the settings model and in the document."""

    path: str
    tp: Any
    field: FieldInfo | None
    value: Any
    kind: str  # "table", "array", "named", "union", "leaf" or "unknown" (an extra key)
    rest: tuple[Any, ...] = ()


def _child(value: Any, part: Any) -> Any:
    if isinstance(value, Mapping):
        return value.get(part, _MISSING)
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return value[part]
    return _MISSING


def _locate(root: type[BaseModel], document: Any, loc: tuple[Any, ...]) -> _Site:
    site = _Site("", root, None, document, "table")
    for i, part in enumerate(loc):
        bare = strip(site.tp)[0]
        if site.kind == "table":
            if part not in bare.model_fields:
                return _Site(
                    dotted(site.path, str(part)), bare, None, _child(site.value, part), "unknown"
                )
            field = bare.model_fields[part]
            site = _Site(
                dotted(site.path, part),
                field.annotation,
                field,
                _child(site.value, part),
                shape(field.annotation),
            )
        elif site.kind == "array":
            item = list_item(bare)
            site = _Site(
                f"{site.path}[{part}]", item, site.field, _child(site.value, part), shape(item)
            )
        elif site.kind == "named":
            value_type = table_value(bare)
            site = _Site(
                dotted(site.path, str(part)),
                value_type,
                site.field,
                _child(site.value, part),
                shape(value_type),
            )
        elif site.kind == "union":
            # pydantic puts the tag of a tagged union into the location: not a key of the case.
            member = _union_member(site.tp, site.field, part)
            if member is None:
                return _Site(site.path, site.tp, site.field, site.value, "leaf", loc[i:])
            site = _Site(site.path, member, site.field, site.value, "table")
        else:
            return _Site(site.path, site.tp, site.field, site.value, "leaf", loc[i:])
    return site


def _discriminator(tp: Any, field: FieldInfo | None) -> str:
    name = strip(tp)[2]
    if name is None and field is not None and isinstance(field.discriminator, str):
        name = field.discriminator
    return name or "kind"


def _tags(tp: Any, field: FieldInfo | None) -> list[str]:
    key = _discriminator(tp, field)
    members = model_union(tp) or []
    return [str(choices(m.model_fields[key].annotation)[0]) for m in members]


def _union_member(tp: Any, field: FieldInfo | None, tag: Any) -> type[BaseModel] | None:
    key = _discriminator(tp, field)
    for member in model_union(tp) or []:
        if choices(member.model_fields[key].annotation) == (tag,):
            return member
    return None


def _doc(site: _Site) -> str:
    if site.field is not None and site.field.description:
        return site.field.description
    bare = strip(site.tp)[0]
    return (bare.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")


def _shown(value: Any, field: FieldInfo | None) -> str:
    """The value as the message shows it: an integer given for a number as that number."""
    is_number = field is not None and strip(field.annotation)[0] is float
    if is_number and isinstance(value, int) and not isinstance(value, bool):
        try:
            return repr(float(value))
        except OverflowError:
            return repr(value)
    return repr(value)


def _leaf_allowed(site: _Site) -> str:
    if site.field is not None and site.field.annotation is site.tp:
        return allowed(site.field)
    return describe(site.tp, unit_symbol=field_unit(site.field))


def _leaf_problem(site: _Site, error: Mapping[str, Any]) -> str:
    kind = error["type"]
    what = _leaf_allowed(site)
    shown = _shown(site.value, site.field)
    if kind in _RANGE_ERRORS:
        unit_symbol = field_unit(site.field)
        scalar = not isinstance(site.value, list)
        unit_text = f" {unit_symbol}" if unit_symbol and scalar else ""
        return f"{site.path} = {shown}{unit_text} is out of range: allowed {what}"
    message = f"{site.path} = {shown} is not allowed: expected {what}"
    if kind == "literal_error" and isinstance(site.value, str):
        valid = [str(c) for c in choices(site.tp) or ()]
        close = difflib.get_close_matches(site.value, valid, n=1)
        message += f" (did you mean {close[0]!r}?)" if close else ""
    if kind == "float_type" and isinstance(site.value, int) and not isinstance(site.value, bool):
        message += " (this integer is too large for a floating-point number)"
    return message


def _problems(root: type[BaseModel], document: Any, error: Mapping[str, Any]) -> list[str]:
    site = _locate(root, document, tuple(error["loc"]))
    kind = error["type"]
    if kind == CASE_PROBLEM:
        found = []
        for key, message in error["ctx"]["problems"]:
            full = site.path if not key else f"{site.path}.{key}" if site.path else key
            found.append(message.replace("{key}", full))
        return found
    if site.kind == "unknown":
        valid = list(strip(site.tp)[0].model_fields)
        return [f"unknown key {site.path!r}{suggest(site.path.rsplit('.', 1)[-1], valid)}"]
    if kind == "missing":
        if site.kind in ("table", "union"):
            return [f"missing table [{site.path}]: {_doc(site)}"]
        if site.kind == "array":
            least = next((c.min_length for c in site.field.metadata if hasattr(c, "min_length")), 1)
            return [f"missing [[{site.path}]]: {_doc(site)} (at least {least})"]
        return [f"missing key {site.path!r}: {_doc(site)} ({_leaf_allowed(site)})"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = f"{site.path}.{_discriminator(site.tp, site.field)}"
        tags = _tags(site.tp, site.field)
        listed = ", ".join(repr(t) for t in tags)
        if kind == "union_tag_not_found":
            return [f"missing key {key!r}: one of {listed}"]
        tag = error["ctx"]["tag"]
        close = difflib.get_close_matches(str(tag), tags, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return [f"{key} = {tag!r} is not allowed: expected one of {listed}{hint}"]
    if kind in _CONTAINER_ERRORS and not site.rest and site.kind != "leaf":
        if site.kind == "array":
            return [f"{site.path} must be an array of tables ([[{site.path}]]), got {site.value!r}"]
        if site.kind == "named" and not is_model(strip(table_value(site.tp))[0]):
            if model_union(table_value(site.tp)) is None:
                return [f"{site.path} must be a table of name = value pairs, got {site.value!r}"]
        if site.kind == "named":
            return [f"{site.path} must be a table of named tables, got {site.value!r}"]
        return [f"{site.path} must be a table, got {site.value!r}"]
    if kind == "too_short" and site.kind == "array":
        least = error["ctx"]["min_length"]
        return [f"[[{site.path}]] needs at least {least} entries, got {len(site.value)}"]
    return [_leaf_problem(site, error)]


def validate_settings[T: BaseModel](settings_model: type[T], document: Mapping[str, Any]) -> T:
    """Validate a case document against its settings model, defaults filled in.

    Args:
        settings_model: The settings class of the case's model (e.g. ``DFNSettings``).
        document: The parsed ``case.toml`` (after ``--set`` overrides).

    Returns:
        The validated settings; ``.model_dump()`` is the resolved dict the models read.

    Raises:
        CaseError: listing every unknown key, missing key, wrong type, value out of range and
            broken rule across keys, each naming the key, the value and what is allowed.
    """
    try:
        return settings_model.model_validate(document)
    except ValidationError as error:
        problems: list[str] = []
        for item in error.errors(include_url=False):
            for problem in _problems(settings_model, document, item):
                if problem not in problems:
                    problems.append(problem)
        raise CaseError(problems) from None
