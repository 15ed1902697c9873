"""The Doyle-Fuller-Newman cell driven by a protocol: current, power and voltage control.

:class:`DFN` ties the layers together: the geometry (:mod:`.geometry`), the problem's unknowns
and forms (:mod:`.problem`), the shared time integrator (:mod:`electrolyx.integrator`) and the
outputs (:mod:`.outputs`). It switches the control at protocol-step boundaries, finds potentials
consistent with a new control (the algebraic unknowns), and records one row per accepted step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mpi4py import MPI

import numpy as np
from dolfinx import fem

from electrolyx.constants import FARADAY
from electrolyx.experiment import Step
from electrolyx.forms.kinetics import Kinetics
from electrolyx.integrator import AdaptiveBDF, StepFailure
from electrolyx.jacobian_pattern import factor_without_structural_zeros
from electrolyx.parameters.base import CellParameters
from electrolyx.time_stepping import BDFStepController

from .geometry import (
    LITHIUM,
    NEGATIVE,
    CellGeometry,
    CellLayout,
    DFNResolution,
    LithiumCounterElectrode,
)
from .outputs import DFNOutputs
from .problem import DFNProblem, ParticleMechanics

__all__ = ["DFN", "DFNSolution"]


@dataclass
class DFNSolution:
    """Time series of a DFN run (SI units, current > 0 on discharge).

    Attributes:
        time_s: Times of the accepted steps, from 0.
        voltage_V: Terminal voltage phi_s(L) - phi_s(0).
        current_A: Applied current.
        discharge_capacity_Ah: Integral of the current over time.
        average_negative_particle_concentration_mol_m3: Electrode average of c_s (negative;
            NaN in a half cell).
        average_positive_particle_concentration_mol_m3: Electrode average of c_s (positive).
        lithium_mol: Lithium in electrolyte plus particles (in a half cell it grows by the
            lithium dissolved from the metal).
        lithium_dissolved_mol: Half cell: lithium dissolved from the metal since t = 0 (0 in a
            full cell).
        termination: Why the last step ended ("event": its voltage or current limit, or
            "time").
        newton_iterations: Newton iterations of all solves, rejected included.
        rejected_steps: Steps rejected by error control or Newton failure.
        wall_time_s: Wall-clock time of the time loop(s).
        step_index: Index of the experiment step of each row.
        profiles: ``(time, profiles)`` at t = 0, requested output times, step ends and events.
    """

    time_s: list[float] = field(default_factory=list)
    voltage_V: list[float] = field(default_factory=list)
    current_A: list[float] = field(default_factory=list)
    discharge_capacity_Ah: list[float] = field(default_factory=list)
    average_negative_particle_concentration_mol_m3: list[float] = field(default_factory=list)
    average_positive_particle_concentration_mol_m3: list[float] = field(default_factory=list)
    lithium_mol: list[float] = field(default_factory=list)
    lithium_dissolved_mol: list[float] = field(default_factory=list)
    termination: str = ""
    newton_iterations: int = 0
    rejected_steps: int = 0
    wall_time_s: float = 0.0
    step_index: list[int] = field(default_factory=list)
    profiles: list[tuple[float, dict[str, tuple[np.ndarray, np.ndarray]]]] = field(
        default_factory=list
    )

    def as_arrays(self) -> dict[str, np.ndarray]:
        """The series as numpy arrays keyed by column name."""
        return {
            name: np.asarray(value)
            for name, value in vars(self).items()
            if isinstance(value, list) and name != "profiles"
        }


class DFN:
    """Doyle-Fuller-Newman cell: build once, then run current steps from the initial state.

    Example::

        model = DFN(chen2020())
        solution = model.discharge(current_A=5.0, cutoff_voltage_V=2.5)

    Args:
        parameters: Parameter set (e.g. :func:`electrolyx.parameters.chen2020`).
        resolution: Mesh resolution (default :class:`DFNResolution`).
        comm: Communicator.
        double_layer: Add the double-layer current a_s C_dl d(phi_s - phi_e)/dt.
        temperature_K: Isothermal temperature (default: the set's ambient temperature).
        relative_tolerance: Local error tolerance of the time stepper, relative.
        absolute_tolerance: Same, absolute on the scaled concentrations.
        max_step_s: Largest time step.
        counter_electrode: A lithium-metal counter electrode: the half cell separator |
            positive electrode (the set's negative electrode and ``negative_*`` resolution
            are not used).
        geometry: A 2D or 3D stack (:class:`CellGeometry`); None for the 1D (P2D) cell.
        kinetics: "negative"/"positive" -> kinetic law of the electrode's intercalation
            (default: Butler-Volmer with the set's transfer coefficients).
        row_interval_s: Rows of the time series at most this far apart: besides every time
            step, rows at the multiples of the interval, at states interpolated between the
            steps (which it does not limit). None: a row per time step only.
        mechanics: Particle mechanics (:class:`ParticleMechanics`; default none).
    """

    def __init__(
        self,
        parameters: CellParameters,
        resolution: DFNResolution | None = None,
        comm: MPI.Comm = MPI.COMM_WORLD,
        double_layer: bool = False,
        temperature_K: float | None = None,
        relative_tolerance: float = 1e-3,
        absolute_tolerance: float = 1e-6,
        max_step_s: float = 60.0,
        counter_electrode: LithiumCounterElectrode | None = None,
        geometry: CellGeometry | None = None,
        kinetics: dict[str, Kinetics] | None = None,
        row_interval_s: float | None = None,
        mechanics: ParticleMechanics | None = None,
    ):
        resolution = DFNResolution() if resolution is None else resolution
        self.parameters = parameters
        self.resolution = resolution
        self.comm = comm
        self.geometry = geometry
        self.counter_electrode = counter_electrode
        self.half_cell = counter_electrode is not None
        self.double_layer = double_layer
        self.layout = CellLayout(parameters, resolution, comm, geometry, self.half_cell)
        self.problem = DFNProblem(
            self.layout,
            parameters,
            resolution,
            double_layer,
            temperature_K or parameters.ambient_temperature_K,
            counter_electrode,
            kinetics,
            mechanics,
        )
        self.problem.build_solvers()
        self.outputs = DFNOutputs(self.problem)
        self.integrator = AdaptiveBDF(
            self.problem,
            BDFStepController(relative_tolerance, absolute_tolerance, max_step_s=max_step_s),
        )
        self.integrator.before_step = self._prepare_step
        self.integrator.on_accept = self._accept
        self.integrator.on_step_output = lambda dt: self._record(self._current_before)
        self.integrator.on_interpolated = self._record_interpolated
        self.integrator.interpolation_interval = row_interval_s
        self.row_interval_s = row_interval_s
        #: Called with "row" after every recorded time and "output" at profile times.
        self.observer: Callable[[str], None] | None = None
        self.reset()
        if geometry is not None:
            # (At the initial state: the pattern is found where every coefficient is defined.)
            factor_without_structural_zeros(
                self.problem.current_problem, self.problem.unknowns.functions
            )

    # ----------------------------------------------------------- the cell's parts
    @property
    def mesh(self):
        """The cell mesh."""
        return self.layout.mesh

    @property
    def mesh_data(self):
        """The cell mesh with its named groups."""
        return self.layout.mesh_data

    @property
    def unknowns(self):
        """The named unknowns (:class:`electrolyx.unknowns.Unknowns`)."""
        return self.problem.unknowns

    @property
    def spaces(self) -> list[fem.FunctionSpace]:
        """Function spaces of the unknowns in block order."""
        return self.problem.unknowns.spaces

    @property
    def electrodes(self):
        """The electrodes present (negative first)."""
        return self.problem.electrodes

    @property
    def temperature(self) -> fem.Constant:
        """Temperature of every law [K]."""
        return self.problem.temperature

    def __getattr__(self, name: str):
        # Geometry facts (length_m, modelled_area_m2, area_scale, negative_terminal, ...).
        layout = self.__dict__.get("layout")
        if layout is not None and name in vars(layout):
            return getattr(layout, name)
        raise AttributeError(name)

    @property
    def terminal_area_m2(self) -> float:
        """Area of the positive terminal [m2]."""
        return self.problem.terminal_area_m2

    def profile_point(self) -> np.ndarray:
        """In-plane coordinates of the through-stack line the profiles follow (2D/3D)."""
        return self.layout.profile_point

    # ------------------------------------------------------------ outputs
    def voltage(self) -> float:
        """Terminal voltage phi_s(L) - phi_s(0), or phi_s(L) - phi_Li in a half cell [V]."""
        return self.outputs.voltage()

    def lithium_overpotential_V(self) -> float:
        """Half cell: overpotential of the lithium metal eta_Li = phi_Li - phi_e(0) - 0 [V]."""
        return self.outputs.lithium_overpotential_V()

    def lithium_dissolved_mol(self) -> float:
        """Lithium that left the metal counter electrode for the electrolyte (full cell: 0) [mol].

        Integrated from the metal's current A j_Li / F with the time steps' own BDF formula, so
        that electrolyte + particles - dissolved lithium is conserved exactly under every control.
        """
        return self._dissolved[-1]

    def lithium_mol(self) -> float:
        """Lithium in the electrolyte and all particles [mol]."""
        return self.outputs.lithium_mol()

    def reaction_current_A(self) -> dict[str, float]:
        """Integral of a_s j over each electrode, for the whole cell [A]."""
        return self.outputs.reaction_current_A()

    def average_particle_concentration_mol_m3(self) -> tuple[float, float]:
        """Electrode-averaged particle concentrations (negative, positive) [mol/m3]."""
        return self.outputs.average_particle_concentration_mol_m3()

    def profiles(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Profiles across the cell: name -> (x [m], value), SI units (collective)."""
        return self.outputs.profiles()

    def nodal_fields(self, space: fem.FunctionSpace) -> dict[str, np.ndarray]:
        """Maps at the local nodes of a P1 space of the cell mesh (see :class:`DFNOutputs`)."""
        return self.outputs.nodal_fields(space)

    def collector_current_density(self, space: fem.FunctionSpace) -> np.ndarray:
        """i_s = -sigma_cc grad(phi_s) in the foils at the nodes of a P1 vector space [A/m2]."""
        return self.outputs.collector_current_density(space)

    # ------------------------------------------------------------- state
    def reset(self) -> None:
        """Initial state: uniform concentrations, potentials at open circuit, time 0."""
        p = self.parameters
        problem = self.problem
        unknowns = problem.unknowns
        vt = problem.thermal_voltage_ref
        # The reference electrode (negative particles, or the lithium metal: OCP 0) at rest.
        reference_ocp = 0.0
        values = {"electrolyte_concentration": 1.0}
        for electrode in problem.electrodes:
            ep = electrode.params
            sto = ep.initial_concentration_mol_m3 / ep.max_concentration_mol_m3
            ocp = float(ep.open_circuit_potential(sto, p.ambient_temperature_K))
            if electrode.side == "negative":
                reference_ocp = ocp
            values[electrode.potential] = ocp / vt
            values[electrode.concentration] = sto
        for electrode in problem.electrodes:
            values[electrode.potential] -= reference_ocp / vt
        values["electrolyte_potential"] = -reference_ocp / vt
        positive = problem.electrode["positive"].potential
        problem.potential_offset.value = values[positive]
        values[positive] = 0.0
        for name, value in values.items():
            unknowns[name].function.x.array[:] = value
        self.time_s = 0.0
        self.discharge_capacity_Ah = 0.0
        self.integrator.restart(0.0)
        self.integrator.statistics.newton_iterations = 0
        self.integrator.statistics.rejected_steps = 0
        # Lithium dissolved from the metal (half cell) at the times of the history [mol].
        self._dissolved = [0.0]
        self.solution = DFNSolution()
        self._consistent = False
        self._step_index = 0
        self._set_control("current", 0.0)

    def _recentre(self) -> None:
        """Move the positive phi_s unknowns (and their history) to mean 0 on the terminal.

        Done when the mean leaves +-0.05 V_T; physical values, the BDF rates (their
        coefficients sum to 0) and the predictor are unchanged.
        """
        problem = self.problem
        shift = self.outputs.terminal_potential()
        if abs(shift) < 0.05:
            return
        name = problem.electrode["positive"].potential
        problem.unknowns[name].function.x.array[:] -= shift
        self.integrator.shift_history(problem.unknowns.position(name), shift)
        problem.potential_offset.value += shift
        problem.terminal_voltage.value -= shift

    def _record(self, current_A: float) -> None:
        s = self.solution
        s.time_s.append(self.time_s)
        s.voltage_V.append(self.voltage())
        s.current_A.append(current_A)
        s.discharge_capacity_Ah.append(self.discharge_capacity_Ah)
        negative, positive = self.average_particle_concentration_mol_m3()
        s.average_negative_particle_concentration_mol_m3.append(negative)
        s.average_positive_particle_concentration_mol_m3.append(positive)
        s.lithium_mol.append(self.lithium_mol())
        s.lithium_dissolved_mol.append(self.lithium_dissolved_mol())
        s.step_index.append(self._step_index)
        s.newton_iterations = self.integrator.statistics.newton_iterations
        s.rejected_steps = self.integrator.statistics.rejected_steps
        if self.observer is not None:
            self.observer("row")

    def _output(self) -> None:
        """Profiles at the current time (t = 0, requested times, ends of steps, events)."""
        self.solution.profiles.append((self.time_s, self.profiles()))
        if self.observer is not None:
            self.observer("output")

    # ------------------------------------------------------------- control
    def _set_control(self, mode: str, value) -> None:
        """Current [A], power [W] (both positive on discharge) or voltage [V] control."""
        problem = self.problem
        area = self.parameters.electrode_area_m2
        # A current given as a function of time is evaluated at the end of every step.
        self._control_function = value if callable(value) else None
        if self._control_function is not None:
            value = self._control_function(self.time_s)
        problem.applied_current_density.value = value / area if mode == "current" else 0.0
        problem.applied_power_density.value = value / area if mode == "power" else 0.0
        if mode == "voltage":
            problem.terminal_voltage.value = (
                value / problem.thermal_voltage_ref - problem.potential_offset.value
            )
        problem.use_voltage_control(mode == "voltage")
        self._mode, self._control_value = mode, value

    def _prepare_step(self, end_time: float) -> None:
        """A current that follows a function of time takes its value at the step's end."""
        if self._control_function is not None:
            self._control_value = self._control_function(end_time)
            area = self.parameters.electrode_area_m2
            self.problem.applied_current_density.value = self._control_value / area

    def current_A(self) -> float:
        """Cell current, positive on discharge [A].

        The applied value under current control; otherwise the current that leaves the
        negative electrode's solid phase, A int_n a_s j dx (equal to it under current control).
        """
        if self._mode == "current":
            return self._control_value
        if self._mode == "power":
            return self._control_value / self.voltage()
        counter = LITHIUM if self.half_cell else NEGATIVE
        return self.reaction_current_A()[counter]

    def _set_control_value(self, value: float) -> None:
        """Change the value of the present control mode (A, W or V)."""
        problem = self.problem
        area = self.parameters.electrode_area_m2
        if self._mode == "current":
            problem.applied_current_density.value = value / area
        elif self._mode == "power":
            problem.applied_power_density.value = value / area
        else:
            offset = float(problem.potential_offset.value)
            problem.terminal_voltage.value = value / problem.thermal_voltage_ref - offset
        self._control_value = value

    def _make_consistent(self, start_value: float) -> None:
        """Potentials consistent with the (new) control; concentrations unchanged.

        Solves one step of 1e-9 s from the current state, then restores the concentrations, so
        that only the algebraic unknowns (and, with a double layer, nothing measurable) move.
        If Newton fails on a large jump of the control (a high current from rest), the control
        is ramped from ``start_value`` (its value in the previous state) to the target in 4, 16
        or 64 equal parts, each solve starting from the last. The result replaces the history:
        the next step starts at first order.
        """
        unknowns = self.problem.unknowns
        integrator = self.integrator
        before = unknowns.state()
        integrator.restart(self.time_s)
        self._dissolved = self._dissolved[-1:]
        target = self._control_value
        solved = integrator.try_step(1e-9, 1, before)
        parts = 4
        while not solved and parts <= 64:
            guess = before
            for k in range(1, parts + 1):
                self._set_control_value(start_value + (target - start_value) * k / parts)
                solved = integrator.try_step(1e-9, 1, guess)
                if not solved:
                    break
                guess = unknowns.state()
            parts *= 4
        if not solved:
            raise StepFailure(f"no consistent potentials at t = {self.time_s:.6g} s")
        state = unknowns.state()
        for name in self.problem.conserved:
            position = unknowns.position(name)
            state[position] = before[position]
        unknowns.set_state(state)
        integrator.restart(self.time_s)
        self._dissolved = self._dissolved[-1:]
        self._recentre()

    # ------------------------------------------------------------- driving
    def discharge(
        self,
        current_A: float,
        cutoff_voltage_V: float | None = None,
        duration_s: float | None = None,
        output_times_s=(),
    ) -> DFNSolution:
        """Constant-current step (negative current charges) until cut-off or duration.

        Args:
            current_A: Applied current, positive on discharge [A].
            cutoff_voltage_V: Stop when the voltage crosses this value (below it on discharge,
                above it on charge), located in time to 1e-5 s. Default: the set's cut-off.
            duration_s: Stop after this time (default: 10 hours over the C-rate, i.e. never for
                a full discharge).
            output_times_s: Absolute times the steps must land on (others are chosen by the
                error control); profiles are recorded there.
        """
        p = self.parameters
        if cutoff_voltage_V is None:
            cutoff_voltage_V = (
                p.lower_voltage_cutoff_V if current_A >= 0 else p.upper_voltage_cutoff_V
            )
        if duration_s is None:
            duration_s = 10 * 3600 * p.nominal_capacity_Ah / max(abs(current_A), 1e-12)
        return self._run_step(
            "current", current_A, duration_s, cutoff_voltage_V, None, output_times_s
        )

    def run_experiment(self, steps: Sequence[Step], output_times_s=()) -> DFNSolution:
        """Run protocol steps (see :mod:`electrolyx.experiment`) one after the other.

        Current, power and voltage control switch at step boundaries; every step ends at its
        duration or its ``until`` event, located in time. Without a duration, a step stops after
        at most 24 hours.
        """
        capacity = self.parameters.nominal_capacity_Ah
        for step in steps:
            duration = step.duration_s if step.duration_s is not None else 24 * 3600.0
            if step.mode == "voltage":
                self._run_step(
                    "voltage",
                    step.value,
                    duration,
                    None,
                    step.until_current_A(capacity),
                    output_times_s,
                )
            else:
                mode = "current" if step.mode == "rest" else step.mode
                self._run_step(
                    mode,
                    step.value_SI(capacity),
                    duration,
                    step.until_voltage_V,
                    None,
                    output_times_s,
                )
            self._step_index += 1
        return self.solution

    def drive_cycle(
        self,
        times_s,
        currents_A,
        lower_voltage_V: float | None = None,
        upper_voltage_V: float | None = None,
        output_times_s=(),
    ) -> DFNSolution:
        """Current following a drive cycle, linear between the given points (positive discharge).

        The cycle starts at the current time; steps land on every data point (where the
        current's slope changes), and the run stops at the end of the data or when the voltage
        leaves [lower, upper] (default: the set's cut-offs), located in time.

        Args:
            times_s: Increasing times from 0 [s].
            currents_A: Current at each time [A].
            lower_voltage_V: Lower voltage limit.
            upper_voltage_V: Upper voltage limit.
            output_times_s: Times (from the cycle start) where profiles are recorded.
        """
        times = np.asarray(times_s, dtype=float)
        currents = np.asarray(currents_A, dtype=float)
        if times.ndim != 1 or times.shape != currents.shape or times.size < 2:
            raise ValueError("a drive cycle needs matching 1D arrays of at least two points")
        if times[0] != 0.0 or np.any(np.diff(times) <= 0):
            raise ValueError("drive-cycle times must start at 0 and increase")
        p = self.parameters
        low = p.lower_voltage_cutoff_V if lower_voltage_V is None else lower_voltage_V
        high = p.upper_voltage_cutoff_V if upper_voltage_V is None else upper_voltage_V
        start = self.time_s

        def current(t: float) -> float:
            return float(np.interp(t - start, times, currents))

        def event() -> float:
            voltage = self.voltage()
            return min(voltage - low, high - voltage)

        outputs = [start + t for t in output_times_s]
        landings = [start + t for t in times[1:-1]]
        return self._run_step("current", current, times[-1], None, None, outputs, event, landings)

    def _run_step(
        self,
        mode,
        value,
        duration_s,
        until_voltage_V,
        until_current_A,
        outputs,
        event=None,
        landings=(),
    ):
        start = time.perf_counter()
        # Where a ramp toward the new control would start: the present current, power or voltage.
        voltage = self.voltage()
        current = self.current_A() if self._consistent else 0.0
        start_value = {"current": current, "power": current * voltage, "voltage": voltage}[mode]
        self._set_control(mode, value)
        first = not self._consistent
        self._make_consistent(start_value)
        if first:
            self._record(self.current_A())
            self._consistent = True
            self._output()
        if event is None and until_voltage_V is not None:
            # Positive while the step may go on: above the cut-off on discharge, below on charge.
            direction = 1.0 if value >= 0 else -1.0

            def event():
                return direction * (self.voltage() - until_voltage_V)

        elif event is None and until_current_A is not None:

            def event():
                return abs(self.current_A()) - until_current_A

        self._current_before = self.current_A()
        self.solution.termination = self.integrator.run(
            self.time_s + duration_s, event, outputs, landings, on_output=self._output
        )
        self.solution.wall_time_s += time.perf_counter() - start
        return self.solution

    def _accept(self, dt: float) -> None:
        """After an accepted step: capacity, dissolved lithium, recentring (the row follows)."""
        self._step_start = (
            self.time_s,
            self.discharge_capacity_Ah,
            self._dissolved[-1],
            self._current_before,
        )
        self.time_s = self.integrator.time
        current = self.current_A()
        # Trapezoidal rule: exact for constant current, second order otherwise.
        self.discharge_capacity_Ah += 0.5 * (self._current_before + current) * dt / 3600.0
        self._current_before = current
        if self.half_cell:
            # The metal's lithium with the BDF formula of the accepted solve:
            # a0 M_n + a1 M_n-1 + a2 M_n-2 = dt A j_Li / F, as the electrolyte's balance.
            a0, a1, a2 = self.problem.time_derivative.values()
            rate = self.reaction_current_A()[LITHIUM] / FARADAY
            before = self._dissolved[-1]
            older = self._dissolved[-2] if a2 != 0.0 else 0.0
            dissolved = (dt * rate - a1 * before - a2 * older) / a0
            self._dissolved = [*self._dissolved[-2:], dissolved]
        else:
            self._dissolved = [0.0]
        self._recentre()

    def _record_interpolated(self, time_s: float) -> None:
        """A row at ``time_s`` inside the last step, the unknowns interpolated there.

        The capacity follows the trapezoidal rule from the step's start (exact for a constant
        current), the metal's lithium (half cell) linearly across the step.
        """
        start, capacity, dissolved, current_before = self._step_start
        end = self.time_s
        if self._mode == "current" and self._control_function is not None:
            current = self._control_function(time_s)
        else:
            current = self.current_A()
        row_time, row_capacity, row_dissolved = (
            self.time_s,
            self.discharge_capacity_Ah,
            self._dissolved,
        )
        self.time_s = time_s
        self.discharge_capacity_Ah = (
            capacity + 0.5 * (current_before + current) * (time_s - start) / 3600.0
        )
        fraction = (time_s - start) / (end - start)
        self._dissolved = [dissolved + fraction * (row_dissolved[-1] - dissolved)]
        try:
            self._record(current)
        finally:
            self.time_s, self.discharge_capacity_Ah, self._dissolved = (
                row_time,
                row_capacity,
                row_dissolved,
            )
