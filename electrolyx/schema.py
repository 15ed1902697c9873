"""Declarative schema for case files: every key with its type, SI unit, default and allowed range.

A schema is a tree of :class:`Table` (fixed keys), :class:`TableArray` (``[[species]]``),
:class:`NamedTables` (``[boundaries.NAME]`` with names chosen by the user), :class:`Variant`
(a table whose allowed keys depend on a discriminating key such as ``kind``) and
:class:`Options` (verbatim name/value pairs, e.g. PETSc options). Leaves are :class:`Key`.

:func:`validate` checks a parsed TOML document against a schema, fills in defaults and returns the
resolved document, or raises :class:`CaseError` listing every problem found, each naming the key,
the value given and what is allowed. The same tree renders the reference documentation
(:func:`render_markdown`), so docs and validation cannot drift apart.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "REQUIRED",
    "CaseError",
    "Key",
    "NamedTables",
    "Options",
    "Table",
    "TableArray",
    "Variant",
    "render_markdown",
    "validate",
]


class _Required:
    def __repr__(self) -> str:
        return "required"


REQUIRED: Any = _Required()


class CaseError(ValueError):
    """Invalid case input; ``problems`` lists one message per offending key."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(f"  - {p}" for p in self.problems))

    def __str__(self) -> str:
        n = len(self.problems)
        head = "invalid case: 1 problem" if n == 1 else f"invalid case: {n} problems"
        return head + "\n" + "\n".join(f"  - {p}" for p in self.problems)


_TYPE_NAMES = {
    "float": "a number",
    "int": "an integer",
    "str": "a string",
    "bool": "true or false",
    "point": "a list of 1 to 3 numbers (coordinates in m)",
    "floats": "a list of numbers",
    "strs": "a list of strings",
}


