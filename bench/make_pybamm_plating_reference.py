"""Write the PyBaMM references of lithium plating and SEI growth (tests/data/pybamm/okane2022_*).

Usage: python bench/make_pybamm_plating_reference.py OUT.csv TEMPERATURE_K C_RATE [POINTS]
       [SEI] [PLATING] [FILM]

PyBaMM's DFN with the options {"lithium plating": PLATING (default "partially reversible"),
"SEI": SEI (default "reaction limited"), "SEI film resistance": FILM (default "distributed")}
on PyBaMM's OKane2022 set,
with one change: the graphite OCP is Chen2020's analytic fit (OKane2022 interpolates Chen's
measured table; electrolyx's OKane2022 set uses the fit, as its Chen2020 set does). Isothermal at
TEMPERATURE_K, from 0 % state of charge (``set_initial_state(0.0)``), a constant-current charge
at C_RATE (1C = 5 A) to 4.2 V, IDAKLU rtol 1e-8 / atol 1e-10, POINTS finite volumes per region
in x and in each particle (default 40), a row every 5 s plus the cut-off event as the last row.

Columns: time_s, voltage_V, current_A, discharge_capacity_Ah, plated_lithium_mol (reversibly
plated and dead, "Loss of lithium to negative lithium plating [mol]"), plated_lithium_Ah,
sei_lithium_mol ("Loss of lithium to negative SEI [mol]"), average_sei_thickness_m
("X-averaged negative SEI thickness [m]"), plating_current_A (the plating reaction's volumetric
current integrated over the negative electrode), loss_of_lithium_inventory_percent,
total_lithium_mol. Needs pybamm (a separate venv; see bench/README.md), never a dependency of
electrolyx.
"""

import sys

import numpy as np
import pybamm


def main(
    out: str,
    temperature_K: float,
    c_rate: float,
    points: int = 40,
    sei: str = "reaction limited",
    plating: str = "partially reversible",
    film: str = "distributed",
) -> None:
    parameters = pybamm.ParameterValues("OKane2022")
    parameters["Negative electrode OCP [V]"] = pybamm.ParameterValues("Chen2020")[
        "Negative electrode OCP [V]"
    ]
    parameters["Ambient temperature [K]"] = temperature_K
    parameters["Initial temperature [K]"] = temperature_K
    parameters["Current function [A]"] = -5.0 * c_rate
    parameters.set_initial_state(0.0)
    model = pybamm.lithium_ion.DFN(
        {"lithium plating": plating, "SEI": sei, "SEI film resistance": film}
    )
    var_pts = {"x_n": points, "x_s": points, "x_p": points, "r_n": points, "r_p": points}
    solver = pybamm.IDAKLUSolver(rtol=1e-8, atol=1e-10)
    simulation = pybamm.Simulation(
        model, parameter_values=parameters, var_pts=var_pts, solver=solver
    )
    t_max = 3600.0 / c_rate * 1.2
    solution = simulation.solve([0.0, t_max], t_interp=np.arange(0.0, t_max, 5.0))
    area = parameters["Electrode height [m]"] * parameters["Electrode width [m]"]
    x_n = solution["x_n [m]"].entries[:, 0]
    thickness = parameters["Negative electrode thickness [m]"]
    edges = np.concatenate(([0.0], 0.5 * (x_n[1:] + x_n[:-1]), [thickness]))
    widths = np.diff(edges)
    name = "Negative electrode lithium plating volumetric interfacial current density [A.m-3]"
    aj = solution[name]
    columns = {
        "time_s": solution["Time [s]"].entries,
        "voltage_V": solution["Voltage [V]"].entries,
        "current_A": solution["Current [A]"].entries,
        "discharge_capacity_Ah": solution["Discharge capacity [A.h]"].entries,
        "plated_lithium_mol": solution["Loss of lithium to negative lithium plating [mol]"].entries,
        "plated_lithium_Ah": solution["Loss of capacity to negative lithium plating [A.h]"].entries,
        "sei_lithium_mol": solution["Loss of lithium to negative SEI [mol]"].entries,
        "average_sei_thickness_m": solution["X-averaged negative SEI thickness [m]"].entries,
        "plating_current_A": area * (widths[:, None] * aj.entries).sum(axis=0),
        "loss_of_lithium_inventory_percent": solution["Loss of lithium inventory [%]"].entries,
        "total_lithium_mol": solution["Total lithium [mol]"].entries,
    }
    data = np.column_stack(list(columns.values()))
    header = (
        f"# pybamm {pybamm.__version__}, OKane2022 (Chen2020 graphite OCP fit), {points} volumes, "
        f"{temperature_K} K, {c_rate}C charge from 0 % SOC, plating {plating!r}, SEI {sei!r}, "
        f"SEI film resistance {film!r}\n" + ",".join(columns)
    )
    np.savetxt(out, data, delimiter=",", header=header, comments="", fmt="%.12g")
    print(
        f"{out}: {len(data)} rows, t_end = {data[-1, 0]:.6f} s, V_end = {data[-1, 1]:.6f}, "
        f"plated {data[-1, 5]:.6g} A h, SEI L = {data[-1, 7]:.6g} m, "
        f"termination {solution.termination}"
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        args[0],
        float(args[1]),
        float(args[2]),
        int(args[3]) if len(args) > 3 else 40,
        *(args[4:7]),
    )
