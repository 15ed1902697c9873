"""Typed case settings (electrolyx.settings): value ranges, new keys, errors in case terms.

Every bad value must become a CaseError (exit 2) that names the dotted key, the value and what
is allowed; a pydantic ValidationError or any other exception must never reach the user.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import tomllib

import pytest
from conftest import CASES, run_cli

from electrolyx.case import apply_override, load_case
from electrolyx.errors import CaseError
from electrolyx.settings import SETTINGS, resolve_settings
from electrolyx.settings.keys import format_dotted_key, set_dotted_value, split_dotted_key

GOUY_CHAPMAN = CASES / "edl-gouy-chapman"
DFN = CASES / "dfn-chen2020-1C"
POUCH = CASES / "pouch-3d-tabs"
MICRO = CASES / "microstructure-2d-halfcell"
HOMOGENISE = CASES / "homogenise-3d-packing"


def document(case_dir) -> dict:
    with open(case_dir / "case.toml", "rb") as stream:
        return tomllib.load(stream)


# --------------------------------------------------------------------- value ranges (issue 17)
# (case, overrides, fragments the single message must contain: key, value, what is allowed)
MEANINGLESS = [
    # A float where an integer count is expected: refused by type, not found out of memory.
    (
        DFN,
        ["mesh.negative_cells=1e21"],
        ["mesh.negative_cells = 1e+21", "an integer in [1, 100000]"],
    ),
    (DFN, ["mesh.negative_cells=1000000000000"], ["out of range", "[1, 100000]"]),
    # 1e12 cells in total, each count allowed on its own: 26 x 10000 x 10000 > 1e7.
    (
        POUCH,
        ["geometry.height_cells=10000", "geometry.width_cells=10000"],
        ["mesh: the cell mesh would have 2.6e+09 cells", "at most 1e+07"],
    ),
    (DFN, ["parameters.temperature=1e-300"], ["parameters.temperature = 1e-300 K", "(1, 1000) K"]),
    (GOUY_CHAPMAN, ["electrolyte.temperature=1000"], ["= 1000.0 K is out of range"]),
    (MICRO, ["parameters.temperature=0.5"], ["parameters.temperature = 0.5 K", "(1, 1000) K"]),
    (GOUY_CHAPMAN, ["electrolyte.temperature=nan"], ["electrolyte.temperature = nan"]),
    (GOUY_CHAPMAN, ["species.0.diffusivity=inf"], ["species[0].diffusivity = inf"]),
    # An integer too large for a float (OverflowError before): named as such.
    (GOUY_CHAPMAN, ["electrolyte.temperature=" + "9" * 400], ["an integer of 400 digits"]),
    # A list where a string is expected (a TypeError traceback before, for case.model).
    (GOUY_CHAPMAN, ['mesh.left_name=["a"]'], ["mesh.left_name = ['a']", "a non-empty string"]),
    (GOUY_CHAPMAN, ['case.model=["pnp"]'], ["case.model = ['pnp'] is not allowed"]),
    (DFN, ["experiment.repeat=1000000000000"], ["experiment.repeat", "[1, 100000]"]),
    (DFN, ["output.profile_times=[10.0, -1.0]"], ["output.profile_times", "[0, inf) s"]),
    (DFN, ['experiment.steps=["Rest for -1 hour"]'], ["duration -1 in step", "positive finite"]),
    (
        DFN,
        ['experiment.steps=["Discharge at 1e999C until 2.5 V"]'],
        ["rate 1e999 in step", "positive finite"],
    ),
    (DFN, ['experiment.steps=["Discharge at C/0 until 2.5 V"]'], ["C/0 in step"]),
    (
        DFN,
        ['experiment.steps=["Discharge at 0 A for 10 s"]'],
        ["rate 0 in step", "positive finite"],
    ),
    (DFN, ['experiment.steps=["Discharge at 2000C for 1 s"]'], ["at most 1000C"]),
    (
        DFN,
        ['experiment.steps=["Discharge at 1C until -2 V"]'],
        ["end condition -2 in step", "positive finite"],
    ),
    # A cut-off outside Chen2020's [2.5, 4.2] V: the model would run past the set's data.
    (
        DFN,
        ['experiment.steps=["Discharge at 1C until 2.0 V"]'],
        ["experiment.steps[0] = 'Discharge at 1C until 2.0 V'", "Chen2020 [2.5, 4.2] V"],
    ),
    (
        DFN,
        ['experiment.steps=["Charge at 1C until 4.1 V", "Hold at 4.4 V until C/50"]'],
        ["experiment.steps[1]", "hold voltage 4.4 V is outside", "[2.5, 4.2] V"],
    ),
    (MICRO, ["discharge.c_rate=0"], ["discharge.c_rate = 0.0 1/h is out of range"]),
    (MICRO, ["discharge.cutoff_voltage=-3.0"], ["discharge.cutoff_voltage = -3.0 V"]),
    (MICRO, ["discharge.time_step=0"], ["discharge.time_step = 0.0 s is out of range"]),
    # A 1 pm element in a 40 um x 20 um box: 8e14 elements, refused before gmsh starts.
    (MICRO, ["microstructure.element_size=1e-12"], ["about 8e+14 elements", "at most 1e+07"]),
    (HOMOGENISE, ["microstructure.seed=-1"], ["microstructure.seed = -1 is out of range"]),
]


@pytest.mark.parametrize("case_dir, overrides, fragments", MEANINGLESS)
def test_meaningless_values_are_refused(case_dir, overrides, fragments):
    with pytest.raises(CaseError) as info:
        load_case(case_dir, overrides)
    message = str(info.value)
    # One problem each: the override is the only thing wrong with a valid shipped case.
    assert len(info.value.problems) == 1, message
    for fragment in fragments:
        assert fragment in message


def test_meaningless_value_exits_2_without_traceback():
    result = run_cli("check", str(GOUY_CHAPMAN), "--set", "electrolyte.temperature=" + "9" * 400)
    assert result.returncode == 2
    assert "electrolyte.temperature = an integer of 400 digits is not allowed" in result.stderr
    assert "Traceback" not in result.stderr and "pydantic" not in result.stderr


# --------------------------------------------------------- every bad value is a CaseError
# Types, magnitudes (1e-300 underflows when cubed, 1e300 overflows), nesting.
_BAD_VALUES = [[], {}, "x", True, 10**400, float("nan"), -1, 1e-300, 1e300, [[[1]]], {"a": {}}]


def _paths(node, prefix=()):
    """Every leaf path of a parsed case document (tables and arrays of tables walked)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list) and node and all(isinstance(v, dict) for v in node):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, str(index)))
    yield prefix


