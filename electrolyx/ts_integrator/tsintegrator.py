"""The :class:`TSIntegrator` class: forms compiled, matrix created, :meth:`~TSIntegrator.integrate`.

Its parts live beside it: :mod:`.assembly`, :mod:`.consistency`, :mod:`.history` and
:mod:`.solve` (see the package docstring for what it does).
"""

from __future__ import annotations

import time as _time
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from mpi4py import MPI
from petsc4py import PETSc

import dolfinx.la
import numpy as np
import ufl
from dolfinx import fem

from ..block_assembly import BlockAssembler, keep_nonzero_pattern
from ..coefficient_views import CoefficientViews
from ..jit import forms
from ..nodal_values import covered_forms
from ..petsc_options import unique_prefix
from .assembly import MonolithicAssembly
from .condensation import CondensedField
from .consistency import ConsistentInitialisation
from .derivatives import NodalTerm, _jacobian_forms, _NodalValues, _with_nodal_values
from .history import REPLAY_STEPS, ReplayCheckpoints, ReplayHistory
from .results import EVENT_RESTARTS, Event, IntegrationResult, _EventLocationStopped
from .solve import TSSolve

#: The most bytes of packed coefficients an integral of a form is assembled with at once
#: (TSIntegrator's ``max_part_bytes``): above, the form is assembled in parts. Each part costs
#: its making (DOLFINx inverts the entity map of each argument on a submesh, O(its cells)): on
#: the 3D half cell at 1 M unknowns its 30 forms became 122 forms over parts of 32 MiB in 11.5
#: s, 64 forms of 64 MiB in 4.4 s (one run each).
MAX_PART_BYTES = 64 * 2**20


