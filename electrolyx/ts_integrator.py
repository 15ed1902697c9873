"""Adaptive time integration of a finite-element DAE F(t, u, du/dt) = 0 with PETSc TS.

The problem is given as UFL block forms: one residual form per unknown field, written with the
unknowns ``u_i`` and their time derivatives ``u_dot_i`` (plain :class:`dolfinx.fem.Function`
objects in the spaces of the unknowns; fields whose rows do not contain ``u_dot`` are algebraic).
:class:`TSIntegrator` compiles

    F_i(t, u, u_dot)                                   (the residual, TS's IFunction)
    J_ij = dF_i/du_j + shift dF_i/du_dot_j             (TS's IJacobian)

once, assembles both monolithically (``kind="mpi"``: one PETSc vector and one AIJ matrix over
all fields, sub-meshes joined through entity maps) and hands them to PETSc TS. What TS then
provides and this class arranges:

- **Adaptive step** (TSAdapt "basic") on the local-error estimate of the differential fields
  only (per-entry tolerances that are zero on the algebraic entries, so those are left out of
  the norm), max norm by default; a step whose Newton solve fails is cut (x 0.25) and retried.
- **Order**: TSBDF of a fixed order 1-6 (ramped up from first order after every restart; TSBDF
  does not vary the order), or an ARKIMEX scheme in fully implicit mode (only the stiffly
  accurate ones run an index-1 DAE; their dense output is poor on the algebraic unknowns).
- **Consistent initialisation**: :meth:`TSIntegrator.make_consistent` solves the algebraic rows
  at the present time with the differential unknowns held (Newton with identity rows for them).
- **Events** (:class:`Event`): indicator functions g(t, u) evaluated on accepted steps; a sign
  change is located in time by TSEvent (Anderson-Bjorck regula falsi, each trial a step from
  the last accepted state), terminal events stop the integration on the zero.
- **Outputs at given times by interpolation**: after every accepted step, each requested
  output time inside the step is filled by TSInterpolate (the BDF/ARKIMEX dense output), so
  output times do not limit the step.
- **Landing times**: where a control has a kink (a piecewise-linear drive cycle), the steps
  land on it (TSSetEvaluationTimes) without a restart; the error estimate does not see kinks
  inside a step (on a drive cycle the voltage error grew 20-fold without landing).

- **Checkpoints that resume exactly** (:class:`ReplayHistory`): TSBDF's history is nothing
  but copies of the solution taken at the start of each step (``TSBDF_Advance`` in PETSc's
  bdf.c), and after a restart it takes a half step and ramps the order 2, 3, 4. The integrator
  keeps the last :data:`REPLAY_STEPS` + 1 accepted states with their times; a resumed
  :meth:`TSIntegrator.integrate` restarts TS from the oldest, replays the stored steps with the
  stored step sizes (every replay step accepted, its solution and time overwritten by the
  stored ones, events fed the stored states, no outputs), after which TS's history holds only
  original states and the next steps repeat the uninterrupted run's arithmetic. A history is
  usable (:meth:`TSIntegrator.checkpointable`) :data:`REPLAY_STEPS` + 1 accepted steps after
  the start of an :meth:`integrate` call, while no event is being located and where TSAdapt
  holds no step cut to land on a landing time (its cache would be lost by a restart).

Settings measured on the DFN (bench/README.md, "Time integration: PETSc TS vs our BDF loop"):
BDF order 4, rtol 1e-4 on the scaled concentrations, max norm, step growth <= 1.5, first step
1e-3 s; a new :meth:`integrate` (restart) per protocol step after :meth:`make_consistent`.

Dirichlet conditions: their rows are u - g (algebraic), set on the state at the start of every
:meth:`TSIntegrator.integrate`; their values must stay constant during one call (change them
between calls, e.g. a switch from current to voltage control: pass the new list to
:meth:`TSIntegrator.set_bcs`). Within a call the residual needs no lifting (u = g there).

Example (a heat equation u_t = D u_xx with an algebraic field q = u^2; see
tests/test_ts_integrator.py)::

    F = [(u_dot * v + D * inner(grad(u), grad(v))) * dx, (q - u**2) * w * dx_vertex]
    integrator = TSIntegrator(F, [u, q], [u_dot, q_dot], bcs=bcs, differential=[0], order=4)
    integrator.make_consistent(0.0)
    result = integrator.integrate(0.0, 20.0, events=[Event(lambda t: q_middle() - 0.25, -1)],
                                  output_times=np.linspace(0.5, 6, 12), on_output=record)
"""

from __future__ import annotations

import time as _time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from mpi4py import MPI
from petsc4py import PETSc

import numpy as np
import ufl
from dolfinx import fem
from dolfinx.fem.petsc import assemble_matrix, assemble_vector, create_matrix, create_vector, set_bc

from .integrator import StepFailure
from .jit import forms

__all__ = [
    "REPLAY_STEPS",
    "Event",
    "IntegrationFailure",
    "IntegrationResult",
    "ReplayHistory",
    "TSIntegrator",
    "TSTimeDerivative",
]

#: Accepted steps a resumed integration replays before it goes on. BDF4 steps from the 4 last
#: states, estimates its error from 5 and extrapolates Newton's guess from 5; the half step of
#: TSBDF's restart leaves that window after 5 steps and the order reaches 4 after 3: 6 leaves
#: one step of margin.
REPLAY_STEPS = 6

#: tolerance of the error test while replaying (every replay step is accepted: its result is
#: replaced by the stored state anyway)
_REPLAY_TOLERANCE = 1e300

#: New TSs one :meth:`TSIntegrator.integrate` call may start to locate an event (see there).
EVENT_RESTARTS = 3

#: PETSc's PETSC_ERR_PLIB: TSEvent's consistency checks ("Inconsistent time value when
#: performing 'revisiting'") raise it.
_PETSC_ERR_PLIB = 77


class _EventLocationStopped(Exception):
    """PETSc's TSEvent stopped on its "revisiting" step (see :meth:`TSIntegrator.integrate`)."""

    def __init__(self, result: IntegrationResult, pending: list[float], error: PETSc.Error):
        super().__init__(str(error))
        self.result, self.pending, self.error = result, pending, error


class IntegrationFailure(StepFailure):
    """Newton failed on every retry of a step (or of a consistent initialisation)."""


