"""A BPX file describes a cell and does nothing else (issue 17, item 1).

The ``bpx`` package's validators turn OCP strings into Python source and execute it (its
voltage-window check calls ``Function.to_python_function``), writing one temporary ``.py`` file
per call. electrolyx hands ``bpx`` only placeholder tables in place of strings and reads the
strings with its own expression parser; these tests would fail on the code before that change
(the crafted string wrote its file, ``exit(3)`` ended the process, ``9**9**9`` hung).
"""

from __future__ import annotations

import copy
import json
import tempfile
import time

import pytest
from conftest import CASES, ROOT

from electrolyx.parameters import BPXError, read_bpx
from electrolyx.parameters.bpx import MAX_NESTING, bpx_to_cell_parameters
from electrolyx.parameters.expressions import ExpressionError, SafeExpression

NMC = CASES / "dfn-bpx-nmc-pouch" / "nmc_pouch_cell_BPX.json"
LFP = ROOT / "tests" / "data" / "bpx" / "lfp_18650_cell_BPX.json"
OCP = ("Parameterisation", "Negative electrode", "OCP [V]")


def with_value(path: tuple[str, ...], value) -> dict:
    data = copy.deepcopy(json.loads(NMC.read_text()))
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def python_source_as_bpx_function(source: str) -> str:
    """Python code in the grammar of bpx's parser: exec(chr(..) + chr(..) + ...)."""
    return "exec(" + " + ".join(f"chr({ord(c)})" for c in source) + ")"


@pytest.fixture
def private_tempdir(tmp_path, monkeypatch):
    """tempfile's folder, emptied for the test (bpx wrote its .py files there)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_crafted_ocp_string_writes_no_file_and_runs_nothing(tmp_path, private_tempdir):
    marker = tmp_path / "written_by_the_bpx_file"
    text = python_source_as_bpx_function(f"open({str(marker)!r}, 'w').write('x')")
    with pytest.raises(BPXError) as error:
        bpx_to_cell_parameters(with_value(OCP, text), "cell.json")
    assert not marker.exists()
    assert "Parameterisation / Negative electrode / OCP [V]: unknown function 'exec'" in str(
        error.value
    )
    # bpx's own check would have left a reconstructed_function.py here.
    assert list(private_tempdir.iterdir()) == []


def test_exit_as_ocp_is_an_error_not_the_end_of_the_process():
    with pytest.raises(BPXError, match="unknown function 'exit'"):
        bpx_to_cell_parameters(with_value(OCP, "exit(3)"), "cell.json")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("9**9**9", "'9 ** 9 ** 9' overflows"),
        ("x ** (9**9**9)", "'9 ** 9 ** 9' overflows"),
        ("1/0 + x", "'1 / 0' divides by zero"),
        ("exp(1000) * x", "'exp(1000)' overflows"),
        ("(-8) ** 0.5 + x", "'(-8) ** 0.5' is not a real number"),
        ("x" + "+x" * 300, "nested more than 200 levels deep"),
        ("x" * 10_001, "10001 characters, longer than the 10000 allowed"),
        ("-" * 9_000 + "x", "nested too deeply"),
    ],
)
def test_resource_attacks_are_refused_at_once(text, reason):
    start = time.perf_counter()
    with pytest.raises(ExpressionError) as error:
        SafeExpression(text, ("x",), "OCP [V]")
    # Refused while parsing: well under the 1 s (measured below 0.05 s).
    assert time.perf_counter() - start < 1.0
    assert reason in str(error.value)


def test_a_bpx_ocp_that_divides_by_zero_is_named_with_where():
    with pytest.raises(BPXError) as error:
        bpx_to_cell_parameters(with_value(OCP, "1 / (x - x)"), "cell.json")
    message = str(error.value)
    assert "Parameterisation / Negative electrode / OCP [V]: inf at x = " in message
    assert "a division by zero or an overflow there" in message


def test_a_number_where_a_function_is_allowed_still_works_and_a_string_number_is_refused():
    # A function may be a number ...
    cell = bpx_to_cell_parameters(with_value(OCP, 0.1), "cell.json")
    assert cell.negative.open_circuit_potential(0.5) == pytest.approx(0.1, abs=1e-15)
    # ... but a number may not be a string: the placeholder bpx sees is a table, not a number.
    path = ("Parameterisation", "Positive electrode", "Porosity")
    with pytest.raises(BPXError, match="Porosity: Input should be a valid number"):
        bpx_to_cell_parameters(with_value(path, "0.3"), "cell.json")


def test_unused_and_free_text_strings_are_never_parsed():
    data = with_value(("Parameterisation", "User-defined"), {"Anything": "erf(x) + __x__"})
    data["Header"]["Description"] = "exec(chr(49))"
    cell = bpx_to_cell_parameters(data, "cell.json")
    assert cell.nominal_capacity_Ah == 12.5


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"Header": "\xff\xfe"}', "not UTF-8 text (byte 0xff at offset 12)"),
        (b"[" * 100_000 + b"]" * 100_000, "nested more than"),
        (b'{"Header": NaN}', "NaN is not allowed"),
        (b'{"Header": ' + b"9" * 5000 + b"}", "not valid BPX JSON"),
        (b"[1, 2]", "a BPX file holds a JSON object, not list"),
    ],
    ids=["utf8", "nesting", "nan", "digits", "array"],
)
def test_unreadable_bpx_files_are_bpx_errors(tmp_path, content, message):
    path = tmp_path / "cell.json"
    path.write_bytes(content)
    start = time.perf_counter()
    with pytest.raises(BPXError) as error:
        read_bpx(path)
    assert time.perf_counter() - start < 1.0  # issue 17: within a second
    assert message in str(error.value)
    assert str(error.value).startswith(str(path))


def test_deep_nesting_inside_valid_json_is_refused():
    deep: dict = {}
    node = deep
    for _ in range(MAX_NESTING + 5):
        node["a"] = {}
        node = node["a"]
    data = with_value(("Parameterisation", "User-defined"), deep)
    with pytest.raises(BPXError, match=f"nested more than {MAX_NESTING} levels deep"):
        bpx_to_cell_parameters(data, "cell.json")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("Parameterisation", "Cell", "Electrode area [m2]"), -1.0, "expected a positive number"),
        (("Parameterisation", "Negative electrode", "Thickness [m]"), 0.0, "positive number"),
        (("Parameterisation", "Cell", "Lower voltage cut-off [V]"), 5.0, "below the upper"),
        (("Parameterisation", "Negative electrode", "Minimum stoichiometry"), 0.99, "minimum <"),
        (("Parameterisation", "Electrolyte", "Diffusivity [m2.s-1]"), "-1e-10 + 0 * x", "positive"),
        (("Parameterisation", "Cell", "Electrode area [m2]"), 10**400, "401 digits"),
    ],
)
def test_meaningless_numbers_are_refused(path, value, message):
    with pytest.raises(BPXError) as error:
        bpx_to_cell_parameters(with_value(path, value), "cell.json")
    assert " / ".join(path) in str(error.value)
    assert message in str(error.value)


def test_reading_the_shipped_files_leaves_no_temporary_file(private_tempdir):
    for path in (NMC, LFP):
        read_bpx(path)
    assert list(private_tempdir.iterdir()) == []
