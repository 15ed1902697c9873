"""Case directories: ``case.toml`` (+ optional mesh files and README.md).

A case file is plain TOML: it is parsed, never executed. ``[case] model`` picks the model whose
settings (:mod:`electrolyx.settings`) validate the rest, once per run; ``--set KEY=VALUE``
overrides any value by its dotted key before validation (``boundaries.wall.potential=0.2``,
``species.0.diffusivity=1e-9``, ``parameters.values."Negative particle diffusivity
[m2.s-1]"=4e-14``).

What a case file can ask for is bounded before any model sees it: ``case.toml`` is strict UTF-8
TOML of at most :data:`MAX_CASE_BYTES` bytes, nested at most :data:`MAX_NESTING` levels, with
integers in TOML's 64-bit range; ``[solver.petsc]`` holds only allowed PETSc options
(:mod:`electrolyx.petsc_options`); and every file it names (:data:`FILE_KEYS`) resolves, symbolic
links followed, inside the case folder, unless the path was given on the command line
(``--set parameters.bpx_file=/data/cell.json``).
"""

from __future__ import annotations

import copy
import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CaseError
from .petsc_options import petsc_option_problems
from .settings import resolve_settings
from .settings.keys import set_dotted_value, split_dotted_key
from .settings.unused import refuse_unused

__all__ = [
    "FILE_KEYS",
    "MAX_CASE_BYTES",
    "MAX_NESTING",
    "Case",
    "CaseError",
    "apply_override",
    "case_from_document",
    "case_from_overrides",
    "find_case",
    "load_case",
    "parse_override_value",
    "read_document",
]

MAX_CASE_BYTES = 4 * 1024 * 1024
"""Largest case.toml read [bytes] (the shipped ones: 1 to 5 kB)."""

MAX_NESTING = 32
"""Deepest nesting of tables and arrays in a case (the shipped ones: 4 levels)."""

#: dotted keys whose values are files, relative to the case folder
FILE_KEYS = ("parameters.bpx_file", "experiment.drive_cycle", "mesh.path", "microstructure.path")

