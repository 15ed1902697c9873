"""Cycling protocols written as plain sentences, PyBaMM style, parsed into typed steps.

Accepted sentences (case-insensitive; numbers may use exponents):

    "Discharge at 1C until 2.5 V"            "Charge at 0.5C until 4.2 V"
    "Discharge at 2 A for 10 minutes"        "Charge at C/3 for 2 hours or until 4.1 V"
    "Discharge at 5 W until 3 V"             "Hold at 4.2 V until C/50"
    "Rest for 1 hour"                        "Hold at 4.1 V for 30 minutes"

Currents and powers are positive on discharge (``Charge`` flips the sign). A step ends at the
first of its ``for`` duration and its ``until`` condition. Groups repeat with
:func:`repeat`. Parsing is done once here, so models receive only :class:`Step` objects.

A sentence is split into tokens (numbers, words, ``/``) in one pass and read by a small
recursive-descent reader, so parsing takes time linear in its length (which is at most
:data:`MAX_SENTENCE_LENGTH` characters). Every rate, current, power, voltage and duration must be
a positive finite number (``C/0``, ``1e999C``, ``for -5 s`` and ``for 0 s`` are errors), and a
protocol has at most :data:`MAX_PROTOCOL_STEPS` steps after :func:`repeat`. Errors are
:class:`ExperimentError` (a ``ValueError``) naming the sentence, the value and what is allowed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "MAX_C_RATE",
    "MAX_PROTOCOL_STEPS",
    "MAX_SENTENCE_LENGTH",
    "TIME_UNITS",
    "ExperimentError",
    "Step",
    "parse_experiment",
    "parse_step",
    "repeat",
]

MAX_SENTENCE_LENGTH = 200
"""Longest step sentence accepted [characters]."""

MAX_PROTOCOL_STEPS = 100_000
"""Most steps of a protocol after repetition (e.g. 20 000 cycles of five steps)."""

MAX_C_RATE = 1000.0
"""Highest C-rate of a step (a full discharge in 3.6 s; beyond, no cell model here applies)."""

#: Time units of protocol sentences and case times -> seconds.
TIME_UNITS = {
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
#: one token after optional blanks: a number, a word or a slash (each alternative is linear)
_TOKEN = re.compile(
    r"\s*(?:(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)|(?P<word>[a-z]+)|(?P<slash>/))"
)


class ExperimentError(ValueError):
    """A protocol sentence that cannot be read or asks for something impossible."""


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


class _Reader:
    """Reads the tokens of one sentence from left to right."""

    def __init__(self, text: str):
        self.text = text
        sentence = text.lower().rstrip()
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(sentence):
            match = _TOKEN.match(sentence, position)
            if match is None:
                bad = sentence[position:].strip()[:1]
                raise ExperimentError(f"unexpected character {bad!r} in step {text!r}")
            kind = match.lastgroup
            self.tokens.append((kind, match[kind]))
            position = match.end()
        self.index = 0

    def done(self) -> bool:
        return self.index >= len(self.tokens)

    def peek(self) -> tuple[str, str] | None:
        return None if self.done() else self.tokens[self.index]

    def take(self) -> tuple[str, str]:
        if self.done():
            raise ExperimentError(f"step {self.text!r} ends too early")
        token = self.tokens[self.index]
        self.index += 1
        return token

    def rest(self) -> str:
        """The unread part of the sentence (for messages)."""
        words = [value for _, value in self.tokens[self.index :]]
        return " ".join(words)

    def word(self, *expected: str) -> str:
        kind, value = self.take()
        if kind != "word" or (expected and value not in expected):
            self.index -= 1
            wanted = " or ".join(repr(e) for e in expected) if expected else "a word"
            raise ExperimentError(
                f"cannot read {self.rest()!r} in step {self.text!r}: expected {wanted}"
            )
        return value

    def number(self, what: str) -> float:
        kind, value = self.take()
        if kind != "number":
            self.index -= 1
            raise ExperimentError(
                f"cannot read {self.rest()!r} in step {self.text!r}: expected a number ({what})"
            )
        return self.positive(float(value), value, what)

    def positive(self, number: float, shown: str, what: str) -> float:
        if not (math.isfinite(number) and number > 0.0):
            raise ExperimentError(
                f"{what} {shown} in step {self.text!r} is not allowed: expected a positive "
                "finite number"
            )
        return number

    def c_over(self, what: str) -> float:
        """The rate of ``C/x`` after the word ``c`` was read."""
        kind, _ = self.take()
        if kind != "slash":
            self.index -= 1
            raise ExperimentError(f"cannot read {self.rest()!r} in step {self.text!r}")
        kind, value = self.take()
        if kind != "number":
            raise ExperimentError(f"cannot read 'C/{value}' in step {self.text!r}")
        divisor = float(value)
        if not (math.isfinite(divisor) and divisor > 0.0):
            raise ExperimentError(
                f"{what} C/{value} in step {self.text!r} is not allowed: the divisor must be a "
                "positive finite number"
            )
        return self.positive(1.0 / divisor, f"C/{value}", what)

    def clauses(self) -> dict:
        """The ``for <duration>`` and ``until <condition>`` clauses, joined by ``or``."""
        fields: dict = {}
        while not self.done():
            word = self.word("for", "until", "or")
            if word == "or":
                continue
            if word in fields:
                raise ExperimentError(f"{word!r} appears twice in step {self.text!r}")
            fields[word] = True
            if word == "for":
                duration = self.number("duration")
                unit = self.word()
                if unit not in TIME_UNITS:
                    raise ExperimentError(
                        f"unknown time unit {unit!r} in {self.text!r}: one of "
                        + ", ".join(TIME_UNITS)
                    )
                fields["duration_s"] = self.positive(
                    duration * TIME_UNITS[unit], f"{duration:g} {unit}", "duration"
                )
                continue
            kind, value = self.take()
            if kind == "word" and value == "c":
                fields["until_current"] = self.c_over("end current")
                fields["until_current_is_c_rate"] = True
                continue
            self.index -= 1
            number = self.number("end condition")
            unit = self.word("v", "ma", "a", "c")
            if unit == "v":
                fields["until_voltage_V"] = number
            elif unit == "ma":
                fields["until_current"] = number * 1e-3
            elif unit == "a":
                fields["until_current"] = number
            else:
                fields["until_current"] = number
                fields["until_current_is_c_rate"] = True
        fields.pop("for", None)
        fields.pop("until", None)
        return fields


def parse_step(text: str) -> Step:
    """Parse one sentence into a :class:`Step`.

    Raises:
        ExperimentError: naming the sentence, if it does not follow the accepted forms, has a
            value that is not a positive finite number, or asks for something impossible (a
            rest with no duration, a hold that can never end).
    """
    if not isinstance(text, str):
        raise ExperimentError(f"a step is a sentence (a string), not {type(text).__name__}")
    if len(text) > MAX_SENTENCE_LENGTH:
        raise ExperimentError(
            f"step {text[:40]!r}... has {len(text)} characters: at most {MAX_SENTENCE_LENGTH}"
        )
    forms = (
        "expected 'Discharge/Charge at <x>C|A|W ...', 'Hold at <x> V ...' or 'Rest for <t> <unit>'"
    )
    reader = _Reader(text)
    first = reader.peek()
    verb = first[1] if first is not None and first[0] == "word" else ""
    if verb not in ("discharge", "charge", "hold", "rest"):
        raise ExperimentError(f"cannot parse step {text!r}: {forms}")
    reader.take()
    if verb in ("discharge", "charge"):
        sign = 1.0 if verb == "discharge" else -1.0
        reader.word("at")
        kind, value = reader.take()
        if kind == "word" and value == "c":
            mode, number, is_c_rate = "current", reader.c_over("rate"), True
        else:
            reader.index -= 1
            number = reader.number("rate")
            unit = reader.word("c", "a", "ma", "w", "mw")
            mode = "power" if unit in ("w", "mw") else "current"
            number *= 1e-3 if unit in ("ma", "mw") else 1.0
            is_c_rate = unit == "c"
        if is_c_rate and number > MAX_C_RATE:
            raise ExperimentError(
                f"rate {number:g}C in step {text!r} is not allowed: at most {MAX_C_RATE:g}C"
            )
        fields = reader.clauses()
        if "until_current" in fields:
            raise ExperimentError(f"a current or power step ends on a voltage or time: {text!r}")
        step = Step(text, mode, sign * number, value_is_c_rate=is_c_rate, **fields)
        if step.duration_s is None and step.until_voltage_V is None:
            raise ExperimentError(f"step never ends (give 'for ...' or 'until ... V'): {text!r}")
        return step
    if verb == "hold":
        reader.word("at")
        voltage = reader.number("voltage")
        reader.word("v")
        fields = reader.clauses()
        if "until_voltage_V" in fields:
            raise ExperimentError(f"a voltage hold ends on a current or time: {text!r}")
        if "duration_s" not in fields and "until_current" not in fields:
            raise ExperimentError(f"hold never ends (give 'for ...' or 'until C/50'): {text!r}")
        return Step(text, "voltage", voltage, **fields)
    fields = reader.clauses()
    if set(fields) != {"duration_s"}:
        raise ExperimentError(f"a rest needs exactly a duration ('Rest for 1 hour'): {text!r}")
    return Step(text, "rest", 0.0, **fields)


def repeat(steps: Sequence[str], times: int) -> list[str]:
    """The group of sentences ``steps`` repeated ``times`` times.

    Raises:
        ExperimentError: if ``times`` < 1 or the protocol would exceed MAX_PROTOCOL_STEPS.
    """
    if times < 1:
        raise ExperimentError(f"repeat count must be >= 1, got {times}")
    if len(steps) * times > MAX_PROTOCOL_STEPS:
        raise ExperimentError(
            f"repeat count {times} times {len(steps)} step(s) gives {len(steps) * times} steps: "
            f"at most {MAX_PROTOCOL_STEPS} are allowed (experiment.repeat)"
        )
    return list(steps) * times


def parse_experiment(items: Iterable[str | Sequence[str]]) -> list[Step]:
    """Parse sentences (or groups of sentences, e.g. from :func:`repeat`) into steps."""
    parsed: dict[str, Step] = {}  # a repeated sentence is read once

    def step(text: str) -> Step:
        if not isinstance(text, str):
            raise ExperimentError(f"a step is a sentence (a string), not {type(text).__name__}")
        if text not in parsed:
            parsed[text] = parse_step(text)
        return parsed[text]

    steps = []
    for item in items:
        if isinstance(item, str):
            steps.append(step(item))
        else:
            steps.extend(step(text) for text in item)
        if len(steps) > MAX_PROTOCOL_STEPS:
            raise ExperimentError(f"more than {MAX_PROTOCOL_STEPS} steps")
    if not steps:
        raise ExperimentError("an experiment needs at least one step")
    return steps
