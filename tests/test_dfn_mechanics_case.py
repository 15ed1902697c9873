"""The particle-mechanics case (cases/dfn-mechanics-1C) through the loader, driver and CLI:
its outputs against PyBaMM, and bad mechanical input refused (exit 2, every name listed)."""

import csv
import shutil

from mpi4py import MPI

import numpy as np
import pytest
from conftest import CASES, ROOT, run_cli

from electrolyx.case import load_case
from electrolyx.driver import run_case
from electrolyx.errors import CaseError
from electrolyx.parameters import ai2020
from electrolyx.parameters.by_name import parameter_names

CASE = CASES / "dfn-mechanics-1C"
REFERENCE = ROOT / "tests" / "data" / "pybamm" / "chen2020_mechanics_1C.csv"
NAMES = [
    f"{side} electrode {name}"
    for side in ("Negative", "Positive")
    for name in (
        "Young's modulus [Pa]",
        "Poisson's ratio",
        "partial molar volume [m3.mol-1]",
        "reference concentration for free of deformation [mol.m-3]",
    )
]


def edited_case(tmp_path, edit):
    folder = tmp_path / "case"
    shutil.copytree(CASE, folder)
    toml = folder / "case.toml"
    toml.write_text(edit(toml.read_text()))
    return folder


def without_values(text: str) -> str:
    start = text.index("[parameters.values]")
    return text[:start] + text[text.index("[mechanics]") :]


@pytest.mark.mpi
def test_shipped_case_writes_stresses_and_thickness(shared_tmp_path):
    case = load_case(CASE)
    code, folder = run_case(case, shared_tmp_path / "out", MPI.COMM_WORLD, lambda _: None)
    assert code == 0
    with open(folder / "timeseries.csv") as stream:
        rows = list(csv.DictReader(stream))
    reference = np.genfromtxt(REFERENCE, delimiter=",", names=True, skip_header=1)
    # The extremes over the discharge as in tests/test_dfn_mechanics.py (same mesh), 1 %.
    for side, short, extreme in (("negative", "neg", max), ("positive", "pos", min)):
        for suffix in ("", "_min", "_max"):
            column = f"{side}_particle_surface_hoop_stress{suffix}_Pa"
            ours = extreme(float(r[column]) for r in rows)
            theirs = extreme(reference[f"{short}_surface_hoop_stress{suffix}_Pa"])
            assert ours == pytest.approx(theirs, rel=1e-2), (side, suffix)
    # Thickness change at the cut-off: measured 4e-6 relative from PyBaMM's 17.48 um.
    thickness = float(rows[-1]["cell_thickness_change_m"])
    assert thickness == pytest.approx(reference["cell_thickness_change_m"][-1], rel=1e-2)
    with open(folder / "profiles.csv") as stream:
        fields = {r["field"] for r in csv.DictReader(stream)}
    assert {"particle_surface_hoop_stress_Pa", "particle_centre_radial_stress_Pa"} <= fields


@pytest.mark.parametrize(
    "mechanics",
    [
        '[mechanics]\nparticle = "swelling-only"\nstress_induced_diffusion = false',
        '[mechanics]\nparticle = "none"\nstress_induced_diffusion = true',
    ],
)
def test_missing_mechanical_parameters_are_all_listed(tmp_path, mechanics):
    def edit(text):
        text = without_values(text)
        start = text.index("[mechanics]")
        end = text.index("[mesh]")
        return text[:start] + mechanics + "\n\n" + text[end:]

    with pytest.raises(CaseError) as info:
        load_case(edited_case(tmp_path, edit))
    message = str(info.value)
    for name in NAMES:
        assert repr(name) in message
    assert len(info.value.problems) == len(NAMES)


