"""Dotted case keys: ``species.0.diffusivity``, ``parameters.values."Name [m2.s-1]"``.

A dotted key addresses one value of a case document, as ``--set`` and ``[sweep] keys`` write it:
parts separated by dots, each a bare key (letters, digits, ``_``, ``-``), an array index, or a
quoted key as in TOML (``"..."`` with backslash escapes, or ``'...'`` taken literally) for names
holding spaces, dots or brackets.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["format_dotted_key", "set_dotted_value", "split_dotted_key"]

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def split_dotted_key(text: str) -> list[str]:
    """The parts of a dotted key, quotes removed.

    Raises:
        ValueError: saying what is wrong (empty part, unclosed quote, stray character).
    """
    parts: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            if end >= n:
                raise ValueError(f"unclosed quote in key {text!r}")
            try:
                parts.append(json.loads(text[i : end + 1]))
            except json.JSONDecodeError:
                raise ValueError(f"bad escape in quoted part of key {text!r}") from None
            i = end + 1
        elif i < n and text[i] == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise ValueError(f"unclosed quote in key {text!r}")
            parts.append(text[i + 1 : end])
            i = end + 1
        else:
            match = _BARE.match(text, i)
            if match is None:
                raise ValueError(
                    f"key {text!r}: expected a name (letters, digits, _ or -), an index or a "
                    f"quoted name at position {i}"
                )
            parts.append(match.group(0))
            i = match.end()
        while i < n and text[i] in " \t":
            i += 1
        if i == n:
            return parts
        if text[i] != ".":
            raise ValueError(f"key {text!r}: expected '.' at position {i}, got {text[i]!r}")
        i += 1


def format_dotted_key(parts: list[str]) -> str:
    """The dotted key of ``parts``, quoting those that are not bare keys."""
    return ".".join(p if _BARE.fullmatch(p) else json.dumps(p) for p in parts)


def set_dotted_value(document: dict[str, Any], parts: list[str], value: Any) -> None:
    """Set the value at ``parts`` in a parsed case document, creating tables on the way.

    Array items are addressed by their index (``species.0.diffusivity``).

    Raises:
        ValueError: naming the key, for an index that is not in the array or a part of the key
            that is a value, not a table.
    """
    key = format_dotted_key(parts)
    node: Any = document
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ValueError(
                    f"{key}: {part!r} is not an index of this array (0 to {len(node) - 1})"
                )
            if last:
                node[int(part)] = value
                return
            node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = value
                return
            node = node.setdefault(part, {})
        else:
            where = format_dotted_key(parts[:i])
            raise ValueError(f"{key}: {where} is a value, not a table")
        if not isinstance(node, dict | list):
            where = format_dotted_key(parts[: i + 1])
            raise ValueError(f"{key}: {where} is a value, not a table")
