"""Write the PyBaMM reference of particle swelling and cracking (tests/data/pybamm/ai2020_*.csv).

Usage: python bench/make_pybamm_cracking_reference.py OUT.csv [POINTS] [negative-only]

PyBaMM's DFN with the options {"particle mechanics": "swelling and cracking", "stress-induced
diffusion": "true"} (PyBaMM's default with mechanics, made explicit) on PyBaMM's Ai2020
set (the Enertech graphite | LiCoO2 pouch cell of Ai et al., J. Electrochem. Soc. 167, 013512
(2020), with its mechanical and cracking parameters), isothermal 298.15 K, 1C (2.28 A) from the
set's initial concentrations to 3.0 V, IDAKLU rtol 1e-8 / atol 1e-10, POINTS finite volumes per
region in x and in each particle (default 160), a row every 10 s plus the cut-off event as the
last row. With ``negative-only`` (tests/data/pybamm/ai2020_cracking_negative_only_1C.csv):
mechanics chosen per electrode, {"particle mechanics": ("swelling and cracking", "none"),
"stress-induced diffusion": "false"}, the negative particles' columns only.

Columns: time_s, voltage_V, current_A, discharge_capacity_Ah; for each electrode (neg, pos) the
x-averaged particle surface tangential (hoop) stress and its extremes over the electrode's finite
volumes [Pa], the growth of the x-averaged and of the largest particle crack length since t = 0
[m], the x-averaged cracking rate [m/s] and the x-averaged roughness ratio (1 + crack area /
particle area) [-]; the cell thickness change [m]. Needs pybamm (a separate venv; see
bench/README.md), never a dependency of electrolyx.
"""

import sys

import numpy as np
import pybamm


def main(out: str, points: int = 160, negative_only: bool = False) -> None:
    parameters = pybamm.ParameterValues("Ai2020")
    options = {"particle mechanics": "swelling and cracking", "stress-induced diffusion": "true"}
    if negative_only:
        options = {
            "particle mechanics": ("swelling and cracking", "none"),
            "stress-induced diffusion": "false",
        }
    model = pybamm.lithium_ion.DFN(options)
    var_pts = {"x_n": points, "x_s": points, "x_p": points, "r_n": points, "r_p": points}
    solver = pybamm.IDAKLUSolver(rtol=1e-8, atol=1e-10)
    simulation = pybamm.Simulation(
        model, parameter_values=parameters, var_pts=var_pts, solver=solver
    )
    t_max = 4000.0
    solution = simulation.solve([0.0, t_max], t_interp=np.arange(0.0, t_max, 10.0))
    columns = {
        "time_s": solution["Time [s]"].entries,
        "voltage_V": solution["Voltage [V]"].entries,
        "current_A": solution["Current [A]"].entries,
        "discharge_capacity_Ah": solution["Discharge capacity [A.h]"].entries,
    }
    sides = (("neg", "Negative"),) if negative_only else (("neg", "Negative"), ("pos", "Positive"))
    for side, Side in sides:
        domain = Side.lower()
        average = f"X-averaged {domain} particle surface tangential stress [Pa]"
        local = solution[f"{Side} particle surface tangential stress [Pa]"].entries
        columns[f"{side}_surface_hoop_stress_Pa"] = solution[average].entries
        columns[f"{side}_surface_hoop_stress_min_Pa"] = local.min(axis=0)
        columns[f"{side}_surface_hoop_stress_max_Pa"] = local.max(axis=0)
        # The growth l - l_0 (written to 10 digits of its own, not of l ~ l_0).
        initial = parameters[f"{Side} electrode initial crack length [m]"]
        crack = solution[f"{Side} particle crack length [m]"].entries
        average = solution[f"X-averaged {domain} particle crack length [m]"].entries
        columns[f"{side}_crack_growth_m"] = average - initial
        columns[f"{side}_crack_growth_max_m"] = crack.max(axis=0) - initial
        columns[f"{side}_cracking_rate_m_s"] = solution[
            f"X-averaged {domain} particle cracking rate [m.s-1]"
        ].entries
        columns[f"{side}_roughness_ratio"] = solution[
            f"X-averaged {domain} electrode roughness ratio"
        ].entries
    if not negative_only:
        columns["cell_thickness_change_m"] = solution["Cell thickness change [m]"].entries
    data = np.column_stack(list(columns.values()))
    header = f"# pybamm {pybamm.__version__}, {points} volumes\n" + ",".join(columns)
    np.savetxt(out, data, delimiter=",", header=header, comments="", fmt="%.10g")
    print(
        f"{out}: {len(data)} rows, t_end = {data[-1, 0]:.6f} s, termination {solution.termination}"
    )


if __name__ == "__main__":
    main(
        sys.argv[1],
        int(sys.argv[2]) if len(sys.argv) > 2 else 160,
        len(sys.argv) > 3 and sys.argv[3] == "negative-only",
    )
