"""Progress of long runs: a live bar on a terminal, one line per experiment step otherwise.

Every model reports through the run's logger (:func:`electrolyx.driver.make_logger`, a
:class:`RunLog`): a :class:`Progress` that shows the step's text, the
simulated time against the step's end time (when it has one), the model's headline quantity
(voltage, current, ...), the Newton iterations so far and the wall time. On rank 0 only.

* stdout a terminal: a live bar (rich), redrawn at most ten times a second;
* ``--quiet`` or stdout not a terminal (a file, a pipe, a batch job's log, a notebook): one
  line per experiment step, written when the step ends::

      [   12.31 s] step 1/2 'Discharge at 1C until 2.5 V': t = 3555.3 s, 2.5000 V,
      1220 Newton iterations, 11.9 s wall

* ``quiet=True`` of the Python API: nothing.

A plain function as the logger (tests pass ``lambda message: None``) gets the step lines.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

__all__ = ["Progress", "RunLog"]

REFRESH_S = 0.1
"""Shortest wall time between two redraws of the live bar [s]."""


class RunLog:
    """A print function that writes on rank 0 only, time-stamped relative to its creation.

    Args:
        rank: This process's MPI rank (only rank 0 prints).
        quiet: Print no messages but the one line per experiment step (``--quiet``).
        silent: Print nothing at all (the Python API's ``quiet=True``).
        stream: Where to print (default: ``sys.stdout`` at the time of printing).
        live: Show a live progress bar; default: when ``stream`` is a terminal and neither
            ``quiet`` nor ``silent``.
    """

    def __init__(
        self,
        rank: int,
        quiet: bool = False,
        silent: bool = False,
        stream: TextIO | None = None,
        live: bool | None = None,
    ):
        self.rank = rank
        self.quiet = quiet or silent
        self.silent = silent
        self._stream = stream
        self.start = time.perf_counter()
        if live is None:
            live = not self.quiet and _is_terminal(self.stream)
        self.live = bool(live) and rank == 0 and not self.quiet

    @property
    def stream(self) -> TextIO:
        """The stream printed to."""
        return self._stream if self._stream is not None else sys.stdout

    def _print(self, message: str) -> None:
        print(
            f"[{time.perf_counter() - self.start:8.2f} s] {message}", file=self.stream, flush=True
        )

    def __call__(self, message: str) -> None:
        """Print a message (rank 0, unless quiet)."""
        if self.rank == 0 and not self.quiet:
            self._print(message)

    def step_line(self, message: str) -> None:
        """Print the line that closes an experiment step (rank 0, unless silent)."""
        if self.rank == 0 and not self.silent:
            self._print(message)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _seconds(value: float) -> str:
    return f"{value:.6g} s"


class Progress:
    """Progress of one run through its steps (see the module's docstring).

    Args:
        log: The run's logger (a :class:`RunLog`, or any print function).
        steps: Number of steps (experiment steps, sweep runs, cell problems), if known.
        unit: What one step is called in the lines (``"step"``, ``"run"``, ``"problem"``).
        live: Allow the live bar (when the logger shows one). An outer progress whose steps
            run inner ones (a sweep's runs) gives False: one live display at a time.
    """

    def __init__(
        self,
        log: Callable[[str], None],
        steps: int | None = None,
        unit: str = "step",
        live: bool = True,
    ):
        self.log = log
        self.steps = steps
        self.unit = unit
        self.live = live and bool(getattr(log, "live", False))
        self.start = time.perf_counter()
        self.index: int | None = None
        self.text = ""
        self.step_start_s = 0.0
        self.end_s: float | None = None
        self.time_s: float | None = None
        self.quantity = ""
        self.newton_iterations: int | None = None
        self.lines: list[str] = []
        self._bar: Any = None
        self._task: Any = None
        self._drawn = -float("inf")

    # -- what the models call -----------------------------------------------------------------

    def step(
        self, index: int, text: str, start_s: float | None = None, end_s: float | None = None
    ) -> None:
        """Begin step ``index`` (0-based): closes the previous one.

        Args:
            index: The step's index.
            text: Its description (the protocol sentence).
            start_s: Simulated time at its start [s] (None: a step without a time).
            end_s: Simulated time at which it ends at the latest [s], if known.
        """
        if self.index is not None:
            self._close_step()
        self.index, self.text, self.end_s = index, text, end_s
        self.quantity = ""
        self.step_start_s = start_s or 0.0
        self.time_s = start_s
        if self.live:
            self._start_bar()

    def update(
        self,
        time_s: float | None = None,
        quantity: str = "",
        newton_iterations: int | None = None,
    ) -> None:
        """The state now: simulated time [s], headline quantity as text, Newton iterations."""
        if time_s is not None:
            self.time_s = time_s
        if quantity:
            self.quantity = quantity
        if newton_iterations is not None:
            self.newton_iterations = newton_iterations
        if self.live:
            now = time.perf_counter()
            if now - self._drawn >= REFRESH_S:
                self._drawn = now
                self._redraw()

    def close(self, outcome: str = "") -> None:
        """End the last step (its line is printed) and remove the bar."""
        if self.index is not None:
            self._close_step(outcome)
            self.index = None
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close("stopped" if exc[0] is not None else "")

    # -- text -----------------------------------------------------------------------------------

    def _label(self) -> str:
        count = f"/{self.steps}" if self.steps else ""
        return f"{self.unit} {(self.index or 0) + 1}{count} {self.text!r}"

    def _state(self) -> str:
        parts = []
        if self.time_s is not None:
            time_text = f"t = {_seconds(self.time_s)}"
            if self.end_s is not None:
                time_text += f" of at most {_seconds(self.end_s)}"
            parts.append(time_text)
        if self.quantity:
            parts.append(self.quantity)
        if self.newton_iterations is not None:
            parts.append(f"{self.newton_iterations} Newton iterations")
        parts.append(f"{time.perf_counter() - self.start:.1f} s wall")
        return ", ".join(parts)

    def _close_step(self, outcome: str = "") -> None:
        line = f"{self._label()}: {self._state()}"
        if outcome:
            line += f" ({outcome})"
        self.lines.append(line)
        if self._bar is not None:
            self._redraw()
            self._bar.console.print(line, highlight=False)
            self._bar.remove_task(self._task)
            self._task = None
            return
        step_line = getattr(self.log, "step_line", self.log)
        step_line(line)

    # -- the live bar (rank 0, a terminal) -------------------------------------------------------

    def _start_bar(self) -> None:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, TextColumn
            from rich.progress import Progress as Bar

            stream = getattr(self.log, "stream", sys.stdout)
            self._bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[state]}"),
                console=Console(file=stream),
                refresh_per_second=1 / REFRESH_S,
            )
            self._bar.start()
        span = None if self.end_s is None else max(self.end_s - self.step_start_s, 0.0)
        self._task = self._bar.add_task(self._label(), total=span, state="")
        self._drawn = -float("inf")

    def _redraw(self) -> None:
        if self._bar is None or self._task is None:
            return
        done = None if self.time_s is None else self.time_s - self.step_start_s
        self._bar.update(self._task, completed=done, state=self._state())