_INT64 = (-(2**63), 2**63 - 1)


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
    except RecursionError:
        raise CaseError([f"--set value {_shown(text)}: nested too deeply"]) from None
    except ValueError as error:  # an integer of more than 4300 digits
        raise CaseError([f"--set value {_shown(text)}: {error}"]) from None


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
    """Read ``case.toml`` of a case directory as a plain dictionary.

    Raises:
        CaseError: for a missing or unreadable file, one larger than MAX_CASE_BYTES, text that
            is not UTF-8 or not TOML, or nesting deeper than MAX_NESTING levels.
    """
    case_file = case_dir / "case.toml"
    if not case_dir.is_dir():
        raise CaseError([f"case directory {str(case_dir)!r} does not exist"])
    if not case_file.is_file():
        raise CaseError([f"{str(case_file)!r} is missing: a case directory holds a case.toml"])
    try:
        with open(case_file, "rb") as f:
            raw = f.read(MAX_CASE_BYTES + 1)
    except OSError as error:
        raise CaseError([f"{case_file}: cannot be read ({error.strerror})"]) from None
    if len(raw) > MAX_CASE_BYTES:
        raise CaseError([f"{case_file}: larger than {MAX_CASE_BYTES} bytes"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise CaseError(
            [
                f"{case_file}: not UTF-8 text (byte 0x{raw[error.start]:02x} on line {line}); "
                "a case file is UTF-8 TOML"
            ]
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CaseError([f"{case_file}: not valid TOML: {error}"]) from None
    except RecursionError:
        raise CaseError([f"{case_file}: nested more than {MAX_NESTING} levels deep"]) from None
    except ValueError as error:  # an integer of more than 4300 digits
        raise CaseError([f"{case_file}: not valid TOML: {error}"]) from None


def _check_plain_data(document: dict[str, Any], source: str) -> None:
    """Refuse nesting deeper than MAX_NESTING and integers outside TOML's 64-bit range.

    Walks the document without recursion, so no document can exhaust the stack here.
    """
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_NESTING:
            raise CaseError([f"{source}: {path} is nested more than {MAX_NESTING} levels deep"])
        if isinstance(node, dict):
            stack.extend(
                (value, f"{path}.{key}" if path else str(key), depth + 1)
                for key, value in node.items()
            )
        elif isinstance(node, list):
            stack.extend((value, f"{path}.{i}", depth + 1) for i, value in enumerate(node))
        elif isinstance(node, int) and not isinstance(node, bool):
            if not _INT64[0] <= node <= _INT64[1]:
                digits = len(str(abs(node)))
                raise CaseError(
                    [
                        f"{path} = an integer of {digits} digits is not allowed: TOML integers "
                        "lie in [-2**63, 2**63 - 1] (write large numbers as floats, e.g. 1e21)"
                    ]
                )


def _check_petsc_options(settings: dict[str, Any]) -> None:
    """Every ``[solver.petsc]`` option must be on the allow-list (see petsc_options)."""
    solver = settings.get("solver")
    if isinstance(solver, dict) and isinstance(solver.get("petsc"), dict):
        problems = petsc_option_problems(solver["petsc"])
        if problems:
            raise CaseError(problems)


def _lookup(settings: dict[str, Any], dotted: str) -> Any:
    node: Any = settings
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _check_file_paths(settings: dict[str, Any], directory: Path, overridden: set[str]) -> None:
    """Files named in the case file must resolve inside the case folder.

    Paths given on the command line (``--set KEY=PATH``) are the user's own choice and may
    point anywhere.
    """
    problems = []
    for key in FILE_KEYS:
        value = _lookup(settings, key)
        if not isinstance(value, str) or key in overridden:
            continue
        allowed = (
            "a path relative to the case folder that stays inside it (or give the file on "
            f"the command line: --set {key}=PATH)"
        )
        if "\0" in value or not value.strip():
            problems.append(f"{key} = {_shown(value)} is not allowed: expected {allowed}")
            continue
        path = Path(value)
        if path.is_absolute():
            problems.append(
                f"{key} = {_shown(value)} is an absolute path: a case file names {allowed}"
            )
            continue
        try:
            resolved = (directory / path).resolve()
        except (OSError, RuntimeError) as error:
            problems.append(f"{key} = {_shown(value)} cannot be resolved ({error})")
            continue
        if not resolved.is_relative_to(directory):
            problems.append(
                f"{key} = {_shown(value)} resolves to {str(resolved)!r}, outside the case "
                f"folder {str(directory)!r}: a case file names {allowed}"
            )
    if problems:
        raise CaseError(problems)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def load_case(
    case_dir: str | Path,
    overrides: list[str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> Case:
    """Read, override and validate a case directory.

    Args:
        case_dir: The case folder, or the name of a shipped case (``electrolyx cases``) when
            no such folder exists (see :func:`find_case`).
        overrides: ``KEY=VALUE`` assignments, as ``--set`` gives them (values parsed as TOML).
        values: Dotted key -> Python value, applied after ``overrides`` (the Python API's
            keyword arguments; e.g. ``{'experiment.steps': ["Rest for 1 hour"]}``).

    Raises:
        CaseError: with every problem found, each naming the key, the value and what is allowed.
    """
    directory = find_case(case_dir)
    document = read_document(directory)
    return case_from_overrides(directory, document, overrides, values)


def case_from_overrides(
    directory: Path,
    document: dict[str, Any],
    overrides: list[str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> Case:
    """Apply ``--set`` assignments and dotted-key values to ``document``, then validate it.

    Files named by an overridden key may lie anywhere (the user's own choice, like a path given
    on the command line; see :func:`_check_file_paths`).

    Raises:
        CaseError: with every problem found, each naming the key, the value and what is allowed.
    """
    for assignment in overrides or []:
        apply_override(document, assignment)
    overridden = set()
    for key, value in (values or {}).items():
        try:
            parts = split_dotted_key(key)
            set_dotted_value(document, parts, copy.deepcopy(value))
        except ValueError as error:
            raise CaseError([f"{key}: {error}"]) from None
        overridden.add(".".join(parts))
    _check_plain_data(document, str(directory / "case.toml"))
    for assignment in overrides or []:
        try:
            key = _split_assignment(assignment)[0].strip()
            overridden.add(".".join(split_dotted_key(key)))
        except (CaseError, ValueError):
            continue
    return case_from_document(directory, document, overridden)


def find_case(case: str | Path) -> Path:
    """The folder of ``case``: a folder path, else the name of a shipped case.

    A folder that exists always wins over a shipped case of the same name.

    Raises:
        CaseError: when ``case`` is neither a folder nor a shipped case, naming the shipped ones.
    """
    from .shipped_cases import shipped_case, shipped_case_names

    path = Path(case).expanduser()
    if path.is_dir():
        return path.resolve()
    if len(path.parts) != 1 or path.exists():
        return path.resolve()  # read_document says what is wrong
    shipped = shipped_case(str(case))
    if shipped is not None:
        return shipped
    raise CaseError(
        [
            f"case directory {str(case)!r} does not exist, nor is it the name of a shipped "
            f"case ({', '.join(shipped_case_names()) or 'none installed'}; see `electrolyx cases`)"
        ]
    )


def case_from_document(
    directory: Path, document: dict[str, Any], command_line_keys: set[str] | None = None
) -> Case:
    """Validate a parsed case document of the case folder ``directory`` (once).

    The settings of ``[case] model`` validate the document; keys the model does not use yet
    are refused; PETSc options must be allowed and files named by the case must lie in its
    folder (unless their key is in ``command_line_keys``); then the model checks what needs
    files (``check_consistency``).

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
    _check_petsc_options(settings)
    _check_file_paths(settings, directory, command_line_keys or set())
    model_class(model).check_consistency(settings, directory)
    return Case(directory=directory, model=model, settings=settings, document=document)
