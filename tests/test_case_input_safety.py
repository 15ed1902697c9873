"""A case file describes a simulation and nothing more (issue 17, items 1 and 3).

PETSc options only from an allow-list, files only from inside the case folder, and every
malformed case.toml refused with exit code 2 and a message naming the file, the key, the value
and what is allowed, within a second, without a traceback.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import CASES, run_cli

from electrolyx.case import MAX_NESTING, load_case
from electrolyx.cli import main
from electrolyx.errors import CaseError
from electrolyx.models.microstructure import ITERATIVE_SOLVER
from electrolyx.petsc_options import PYTHON_PRECONDITIONERS, petsc_option_problems
from electrolyx.solver import petsc_options_from_case

GOUY_CHAPMAN = CASES / "edl-gouy-chapman"
DFN = CASES / "dfn-chen2020-1C"


def copied(case: Path, tmp_path: Path) -> Path:
    target = tmp_path / case.name
    shutil.copytree(case, target, ignore=shutil.ignore_patterns("results*"))
    return target


def refused(case_dir, overrides=()) -> str:
    start = time.perf_counter()
    with pytest.raises(CaseError) as error:
        load_case(case_dir, list(overrides))
    # Issue 17: every bad input gets its answer within a second (measured: below 0.05 s).
    assert time.perf_counter() - start < 1.0
    return str(error.value)


# ------------------------------------------------------------------------ PETSc options
def test_python_preconditioner_of_any_other_class_is_refused():
    message = refused(
        GOUY_CHAPMAN, ['solver.petsc.pc_type="python"', 'solver.petsc.pc_python_type="os.abort"']
    )
    assert "solver.petsc.pc_python_type = 'os.abort' is not allowed: expected one of " in message
    assert repr(PYTHON_PRECONDITIONERS[0]) in message
    assert 'solver.petsc.pc_type = "python" is allowed only with ' in message


def test_the_shipped_python_preconditioner_is_allowed():
    case = load_case(CASES / "nanopore-3d")
    assert case.settings["solver"]["petsc"]["pc_python_type"] == PYTHON_PRECONDITIONERS[0]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("ksp_monitor", '"ascii:/tmp/electrolyx_monitor.txt"', 'expected "" (print on standard'),
        ("snes_view", '"binary:/tmp/x.bin"', 'expected "" (print on standard output'),
        ("options_file", '"/etc/passwd"', "not an allowed PETSc option"),
        ("log_view", '""', "not an allowed PETSc option"),
        ("ksp_type", '"python"', "expected one of 'preonly'"),
        ("snes_type", '"python"', "expected one of 'newtonls'"),
        ("transport_pc_python_type", '"os.system"', "expected one of 'electrolyx."),
        ("fieldsplit_0_pc_python_type", '"builtins.exec"', "expected one of 'electrolyx."),
        ("ksp_rtol", '"1e-6"', "expected a number in [0, 1e+300]"),
        ("ksp_max_it", "-1", "expected an integer in [0, 1e+09]"),
        ("pc_gamg_reuse_interpolation", "1", "expected true or false"),
        ("-ksp_type", '"gmres"', "without the leading dash"),
        ("on_error_attach_debugger", '""', "not an allowed PETSc option"),
        ("mat_type", '"python"', "not an allowed PETSc option"),
    ],
)
def test_petsc_options_outside_the_allow_list_are_refused(key, value, message):
    text = refused(GOUY_CHAPMAN, [f"solver.petsc.{key}={value}"])
    assert f"solver.petsc.{key} = " in text
    assert message in text


@pytest.mark.parametrize(
    "options",
    [
        {"snes_monitor": "", "ksp_converged_reason": "", "ksp_type": "gmres"},
        {"pc_type": "fieldsplit", "pc_fieldsplit_0_fields": "0,1", "fieldsplit_0_pc_type": "lu"},
        {"mat_mumps_icntl_14": 200, "mat_mumps_cntl_1": 0.01, "pc_factor_mat_solver_type": "mumps"},
        {"mg_levels_ksp_type": "chebyshev", "mg_levels_pc_type": "sor", "pc_type": "gamg"},
        {"sub_pc_type": "ilu", "sub_pc_factor_levels": 2, "pc_type": "asm", "pc_asm_overlap": 2},
        ITERATIVE_SOLVER,  # the microstructure model's own preset, field splits by name
    ],
)
def test_ordinary_solver_settings_are_allowed(options):
    assert petsc_option_problems(options) == []


def test_solver_options_are_checked_again_where_they_reach_petsc():
    solver = {
        "line_search": "bt",
        "relative_tolerance": 1e-10,
        "absolute_tolerance": 1e-10,
        "max_iterations": 20,
        "linear_solver": "mumps",
        "petsc": {"pc_type": "python", "pc_python_type": "os.abort"},
    }
    with pytest.raises(CaseError, match="pc_python_type = 'os.abort' is not allowed"):
        petsc_options_from_case(solver)


def test_python_preconditioner_exits_2_on_the_command_line(capsys):
    code = main(
        [
            "check",
            str(GOUY_CHAPMAN),
            "--set",
            'solver.petsc.pc_type="python"',
            "--set",
            'solver.petsc.pc_python_type="os.abort"',
        ]
    )
    assert code == 2
    assert "pc_python_type = 'os.abort' is not allowed" in capsys.readouterr().err


# ------------------------------------------------------------------------ files of a case
def write_case(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "case.toml").write_text(text)
    return folder


DFN_CASE = '[case]\nmodel = "dfn"\n\n[experiment]\nsteps = ["Discharge at 1C until 2.5 V"]\n'


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("parameters.bpx_file", "../outside.json", "outside the case folder"),
        ("parameters.bpx_file", "/etc/passwd", "is an absolute path"),
        ("experiment.drive_cycle", "sub/../../outside.csv", "outside the case folder"),
    ],
)
def test_files_outside_the_case_folder_are_refused(tmp_path, key, value, message):
    case_dir = write_case(tmp_path / "case", DFN_CASE)
    (tmp_path / "outside.json").write_text("{}")
    (tmp_path / "outside.csv").write_text("time_s,current_A\n0,1\n1,1\n")
    section, name = key.split(".")
    text = DFN_CASE.replace(f"[{section}]\n", f'[{section}]\n{name} = "{value}"\n')
    if f"[{section}]" not in text:
        text += f'\n[{section}]\n{name} = "{value}"\n'
    (case_dir / "case.toml").write_text(text)
    error = refused(case_dir)
    assert f"{key} = {value!r}" in error
    assert message in error
    assert f"--set {key}=PATH" in error  # says how to give such a file anyway


def test_a_symbolic_link_out_of_the_case_folder_is_refused(tmp_path):
    case_dir = write_case(tmp_path / "case", DFN_CASE.replace("[case]", "[case]"))
    (tmp_path / "secret.csv").write_text("time_s,current_A\n0,1\n1,1\n")
    os.symlink(tmp_path / "secret.csv", case_dir / "cycle.csv")
    (case_dir / "case.toml").write_text(DFN_CASE + 'drive_cycle = "cycle.csv"\n')
    error = refused(case_dir)
    assert f"resolves to {str(tmp_path / 'secret.csv')!r}, outside the case folder" in error


def test_a_file_given_on_the_command_line_may_lie_anywhere(tmp_path):
    case_dir = write_case(tmp_path / "case", DFN_CASE)
    cycle = tmp_path / "elsewhere" / "cycle.csv"
    cycle.parent.mkdir()
    cycle.write_text("time_s,current_A\n0,1\n10,2\n")
    case = load_case(case_dir, [f'experiment.drive_cycle="{cycle}"'])
    assert case.settings["experiment"]["drive_cycle"] == str(cycle)


def test_pnp_mesh_file_outside_the_case_is_refused(tmp_path):
    case_dir = copied(GOUY_CHAPMAN, tmp_path)
    text = (case_dir / "case.toml").read_text()
    start = text.index("[mesh]")
    end = text.index("\n[", start + 1)
    mesh = '[mesh]\ngenerator = "gmsh_file"\npath = "../mesh.msh"\ndimension = 1\n'
    (case_dir / "case.toml").write_text(text[:start] + mesh + text[end:])
    assert "mesh.path = '../mesh.msh' resolves to" in refused(case_dir)


# ------------------------------------------------------------------- malformed case.toml
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'[case]\nmodel = "dfn"\ntitle = "\xff"\n', "not UTF-8 text (byte 0xff on line 3)"),
        (b"[case]\nmodel = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested more than"),
        (
            b"[case]\nmodel = " + b"[" * (MAX_NESTING + 2) + b"]" * (MAX_NESTING + 2) + b"\n",
            f"nested more than {MAX_NESTING} levels deep",
        ),
        (b'[case]\nmodel = "pnp"\n[electrolyte]\ntemperature = ' + b"9" * 400, "400 digits"),
        (b'[case]\nmodel = "pnp"\n[electrolyte]\ntemperature = ' + b"9" * 5000, "not valid TOML"),
        (b'[case]\nmodel = ["dfn"]\n', "case.model = ['dfn'] is not allowed: expected one of"),
        (b'[case]\nmodel = "dfn"\n[experiment]\nsteps = "Rest for 1 s"\n', "experiment.steps"),
        (b"x = 1\n" + b"#" * (5 * 1024 * 1024), "larger than 4194304 bytes"),
    ],
    ids=["utf8", "deep", "nesting", "big-int", "digits", "model-list", "str-for-list", "size"],
)
def test_malformed_case_files_are_case_errors(tmp_path, content, message):
    case_dir = tmp_path / "case"
    case_dir.mkdir()
    (case_dir / "case.toml").write_bytes(content)
    error = refused(case_dir)
    assert message in error


def test_a_malformed_case_exits_2_on_the_command_line(tmp_path, capsys):
    case_dir = tmp_path / "case"
    case_dir.mkdir()
    (case_dir / "case.toml").write_bytes(b'[case]\nmodel = "\xc3\x28"\n')
    assert main(["check", str(case_dir)]) == 2
    error = capsys.readouterr().err
    assert f"{case_dir / 'case.toml'}: not UTF-8 text (byte 0xc3 on line 2)" in error
    assert "Traceback" not in error


def test_set_values_are_bounded_too():
    message = refused(DFN, ["parameters.temperature=" + "[" * 5000 + "]" * 5000])
    assert "nested too deeply" in message or "nested more than" in message
    message = refused(DFN, ["mesh.negative_cells=" + "9" * 30])
    assert "mesh.negative_cells = an integer of 30 digits is not allowed" in message


def test_a_bad_case_is_answered_quickly_by_a_fresh_process(tmp_path):
    case_dir = write_case(tmp_path / "case", DFN_CASE.replace("1C", "C/0"))
    start = time.perf_counter()
    result = run_cli("check", str(case_dir))
    elapsed = time.perf_counter() - start
    assert result.returncode == 2
    assert "rate C/0 in step 'Discharge at C/0 until 2.5 V' is not allowed" in result.stderr
    assert "Traceback" not in result.stderr
    # Interpreter start, imports and validation: 0.6-0.7 s measured on this shared 2-core
    # machine at load 4-5 (issue 17 asks for 1 s); 3 s leaves room for a busier CI machine.
    assert elapsed < 3.0
