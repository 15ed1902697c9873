"""Parameters set by their PyBaMM/BPX names (``[parameters.values]``)."""

from __future__ import annotations

from mpi4py import MPI

import numpy as np
import pytest

from electrolyx.models.dfn import DFN, DFNResolution
from electrolyx.parameters import chen2020, okane2022
from electrolyx.parameters.by_name import PARAMETER_NAMES, parameter_names, with_values

RESOLUTION = DFNResolution(8, 4, 8, 8, 8)


def test_numbers_and_expressions_replace_values_and_functions():
    cell = with_values(
        chen2020(),
        {
            "Negative particle diffusivity [m2.s-1]": "3.3e-14 * exp(-x + 1000 / T - 3.354)",
            "Positive electrode porosity": 0.3,
            "Maximum concentration in negative electrode [mol.m-3]": 30000,
            "Positive electrode charge transfer coefficient": 0.3,
            "Electrolyte conductivity [S.m-1]": 1.2,
        },
    )
    # x = c_s / c_s,max with the c_s,max set in the same table (not the set's 33133).
    assert cell.negative.particle_diffusivity(15000.0, 320.0) == pytest.approx(
        3.3e-14 * np.exp(-0.5 + 1000 / 320 - 3.354), rel=1e-14
    )
    assert cell.positive.porosity == 0.3 and cell.negative.max_concentration_mol_m3 == 30000.0
    assert cell.positive.anodic_transfer_coefficient == 0.3
    assert cell.positive.cathodic_transfer_coefficient == pytest.approx(0.7, rel=1e-15)
    assert cell.electrolyte.conductivity(np.array([500.0, 1500.0]), 298.15) == pytest.approx(1.2)
    # Everything else is the set's.
    assert cell.negative.porosity == chen2020().negative.porosity


@pytest.mark.parametrize(
    "values, message",
    [
        ({"Negative particle diffusivty [m2.s-1]": 1e-14}, "did you mean"),
        ({"Positive electrode porosity": "0.3 * x"}, "allowed a number"),
        ({"Negative particle diffusivity [m2.s-1]": "__import__('os')"}, "parameters.values"),
        ({"Negative particle diffusivity [m2.s-1]": True}, "allowed a number or an expression"),
        ({"Separator porosity": float("nan")}, "finite number"),
        ({"Negative electrode charge transfer coefficient": 1.5}, "0 < alpha < 1"),
    ],
)
def test_bad_names_and_values_are_refused_naming_the_parameter(values, message):
    with pytest.raises(ValueError, match=message):
        with_values(chen2020(), values)


def test_every_name_of_a_set_is_listed_with_its_value():
    names = parameter_names(chen2020())
    # Chen2020 has no plating or SEI parameters; OKane2022 (Chen2020 with them) has every name.
    degradation = {n for n, where in PARAMETER_NAMES.items() if where.component == "degradation"}
    assert set(names) == set(PARAMETER_NAMES) - degradation
    assert set(parameter_names(okane2022())) == set(PARAMETER_NAMES)
    assert names["Negative electrode thickness [m]"] == 85.2e-6
    assert names["Negative particle diffusivity [m2.s-1]"] == "function"


def test_an_override_reaches_the_weak_forms():
    """Chen2020's graphite diffusivity set by name to its own value changes nothing; a tenth
    of it starves the graphite surface and ends the 2C discharge earlier."""

    def capacity(values) -> tuple[float, np.ndarray]:
        model = DFN(with_values(chen2020(), values), RESOLUTION, MPI.COMM_WORLD, max_step_s=120)
        solution = model.discharge(10.0)
        return solution.discharge_capacity_Ah[-1], np.asarray(solution.voltage_V)

    name = "Negative particle diffusivity [m2.s-1]"
    reference, reference_voltage = capacity({})
    same, same_voltage = capacity({name: 3.3e-14})
    slow, _ = capacity({name: "3.3e-15"})
    # The same constant through a different function object: identical to round-off.
    np.testing.assert_allclose(same_voltage, reference_voltage, atol=1e-12)
    # Ten times slower solid diffusion: measured 0.68 of the capacity at 2C.
    assert slow < 0.9 * reference


def test_check_lists_the_names_of_a_case_with_its_overrides(tmp_path):
    """``electrolyx check CASE --parameters``: every name of the set, after [parameters.values]."""
    from conftest import CASES, run_cli

    case = tmp_path / "case"
    case.mkdir()
    text = (CASES / "dfn-chen2020-1C" / "case.toml").read_text()
    text = text.replace(
        "[parameters]\n",
        '[parameters.values]\n"Negative particle radius [m]" = 6.5e-6\n\n[parameters]\n',
    )
    (case / "case.toml").write_text(text)
    result = run_cli("check", str(case), "--parameters")
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()[1:]]
    listed = dict(line.split(" = ", 1) for line in lines)
    # Every name of the table, once, quoted as [parameters.values] takes it.
    # (Chen2020 has no plating or SEI parameters: those names are not its.)
    assert set(listed) == {
        f'"{name}"' for name, where in PARAMETER_NAMES.items() if where.component != "degradation"
    }
    assert listed['"Negative particle radius [m]"'] == "6.5e-06"  # the override
    assert listed['"Negative electrode thickness [m]"'] == "8.52e-05"  # the set's value
    assert listed['"Negative particle diffusivity [m2.s-1]"'] == "(a function)"
    # A model without a parameter set says so, and still validates.
    result = run_cli("check", str(CASES / "edl-gouy-chapman"), "--parameters")
    assert result.returncode == 0, result.stderr
    assert "it has no parameter set" in result.stdout
