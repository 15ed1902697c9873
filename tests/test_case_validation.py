"""Bad case input gives a clear error naming key, value and what is allowed; exit 2; no output."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from conftest import CASES, ROOT, run_cli

from electrolyx.case import apply_override, load_case, parse_override_value
from electrolyx.docs import case_format_markdown
from electrolyx.errors import CaseError

SHIPPED = CASES / "edl-gouy-chapman"


def make_case(tmp_path: Path, edit) -> Path:
    """Copy the shipped Gouy-Chapman case and apply ``edit`` to its text."""
    case = tmp_path / "case"
    case.mkdir()
    text = (SHIPPED / "case.toml").read_text()
    (case / "case.toml").write_text(edit(text))
    return case


BAD_INPUTS = [
    # (edit of the case text, fragments the message must contain)
    (
        lambda t: t.replace("relative_permittivity = 78.5", "relative_permitivity = 78.5"),
        ["unknown key 'electrolyte.relative_permitivity'", "did you mean 'relative_permittivity'"],
    ),
    (
        lambda t: t.replace(
            "bulk_concentration = 10.0     # mol/m3 (10 mM); Debye length 3.04 nm",
            "bulk_concentration = -10.0",
        ),
        ["species[0].bulk_concentration = -10.0 mol/m3 is out of range", "(0, inf) mol/m3"],
    ),
    (
        lambda t: t.replace("temperature = 298.15          # K", "temperature = 0"),
        # Temperatures are bounded to (1, 1000) K (issue 17: 1e-300 K was accepted).
        ["electrolyte.temperature = 0.0 K is out of range", "(1, 1000) K"],
    ),
    (
        lambda t: t.replace("cells = 800", 'cells = "many"'),
        ["mesh.cells = 'many' is not allowed", "an integer"],
    ),
    (
        lambda t: t.replace('kind = "potential"', 'kind = "potentail"'),
        ["boundaries.wall.kind = 'potentail' is not allowed", "did you mean 'potential'"],
    ),
    (
        lambda t: t.replace("[boundaries.wall]", "[boundaries.wal]"),
        ["the mesh has no boundary named 'wal'", "did you mean 'wall'"],
    ),
    (
        lambda t: t.replace("charge_number = -1", "charge_number = -2"),
        ["not electroneutral", "sum z_k c_k = 0"],
    ),
    (
        lambda t: t.replace('model = "pnp"', 'model = "pnpp"'),
        ["case.model = 'pnpp' is not allowed", "did you mean 'pnp'"],
    ),
    (
        lambda t: t.replace("length = 1.25e-7", "length = 1.25e-7\nlength = 2e-7"),
        ["not valid TOML"],
    ),
    (
        lambda t: t.replace("start = [0.0]", "start = [0.0, 1.0, 2.0, 3.0]"),
        ["output.profiles[0].start", "a list of 1 to 3 numbers"],
    ),
]


@pytest.mark.parametrize("edit, fragments", BAD_INPUTS)
def test_bad_case_is_rejected_by_load_case(tmp_path, edit, fragments):
    case = make_case(tmp_path, edit)
    with pytest.raises(CaseError) as info:
        load_case(case)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message


def test_bad_case_exits_2_and_writes_nothing(tmp_path):
    case = make_case(tmp_path, BAD_INPUTS[1][0])
    out = tmp_path / "out"
    result = run_cli("run", str(case), "--out", str(out))
    assert result.returncode == 2
    assert "species[0].bulk_concentration = -10.0 mol/m3 is out of range" in result.stderr
    assert not out.exists()
    assert list(tmp_path.glob(".out.tmp-*")) == []


def test_every_problem_is_reported_at_once(tmp_path):
    def edit(text):
        return text.replace("temperature = 298.15          # K", "temperature = -1").replace(
            "diffusivity = 2e-9            # m2/s", "diffusivity = 0"
        )

    with pytest.raises(CaseError) as info:
        load_case(make_case(tmp_path, edit))
    assert len(info.value.problems) == 2


def test_set_overrides_values_by_dotted_key():
    case = load_case(
        SHIPPED,
        ["boundaries.wall.potential=0.05", "species.1.diffusivity=1e-9", "mesh.cells=200"],
    )
    assert case.settings["boundaries"]["wall"]["potential"] == 0.05
    assert case.settings["species"][1]["diffusivity"] == 1e-9
    assert case.settings["mesh"]["cells"] == 200


def test_set_errors_name_the_key():
    with pytest.raises(CaseError, match="unknown key 'mesh.cels'.*did you mean 'cells'"):
        load_case(SHIPPED, ["mesh.cels=200"])
    with pytest.raises(CaseError, match="'7' is not an index of this array"):
        load_case(SHIPPED, ["species.7.diffusivity=1e-9"])
    with pytest.raises(CaseError, match="expected KEY=VALUE"):
        load_case(SHIPPED, ["mesh.cells"])


def test_override_values_are_parsed_as_toml_not_code():
    assert parse_override_value("1e-9") == 1e-9
    assert parse_override_value("[0, 1e-8]") == [0, 1e-8]
    assert parse_override_value("true") is True
    # Anything that is not a TOML value stays a plain string: never evaluated.
    assert parse_override_value("__import__('os')") == "__import__('os')"
    doc = {"a": {"b": 1}}
    apply_override(doc, "a.c=2")
    assert doc == {"a": {"b": 1, "c": 2}}


def test_defaults_are_filled_in():
    case = load_case(SHIPPED)
    assert case.settings["solver"]["linear_solver"] == "mumps"
    assert case.settings["study"]["type"] == "steady"


def test_shipped_cases_are_valid():
    case_files = sorted(CASES.glob("*/case.toml"))
    assert len(case_files) == 25  # every folder of cases/ (README.md lists them)
    for case_file in case_files:
        with open(case_file, "rb") as f:
            model = tomllib.load(f)["case"]["model"]
        case = load_case(case_file.parent)  # raises on any problem
        # The model the case file names is the one whose settings validated it.
        assert case.model == model
        assert case.settings["case"]["model"] == model


def test_case_format_doc_is_generated_from_the_schema():
    # docs/case-format.md is rendered from the settings models: regenerate with `make docs`.
    assert (ROOT / "docs" / "case-format.md").read_text() == case_format_markdown()


def test_docs_command_prints_the_reference():
    # `electrolyx docs` (what `make docs` writes) prints exactly the generated reference.
    result = run_cli("docs")
    assert result.returncode == 0, result.stderr
    assert result.stdout == case_format_markdown()


def test_missing_case_folder(tmp_path):
    with pytest.raises(CaseError, match="does not exist"):
        load_case(tmp_path / "nope")
    shutil.rmtree(tmp_path)
