"""Write PyBaMM's 1+1D DFN with "potential pair" current collectors (tests/data/pybamm/).

Usage: python bench/make_pybamm_potential_pair_reference.py OUT.csv [Z_POINTS [CONDUCTIVITY_SCALE]]

PyBaMM's DFN of the Chen2020 cell with {"current collector": "potential pair",
"dimensionality": 1}: at every height z of the electrode (Z_POINTS finite volumes over 0.065 m,
default 40) a 1D DFN, coupled through the potentials of two current-collector sheets (copper
12 um, aluminium 16 um; conductivities times CONDUCTIVITY_SCALE, default 0.1 to make their
effect a few millivolts) with both tabs at the top, z = 0.065 m. Next to it the plain 1D DFN on
the same through-cell mesh (20/6/20 volumes, 20 radial), so that the difference of the two is the
current collectors' effect with the x and r discretisation errors cancelled. 1C (5 A) from the
set's initial state to 2.5 V, IDAKLU rtol 1e-8 / atol 1e-10.

Columns: time_s (every 10 s, then the 1+1D model's cut-off), voltage_1D_V,
voltage_potential_pair_V (both interpolated by PyBaMM at those times; the 1D model reaches its
cut-off later, so its last value is at the 1+1D cut-off time). The header comment line gives both
cut-off times. Needs the ``bench`` extra.
"""

import sys

import numpy as np
import pybamm


def _parameters(conductivity_scale: float) -> pybamm.ParameterValues:
    parameters = pybamm.ParameterValues("Chen2020")
    parameters.update(
        {
            "Negative current collector conductivity [S.m-1]": 58411000.0 * conductivity_scale,
            "Positive current collector conductivity [S.m-1]": 36914000.0 * conductivity_scale,
            # Tabs at the top edge (for a 1D collector only their z-coordinate matters).
            "Negative tab centre z-coordinate [m]": 0.065,
            "Positive tab centre z-coordinate [m]": 0.065,
            "Negative tab centre y-coordinate [m]": 0.79,
            "Positive tab centre y-coordinate [m]": 0.79,
            "Negative tab width [m]": 0.1,
            "Positive tab width [m]": 0.1,
        },
        check_already_exists=False,
    )
    return parameters


def _solve(options: dict, parameters, z_points: int):
    var_pts = {"x_n": 20, "x_s": 6, "x_p": 20, "r_n": 20, "r_p": 20, "z": z_points}
    simulation = pybamm.Simulation(
        pybamm.lithium_ion.DFN(options),
        parameter_values=parameters,
        var_pts=var_pts,
        solver=pybamm.IDAKLUSolver(rtol=1e-8, atol=1e-10),
    )
    return simulation.solve([0.0, 4000.0])


def main(out: str, z_points: int = 40, conductivity_scale: float = 0.1) -> None:
    parameters = _parameters(conductivity_scale)
    one_d = _solve({}, parameters, z_points)
    pair = _solve(
        {"current collector": "potential pair", "dimensionality": 1}, parameters, z_points
    )
    end_1d = float(one_d["Time [s]"].entries[-1])
    end_pair = float(pair["Time [s]"].entries[-1])
    times = np.append(np.arange(0.0, end_pair, 10.0), end_pair)
    data = np.column_stack([times, one_d["Voltage [V]"](times), pair["Voltage [V]"](times)])
    header = (
        f"# PyBaMM {pybamm.__version__}; cut-off 1D {end_1d:.6f} s, potential pair "
        f"{end_pair:.6f} s; z points {z_points}; collector conductivity scale "
        f"{conductivity_scale}\ntime_s,voltage_1D_V,voltage_potential_pair_V"
    )
    np.savetxt(out, data, delimiter=",", header=header, comments="", fmt="%.10g")
    print(f"{out}: {len(data)} rows, cut-offs {end_1d:.4f} s (1D), {end_pair:.4f} s (pair)")


if __name__ == "__main__":
    z_points = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    scale = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
    main(sys.argv[1], z_points, scale)
