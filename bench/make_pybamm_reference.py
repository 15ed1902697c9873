"""Write a PyBaMM DFN reference discharge (as in tests/data/pybamm/) for a built-in set.

Usage: python bench/make_pybamm_reference.py SET C_RATE OUT.csv [POINTS [TEMPERATURE_K]]

PyBaMM's DFN with the named parameter set (or a BPX file: SET ending in .json, imported by
PyBaMM at 100 % SOC), isothermal at the set's ambient temperature (or TEMPERATURE_K, as ambient
and initial temperature), constant current C_RATE x nominal capacity from the set's initial
state to its lower cut-off, IDAKLU rtol 1e-8 / atol 1e-10, POINTS finite volumes per region in
x and in each particle (default 160), output every 1/C_RATE s plus the cut-off event as the last
row. Needs the ``bench`` extra.
"""

import sys

import numpy as np
import pybamm


def main(
    set_name: str, c_rate: float, out: str, points: int = 160, temperature_K: float | None = None
) -> None:
    if set_name.endswith(".json"):  # a BPX file: PyBaMM's importer, cell at 100 % SOC
        parameters = pybamm.ParameterValues.create_from_bpx(set_name)
    else:
        parameters = pybamm.ParameterValues(set_name)
    if temperature_K is not None:
        parameters["Ambient temperature [K]"] = temperature_K
        parameters["Initial temperature [K]"] = temperature_K
    capacity = parameters["Nominal cell capacity [A.h]"]
    parameters["Current function [A]"] = c_rate * capacity
    model = pybamm.lithium_ion.DFN()
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
        "discharge_capacity_Ah": "Discharge capacity [A.h]",
        "avg_neg_particle_conc_mol_m3": "Average negative particle concentration [mol.m-3]",
        "avg_pos_particle_conc_mol_m3": "Average positive particle concentration [mol.m-3]",
    }
    data = np.column_stack([solution[name].entries for name in columns.values()])
    np.savetxt(out, data, delimiter=",", header=",".join(columns), comments="", fmt="%.10g")
    print(
        f"{out}: {len(data)} rows, t_end = {data[-1, 0]:.6f} s, termination {solution.termination}"
    )


if __name__ == "__main__":
    points = int(sys.argv[4]) if len(sys.argv) > 4 else 160
    temperature = float(sys.argv[5]) if len(sys.argv) > 5 else None
    main(sys.argv[1], float(sys.argv[2]), sys.argv[3], points, temperature)