def test_missing_parameters_exit_2(tmp_path):
    out = tmp_path / "out"
    result = run_cli("run", str(edited_case(tmp_path, without_values)), "--out", str(out))
    assert result.returncode == 2
    assert '"Negative electrode Young\'s modulus [Pa]" is missing from Chen2020' in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("line", "value", "allowed"),
    [
        ('"Negative electrode Poisson\'s ratio" = 0.3', "0.5", "allowed -1 < nu < 0.5"),
        ('"Positive electrode Poisson\'s ratio" = 0.2', "-1.0", "allowed -1 < nu < 0.5"),
        ('"Positive electrode Young\'s modulus [Pa]" = 375e9', "0.0", "allowed > 0"),
        ('"Negative electrode Young\'s modulus [Pa]" = 15e9', "-1e9", "allowed > 0"),
    ],
)
def test_out_of_range_constants_are_refused(tmp_path, line, value, allowed):
    name = line.split(" = ")[0]
    case = edited_case(tmp_path, lambda text: text.replace(line, f"{name} = {value}"))
    with pytest.raises(CaseError, match=allowed) as info:
        load_case(case)
    assert name.strip('"') in str(info.value)


CRACKING_NAMES = [
    f"{side} electrode {name}"
    for side in ("Negative", "Positive")
    for name in (
        "initial crack length [m]",
        "initial crack width [m]",
        "number of cracks per unit area [m-2]",
        "Paris' law constant b",
        "Paris' law constant m",
        "cracking rate",
    )
]


def with_mechanics(table: str):
    """An edit of the case text that replaces its [mechanics] table."""

    def edit(text):
        start = text.index("[mechanics]")
        return text[:start] + table + "\n\n" + text[text.index("[mesh]") :]

    return edit


def test_missing_cracking_parameters_are_all_listed(tmp_path):
    # OKane2022's elastic constants are given, no cracking parameters: the 12 names, no more.
    edit = with_mechanics('[mechanics]\nparticle = "swelling-and-cracking"')
    with pytest.raises(CaseError) as info:
        load_case(edited_case(tmp_path, edit))
    for name in CRACKING_NAMES:
        assert repr(name) in str(info.value)
    assert len(info.value.problems) == len(CRACKING_NAMES)
    assert "particle = 'swelling-and-cracking'" in str(info.value)


def test_mechanics_per_electrode_asks_only_that_electrodes_parameters(tmp_path):
    table = '[mechanics]\nparticle = "none"\nnegative = "swelling-and-cracking"'

    def edit(text):
        return with_mechanics(table)(without_values(text))

    with pytest.raises(CaseError) as info:
        load_case(edited_case(tmp_path, edit))
    negative = [n for n in NAMES + CRACKING_NAMES if n.startswith("Negative")]
    for name in negative:
        assert repr(name) in str(info.value)
    assert len(info.value.problems) == len(negative)  # 4 elastic + 6 cracking, none positive
    assert "negative = 'swelling-and-cracking', positive = 'none'" in str(info.value)


def test_ai2020_set_has_every_cracking_parameter(tmp_path):
    def edit(text):
        text = without_values(text).replace('set = "Chen2020"', 'set = "Ai2020"')
        text = text.replace("until 2.5 V", "until 3.0 V")
        return with_mechanics('[mechanics]\nparticle = "swelling-and-cracking"')(text)

    load_case(edited_case(tmp_path, edit))  # no problem raised: every parameter is there
    names = parameter_names(ai2020())
    assert names["Negative electrode Paris' law constant m"] == 2.2
    assert names["Positive electrode cracking rate"] == 3.9e-20
    assert names["Number of electrodes connected in parallel to make a cell"] == 34


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("Negative electrode Paris' law constant m", "0.0", "allowed > 0"),
        ("Positive electrode initial crack length [m]", "-2e-8", "allowed > 0"),
        ("Positive electrode number of cracks per unit area [m-2]", "-1.0", "allowed >= 0"),
        ("Number of electrodes connected in parallel to make a cell", "2.5", "whole number"),
    ],
)
def test_out_of_range_cracking_values_are_refused(tmp_path, name, value, allowed):
    def edit(text):
        return text.replace("[parameters.values]", f'[parameters.values]\n"{name}" = {value}')

    with pytest.raises(CaseError, match=allowed) as info:
        load_case(edited_case(tmp_path, edit))
    assert name in str(info.value)


def test_unknown_electrode_mechanics_is_refused(tmp_path):
    edit = with_mechanics('[mechanics]\nparticle = "none"\npositive = "cracking"')
    with pytest.raises(CaseError) as info:
        load_case(edited_case(tmp_path, edit))
    message = str(info.value)
    assert "mechanics.positive" in message and "swelling-and-cracking" in message
