"""Keys that validate but that their model does not use yet: refused rather than ignored.

The settings already hold the keys of issue 12's physics refactor (kinetics per electrode,
parameter values by name, the microstructure's parameter set) so that case files, docs and
sweeps can be written against them. Until a model honours one, a case that sets it to anything
but its default is refused with exit 2 instead of running silently without it. When a model
starts using a key, delete its line here.
"""

from __future__ import annotations

from typing import Any

from ..errors import CaseError
from .keys import format_dotted_key

__all__ = ["NOT_YET_USED", "refuse_unused"]

#: model -> {dotted key ("*" matches any name): default}; every key is used now.
NOT_YET_USED: dict[str, dict[str, Any]] = {}


def _values(node: Any, parts: list[str], done: list[str]) -> list[tuple[list[str], Any]]:
    if not parts:
        return [(done, node)]
    if not isinstance(node, dict):
        return []
    head, rest = parts[0], parts[1:]
    names = list(node) if head == "*" else [head] if head in node else []
    found = []
    for name in names:
        found += _values(node[name], rest, [*done, name])
    return found


def refuse_unused(model: str, settings: dict[str, Any]) -> None:
    """Raise CaseError for each not-yet-used key of ``model`` that differs from its default."""
    problems = []
    for pattern, default in NOT_YET_USED.get(model, {}).items():
        for parts, value in _values(settings, pattern.split("."), []):
            if value != default:
                problems.append(
                    f"{format_dotted_key(parts)} = {value!r}: valid, but the {model} model does "
                    f"not use this key yet (issue 12, physics refactor); leave it out (default "
                    f"{default!r})"
                )
    if problems:
        raise CaseError(problems)
