"""Progress of long runs (electrolyx.progress): one line per experiment step off a terminal.

The CLI's stdout here is a pipe, not a terminal: no live bar, but one line per experiment step,
written by rank 0 only, carrying the step's text, its end time, the voltage and the Newton
iterations of the run. The numbers in the lines are checked against the run's own
timeseries.csv and run.json.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from conftest import CASES, run_cli

from electrolyx.progress import Progress, RunLog

COARSE = [
    *("--set", "mesh.negative_cells=8", "--set", "mesh.separator_cells=3"),
    *("--set", "mesh.positive_cells=8", "--set", "mesh.negative_radial_points=8"),
    *("--set", "mesh.positive_radial_points=8", "--set", "output.profile_times=[]"),
    *("--set", "output.fields=false"),
]
STEPS = ["Discharge at 1C for 20 minutes", "Rest for 5 minutes"]
PROTOCOL = ["--set", "experiment.steps=" + json.dumps(STEPS)]
LINE = re.compile(
    r"step (\d)/2 '([^']+)': t = ([0-9.e+]+) s of at most ([0-9.e+]+) s, ([0-9.]+) V, "
    r"([-0-9.e+]+) A, (\d+) Newton iterations, [0-9.]+ s wall"
)


def step_lines(stdout: str) -> list[re.Match]:
    return [m for line in stdout.splitlines() if (m := LINE.search(line))]


def check_lines(stdout: str, folder) -> None:
    lines = step_lines(stdout)
    # One line per step, each once (under mpiexec: rank 0 only, not once per rank).
    assert [(int(m[1]), m[2]) for m in lines] == [(1, STEPS[0]), (2, STEPS[1])]
    with open(folder / "timeseries.csv") as stream:
        rows = list(csv.DictReader(stream))
    info = json.loads((folder / "run.json").read_text())
    ends = {1: 1200.0, 2: 1500.0}  # the steps' durations: 20 and 20 + 5 minutes
    for match in lines:
        step = int(match[1])
        last = [r for r in rows if float(r["step_index"]) == step - 1][-1]
        # The line shows the step's last row (6 significant digits of time, 4 decimals of V).
        assert float(match[3]) == pytest.approx(float(last["time_s"]), rel=1e-5)
        assert float(match[3]) == pytest.approx(ends[step], rel=1e-5)
        assert float(match[4]) == pytest.approx(ends[step], rel=1e-12)
        assert float(match[5]) == pytest.approx(float(last["voltage_V"]), abs=5e-5)
        assert float(match[6]) == pytest.approx(float(last["current_A"]), abs=5e-4)
    # The last line's Newton iterations are the run's total.
    assert int(lines[-1][7]) == info["solver"]["newton_iterations"]


def test_off_a_terminal_one_line_per_step(tmp_path):
    out = tmp_path / "run"
    result = run_cli("run", str(CASES / "dfn-chen2020-1C"), "--out", str(out), *COARSE, *PROTOCOL)
    assert result.returncode == 0, result.stderr
    check_lines(result.stdout, out)
    assert "results written to" in result.stdout  # the messages too, without --quiet


def test_two_ranks_quiet_print_each_step_line_once(tmp_path):
    out = tmp_path / "run"
    result = run_cli(
        "run",
        str(CASES / "dfn-chen2020-1C"),
        "--out",
        str(out),
        "--quiet",
        *COARSE,
        *PROTOCOL,
        ranks=2,
    )
    assert result.returncode == 0, result.stderr
    check_lines(result.stdout, out)
    assert len(result.stdout.splitlines()) == 2  # --quiet: the step lines only


def test_progress_lines_and_silence():
    stream = io.StringIO()
    log = RunLog(0, quiet=True, stream=stream)
    assert not log.live  # quiet: never a live bar
    progress = Progress(log, 2, unit="problem")
    progress.step(0, "first", 0.0, 10.0)
    progress.update(4.0, "1.5 V", 3)
    log("a message")  # quiet: not printed
    progress.step(1, "second")
    progress.update(newton_iterations=7)
    progress.close("done")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert "problem 1/2 'first': t = 4 s of at most 10 s, 1.5 V, 3 Newton iterations" in lines[0]
    assert "problem 2/2 'second': 7 Newton iterations" in lines[1]
    assert lines[1].endswith("(done)")
    # Rank 1 and the API's silence print nothing.
    for other in (RunLog(1, stream=stream), RunLog(0, silent=True, stream=stream)):
        before = stream.getvalue()
        with Progress(other, 1) as quiet_progress:
            quiet_progress.step(0, "x", 0.0)
        other("message")
        assert stream.getvalue() == before
