"""Write the PyBaMM reference of SEI on cracks (tests/data/pybamm/okane2022_sei_on_cracks_*.csv).

Usage: python bench/make_pybamm_sei_on_cracks_reference.py OUT.csv [POINTS] [SEI] [CYCLES]

PyBaMM's DFN with the options {"SEI": SEI (default "reaction limited"), "SEI on cracks": "true",
"SEI film resistance": "distributed", "particle mechanics": ("swelling and cracking", "swelling
only"), "stress-induced diffusion": "true"} on PyBaMM's OKane2022 set with one change: the
graphite OCP is Chen2020's analytic fit (OKane2022 interpolates Chen's measured table;
electrolyx's OKane2022 set uses the fit, as its Chen2020 set does). Isothermal 298.15 K, from the
set's initial concentrations: CYCLES (default 1) cycles of a 1C (5 A) discharge to 2.5 V, then
a 1C charge to 4.2 V (pybamm.Experiment), IDAKLU rtol 1e-8 / atol 1e-10, POINTS finite volumes
per region in x and in each particle (default 40), a row every 10 s of each step plus its end
(every 60 s with more than one cycle).

Columns: cycle (from 1; multi-cycle files only), time_s, voltage_V, current_A,
sei_lithium_mol ("Loss of lithium to negative SEI [mol]"), crack_sei_lithium_mol ("Loss of
lithium to negative SEI on cracks [mol]"),
average_sei_thickness_m, average_crack_sei_thickness_m ("X-averaged negative SEI on cracks
thickness [m]"), neg_crack_growth_m (x-averaged negative crack length - l_0),
neg_roughness_ratio, loss_of_lithium_inventory_percent, total_lithium_mol. Needs pybamm (a
separate venv; see bench/README.md), never a dependency of electrolyx.
"""

import sys

import numpy as np
import pybamm


def main(out: str, points: int = 40, sei: str = "reaction limited", cycles: int = 1) -> None:
    parameters = pybamm.ParameterValues("OKane2022")
    parameters["Negative electrode OCP [V]"] = pybamm.ParameterValues("Chen2020")[
        "Negative electrode OCP [V]"
    ]
    parameters["Ambient temperature [K]"] = 298.15
    parameters["Initial temperature [K]"] = 298.15
    options = {
        "SEI": sei,
        "SEI on cracks": "true",
        "SEI film resistance": "distributed",
        "particle mechanics": ("swelling and cracking", "swelling only"),
        "stress-induced diffusion": "true",
    }
    model = pybamm.lithium_ion.DFN(options)
    experiment = pybamm.Experiment(
        [("Discharge at 1C until 2.5 V", "Charge at 1C until 4.2 V")] * cycles,
        period="10 seconds" if cycles == 1 else "60 seconds",
    )
    var_pts = {"x_n": points, "x_s": points, "x_p": points, "r_n": points, "r_p": points}
    solver = pybamm.IDAKLUSolver(rtol=1e-8, atol=1e-10)
    simulation = pybamm.Simulation(
        model, parameter_values=parameters, var_pts=var_pts, solver=solver, experiment=experiment
    )
    solution = simulation.solve()
    initial = parameters["Negative electrode initial crack length [m]"]
    crack_sei = "Loss of lithium to negative SEI on cracks [mol]"
    columns = {}
    if cycles > 1:
        columns["cycle"] = np.concatenate(
            [np.full(len(c["Time [s]"].entries), i + 1) for i, c in enumerate(solution.cycles)]
        )
    columns |= {
        "time_s": solution["Time [s]"].entries,
        "voltage_V": solution["Voltage [V]"].entries,
        "current_A": solution["Current [A]"].entries,
        "sei_lithium_mol": solution["Loss of lithium to negative SEI [mol]"].entries,
        "crack_sei_lithium_mol": solution[crack_sei].entries,
        "average_sei_thickness_m": solution["X-averaged negative SEI thickness [m]"].entries,
        "average_crack_sei_thickness_m": solution[
            "X-averaged negative SEI on cracks thickness [m]"
        ].entries,
        "neg_crack_growth_m": solution["X-averaged negative particle crack length [m]"].entries
        - initial,
        "neg_roughness_ratio": solution["X-averaged negative electrode roughness ratio"].entries,
        "loss_of_lithium_inventory_percent": solution["Loss of lithium inventory [%]"].entries,
        "total_lithium_mol": solution["Total lithium [mol]"].entries,
    }
    data = np.column_stack(list(columns.values()))
    header = (
        f"# pybamm {pybamm.__version__}, OKane2022 (Chen2020 graphite OCP fit), {points} volumes, "
        f"298.15 K, {cycles} x (1C discharge to 2.5 V + 1C charge to 4.2 V), SEI {sei!r}, "
        "SEI on cracks, "
        "mechanics (swelling and cracking, swelling only)\n" + ",".join(columns)
    )
    np.savetxt(out, data, delimiter=",", header=header, comments="", fmt="%.12g")
    last = {name: values[-1] for name, values in columns.items()}
    print(
        f"{out}: {len(data)} rows, t_end = {last['time_s']:.3f} s, "
        f"V_end = {last['voltage_V']:.6f}, SEI Li {last['sei_lithium_mol']:.6g} mol, "
        f"crack SEI Li {last['crack_sei_lithium_mol']:.6g} mol, "
        f"crack growth {last['neg_crack_growth_m']:.6g} m"
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        args[0],
        int(args[1]) if len(args) > 1 else 40,
        args[2] if len(args) > 2 else "reaction limited",
        int(args[3]) if len(args) > 3 else 1,
    )
