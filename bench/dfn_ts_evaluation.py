"""PETSc TS against the DFN's own BDF1/BDF2 loop (issue 12 item 6): Chen2020, 1C to 2.5 V.

Usage (results and discussion: bench/README.md, "Time integration: PETSc TS vs our BDF loop"):
    python bench/dfn_ts_evaluation.py reference         (time-converged run of our mesh, first)
    python bench/dfn_ts_evaluation.py accuracy [--configs NAME ...]   (errors and counts)
    python bench/dfn_ts_evaluation.py compare [--pairs 5] [--configs NAME ...]   (timings)
    python bench/dfn_ts_evaluation.py one NAME          (one configuration, this process)
    python bench/dfn_ts_evaluation.py protocols [cccv] [drive]   (control switches, events)
    mpiexec -n 2 python bench/dfn_ts_evaluation.py mpi  (TS on 2 ranks against TS on 1)

``compare`` runs every configuration in a fresh process, one round after another (each round
runs every configuration once, in the given order), and reports medians over the rounds and
per-round ratios to the first configuration of: whole-process wall time (fork to exit), time
loop, steps, Newton iterations, residual and Jacobian assemblies, RMS voltage difference to
PyBaMM's finest mesh (tests/data/pybamm/chen2020_1C.csv, our rows interpolated by a cubic
spline at its 1 s times) and the cut-off time error; the load average before and after.

The TS model (``TSDFN``) is the DFN class with its forms rebuilt on time-derivative functions
u_dot (``_rate`` overridden) and integrated by :class:`electrolyx.ts_integrator.TSIntegrator`:
output rows every 10 s come from TS's interpolation, not from limiting the step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import electrolyx  # noqa: F401  (loads the MPI/PETSc libraries before petsc4py and dolfinx)

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data" / "pybamm" / "chen2020_1C.csv"

# name -> settings. "loop": the DFN class as it is; "ts": TSDFN.
CONFIGS = {
    "loop-max10": {"kind": "loop", "rtol": 1e-3, "max_step": 10.0},
    "loop-max60": {"kind": "loop", "rtol": 1e-3, "max_step": 60.0},
    "lean-loop-max10": {"kind": "loop", "rtol": 1e-3, "max_step": 10.0, "lean": True},
    "lean-loop-max60": {"kind": "loop", "rtol": 1e-3, "max_step": 60.0, "lean": True},
}
for _order, _rtol in [
    (2, 1e-3),
    (2, 3e-4),
    (2, 1e-4),
    (3, 3e-4),
    (3, 1e-4),
    (4, 1e-3),
    (4, 3e-4),
    (4, 1e-4),
    (5, 1e-4),
]:
    CONFIGS[f"ts-bdf{_order}-{_rtol:.0e}"] = {
        "kind": "ts",
        "scheme": "bdf",
        "order": _order,
        "rtol": _rtol,
    }
for _type in ("2c", "3", "4"):
    CONFIGS[f"ts-arkimex{_type}-1e-04"] = {
        "kind": "ts",
        "scheme": "arkimex",
        "order": _type,
        "rtol": 1e-4,
    }
OWN_REFERENCE = ROOT / "results" / "dfn_chen2020_1C_time_converged.csv"


def _load_model_classes():
    from petsc4py import PETSc

    from dolfinx import fem

    from electrolyx.models.dfn import DFN
    from electrolyx.ts_integrator import Event, TSIntegrator

    class TSDFN(DFN):
        """The DFN with u_dot rates, integrated by PETSc TS (bench prototype).

        Args:
            parameters, resolution, comm, relative_tolerance, absolute_tolerance: as DFN.
            scheme: "bdf" or "arkimex".
            order: BDF order or ARKIMEX type.
            norm: Local-error norm, "infinity" or "2".
            snes_options: Overrides of the Newton options (the DFN's by default).
            ts_options: Further TS options.
        """

        def __init__(
            self,
            parameters,
            resolution,
            comm,
            relative_tolerance=1e-3,
            absolute_tolerance=1e-6,
            scheme="bdf",
            order=2,
            norm="infinity",
            snes_options=None,
            ts_options=None,
        ):
            super().__init__(parameters, resolution, comm=comm)
            serial = self.comm.size == 1
            options = {
                "snes_atol": self._residual_floor,
                "snes_rtol": 1e-12,
                "snes_stol": 1e-14,
                "snes_max_it": 12,
                **(
                    {"pc_factor_mat_solver_type": "petsc", "pc_factor_mat_ordering_type": "rcm"}
                    if serial
                    else {"pc_factor_mat_solver_type": "mumps"}
                ),
                **(snes_options or {}),
            }
            self.integrator = TSIntegrator(
                self.residual_blocks,
                self.u,
                self.u_dot,
                bcs=self._active_bcs,
                entity_maps=self.entity_maps,
                update=self._update,
                differential=self.differential,
                scheme=scheme,
                order=order,
                relative_tolerance=relative_tolerance,
                absolute_tolerance=absolute_tolerance,
                norm=norm,
                snes_options=options,
                ts_options=ts_options,
                comm=self.comm,
                name="dfn",
            )
            self.statistics = {
                "steps": 0,
                "rejected_steps": 0,
                "newton_iterations": 0,
                "residual_evaluations": 0,
                "jacobian_evaluations": 0,
            }

        def _rate(self, i):
            if not hasattr(self, "u_dot"):
                self.u_dot = [fem.Function(V) for V in self.spaces]
            return self.scales[i] * self.u_dot[i]

        def _build_solver(self):
            if self.half_cell:
                self.bcs = []
            else:
                dofs = self._terminal_dofs(self.negative_terminal, self.negative)
                self.bcs = [fem.dirichletbc(0.0, dofs, self.negative.potential_space)]
            dofs = self._terminal_dofs(self.positive_terminal, self.positive)
            self._terminal_bc = fem.dirichletbc(
                self.terminal_voltage, dofs, self.positive.potential_space
            )
            self._active_bcs = list(self.bcs)
            self.problem = self.voltage_problem = self._active_problem = None

        def _set_control(self, mode, value):
            area = self.parameters.electrode_area_m2
            self._control_function = value if callable(value) else None
            if self._control_function is not None:
                value = self._control_function(self.time_s)
            self.applied_current_density.value = value / area if mode == "current" else 0.0
            self.applied_power_density.value = value / area if mode == "power" else 0.0
            if mode == "voltage":
                self.terminal_voltage.value = (
                    value / self.thermal_voltage_ref - self.potential_offset.value
                )
            self._mode, self._control_value = mode, value
            self._active_bcs = [*self.bcs, self._terminal_bc] if mode == "voltage" else self.bcs
            if hasattr(self, "integrator"):
                self.integrator.set_bcs(self._active_bcs)

        def _update(self, t):
            if self._control_function is not None:
                self._control_value = self._control_function(t)
                self.applied_current_density.value = (
                    self._control_value / self.parameters.electrode_area_m2
                )

        def _row(self, t):
            """A row with the loop's columns (same diagnostics, so the same work per row)."""
            s = self.solution
            current = self.current_A()
            if s.time_s:
                # Trapezoid between rows: exact for constant current.
                dt = t - s.time_s[-1]
                self.discharge_capacity_Ah += 0.5 * (s.current_A[-1] + current) * dt / 3600.0
            self.time_s = t
            self._record(current)

        def _step_row(self, t):
            if t > self.solution.time_s[-1] + 1e-9:
                self._row(t)

        def run_step(
            self,
            mode,
            value,
            duration_s,
            event=None,
            output_every_s=10.0,
            step_rows=True,
            landing_times=(),
            initial_step_s=1e-3,
        ):
            """One protocol step by TS: control set, potentials made consistent, integrated.

            Rows: every ``output_every_s`` (interpolated) and, with ``step_rows``, at every
            accepted step as well (as the loop records them).
            ``event``: "voltage:<V>" (stop when crossing V, in the direction the current
            drives it), "current:<A>" (|I| falls to A) or a callable g(t) (positive to go on).
            """
            start = time.perf_counter()
            t0 = self.time_s
            self._set_control(mode, value)
            self.integrator.make_consistent(t0)
            self._update(t0)
            if not self.solution.time_s:
                self._row(t0)
            events = []
            if isinstance(event, str) and event.startswith("voltage:"):
                cutoff = float(event.split(":")[1])
                sign = 1.0 if (value(t0) if callable(value) else value) >= 0 else -1.0
                events.append(
                    Event(lambda t: sign * (self.voltage() - cutoff), -1, True, "voltage")
                )
            elif isinstance(event, str) and event.startswith("current:"):
                limit = float(event.split(":")[1])
                events.append(Event(lambda t: abs(self.current_A()) - limit, -1, True, "current"))
            elif callable(event):
                events.append(Event(event, -1, True, "limit"))
            outputs = t0 + output_every_s * __import__("numpy").arange(
                1, int(duration_s / output_every_s) + 1
            )
            result = self.integrator.integrate(
                t0,
                t0 + duration_s,
                events=events,
                output_times=outputs,
                on_output=self._row,
                on_step=self._step_row if step_rows else None,
                landing_times=landing_times,
                initial_step_s=initial_step_s,
            )
            if self.solution.time_s[-1] < result.time - 1e-9:
                self._row(result.time)
            self.time_s = result.time
            self.solution.termination = result.reason
            for key in self.statistics:
                self.statistics[key] += getattr(result, key)
            self.solution.wall_time_s += time.perf_counter() - start
            self._step_index += 1
            return result

    class LeanLoopDFN(DFN):
        """The DFN's own loop with TSIntegrator's assembly (control for the comparison).

        Same BDF1/BDF2 loop, error control, events and Newton options as DFN; only the Newton
        problem differs: no Dirichlet lifting in the residual (the guess already satisfies the
        conditions in a current-controlled discharge) and no empty Jacobian blocks, as in
        TSIntegrator. It separates what TS gains by its stepping from what the leaner assembly
        gains.
        """

        def _nonlinear_problem(self, bcs, name):
            return _LeanProblem(self, bcs, super()._nonlinear_problem(bcs, name))

    class _LeanProblem:
        def __init__(self, model, bcs, reference):
            import ufl
            from dolfinx.fem.petsc import create_matrix, create_vector

            self.model, self.bcs = model, list(bcs)
            self._F = reference.F
            blocks = []
            for form in model.residual_blocks:
                coefficients = set(form.coefficients())
                row = []
                for u in model.u:
                    trial = ufl.TrialFunction(u.function_space)
                    row.append(ufl.derivative(form, u, trial) if u in coefficients else None)
                blocks.append(row)
            self._J = fem.form(blocks, entity_maps=model.entity_maps)
            self.A = create_matrix(self._J, kind="mpi")
            self.b = create_vector(model.spaces, kind="mpi")
            self.x = create_vector(model.spaces, kind="mpi")
            self._bcs0 = fem.bcs_by_block(fem.extract_function_spaces(self._F), self.bcs)
            self.solver = reference.solver
            self.solver.setFunction(self._residual, self.b)
            self.solver.setJacobian(self._jacobian, self.A, self.A)
            self._reference = reference
            self.counts = {"residual": 0, "jacobian": 0}

        def _residual(self, snes, x, b):
            self.counts["residual"] += 1
            from dolfinx.fem.petsc import assemble_vector, assign, set_bc

            x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
            assign(x, self.model.u)
            with b.localForm() as local:
                local.set(0.0)
            assemble_vector(b, self._F)
            b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
            set_bc(b, self._bcs0, x0=x, alpha=-1.0)

        def _jacobian(self, snes, x, J, P):
            from dolfinx.fem.petsc import assemble_matrix, assign

            self.counts["jacobian"] += 1
            x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
            assign(x, self.model.u)
            J.zeroEntries()
            assemble_matrix(J, self._J, self.bcs, diag=1.0)
            J.assemble()

        def solve(self):
            from dolfinx.fem.petsc import assign

            assign(self.model.u, self.x)
            self.solver.solve(None, self.x)
            self.x.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
            assign(self.x, self.model.u)

    return DFN, TSDFN, LeanLoopDFN


# ----------------------------------------------------------------- one run in this process
def _errors(t, v):
    """Errors against PyBaMM's finest mesh and against our own time-converged solution.

    Both at PyBaMM's output times (1 s apart at 1C), our rows interpolated by a cubic spline;
    "time" errors are against the same mesh integrated with rtol 1e-6 and steps <= 5 s
    (``reference`` command), so they are the time integrator's own error.
    """
    import numpy as np
    from scipy.interpolate import CubicSpline

    reference = np.loadtxt(REFERENCE, delimiter=",", skiprows=1)
    t_ref, v_ref = reference[:, 0], reference[:, 1]
    mask = t_ref <= min(t_ref[-1], t[-1])
    ours = CubicSpline(t, v)
    d = ours(t_ref[mask]) - v_ref[mask]
    errors = {
        "rms_mV": 1e3 * float(np.sqrt(np.mean(d**2))),
        "max_mV": 1e3 * float(np.max(np.abs(d))),
        "t_end_s": float(t[-1]),
        "t_end_error_s": float(t[-1] - t_ref[-1]),
        "v_end_V": float(v[-1]),
    }
    if OWN_REFERENCE.exists():
        own = np.loadtxt(OWN_REFERENCE, delimiter=",", skiprows=1)
        times = t_ref[t_ref <= min(own[-1, 0], t[-1])]
        e = ours(times) - CubicSpline(own[:, 0], own[:, 1])(times)
        errors["time_rms_mV"] = 1e3 * float(np.sqrt(np.mean(e**2)))
        errors["time_max_mV"] = 1e3 * float(np.max(np.abs(e)))
        errors["time_t_end_error_s"] = float(t[-1] - own[-1, 0])
    return errors


def make_reference() -> None:
    """Our mesh integrated tightly (the loop, rtol 1e-6, steps <= 5 s): OWN_REFERENCE."""
    from mpi4py import MPI

    import numpy as np

    from electrolyx.models.dfn import DFNResolution
    from electrolyx.parameters import chen2020

    DFN, _, _ = _load_model_classes()
    model = DFN(
        chen2020(), DFNResolution(), comm=MPI.COMM_SELF, relative_tolerance=1e-6, max_step_s=5.0
    )
    solution = model.discharge(5.0, cutoff_voltage_V=2.5)
    OWN_REFERENCE.parent.mkdir(exist_ok=True)
    np.savetxt(
        OWN_REFERENCE,
        np.c_[solution.time_s, solution.voltage_V],
        delimiter=",",
        header="time_s,voltage_V",
        comments="",
        fmt="%.12g",
    )
    print(f"{OWN_REFERENCE}: {len(solution.time_s) - 1} steps, cut-off {solution.time_s[-1]:.6f} s")


def run_one(settings: dict) -> dict:
    """Build and run one configuration; timings of the build and the time loop."""
    start = time.perf_counter()
    DFN, TSDFN, LeanLoopDFN = _load_model_classes()
    from mpi4py import MPI

    import dolfinx.fem.petsc as fem_petsc
    import numpy as np

    from electrolyx.models.dfn import DFNResolution
    from electrolyx.parameters import chen2020

    imported = time.perf_counter()
    counts = {"residual": 0, "jacobian": 0}
    if settings["kind"] == "loop":
        # Count the loop's assemblies: NonlinearProblem looks these names up when built.
        residual, jacobian = fem_petsc.assemble_residual, fem_petsc.assemble_jacobian

        def counted_residual(*args, **kwargs):
            counts["residual"] += 1
            return residual(*args, **kwargs)

        def counted_jacobian(*args, **kwargs):
            counts["jacobian"] += 1
            return jacobian(*args, **kwargs)

        fem_petsc.assemble_residual = counted_residual
        fem_petsc.assemble_jacobian = counted_jacobian
        model = (LeanLoopDFN if settings.get("lean") else DFN)(
            chen2020(),
            DFNResolution(),
            comm=MPI.COMM_WORLD,
            relative_tolerance=settings["rtol"],
            absolute_tolerance=settings.get("atol", 1e-6),
            max_step_s=settings["max_step"],
        )
        built = time.perf_counter()
        solution = model.discharge(5.0, cutoff_voltage_V=2.5)
        loop = time.perf_counter() - built
        stats = {
            "steps": len(solution.time_s) - 1,
            "rejected_steps": solution.rejected_steps,
            "newton_iterations": solution.newton_iterations,
            "residual_evaluations": counts["residual"],
            "jacobian_evaluations": counts["jacobian"],
        }
        if settings.get("lean"):
            stats["residual_evaluations"] = model.problem.counts["residual"]
            stats["jacobian_evaluations"] = model.problem.counts["jacobian"]
    else:
        model = TSDFN(
            chen2020(),
            DFNResolution(),
            MPI.COMM_WORLD,
            relative_tolerance=settings["rtol"],
            absolute_tolerance=settings.get("atol", 1e-6),
            scheme=settings["scheme"],
            order=settings["order"],
            norm=settings.get("norm", "infinity"),
            snes_options=settings.get("snes_options"),
            ts_options=settings.get("ts_options"),
        )
        built = time.perf_counter()
        duration = 10 * 3600.0
        result = model.run_step(
            "current",
            5.0,
            duration,
            event="voltage:2.5",
            output_every_s=settings.get("every", 10.0),
            step_rows=settings.get("step_rows", True),
        )
        loop = time.perf_counter() - built
        solution = model.solution
        stats = dict(model.statistics)
        stats["termination"] = result.reason
    t = np.asarray(solution.time_s)
    v = np.asarray(solution.voltage_V)
    lithium = np.asarray(solution.lithium_mol)
    return {
        "lithium_drift": float(np.max(np.abs(lithium - lithium[0])) / lithium[0]),
        "import_s": imported - start,
        "build_s": built - imported,
        "loop_s": loop,
        "rows": len(t),
        "max_row_gap_s": float(np.max(np.diff(t))),
        **stats,
        **_errors(t, v),
    }


# ------------------------------------------------------------------------ comparisons
def _child(name: str) -> dict:
    """Run one configuration in a fresh interpreter: whole-process wall time and results."""
    start = time.perf_counter()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.dup2(write, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, __file__, "one", name])
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    out = b"".join(chunks).decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{name} failed: {out[-2000:]}")
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    result["process_s"] = wall
    result["peak_rss_MB"] = usage.ru_maxrss / 1024
    return result


