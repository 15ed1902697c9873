"""A BPX file's JSON made harmless and validated by the ``bpx`` package, errors named by key.

Every function string is set aside before ``bpx`` sees the data (see :mod:`.bpx`); the
strings are parsed by :class:`~electrolyx.parameters.expressions.SafeExpression` only.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from .expressions import ExpressionError, SafeExpression

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
