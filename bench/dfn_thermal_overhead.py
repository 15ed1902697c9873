"""Run time of the thermal DFN against the isothermal one (Chen2020, 1C, the shipped mesh).

Usage: python bench/dfn_thermal_overhead.py [PAIRS]

PAIRS (default 5) rounds of fresh processes, alternating isothermal / lumped / x-full inside
each round; each process builds the DFN (20/6/20 cells, 20 radial points, forms from the FFCx
cache) and times only ``discharge(5 A to 2.5 V)`` with a row every 10 s. Prints each run,
the medians, the overhead of each thermal model over the isothermal median, and the load
average before and after.
"""

import os
import subprocess
import sys

import numpy as np

CHILD = """
import time, electrolyx
from electrolyx.models.dfn import DFN, DFNResolution, ThermalModel
from electrolyx.parameters import chen2020
cell = DFN(chen2020(), DFNResolution(20, 6, 20, 20, 20, 2.0), thermal=ThermalModel({model!r}),
           row_interval_s=10.0)
start = time.perf_counter()
solution = cell.discharge(current_A=5.0, cutoff_voltage_V=2.5)
print(time.perf_counter() - start, solution.accepted_steps, solution.newton_iterations)
"""

MODELS = ("isothermal", "lumped", "x-full")


def main(pairs: int) -> None:
    print("load average before:", os.getloadavg())
    times: dict[str, list[float]] = {m: [] for m in MODELS}
    for round_ in range(pairs):
        order = MODELS if round_ % 2 == 0 else MODELS[::-1]
        for model in order:
            out = subprocess.run(
                [sys.executable, "-c", CHILD.format(model=model)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            times[model].append(float(out[0]))
            print(
                f"round {round_}: {model:10s} {float(out[0]):7.2f} s, "
                f"steps {out[1]}, Newton {out[2]}",
                flush=True,
            )
    base = np.median(times["isothermal"])
    for model in MODELS:
        median = np.median(times[model])
        print(
            f"{model:10s} median {median:.2f} s "
            f"({100 * (median / base - 1):+.1f} % over isothermal)"
        )
    print("load average after:", os.getloadavg())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