def compare(names: list[str], pairs: int) -> None:
    print("load before:", os.getloadavg())
    for name in names:
        _child(name)  # warm-up: form cache, bytecode
    runs = {name: [] for name in names}
    for _ in range(pairs):
        for name in names:
            runs[name].append(_child(name))
    print("load after:", os.getloadavg())
    keys = [
        "process_s",
        "loop_s",
        "build_s",
        "steps",
        "rejected_steps",
        "newton_iterations",
        "residual_evaluations",
        "jacobian_evaluations",
        "rms_mV",
        "max_mV",
        "t_end_error_s",
        "rows",
        "peak_rss_MB",
    ]
    base = statistics.median(r["process_s"] for r in runs[names[0]])
    base_loop = statistics.median(r["loop_s"] for r in runs[names[0]])
    print("| config | " + " | ".join(keys) + " | process / first | loop / first |")
    print("|---" * (len(keys) + 3) + "|")
    for name in names:
        med = {k: statistics.median(r[k] for r in runs[name]) for k in keys}
        cells = [f"{med[k]:.4g}" for k in keys]
        ratio = med["process_s"] / base
        ratio_loop = med["loop_s"] / base_loop
        print(f"| {name} | " + " | ".join(cells) + f" | {ratio:.3f} | {ratio_loop:.3f} |")
    # Ratios per pair (the pair shares the machine's load).
    for name in names[1:]:
        per_pair = [
            a["process_s"] / b["process_s"] for a, b in zip(runs[name], runs[names[0]], strict=True)
        ]
        loops = [a["loop_s"] / b["loop_s"] for a, b in zip(runs[name], runs[names[0]], strict=True)]
        print(
            f"{name} / {names[0]}: process ratio median {statistics.median(per_pair):.3f} "
            f"(range {min(per_pair):.3f}-{max(per_pair):.3f}), loop ratio median "
            f"{statistics.median(loops):.3f} (range {min(loops):.3f}-{max(loops):.3f})"
        )
    print("RUNS " + json.dumps(runs))


