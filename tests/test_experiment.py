"""Parsing of PyBaMM-style protocol sentences into typed steps."""

import pytest

from electrolyx.experiment import parse_experiment, parse_step, repeat


@pytest.mark.parametrize(
    ("text", "mode", "value_SI", "duration_s", "until_voltage_V", "until_current_A"),
    [
        ("Discharge at 1C until 2.5 V", "current", 5.0, None, 2.5, None),
        ("Charge at 0.5C until 4.2 V", "current", -2.5, None, 4.2, None),
        ("Hold at 4.2 V until C/50", "voltage", 4.2, None, None, 0.1),
        ("Rest for 1 hour", "rest", 0.0, 3600.0, None, None),
        ("Discharge at 2 A for 10 minutes", "current", 2.0, 600.0, None, None),
        ("Discharge at 5 W until 3 V", "power", 5.0, None, 3.0, None),
        ("Charge at C/3 for 2 hours or until 4.1 V", "current", -5.0 / 3.0, 7200.0, 4.1, None),
        ("Hold at 4.1V for 30 minutes", "voltage", 4.1, 1800.0, None, None),
        ("discharge at 500 mA until 3 V", "current", 0.5, None, 3.0, None),
        ("Hold at 4.2 V until 50 mA", "voltage", 4.2, None, None, 0.05),
        ("Charge at 1.5e3 mW for 90 s", "power", -1.5, 90.0, None, None),
    ],
)
def test_sentences_parse_to_si_values(
    text, mode, value_SI, duration_s, until_voltage_V, until_current_A
):
    step = parse_step(text)
    nominal_capacity_Ah = 5.0  # 1C = 5 A
    assert step.mode == mode
    # Exact decimal arithmetic on the parsed numbers: equal to round-off.
    assert step.value_SI(nominal_capacity_Ah) == pytest.approx(value_SI, rel=1e-14)
    assert step.duration_s == duration_s
    assert step.until_voltage_V == until_voltage_V
    if until_current_A is None:
        assert step.until_current_A(nominal_capacity_Ah) is None
    else:
        assert step.until_current_A(nominal_capacity_Ah) == pytest.approx(until_current_A, 1e-14)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Rest", "needs exactly a duration"),
        ("Discharge at 1C", "never ends"),
        ("Hold at 4.2 V", "never ends"),
        ("Fly at 2C for 1 hour", "cannot parse"),
        ("Discharge at 1C until 2.5 V please", "cannot read 'please'"),
        ("Hold at 4.2 V until 3 V", "ends on a current or time"),
        ("Discharge at 1C until C/20", "ends on a voltage or time"),
        ("Rest for 2 fortnights", "unknown time unit"),
    ],
)
def test_bad_sentences_give_clear_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_step(text)


def test_groups_repeat_in_order():
    cycle = ("Discharge at 1C until 2.5 V", "Rest for 10 minutes", "Charge at 1C until 4.2 V")
    steps = parse_experiment([*repeat(cycle, 3), "Rest for 1 hour"])
    assert [s.text for s in steps] == [*cycle * 3, "Rest for 1 hour"]
    with pytest.raises(ValueError, match=">= 1"):
        repeat(cycle, 0)
    with pytest.raises(ValueError, match="at least one step"):
        parse_experiment([])
