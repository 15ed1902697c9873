"""Write a PyBaMM reference for the Chen2020 NMC811 half cell (lithium-metal counter electrode).

Usage: python bench/make_pybamm_half_cell_reference.py C_RATE CUTOFF_V J0_LI OUT.csv [POINTS]

PyBaMM's DFN with ``{"working electrode": "positive"}`` (separator | positive electrode, a
lithium-metal counter electrode at x = 0 with symmetric Butler-Volmer kinetics and OCP 0 V),
parameter set Chen2020 (its separator and NMC811 positive electrode, 1C = its nominal 5 A),
a constant lithium exchange-current density J0_LI [A/m2], isothermal 298.15 K, constant
current C_RATE x 5 A from the set's initial positive stoichiometry to CUTOFF_V, IDAKLU rtol
1e-8 / atol 1e-10, POINTS finite volumes in x_s, x_p and r_p (default 80), output every
1/C_RATE s plus the cut-off event as the last row. Needs the ``bench`` extra.
"""

import sys

import numpy as np
import pybamm


def main(c_rate: float, cutoff_V: float, j0_li: float, out: str, points: int = 80) -> None:
    parameters = pybamm.ParameterValues("Chen2020")
    parameters.update(
        {
            "Exchange-current density for lithium metal electrode [A.m-2]": j0_li,
            "Lithium counter electrode exchange-current density [A.m-2]": j0_li,
            "Lower voltage cut-off [V]": cutoff_V,
            # The fresh NMC811 (c_s/c_max = 0.27) rests at 4.27 V, above the set's 4.2 V.
            "Upper voltage cut-off [V]": 4.4,
            "Current function [A]": c_rate * parameters["Nominal cell capacity [A.h]"],
        },
        check_already_exists=False,
    )
    model = pybamm.lithium_ion.DFN({"working electrode": "positive"})
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
        "avg_pos_particle_conc_mol_m3": "Average positive particle concentration [mol.m-3]",
    }
    data = np.column_stack([solution[name].entries for name in columns.values()])
    np.savetxt(out, data, delimiter=",", header=",".join(columns), comments="", fmt="%.10g")
    print(
        f"{out}: {len(data)} rows, t_end = {data[-1, 0]:.6f} s, termination {solution.termination}"
    )


if __name__ == "__main__":
    points = int(sys.argv[5]) if len(sys.argv) > 5 else 80
    main(float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], points)