SHIPPED = sorted(CASES.glob("*/case.toml"))


@pytest.mark.parametrize("case_file", SHIPPED, ids=lambda p: p.parent.name)
def test_any_bad_value_anywhere_is_a_case_error(case_file):
    with open(case_file, "rb") as stream:
        original = tomllib.load(stream)
    model = original["case"]["model"]
    checked = 0
    for path in _paths(original):
        if not path or path == ("case", "model"):
            continue
        for bad in _BAD_VALUES:
            mutated = copy.deepcopy(original)
            set_dotted_value(mutated, list(path), copy.deepcopy(bad))
            try:
                resolve_settings(model, mutated)
            except CaseError as error:
                # Every message is one line in case terms, never pydantic's own wording.
                for problem in error.problems:
                    assert "\n" not in problem and "pydantic" not in problem.lower(), problem
                    assert "validation error" not in problem.lower(), problem
            checked += 1
    assert checked > 50  # the walk reached the case's keys


# ---------------------------------------------------------------- messages in case terms
def test_messages_name_key_value_and_what_is_allowed():
    doc = document(GOUY_CHAPMAN)
    cases = [
        (
            'study={type = "transiet"}',
            "study.type = 'transiet' is not allowed: expected one of "
            "'steady', 'transient' (did you mean 'transient'?)",
        ),
        ("study={}", None),  # a study table without type is steady
        ("mesh={}", "missing key 'mesh.generator': one of 'interval'"),
        ("species=[]", "[[species]] needs at least 1 entries, got 0"),
        ("species=3", "species must be an array of tables ([[species]]), got 3"),
        ("boundaries=3", "boundaries must be a table of named tables, got 3"),
        ("boundaries.wall=3", "boundaries.wall must be a table, got 3"),
        ("solver.petsc=[1]", "solver.petsc must be a table of name = value pairs, got [1]"),
        ("solver.petsc.ksp_rtol=nan", "solver.petsc.ksp_rtol = nan is not allowed"),
        (
            "output.profiles.0.start=[1, 2, 3, 4]",
            "output.profiles[0].start = [1, 2, 3, 4] is not "
            "allowed: expected a list of 1 to 3 numbers",
        ),
        (
            'output.profiles=[{name = "a", start = [0.0], end = [1e-9]}, '
            '{name = "a", start = [0.0], end = [1e-9]}]',
            "output.profiles[1].name = 'a' is used twice: must be unique",
        ),
        (
            'boundaries."left wall"={kind = "potentail"}',
            "boundaries.\"left wall\".kind = 'potentail' is not allowed",
        ),
    ]
    for assignment, expected in cases:
        mutated = copy.deepcopy(doc)
        apply_override(mutated, assignment)
        if expected is None:
            assert resolve_settings("pnp", mutated)["study"]["type"] == "steady"
            continue
        with pytest.raises(CaseError) as info:
            resolve_settings("pnp", mutated)
        assert expected in str(info.value), (assignment, str(info.value))