# ------------------------------------------------------------- CC-CV and drive cycle
PRE_DISCHARGE_S = 600.0
CCCV = [
    "Discharge at 1C until 2.5 V",
    "Rest for 1 hour",
    "Charge at 0.5C until 4.2 V",
    "Hold at 4.2 V until C/50",
]


def drive_cycle_data():
    """A drive-cycle-like current: piecewise linear through a point every 10 s for 30 min.

    Seeded random currents between -2.5 A (regenerative charge, 0.5C) and 10 A (2C), mean
    ~3 A; it follows 10 minutes at 1C (so that the regenerative peaks stay below 4.2 V).
    """
    import numpy as np

    rng = np.random.default_rng(12)
    times = np.arange(0.0, 1800.0 + 1e-9, 10.0)
    currents = np.clip(3.0 + 4.0 * rng.standard_normal(times.size), -2.5, 10.0)
    currents[0] = 5.0
    return times, currents


def _run_protocol(kind: str, protocol: str, settings: dict) -> dict:
    """One protocol run; rows (time, voltage, current, step) and statistics."""
    from mpi4py import MPI

    import numpy as np

    from electrolyx.experiment import parse_experiment
    from electrolyx.models.dfn import DFNResolution
    from electrolyx.parameters import chen2020

    DFN, TSDFN, _ = _load_model_classes()
    start = time.perf_counter()
    if kind == "loop":
        model = DFN(
            chen2020(),
            DFNResolution(),
            comm=MPI.COMM_WORLD,
            relative_tolerance=settings["rtol"],
            max_step_s=settings["max_step"],
        )
        built = time.perf_counter()
        if protocol == "cccv":
            solution = model.run_experiment(parse_experiment(CCCV))
        else:
            times, currents = drive_cycle_data()
            model.discharge(5.0, duration_s=PRE_DISCHARGE_S)
            model._step_index += 1
            solution = model.drive_cycle(times, currents)
        stats = {
            "steps": len(solution.time_s) - 1,
            "newton_iterations": solution.newton_iterations,
            "rejected_steps": solution.rejected_steps,
        }
    else:
        model = TSDFN(
            chen2020(),
            DFNResolution(),
            MPI.COMM_WORLD,
            relative_tolerance=settings["rtol"],
            scheme="bdf",
            order=settings["order"],
        )
        built = time.perf_counter()
        every = settings.get("every", 10.0)
        if protocol == "cccv":
            capacity = model.parameters.nominal_capacity_Ah
            for step in parse_experiment(CCCV):
                duration = step.duration_s if step.duration_s is not None else 24 * 3600.0
                if step.mode == "voltage":
                    event = f"current:{step.until_current_A(capacity)}"
                    model.run_step("voltage", step.value, duration, event, every)
                else:
                    event = (
                        f"voltage:{step.until_voltage_V}"
                        if step.until_voltage_V is not None
                        else None
                    )
                    model.run_step("current", step.value_SI(capacity), duration, event, every)
        else:
            times, currents = drive_cycle_data()
            low = model.parameters.lower_voltage_cutoff_V
            high = model.parameters.upper_voltage_cutoff_V

            def limit(t):
                voltage = model.voltage()
                return min(voltage - low, high - voltage)

            model.run_step("current", 5.0, PRE_DISCHARGE_S, None, every)
            start_s = model.time_s
            if settings.get("restart_per_segment"):
                # One TS solve per linear piece: a restart where the current's slope jumps,
                # starting with the step the previous solve ended with.
                dt = 1e-3
                pieces = zip(times[:-1], times[1:], currents[:-1], currents[1:], strict=True)
                for a, b, ia, ib in pieces:

                    def current(t, a=a, b=b, ia=ia, ib=ib):
                        return ia + (ib - ia) * (t - start_s - a) / (b - a)

                    model._step_index = 1
                    result = model.run_step(
                        "current", current, b - a, limit, every, initial_step_s=min(dt, b - a)
                    )
                    dt = result.last_step_s
                    if result.reason == "event":
                        break
            else:

                def current(t):
                    return float(np.interp(t - start_s, times, currents))

                landings = start_s + times[1:-1] if settings.get("land") else ()
                model.run_step("current", current, times[-1], limit, every, landing_times=landings)
        solution = model.solution
        stats = dict(model.statistics)
    loop = time.perf_counter() - built
    return {
        "build_s": built - start,
        "loop_s": loop,
        **stats,
        "time_s": list(map(float, solution.time_s)),
        "voltage_V": list(map(float, solution.voltage_V)),
        "current_A": list(map(float, solution.current_A)),
        "step_index": list(map(int, solution.step_index)),
    }


