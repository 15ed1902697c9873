"""What every settings table shares: strict pydantic models and cross-key problems.

Every table of a case file is a :class:`SettingsTable`: an unknown key is an error
(``extra="forbid"``), values keep their TOML type (``strict``: an integer is accepted where a
number is expected, nothing else is converted; a string is never read as a number), and NaN or
infinite numbers are refused. Each field carries its description and SI unit
(``Field(description=..., json_schema_extra={"unit": ...})``); the error messages
(:mod:`.translate`) and docs/case-format.md (:mod:`.reference`) are written from them.

A check across keys raises :func:`case_problems` from a pydantic validator: one or more messages,
each with the key it concerns relative to the table that raised it, so that the full dotted key
can be put in front (tables do not know where they sit in the case).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

__all__ = ["CASE_PROBLEM", "SettingsTable", "case_problems", "unit"]

#: pydantic error type of the problems raised by :func:`case_problems`.
CASE_PROBLEM = "case_problem"


class SettingsTable(BaseModel):
    """A table of a case file (the base of every settings model)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        allow_inf_nan=False,
        validate_default=False,
    )


def unit(symbol: str) -> dict[str, Any]:
    """``json_schema_extra`` of a field with SI unit ``symbol`` (e.g. ``"K"``, ``"mol/m3"``)."""
    return {"unit": symbol}


def case_problems(problems: list[tuple[str, str]]) -> PydanticCustomError:
    """The error to raise from a validator for problems across keys.

    Args:
        problems: ``(key, message)`` pairs: ``key`` is dotted relative to the table whose
            validator raises ("" for the table itself); ``message`` contains ``{key}`` where
            the full dotted key goes, e.g. ``("width", "{key}: required with dimension = 3")``.

    Returns:
        A pydantic error that :func:`electrolyx.settings.translate.case_error` turns back into
        one message per pair.
    """
    summary = "; ".join(message.replace("{key}", key or "(table)") for key, message in problems)
    return PydanticCustomError(
        CASE_PROBLEM, "{summary}", {"summary": summary, "problems": problems}
    )
