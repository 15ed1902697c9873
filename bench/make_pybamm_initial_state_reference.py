"""PyBaMM's initial stoichiometries for a state of charge or an open-circuit voltage.

Writes ``tests/data/pybamm/initial_state.json``: for Chen2020, Marquis2019 and Ecker2015,
PyBaMM's electrode state-of-health window (x_0, x_100, y_0, y_100) and
``pybamm.lithium_ion.get_initial_stoichiometries`` at SOC 0, 0.3, 1 and at the voltages
listed below. Run with a PyBaMM installation outside the project's venv (never a dependency):

    python3.13 -m venv /tmp/pybamm-venv && /tmp/pybamm-venv/bin/pip install pybamm==26.10.1.1
    /tmp/pybamm-venv/bin/python bench/make_pybamm_initial_state_reference.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pybamm

SETS = {"Chen2020": (3.2, 3.8, 4.1), "Marquis2019": (3.5, 3.9), "Ecker2015": (3.4, 3.9)}
SOCS = (0.0, 0.3, 1.0)


def main(out: Path) -> None:
    result = {"pybamm": pybamm.__version__, "sets": {}}
    for name, voltages in SETS.items():
        parameters = pybamm.ParameterValues(name)
        x_0, x_100, y_100, y_0 = pybamm.lithium_ion.get_min_max_stoichiometries(parameters)
        entry = {
            "window": {"x_0": x_0, "x_100": x_100, "y_0": y_0, "y_100": y_100},
            "soc": {},
            "voltage": {},
        }
        for soc in SOCS:
            x, y = pybamm.lithium_ion.get_initial_stoichiometries(soc, parameters)
            entry["soc"][str(soc)] = {"x": float(x), "y": float(y)}
        for voltage in voltages:
            x, y = pybamm.lithium_ion.get_initial_stoichiometries(f"{voltage} V", parameters)
            entry["voltage"][str(voltage)] = {"x": float(x), "y": float(y)}
        result["sets"][name] = {
            key: (float(v) if not isinstance(v, dict) else v) for key, v in entry.items()
        }
        result["sets"][name]["window"] = {k: float(v) for k, v in entry["window"].items()}
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/data/pybamm/initial_state.json"))
