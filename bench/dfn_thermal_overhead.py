"""Run time of the thermal DFN against the isothermal one: the 1D cell and the 3D pouch.

Usage: python bench/dfn_thermal_overhead.py [ROUNDS] [--pouch-seconds S] [--only 1d|pouch]
                                           [--whole-process]

ROUNDS (default 5) rounds of fresh processes, after one untimed run of each model (forms
into the cache); inside each round the runs alternate their order (isothermal first in even
rounds, last in odd ones), so that a change of machine load hits every model alike.

* 1D: Chen2020, 1C (5 A) to 2.5 V, 20/6/20 cells, 20 radial points, a row every 10 s;
  isothermal / lumped / x-full. Each process builds the DFN (forms from the form cache) and
  times ``discharge()`` only.
* Pouch: ``cases/pouch-3d-thermal-3C`` (its mesh, tolerances and cooling), without field
  output; isothermal (its ``[thermal]`` table removed) against ``model = "3d"``. The whole
  3C discharge to 2.5 V takes minutes a run on a shared machine, so by default the first
  ``--pouch-seconds`` (60) of it are run (the experiment "Discharge at 3C for 60 seconds");
  ``--pouch-seconds 0`` runs the case's own experiment to the cut-off. Timed:
  ``Simulation.solve()`` (mesh, forms from the cache, stepping, result folder).

``--whole-process`` times instead what a user waits for: ``electrolyx run CASE --quiet`` in a
fresh process, from start to exit (imports, mesh, forms from the cache, the run, the result
folder with its field files), CPU time from the child's resource usage: 1D the shipped
``cases/dfn-chen2020-thermal-lumped`` with ``--set thermal.model=...`` isothermal / lumped /
x-full; the pouch ``cases/pouch-3d-thermal-3C`` isothermal / 3d, its first ``--pouch-seconds``.

Printed per run: wall time and CPU time (user + system of the process) of the timed part,
steps and Newton iterations; then per model the medians, the overhead of each over the
isothermal median, wall and CPU, the median of each round's own CPU ratio, and the 1-min
load average before every run and before and after each set. On
a shared machine the CPU time is the less disturbed measure: it counts only this process's
own work, while wall time includes the time other processes hold the cores.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POUCH_CASE = ROOT / "cases" / "pouch-3d-thermal-3C"

CHILD_1D = """
import resource, time, electrolyx
from electrolyx.models.dfn import DFN, DFNResolution, ThermalModel
from electrolyx.parameters import chen2020
cell = DFN(chen2020(), DFNResolution(20, 6, 20, 20, 20, 2.0), thermal=ThermalModel({model!r}),
           row_interval_s=10.0)
start, cpu = time.perf_counter(), time.process_time()
solution = cell.discharge(current_A=5.0, cutoff_voltage_V=2.5)
wall, cpu = time.perf_counter() - start, time.process_time() - cpu
print(wall, cpu, solution.accepted_steps, solution.newton_iterations)
"""

CHILD_POUCH = """
import time, tomllib, electrolyx
case = {case!r}
with open(case + "/case.toml", "rb") as file:
    document = tomllib.load(file)
if {model!r} == "isothermal":
    del document["thermal"]
if {seconds!r} > 0:
    document["experiment"]["steps"] = ["Discharge at 3C for {seconds} seconds"]
