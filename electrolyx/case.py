"""Case directories: ``case.toml`` (+ optional mesh files and README.md).

A case file is plain TOML: it is parsed, never executed. ``[case] model`` picks the model whose
schema validates the rest; ``--set KEY=VALUE`` overrides any value by its dotted key before
validation (``boundaries.wall.potential=0.2``, ``species.0.diffusivity=1e-9``).
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .schema import CaseError, validate

__all__ = ["Case", "CaseError", "apply_override", "load_case", "parse_override_value"]


@dataclass(frozen=True)
class Case:
    """A validated case: its folder, model name and fully resolved settings."""

    directory: Path
    model: str
    settings: dict[str, Any]

    @property
    def name(self) -> str:
        """Folder name of the case."""
        return self.directory.name


def parse_override_value(text: str) -> Any:
    """Parse a ``--set`` value as a TOML value (number, boolean, array, quoted string).

    Anything that is not valid TOML is taken as a bare string.
    """
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def apply_override(document: dict[str, Any], assignment: str) -> None:
    """Apply one ``KEY=VALUE`` override to a parsed case document, in place."""
    if "=" not in assignment:
        raise CaseError([f"--set {assignment!r}: expected KEY=VALUE, e.g. temperature=310"])
    key, text = assignment.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise CaseError([f"--set {assignment!r}: empty key"])
    node: Any = document
    for i, part in enumerate(parts[:-1]):
        path = ".".join(parts[: i + 1])
        if isinstance(node, list):
            node = _list_item(node, part, path)
        else:
            node = node.setdefault(part, {})
            if not isinstance(node, dict | list):
                raise CaseError([f"--set {key}: {path} is a value, not a table"])
    last = parts[-1]
    value = parse_override_value(text.strip())
    if isinstance(node, list):
        index = _list_index(node, last, key)
        node[index] = value
    else:
        node[last] = value


def _list_index(items: list, part: str, path: str) -> int:
    if not part.isdigit() or int(part) >= len(items):
        raise CaseError(
            [f"--set {path}: {part!r} is not an index of this array (0 to {len(items) - 1})"]
        )
    return int(part)


def _list_item(items: list, part: str, path: str) -> Any:
    return items[_list_index(items, part, path)]


def read_document(case_dir: Path) -> dict[str, Any]:
    """Read ``case.toml`` of a case directory as a plain dictionary."""
    case_file = case_dir / "case.toml"
    if not case_dir.is_dir():
        raise CaseError([f"case directory {str(case_dir)!r} does not exist"])
    if not case_file.is_file():
        raise CaseError([f"{str(case_file)!r} is missing: a case directory holds a case.toml"])
    try:
        with open(case_file, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as error:
        raise CaseError([f"{case_file}: not valid TOML: {error}"]) from None


def load_case(case_dir: str | Path, overrides: list[str] | None = None) -> Case:
    """Read, override and validate a case directory.

    Raises:
        CaseError: with every problem found, each naming the key, the value and what is allowed.
    """
    from .models import MODELS, model_class

    directory = Path(case_dir).resolve()
    document = read_document(directory)
    for assignment in overrides or []:
        apply_override(document, assignment)
    section = document.get("case")
    if not isinstance(section, dict) or "model" not in section:
        raise CaseError(["missing key 'case.model': one of " + ", ".join(repr(m) for m in MODELS)])
    model = section["model"]
    if model not in MODELS:
        close = difflib.get_close_matches(str(model), list(MODELS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise CaseError(
            [
                f"case.model = {model!r} is not allowed: expected one of "
                + ", ".join(repr(m) for m in MODELS)
                + hint
            ]
        )
    cls = model_class(model)
    settings = validate(cls.schema, document)
    cls.check_consistency(settings, directory)
    return Case(directory=directory, model=model, settings=settings)
