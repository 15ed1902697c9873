"""The cases shipped with electrolyx: where they are, listing them, copying one out.

In a source checkout (or an editable install) they are the repository's ``cases/`` folder; a
wheel carries the same files as package data in ``electrolyx/cases/`` (see pyproject.toml).
``$ELECTROLYX_CASES`` names another folder. This module imports nothing heavy: ``electrolyx
cases`` stays fast.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path

from .errors import CaseError

__all__ = ["cases_directory", "copy_case", "describe_cases", "shipped_case", "shipped_case_names"]

_PACKAGE = Path(__file__).resolve().parent


def cases_directory() -> Path:
    """Folder of the shipped cases.

    ``$ELECTROLYX_CASES`` when set; else ``electrolyx/cases`` inside an installed package; else
    ``cases/`` beside the package (the source tree).
    """
    env = os.environ.get("ELECTROLYX_CASES")
    if env:
        return Path(env)
    installed = _PACKAGE / "cases"
    return installed if installed.is_dir() else _PACKAGE.parent / "cases"


def shipped_case_names() -> list[str]:
    """Names of the shipped cases (their folders holding a case.toml), sorted."""
    return sorted(p.parent.name for p in cases_directory().glob("*/case.toml"))


def shipped_case(name: str) -> Path | None:
    """The folder of the shipped case ``name``, or None."""
    if name in shipped_case_names():
        return (cases_directory() / name).resolve()
    return None


def describe_cases() -> list[tuple[str, str, str]]:
    """(name, model, title) of every shipped case, read from its ``[case]`` table."""
    rows = []
    for name in shipped_case_names():
        try:
            with open(cases_directory() / name / "case.toml", "rb") as stream:
                section = tomllib.load(stream).get("case", {})
        except (OSError, tomllib.TOMLDecodeError):
            section = {"title": "(unreadable case.toml)"}
        if not isinstance(section, dict):
            section = {}
        rows.append((name, str(section.get("model", "?")), str(section.get("title", ""))))
    return rows


def copy_case(name: str, destination: str | Path) -> Path:
    """Copy the shipped case ``name`` to the new folder ``destination`` (never overwritten).

    Only the case's own files are copied (not a ``results/`` folder left by an earlier run).

    Raises:
        CaseError: for an unknown case, or a destination that already exists.
    """
    source = shipped_case(name)
    if source is None:
        raise CaseError(
            [
                f"no shipped case is named {name!r}: expected one of "
                + ", ".join(shipped_case_names())
            ]
        )
    target = Path(destination).expanduser()
    if target.exists() or target.is_symlink():
        raise CaseError(
            [f"{str(target)!r} already exists: give a new folder (nothing is overwritten)"]
        )
    shutil.copytree(
        source, target, ignore=shutil.ignore_patterns("results", "__pycache__", "*.pyc")
    )
    return target
