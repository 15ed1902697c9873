"""Write a PyBaMM thermal DFN reference discharge (tests/data/pybamm/chen2020_thermal_*.csv).

Usage:
    python bench/make_pybamm_thermal_reference.py THERMAL C_RATE OUT.csv [POINTS [H [DN DP]]]

PyBaMM's DFN with Chen2020 and ``options = {"thermal": THERMAL}`` (``"lumped"`` or ``"x-full"``;
x-full needs ``"cell geometry": "pouch"``), ambient = initial temperature = 298.15 K, total heat
transfer coefficient H W/m2/K (default 10, Chen2020's value). For x-full the two current
collector faces are cooled with the same H ("Negative/Positive current collector surface heat
transfer coefficient"), and the edges and tabs are not cooled (edge and tab coefficients 0), so
the cell exchanges heat only through its two large faces, as electrolyx's x-full model does.
Constant current C_RATE x 5 A from the set's initial state to 2.5 V, IDAKLU rtol 1e-8 /
atol 1e-10, POINTS finite volumes per region in x and in each particle (default 160), output
every 1/C_RATE s plus the cut-off event as the last row. DN, DP: constant OCP entropic
changes [V/K] of the negative and positive electrode instead of Chen2020's zeros (reversible
heat and U = U_ref + (T - T_ref) dU/dT). Run in a separate venv with pybamm
(see tests/data/pybamm/README.md); pybamm is not a dependency of electrolyx.
"""

import sys

import numpy as np
import pybamm


def main(
    thermal: str,
    c_rate: float,
    out: str,
    points: int = 160,
    h: float = 10.0,
    entropic: tuple[float, float] | None = None,
) -> None:
    parameters = pybamm.ParameterValues("Chen2020")
    if entropic is not None:
        parameters["Negative electrode OCP entropic change [V.K-1]"] = entropic[0]
        parameters["Positive electrode OCP entropic change [V.K-1]"] = entropic[1]
    parameters["Current function [A]"] = c_rate * parameters["Nominal cell capacity [A.h]"]
    parameters["Total heat transfer coefficient [W.m-2.K-1]"] = h
    options = {"thermal": thermal}
    if thermal == "x-full":
        options["cell geometry"] = "pouch"
        parameters.update(
            {
                "Negative current collector surface heat transfer coefficient [W.m-2.K-1]": h,
                "Positive current collector surface heat transfer coefficient [W.m-2.K-1]": h,
                "Edge heat transfer coefficient [W.m-2.K-1]": 0.0,
                "Negative tab heat transfer coefficient [W.m-2.K-1]": 0.0,
                "Positive tab heat transfer coefficient [W.m-2.K-1]": 0.0,
                "Negative tab width [m]": 0.01,
                "Positive tab width [m]": 0.01,
                "Negative tab centre y-coordinate [m]": 0.5,
                "Negative tab centre z-coordinate [m]": 0.065,
                "Positive tab centre y-coordinate [m]": 1.0,
                "Positive tab centre z-coordinate [m]": 0.065,
            },
            check_already_exists=False,
        )
    model = pybamm.lithium_ion.DFN(options)
    var_pts = {"x_n": points, "x_s": points, "x_p": points, "r_n": points, "r_p": points}
    solver = pybamm.IDAKLUSolver(rtol=1e-8, atol=1e-10)
    simulation = pybamm.Simulation(
        model, parameter_values=parameters, var_pts=var_pts, solver=solver
    )
    t_max = 1.5 * 3600.0 / c_rate
    solution = simulation.solve([0.0, t_max], t_interp=np.arange(0.0, t_max, 1.0 / c_rate))
    columns = {
        "time_s": "Time [s]",
        "voltage_V": "Voltage [V]",
        "current_A": "Current [A]",
        "temperature_K": "Volume-averaged cell temperature [K]",
        "heat_ohmic_W": "Ohmic heating [W]",
        "heat_irreversible_W": "Irreversible electrochemical heating [W]",
        "heat_reversible_W": "Reversible heating [W]",
        "heat_total_W": "Total heating [W]",
    }
    data = [solution[name].entries for name in columns.values()]
    if thermal == "x-full":
        cell = solution["Cell temperature [K]"].entries  # (x, t) without the collectors
        columns["max_temperature_K"] = "max of Cell temperature [K]"
        data.append(cell.max(axis=0))
        columns["negative_collector_temperature_K"] = "Negative current collector temperature [K]"
        data.append(solution["Negative current collector temperature [K]"].entries)
        columns["positive_collector_temperature_K"] = "Positive current collector temperature [K]"
        data.append(solution["Positive current collector temperature [K]"].entries)
    data = np.column_stack(data)
    header = ",".join(columns)
    np.savetxt(out, data, delimiter=",", header=header, comments="", fmt="%.10g")
    print(
        f"{out}: {len(data)} rows, t_end = {data[-1, 0]:.6f} s, T_end = {data[-1, 3]:.6f} K, "
        f"termination {solution.termination}"
    )


if __name__ == "__main__":
    points = int(sys.argv[4]) if len(sys.argv) > 4 else 160
    h = float(sys.argv[5]) if len(sys.argv) > 5 else 10.0
    entropic = (float(sys.argv[6]), float(sys.argv[7])) if len(sys.argv) > 7 else None
    main(sys.argv[1], float(sys.argv[2]), sys.argv[3], points, h, entropic)
