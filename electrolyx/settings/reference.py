"""The case-format reference (docs/case-format.md) rendered from the settings models.

Every table becomes a section (``### [path]``, ``### [[path]]`` for arrays of tables,
``### [path.NAME]`` for tables of user-chosen names), every value a row with its type and
allowed values, SI unit, default and description, so the reference cannot drift from what
validation accepts.
"""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .describe import (
    allowed,
    choices,
    default_text,
    describe,
    field_unit,
    list_item,
    model_union,
    shape,
    strip,
    table_value,
)

__all__ = ["render_settings"]

_HEADER = ["| key | type / allowed | unit | default | meaning |", "|---|---|---|---|---|"]
_NOT_YET_USED = (
    " **Not used by the model yet**: a case that sets it to anything but its default is refused "
    "(issue 12)."
)


def _not_yet_used(path: str, patterns: tuple[str, ...]) -> str:
    """The note for a key the model does not use yet (``*`` in a pattern matches a name)."""
    parts = path.split(".")
    for pattern in patterns:
        wanted = pattern.split(".")
        if len(wanted) == len(parts) and all(
            w == p or (w == "*" and p == "NAME") for w, p in zip(wanted, parts, strict=True)
        ):
            return _NOT_YET_USED
    return ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _class_doc(cls: type) -> str:
    doc = inspect.getdoc(cls) or ""
    return " ".join(" ".join(p.split()) for p in doc.split("\n\n"))


def _doc(field: FieldInfo | None, tp: Any) -> str:
    if field is not None and field.description:
        return field.description
    bare = strip(tp)[0]
    return _class_doc(bare) if isinstance(bare, type) else ""


def _discriminator(tp: Any, field: FieldInfo | None) -> str:
    name = strip(tp)[2]
    if name is None and field is not None and isinstance(field.discriminator, str):
        name = field.discriminator
    assert name is not None, f"union without a discriminator: {tp}"
    return name


def _rows(
    table: type[BaseModel], path: str, lines: list[str], unused: tuple[str, ...], skip: str | None
) -> None:
    leaves = [
        (name, f)
        for name, f in table.model_fields.items()
        if shape(f.annotation) == "leaf" and name != skip
    ]
    if not leaves:
        return
    lines.extend(_HEADER)
    for name, f in leaves:
        meaning = (f.description or "") + _not_yet_used(f"{path}.{name}" if path else name, unused)
        cells = [f"`{name}`", allowed(f), field_unit(f) or "-", default_text(f), meaning]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines.append("")


def _table(
    table: type[BaseModel],
    path: str,
    lines: list[str],
    unused: tuple[str, ...],
    skip: str | None = None,
) -> None:
    _rows(table, path, lines, unused, skip)
    for name, f in table.model_fields.items():
        if shape(f.annotation) != "leaf":
            _section(f, f.annotation, f"{path}.{name}" if path else name, lines, unused)


def _variants(
    tp: Any, field: FieldInfo | None, path: str, lines: list[str], unused: tuple[str, ...]
) -> None:
    key = _discriminator(tp, field)
    members = model_union(tp) or []
    tags = [choices(m.model_fields[key].annotation)[0] for m in members]
    default = field.get_default(call_default_factory=True) if field is not None else None
    if isinstance(default, BaseModel):
        default_tag = f" (default `{getattr(default, key)}`)"
    else:
        default_tag = ""
    lines.append(f"`{key}`{default_tag} selects one of: " + ", ".join(f"`{t}`" for t in tags) + ".")
    lines.append("")
    for tag, member in zip(tags, members, strict=True):
        lines.extend([f'#### `{key} = "{tag}"`', "", _class_doc(member), ""])
        _table(member, path, lines, unused, skip=key)


def _section(
    field: FieldInfo | None, tp: Any, path: str, lines: list[str], unused: tuple[str, ...]
) -> None:
    kind = shape(tp)
    bare = strip(tp)[0]
    doc = _doc(field, tp) + _not_yet_used(path, unused)
    if kind == "table":
        lines.extend([f"### `[{path}]`", "", doc, ""])
        _table(bare, path, lines, unused)
    elif kind == "union":
        lines.extend([f"### `[{path}]`", "", doc, ""])
        _variants(tp, field, path, lines, unused)
    elif kind == "array":
        item = list_item(bare)
        lines.extend([f"### `[[{path}]]`", "", doc or _doc(None, item), ""])
        _table(strip(item)[0], path, lines, unused)
    elif kind == "named":
        value = table_value(bare)
        value_kind = shape(value)
        if value_kind == "table":
            lines.extend([f"### `[{path}.NAME]`", "", doc, ""])
            _table(strip(value)[0], f"{path}.NAME", lines, unused)
        elif value_kind == "union":
            lines.extend([f"### `[{path}.NAME]`", "", doc, ""])
            _variants(value, field, f"{path}.NAME", lines, unused)
        else:
            lines.extend([f"### `[{path}]`", "", doc, ""])
            lines.extend([f"Entries `NAME = value`, each value {describe(value)}.", ""])


def render_settings(
    settings_model: type[BaseModel], title: str, not_yet_used: tuple[str, ...] = ()
) -> str:
    """The Markdown reference of one model's settings, under the heading ``title``.

    Args:
        settings_model: The model's settings class.
        title: Heading of the section.
        not_yet_used: Dotted keys the model does not use yet (``*`` for any name), marked as
            such (:data:`electrolyx.settings.unused.NOT_YET_USED`).
    """
    lines = [f"## {title}", "", _class_doc(settings_model), ""]
    _table(settings_model, "", lines, not_yet_used)
    return "\n".join(lines)