class TSIntegrator(MonolithicAssembly, ConsistentInitialisation, ReplayCheckpoints, TSSolve):
    """PETSc TS for the DAE F(t, u, u_dot) = 0 given as UFL block forms (see the package docstring).

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
        omitted_jacobian_blocks: (i, j) pairs of Jacobian blocks dF_i/du_j left out (no
            pattern, no assembly): Newton on an approximate Jacobian, the residual exact (e.g.
            a weak coupling, to make the Jacobian block triangular for a field split).
        step_jacobian_rows: Fields whose Jacobian rows are assembled once per step, at its
            first Newton iteration, and kept for the step's later iterations (the same time
            and shift): a chord method on those rows, the other rows exact, the residual
            exact (rows of weakly nonlinear fields that cost much to assemble: the
            temperature's and the energy accumulators' of a thermal model).
        coupling_jacobian_lag: Steps over which the step rows' blocks in the other fields'
            columns (a thermal model's heat sources' derivatives) are kept: assembled at the
            first Newton iteration of every ``n``-th step, reused at the steps between (the
            step rows' own blocks, which hold the shift, still assembled every step). 1: every
            step. Newton on an approximate Jacobian, the residual exact.
        on_step_rows: Called after every Jacobian of a step with the Newton solver and
            whether the step rows were kept (e.g. to reuse a field split's factorisation of
            those rows), and with (None, False) before each new Newton solver.
        quadrature_fields: Running integrals q_i with rows m_i dq_i/dt - g_i(t, u) = 0 that
            no other row reads (neither q_i nor its rate), e.g. a thermal model's generated
            and removed energies. Newton iterates without them (their residual rows zero,
            their Jacobian rows the diagonal m_i shift alone); once it has converged each is
            set so that its row vanishes at the converged state: q_i -= F_i / (m_i shift), one
            assembly of their rows per solve instead of one per iteration. BDF integrates them
            with the same formula as the other fields, so they are what the coupled solve gives.
        jacobian_reuse: Newton iterations one Jacobian (and the preconditioner or factorisation
            made from it) may serve within a solve; renewed sooner after an iteration that cut
            the residual norm by less than half, and after a backtracking ("bt") line search
            that found no decrease (which then does not end the solve: it does so only along a
            fresh Jacobian's direction). Each solve starts with a fresh Jacobian. 1: at every
            iteration. Needs a ``convergence_test``; not with ``quadrature_fields``. (PETSc's
            ``snes_lag_jacobian`` renews on a fixed schedule and ends the solve at a failed line
            search.)
        matrix_type: "aij": the Jacobian as one AIJ matrix (for any preconditioner, direct
            solvers included); "nest": one AIJ matrix per block in a nested matrix (MATNEST),
            for a field split over the fields, which then uses the blocks themselves instead
            of copies, and without the transient of a whole-system sparsity pattern
            (:meth:`electrolyx.block_assembly.BlockAssembler.create_matrix`). Not with
            ``step_jacobian_rows``, ``coupling_jacobian_lag`` or ``quadrature_fields``.
        nodal_terms: Expressions of the residual that its integrals evaluate with vertex
            quadrature (:class:`~electrolyx.ts_integrator.derivatives.NodalTerm`, e.g. a
            reaction's current density): the residual reads each from a function filled at
            the nodes before each residual, the Jacobian each and its partial derivatives from
            one filled before each Jacobian, instead of every block evaluating them again.
            The same residual and Jacobian to round-off.
        keep_linear_solver: One linear solver (KSP, its preconditioner and factorisation)
            serves every Newton solver of this integrator, the consistent initialisations' and
            every TS's, so that a direct solver analyses the Jacobian's pattern (ordering,
            symbolic factorisation) once instead of once per Newton solver: after a restart
            only the numeric factorisation is made again. A new one is made after a Newton
            solver that failed (a failed factorisation is not carried on) and for a new
            Jacobian matrix. Not with ``configure_snes`` (a field split set up per solver).
        condensed_field: A field whose rows' block on itself is diagonal (an algebraic tie of
            one unknown per node, e.g. a logarithm of another field), eliminated exactly from
            Newton's linear systems: the direct solver factorises the Schur complement of the
            other fields, assembled after every Jacobian, instead of the whole Jacobian
            (:class:`.condensation.CondensedField`; the same Newton iterates to round-off).
            Only with the single matrix and the integrator's own direct solver.
        coefficients_on: The mesh the forms integrate over, where the unknowns (and rates)
            live on its submeshes (``entity_maps``): the compiled forms read them through
            P1 copies on this mesh (:class:`electrolyx.coefficient_views.CoefficientViews`,
            refreshed before every assembly), so that they keep no copy of their entity lists
            per unknown; the same integrals, the Jacobian still derived from the unknowns.
        max_part_bytes: Forms with an integral whose packed coefficients would take more
            bytes are assembled as forms over consecutive parts of its entities, each within
            this (:meth:`electrolyx.block_assembly.BlockAssembler.split_forms`): the same
            residual and Jacobian (bit for bit in serial), with the coefficients packed for
            one part at a time instead of the whole mesh. None: never split.

    Attributes:
        matrix: The Jacobian (AIJ, or nested as ``matrix_type`` says).
        counts: Residual and Jacobian assemblies so far.
        totals: Accepted steps, rejected steps, Newton and linear iterations of all calls so far
            (updated after every accepted step; :meth:`make_consistent` adds its iterations).
        time_s: Time of the state held by the unknowns after the last call.
        compiled_events: Whether events given as :class:`AffineIndicator` are evaluated in C
            where the compiled loop assembles (the same values bit for bit; False: always by
            their Python ``indicator``).
    """

    compiled_events: bool = True

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
        omitted_jacobian_blocks: Sequence[tuple[int, int]] = (),
        step_jacobian_rows: Sequence[int] = (),
        on_step_rows: Callable[[PETSc.SNES, bool], None] | None = None,
        quadrature_fields: Sequence[int] = (),
        coupling_jacobian_lag: int = 1,
        jacobian_reuse: int = 1,
        matrix_type: str = "aij",
        nodal_terms: Sequence[NodalTerm] = (),
        keep_linear_solver: bool = False,
        condensed_field: int | None = None,
        coefficients_on: dolfinx.mesh.Mesh | None = None,
        max_part_bytes: int | None = MAX_PART_BYTES,
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
        if keep_linear_solver and configure_snes is not None:
            raise ValueError(
                "keep_linear_solver=True does not go with configure_snes (a preconditioner set "
                "up anew for every Newton solver); pass one of them"
            )
        self.keep_linear_solver = keep_linear_solver
        if condensed_field is not None and (configure_snes is not None or matrix_type != "aij"):
            raise ValueError(
                "condensed_field needs the single matrix (matrix_type 'aij') and PETSc's direct "
                "solver set up by the integrator (no configure_snes)"
            )
        # The linear solver the Newton solvers share (keep_linear_solver), once made.
        self._linear_solver: PETSc.KSP | None = None
        self.timer = timer
        self.prefix = unique_prefix(name)
        self.shift = fem.Constant(self.spaces[0].mesh, 1.0)
        self._quadrature = frozenset(quadrature_fields)
        # A quadrature field's row keeps only its diagonal block (see quadrature_fields).
        omitted = {*omitted_jacobian_blocks}
        omitted |= {(i, j) for i in self._quadrature for j in range(len(residual)) if j != i}
        nodal = [_NodalValues(term, self.unknowns, self.rates) for term in nodal_terms]
        # The residual's and the nodal terms' vertex-quadrature integrals over covers of their
        # nodes (nodal_values.covered_forms: each node's integrand evaluated once or a few
        # times instead of once per cell around it), the Jacobian blocks derived from them.
        count = len(nodal)
        covered = covered_forms(
            [
                *(_with_nodal_values(form, nodal) for form in residual),
                *(term.form for term in nodal),
                *(term.value_form for term in nodal),
                *(term.weight_form for term in nodal),
            ]
        )
        shared = covered[: len(residual)]
        nodal_ufl = [covered[len(residual) + k * count :][:count] for k in range(3)]
        blocks = _jacobian_forms(
            shared, self.unknowns, self.rates, self.shift, frozenset(omitted), nodal
        )
        self.views = None
        if coefficients_on is not None:
            # (after the derivatives: a view is a coefficient, not the unknown)
            self.views = CoefficientViews(
                coefficients_on, [*self.unknowns, *self.rates], entity_maps or ()
            )
            shared = [self.views.replace(form) for form in shared]
            blocks = [[self.views.replace(block) for block in row] for row in blocks]
            nodal_ufl = [[self.views.replace(form) for form in kind] for kind in nodal_ufl]
        # residual and Jacobian blocks compiled as one module (one C compiler run, not n + n^2)
        residual_forms, jacobian_forms, nodal_forms, value_forms, weight_forms = forms(
            [shared, blocks, *nodal_ufl], entity_maps=entity_maps
        )
        for term, weight_form in zip(nodal, weight_forms, strict=True):
            weights = fem.assemble_vector(weight_form)
            weights.scatter_reverse(dolfinx.la.InsertMode.add)
            weights.scatter_forward()
            # (nodes outside the measure's cells, weight 0, are never read: left 0)
            inverse = term.inverse_weight.x.array
            inverse[:] = 0.0
            np.divide(1.0, weights.array, out=inverse, where=weights.array != 0.0)
        self._assembler = BlockAssembler(
            residual_forms,
            jacobian_forms,
            nodal=[
                (form, term.values, term.value)
                for form, term in zip(nodal_forms, nodal, strict=True)
            ],
            nodal_residual=[
                (form, term.value, None) for form, term in zip(value_forms, nodal, strict=True)
            ],
            before_assembly=None if self.views is None else self.views.update,
        )
        if matrix_type not in ("aij", "nest"):
            raise ValueError(f'matrix_type = "{matrix_type}": must be "aij" or "nest"')
        if matrix_type == "nest" and (
            step_jacobian_rows or coupling_jacobian_lag > 1 or quadrature_fields
        ):
            raise ValueError(
                'matrix_type = "nest" is not for step_jacobian_rows, coupling_jacobian_lag '
                "or quadrature_fields (they change rows and entries of a single matrix)"
            )
        self.matrix_type = matrix_type
        self.matrix = self._assembler.create_matrix("mpi" if matrix_type == "aij" else "nest")
        keep_nonzero_pattern(self.matrix)
        if max_part_bytes is not None:
            self._assembler.split_forms(max_part_bytes, entity_maps)
        # (the assembler holds the forms, or their parts: the whole forms go now, not at the end)
        del residual_forms, jacobian_forms
        self._b = self._assembler.create_vector("mpi")
        self.x = self._assembler.create_vector("mpi")
        self._blocks = self._b.getAttr("_blocks")
        self._owned = self._assembler.owned
        fields = range(len(self.spaces)) if differential is None else differential
        self._differential_fields = list(fields)
        self._differential = self._mask(self._differential_fields)
        # The field eliminated from the linear systems (see condensed_field), or None.
        self._condensed = (
            None
            if condensed_field is None
            else CondensedField(
                self.comm, self._mask([condensed_field]), self.matrix.getOwnershipRange()[0]
            )
        )
        self._quadrature_rows = np.flatnonzero(self._mask(sorted(self._quadrature)))
        if self._quadrature and convergence_test is None:
            raise ValueError("quadrature_fields are solved after a convergence_test's verdict")
        if jacobian_reuse < 1:
            raise ValueError(f"jacobian_reuse = {jacobian_reuse}: must be >= 1")
        if jacobian_reuse > 1 and (convergence_test is None or self._quadrature):
            raise ValueError("jacobian_reuse > 1 needs a convergence_test and no quadrature_fields")
        self.jacobian_reuse = jacobian_reuse
        # Within a Newton solve with jacobian_reuse > 1: whether the next Jacobian request
        # keeps the present one, the iterations it has served, the last residual norm.
        self._keep_jacobian = False
        self._jacobian_uses = 0
        self._last_norm = np.inf
        self.set_bcs(bcs)
        # Rows kept through a step (see step_jacobian_rows): the fields, the global indices
        # of the other owned rows (zeroed and assembled at every iteration), and the (time,
        # shift) the kept rows were assembled at (None: assemble them at the next Jacobian).
        self._step_fields = frozenset(step_jacobian_rows)
        start = self.matrix.getOwnershipRange()[0]
        fresh = ~self._mask(sorted(self._step_fields))
        self._fresh_rows = (np.flatnonzero(fresh) + start).astype(PETSc.IntType)
        self._step_key: tuple[float, float] | None = None
        self._step_rows_kept = False
        # The step rows' blocks in the other fields' columns, assembled every
        # coupling_jacobian_lag-th step (see _lagged_matrix): the blocks, their matrix, the
        # handle of the Jacobian it was made for, the steps since its assembly.
        if coupling_jacobian_lag < 1:
            raise ValueError(f"coupling_jacobian_lag = {coupling_jacobian_lag}: must be >= 1")
        self.coupling_jacobian_lag = coupling_jacobian_lag
        self._lagged_blocks = frozenset(
            (i, j)
            for i, j, _ in self._assembler._blocks
            if coupling_jacobian_lag > 1 and i in self._step_fields and j not in self._step_fields
        )
        self._lagged: PETSc.Mat | None = None
        self._lagged_of: int | None = None
        self._lagged_age: int | None = None
        self._pattern_grows = False
        self.lagged_assemblies = 0
        self.on_step_rows = on_step_rows
        self.counts = {"residual": 0, "jacobian": 0}
        self.totals = {
            "steps": 0,
            "rejected_steps": 0,
            "newton_iterations": 0,
            "linear_iterations": 0,
        }
        self.time_s = 0.0
        self._last_rates: tuple[PETSc.Vec, PETSc.Vec] | None = None
        # TS's residual and Jacobian as C functions, while an integration uses them
        # (_compiled_residual, _compiled_jacobian)
        self._c_residual = None
        self._c_jacobian = None
        # TSEvent's indicator in C, while TS calls it (_indicator_in_c)
        self._c_indicator = None
        # Newton's convergence test screened in C (_install_screen): (absolute tolerance,
        # relative decrease, step, iterations) of a convergence_test that answers "converged"
        # below the first and "iterating" unless one of the others is met (None: not used);
        # the screens of the Newton solvers in use
        self.convergence_screen: tuple[float, float, float, int] | None = None
        self._screens: dict = {}
        # Newton's present solve started from the last accepted state (_start_from_last_state).
        self._iterate_once = False
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
        self._assembler.set_bcs(self.bcs)
        self._lagged_age = None  # (lagged blocks assembled anew: their columns' conditions)

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
        last_state_guess: Callable[[np.ndarray, int], bool] | None = None,
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
            last_state_guess: Called before every Newton solve with the last accepted state
                (owned entries of the monolithic vector) and the number of Newton failures
                since it was accepted; where it returns True, Newton starts from that state
                instead of TS's extrapolation (before ``initial_guess``) and takes at least
                one iteration.

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
                    last_state_guess,
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