@dataclass(frozen=True)
class Key:
    """A leaf value.

    Args:
        type: One of ``float``, ``int``, ``str``, ``bool``, ``point``, ``floats``, ``strs``.
        doc: One-line description.
        unit: SI unit ("" for dimensionless).
        default: Default value or :data:`REQUIRED`; ``None`` means "not set".
        low: Lower bound (numbers), ``None`` for unbounded.
        high: Upper bound (numbers), ``None`` for unbounded.
        low_open: Whether the lower bound is excluded.
        high_open: Whether the upper bound is excluded.
        choices: Allowed strings.
    """

    type: str
    doc: str
    unit: str = ""
    default: Any = REQUIRED
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] | None = None

    def allowed(self) -> str:
        """Describe the allowed values in words."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.type in ("float", "int") and (self.low is not None or self.high is not None):
            lo = "-inf" if self.low is None else f"{self.low:g}"
            hi = "inf" if self.high is None else f"{self.high:g}"
            left = "(" if self.low is None or self.low_open else "["
            right = ")" if self.high is None or self.high_open else "]"
            rng = f"{left}{lo}, {hi}{right}"
            return f"{_TYPE_NAMES[self.type]} in {rng}" + (f" {self.unit}" if self.unit else "")
        return _TYPE_NAMES[self.type]

    def check(self, path: str, value: Any, problems: list[str]) -> Any:
        """Return the value converted to its type, or record a problem and return None."""
        bad = f"{path} = {value!r} is not allowed: expected {self.allowed()}"
        t = self.type
        if t == "bool":
            if not isinstance(value, bool):
                problems.append(bad)
                return None
            return value
        if t == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(bad)
                return None
            return self._in_range(path, value, problems)
        if t == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(bad)
                return None
            if not math.isfinite(value):
                problems.append(bad)
                return None
            return self._in_range(path, float(value), problems)
        if t == "str":
            if not isinstance(value, str):
                problems.append(bad)
                return None
            if self.choices is not None and value not in self.choices:
                close = difflib.get_close_matches(value, self.choices, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(f"{bad}{hint}")
                return None
            return value
        if t in ("point", "floats"):
            ok = isinstance(value, list) and all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in value
            )
            if ok and t == "point":
                ok = 1 <= len(value) <= 3
            if not ok:
                problems.append(bad)
                return None
            return [float(v) for v in value]
        if t == "strs":
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                problems.append(bad)
                return None
            return list(value)
        raise AssertionError(f"unknown key type {t}")

    def _in_range(self, path: str, value: float, problems: list[str]) -> float | None:
        too_low = self.low is not None and (
            value <= self.low if self.low_open else value < self.low
        )
        too_high = self.high is not None and (
            value >= self.high if self.high_open else value > self.high
        )
        if too_low or too_high:
            unit = f" {self.unit}" if self.unit else ""
            problems.append(f"{path} = {value!r}{unit} is out of range: allowed {self.allowed()}")
            return None
        return value


@dataclass(frozen=True)
class Table:
    """A TOML table with a fixed set of keys."""

    doc: str
    keys: Mapping[str, Any]
    required: bool = False


@dataclass(frozen=True)
class TableArray:
    """An array of tables (``[[name]]``), each validated against ``item``."""

    doc: str
    item: Table
    min_items: int = 0
    unique_key: str | None = None


@dataclass(frozen=True)
class NamedTables:
    """Tables keyed by names the user chooses (``[boundaries.wall]``)."""

    doc: str
    item: Table | Variant


@dataclass(frozen=True)
class Variant:
    """A table whose allowed keys depend on the value of ``discriminator``."""

    doc: str
    discriminator: str
    variants: Mapping[str, Table]
    default: str | None = None


@dataclass(frozen=True)
class Options:
    """Verbatim name/value pairs (strings, numbers or booleans), e.g. PETSc options."""

    doc: str
    defaults: Mapping[str, Any] = field(default_factory=dict)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _suggest(key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return " (valid keys: " + ", ".join(valid) + ")" if valid else ""


def _validate_table(table: Table, doc: Any, path: str, problems: list[str]) -> dict:
    if not isinstance(doc, Mapping):
        problems.append(f"{path} must be a table, got {doc!r}")
        return {}
    out: dict[str, Any] = {}
    valid = list(table.keys)
    for key in doc:
        if key not in table.keys:
            problems.append(f"unknown key {_join(path, key)!r}{_suggest(key, valid)}")
    for key, spec in table.keys.items():
        p = _join(path, key)
        if key in doc:
            out[key] = _validate_node(spec, doc[key], p, problems)
        else:
            out[key] = _default(spec, p, problems)
    return out


def _default(spec: Any, path: str, problems: list[str]) -> Any:
    if isinstance(spec, Key):
        if spec.default is REQUIRED:
            problems.append(f"missing key {path!r}: {spec.doc} ({spec.allowed()})")
            return None
        return spec.default
    if isinstance(spec, Table):
        if spec.required:
            problems.append(f"missing table [{path}]: {spec.doc}")
        return _validate_table(spec, {}, path, problems)
    if isinstance(spec, TableArray):
        if spec.min_items > 0:
            problems.append(f"missing [[{path}]]: {spec.doc} (at least {spec.min_items})")
        return []
    if isinstance(spec, NamedTables):
        return {}
    if isinstance(spec, Options):
        return dict(spec.defaults)
    if isinstance(spec, Variant):
        if spec.default is None:
            problems.append(f"missing table [{path}]: {spec.doc}")
            return {}
        return _validate_node(spec, {}, path, problems)
    raise AssertionError(spec)


def _validate_node(spec: Any, value: Any, path: str, problems: list[str]) -> Any:
    if isinstance(spec, Key):
        return spec.check(path, value, problems)
    if isinstance(spec, Table):
        return _validate_table(spec, value, path, problems)
    if isinstance(spec, Variant):
        if not isinstance(value, Mapping):
            problems.append(f"{path} must be a table, got {value!r}")
            return {}
        kind = value.get(spec.discriminator, spec.default)
        choices = tuple(spec.variants)
        if kind is None:
            problems.append(
                f"missing key {_join(path, spec.discriminator)!r}: one of "
                + ", ".join(repr(c) for c in choices)
            )
            return {}
        if kind not in spec.variants:
            Key("str", "", choices=choices).check(_join(path, spec.discriminator), kind, problems)
            return {}
        inner = dict(value)
        inner.pop(spec.discriminator, None)
        out = {spec.discriminator: kind}
        out.update(_validate_table(spec.variants[kind], inner, path, problems))
        return out
    if isinstance(spec, TableArray):
        if not isinstance(value, list):
            problems.append(f"{path} must be an array of tables ([[{path}]]), got {value!r}")
            return []
        if len(value) < spec.min_items:
            problems.append(f"[[{path}]] needs at least {spec.min_items} entries, got {len(value)}")
        items = [
            _validate_table(spec.item, v, f"{path}[{i}]", problems) for i, v in enumerate(value)
        ]
        if spec.unique_key:
            seen: set = set()
            for i, it in enumerate(items):
                name = it.get(spec.unique_key)
                if name in seen:
                    problems.append(
                        f"{path}[{i}].{spec.unique_key} = {name!r} is used twice: must be unique"
                    )
                seen.add(name)
        return items
    if isinstance(spec, NamedTables):
        if not isinstance(value, Mapping):
            problems.append(f"{path} must be a table of named tables, got {value!r}")
            return {}
        return {
            name: _validate_node(spec.item, sub, _join(path, name), problems)
            for name, sub in value.items()
        }
    if isinstance(spec, Options):
        if not isinstance(value, Mapping):
            problems.append(f"{path} must be a table of name = value pairs, got {value!r}")
            return {}
        out = dict(spec.defaults)
        for k, v in value.items():
            if not isinstance(v, str | int | float | bool):
                problems.append(f"{_join(path, k)} = {v!r}: expected a string, number or boolean")
            else:
                out[k] = v
        return out
    raise AssertionError(spec)


def validate(schema: Table, document: Mapping[str, Any]) -> dict:
    """Validate ``document`` against ``schema`` and return it with every default filled in.

    Raises:
        CaseError: listing every unknown key, missing key, wrong type and out-of-range value.
    """
    problems: list[str] = []
    resolved = _validate_table(schema, document, "", problems)
    if problems:
        raise CaseError(problems)
    return resolved


def _fmt_default(key: Key) -> str:
    if key.default is REQUIRED:
        return "**required**"
    if key.default is None:
        return "not set"
    if isinstance(key.default, bool):
        return "true" if key.default else "false"
    if isinstance(key.default, str):
        return f'`"{key.default}"`'
    return f"`{key.default!r}`"


def render_markdown(schema: Table, title: str) -> str:
    """Render the schema as a Markdown reference (used for docs/case-format.md)."""
    lines: list[str] = []

    def table_rows(table: Table, path: str) -> None:
        rows = [(k, s) for k, s in table.keys.items() if isinstance(s, Key)]
        if rows:
            lines.append("| key | type / allowed | unit | default | meaning |")
            lines.append("|---|---|---|---|---|")
            for k, s in rows:
                unit = s.unit or "-"
                lines.append(f"| `{k}` | {s.allowed()} | {unit} | {_fmt_default(s)} | {s.doc} |")
            lines.append("")
        for k, s in table.keys.items():
            if not isinstance(s, Key):
                section(s, _join(path, k))

    def section(spec: Any, path: str) -> None:
        if isinstance(spec, Table):
            lines.extend([f"### `[{path}]`", "", spec.doc, ""])
            table_rows(spec, path)
        elif isinstance(spec, TableArray):
            lines.extend([f"### `[[{path}]]`", "", spec.doc, ""])
            table_rows(spec.item, path)
        elif isinstance(spec, NamedTables):
            lines.extend([f"### `[{path}.NAME]`", "", spec.doc, ""])
            item = spec.item
            if isinstance(item, Variant):
                variant(item, f"{path}.NAME")
            else:
                table_rows(item, f"{path}.NAME")
        elif isinstance(spec, Variant):
            lines.extend([f"### `[{path}]`", "", spec.doc, ""])
            variant(spec, path)
        elif isinstance(spec, Options):
            lines.extend([f"### `[{path}]`", "", spec.doc, ""])
            if spec.defaults:
                lines.append(
                    "Defaults: " + ", ".join(f"`{k} = {v!r}`" for k, v in spec.defaults.items())
                )
                lines.append("")

    def variant(spec: Variant, path: str) -> None:
        default = f" (default `{spec.default}`)" if spec.default else ""
        lines.append(
            f"`{spec.discriminator}`{default} selects one of: "
            + ", ".join(f"`{v}`" for v in spec.variants)
            + "."
        )
        lines.append("")
        for name, table in spec.variants.items():
            lines.extend([f'#### `{spec.discriminator} = "{name}"`', "", table.doc, ""])
            table_rows(table, path)

    lines.extend([f"## {title}", ""])
    table_rows(schema, "")
    return "\n".join(lines)