def protocols(which=("cccv", "drive")) -> None:
    """CC-CV and drive cycle: TS and the loop against a tightly integrated loop run."""
    import numpy as np
    from scipy.interpolate import CubicSpline

    print("load before:", os.getloadavg())
    cases = {
        "cccv": [
            ("loop", {"rtol": 1e-6, "max_step": 10.0}, "reference"),
            ("loop", {"rtol": 1e-3, "max_step": 10.0}, "loop rtol 1e-3 max 10 s"),
            ("loop", {"rtol": 1e-3, "max_step": 60.0}, "loop rtol 1e-3 max 60 s"),
            ("ts", {"rtol": 1e-3, "order": 2}, "TS BDF2 rtol 1e-3"),
            ("ts", {"rtol": 1e-3, "order": 4}, "TS BDF4 rtol 1e-3"),
            ("ts", {"rtol": 1e-4, "order": 4}, "TS BDF4 rtol 1e-4"),
        ],
        "drive": [
            ("loop", {"rtol": 1e-6, "max_step": 2.0}, "reference"),
            ("loop", {"rtol": 1e-3, "max_step": 10.0}, "loop rtol 1e-3 max 10 s"),
            ("loop", {"rtol": 1e-3, "max_step": 60.0}, "loop rtol 1e-3 max 60 s"),
            ("ts", {"rtol": 1e-4, "order": 4}, "TS BDF4 rtol 1e-4, one solve"),
            (
                "ts",
                {"rtol": 1e-4, "order": 4, "land": True},
                "TS BDF4 rtol 1e-4, one solve landing on the points",
            ),
            (
                "ts",
                {"rtol": 1e-4, "order": 4, "restart_per_segment": True},
                "TS BDF4 rtol 1e-4, restart per piece",
            ),
            (
                "ts",
                {"rtol": 1e-3, "order": 4, "land": True},
                "TS BDF4 rtol 1e-3, one solve landing on the points",
            ),
            (
                "ts",
                {"rtol": 1e-3, "order": 2, "land": True},
                "TS BDF2 rtol 1e-3, one solve landing on the points",
            ),
        ],
    }
    for protocol, runs in cases.items():
        if protocol not in which:
            continue
        reference = None
        print(f"\n{protocol}")
        print("| run | loop s | steps | Newton | step ends s | RMS mV | max mV | I RMS mA |")
        print("|---|---|---|---|---|---|---|---|")
        for kind, settings, label in runs:
            r = _run_protocol(kind, protocol, settings)
            t, v, i = (np.asarray(r[k]) for k in ("time_s", "voltage_V", "current_A"))
            steps = np.asarray(r["step_index"])
            ends = [float(t[steps == k][-1]) for k in np.unique(steps)]
            if reference is None:
                reference = (t, v, i, steps, ends)
                rms = peak = irms = 0.0
            else:
                rt, rv, ri, rs, _ = reference
                dv, di = [], []
                for k in np.unique(rs):
                    a, b = rt[rs == k], t[steps == k]
                    # At this run's rows inside the reference's step (control switches are
                    # kinks: one spline per step), the reference's rows are <= 10 s apart.
                    inside = (b >= a[0]) & (b <= a[-1])
                    sv = CubicSpline(a, rv[rs == k])(b[inside])
                    si = CubicSpline(a, ri[rs == k])(b[inside])
                    dv.append(v[steps == k][inside] - sv)
                    di.append(i[steps == k][inside] - si)
                dv, di = np.concatenate(dv), np.concatenate(di)
                rms, peak = 1e3 * np.sqrt(np.mean(dv**2)), 1e3 * np.max(np.abs(dv))
                irms = 1e3 * np.sqrt(np.mean(di**2))
            print(
                f"| {label} | {r['loop_s']:.2f} | {r['steps']} | {r['newton_iterations']} | "
                f"{', '.join(f'{e:.2f}' for e in ends)} | {rms:.4f} | {peak:.4f} | {irms:.3f} |",
                flush=True,
            )
    print("load after:", os.getloadavg())


