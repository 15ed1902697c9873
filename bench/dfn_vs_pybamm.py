"""PyBaMM's DFN and electrolyx's DFN side by side: Chen2020, 1C discharge to 2.5 V.

Usage: python bench/dfn_vs_pybamm.py [--repeat N] [--rtol RTOL]

Each code runs in a fresh Python process (after one untimed warm-up run, so electrolyx's form
cache and both codes' bytecode caches are warm), the two codes alternating; the run of median
wall time is reported (never a best-of: under load it flatters whichever code got a quiet
moment). For the issue's whole-process comparison of the CLI run see bench/dfn_speed.py.
Reported per code: whole-process wall time and peak resident memory (from the child's rusage),
solve-only time (measured inside the child), and the RMS voltage difference to PyBaMM's
finest-mesh reference (tests/data/pybamm/chen2020_1C.csv) at its 1 s output times. PyBaMM runs
its default DFN mesh (20 volumes per region and particle) with its default solver (IDAKLU);
needs the ``bench`` extra (pybamm).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data" / "pybamm" / "chen2020_1C.csv"

COMMON = f"""
import json, time
import numpy as np
reference = np.loadtxt({str(REFERENCE)!r}, delimiter=",", skiprows=1)
def report(t, v, solve_s, extra):
    from scipy.interpolate import CubicSpline
    t_ref, v_ref = reference[:, 0], reference[:, 1]
    mask = t_ref <= min(t_ref[-1], t[-1])
    d = CubicSpline(t, v)(t_ref[mask]) - v_ref[mask]
    rms = 1e3 * float(np.sqrt(np.mean(d**2)))
    print("RESULT " + json.dumps({{"solve_s": solve_s, "rms_mV": rms,
        "max_mV": 1e3 * float(np.max(np.abs(d))), "t_end_s": float(t[-1]), **extra}}))
"""

PYBAMM = (
    COMMON
    + """
import pybamm
model = pybamm.lithium_ion.DFN()
sim = pybamm.Simulation(model, parameter_values=pybamm.ParameterValues("Chen2020"))
start = time.perf_counter()
solution = sim.solve([0, 5400])
solve_s = time.perf_counter() - start
t = solution["Time [s]"].entries
v = solution["Voltage [V]"].entries
states = sim.built_model.concatenated_initial_conditions.shape[0]
report(t, v, solve_s, {"code": "pybamm " + pybamm.__version__, "states": int(states)})
"""
)

ELECTROLYX = (
    COMMON
    + """
import electrolyx
from electrolyx.models.dfn import DFN, DFNResolution
from electrolyx.parameters import chen2020
model = DFN(chen2020(), DFNResolution(*RESOLUTION), relative_tolerance=RTOL)
start = time.perf_counter()
solution = model.discharge(5.0)
solve_s = time.perf_counter() - start
report(np.array(solution.time_s), np.array(solution.voltage_V), solve_s,
       {"code": "electrolyx " + electrolyx.__version__, "steps": len(solution.time_s) - 1,
        "newton_iterations": solution.newton_iterations})
"""
)


def run_child_with_rusage(source: str, python: str = sys.executable) -> dict:
    """Run ``source`` in a fresh interpreter (``python``): wall time, CPU time, peak resident
    memory and its RESULT line."""
    start = time.perf_counter()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.dup2(write, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.chdir(ROOT)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        os.execve(python, [python, "-c", source], env)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"child failed: {b''.join(chunks).decode()[-2000:]}")
    out = b"".join(chunks).decode()
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    result["wall_s"] = wall
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    result["peak_rss_MB"] = usage.ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per code (median kept)")
    parser.add_argument("--rtol", type=float, default=1e-3, help="electrolyx time-step rtol")
    parser.add_argument(
        "--resolution",
        type=int,
        nargs=5,
        default=[],
        metavar=("NEG", "SEP", "POS", "R_NEG", "R_POS"),
        help="electrolyx cells per region and radial points (default: DFNResolution())",
    )
    args = parser.parse_args()
    electrolyx_source = ELECTROLYX.replace("RTOL", repr(args.rtol)).replace(
        "RESOLUTION", repr(tuple(args.resolution))
    )
    codes = {"pybamm": PYBAMM, "electrolyx": electrolyx_source}
    for source in codes.values():
        run_child_with_rusage(source)  # warm-up: form cache, bytecode
    # Alternate the codes, so that a change of machine load hits both alike; keep the median.
    runs: dict[str, list[dict]] = {name: [] for name in codes}
    for _ in range(args.repeat):
        for name, source in codes.items():
            runs[name].append(run_child_with_rusage(source))
    results = {}
    for name, all_runs in runs.items():
        results[name] = sorted(all_runs, key=lambda r: r["wall_s"])[len(all_runs) // 2]
        results[name]["wall_s_all"] = [round(r["wall_s"], 3) for r in all_runs]
    print("| code | whole process s | peak memory MB | solve s | RMS mV | max mV | t_end s |")
    print("|---|---|---|---|---|---|---|")
    for r in results.values():
        print(
            f"| {r['code']} | {r['wall_s']:.2f} | {r['peak_rss_MB']:.0f} | {r['solve_s']:.2f} | "
            f"{r['rms_mV']:.3f} | {r['max_mV']:.2f} | {r['t_end_s']:.3f} |"
        )
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
