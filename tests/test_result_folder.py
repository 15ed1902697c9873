"""Nothing of the user's is lost (issue 17, item 2).

A run writes into a hidden folder and moves it into place only once complete; a failed or
interrupted run goes beside the requested folder; an existing folder that is not an electrolyx
result is refused unless --overwrite, and then moved aside, never deleted; no hidden or temporary
file outlives the process. The runs here use the Gouy-Chapman case (0.3 s of solving) in-process,
and the DFN case in a subprocess where a signal must arrive during the run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from mpi4py import MPI

import pytest
from conftest import BIN, CASES, ROOT, rank_processes

from electrolyx.cli import build_parser, main
from electrolyx.output import (
    RESULT_MARKER,
    ResultFolderError,
    ResultWriter,
    _discard_result,
    check_result_target,
    is_result_folder,
)

CASE = CASES / "edl-gouy-chapman"
FAIL = ["--set", "solver.max_iterations=1", "--set", "solver.continuation_steps=1"]

build_parser()  # imports every subcommand's modules once: timings below measure work


def run(*args: str) -> int:
    return main(["run", str(CASE), "--quiet", *args])


def hidden(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".")]


def test_a_completed_run_is_marked_and_lists_its_files(tmp_path):
    out = tmp_path / "results"
    assert run("--out", str(out)) == 0
    info = json.loads((out / "run.json").read_text())
    assert info[RESULT_MARKER] == 1
    assert info["status"] == "completed"
    on_disk = sorted(
        str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() or p.is_symlink()
    )
    assert info["files"] == on_disk  # every file the run wrote, run.json included
    assert hidden(tmp_path) == []


def test_a_failed_run_beside_a_completed_result_leaves_it_intact(tmp_path):
    out = tmp_path / "results"
    assert run("--out", str(out)) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert run("--out", str(out), *FAIL) == 1
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # byte for byte
    (failed,) = tmp_path.glob("results.failed-*")
    info = json.loads((failed / "run.json").read_text())
    assert info["status"] == "failed"
    assert "Newton did not converge" in info["message"]
    assert hidden(tmp_path) == []


def test_rerunning_replaces_only_what_electrolyx_wrote(tmp_path, capsys):
    out = tmp_path / "results"
    assert run("--out", str(out)) == 0
    (out / "figures").mkdir()
    (out / "figures" / "old.png").write_bytes(b"png")
    (out / "report.html").write_text("<html/>")
    (out / "my_notes.txt").write_text("keep me")
    (out / "fields" / "mine.vtu").write_text("keep me too")
    assert main(["run", str(CASE), "--out", str(out)]) == 0
    assert not (out / "figures").exists() and not (out / "report.html").exists()
    assert not (out / "my_notes.txt").exists()
    (previous,) = tmp_path.glob("results.previous-*")
    kept = sorted(str(p.relative_to(previous)) for p in previous.rglob("*") if p.is_file())
    assert kept == ["fields/mine.vtu", "my_notes.txt"]  # what the run did not write, only
    assert "did not write are kept in" in capsys.readouterr().out
    assert hidden(tmp_path) == []


def test_an_old_result_lists_no_file_outside_itself(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    outside = tmp_path / "precious.txt"
    outside.write_text("x")
    (folder / "a.csv").write_text("1")
    info = {RESULT_MARKER: 1, "files": ["a.csv", "../precious.txt", str(outside)]}
    assert _discard_result(folder, info) is None  # a.csv gone, folder empty and removed
    assert outside.read_text() == "x"


def test_out_onto_an_existing_file_exits_2_before_any_work(tmp_path, capsys):
    target = tmp_path / "results"
    target.write_text("my data")
    start = time.perf_counter()
    assert run("--out", str(target)) == 2
    assert time.perf_counter() - start < 1.0  # refused before the mesh is built
    assert f"--out {target} is an existing file, not a folder" in capsys.readouterr().err
    assert target.read_text() == "my data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_out_onto_a_folder_that_is_not_a_result(tmp_path, capsys):
    target = tmp_path / "thesis"
    target.mkdir()
    (target / "chapter1.tex").write_text("precious")
    assert run("--out", str(target)) == 2
    error = capsys.readouterr().err
    assert "is an existing folder that is not an electrolyx result" in error
    assert "--overwrite" in error
    assert run("--out", str(target), "--overwrite") == 0
    assert is_result_folder(target)
    (aside,) = tmp_path.glob("thesis.previous-*")
    assert (aside / "chapter1.tex").read_text() == "precious"  # moved, not deleted


def test_an_empty_folder_takes_a_result(tmp_path):
    target = tmp_path / "empty"
    target.mkdir()
    assert run("--out", str(target)) == 0
    assert is_result_folder(target)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("file/sub", "is a file, not a folder"),
        ("/proc/electrolyx_result", "cannot create a folder there"),
        ("CASE", f"--out {CASE} is {CASE} (the case folder"),
        ("/", "--out / contains"),
    ],
)
def test_out_where_nothing_may_be_written_exits_2(tmp_path, capsys, where, message):
    (tmp_path / "file").write_text("x")
    out = str(CASE) if where == "CASE" else where if where.startswith("/") else tmp_path / where
    assert run("--out", str(out)) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in CASE.iterdir()) == ["README.md", "case.toml"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_out_in_a_read_only_folder_exits_2(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert run("--out", str(locked / "results")) == 2
        assert "permission denied" in capsys.readouterr().err
    finally:
        locked.chmod(0o755)


def sweep(out: Path, case: Path = CASE, *extra: str) -> int:
    return main(
        [
            "run",
            str(case),
            "--quiet",
            "--out",
            str(out),
            "--set",
            'sweep.keys=["boundaries.wall.potential"]',
            "--set",
            "sweep.values=[0.05, 0.1]",
            *extra,
        ]
    )


def test_a_sweep_into_results_of_another_case_is_refused(tmp_path, capsys):
    other = tmp_path / "other_case"
    other.mkdir()
    (other / "case.toml").write_text((CASE / "case.toml").read_text())
    out = tmp_path / "sweep"
    assert sweep(out, other) == 0
    before = json.loads((out / "run_000" / "run.json").read_text())
    assert sweep(out) == 2
    assert "holds results of another case" in capsys.readouterr().err
    assert json.loads((out / "run_000" / "run.json").read_text()) == before
    assert sweep(out, CASE, "--overwrite") == 0
    (aside,) = tmp_path.glob("sweep.previous-*")
    assert json.loads((aside / "run_000" / "run.json").read_text()) == before
    # The same case again: its own results are replaced run by run.
    assert sweep(out) == 0
    assert hidden(out) == [] and hidden(tmp_path) == []


def test_a_sweep_into_a_single_result_is_refused(tmp_path, capsys):
    out = tmp_path / "results"
    assert run("--out", str(out)) == 0
    assert sweep(out) == 2
    assert "is the result of a single run" in capsys.readouterr().err


# ---------------------------------------------------------------- signals (subprocesses)
LONG_DFN = [
    "--set",
    'experiment.steps=["Discharge at 0.1C for 10 hours"]',
    "--set",
    "time_stepping.max_step=1.0",
    "--set",
    "output.fields=false",
]


@pytest.mark.parametrize(
    ("ranks", "signal_number"),
    [(1, signal.SIGTERM), (1, signal.SIGINT), (2, signal.SIGTERM)],
    ids=["sigterm", "sigint", "sigterm-2-ranks"],
)
def test_an_interrupted_run_goes_beside_and_leaves_no_temporary_file(
    tmp_path, ranks, signal_number
):
    case = CASES / "dfn-chen2020-1C"
    out = tmp_path / "results"
    out.mkdir()
    marker = {RESULT_MARKER: 1, "status": "completed", "files": ["run.json"]}
    (out / "run.json").write_text(json.dumps(marker))  # a completed result to protect
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    command = [str(BIN / "electrolyx"), "run", str(case), "--out", str(out), *LONG_DFN]
    if ranks > 1:
        command = [str(BIN / "mpiexec"), "-n", str(ranks), *command]
    env = {**os.environ, "TMPDIR": str(scratch)}
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a signal mpiexec passes to its process group stays there
    )
    try:
        for line in process.stdout:
            if "unknowns" in line:
                break
        # Let it write rows: 0.1C with steps of at most 1 s runs for minutes, so the signal
        # lands in the time loop.
        time.sleep(3.0)
        # Under mpiexec the ranks are signalled, as Slurm does (every task): mpiexec that gets
        # SIGTERM itself may exit 143 at once, before the ranks have written anything.
        for pid in rank_processes(process.pid) if ranks > 1 else [process.pid]:
            os.kill(pid, signal_number)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + signal_number, stderr
    assert f"interrupted ({signal.Signals(signal_number).name})" in stderr
    assert "Traceback" not in stderr
    assert json.loads((out / "run.json").read_text()) == marker  # untouched
    (interrupted,) = tmp_path.glob("results.interrupted-*")
    info = json.loads((interrupted / "run.json").read_text())
    assert info["status"] == "interrupted"
    rows = (interrupted / "timeseries.csv").read_text().splitlines()
    assert len(rows) > 2  # the rows written before the signal are kept
    assert hidden(tmp_path) == []
    assert list(scratch.iterdir()) == []


def test_check_of_the_bpx_case_leaves_nothing_in_the_temporary_folder(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    result = subprocess.run(
        [str(BIN / "electrolyx"), "check", str(CASES / "dfn-bpx-nmc-pouch")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    # Before issue 17 the bpx package left 8 reconstructed_function.py files here.
    assert list(scratch.iterdir()) == []


def test_homogenise_does_not_overwrite_a_file_it_did_not_write(tmp_path, capsys):
    notes = tmp_path / "notes.toml"
    notes.write_text("my = 'notes'\n")
    case = str(CASES / "homogenise-3d-packing")
    start = time.perf_counter()
    assert main(["homogenise", case, "--out", str(notes)]) == 2
    assert time.perf_counter() - start < 1.0  # refused before any mesh
    assert "was not written by `electrolyx homogenise`" in capsys.readouterr().err
    assert notes.read_text() == "my = 'notes'\n"


# ------------------------------------------------------------------ the same on every rank
@pytest.mark.mpi
def test_out_refusals_are_the_same_on_every_rank(shared_tmp_path):
    comm = MPI.COMM_WORLD
    target = shared_tmp_path / "a_file"
    if comm.rank == 0:
        target.write_text("x")
    comm.barrier()
    with pytest.raises(ResultFolderError, match="is an existing file, not a folder"):
        check_result_target(target, comm)


@pytest.mark.mpi
def test_a_result_moves_into_place_once_for_all_ranks(shared_tmp_path):
    comm = MPI.COMM_WORLD
    writer = ResultWriter(shared_tmp_path / "results", comm)
    writer.add_timeseries_row({"time_s": 0.0, "voltage_V": 4.0})
    folder = writer.finish({"status": "completed", "rank_count": comm.size})
    assert comm.allgather(str(folder)) == [str(shared_tmp_path / "results")] * comm.size
    assert is_result_folder(folder)
    comm.barrier()
    assert sorted(p.name for p in shared_tmp_path.iterdir()) == ["results"]  # no hidden folder
