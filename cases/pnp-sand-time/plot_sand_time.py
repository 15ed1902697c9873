"""Sand's time and the extended space-charge layer: the figure of README.md.

Usage (after ``electrolyx run cases/pnp-sand-time``)::

    python cases/pnp-sand-time/plot_sand_time.py cases/pnp-sand-time/results

Left: the salt concentration sqrt(c+ c-) at x = 20 lambda_D against Sand's law
c0 (1 - sqrt(t / t_Sand)), and the metal potential. Right: the ions and the potential near the
metal at 240-260 s; the dots mark the edge of the space-charge layer (net charge > 1/2 of the
ions' charge). Written to ``RESULTS/figures/sand_time.png``.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import matplotlib

import electrolyx as ex
from electrolyx.constants import FARADAY

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

C0, D_PLUS, D_MINUS, CURRENT = 0.47, 1.388534e-10, 3.964334e-10, 0.05


def main(folder: Path) -> Path:
    """Draw the figure of the result folder ``folder``; return its path."""
    solution = ex.load(folder)
    diffusivity = 2 * D_PLUS * D_MINUS / (D_PLUS + D_MINUS)
    transference = D_PLUS / (D_PLUS + D_MINUS)
    sand = math.pi * diffusivity * (C0 * FARADAY / (2 * CURRENT * (1 - transference))) ** 2
    t = solution["time_s"]
    salt = np.sqrt(
        solution["concentration_cation_outer_mol_m3"] * solution["concentration_anion_outer_mol_m3"]
    )
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    law = C0 * (1 - np.sqrt(np.clip(t, 0, sand) / sand))
    left.semilogy(t, salt, label="PNP: sqrt(c+ c-) at 20 $\\lambda_D$")
    left.semilogy(t[t < sand], law[t < sand], "k--", label="Sand: $c_0(1-\\sqrt{t/t_{Sand}})$")
    left.axvline(sand, color="grey", lw=0.8)
    left.set_ylim(1e-6, 1)
    left.set_xlim(150, t[-1])
    left.set_xlabel("time [s]")
    left.set_ylabel("salt concentration [mol/m3]")
    twin = left.twinx()
    twin.plot(t, solution["electrode_potential_metal_V"], "C3", label="metal potential")
    twin.set_ylabel("metal potential [V]", color="C3")
    left.legend(loc="lower left", fontsize=8)
    left.set_title(f"t_Sand = {sand:.2f} s (grey line)")
    profile = solution.profiles["space_charge"]
    for i, time in enumerate([240.0, 246.0, 248.0, 250.0, 255.0, 260.0]):
        state = profile.sel(time=time)
        x = state["x"].to_numpy() * 1e6
        net = state["relative_net_charge"].to_numpy()
        k = int(np.argmax(net < 0.5))
        colour = f"C{i}"
        right.semilogy(x, state["concentration_cation_mol_m3"], colour, label=f"c+ {time:g} s")
        right.semilogy(x, state["concentration_anion_mol_m3"], colour, ls=":")
        right.plot(x[k], state["concentration_cation_mol_m3"].to_numpy()[k], "o", color=colour)
    right.set_ylim(1e-8, 1)
    right.set_xlabel("distance from the metal [um]")
    right.set_ylabel("c+ (solid), c- (dotted) [mol/m3]")
    right.set_title("extended space-charge layer (dots: its edge)")
    right.legend(fontsize=8)
    fig.tight_layout()
    out = folder / "figures" / "sand_time.png"
    out.parent.mkdir(exist_ok=True)
    fig.savefig(out, dpi=120)
    return out


if __name__ == "__main__":
    print(main(Path(sys.argv[1])))
