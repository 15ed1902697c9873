"""Our side of the lithium plating comparison (bench/README.md, "Lithium plating and SEI").

Usage: python bench/dfn_plating_mesh.py TEMPERATURE_K C_RATE N [FILM] [OUT.csv]

OKane2022 from 0 % SOC, partially reversible plating and reaction-limited SEI on the graphite
(FILM: "distributed", the default, or "none"), a constant-current charge at C_RATE to 4.2 V,
N cells in each electrode (N // 3, at least 6, in the separator) and N radial nodes. Prints the
cut-off time, the plated (plus dead) lithium in mol and A h, the SEI lithium and the largest
relative change of electrolyte + particle + plated + dead + SEI lithium; writes the rows
(time, voltage, plated lithium, SEI lithium) to OUT.csv if given.
"""

import sys

import numpy as np

import electrolyx  # noqa: F401  (before dolfinx)
from electrolyx.constants import FARADAY
from electrolyx.models.dfn import DFN, DFNResolution, SideReactions
from electrolyx.parameters import okane2022
from electrolyx.parameters.initial_state import with_initial_state


def main(temperature_K: float, c_rate: float, n: int, film: str = "distributed", out=None):
    cell = with_initial_state(okane2022(), 0.0)
    side = SideReactions(
        ("lithium-plating", "sei"),
        "partially-reversible",
        "reaction-limited",
        cell.degradation,
        sei_film_resistance=film == "distributed",
    )
    model = DFN(
        cell,
        DFNResolution(n, max(6, n // 3), n, n, n),
        temperature_K=temperature_K,
        side_reactions={"negative": side},
        row_interval_s=5.0,
    )
    rows = []

    def observe(kind: str) -> None:
        if kind == "row":
            values = model.outputs.degradation.values()
            rows.append(
                (
                    model.time_s,
                    model.voltage(),
                    values["plated_lithium_mol"],
                    values["sei_lithium_mol"],
                )
            )

    model.observer = observe
    solution = model.discharge(-cell.one_c_current_A() * c_rate, cell.upper_voltage_cutoff_V)
    total = np.asarray(solution.lithium_mol) + solution.lithium_in_side_reactions_mol
    plated = rows[-1][2]
    print(
        f"N = {n}, {temperature_K} K, {c_rate}C, film {film}: cut-off {model.time_s:.2f} s, "
        f"plated {plated:.6g} mol = {plated * FARADAY / 3600:.6g} A h, SEI {rows[-1][3]:.6g} mol, "
        f"lithium conserved to {np.max(np.abs(total - total[0])) / total[0]:.2g}"
    )
    if out:
        np.savetxt(
            out,
            np.array(rows),
            delimiter=",",
            header="time_s,voltage_V,plated_lithium_mol,sei_lithium_mol",
            comments="",
        )


if __name__ == "__main__":
    args = sys.argv[1:]
    main(float(args[0]), float(args[1]), int(args[2]), *(args[3:5]))
