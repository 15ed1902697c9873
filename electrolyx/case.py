"""Case directories: ``case.toml`` (+ optional mesh files and README.md).

A case file is plain TOML: it is parsed, never executed. ``[case] model`` picks the model whose
settings (:mod:`electrolyx.settings`) validate the rest, once per run; ``--set KEY=VALUE``
overrides any value by its dotted key before validation (``boundaries.wall.potential=0.2``,
``species.0.diffusivity=1e-9``, ``parameters.values."Negative particle diffusivity
[m2.s-1]"=4e-14``).
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CaseError
from .settings import resolve_settings
from .settings.keys import set_dotted_value, split_dotted_key
from .settings.unused import refuse_unused

__all__ = [
    "Case",
    "CaseError",
    "apply_override",
    "case_from_document",
    "load_case",
    "parse_override_value",
    "read_document",
]


@dataclass(frozen=True)
class Case:
    """A validated case: its folder, model name and fully resolved settings.

    Attributes:
        directory: The case folder.
        model: ``[case] model``.
        settings: The resolved settings the model reads (every default filled in).
        document: The parsed case.toml with the ``--set`` overrides applied, before
            validation (a sweep derives its runs from it).
    """

    directory: Path
    model: str
    settings: dict[str, Any]
    document: dict[str, Any] = field(default_factory=dict)

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


def _split_assignment(assignment: str) -> tuple[str, str]:
    """``KEY=VALUE`` at the first ``=`` outside quotes (a quoted key may hold one)."""
    quote = None
    for i, char in enumerate(assignment):
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "=":
            return assignment[:i], assignment[i + 1 :]
    raise CaseError([f"--set {assignment!r}: expected KEY=VALUE, e.g. temperature=310"])


def apply_override(document: dict[str, Any], assignment: str) -> None:
    """Apply one ``KEY=VALUE`` override to a parsed case document, in place."""
    key, text = _split_assignment(assignment)
    if not key.strip():
        raise CaseError([f"--set {assignment!r}: empty key"])
    try:
        parts = split_dotted_key(key.strip())
        set_dotted_value(document, parts, parse_override_value(text.strip()))
    except ValueError as error:
        raise CaseError([f"--set {error}"]) from None


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
    directory = Path(case_dir).resolve()
    document = read_document(directory)
    for assignment in overrides or []:
        apply_override(document, assignment)
    return case_from_document(directory, document)


def case_from_document(directory: Path, document: dict[str, Any]) -> Case:
    """Validate a parsed case document of the case folder ``directory`` (once).

    The settings of ``[case] model`` validate the document; keys the model does not use yet
    are refused; then the model checks what needs files (``check_consistency``).

    Raises:
        CaseError: with every problem found, each naming the key, the value and what is allowed.
    """
    from .models import MODELS, model_class

    section = document.get("case")
    if not isinstance(section, dict) or "model" not in section:
        raise CaseError(["missing key 'case.model': one of " + ", ".join(repr(m) for m in MODELS)])
    model = section["model"]
    if not isinstance(model, str) or model not in MODELS:
        close = difflib.get_close_matches(str(model), list(MODELS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise CaseError(
            [
                f"case.model = {model!r} is not allowed: expected one of "
                + ", ".join(repr(m) for m in MODELS)
                + hint
            ]
        )
    settings = resolve_settings(model, document)
    refuse_unused(model, settings)
    model_class(model).check_consistency(settings, directory)
    return Case(directory=directory, model=model, settings=settings, document=document)