def test_shipped_cases_resolve_to_the_settings_the_models_read():
    # What the models index must be there, defaults filled in (the dict they read, unchanged).
    dfn = load_case(DFN).settings
    assert dfn["parameters"]["set"] == "Chen2020"
    assert dfn["time_stepping"]["absolute_tolerance"] == 1e-6  # default
    assert dfn["geometry"]["negative_tab"] is None
    assert dfn["output"]["profiles"][0]["start"] == [0.0]
    pnp = load_case(GOUY_CHAPMAN).settings
    assert pnp["study"] == {"type": "steady"}
    bulk = {"kind": "reservoir", "potential": 0.0, "concentrations": None}
    assert pnp["boundaries"]["bulk"] == bulk
    assert pnp["mesh"]["generator"] == "interval" and pnp["mesh"]["cells"] == 800
    # Integers given for numbers become floats, as the models' arithmetic expects.
    assert isinstance(
        load_case(GOUY_CHAPMAN, ["electrolyte.temperature=300"]).settings["electrolyte"][
            "temperature"
        ],
        float,
    )


def test_settings_import_no_solver_stack():
    # `electrolyx cases`/`check` start-up: the settings must not pull in dolfinx & co.
    code = (
        "import sys, electrolyx.settings, electrolyx.case, electrolyx.sweep, electrolyx.docs; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'dolfinx', 'petsc4py', 'matplotlib', 'pyvista', 'ufl', 'gmsh', 'basix'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


# ------------------------------------------------------------- new keys (issue 12)
def _dfn(**tables) -> dict:
    doc = document(DFN)
    doc.update(tables)
    return doc


@pytest.mark.parametrize(
    "table",
    [
        {"kinetics": "butler-volmer", "anodic_transfer_coefficient": 0.4},
        {"kinetics": "tafel", "cathodic_transfer_coefficient": 0.6},
        {"kinetics": "linear"},
        {"kinetics": "symmetric-butler-volmer"},
        {"kinetics": "marcus-hush-chidsey", "reorganisation_energy": 3.0e4},
    ],
)
def test_electrode_kinetics_validate(table):
    settings = resolve_settings("dfn", _dfn(negative_electrode=table, positive_electrode=table))
    for side in ("negative_electrode", "positive_electrode"):
        for key, value in table.items():
            assert settings[side][key] == value
    # Unset transfer coefficients stay None: the parameter set's (or BPX file's) apply.
    assert settings["positive_electrode"].get("anodic_transfer_coefficient") == table.get(
        "anodic_transfer_coefficient"
    )


@pytest.mark.parametrize(
    "table, fragment",
    [
        ({"kinetics": "marcus"}, "positive_electrode.kinetics = 'marcus' is not allowed"),
        ({"kinetics": "tafle"}, "(did you mean 'tafel'?)"),
        (
            {"kinetics": "marcus-hush-chidsey"},
            "missing key 'positive_electrode.reorganisation_energy': required with kinetics = "
            "'marcus-hush-chidsey'",
        ),
        (
            {"reorganisation_energy": 3e4},
            "positive_electrode.reorganisation_energy = 30000.0: only with kinetics = "
            "'marcus-hush-chidsey'",
        ),
        ({"kinetics": "marcus-hush-chidsey", "reorganisation_energy": 0.0}, "(0, 1e+06] J/mol"),
        ({"anodic_transfer_coefficient": 1.0}, "anodic_transfer_coefficient = 1.0 is out of range"),
        ({"cathodic_transfer_coefficient": 0}, "allowed a number in (0, 1)"),
        (
            {"kinetics": "symmetric-butler-volmer", "cathodic_transfer_coefficient": 0.3},
            "positive_electrode.cathodic_transfer_coefficient: only with kinetics = "
            "'butler-volmer', 'tafel' or 'linear'",
        ),
        ({"kinetic": "tafel"}, "unknown key 'positive_electrode.kinetic' (did you mean"),
    ],
)
def test_electrode_kinetics_reject_bad_values(table, fragment):
    with pytest.raises(CaseError) as info:
        resolve_settings("dfn", _dfn(positive_electrode=table))
    assert fragment in str(info.value)


def test_half_cell_has_no_negative_electrode_kinetics():
    doc = document(CASES / "half-cell-nmc811")
    doc["negative_electrode"] = {"kinetics": "tafel"}
    with pytest.raises(CaseError, match="negative_electrode: a half cell has no negative"):
        resolve_settings("dfn", doc)


def test_parameter_values_by_name():
    name = "Negative particle diffusivity [m2.s-1]"
    values = {name: 4e-14, "Positive electrode porosity": "0.3 * 1.1", "Temperature [K]": 300}
    settings = resolve_settings("dfn", _dfn(parameters={"values": values}))
    # Numbers (integers too) become floats; expressions stay strings for the model to parse.
    assert settings["parameters"]["values"] == {**values, "Temperature [K]": 300.0}
    for bad, fragment in [
        (True, "a number or a string of 1 to 1000 characters"),
        ("", "= '' is not allowed"),
        ("x" * 1001, "a string of 1 to 1000 characters"),
        (float("inf"), "= inf is not allowed"),
        ([1.0], "= [1.0] is not allowed"),
    ]:
        with pytest.raises(CaseError) as info:
            resolve_settings("dfn", _dfn(parameters={"values": {name: bad}}))
        # The quoted name is part of the dotted key, as TOML writes it.
        assert f'parameters.values."{name}"' in str(info.value)
        assert fragment in str(info.value)


def test_microstructure_parameter_set_and_interface():
    doc = document(MICRO)
    doc["parameters"] = {**doc["parameters"], "set": "Marquis2019", "bpx_file": "cell.json"}
    doc["interface"] = {"kinetics": "marcus-hush-chidsey", "reorganisation_energy": 4e4}
    settings = resolve_settings("microstructure", doc)
    assert settings["parameters"]["set"] == "Marquis2019"
    assert settings["parameters"]["bpx_file"] == "cell.json"
    assert settings["interface"]["kinetics"] == "marcus-hush-chidsey"
    doc["parameters"]["set"] = "Chen2021"
    doc["interface"] = {"kinetics": "tafel", "anodic_transfer_coefficient": 2.0}
    with pytest.raises(CaseError) as info:
        resolve_settings("microstructure", doc)
    assert "parameters.set = 'Chen2021' is not allowed" in str(info.value)
    assert "(did you mean 'Chen2020'?)" in str(info.value)
    assert "interface.anodic_transfer_coefficient = 2.0 is out of range" in str(info.value)


def test_pnp_reaction_boundary_kinetics():
    doc = document(GOUY_CHAPMAN)
    doc["boundaries"]["wall"] = {
        "kind": "butler_volmer",
        "potential": 0.1,
        "species": "cation",
        "exchange_current_density": 1.0,
        "stern_capacitance": 0.2,
    }
    settings = resolve_settings("pnp", doc)
    assert settings["boundaries"]["wall"]["kinetics"] == "butler-volmer"  # the default
    doc["boundaries"]["wall"]["kinetics"] = "linear"
    assert resolve_settings("pnp", doc)["boundaries"]["wall"]["kinetics"] == "linear"
    doc["boundaries"]["wall"]["kinetics"] = "marcus-hush-chidsey"
    with pytest.raises(CaseError, match="missing key 'boundaries.wall.reorganisation_energy'"):
        resolve_settings("pnp", doc)
    doc["boundaries"]["wall"].update(
        kinetics="symmetric-butler-volmer", anodic_transfer_coefficient=0.5
    )
    with pytest.raises(CaseError, match="boundaries.wall.anodic_transfer_coefficient: only with"):
        resolve_settings("pnp", doc)


def test_kinetics_values_and_sets_reach_the_models():
    """The keys of the physics refactor are read by the models (no mesh built here)."""
    from mpi4py import MPI

    from electrolyx.models.dfn.case import DFNCase
    from electrolyx.models.microstructure.case import MicrostructureHalfCell

    case = load_case(
        DFN,
        [
            'negative_electrode.kinetics="tafel"',
            'positive_electrode.kinetics="marcus-hush-chidsey"',
            "positive_electrode.reorganisation_energy=4e4",
            'parameters.values."Negative electrode porosity"=0.3',
        ],
    )
    model = DFNCase(case.settings, case.directory, MPI.COMM_SELF)
    kinetics = model._kinetics()
    # Tafel keeps the negative electrode's discharge branch unless tafel_direction says else.
    assert (kinetics["negative"].law, kinetics["negative"].tafel_direction) == ("tafel", "anodic")
    assert kinetics["positive"].reorganisation_energy_J_mol == 4e4
    assert model.parameters.negative.porosity == 0.3
    with pytest.raises(CaseError, match="did you mean 'Negative electrode porosity'"):
        load_case(DFN, ['parameters.values."Negative electrode porosty"=0.3'])
    micro = load_case(MICRO, ['parameters.set="Marquis2019"', 'interface.kinetics="linear"'])
    half_cell = MicrostructureHalfCell(micro.settings, micro.directory, MPI.COMM_SELF)
    assert half_cell._parameters().name == "Marquis2019"


# ----------------------------------------------------------------------- dotted keys
def test_dotted_keys_with_quoted_names():
    assert split_dotted_key('parameters.values."Negative particle diffusivity [m2.s-1]"') == [
        "parameters",
        "values",
        "Negative particle diffusivity [m2.s-1]",
    ]
    assert split_dotted_key('a . \'b.c\' . "d\\"e"') == ["a", "b.c", 'd"e']
    assert split_dotted_key("species.0.diffusivity") == ["species", "0", "diffusivity"]
    for bad in ("a..b", 'a."b', "a.b c", "", "a.[0]"):
        with pytest.raises(ValueError):
            split_dotted_key(bad)
    assert format_dotted_key(["parameters", "values", "A [m]"]) == 'parameters.values."A [m]"'
    doc = {"parameters": {"set": "Chen2020"}}
    apply_override(doc, 'parameters.values."Negative particle diffusivity [m2.s-1]"=4e-14')
    assert doc["parameters"]["values"] == {"Negative particle diffusivity [m2.s-1]": 4e-14}
    with pytest.raises(CaseError, match="parameters.set is a value, not a table"):
        apply_override(doc, "parameters.set.x=1")


def test_every_model_has_settings():
    from electrolyx.models import MODELS

    assert set(SETTINGS) == set(MODELS)
