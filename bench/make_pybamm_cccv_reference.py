"""Write a PyBaMM DFN reference CC-CV charge from empty (as in tests/data/pybamm/).

Usage: python bench/make_pybamm_cccv_reference.py SET C_RATE OUT.csv [POINTS] [--charge-only]

PyBaMM's DFN with the named parameter set at its ambient temperature, started at 0 % state of
charge (``initial_soc=0``: the stoichiometries of PyBaMM's electrode state-of-health window at
the lower cut-off), then the experiment "Charge at C_RATE C until V_max", "Hold at V_max for 1
hour" (V_max the set's upper cut-off), IDAKLU rtol 1e-8 / atol 1e-10, POINTS finite volumes per
region in x and in each particle (default 80). Columns: time_s, voltage_V, current_A (positive
on discharge), discharge_capacity_Ah, step (0 charge, 1 hold), at PyBaMM's output times.

The hold lasts a fixed hour because PyBaMM 26.10.1.1 ends "Hold at 4.2 V until C/20" (or
"until 250 mA") at its first evaluation, after a 1C or 3C charge from empty (termination
"event: abs(Current [A]) < 0.25 [A] [experiment]", no row of the hold); the hold for a duration
runs. ``--charge-only`` leaves the hold out: PyBaMM 26.10.1.1 fails in Ecker2015's hold after
its 3C charge from empty (IDA_CONV_FAIL; 20 volumes). Needs the ``bench`` extra (pybamm), never
the package.
"""

import sys

import numpy as np
import pybamm


def main(
    set_name: str, c_rate: float, out: str, points: int = 80, charge_only: bool = False
) -> None:
    parameters = pybamm.ParameterValues(set_name)
    upper = parameters["Upper voltage cut-off [V]"]
    steps = [f"Charge at {c_rate}C until {upper} V"]
    if not charge_only:
        steps.append(f"Hold at {upper} V for 1 hour")
    experiment = pybamm.Experiment(steps)
    var_pts = {"x_n": points, "x_s": points, "x_p": points, "r_n": points, "r_p": points}
    simulation = pybamm.Simulation(
        pybamm.lithium_ion.DFN(),
        parameter_values=parameters,
        var_pts=var_pts,
        experiment=experiment,
        solver=pybamm.IDAKLUSolver(rtol=1e-8, atol=1e-10),
    )
    solution = simulation.solve(initial_soc=0.0)
    blocks = []
    for index, cycle in enumerate(solution.cycles):  # one cycle per experiment string
        blocks.append(
            np.column_stack(
                [
                    cycle["Time [s]"].entries,
                    cycle["Voltage [V]"].entries,
                    cycle["Current [A]"].entries,
                    cycle["Discharge capacity [A.h]"].entries,
                    np.full(cycle["Time [s]"].entries.shape, index),
                ]
            )
        )
    data = np.vstack(blocks)
    header = "time_s,voltage_V,current_A,discharge_capacity_Ah,step"
    np.savetxt(out, data, delimiter=",", header=header, comments="", fmt="%.10g")
    print(f"{out}: {len(data)} rows, t_end = {data[-1, 0]:.6f} s, {solution.termination}")


if __name__ == "__main__":
    flags = {a for a in sys.argv[1:] if a.startswith("--")}
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(
        args[0],
        float(args[1]),
        args[2],
        int(args[3]) if len(args) > 3 else 80,
        charge_only="--charge-only" in flags,
    )