class TSTimeDerivative:
    """d/dt of named unknowns' physical values as UFL, for forms integrated by TS.

    Each unknown u (``value = scale (u + offset)``, the offset constant in time) gets a
    function u_dot in its space that TS fills with du/dt; :meth:`rate` is ``scale * u_dot``.

    Args:
        unknowns: The named unknowns (:class:`electrolyx.unknowns.Unknowns`).
    """

    def __init__(self, unknowns):
        self.unknowns = unknowns
        self.functions = [fem.Function(V) for V in unknowns.spaces]

    def rate(self, name: str):
        """d(value)/dt of the unknown ``name`` [its unit per second]."""
        return self.unknowns[name].scale * self.functions[self.unknowns.position(name)]

    def rate_of(self, name: str, transform: Callable):
        """Rate d f(u)/dt = f'(u) du/dt of a scalar function f of the unknown ``name`` (UFL)."""
        u = ufl.variable(self.unknowns[name].function)
        return ufl.diff(transform(u), u) * self.functions[self.unknowns.position(name)]


@dataclass
class Event:
    """A zero crossing of g(t, u) located in time.

    Attributes:
        indicator: g(t), called with the state loaded into the unknowns (and the integrator's
            ``update(t)`` applied), on every rank (collective if it assembles); the same value
            on all ranks.
        direction: -1: only crossings from positive to negative; +1: negative to positive;
            0: both.
        terminal: Stop the integration at the event (else record it and go on).
        name: Label reported in :attr:`IntegrationResult.event`.
    """

    indicator: Callable[[float], float]
    direction: int = 0
    terminal: bool = True
    name: str = "event"


@dataclass
class IntegrationResult:
    """Outcome and statistics of one :meth:`TSIntegrator.integrate` call.

    Attributes:
        time: Time reached (the event time if a terminal event stopped it).
        reason: "time" (end time reached), "event" (terminal event), "stop" (user stop) or
            "checkpoint" (the ``checkpoint`` callback asked to stop).
        event: Name of the terminal event, or "".
        event_times: Times of all located events (terminal and non-terminal), with names.
        steps: Accepted steps (event-location trial steps that were accepted included).
        rejected_steps: Steps rejected by the error test or a failed Newton solve.
        newton_iterations: Newton iterations of all solves.
        residual_evaluations: Residual assemblies.
        jacobian_evaluations: Jacobian assemblies.
        wall_time_s: Wall-clock time of the call.
        last_step_s: The step size TS proposed last (a good first step for a next call).
        restarts: New TSs started to locate an event after PETSc's TSEvent stopped (see
            :meth:`TSIntegrator.integrate`).
    """

    time: float = 0.0
    reason: str = ""
    event: str = ""
    event_times: list[tuple[float, str]] = field(default_factory=list)
    steps: int = 0
    rejected_steps: int = 0
    newton_iterations: int = 0
    residual_evaluations: int = 0
    jacobian_evaluations: int = 0
    wall_time_s: float = 0.0
    last_step_s: float = 0.0
    restarts: int = 0


@dataclass
class ReplayHistory:
    """The last accepted steps of an integration, enough to resume it exactly.

    Attributes:
        times: Times of the last :data:`REPLAY_STEPS` + 1 accepted states, increasing [s].
        states: Those states (rank-local owned entries of the monolithic vector), one row each.
        next_step_s: The step TS proposed after the last of them.
        steps_in_call: Accepted steps of the :meth:`TSIntegrator.integrate` call so far.
        totals: :attr:`TSIntegrator.totals` at the last state.
        counts: :attr:`TSIntegrator.counts` at the last state.
    """

    times: np.ndarray
    states: np.ndarray
    next_step_s: float
    steps_in_call: int
    totals: dict[str, int]
    counts: dict[str, int]

    def scalars(self) -> dict:
        """Everything but the states (the same on every rank; JSON-serialisable)."""
        return {
            "times": [float(t) for t in self.times],
            "next_step_s": float(self.next_step_s),
            "steps_in_call": int(self.steps_in_call),
            "totals": {k: int(v) for k, v in self.totals.items()},
            "counts": {k: int(v) for k, v in self.counts.items()},
        }

    @classmethod
    def from_scalars(cls, scalars: dict, states: np.ndarray) -> ReplayHistory:
        """The inverse of :meth:`scalars` with the rank's states."""
        return cls(
            times=np.asarray(scalars["times"], dtype=float),
            states=np.asarray(states),
            next_step_s=float(scalars["next_step_s"]),
            steps_in_call=int(scalars["steps_in_call"]),
            totals=dict(scalars["totals"]),
            counts=dict(scalars["counts"]),
        )


def _snes_reason(reason: int) -> str:
    """Name of a SNES converged reason (e.g. DIVERGED_MAX_IT)."""
    names = {v: k for k, v in vars(PETSc.SNES.ConvergedReason).items() if isinstance(v, int)}
    return names.get(reason, str(reason))


def _jacobian_forms(residual, unknowns, rates, shift):
    """UFL blocks dF_i/du_j + shift dF_i/du_dot_j; None where F_i depends on neither.

    Dependence is read from the form's coefficients (cheap; the derivatives stay symbolic and
    are expanded by the form compiler only on a cache miss). Empty blocks get no sparsity and no
    assembly calls.
    """
    blocks = []
    for form in residual:
        coefficients = set(form.coefficients())
        row = []
        for u, u_dot in zip(unknowns, rates, strict=True):
            trial = ufl.TrialFunction(u.function_space)
            block = None
            if u in coefficients:
                block = ufl.derivative(form, u, trial)
            if u_dot in coefficients:
                term = shift * ufl.derivative(form, u_dot, trial)
                block = term if block is None else block + term
            row.append(block)
        blocks.append(row)
    return blocks


