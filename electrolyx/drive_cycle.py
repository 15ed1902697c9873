"""Drive cycles: a current profile read from a CSV file with the columns ``time_s,current_A``.

The file is strict UTF-8 of at most :data:`MAX_FILE_BYTES` bytes, one header line naming the
columns ``time_s`` and ``current_A`` (in any order, other columns ignored), then rows of numbers
separated by commas. Times start at 0 and increase strictly; every value is a finite number; at
least two rows. Anything else is a :class:`DriveCycleError` (a ``ValueError``) naming the file,
the line and the value.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

__all__ = ["MAX_FILE_BYTES", "DriveCycleError", "read_drive_cycle"]

MAX_FILE_BYTES = 256 * 1024 * 1024
"""Largest drive-cycle file read [bytes] (a day at 10 Hz is about 20 MB)."""


class DriveCycleError(ValueError):
    """A drive-cycle file that cannot be read or does not describe a current profile."""


def read_drive_cycle(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Times [s] and currents [A] of a drive-cycle CSV with a header ``time_s,current_A``.

    Raises:
        OSError: if the file cannot be opened.
        DriveCycleError: naming the file (and line), if the columns are missing, a value is not
            a finite number, the times do not start at 0 and increase, or there are fewer than
            two rows.
    """
    path = Path(path)
    with open(path, "rb") as stream:
        raw = stream.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise DriveCycleError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DriveCycleError(
            f"{path}: not UTF-8 text (byte 0x{raw[error.start]:02x} on line {line})"
        ) from None
    lines = text.splitlines()
    if not lines:
        raise DriveCycleError(f"{path}: empty; needs a header time_s,current_A and two rows")
    header = [name.strip() for name in lines[0].split(",")]
    if "time_s" not in header or "current_A" not in header:
        shown = header if len(lines[0]) <= 200 else f"{lines[0][:200]!r}..."
        raise DriveCycleError(f"{path}: needs the columns time_s and current_A, has {shown}")
    time_column, current_column = header.index("time_s"), header.index("current_A")
    times: list[float] = []
    currents: list[float] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != len(header):
            raise DriveCycleError(
                f"{path}, line {number}: {len(cells)} values for {len(header)} columns"
            )
        row = []
        for column in (time_column, current_column):
            text_value = cells[column].strip()
            try:
                value = float(text_value)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                shown = text_value if len(text_value) <= 40 else text_value[:40] + "..."
                raise DriveCycleError(
                    f"{path}, line {number}: {header[column]} = {shown!r} is not allowed: "
                    "expected a finite number"
                )
            row.append(value)
        times.append(row[0])
        currents.append(row[1])
    if len(times) < 2:
        raise DriveCycleError(f"{path}: {len(times)} row(s); a drive cycle needs at least two")
    time_array, current_array = np.array(times), np.array(currents)
    if time_array[0] != 0.0:
        raise DriveCycleError(f"{path}: times must start at 0 (first time {times[0]!r} s)")
    steps = np.diff(time_array)
    if np.any(steps <= 0):
        first = int(np.flatnonzero(steps <= 0)[0])
        raise DriveCycleError(
            f"{path}: times must increase: {times[first + 1]!r} s follows {times[first]!r} s "
            f"(row {first + 2} of the data)"
        )
    return time_array, current_array
