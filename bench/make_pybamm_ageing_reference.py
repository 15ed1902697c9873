"""Write the PyBaMM reference of cycle ageing per cycle (tests/data/pybamm/okane2022_ageing_*).

Usage: python bench/make_pybamm_ageing_reference.py OUT.csv CYCLES POINTS HOLD [SEI] [PLATING]

PyBaMM's DFN({"lithium plating": PLATING (default "partially reversible"), "SEI": SEI (default
"reaction limited"), "SEI film resistance": "distributed"}) (PLATING "none": no plating
option) on its OKane2022 set with Chen2020's analytic graphite OCP (as electrolyx's OKane2022),
isothermal 298.15 K, from the set's stored (charged) state, CYCLES times
["Discharge at 1C until 2.5 V", "Charge at 1C until 4.2 V", "Hold at 4.2 V until HOLD"]
(1C = 5 A; HOLD e.g. C/20), POINTS finite volumes per region in x and in each particle, IDAKLU
rtol 1e-8 / atol 1e-10.

One row per cycle: cycle, discharge_capacity_Ah (the capacity the discharge step delivered),
charge_capacity_Ah (charge and hold), loss_of_lithium_inventory_percent, sei_lithium_mol
("Loss of lithium to negative SEI [mol]"), plated_lithium_mol ("Loss of lithium to negative
lithium plating [mol]": plated and dead), all at the end of the cycle, hold_end_current_A and
end_time_s (the end of the hold). Needs pybamm (a separate venv; see bench/README.md), never a
dependency of electrolyx.
"""

import sys

import numpy as np
import pybamm


def main(
    out: str,
    cycles: int,
    points: int,
    hold: str,
    sei: str = "reaction limited",
    plating: str = "partially reversible",
) -> None:
    parameters = pybamm.ParameterValues("OKane2022")
    parameters["Negative electrode OCP [V]"] = pybamm.ParameterValues("Chen2020")[
        "Negative electrode OCP [V]"
    ]
    parameters["Ambient temperature [K]"] = 298.15
    parameters["Initial temperature [K]"] = 298.15
    options = {"SEI": sei, "SEI film resistance": "distributed"}
    if plating != "none":
        options["lithium plating"] = plating
    model = pybamm.lithium_ion.DFN(options)
    cycle = (
        "Discharge at 1C until 2.5 V",
        "Charge at 1C until 4.2 V",
        f"Hold at 4.2 V until {hold}",
    )
    experiment = pybamm.Experiment([cycle] * cycles)
    var_pts = {"x_n": points, "x_s": points, "x_p": points, "r_n": points, "r_p": points}
    solver = pybamm.IDAKLUSolver(rtol=1e-8, atol=1e-10)
    simulation = pybamm.Simulation(
        model,
        parameter_values=parameters,
        experiment=experiment,
        var_pts=var_pts,
        solver=solver,
    )
    solution = simulation.solve()
    rows = []
    for index, result in enumerate(solution.cycles, start=1):
        discharge, charge, held = result.steps
        capacity = discharge["Discharge capacity [A.h]"].entries
        charged = np.concatenate(
            [charge["Discharge capacity [A.h]"].entries, held["Discharge capacity [A.h]"].entries]
        )
        plated = (
            result["Loss of lithium to negative lithium plating [mol]"].entries[-1]
            if plating != "none"
            else 0.0
        )
        rows.append(
            [
                index,
                capacity[-1] - capacity[0],
                charged[0] - charged[-1],
                result["Loss of lithium inventory [%]"].entries[-1],
                result["Loss of lithium to negative SEI [mol]"].entries[-1],
                plated,
                held["Current [A]"].entries[-1],
                held["Time [s]"].entries[-1],
            ]
        )
    header = (
        "cycle,discharge_capacity_Ah,charge_capacity_Ah,loss_of_lithium_inventory_percent,"
        "sei_lithium_mol,plated_lithium_mol,hold_end_current_A,end_time_s"
    )
    np.savetxt(out, np.array(rows), delimiter=",", header=header, comments="", fmt="%.12g")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], *sys.argv[5:])
