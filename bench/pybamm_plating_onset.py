"""PyBaMM's plating onset on the shipped fast charge (cases/dfn-plating-fast-charge).

Usage: python bench/pybamm_plating_onset.py [POINTS]    (pybamm in its own venv)

PyBaMM 26.10's DFN({"lithium plating": "partially reversible", "SEI": "reaction limited",
"SEI film resistance": "distributed"}) on OKane2022 with Chen2020's analytic graphite OCP,
10 A (2C) charge from 0 % SOC at 298.15 K, POINTS volumes per region and particle (default
40), IDAKLU rtol 1e-8, atol 1e-10, output every 0.5 s. Prints the first time at which its
"Negative electrode lithium plating reaction overpotential [V]" (phi_s - phi_e with the film's
overpotential) is negative: in its last volume (a cell centre, half a volume from the
separator) and at the separator face (the last two centres extrapolated linearly), each linear
in time between the outputs. electrolyx's nodes include that face (run.json plating_onset).
"""

import sys

import numpy as np
import pybamm


def onset(times: np.ndarray, values: np.ndarray) -> float:
    """First time ``values`` < 0, linear between the outputs."""
    i = int(np.argmax(values < 0))
    fraction = values[i - 1] / (values[i - 1] - values[i])
    return float(times[i - 1] + fraction * (times[i] - times[i - 1]))


def main(points: int = 40) -> None:
    parameters = pybamm.ParameterValues("OKane2022")
    parameters["Negative electrode OCP [V]"] = pybamm.ParameterValues("Chen2020")[
        "Negative electrode OCP [V]"
    ]
    parameters["Current function [A]"] = -10.0
    parameters.set_initial_state(0.0)
    model = pybamm.lithium_ion.DFN(
        {
            "lithium plating": "partially reversible",
            "SEI": "reaction limited",
            "SEI film resistance": "distributed",
        }
    )
    var_pts = {"x_n": points, "x_s": points, "x_p": points, "r_n": points, "r_p": points}
    simulation = pybamm.Simulation(
        model,
        parameter_values=parameters,
        var_pts=var_pts,
        solver=pybamm.IDAKLUSolver(rtol=1e-8, atol=1e-10),
    )
    solution = simulation.solve([0, 900], t_interp=np.arange(0.0, 900.0, 0.5))
    eta = solution["Negative electrode lithium plating reaction overpotential [V]"].entries
    times = solution["Time [s]"].entries
    face = eta[-1] + 0.5 * (eta[-1] - eta[-2])
    print(f"last volume: {onset(times, eta.min(axis=0)):.6g} s")
    print(f"separator face: {onset(times, face):.6g} s")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
