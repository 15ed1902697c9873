"""The Doyle-Fuller-Newman cell driven by a protocol: current, power and voltage control.

:class:`DFN` ties the layers together: the geometry (:mod:`.geometry`), the problem's unknowns
and forms (:mod:`.problem`), the time integrator (PETSc TS through
:class:`electrolyx.ts_integrator.TSIntegrator`) and the outputs (:mod:`.outputs`). It switches
the control at protocol-step boundaries, finds potentials consistent with a new control (the
algebraic unknowns), runs one TS integration per protocol step, and records a row per accepted
step plus rows interpolated by TS at the multiples of the row interval.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mpi4py import MPI

import numpy as np
from dolfinx import fem

from electrolyx import collector
from electrolyx.experiment import Step
from electrolyx.forms.kinetics import Kinetics
from electrolyx.parameters.base import CellParameters

from .bdf_stepping import BDFProtocolStepping
from .checkpointing import DFNCheckpointing
from .geometry import (
    LITHIUM,
    NEGATIVE,
    CellGeometry,
    CellLayout,
    DFNResolution,
    LithiumCounterElectrode,
)
from .outputs import DFNOutputs, RowIntegrals
from .problem import DFNProblem, ParticleMechanics, SideReactions
from .stepping import ProtocolStepping
from .thermal import ThermalModel

__all__ = ["DFN", "DFNSolution"]


@dataclass
class DFNSolution:
    """Time series of a DFN run (SI units, current > 0 on discharge).

    Attributes:
        time_s: Times of the rows, from 0: the accepted steps and the multiples of the row
            interval.
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
        lithium_in_side_reactions_mol: Lithium held by lithium plating and SEI beyond their
            initial state (0 without them): lithium_mol + this is conserved.
        termination: Why the last step ended ("event": its voltage or current limit, or
            "time").
        stop_reason: The same in words, with the time: e.g. "voltage reached the 2.5 V
            cut-off at t = 3555.24 s" (written to run.json).
        electrolyte_depletion: The first row where the electrolyte concentration fell below
            the laws' floor: time_s, position_m, threshold_mol_m3 (set by the case's rows;
            None if it never did).
        newton_iterations: Newton iterations of all solves, rejected included.
        accepted_steps: Time steps accepted.
        rejected_steps: Steps rejected by error control or Newton failure.
        wall_time_s: Wall-clock time of the time loop(s).
        step_index: Index of the experiment step of each row.
        profiles: ``(time, profiles)`` at t = 0, requested output times, step ends and events
            (none when ``DFN.record_profiles`` is off, as in a case run).
    """

    time_s: list[float] = field(default_factory=list)
    voltage_V: list[float] = field(default_factory=list)
    current_A: list[float] = field(default_factory=list)
    discharge_capacity_Ah: list[float] = field(default_factory=list)
    average_negative_particle_concentration_mol_m3: list[float] = field(default_factory=list)
    average_positive_particle_concentration_mol_m3: list[float] = field(default_factory=list)
    lithium_mol: list[float] = field(default_factory=list)
    lithium_dissolved_mol: list[float] = field(default_factory=list)
    lithium_in_side_reactions_mol: list[float] = field(default_factory=list)
    termination: str = ""
    stop_reason: str = ""
    electrolyte_depletion: dict | None = None
    newton_iterations: int = 0
    accepted_steps: int = 0
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


class DFN(ProtocolStepping, BDFProtocolStepping, DFNCheckpointing):
    """Doyle-Fuller-Newman cell: build once, then run current steps from the initial state.

    Example::

        model = DFN(chen2020())
        solution = model.discharge(current_A=5.0, cutoff_voltage_V=2.5)

    Time integration: PETSc TS, BDF of a fixed ``order`` with adaptive steps on the local
    error of the scaled concentrations (max norm), one integration per protocol step from
    consistent potentials (bench/README.md, "Time integration").

    Args:
        parameters: Parameter set (e.g. :func:`electrolyx.parameters.chen2020`).
        resolution: Mesh resolution (default :class:`DFNResolution`).
        comm: Communicator.
        double_layer: Add the double-layer current a_s C_dl d(phi_s - phi_e)/dt.
        temperature_K: Temperature [K] (default: the set's ambient temperature): a number, a
            ``fem.Constant`` or ``fem.Function`` on the cell mesh, or a callable x -> T(x)
            (interpolated on the cell mesh; :mod:`electrolyx.temperature`).
        relative_tolerance: Local error tolerance of the time stepper, relative.
        absolute_tolerance: Same, absolute on the scaled concentrations.
        max_step_s: Largest time step (None: no limit).
        counter_electrode: A lithium-metal counter electrode: the half cell separator |
            positive electrode (the set's negative electrode and ``negative_*`` resolution
            are not used).
        geometry: A 2D or 3D stack (:class:`CellGeometry`); None for the 1D (P2D) cell.
        kinetics: "negative"/"positive" -> kinetic law of the electrode's intercalation
            (default: Butler-Volmer with the set's transfer coefficients).
        row_interval_s: Rows of the time series at most this far apart: besides every time
            step, rows at the multiples of the interval, at states interpolated by TS between
            the steps (which it does not limit). None: a row per time step only.
        order: BDF order (1-6).
        first_step_s: First time step of every protocol step.
        max_step_growth: Largest ratio of two successive steps (None: 1.5 for order >= 4,
            which keeps variable-step BDF4 conservative, else 10).
        integrator: "ts" (PETSc TS, the default) or "bdf2" (our own BDF1/BDF2 loop,
            :mod:`.bdf_stepping`: order, first step and step growth do not apply; no step limit
            means 60 s there). A half cell's discharge into its end-of-discharge cliff runs only
            on "bdf2" so far.
        mechanics: Particle mechanics (:class:`ParticleMechanics`; default none).
        side_reactions: "negative" -> lithium plating and SEI growth (:class:`SideReactions`;
            default none).
        thermal: Thermal model (:class:`ThermalModel`; default isothermal at
            ``temperature_K``): "lumped" or "x-full" make the temperature an unknown.
        electrolyte_unknown: "log-concentration" (the default: u = ln(c_e / c_e0) an unknown
            too, the concentration the laws see stays positive; :class:`DFNProblem`) or
            "concentration" (c_e alone, held at a floor in the laws).
    """

    def __init__(
        self,
        parameters: CellParameters,
        resolution: DFNResolution | None = None,
        comm: MPI.Comm = MPI.COMM_WORLD,
        double_layer: bool = False,
        temperature_K: float | fem.Constant | fem.Function | Callable | None = None,
        relative_tolerance: float = 1e-4,
        absolute_tolerance: float = 1e-6,
        max_step_s: float | None = None,
        counter_electrode: LithiumCounterElectrode | None = None,
        geometry: CellGeometry | None = None,
        kinetics: dict[str, Kinetics] | None = None,
        row_interval_s: float | None = None,
        order: int = 4,
        first_step_s: float = 1e-3,
        max_step_growth: float | None = None,
        integrator: str = "ts",
        mechanics: ParticleMechanics | None = None,
        side_reactions: dict[str, SideReactions] | None = None,
        thermal: ThermalModel | None = None,
        electrolyte_unknown: str = "log-concentration",
    ):
        collector.collect_earlier_models()
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
            parameters.ambient_temperature_K if temperature_K is None else temperature_K,
            counter_electrode,
            kinetics,
            integrator,
            mechanics,
            side_reactions,
            thermal,
            electrolyte_unknown,
        )
        self.integrator_kind = integrator
        if integrator == "ts":
            self.problem.build_solvers(
                order=order,
                relative_tolerance=relative_tolerance,
                absolute_tolerance=absolute_tolerance,
                max_step_growth=max_step_growth,
            )
            self.integrator = self.problem.integrator
            # (Set again with each control: called at every residual only where something
            # follows the time, a current or an ambient temperature, so that the residual can
            # otherwise run without Python.)
            thermal = self.problem.thermal
            timed = thermal is not None and thermal.follows_time
            self.integrator.update = self._apply_control_at if timed else None
        else:
            self.problem.build_solvers()
            self.integrator = self._bdf_build(
                relative_tolerance,
                absolute_tolerance,
                60.0 if max_step_s is None else max_step_s,
                row_interval_s,
            )
        self.outputs = DFNOutputs(self.problem)
        self.max_step_s = max_step_s
        self.first_step_s = first_step_s
        self.row_interval_s = row_interval_s
        # Re-centring of phi_s inside a protocol step only where a foil's round-off needs it.
        self._recentre_in_steps = any(e.foil is not None for e in self.problem.electrodes)
        #: Called with "row" after every recorded time and "output" at profile times.
        self.observer: Callable[[str], None] | None = None
        #: Whether the solution keeps the profiles across the cell at the profile times
        #: (``DFNSolution.profiles``). A case run writes its own (profiles.csv, sampled from the
        #: same nodal fields by the observer) and turns this off: computed twice, the nodal
        #: fields were 16 ms of the default case's 0.85 s.
        self.record_profiles = True
        self.reset()
        if geometry is not None or self.integrator_kind == "ts":
            # (At the initial state: the pattern is found where every coefficient is defined.)
            # In 1D too under TS: the radial blocks' cell pattern is 18 times the Jacobian's
            # nonzeros at the default mesh (64,606 entries, 3,526 nonzero).
            self.problem.drop_structural_zeros()

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
    def temperature(self) -> fem.Constant | fem.Function:
        """Temperature of every law [K] (a ``fem.Constant`` or a temperature field)."""
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

    def lithium_dissolved_mol(self, row: RowIntegrals | None = None) -> float:
        """Lithium that left the metal counter electrode for the electrolyte (full cell: 0) [mol].

        On TS the integral of the ``lithium_dissolved`` unknown, integrated by the same time
        steps as the electrolyte and the particles; on the BDF2 loop integrated from A j_Li / F
        with the steps' own BDF formula: either way electrolyte + particles - dissolved lithium
        is conserved exactly under every control. From ``row`` (the present state's
        :meth:`DFNOutputs.row_integrals`) when given.
        """
        if self.integrator_kind == "bdf2":
            return self._dissolved[-1]
        return self.outputs.lithium_dissolved_mol(row)

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
        rest_K = p.ambient_temperature_K if problem.thermal is None else problem.thermal.initial_K
        values = {"electrolyte_concentration": 1.0}
        if problem.log_electrolyte:
            values["electrolyte_log_concentration"] = 0.0  # ln(c_e0 / c_e0)
        for electrode in problem.electrodes:
            ep = electrode.params
            sto = ep.initial_concentration_mol_m3 / ep.max_concentration_mol_m3
            ocp = float(ep.open_circuit_potential(sto, rest_K))
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
        if "lithium_dissolved" in unknowns:
            values["lithium_dissolved"] = 0.0
        values.update(problem.reaction_state_initial)  # plated lithium, SEI thickness
        if problem.thermal is not None:
            values.update(problem.thermal.initial_values())
        for name in problem.crack_lengths:
            values[name] = 0.0  # l = l_0 (the offset)
        for name, value in values.items():
            unknowns[name].function.x.array[:] = value
        self.time_s = 0.0
        self.discharge_capacity_Ah = 0.0
        if self.integrator_kind == "ts":
            for rate in problem.time_derivative.functions:
                rate.x.array[:] = 0.0
            for key in self.integrator.totals:
                self.integrator.totals[key] = 0
        else:
            self._bdf_reset()
        self.solution = DFNSolution()
        self._consistent = False
        self._step_index = 0
        self._drive_cycle_start = None
        self._resume = None
        self._set_control("current", 0.0)

    def _recentre(self) -> float:
        """Move the positive phi_s unknowns to mean 0 on the terminal (between integrations).

        Done when the mean leaves +-0.05 V_T; physical values are unchanged (the offset takes
        the shift). A shift changes the state TS integrates, so it is done only between two
        :meth:`TSIntegrator.integrate` calls (the BDF2 loop shifts its history, every step).
        Returns the shift taken off the unknowns (0 if none).
        """
        problem = self.problem
        shift = self.outputs.terminal_potential()
        if abs(shift) < 0.05:
            return 0.0
        name = problem.electrode["positive"].potential
        problem.unknowns[name].function.x.array[:] -= shift
        if self.integrator_kind == "bdf2":
            self.integrator.shift_history(problem.unknowns.position(name), shift)
        problem.potential_offset.value += shift
        problem.terminal_voltage.value -= shift
        return shift

    def _record(self, current_A: float) -> None:
        s = self.solution
        outputs = self.outputs
        # Every integral of the row at once (one call, one reduction).
        row = outputs.row_integrals()
        s.time_s.append(self.time_s)
        s.voltage_V.append(outputs.voltage(row.terminal_potential))
        s.current_A.append(current_A)
        s.discharge_capacity_Ah.append(self.discharge_capacity_Ah)
        negative, positive = outputs.average_particle_concentration_mol_m3(row.lithium)
        s.average_negative_particle_concentration_mol_m3.append(negative)
        s.average_positive_particle_concentration_mol_m3.append(positive)
        s.lithium_mol.append(outputs.lithium_mol(row.lithium))
        s.lithium_dissolved_mol.append(self.lithium_dissolved_mol(row))
        s.lithium_in_side_reactions_mol.append(
            outputs.degradation.side_reaction_lithium_mol(row.side_reactions)
        )
        s.step_index.append(self._step_index)
        totals = self.integrator.totals if self.integrator_kind == "ts" else self._bdf_totals()
        s.newton_iterations = totals["newton_iterations"]
        s.accepted_steps = totals["steps"]
        s.rejected_steps = totals["rejected_steps"]
        if self.observer is not None:
            self.observer("row")

    def _output(self) -> None:
        """Profiles at the current time (t = 0, requested times, ends of steps, events)."""
        if self.record_profiles:
            self.solution.profiles.append((self.time_s, self.profiles()))
        if self.observer is not None:
            self.observer("output")

    # ------------------------------------------------------------- control
    def _set_control(self, mode: str, value) -> None:
        """Current [A], power [W] (both positive on discharge) or voltage [V] control."""
        problem = self.problem
        area = self.parameters.electrode_area_m2
        # A current given as a function of time is evaluated at every time TS asks for.
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
        if self.integrator_kind == "ts":
            timed = self._control_function is not None or (
                problem.thermal is not None and problem.thermal.follows_time
            )
            self.integrator.update = self._apply_control_at if timed else None

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
        for index, step in enumerate(steps):
            if self._skips_step(index):  # resumed from a checkpoint of a later step
                continue
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
            self._checkpoint_at_boundary()
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
        if self._resume is None or self._drive_cycle_start is None:
            self._drive_cycle_start = self.time_s
        # (A run resumed inside the cycle keeps its start.)
        start = self._drive_cycle_start

        def current(t: float) -> float:
            return float(np.interp(t - start, times, currents))

        def event() -> float:
            voltage = self.voltage()
            return min(voltage - low, high - voltage)

        outputs = [start + t for t in output_times_s]
        landings = [start + t for t in times[1:-1]]
        return self._run_step("current", current, times[-1], None, None, outputs, event, landings)
