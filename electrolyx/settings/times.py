"""Times as a user gives them: seconds, ``"15 min"``, ``"0.5 h"``, or ``"25 %"`` of the protocol.

A percentage is of the protocol's *nominal* duration, known before the run: the sum over its
steps (times ``experiment.repeat``) of each step's ``for`` duration, or, for a step at a C-rate
without one, the time to pass the nominal capacity at that rate (1 h at 1C, 2 h at C/2). A
discharge that ends on its voltage cut-off is not known to end before it runs: at 1C the shipped
Chen2020 cell reaches 2.5 V after 3555 s, 98.8 % of the nominal hour, so ``"100 %"`` is never
reached there (the end of every step is written anyway). Percentages need every step to have a
nominal duration: a current in A, a power or a voltage hold without ``for`` has none.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Annotated

from pydantic import BeforeValidator

from ..experiment import TIME_UNITS, Step
from .base import case_problems

__all__ = ["TIME_UNITS", "ProfileTime", "nominal_duration_s", "resolve_percentages"]

"""Units of a time given as text, in seconds."""

_TIME_TEXT = re.compile(
    r"\s*(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<unit>\S+)\s*"
)
_ALLOWED = (
    "a time in [0, inf) s: a number of seconds, or text with a unit such as '15 min', '0.5 h', "
    "'90 s', or '25 %' of the protocol's nominal duration"
)


def _time(value: object) -> float | str:
    """A number of seconds, or text: '15 min' -> 900.0, '25 %' -> '25 %' (resolved later)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise case_problems([("", f"{{key}} = {value!r} is not allowed: expected {_ALLOWED}")])
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            message = f"{{key}} = {value!r} s is out of range: allowed {_ALLOWED}"
            raise case_problems([("", message)])
        return float(value)
    match = _TIME_TEXT.fullmatch(value)
    unit = match["unit"].lower() if match else ""
    if match is None or (unit != "%" and unit not in TIME_UNITS):
        raise case_problems([("", f"{{key}} = {value!r} is not allowed: expected {_ALLOWED}")])
    number = float(match["number"])
    if unit == "%":
        if not number <= 100.0:
            raise case_problems([("", f"{{key}} = {value!r}: a percentage in [0, 100] %")])
        return f"{number:g} %"
    seconds = number * TIME_UNITS[unit]
    if not math.isfinite(seconds):
        raise case_problems([("", f"{{key}} = {value!r} is out of range: allowed {_ALLOWED}")])
    return seconds


ProfileTime = Annotated[float | str, BeforeValidator(_time)]
"""A time in seconds after validation, or a percentage text ``"25 %"`` until resolved."""


def nominal_duration_s(steps: Sequence[Step]) -> float | None:
    """The nominal duration of ``steps`` [s] (see the module's docstring), or None."""
    total = 0.0
    for step in steps:
        if step.duration_s is not None:
            total += step.duration_s
        elif step.mode == "current" and step.value_is_c_rate:
            total += 3600.0 / abs(step.value)
        else:
            return None
    return total


def resolve_percentages(
    times: Sequence[float | str], steps: Sequence[Step], drive_cycle: bool
) -> tuple[list[float], str | None]:
    """Times in seconds, each percentage of the protocol's nominal duration resolved.

    Returns:
        The times, and a problem (``{key}`` for the key) when a percentage cannot be resolved.
    """
    percentages = [t for t in times if isinstance(t, str)]
    if not percentages:
        return [float(t) for t in times], None
    nominal = None if drive_cycle else nominal_duration_s(steps)
    if nominal is None:
        why = (
            "a drive cycle has no nominal duration"
            if drive_cycle
            else "every step needs a 'for' duration or a C-rate (a current in A, a power or a "
            "voltage hold without 'for' has no nominal duration)"
        )
        return [], f"{{key}} = {percentages[0]!r}: a percentage of the protocol, but {why}"
    resolved = [
        float(t.split()[0]) / 100.0 * nominal if isinstance(t, str) else float(t) for t in times
    ]
    return resolved, None
