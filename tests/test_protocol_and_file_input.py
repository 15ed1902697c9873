"""Protocol sentences, drive cycles, mesh files and run.json read defensively (issue 17, item 3).

Each bad input is a CaseError (exit code 2) naming the file or key, the value and what is
allowed, found within a second; the sentence reader takes time linear in the sentence length.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from mpi4py import MPI

import pytest
from conftest import CASES

from electrolyx.case import load_case
from electrolyx.cli import main
from electrolyx.drive_cycle import DriveCycleError, read_drive_cycle
from electrolyx.errors import CaseError
from electrolyx.experiment import (
    MAX_PROTOCOL_STEPS,
    MAX_SENTENCE_LENGTH,
    ExperimentError,
    _Reader,
    parse_step,
    repeat,
)
from electrolyx.meshes.mesh_file import MeshFileError, read_mesh_file

DFN = CASES / "dfn-chen2020-1C"
GOUY_CHAPMAN = CASES / "edl-gouy-chapman"


# ---------------------------------------------------------------------------- sentences
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Discharge at C/0 until 2.5 V", "rate C/0 in step"),
        ("Discharge at 1e999C until 2.5 V", "rate 1e999 in step"),
        ("Discharge at 0C until 2.5 V", "rate 0 in step"),
        ("Discharge at -1C until 2.5 V", "rate -1 in step"),
        ("Charge at 0 A for 10 s", "rate 0 in step"),
        ("Rest for -5 s", "duration -5 in step"),
        ("Rest for 0 minutes", "duration 0 in step"),
        ("Discharge at 1C for 1e308 hours", "duration 1e+308 hours in step"),
        ("Hold at 0 V until C/50", "voltage 0 in step"),
        ("Hold at 4.2 V until C/0", "end current C/0 in step"),
        ("Discharge at 1C until -2.5 V", "end condition -2.5 in step"),
        ("Rest for 1 s for 2 s", "'for' appears twice"),
        ("Discharge at 1C until 2.5 V; rm -rf", "unexpected character ';'"),
    ],
)
def test_meaningless_sentences_are_refused(text, message):
    with pytest.raises(ExperimentError) as error:
        parse_step(text)
    assert message in str(error.value)
    assert repr(text) in str(error.value)


def test_refused_sentences_are_case_errors_naming_the_key():
    start = time.perf_counter()
    with pytest.raises(CaseError) as error:
        load_case(DFN, ['experiment.steps=["Discharge at C/0 until 2.5 V"]'])
    assert time.perf_counter() - start < 1.0
    assert "experiment.steps: rate C/0 in step 'Discharge at C/0 until 2.5 V' is not allowed: " in (
        str(error.value)
    )


def test_sentence_length_is_bounded():
    text = "Discharge at 1C until 2.5 V" + " or" * 100
    with pytest.raises(ExperimentError, match=f"at most {MAX_SENTENCE_LENGTH}"):
        parse_step(text)


def test_reading_a_sentence_takes_linear_time():
    """The tokenizer is linear: 10 times the text takes about 10 times as long.

    The former regular expressions took super-linear time on long sentences. Sentences are now
    bounded to 200 characters anyway; the reader itself is timed on 0.1 and 1 M characters
    (measured: 0.04 s and 0.3 s). A quadratic reader would take 100 times as long for the
    longer text; 30 leaves room for the noise of a shared machine.
    """

    def seconds(n: int) -> float:
        text = "for 1 s or until 2.5 v " * (n // 23)
        start = time.perf_counter()
        _Reader(text)
        return time.perf_counter() - start

    short = min(seconds(100_000) for _ in range(3))
    long = min(seconds(1_000_000) for _ in range(2))
    assert long < 30 * short
    assert long < 5.0


def test_worst_case_sentences_parse_within_milliseconds():
    cases = [
        "Discharge at " + "1" * 180 + "C until 2.5 V",
        "Rest " + "or " * 60,
        "Charge at C/" + "9" * 180 + " until 4 V",
        "discharge " * 20,
    ]
    for text in cases:
        start = time.perf_counter()
        with pytest.raises(ExperimentError):
            parse_step(text)
        # Bounded text and a linear reader: far below a millisecond each; 0.05 s allows load.
        assert time.perf_counter() - start < 0.05


def test_huge_repeat_is_a_case_error_not_a_memory_error():
    with pytest.raises(ExperimentError, match=f"at most {MAX_PROTOCOL_STEPS}"):
        repeat(["Rest for 1 s"], 10**12)
    start = time.perf_counter()
    with pytest.raises(CaseError, match=r"experiment.repeat = 1000000000000 is out of range"):
        load_case(DFN, ["experiment.repeat=1000000000000"])
    two_steps = ['experiment.steps=["Rest for 1 s", "Rest for 1 s"]']
    with pytest.raises(CaseError, match=f"200000 steps; allowed at most {MAX_PROTOCOL_STEPS}"):
        load_case(DFN, [*two_steps, f"experiment.repeat={MAX_PROTOCOL_STEPS}"])
    # Refused from the counts alone: no protocol is expanded (1 s is 100x the measured time).
    assert time.perf_counter() - start < 1.0


# ------------------------------------------------------------------------- drive cycles
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"time_s,current_A\n", "0 row(s); a drive cycle needs at least two"),
        (b"", "empty; needs a header"),
        (b"time_s,current_A\n0,1\nnan,2\n", "line 3: time_s = 'nan' is not allowed"),
        (b"time_s,current_A\n0,1\n10,inf\n", "line 3: current_A = 'inf' is not allowed"),
        (b"time_s,current_A\n0,1\n10,2\n5,3\n", "times must increase: 5.0 s follows 10.0 s"),
        (b"time_s,current_A\n0,1\n10\n", "line 3: 1 values for 2 columns"),
        (b"time_s,current_A\n0,1\n10,\xff\n", "not UTF-8 text (byte 0xff on line 3)"),
        (b"time,current\n0,1\n1,1\n", "needs the columns time_s and current_A"),
    ],
    ids=["no-rows", "empty", "nan", "inf", "unsorted", "ragged", "utf8", "header"],
)
def test_bad_drive_cycles_are_refused(tmp_path, content, message):
    path = tmp_path / "cycle.csv"
    path.write_bytes(content)
    with pytest.raises(DriveCycleError) as error:
        read_drive_cycle(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_a_drive_cycle_with_nan_rows_is_a_case_error(tmp_path):
    case_dir = tmp_path / "case"
    case_dir.mkdir()
    (case_dir / "case.toml").write_text(
        '[case]\nmodel = "dfn"\n\n[experiment]\ndrive_cycle = "cycle.csv"\n'
    )
    (case_dir / "cycle.csv").write_text("time_s,current_A\n0,5\n60,nan\n120,1\n")
    with pytest.raises(CaseError, match=r"experiment.drive_cycle: .*line 3: current_A = 'nan'"):
        load_case(case_dir)


def test_good_drive_cycle_reads_exactly(tmp_path):
    path = tmp_path / "cycle.csv"
    path.write_text("current_A, time_s, note\n5,0,a\n\n2,60,b\n-1,120.5,c\n")
    times, currents = read_drive_cycle(path)
    assert times.tolist() == [0.0, 60.0, 120.5]
    assert currents.tolist() == [5.0, 2.0, -1.0]


# ---------------------------------------------------------------------------- mesh files
def pnp_case_with_mesh_file(tmp_path: Path, content: bytes, name: str = "mesh.msh") -> Path:
    case_dir = tmp_path / "case"
    case_dir.mkdir()
    text = (GOUY_CHAPMAN / "case.toml").read_text()
    start = text.index("[mesh]")
    end = text.index("\n[", start + 1)
    mesh = f'[mesh]\ngenerator = "gmsh_file"\npath = "{name}"\ndimension = 1\n'
    (case_dir / "case.toml").write_text(text[:start] + mesh + text[end:])
    (case_dir / name).write_bytes(content)
    return case_dir


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not a mesh\n", "not a gmsh mesh file (an MSH file starts with $MeshFormat"),
        (b"$MeshFormat\n4.1 0 8\n$EndMeshFormat\n$Nodes\ngarbage\n", "cannot be read as a gmsh"),
        (b"$MeshFormat\n4.1 0 8\n$EndMeshFormat\n", "holds no cells"),
    ],
    ids=["text", "truncated", "empty-mesh"],
)
def test_a_mesh_file_that_is_not_a_mesh_exits_2(tmp_path, capsys, content, message):
    case_dir = pnp_case_with_mesh_file(tmp_path, content)
    start = time.perf_counter()
    assert main(["check", str(case_dir)]) == 2
    assert time.perf_counter() - start < 5.0  # the mesh is probed on rank 0, then refused
    error = capsys.readouterr().err
    assert "mesh file: " in error and message in error


def test_a_geo_script_posing_as_a_mesh_runs_nothing(tmp_path, capsys):
    """gmsh runs any file it does not recognise as a mesh as a .geo script (SystemCall!)."""
    marker = tmp_path / "written_by_the_mesh_file"
    script = f'SystemCall "touch {marker}";\nPoint(1) = {{0, 0, 0}};\n'.encode()
    case_dir = pnp_case_with_mesh_file(tmp_path, script)
    assert main(["check", str(case_dir)]) == 2
    assert not marker.exists()
    assert "not a gmsh mesh file" in capsys.readouterr().err


def test_homogenise_on_a_file_that_is_not_a_mesh_exits_2(tmp_path, capsys):
    bad = tmp_path / "microstructure.vtu"
    bad.write_text("<VTKFile>not really</VTKFile>")
    assert main(["homogenise", str(bad)]) == 2
    assert "mesh file: " in capsys.readouterr().err


# ------------------------------------------------------------------------------ plotting
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[1, 2, 3]", "holds a JSON list, not the object electrolyx run writes"),
        (b'"completed"', "holds a JSON str"),
        (b"{", "not valid JSON (line 1"),
        (b"\xff\xfe", "not UTF-8 text"),
    ],
)
def test_plot_of_a_run_json_that_is_not_an_object_exits_2(tmp_path, capsys, content, message):
    (tmp_path / "run.json").write_bytes(content)
    assert main(["plot", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert message in error
    assert not (tmp_path / "figures").exists()


def test_plot_survives_odd_sections_of_run_json(tmp_path):
    run = {"case": 3, "mesh": [1], "diagnostics": "x", "model": 5}
    (tmp_path / "run.json").write_text(json.dumps(run))
    (tmp_path / "timeseries.csv").write_text("time_s,voltage_V\n0,4.0\n1,3.9\n")
    assert main(["plot", str(tmp_path)]) == 0
    assert (tmp_path / "figures").is_dir()


@pytest.mark.mpi
def test_a_mesh_file_that_is_not_a_mesh_is_refused_on_every_rank(shared_tmp_path):
    comm = MPI.COMM_WORLD
    path = shared_tmp_path / "bad.msh"
    if comm.rank == 0:
        path.write_text('SystemCall "true";\n')
    comm.barrier()
    with pytest.raises(MeshFileError, match="not a gmsh mesh file"):
        read_mesh_file(comm, path)
