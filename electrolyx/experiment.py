"""Cycling protocols written as plain sentences, PyBaMM style, parsed into typed steps.

Accepted sentences (case-insensitive; numbers may use exponents):

    "Discharge at 1C until 2.5 V"            "Charge at 0.5C until 4.2 V"
    "Discharge at 2 A for 10 minutes"        "Charge at C/3 for 2 hours or until 4.1 V"
    "Discharge at 5 W until 3 V"             "Hold at 4.2 V until C/50"
    "Rest for 1 hour"                        "Hold at 4.1 V for 30 minutes"

Currents and powers are positive on discharge (``Charge`` flips the sign). A step ends at the
first of its ``for`` duration and its ``until`` condition. Every number of a sentence must be
positive and finite (the verb gives the sign), C-rates at most :data:`MAX_C_RATE`. Groups
repeat with :func:`repeat`. Parsing is done once here, so models receive only :class:`Step` objects.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Step", "parse_experiment", "parse_step", "repeat"]

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TIME_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "min": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
}
_DRIVE = re.compile(
    rf"^(?P<verb>discharge|charge)\s+at\s+(?P<value>(?:{_NUMBER}\s*c|c\s*/\s*{_NUMBER}|"
    rf"{_NUMBER}\s*(?:ma|a|mw|w)))(?P<rest>.*)$"
)
_HOLD = re.compile(rf"^hold\s+at\s+(?P<value>{_NUMBER})\s*v(?P<rest>.*)$")
_REST = re.compile(r"^rest(?P<rest>.*)$")
_FOR = re.compile(rf"\bfor\s+(?P<value>{_NUMBER})\s*(?P<unit>[a-z]+)")
_UNTIL = re.compile(
    rf"\buntil\s+(?P<value>{_NUMBER}\s*(?:v|ma|a|c)\b|c\s*/\s*{_NUMBER}|{_NUMBER}\s*c)"
)


@dataclass(frozen=True)
class Step:
    """One step of a protocol.

    Attributes:
        text: The sentence it was parsed from.
        mode: ``"current"``, ``"power"``, ``"voltage"`` or ``"rest"``.
        value: Current [A] or C-rate (see ``value_is_c_rate``), power [W] or voltage [V];
            positive on discharge; 0 for rest.
        value_is_c_rate: True when ``value`` is a C-rate.
        duration_s: Largest duration of the step [s], or None.
        until_voltage_V: Voltage that ends the step, or None.
        until_current: Current magnitude that ends a voltage hold [A or C-rate], or None.
        until_current_is_c_rate: True when ``until_current`` is a C-rate.
    """

    text: str
    mode: str
    value: float
    value_is_c_rate: bool = False
    duration_s: float | None = None
    until_voltage_V: float | None = None
    until_current: float | None = None
    until_current_is_c_rate: bool = False

    def value_SI(self, nominal_capacity_Ah: float) -> float:
        """``value`` in A, W or V (C-rates times the nominal capacity in A h)."""
        return self.value * nominal_capacity_Ah if self.value_is_c_rate else self.value

    def until_current_A(self, nominal_capacity_Ah: float) -> float | None:
        """``until_current`` in A, or None."""
        if self.until_current is None:
            return None
        scale = nominal_capacity_Ah if self.until_current_is_c_rate else 1.0
        return self.until_current * scale


#: Largest C-rate of a step (a full discharge in 3.6 s).
MAX_C_RATE = 1000.0


def _c_rate(text: str, sentence: str) -> float:
    text = text.replace(" ", "")
    if text.startswith("c/"):
        divisor = float(text[2:])
        if not 0 < divisor < math.inf:
            raise ValueError(
                f"C/{text[2:]} in step {sentence!r}: the divisor must be positive and finite"
            )
        return 1.0 / divisor
    return float(text[:-1])


def _check_ranges(step: Step, sign: float) -> Step:
    """Refuse values no cell can follow: non-positive or infinite amounts and durations.

    Raises:
        ValueError: naming the quantity, its value and the sentence.
    """
    names = {"current": "current", "power": "power", "voltage": "hold voltage", "rest": None}
    magnitudes = {
        names[step.mode]: step.value * sign,
        "duration": step.duration_s,
        "cut-off voltage": step.until_voltage_V,
        "end current": step.until_current,
    }
    if step.value_is_c_rate:
        magnitudes = {"C-rate": magnitudes.pop("current"), **magnitudes}
    for what, value in magnitudes.items():
        if what is not None and value is not None and not 0 < value < math.inf:
            raise ValueError(f"{what} {value:g} in step {step.text!r}: must be positive and finite")
    if step.value_is_c_rate and abs(step.value) > MAX_C_RATE:
        raise ValueError(
            f"C-rate {abs(step.value):g} in step {step.text!r}: allowed at most {MAX_C_RATE:g}C"
        )
    return step


def _parse_rest(text: str, rest: str) -> dict:
    """The ``for ...`` and ``until ...`` clauses."""
    fields: dict = {}
    leftover = rest
    match = _FOR.search(rest)
    if match:
        unit = match["unit"]
        if unit not in _TIME_UNITS:
            raise ValueError(f"unknown time unit {unit!r} in {text!r}")
        fields["duration_s"] = float(match["value"]) * _TIME_UNITS[unit]
        leftover = leftover.replace(match.group(0), " ")
    match = _UNTIL.search(rest)
    if match:
        value = match["value"].replace(" ", "")
        if value.endswith("v"):
            fields["until_voltage_V"] = float(value[:-1])
        elif value.endswith("ma"):
            fields["until_current"] = float(value[:-2]) * 1e-3
        elif value.endswith("a"):
            fields["until_current"] = float(value[:-1])
        else:
            fields["until_current"] = _c_rate(value, text)
            fields["until_current_is_c_rate"] = True
        leftover = leftover.replace(match.group(0), " ")
    if leftover.replace("or", " ").strip():
        raise ValueError(f"cannot read {leftover.strip()!r} in step {text!r}")
    return fields


def parse_step(text: str) -> Step:
    """Parse one sentence into a :class:`Step`.

    Raises:
        ValueError: naming the sentence, if it does not follow the accepted forms or asks for
            something impossible (a rest with no duration, a hold that can never end).
    """
    sentence = " ".join(text.strip().lower().split())
    if match := _DRIVE.match(sentence):
        sign = 1.0 if match["verb"] == "discharge" else -1.0
        raw = match["value"].replace(" ", "")
        fields = _parse_rest(text, match["rest"])
        if "until_current" in fields:
            raise ValueError(f"a current or power step ends on a voltage or time: {text!r}")
        if raw.endswith("c") or raw.startswith("c/"):
            step = Step(text, "current", sign * _c_rate(raw, text), value_is_c_rate=True, **fields)
        elif raw.endswith("ma"):
            step = Step(text, "current", sign * float(raw[:-2]) * 1e-3, **fields)
        elif raw.endswith("mw"):
            step = Step(text, "power", sign * float(raw[:-2]) * 1e-3, **fields)
        elif raw.endswith("w"):
            step = Step(text, "power", sign * float(raw[:-1]), **fields)
        else:
            step = Step(text, "current", sign * float(raw[:-1]), **fields)
        if step.duration_s is None and step.until_voltage_V is None:
            raise ValueError(f"step never ends (give 'for ...' or 'until ... V'): {text!r}")
        return _check_ranges(step, sign)
    if match := _HOLD.match(sentence):
        fields = _parse_rest(text, match["rest"])
        if "until_voltage_V" in fields:
            raise ValueError(f"a voltage hold ends on a current or time: {text!r}")
        if "duration_s" not in fields and "until_current" not in fields:
            raise ValueError(f"hold never ends (give 'for ...' or 'until C/50'): {text!r}")
        return _check_ranges(Step(text, "voltage", float(match["value"]), **fields), 1.0)
    if match := _REST.match(sentence):
        fields = _parse_rest(text, match["rest"])
        if set(fields) != {"duration_s"}:
            raise ValueError(f"a rest needs exactly a duration ('Rest for 1 hour'): {text!r}")
        return _check_ranges(Step(text, "rest", 0.0, **fields), 1.0)
    raise ValueError(
        f"cannot parse step {text!r}: expected 'Discharge/Charge at <x>C|A|W ...', "
        "'Hold at <x> V ...' or 'Rest for <t> <unit>'"
    )


def repeat(steps: Sequence[str], times: int) -> list[str]:
    """The group of sentences ``steps`` repeated ``times`` times."""
    if times < 1:
        raise ValueError(f"repeat count must be >= 1, got {times}")
    return list(steps) * times


def parse_experiment(items: Iterable[str | Sequence[str]]) -> list[Step]:
    """Parse sentences (or groups of sentences, e.g. from :func:`repeat`) into steps."""
    steps = []
    for item in items:
        if isinstance(item, str):
            steps.append(parse_step(item))
        else:
            steps.extend(parse_step(text) for text in item)
    if not steps:
        raise ValueError("an experiment needs at least one step")
    return steps