def accuracy(names: list[str]) -> None:
    """Errors of each configuration (one run each, in this process; not timed).

    TS runs record rows every second by interpolation (dense output, no rows at steps), so the
    errors are TS's own between steps; the loop's rows are its steps.
    """
    print(
        "| config | steps | Newton | Jacobians | residuals | time RMS mV | time max mV | "
        "t_end vs own s | RMS vs PyBaMM mV | max vs PyBaMM mV | t_end vs PyBaMM s | "
        "lithium drift |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        settings = dict(CONFIGS[name])
        if settings["kind"] == "ts":
            settings["every"] = 1.0
            settings["step_rows"] = False
        try:
            r = run_one(settings)
        except Exception as exc:  # a scheme that cannot run this DAE: say why
            print(f"| {name} | failed: {str(exc).splitlines()[-1]} |", flush=True)
            continue
        print(
            f"| {name} | {r['steps']} | {r['newton_iterations']} | {r['jacobian_evaluations']} | "
            f"{r['residual_evaluations']} | {r['time_rms_mV']:.4f} | {r['time_max_mV']:.3f} | "
            f"{r['time_t_end_error_s']:+.4f} | {r['rms_mV']:.4f} | {r['max_mV']:.3f} | "
            f"{r['t_end_error_s']:+.4f} | {r['lithium_drift']:.1e} |",
            flush=True,
        )


def mpi_check() -> None:
    """TS on all ranks of COMM_WORLD against TS on COMM_SELF: voltages at the output times."""
    from mpi4py import MPI

    import numpy as np

    from electrolyx.models.dfn import DFNResolution
    from electrolyx.parameters import chen2020

    _, TSDFN, _ = _load_model_classes()
    runs = {}
    for label, comm in (("distributed", MPI.COMM_WORLD), ("serial", MPI.COMM_SELF)):
        model = TSDFN(chen2020(), DFNResolution(), comm, relative_tolerance=1e-4, order=4)
        start = time.perf_counter()
        model.run_step("current", 5.0, 36000.0, event="voltage:2.5", step_rows=False)
        runs[label] = (
            np.asarray(model.solution.time_s),
            np.asarray(model.solution.voltage_V),
            dict(model.statistics),
            time.perf_counter() - start,
        )
    (t1, v1, s1, w1), (t2, v2, s2, w2) = runs["distributed"], runs["serial"]
    if MPI.COMM_WORLD.rank == 0:
        print(f"ranks {MPI.COMM_WORLD.size}: distributed {s1} {w1:.2f} s; serial {s2} {w2:.2f} s")
        print(f"rows {t1.size} / {t2.size}; max |t1 - t2| = {np.max(np.abs(t1 - t2)):.3e} s")
        print(f"max |V1 - V2| over the rows = {np.max(np.abs(v1 - v2)):.3e} V")
        print(f"cut-off times {t1[-1]:.9f} / {t2[-1]:.9f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("one")
    one.add_argument("name")
    one.add_argument("--settings", default=None, help="JSON overriding the named settings")
    prot = sub.add_parser("protocols")
    prot.add_argument("which", nargs="*", default=["cccv", "drive"])
    sub.add_parser("mpi")
    sub.add_parser("reference")
    acc = sub.add_parser("accuracy")
    acc.add_argument("--configs", nargs="+", default=list(CONFIGS))
    cmp = sub.add_parser("compare")
    cmp.add_argument("--pairs", type=int, default=5)
    cmp.add_argument("--configs", nargs="+", default=["loop-max10", "ts-bdf2"])
    args = parser.parse_args()
    if args.command == "one":
        settings = dict(CONFIGS.get(args.name, {}))
        if args.settings:
            settings.update(json.loads(args.settings))
        print("RESULT " + json.dumps(run_one(settings)), flush=True)
    elif args.command == "compare":
        compare(args.configs, args.pairs)
    elif args.command == "protocols":
        protocols(args.which)
    elif args.command == "mpi":
        mpi_check()
    elif args.command == "reference":
        make_reference()
    elif args.command == "accuracy":
        accuracy(args.configs)


if __name__ == "__main__":
    main()
