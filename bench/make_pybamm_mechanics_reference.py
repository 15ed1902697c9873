"""Write the PyBaMM reference of particle mechanics (tests/data/pybamm/chen2020_mechanics_1C.csv).

Usage: python bench/make_pybamm_mechanics_reference.py OUT.csv [POINTS]

PyBaMM's DFN with the options {"particle mechanics": "swelling only", "stress-induced
diffusion": "true"} on the Chen2020 set plus the mechanical parameters of PyBaMM's OKane2022
set (Young's modulus, Poisson's ratio, partial molar volume, reference concentration for free
of deformation and the volume-change functions of each electrode; the rest of OKane2022 is not
used), isothermal 298.15 K, 5 A (1C) from the set's initial state to 2.5 V, IDAKLU rtol 1e-8 /
atol 1e-10, POINTS finite volumes per region in x and in each particle (default 160), a row
every second plus the cut-off event as the last row.

Columns: time_s, voltage_V, current_A, discharge_capacity_Ah; for each electrode (neg, pos)
the x-averaged particle surface tangential (hoop) stress and its minimum and maximum over the
electrode's finite volumes [Pa]; the cell thickness change [m]. Needs pybamm (a separate venv;
see bench/README.md), never a dependency of electrolyx.
"""

import sys

import numpy as np
import pybamm

#: The mechanical parameters of PyBaMM's OKane2022 set that "swelling only" reads.
MECHANICAL_NAMES = [
    f"{side} electrode {name}"
    for side in ("Negative", "Positive")
    for name in (
        "Poisson's ratio",
        "Young's modulus [Pa]",
        "reference concentration for free of deformation [mol.m-3]",
        "partial molar volume [m3.mol-1]",
        "volume change",
    )
]


def main(out: str, points: int = 160) -> None:
    parameters = pybamm.ParameterValues("Chen2020")
    okane = pybamm.ParameterValues("OKane2022")
    parameters.update({name: okane[name] for name in MECHANICAL_NAMES}, check_already_exists=False)
    parameters["Current function [A]"] = 5.0
    model = pybamm.lithium_ion.DFN(
        {"particle mechanics": "swelling only", "stress-induced diffusion": "true"}
    )
    var_pts = {"x_n": points, "x_s": points, "x_p": points, "r_n": points, "r_p": points}
    solver = pybamm.IDAKLUSolver(rtol=1e-8, atol=1e-10)
    simulation = pybamm.Simulation(
        model, parameter_values=parameters, var_pts=var_pts, solver=solver
    )
    t_max = 5400.0
    solution = simulation.solve([0.0, t_max], t_interp=np.arange(0.0, t_max, 1.0))
    columns = {
        "time_s": solution["Time [s]"].entries,
        "voltage_V": solution["Voltage [V]"].entries,
        "current_A": solution["Current [A]"].entries,
        "discharge_capacity_Ah": solution["Discharge capacity [A.h]"].entries,
    }
    for side, Side in (("neg", "Negative"), ("pos", "Positive")):
        average = f"X-averaged {Side.lower()} particle surface tangential stress [Pa]"
        local = solution[f"{Side} particle surface tangential stress [Pa]"].entries
        columns[f"{side}_surface_hoop_stress_Pa"] = solution[average].entries
        columns[f"{side}_surface_hoop_stress_min_Pa"] = local.min(axis=0)
        columns[f"{side}_surface_hoop_stress_max_Pa"] = local.max(axis=0)
    columns["cell_thickness_change_m"] = solution["Cell thickness change [m]"].entries
    data = np.column_stack(list(columns.values()))
    header = f"# pybamm {pybamm.__version__}, {points} volumes\n" + ",".join(columns)
    np.savetxt(out, data, delimiter=",", header=header, comments="", fmt="%.10g")
    print(
        f"{out}: {len(data)} rows, t_end = {data[-1, 0]:.6f} s, termination {solution.termination}"
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 160)