class TSIntegrator:
    """PETSc TS for the DAE F(t, u, u_dot) = 0 given as UFL block forms (see module docstring).

    The forms are compiled and the matrix created once; every :meth:`integrate` call creates a
    new TS (a restart: BDF from first order) from the present values of the unknowns.

    Args:
        residual: One UFL residual form per field (rank one, test function of field i).
        unknowns: The fields u_i (their values are the state between calls).
        rates: Functions u_dot_i in the same spaces, used in ``residual`` for du_i/dt.
        bcs: Dirichlet conditions on the fields (constant within one :meth:`integrate`).
        entity_maps: Entity maps of mixed-domain forms (sub-meshes).
        time: A :class:`dolfinx.fem.Constant` set to t before every evaluation (or None).
        update: Called with t before every evaluation, after ``time`` is set (e.g. to set a
            time-dependent control from Python), and at outputs and events.
        differential: The fields whose local error is controlled (default: all fields; leave
            the algebraic ones out): an index, or (field, component) for one component of a
            blocked field (e.g. the potential in a blocked (potential, concentrations) unknown).
        scheme: "bdf" or "arkimex".
        order: BDF order (1-6) for "bdf"; the ARKIMEX type name for "arkimex" (e.g. "2c").
            Default 4: on the DFN it had 5-13 times less time error than BDF2 for the same
            Newton iterations.
        relative_tolerance: Local-error tolerance, relative (1e-4: 0.004 mV RMS time error on
            the DFN at 1C).
        absolute_tolerance: Local-error tolerance, absolute (units of the unknowns).
        field_absolute_tolerances: Field index -> its own absolute tolerance, in place of
            ``absolute_tolerance`` (e.g. a temperature rise in K).
        norm: "infinity" (max over the differential entries) or "2" (their RMS).
        max_step_growth: Largest ratio of two successive steps. Variable-step BDF of order
            >= 4 loses zero-stability when steps grow fast; the DFN's lithium drifted by 4e-10
            (BDF4) and 1e-7 (BDF5) of the inventory with PETSc's default (up to 10x, in practice
            2x per step from 1e-6 s), by < 1e-13 with 1.5. Default: 1.5 for BDF order >= 4,
            PETSc's 10 otherwise.
        snes_options: PETSc options of the Newton solver (prefix-free, e.g. "snes_atol").
        ts_options: Further PETSc TS options (prefix-free, e.g. "ts_adapt_dt_max").
        comm: Communicator (default: that of the first unknown's mesh).
        name: Options prefix stem (must be unique among live integrators).
        convergence_test: Newton's convergence test instead of PETSc's default, called with
            (iteration, |x|, |step|, |F|, time step) and returning a ``SNES.ConvergedReason``
            (0: go on); the time step is inf for :meth:`make_consistent` without rates.
        max_step_rejections: Consecutive rejections of one step (error test or Newton failure,
            the step cut by 4 after each Newton failure) before :class:`IntegrationFailure`.
        extrapolate: Newton's initial guess extrapolated from the previous steps (TSBDF's
            ``-ts_bdf_initial_guess_extrapolate``); else the last state.
        replay_steps: Accepted steps a resumed integration replays (:data:`REPLAY_STEPS` for
            BDF4; implicit Euler at fixed steps needs 2: the step reads the last state, the
            extrapolated Newton guess the last two).
        configure_snes: Called with every new Newton solver (after its options are set), e.g.
            to give a field-split preconditioner its index sets.
        timer: A :class:`electrolyx.output.PhaseTimer`: residual and Jacobian assemblies are
            timed as its phases "residual" and "jacobian".

    Attributes:
        matrix: The monolithic Jacobian (AIJ).
        counts: Residual and Jacobian assemblies so far.
        totals: Accepted steps, rejected steps, Newton and linear iterations of all calls so far
            (updated after every accepted step; :meth:`make_consistent` adds its iterations).
        time_s: Time of the state held by the unknowns after the last call.
    """

    def __init__(
        self,
        residual: Sequence[ufl.Form],
        unknowns: Sequence[fem.Function],
        rates: Sequence[fem.Function],
        bcs: Sequence[fem.DirichletBC] = (),
        entity_maps=None,
        time: fem.Constant | None = None,
        update: Callable[[float], None] | None = None,
        differential: Sequence[int] | None = None,
        scheme: str = "bdf",
        order: int | str = 4,
        relative_tolerance: float = 1e-4,
        absolute_tolerance: float = 1e-6,
        field_absolute_tolerances: Mapping[int, float] | None = None,
        norm: str = "infinity",
        max_step_growth: float | None = None,
        snes_options: dict | None = None,
        ts_options: dict | None = None,
        comm: MPI.Comm | None = None,
        name: str = "ts",
        convergence_test: Callable[[int, float, float, float, float], int] | None = None,
        max_step_rejections: int = 15,
        extrapolate: bool = True,
        replay_steps: int = REPLAY_STEPS,
        configure_snes: Callable[[PETSc.SNES], None] | None = None,
        timer=None,
    ):
        self.unknowns = list(unknowns)
        self.rates = list(rates)
        self.spaces = [u.function_space for u in self.unknowns]
        self.comm = comm if comm is not None else self.spaces[0].mesh.comm
        self.time_constant = time
        self.update = update
        self.scheme = scheme
        self.order = order
        self.rtol = relative_tolerance
        self.atol = absolute_tolerance
        self.field_atol = dict(field_absolute_tolerances or {})
        self.norm = norm
        if max_step_growth is None:
            max_step_growth = 1.5 if scheme == "bdf" and int(order) >= 4 else 10.0
        self.max_step_growth = max_step_growth
        self.snes_options = {
            "snes_type": "newtonls",
            "snes_linesearch_type": "none",
            "ksp_type": "preonly",
            "pc_type": "lu",
            **(snes_options or {}),
        }
        self.ts_options = dict(ts_options or {})
        self.convergence_test = convergence_test
        self.extrapolate = extrapolate
        self.max_step_rejections = max_step_rejections
        self.replay_steps = replay_steps
        self.configure_snes = configure_snes
        self.timer = timer
        self.prefix = f"{name}_{id(self)}_"
        self.shift = fem.Constant(self.spaces[0].mesh, 1.0)
        blocks = _jacobian_forms(residual, self.unknowns, self.rates, self.shift)
        # residual and Jacobian blocks compiled as one module (one C compiler run, not n + n^2)
        self._F, self._J = forms([list(residual), blocks], entity_maps=entity_maps)
        self.matrix = create_matrix(self._J, kind="mpi")
        # make_consistent zeroes rows: keep their entries in the pattern for later assemblies.
        self.matrix.setOption(PETSc.Mat.Option.KEEP_NONZERO_PATTERN, True)
        self._b = create_vector(self.spaces, kind="mpi")
        self.x = create_vector(self.spaces, kind="mpi")
        self._blocks = self._b.getAttr("_blocks")
        self._owned = [(V.dofmap.index_map.size_local * V.dofmap.index_map_bs) for V in self.spaces]
        fields = range(len(self.spaces)) if differential is None else differential
        self._differential_fields = list(fields)
        self._differential = self._mask(self._differential_fields)
        self.set_bcs(bcs)
        self.counts = {"residual": 0, "jacobian": 0}
        self.totals = {
            "steps": 0,
            "rejected_steps": 0,
            "newton_iterations": 0,
            "linear_iterations": 0,
        }
        self.time_s = 0.0
        self._last_rates: tuple[PETSc.Vec, PETSc.Vec] | None = None
        # The last accepted states of the present integrate call (see ReplayHistory).
        self._ring: deque[tuple[float, np.ndarray]] = deque(maxlen=replay_steps + 1)
        self._steps_in_call = 0
        self._locating = False
        self._next_step_s = 0.0
        # Landing times and end time of the present integrate call (TS's evaluation times),
        # and whether TSAdapt holds no cached step at the last accepted step.
        self._evaluation_points: list[float] = []
        self._adapt_clear = False

    # ----------------------------------------------------------------- state
    def set_bcs(self, bcs: Sequence[fem.DirichletBC]) -> None:
        """Replace the Dirichlet conditions (takes effect at the next integrate call)."""
        self.bcs = list(bcs)
        self._bcs_by_block = fem.bcs_by_block(fem.extract_function_spaces(self._F), self.bcs)

    def _mask(self, items) -> np.ndarray:
        """Owned entries of fields (an index) or of components of blocked fields (a pair)."""
        offsets = self._blocks[0]
        mask = np.zeros(offsets[-1], dtype=bool)
        for item in items:
            if isinstance(item, tuple | list):
                i, component = item
                block_size = self.spaces[i].dofmap.index_map_bs
                mask[offsets[i] + component : offsets[i + 1] : block_size] = True
            else:
                mask[offsets[item] : offsets[item + 1]] = True
        return mask

    def _duplicate(self, vector: PETSc.Vec) -> PETSc.Vec:
        """A new vector of the monolithic layout (with dolfinx's block offsets attached)."""
        new = vector.duplicate()
        new.setAttr("_blocks", self._blocks)
        return new

    def _load(self, vector: PETSc.Vec, functions: Sequence[fem.Function]) -> None:
        """Owned entries of a monolithic vector into the functions, ghosts scattered."""
        array = vector.getArray(readonly=True)
        offsets = self._blocks[0]
        for i, function in enumerate(functions):
            function.x.array[: self._owned[i]] = array[offsets[i] : offsets[i + 1]]
            function.x.scatter_forward()

    def _store(self, functions: Sequence[fem.Function], vector: PETSc.Vec) -> None:
        """Owned entries of the functions into a monolithic vector."""
        array = vector.getArray()
        offsets = self._blocks[0]
        for i, function in enumerate(functions):
            array[offsets[i] : offsets[i + 1]] = function.x.array[: self._owned[i]]

    def _set_time(self, t: float) -> None:
        if self.time_constant is not None:
            self.time_constant.value = t
        if self.update is not None:
            self.update(t)

    def _state_at(self, t: float, vector: PETSc.Vec) -> None:
        """Load a state and its time (for events and outputs)."""
        self._load(vector, self.unknowns)
        self._set_time(t)

    def checkpointable(self) -> bool:
        """Whether :meth:`history` can resume the present integration exactly.

        True at an accepted step at least :data:`REPLAY_STEPS` + 1 steps after the start of
        the :meth:`integrate` call, while no event is being located (no indicator has changed
        sign since the last accepted step; after a located event, for the rest of the call),
        before the end time and where TSAdapt keeps no step across the next one
        (:meth:`_adapt_keeps_nothing`).
        """
        return (
            len(self._ring) == self.replay_steps + 1
            and self._steps_in_call > self.replay_steps
            and not self._locating
            and self._adapt_clear
        )

    def _next_evaluation_point(self, t: float) -> float | None:
        """The first landing time or end time after t (None: t is at the end)."""
        later = [p for p in self._evaluation_points if p > t]
        return later[0] if later else None

    def _adapt_keeps_nothing(self, t: float, next_step: float, last_step: float) -> bool:
        """Whether TSAdapt holds no step in its cache after the accepted step ending at t.

        With ``TS_EXACTFINALTIME_MATCHSTEP`` TSAdapt cuts a proposed step that would pass the
        next landing time (or the end time) to end on it, or to half the way there, and keeps
        the uncut proposal (``dt_eval_times_cached`` in PETSc 3.25's ``TSAdaptChoose``) to
        restore it after the landing: state carried from step to step that a resumed TS
        would not have. So a state is resumable only where its proposed next step was not cut
        (it is neither the distance to the next landing time nor half of it) and t is not
        within PETSc's closeness tolerance of that landing time (then PETSc counts it as
        reached). A resumed integration replays with steps proposals kept below a quarter
        of that distance, so that the replay leaves the cache empty too.
        """
        target = self._next_evaluation_point(t)
        if target is None:
            return False
        gap = target - t
        # PETSc's closeness: |t - target| <= (1e-6 h + 10 eps) max(|t|, |target|), h a step;
        # tested with 10 times that tolerance and the largest step in play.
        tolerance = (1e-5 * max(next_step, last_step, gap) + 1e-12) * max(abs(t), abs(target))
        if gap <= tolerance:
            return False
        return all(abs(next_step - cut) > 1e-9 * gap for cut in (gap, 0.5 * gap))

    def history(self) -> ReplayHistory:
        """The last accepted steps (valid where :meth:`checkpointable`)."""
        if not self.checkpointable():
            raise RuntimeError("no resumable history at this step")
        return ReplayHistory(
            times=np.array([t for t, _ in self._ring]),
            states=np.stack([state for _, state in self._ring]),
            next_step_s=self._next_step_s,
            steps_in_call=self._steps_in_call,
            totals=dict(self.totals),
            counts=dict(self.counts),
        )

    # ----------------------------------------------------------- assembly
    def _residual(self, ts, t, x, x_dot, f) -> None:
        if self.timer is None:
            self._assemble_residual(t, x, x_dot, f)
        else:
            with self.timer.phase("residual"):
                self._assemble_residual(t, x, x_dot, f)

    def _assemble_residual(self, t, x, x_dot, f) -> None:
        self.counts["residual"] += 1
        if self._last_rates is not None:
            # The state and rates of the last evaluation (a converged Newton solve ends with one).
            x.copy(self._last_rates[0])
            x_dot.copy(self._last_rates[1])
        self._load(x, self.unknowns)
        self._load(x_dot, self.rates)
        self._set_time(t)
        b = self._b
        with b.localForm() as local:
            local.set(0.0)
        assemble_vector(b, self._F)
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        set_bc(b, self._bcs_by_block, x0=x, alpha=-1.0)
        f.getArray()[:] = b.getArray(readonly=True)

    def _jacobian(self, ts, t, x, x_dot, shift, J, P) -> None:
        if self.timer is None:
            self._assemble_jacobian(t, x, x_dot, shift, J, P)
        else:
            with self.timer.phase("jacobian"):
                self._assemble_jacobian(t, x, x_dot, shift, J, P)

    def _assemble_jacobian(self, t, x, x_dot, shift, J, P) -> None:
        self.counts["jacobian"] += 1
        self._load(x, self.unknowns)
        self._load(x_dot, self.rates)
        self._set_time(t)
        self.shift.value = shift
        P.zeroEntries()
        assemble_matrix(P, self._J, self.bcs, diag=1.0)
        P.assemble()
        if J != P:
            J.assemble()

    def _configure_snes(
        self, snes: PETSc.SNES, prefix: str, lagging: bool = True, step=None
    ) -> None:
        """Newton options under ``prefix`` (Jacobian lagging only where ``lagging``).

        ``step``: a function returning the time step the convergence test is told.
        """
        options = PETSc.Options()
        snes.setOptionsPrefix(prefix)
        chosen = {
            k: v for k, v in self.snes_options.items() if lagging or not k.startswith("snes_lag")
        }
        for key, value in chosen.items():
            options[f"{prefix}{key}"] = value
        snes.setFromOptions()
        for key in chosen:
            del options[f"{prefix}{key}"]
        if self.convergence_test is not None:
            # The test alone judges convergence: PETSc's Newton line search declares a step
            # below stol |x| "converged (SNORM_RELATIVE)" by itself when the line search
            # failed, whatever the residual (an update that overflowed, as sinh of
            # Butler-Volmer at ~50 V, ended so at residual 1.3 and TS accepted the predictor).
            snes.setTolerances(stol=0.0)
            test = self.convergence_test

            def converged(snes, iteration, norms):
                xnorm, step_norm, fnorm = norms
                return test(iteration, xnorm, step_norm, fnorm, step())

            snes.setConvergenceTest(converged)
        if self.configure_snes is not None:
            self.configure_snes(snes)

    # ------------------------------------------------------ consistency
    def make_consistent(
        self,
        t: float,
        held: Sequence[int] | None = None,
        rate_step_s: float | None = None,
        reference: Sequence[np.ndarray] | None = None,
    ) -> int:
        """Unknowns consistent with the held ones at time t (collective).

        Newton on F(t, u, u_dot) = 0 with the held fields fixed at their reference values
        (their rows replaced by u_h - u_h(reference), identity rows in the Jacobian), from the
        present unknowns. Dirichlet values are set first. Without ``rate_step_s`` u_dot = 0: the
        algebraic rows alone, exact for semi-explicit index-1 DAEs (hold every field whose rows
        contain time derivatives). With it, u_dot = (u - u_reference) / rate_step_s (one
        implicit Euler step of that length from the reference): fields with time derivatives
        that are not held (potentials across a double layer) move as they would in that step.

        Args:
            t: The time.
            held: Fields held (default: the differential ones), each an index or a
                (field, component) pair as in ``differential``.
            rate_step_s: Length of the implicit Euler step that gives u_dot (None: u_dot = 0).
            reference: State (one array per field, local values) the held fields keep and the
                rates start from (default: the present unknowns).

        Returns:
            Newton iterations used.

        Raises:
            IntegrationFailure: if Newton does not converge (the unknowns are left as they were).
        """
        x0 = self._duplicate(self.x)
        present = [u.x.array.copy() for u in self.unknowns]
        if reference is not None:
            for function, values in zip(self.unknowns, reference, strict=True):
                function.x.array[:] = values
        self._store(self.unknowns, x0)
        for function, values in zip(self.unknowns, present, strict=True):
            function.x.array[:] = values
        held_mask = self._mask(self._differential_fields if held is None else held)
        rate = self._duplicate(x0)
        start = self.matrix.getOwnershipRange()[0]
        rows = (np.flatnonzero(held_mask) + start).astype(PETSc.IntType)
        shift = 0.0 if rate_step_s is None else 1.0 / rate_step_s

        def residual(snes, x, f):
            rate.getArray()[:] = shift * (x.getArray(readonly=True) - x0.getArray(readonly=True))
            self._residual(None, t, x, rate, f)
            array = f.getArray()
            array[held_mask] = (
                x.getArray(readonly=True)[held_mask] - x0.getArray(readonly=True)[held_mask]
            )

        def jacobian(snes, x, J, P):
            rate.getArray()[:] = shift * (x.getArray(readonly=True) - x0.getArray(readonly=True))
            self._jacobian(None, t, x, rate, shift, J, P)
            P.zeroRows(rows, diag=1.0)

        snes = PETSc.SNES().create(self.comm)
        f = self._duplicate(x0)
        snes.setFunction(residual, f)
        snes.setJacobian(jacobian, self.matrix, self.matrix)
        step = np.inf if rate_step_s is None else rate_step_s
        self._configure_snes(snes, self.prefix + "init_", lagging=False, step=lambda: step)
        x = self._duplicate(x0)
        self._store(self.unknowns, x)
        x.getArray()[held_mask] = x0.getArray(readonly=True)[held_mask]
        set_bc(x, self._bcs_by_block)
        snes.solve(None, x)
        iterations = snes.getIterationNumber()
        reason = snes.getConvergedReason()
        self.totals["linear_iterations"] += snes.getLinearSolveIterations()
        snes.destroy()
        self.totals["newton_iterations"] += iterations
        converged = reason > 0 and np.isfinite(x.norm())
        if converged:
            self._load(x, self.unknowns)
            self._set_time(t)
        for v in (x0, rate, f, x):
            v.destroy()
        if not converged:
            raise IntegrationFailure(
                f"no consistent state at t = {t:.6g} s (Newton: {_snes_reason(reason)})"
            )
        self.time_s = t
        return iterations

    def _free(self, *vectors: PETSc.Vec) -> None:
        """Destroy an integration's work vectors (and the cached step rates)."""
        if self._last_rates is not None:
            vectors = (*vectors, *self._last_rates)
            self._last_rates = None
        for v in vectors:
            v.destroy()

    def _load_step_rates(self, ts: PETSc.TS) -> None:
        """The accepted step's BDF rates into the rate functions.

        They are those of the last residual evaluation when it was at the accepted state (the
        usual case: Newton's convergence test evaluates the residual at its last iterate), else
        the derivative at the step's end of TS's interpolating polynomial (one-sided second-order
        difference over 1e-4 of the step: relative error ~1e-8).
        """
        state, rates = self._last_rates
        solution = ts.getSolution()
        same = np.array_equal(state.getArray(readonly=True), solution.getArray(readonly=True))
        if not self.comm.allreduce(same, op=MPI.LAND):
            t, step = ts.getTime(), ts.getTime() - ts.getPrevTime()
            delta = 1e-4 * step
            one, two = self._duplicate(solution), self._duplicate(solution)
            ts.interpolate(t - delta, one)
            ts.interpolate(t - 2 * delta, two)
            rates.getArray()[:] = (
                3 * solution.getArray(readonly=True)
                - 4 * one.getArray(readonly=True)
                + two.getArray(readonly=True)
            ) / (2 * delta)
            one.destroy()
            two.destroy()
        self._load(rates, self.rates)

    def drop_structural_zeros(self) -> None:
        """Assemble the Jacobian into a matrix without its structural zeros from now on.

        Vertex-quadrature terms couple the unknowns of one node only, but the pattern of a cell
        integral couples every node of the cell; the entries that are zero at a randomly
        perturbed state are dropped (:func:`electrolyx.jacobian_pattern.compressed_matrix`).
        """
        from .jacobian_pattern import compressed_matrix

        saved = [u.x.array.copy() for u in (*self.unknowns, *self.rates)]
        rng = np.random.default_rng(0)
        for u in (*self.unknowns, *self.rates):
            u.x.array[:] *= 1.0 + 1e-3 * rng.standard_normal(u.x.array.size)
            u.x.array[:] += 1e-3 * rng.standard_normal(u.x.array.size)
        self.shift.value = 1.0
        self.matrix.zeroEntries()
        assemble_matrix(self.matrix, self._J, self.bcs, diag=1.0)
        self.matrix.assemble()
        for u, values in zip((*self.unknowns, *self.rates), saved, strict=True):
            u.x.array[:] = values
        compressed = compressed_matrix(self.matrix)
        compressed.setOption(PETSc.Mat.Option.KEEP_NONZERO_PATTERN, True)
        self.matrix.destroy()
        self.matrix = compressed

    # ---------------------------------------------------------- integration
    def integrate(
        self,
        t0: float,
        t_end: float,
        events: Sequence[Event] = (),
        output_times: Sequence[float] = (),
        on_output: Callable[[float], None] | None = None,
        on_step: Callable[[float], None] | None = None,
        stop: Callable[[float], bool] | None = None,
        landing_times: Sequence[float] = (),
        initial_step_s: float = 1e-6,
        max_step_s: float | None = None,
        event_tolerance: float = 1e-9,
        event_min_step_s: float = 1e-6,
        rates_at_steps: bool = False,
        checkpoint: Callable[[float], bool] | None = None,
        replay: ReplayHistory | None = None,
        fixed_step_s: float | None = None,
        step_cut: float = 0.25,
        initial_guess: Callable[[PETSc.Vec], None] | None = None,
    ) -> IntegrationResult:
        """Integrate from the present state (the unknowns) at t0 to t_end or a terminal event.

        Args:
            t0: Start time (the unknowns hold the state there, consistent or not: call
                :meth:`make_consistent` first after a change of control).
            t_end: End time; the last step lands on it.
            events: Zero crossings to locate.
            output_times: Times in (t0, t_end] at which ``on_output`` is called with the
                (interpolated) state loaded into the unknowns; times after a terminal event
                are skipped.
            on_output: Called with t at each output time.
            on_step: Called with t after every accepted step (state loaded).
            stop: Called with t after every accepted step (state loaded); True stops (user
                stop, reason "stop").
            landing_times: Times in (t0, t_end) the steps must land on (kinks of a control
                such as a piecewise-linear drive cycle), without restarting the history.
            initial_step_s: First step.
            max_step_s: Largest step (None: no limit).
            event_tolerance: |g| below which an indicator counts as zero.
            event_min_step_s: Brackets of an event shorter than this end the location.
            rates_at_steps: In ``on_step`` and ``stop`` the rate functions also hold the step's
                BDF rates du/dt (those its last residual evaluation used), so that outputs that
                contain rates (a consistent boundary flux) see what the solver saw.
            checkpoint: Called with t after every accepted step (after ``on_step``, state
                loaded), where a checkpoint may read :meth:`history`; True stops the
                integration (reason "checkpoint").
            replay: Resume an integration from its :meth:`history` (written by an earlier
                process): ``t0``, ``initial_step_s`` and the present unknowns are ignored; TS
                restarts from the oldest stored state and replays the stored steps (no
                outputs, no callbacks), then goes on as the original integration did.
            fixed_step_s: No error control (TSAdapt "none"): every step tries this step
                (shortened to end on ``t_end``), cut by ``step_cut`` where Newton fails, and
                the next step tries it again; events are still located. ``initial_step_s``
                is ignored.
            step_cut: Factor on a step whose Newton solve failed.
            initial_guess: Called with Newton's initial guess (TS's extrapolation, owned
                entries of the monolithic vector) before every solve; may change it in place
                (a predictor for an algebraic unknown after a change of control).

        Returns:
            Statistics; the unknowns hold the final state.

        While TSEvent locates an event and its bracket has shrunk below ``event_min_step_s``,
        PETSc steps to the bracket's right end once more ("revisiting") and stops with an
        internal error if that step did not land there (TSAdapt cut it after a failed Newton
        solve or error test). Then the integration restarts from the last accepted state
        (within ``event_min_step_s`` of the event) with a new TS, which locates the event
        afresh (at most :data:`EVENT_RESTARTS` times per call).
        """
        start = _time.perf_counter()
        stopped_parts: list[IntegrationResult] = []
        while True:
            try:
                result = self._integrate_once(
                    t0,
                    t_end,
                    events,
                    output_times,
                    on_output,
                    on_step,
                    stop,
                    landing_times,
                    initial_step_s,
                    max_step_s,
                    event_tolerance,
                    event_min_step_s,
                    rates_at_steps,
                    checkpoint,
                    replay,
                    fixed_step_s,
                    step_cut,
                    initial_guess,
                )
                break
            except _EventLocationStopped as stopped:
                if len(stopped_parts) == EVENT_RESTARTS:
                    raise stopped.error from None
                stopped_parts.append(stopped.result)
                # On from the last accepted state, within event_min_step_s of the event.
                t0, state = self._ring[-1]
                self.x.getArray()[:] = state
                self._state_at(t0, self.x)
                output_times = [t for t in stopped.pending if t > t0]
                landing_times = [t for t in landing_times if t > t0]
                initial_step_s = event_min_step_s
        for part in reversed(stopped_parts):
            result.event_times = [*part.event_times, *result.event_times]
            result.steps += part.steps
            result.rejected_steps += part.rejected_steps
            result.newton_iterations += part.newton_iterations
            result.residual_evaluations += part.residual_evaluations
            result.jacobian_evaluations += part.jacobian_evaluations
        result.restarts = len(stopped_parts)
        result.wall_time_s = _time.perf_counter() - start
        return result

    def _integrate_once(
        self,
        t0: float,
        t_end: float,
        events: Sequence[Event],
        output_times: Sequence[float],
        on_output: Callable[[float], None] | None,
        on_step: Callable[[float], None] | None,
        stop: Callable[[float], bool] | None,
        landing_times: Sequence[float],
        initial_step_s: float,
        max_step_s: float | None,
        event_tolerance: float,
        event_min_step_s: float,
        rates_at_steps: bool,
        checkpoint: Callable[[float], bool] | None,
        replay: ReplayHistory | None,
        fixed_step_s: float | None,
        step_cut: float,
        initial_guess: Callable[[PETSc.Vec], None] | None,
    ) -> IntegrationResult:
        """One TS from t0 (:meth:`integrate` starts another on :class:`_EventLocationStopped`)."""
        counts0 = dict(self.counts)
        result = IntegrationResult()
        x = self.x
        self._ring.clear()
        self._steps_in_call = 0
        self._locating = False
        if fixed_step_s is not None:
            initial_step_s = min(fixed_step_s, t_end - t0)
        if replay is not None:
            # Bit for bit the stored oldest state (no Dirichlet values re-applied).
            t0 = float(replay.times[0])
            initial_step_s = float(replay.times[1] - replay.times[0])
            x.getArray()[:] = replay.states[0]
        else:
            self._store(self.unknowns, x)
            set_bc(x, self._bcs_by_block)
        ts = PETSc.TS().create(self.comm)
        ts.setOptionsPrefix(self.prefix)
        ts.setProblemType(PETSc.TS.ProblemType.NONLINEAR)
        f = x.duplicate()
        ts.setIFunction(self._residual, f)
        ts.setIJacobian(self._jacobian, self.matrix, self.matrix)
        ts.setTime(t0)
        ts.setMaxTime(t_end)
        ts.setTimeStep(initial_step_s)
        ts.setMaxSteps(10**9)
        ts.setMaxSNESFailures(-1)
        ts.setMaxStepRejections(self.max_step_rejections)
        ts.setErrorIfStepFails(False)
        ts.setExactFinalTime(PETSc.TS.ExactFinalTime.MATCHSTEP)
        options = PETSc.Options()
        keys = {
            "ts_adapt_type": "basic" if fixed_step_s is None else "none",
            "ts_adapt_scale_solve_failed": step_cut,
            "ts_adapt_wnormtype": self.norm,
            "ts_adapt_clip": f"0.1,{self.max_step_growth}",
            **({"ts_adapt_dt_max": max_step_s} if max_step_s is not None else {}),
            **self.ts_options,
        }
        if self.scheme == "bdf":
            ts.setType(PETSc.TS.Type.BDF)
            keys.setdefault("ts_bdf_order", int(self.order))
            # Newton starts from the BDF polynomial extrapolated to the new time (a better guess
            # for the algebraic unknowns than the last state where they change fast).
            keys.setdefault("ts_bdf_initial_guess_extrapolate", self.extrapolate)
        elif self.scheme == "arkimex":
            ts.setType(PETSc.TS.Type.ARKIMEX)
            ts.setARKIMEXType(str(self.order))
            ts.setARKIMEXFullyImplicit(True)
        else:
            raise ValueError(f"unknown scheme {self.scheme!r} (bdf or arkimex)")
        if events:
            keys["ts_event_dt_min"] = event_min_step_s
        for key, value in keys.items():
            options[f"{self.prefix}{key}"] = value
        # Local-error tolerances: zero on the algebraic entries (left out of the norm).
        vatol, vrtol = x.duplicate(), x.duplicate()
        atol = np.full(self._differential.size, self.atol)
        for index, value in self.field_atol.items():
            atol[self._mask([index])] = value
        vatol.getArray()[:] = np.where(self._differential, atol, 0.0)
        vrtol.getArray()[:] = np.where(self._differential, self.rtol, 0.0)
        replay_tolerance = None
        if replay is not None:
            # Every replay step is accepted (its result is replaced by the stored state).
            replay_tolerance = x.duplicate()
            replay_tolerance.set(_REPLAY_TOLERANCE)
            ts.setTolerances(rtol=replay_tolerance, atol=replay_tolerance)
        else:
            ts.setTolerances(rtol=vrtol, atol=vatol)
        snes = ts.getSNES()
        self._configure_snes(snes, self.prefix, step=ts.getTimeStep)
        if initial_guess is not None:
            snes.setInitialGuess(lambda snes, x: initial_guess(x))
        totals0 = dict(self.totals)
        # Steps, rejections and Newton iterations of TS not counted (those of a replay).
        uncounted = {
            "steps": 0,
            "rejected_steps": 0,
            "newton_iterations": 0,
            "linear_iterations": 0,
        }
        replaying = [replay is not None]
        replayed = [0]

        def update_totals() -> None:
            if replaying[0]:
                return
            self.totals["steps"] = totals0["steps"] + ts.getStepNumber() - uncounted["steps"]
            self.totals["rejected_steps"] = (
                totals0["rejected_steps"] + ts.getStepRejections() - uncounted["rejected_steps"]
            )
            self.totals["newton_iterations"] = (
                totals0["newton_iterations"]
                + ts.getSNESIterations()
                - uncounted["newton_iterations"]
            )
            self.totals["linear_iterations"] = (
                totals0["linear_iterations"]
                + ts.getKSPIterations()
                - uncounted["linear_iterations"]
            )

        if events:
            directions = [e.direction for e in events]
            terminate = [e.terminal for e in events]
            accepted_values = [None]
            latest_values = [None]

            def indicator(ts, t, u, values):
                if replaying[0]:
                    # The stored state of this replay step (the first call: the start).
                    k = 0 if latest_values[0] is None else replayed[0] + 1
                    work.getArray()[:] = replay.states[k]
                    t, u = float(replay.times[k]), work
                self._state_at(t, u)
                for k, event in enumerate(events):
                    values[k] = event.indicator(t)
                latest = np.array(values, dtype=float)
                if latest_values[0] is None:
                    accepted_values[0] = latest
                else:
                    # A sign change (or a zero) since the last accepted step: TSEvent locates
                    # it with trial steps from now on, which a replay would not repeat.
                    before = accepted_values[0]
                    crossed = (np.abs(latest) <= event_tolerance) | (
                        np.sign(latest) != np.sign(before)
                    )
                    if np.any(crossed):
                        self._locating = True
                latest_values[0] = latest

            def postevent(ts, fired, t, u, forward):
                for k in fired:
                    result.event_times.append((t, events[k].name))
                    if events[k].terminal:
                        result.event = events[k].name

            ts.setEventHandler(directions, terminate, indicator, postevent)
            ts.setEventTolerances(tol=event_tolerance)
        resume_time = float(replay.times[-1]) if replay is not None else t0
        pending = sorted(float(t) for t in output_times if resume_time < t <= t_end)
        work = x.duplicate()
        stopped = []
        checkpointed = []

        def remember(t: float) -> None:
            """The accepted state into the history of the call."""
            self._steps_in_call += 1
            self._next_step_s = ts.getTimeStep()
            last_step = t - self._ring[-1][0] if self._ring else self._next_step_s
            self._adapt_clear = self._adapt_keeps_nothing(t, self._next_step_s, last_step)
            self._ring.append((t, ts.getSolution().getArray(readonly=True).copy()))
            if events and latest_values[0] is not None:
                accepted_values[0] = latest_values[0]

        def replay_step(ts) -> None:
            """Overwrite a replay step's result with the stored state, time and next step."""
            replayed[0] += 1
            k = replayed[0]
            solution = ts.getSolution()
            # TSPostStep restarts TSBDF (order 1, history dropped) when the solution's object
            # state changed in the callback: the stored values go in under the same state.
            # (Cached norms of the solution vector go stale; neither TSBDF nor TSAdapt reads
            # them: the history is combined by VecMAXPY, error norms are taken entrywise.)
            state = solution.stateGet()
            solution.getArray()[:] = replay.states[k]
            solution.stateSet(state)
            ts.setTime(float(replay.times[k]))
            last = k == len(replay.times) - 1
            next_step = replay.next_step_s if last else replay.times[k + 1] - replay.times[k]
            ts.setTimeStep(float(next_step))
            remember(float(replay.times[k]))
            if not last:
                return
            # The history now holds original states only: go on as the original run.
            replaying[0] = False
            ts.setStepLimits(*step_limits)
            self._steps_in_call = replay.steps_in_call
            ts.setTolerances(rtol=vrtol, atol=vatol)
            uncounted["steps"] = ts.getStepNumber()
            uncounted["rejected_steps"] = ts.getStepRejections()
            uncounted["newton_iterations"] = ts.getSNESIterations()
            uncounted["linear_iterations"] = ts.getKSPIterations()
            totals0.update(replay.totals)
            self.totals.update(replay.totals)
            self.counts.update(replay.counts)
            counts0.update(replay.counts)

        def poststep(ts):
            if replaying[0]:
                replay_step(ts)
                return
            update_totals()
            t, t_prev = ts.getTime(), ts.getPrevTime()
            if fixed_step_s is not None and not self._locating and t < t_end:
                # Back to the fixed step after a cut, shortened to end on t_end.
                ts.setTimeStep(min(fixed_step_s, t_end - t))
            remember(t)
            while pending and pending[0] <= t * (1 + 1e-14) + 1e-14:
                t_out = pending.pop(0)
                if abs(t_out - t) <= 1e-12 * max(1.0, abs(t)) or t_out < t_prev:
                    self._state_at(t, ts.getSolution())
                else:
                    ts.interpolate(t_out, work)
                    self._state_at(t_out, work)
                if on_output is not None:
                    on_output(t_out)
            if on_step is not None or stop is not None:
                self._state_at(t, ts.getSolution())
                if rates_at_steps:
                    self._load_step_rates(ts)
                if on_step is not None:
                    on_step(t)
                if stop is not None and stop(t):
                    stopped.append(t)
                    ts.setConvergedReason(PETSc.TS.ConvergedReason.CONVERGED_USER)
            if checkpoint is not None and not stopped:
                self._state_at(t, ts.getSolution())
                if checkpoint(t):
                    checkpointed.append(t)
                    ts.setConvergedReason(PETSc.TS.ConvergedReason.CONVERGED_USER)

        if rates_at_steps:
            self._last_rates = (self._duplicate(x), self._duplicate(x))
        ts.setPostStep(poststep)
        ts.setFromOptions()
        for key in keys:
            del options[f"{self.prefix}{key}"]
        landings = sorted(float(t) for t in landing_times if t0 < t < t_end)
        if replay is not None:
            # Landing times inside the replayed steps were landed on by the original run.
            landings = [t for t in landings if t > resume_time]
        self._evaluation_points = [*landings, float(t_end)]
        step_limits = ts.getStepLimits()
        if replay is not None:
            # Replay proposals stay below a quarter of the way to the next landing time, so
            # that TSAdapt cuts none and caches no step (see _adapt_keeps_nothing); the
            # proposals are replaced by the stored steps anyway.
            target = self._next_evaluation_point(resume_time)
            if target is not None:
                ts.setStepLimits(
                    step_limits[0], max(0.25 * (target - resume_time), 2 * step_limits[0])
                )
        if landings:
            # The steps land on these times (MATCHSTEP), the history is kept across them.
            ts.setEvaluationTimes([t0, *landings, t_end])
        ts.setSolution(x)
        try:
            ts.solve(x)
        except PETSc.Error as error:
            if not (
                error.ierr == _PETSC_ERR_PLIB
                and events
                and self._locating
                and self._ring
                and replay is None
            ):
                raise
            update_totals()
            result.steps = ts.getStepNumber()
            result.rejected_steps = ts.getStepRejections()
            result.newton_iterations = ts.getSNESIterations()
            self._count_evaluations(result, counts0)
            ts.destroy()
            self._free(f, vatol, vrtol, work)
            raise _EventLocationStopped(result, pending, error) from error
        reason = ts.getConvergedReason()
        update_totals()
        if reason < 0:
            t, dt = ts.getTime(), ts.getTimeStep()
            newton = _snes_reason(snes.getConvergedReason())
            ts.destroy()
            self._free(*(v for v in (f, vatol, vrtol, work, replay_tolerance) if v is not None))
            self._state_at(t, x)
            self.time_s = t
            raise IntegrationFailure(
                f"time step rejected {self.max_step_rejections + 1} times in a row after "
                f"t = {t:.6g} s (the step cut to {dt:.3g} s; last Newton solve: {newton})"
            )
        result.time = ts.getTime()
        result.reason = (
            "event"
            if reason == PETSc.TS.ConvergedReason.CONVERGED_EVENT
            else "stop"
            if stopped
            else "checkpoint"
            if checkpointed
            else "time"
        )
        if result.reason != "event":
            result.event = ""
        result.steps = ts.getStepNumber()
        result.last_step_s = ts.getTimeStep()
        result.rejected_steps = ts.getStepRejections()
        result.newton_iterations = ts.getSNESIterations()
        ts.destroy()
        self._free(*(v for v in (f, vatol, vrtol, work, replay_tolerance) if v is not None))
        self._state_at(result.time, x)
        self.time_s = result.time
        self._count_evaluations(result, counts0)
        return result

    def _count_evaluations(self, result: IntegrationResult, counts0: dict) -> None:
        result.residual_evaluations = self.counts["residual"] - counts0["residual"]
        result.jacobian_evaluations = self.counts["jacobian"] - counts0["jacobian"]