document["output"] = dict(fields=False)
simulation = electrolyx.Simulation(document, directory=case)
start, cpu = time.perf_counter(), time.process_time()
solution = simulation.solve()
wall, cpu = time.perf_counter() - start, time.process_time() - cpu
solver = solution.info["solver"]
print(wall, cpu, solver["time_steps"], solver["newton_iterations"])
"""


ELECTROLYX = Path(sys.executable).parent / "electrolyx"
LUMPED_CASE = ROOT / "cases" / "dfn-chen2020-thermal-lumped"


def run_child(code: str | list[str]) -> tuple[float, float, int, int, float]:
    """(timed wall s, CPU s, steps, Newton iterations, 1-min load before) of one fresh process.

    ``code``: Python source timing itself, or the argv of a whole process (timed from start to
    exit, CPU from its resource usage; steps and Newton iterations from its run.json).
    """
    load = os.getloadavg()[0]
    if isinstance(code, str):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
        wall, cpu, steps, newton = out[-4:]
        return float(wall), float(cpu), int(steps), int(newton), load
    # Without PYTHONDONTWRITEBYTECODE, as bench/dfn_speed.py: the untimed warm-up writes the
    # modules' bytecode, as every installation has it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "result"
        start = time.perf_counter()
        process = subprocess.Popen(
            [*code, "--out", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(code)}: exit {process.returncode}")
        solver = json.loads((out / "run.json").read_text())["solver"]
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, int(solver["time_steps"]), int(solver["newton_iterations"]), load


def isothermal_twin(case: Path) -> Path:
    """A copy of ``case`` without its ``[thermal]`` tables (per-boundary cooling has no meaning
    for an isothermal model, which refuses it), in a temporary folder."""
    twin = Path(tempfile.mkdtemp(prefix=case.name + "-isothermal-"))
    atexit.register(shutil.rmtree, twin, ignore_errors=True)
    kept, thermal = [], False
    for line in (case / "case.toml").read_text().splitlines(keepends=True):
        if line.startswith("["):
            thermal = line.strip("[] \n").startswith("thermal")
        if not thermal:
            kept.append(line)
    (twin / "case.toml").write_text("".join(kept))
    return twin


def whole_process(case: Path, model: str, *settings: str) -> list[str]:
    """argv of ``electrolyx run CASE --quiet`` with ``[thermal] model`` and further settings."""
    argv = [str(ELECTROLYX), "run", str(case), "--quiet"]
    if model == "isothermal" and case == POUCH_CASE:
        argv[2] = str(isothermal_twin(case))
    else:
        argv += ["--set", f'thermal.model="{model}"']
    for setting in settings:
        argv += ["--set", setting]
    return argv


def bench(name: str, children: dict[str, str | list[str]], rounds: int) -> None:
    """Alternating rounds over ``children`` (model -> code); prints runs and medians."""
    models = list(children)
    runs: dict[str, list[tuple]] = {model: [] for model in models}
    for model in models:  # untimed: compiles the forms into the cache if they are not there
        run_child(children[model])
    print(f"== {name}: load average before {os.getloadavg()}", flush=True)
    for round_ in range(rounds):
        for model in models if round_ % 2 == 0 else models[::-1]:
            result = run_child(children[model])
            runs[model].append(result)
            wall, cpu, steps, newton, load = result
            print(
                f"round {round_}: {model:10s} wall {wall:7.2f} s, CPU {cpu:7.2f} s, "
                f"steps {steps}, Newton {newton}, load {load:.2f}",
                flush=True,
            )
    base_wall = statistics.median(r[0] for r in runs[models[0]])
    base_cpu = statistics.median(r[1] for r in runs[models[0]])
    base = runs[models[0]]
    for model in models:
        wall = statistics.median(r[0] for r in runs[model])
        cpu = statistics.median(r[1] for r in runs[model])
        # The median of the rounds' own ratios: a load that drifts between rounds cancels.
        paired = statistics.median(r[1] / b[1] for r, b in zip(runs[model], base, strict=True))
        loads = [r[4] for r in runs[model]]
        print(
            f"{model:10s} median wall {wall:.2f} s ({100 * (wall / base_wall - 1):+.1f} %), "
            f"CPU {cpu:.2f} s ({100 * (cpu / base_cpu - 1):+.1f} %; per round "
            f"{100 * (paired - 1):+.1f} %), steps {runs[model][0][2]}, "
            f"Newton {runs[model][0][3]}, load {min(loads):.2f}-{max(loads):.2f}"
        )
    print(f"== {name}: load average after {os.getloadavg()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", nargs="?", type=int, default=5)
    parser.add_argument("--pouch-seconds", type=float, default=60.0)
    parser.add_argument("--only", choices=("1d", "pouch"))
    parser.add_argument("--whole-process", action="store_true")
    args = parser.parse_args()
    seconds = int(args.pouch_seconds) if args.pouch_seconds.is_integer() else args.pouch_seconds
    if args.only in (None, "1d"):
        models = ("isothermal", "lumped", "x-full")
        if args.whole_process:
            children = {m: whole_process(LUMPED_CASE, m) for m in models}
            bench("1D, 1C, whole process", children, args.rounds)
        else:
            bench("1D, 1C", {m: CHILD_1D.format(model=m) for m in models}, args.rounds)
    if args.only in (None, "pouch"):
        name = f"pouch, 3C, {seconds or 'to the cut-off'} s"
        if args.whole_process:
            steps = [] if not seconds else [f'experiment.steps=["Discharge at 3C for {seconds} s"]']
            children = {
                m: whole_process(POUCH_CASE, m, "output.fields=false", *steps)
                for m in ("isothermal", "3d")
            }
            bench(name + ", whole process", children, args.rounds)
        else:
            children = {
                m: CHILD_POUCH.format(case=str(POUCH_CASE), model=m, seconds=seconds)
                for m in ("isothermal", "3d")
            }
            bench(name, children, args.rounds)


if __name__ == "__main__":
    main()
