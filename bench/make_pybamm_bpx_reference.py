"""Write a PyBaMM DFN reference discharge of a cell described by a BPX file.

Usage: python bench/make_pybamm_bpx_reference.py BPX.json C_RATE OUT.csv [POINTS]

PyBaMM reads the file with its own BPX importer (``ParameterValues.create_from_bpx`` with
``target_soc=1``: the initial state at the file's stoichiometry limits, as in the ``bpx`` package
and ``electrolyx.parameters.read_bpx``; without it, as in make_pybamm_reference.py, PyBaMM puts full
charge where the OCV equals the upper cut-off), then runs its DFN isothermally at the file's ambient
temperature: constant current C_RATE x nominal capacity to the lower cut-off, IDAKLU rtol 1e-8 /
atol 1e-10, POINTS finite volumes per region in x and in each particle (default 80), output every
1/C_RATE s plus the cut-off event as the last row. Columns as in tests/data/pybamm/. Needs the
``bench`` extra.
"""

import sys
import warnings

import numpy as np
import pybamm


def main(path: str, c_rate: float, out: str, points: int = 80) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parameters = pybamm.ParameterValues.create_from_bpx(path, target_soc=1.0)
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
    points = int(sys.argv[4]) if len(sys.argv) > 4 else 80
    main(sys.argv[1], float(sys.argv[2]), sys.argv[3], points)
