"""The README's DFN comparison with the Python API only: Chen2020 1C discharge against PyBaMM.

    .venv/bin/python examples/dfn_vs_pybamm.py [FIGURE.png] [--set KEY=VALUE ...]

Runs the shipped case dfn-chen2020-1C, overlays PyBaMM's voltage against discharge capacity
(the case's pybamm_voltage_vs_capacity.csv) and prints the RMS difference over the common range.
"""

from __future__ import annotations

import argparse

import numpy as np

import electrolyx as ex
from electrolyx.shipped_cases import shipped_case


def main() -> None:
    """Run the case, compare with PyBaMM, draw the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figure", nargs="?", default="dfn_vs_pybamm.png")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    solution = ex.Simulation("dfn-chen2020-1C", set=args.set).solve()
    reference = np.genfromtxt(
        shipped_case("dfn-chen2020-1C") / "pybamm_voltage_vs_capacity.csv",
        delimiter=",",
        names=True,
    )
    capacity, voltage = solution["discharge_capacity_Ah"], solution["voltage_V"]
    common = reference["discharge_capacity_Ah"] <= capacity[-1]
    ours = np.interp(reference["discharge_capacity_Ah"][common], capacity, voltage)
    rms_mV = 1e3 * np.sqrt(np.mean((ours - reference["voltage_V"][common]) ** 2))
    print(f"capacity {capacity[-1]:.4f} A h (PyBaMM {reference['discharge_capacity_Ah'][-1]:.4f})")
    print(f"RMS voltage difference {rms_mV:.3f} mV over {common.sum()} reference points")

    import matplotlib

    matplotlib.use("Agg")
    ax = solution.plot("voltage_V", x="discharge_capacity_Ah")
    ax.lines[0].set_label("electrolyx DFN")
    ax.plot(
        reference["discharge_capacity_Ah"],
        reference["voltage_V"],
        "k--",
        label="PyBaMM DFN (finest mesh)",
    )
    ax.set_title(f"Chen2020 LG M50, 1C discharge: RMS difference {rms_mV:.2f} mV")
    ax.legend()
    ax.grid(alpha=0.3)
    ax.figure.savefig(args.figure, dpi=150)
    print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
