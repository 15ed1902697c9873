"""The monolithic state and its assembly: what TS's callbacks and Newton's solver need.

States move between the unknowns' functions and one PETSc vector over all fields (owned
entries, dolfinx's block offsets); the residual and Jacobian are assembled into it and into
one AIJ matrix; Newton's options and convergence test are set on every new solver.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mpi4py import MPI
from petsc4py import PETSc

import numpy as np
from dolfinx import fem

from ..block_assembly import keep_nonzero_pattern, nested_blocks


def _petsc_function(name: str, arguments: int):
    """PETSc's C function ``name`` through ctypes: ``arguments`` addresses in, an error code out.

    For TSSetIFunction, TSSetIJacobian and SNESSetConvergenceTest, which petsc4py sets only
    with Python callbacks (:func:`electrolyx.compiled_assembly.petsc_function`).
    """
    import ctypes

    from ..compiled_assembly import petsc_function

    return petsc_function(name, [ctypes.c_void_p] * arguments)


def _snes_reason(reason: int) -> str:
    """Name of a SNES converged reason (e.g. DIVERGED_MAX_IT)."""
    names = {v: k for k, v in vars(PETSc.SNES.ConvergedReason).items() if isinstance(v, int)}
    return names.get(reason, str(reason))


class MonolithicAssembly:
    """States, residual and Jacobian of :class:`TSIntegrator` on the monolithic layout."""

    #: the unknowns' and rates' load targets, made at their first load
    _kept_load_targets: dict | None = None
    #: What the unknowns were last loaded from by _state_at (None: unknown).
    _state_loaded: tuple | None = None

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

    def owned_rows(self, field: int, dofs: np.ndarray) -> np.ndarray:
        """Positions in the owned monolithic array of a field's local ``dofs`` (ghosts dropped).

        ``dofs`` are block indices of the field's space (as ``locate_dofs_topological`` gives
        them); each stands for its ``block size`` rows.
        """
        space = self.spaces[field]
        owned = space.dofmap.index_map.size_local
        block_size = space.dofmap.index_map_bs
        dofs = np.asarray(dofs, dtype=np.int64)
        dofs = dofs[dofs < owned]
        rows = (block_size * dofs[:, None] + np.arange(block_size)).ravel()
        return self._blocks[0][field] + rows

    def judged_residual(self) -> np.ndarray:
        """Owned entries of the residual at the iterate being judged.

        Call it from a convergence test: Newton's residual vector then holds F at its present
        iterate.
        """
        return self._judged_snes.getFunction()[0].getArray(readonly=True)

    def judged_round_off(self) -> np.ndarray:
        """Each owned row's round-off eps |J_ii x_i| at the iterate being judged.

        For a convergence test (call it from one), row by row, as :meth:`storage_round_off`
        sums it over the differential rows: the residual a row cannot get below, however
        Newton iterates. Its diagonal holds the row's storage and its stiffness (a conduction
        or migration term's K_ii), so a field stored to eps |x| leaves eps |J_ii x_i| in its
        row: a temperature risen by 14 K leaves ~2e-9 in the pouch's heat-equation rows.
        """
        snes = self._judged_snes
        diagonal = snes.getJacobian()[0].getDiagonal()
        values = diagonal.getArray(readonly=True) * snes.getSolution().getArray(readonly=True)
        diagonal.destroy()
        return np.finfo(float).eps * np.abs(values)

    def _duplicate(self, vector: PETSc.Vec) -> PETSc.Vec:
        """A new vector of the monolithic layout (with dolfinx's block offsets attached)."""
        new = vector.duplicate()
        new.setAttr("_blocks", self._blocks)
        return new

    def _load(self, vector: PETSc.Vec, functions: Sequence[fem.Function]) -> None:
        """Owned entries of a monolithic vector into the functions, ghosts scattered."""
        if functions is self.unknowns:
            self._state_loaded = None
            if self._c_indicator is not None:
                self._c_indicator.forget()
        array = vector.getArray(readonly=True)
        targets = self._load_targets(functions)
        if callable(targets):
            targets(array)  # (the compiled loop's copy: serial, no ghosts)
            return
        offsets = self._blocks[0]
        for i, (values, scatter) in enumerate(targets):
            values[: self._owned[i]] = array[offsets[i] : offsets[i + 1]]
            if scatter is not None:
                scatter()

    def _load_targets(self, functions: Sequence[fem.Function]) -> list | Callable:
        """Each function's value array and ghost update (none on one rank: no ghosts).

        Those of the unknowns and the rates, loaded at every residual and Jacobian, are made
        once (an array is a view of its function's storage, which never moves); where the
        compiled loop assembles (serial 1D), they are loaded by one C call instead (11 fields:
        4.3 us per load in Python, 4640 loads per cycle of the ageing bench).
        """
        if functions is self.unknowns or functions is self.rates:
            if self._kept_load_targets is None:
                compiled = self._assembler.compiled
                self._kept_load_targets = {
                    id(listed): (
                        compiled.loader(listed)
                        if compiled is not None
                        else self._targets_of(listed)
                    )
                    for listed in (self.unknowns, self.rates)
                }
            return self._kept_load_targets[id(functions)]
        return self._targets_of(functions)

    def _targets_of(self, functions: Sequence[fem.Function]) -> list:
        parallel = self.comm.size > 1
        return [(f.x.array, f.x.scatter_forward if parallel else None) for f in functions]

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
        """Load a state and its time (for events and outputs).

        The load is skipped where the unknowns hold this vector's values already: loaded by
        the last call, at the same t, the vector unchanged since (PETSc's object state) and no
        residual or Jacobian evaluated in between (each loads its iterate: by :meth:`_load`,
        or in C, counted by :meth:`_compiled_generation`). TS's event indicator loads each
        accepted step and the post-step next reads the same one (~5 us a step; the cycling
        DFN takes ~320 steps a cycle). Reset at each integration's start and end
        (``_integrate_once``), so that nothing written between integrations is missed.
        Serially only: on several ranks a load scatters the ghosts (collective), so that every
        rank must take the same decision; each call loads there.
        """
        serial = self.comm.size == 1
        key = (vector.handle, vector.stateGet(), t, self._compiled_generation()) if serial else None
        if key is None or key != self._state_loaded:
            self._load(vector, self.unknowns)
            self._state_loaded = key
        self._set_time(t)

    def _compiled_generation(self) -> int:
        """The C residual's, Jacobian's and indicator's calls so far, counted or not (a clock)."""
        calls = self.counts["residual"] + self.counts["jacobian"]
        for function in (self._c_residual, self._c_jacobian, self._c_indicator):
            if function is not None:
                calls += function.pending_calls
        return calls

    def _indicator_in_c(self, events, tolerance: float):
        """TSEvent's indicator as a C function (an :class:`IndicatorFunction`), or None.

        Where the compiled loop assembles (serial 1D), for terminal events that are affine
        in scalar forms (:class:`AffineIndicator`), with no ``update`` to call at each time,
        and unless ``compiled_events`` is off: the DFN's voltage and current limits, checked
        at every step (~320 steps a cycle of the ageing bench; ~25 us each in Python).
        """
        from ..compiled_assembly import UnsupportedScalars

        compiled = self._assembler.compiled
        if not self.compiled_events or compiled is None or self.update is not None:
            return None
        if not all(e.affine is not None and e.terminal for e in events):
            return None
        try:
            return compiled.indicator_function(
                self.unknowns, [e.affine for e in events], tolerance, self.time_constant
            )
        except UnsupportedScalars:
            return None

    def _take_indicator_state(self, indicator, ts: PETSc.TS) -> None:
        """After an accepted step: what the C indicator found and loaded, taken over.

        Its sign change (locating), and its load of the step's state: where the unknowns
        still hold it (:meth:`IndicatorFunction.holds`), :meth:`_state_at` does not load it
        again (as after the Python indicator's load).
        """
        if indicator.locating:
            self._locating = True
        solution, t = ts.getSolution(), ts.getTime()
        if indicator.holds(solution, t):
            key = (solution.handle, solution.stateGet(), t, self._compiled_generation())
            self._state_loaded = key

    def _compiled_residual(self, ts: PETSc.TS, f: PETSc.Vec) -> None:
        """TS's residual set to the compiled loop's C function, where it can be.

        Where the compiled loop assembles (serial 1D), with no ``update`` to call at each
        time, no timer and conditions whose values it reads in place: the same residual
        without Python in TS's calls (about 15 us of a 40 us call on the cycling DFN; the
        Jacobian: :meth:`_compiled_jacobian`). Its calls are added to ``counts`` by
        :meth:`_count_compiled_calls`. Otherwise, and where ``_residual`` is replaced on the
        instance, TS calls :meth:`_residual`.
        """
        from ..compiled_assembly import UnsupportedResidual

        self._c_residual = None
        compiled = self._assembler.compiled
        if compiled is None or self.update is not None or self.timer is not None:
            return
        if "_residual" in vars(self):
            return  # (a callback set on this instance, a wrapper's or a test's: TS calls it)
        try:
            residual = compiled.residual_function(
                self.unknowns,
                self.rates,
                skip=self._quadrature,
                last=self._last_rates,
                time=self.time_constant,
            )
        except UnsupportedResidual:
            return
        set_function = _petsc_function("TSSetIFunction", 4)
        error = set_function(ts.handle, f.handle, residual.function, residual.context)
        if error:
            raise RuntimeError(f"TSSetIFunction failed (PETSc error {error})")
        self._c_residual = residual

    def _compiled_jacobian(self, ts: PETSc.TS) -> None:
        """TS's Jacobian set to the compiled loop's C function, where it can be.

        With the C residual (:meth:`_compiled_residual`, whose loads it shares), where the
        Jacobian is assembled whole at every request: no rows kept through a step
        (``step_jacobian_rows``), no lagged blocks, no reuse (``jacobian_reuse``), no condensed
        field (its Schur complement is updated in Python after each Jacobian), no
        ``on_step_rows``, and ``_jacobian`` not replaced on the instance. The same matrix
        without Python in TS's calls (~18 us of a ~100 us call on the cycling DFN).
        """
        from ..compiled_assembly import UnsupportedResidual

        self._c_jacobian = None
        if self._c_residual is None or "_jacobian" in vars(self):
            return
        if self._step_fields or self._lagged_blocks or self.on_step_rows is not None:
            return
        if self.jacobian_reuse != 1 or self._condensed is not None:
            return  # (a condensed field's Schur complement is updated from Python)
        try:
            jacobian = self._assembler.compiled.jacobian_function(
                self._c_residual, self.matrix, self.shift
            )
        except UnsupportedResidual:
            return
        handle = self.matrix.handle
        set_jacobian = _petsc_function("TSSetIJacobian", 5)
        error = set_jacobian(ts.handle, handle, handle, jacobian.function, jacobian.context)
        if error:
            jacobian.release()
            raise RuntimeError(f"TSSetIJacobian failed (PETSc error {error})")
        self._c_jacobian = jacobian

    def _count_compiled_calls(self) -> None:
        """The C residual's and Jacobian's calls since the last count, into ``counts``."""
        if self._c_residual is not None:
            self.counts["residual"] += self._c_residual.take_calls()
        if self._c_jacobian is not None:
            self.counts["jacobian"] += self._c_jacobian.take_calls()

    def _release_compiled_callbacks(self) -> None:
        """Their last calls counted; TS is done with them."""
        self._count_compiled_calls()
        if self._c_jacobian is not None:
            self._c_jacobian.release()
        self._c_residual = self._c_jacobian = self._c_indicator = None

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
        # The quadrature fields' rows zero: Newton leaves them (see _solve_quadrature_rows).
        self._assembler.assemble_vector(b, skip=self._quadrature)
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        self._assembler.set_bc(b, x0=x, alpha=-1.0)
        f.getArray()[:] = b.getArray(readonly=True)

    def _solve_quadrature_rows(self, snes: PETSc.SNES) -> None:
        """The quadrature fields set so that their rows vanish at Newton's converged iterate.

        Called when Newton's test has found the iterate converged (collective), with the
        unknowns and rates of its last residual evaluation loaded. A quadrature field's row
        m (shift q + v) - g(u) is linear in q, with slope m shift: its diagonal in Newton's
        Jacobian, assembled at this solve's time and shift (at its first iteration; assembled
        here if Newton took none). The rates of that evaluation (:meth:`_load_step_rates`)
        follow: shift times q's change.
        """
        x = snes.getSolution()
        if snes.getIterationNumber() == 0:
            # Converged at the initial guess: no Jacobian of this solve (this shift) yet.
            J, P = snes.getJacobian()[:2]
            snes.computeJacobian(x, J, P)
        b = self._b
        # (Only their blocks: b's other entries are scratch, overwritten by the next residual.)
        self._assembler.assemble_vector(b, only=self._quadrature)
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        rows = self._quadrature_rows
        J = snes.getJacobian()[0]
        first = J.getOwnershipRange()[0]
        diagonal = np.array([J.getValue(first + row, first + row) for row in rows.tolist()])
        change = -b.getArray(readonly=True)[rows] / diagonal
        x.getArray()[rows] += change
        if self._last_rates is not None:
            state, rates = self._last_rates
            state.getArray()[rows] += change
            rates.getArray()[rows] += self.shift.value * change

    def _jacobian(self, ts, t, x, x_dot, shift, J, P, skip_rows=frozenset()) -> None:
        if self._keep_jacobian:
            # Reused (jacobian_reuse): P untouched, so the preconditioner is not set up anew.
            self._jacobian_uses += 1
            return
        self._jacobian_uses = 1
        if self.timer is None:
            self._assemble_jacobian(t, x, x_dot, shift, J, P, skip_rows)
        else:
            with self.timer.phase("jacobian"):
                self._assemble_jacobian(t, x, x_dot, shift, J, P, skip_rows)
        if ts is not None and self.on_step_rows is not None:
            self.on_step_rows(ts.getSNES(), self._step_rows_kept)

    def _assemble_jacobian(self, t, x, x_dot, shift, J, P, skip_rows=frozenset()) -> None:
        """J = dF/du + shift dF/du_dot into P.

        The rows of the fields in ``skip_rows`` are left zero, for a caller that replaces them
        (:meth:`make_consistent`: its held fields' identity rows), once P has been assembled:
        its first final assembly drops every preallocated entry nothing was added to, and the
        later assemblies would then miss them (zeroRows finds no diagonal).
        """
        if not P.assembled:
            skip_rows = frozenset()
        self.counts["jacobian"] += 1
        self._load(x, self.unknowns)
        self._load(x_dot, self.rates)
        self._set_time(t)
        self.shift.value = shift
        # The step rows (step_jacobian_rows) as assembled at this step's first iteration.
        key = (t, shift)
        self._step_rows_kept = bool(
            self._step_fields and not skip_rows and P.assembled and key == self._step_key
        )
        lagged = None
        if self._step_rows_kept:
            P.zeroRows(self._fresh_rows, diag=0.0)
            skip_rows = self._step_fields
        else:
            P.zeroEntries()
            self._step_key = key if self._step_fields and not skip_rows else None
            if self._step_key is not None and self._lagged_blocks:
                lagged = self._lagged_matrix(P)
        skip_blocks = self._lagged_blocks if lagged is not None else frozenset()
        self._assembler.assemble_matrix(P, diag=1.0, skip_rows=skip_rows, skip_blocks=skip_blocks)
        P.assemble()
        if lagged is not None:
            P.axpy(1.0, lagged, structure=PETSc.Mat.Structure.SAME_NONZERO_PATTERN)
        if J != P:
            J.assemble()
        if self._condensed is not None and not skip_rows:
            # (with skip_rows the caller replaces rows first, then updates: make_consistent)
            self._condensed.update(P)

    def _zero_rows(self, P: PETSc.Mat, rows: np.ndarray, diag: float) -> None:
        """``P.zeroRows(rows, diag)`` (global rows of the monolithic layout), for a nested P too.

        A nested matrix has no zeroRows of its own: each field's rows are zeroed in each of
        its blocks, ``diag`` on the diagonal blocks' diagonal (collective: every block on
        every rank, with or without rows).
        """
        if P.getType() != PETSc.Mat.Type.NEST:
            P.zeroRows(rows, diag=diag)
            return
        offsets = self._blocks[0]
        positions = np.asarray(rows, dtype=np.int64) - P.getOwnershipRange()[0]
        field_of = np.searchsorted(offsets, positions, side="right") - 1
        for i, j, block in nested_blocks(P):
            local = positions[field_of == i] - offsets[i] + block.getOwnershipRange()[0]
            block.zeroRows(local.astype(PETSc.IntType), diag=diag if i == j else 0.0)

    def _lagged_matrix(self, P: PETSc.Mat) -> PETSc.Mat | None:
        """The lagged blocks (coupling_jacobian_lag) at a step's first Jacobian, or None.

        They are kept in a matrix of P's pattern, zero outside those blocks, added to P after
        P's own blocks: assembled at every ``coupling_jacobian_lag``-th step's first Jacobian
        and reused in between. None (assemble them into P) while P is not final (its first
        assembly fixes its pattern) or when its pattern grows. The matrix is made anew for a new
        P, and assembled anew after new Dirichlet conditions.
        """
        if not P.assembled or self._pattern_grows:
            return None
        matrix = self._lagged
        if matrix is None or self._lagged_of != P.handle:
            if matrix is not None:
                self._assembler.release()  # (its sub-matrices, and P's: made again at need)
                matrix.destroy()
            matrix = self._lagged = P.duplicate(copy=False)
            # (P's pattern exactly: entries outside it dropped, as P drops them, and zeros
            # skipped, see jacobian_pattern.compressed_matrix)
            matrix.setOption(PETSc.Mat.Option.NEW_NONZERO_LOCATIONS, False)
            matrix.setOption(PETSc.Mat.Option.IGNORE_ZERO_ENTRIES, True)
            self._lagged_of = P.handle
            self._lagged_age = None
        if self._lagged_age is None or self._lagged_age + 1 >= self.coupling_jacobian_lag:
            matrix.zeroEntries()
            self._assembler.assemble_matrix(matrix, diag=1.0, only_blocks=self._lagged_blocks)
            matrix.assemble()
            self._lagged_age = 0
            self.lagged_assemblies += 1
        else:
            self._lagged_age += 1
        return matrix

    def _configure_snes(
        self,
        snes: PETSc.SNES,
        prefix: str,
        lagging: bool = True,
        step=None,
        quadrature: bool = False,
    ) -> None:
        """Newton options under ``prefix`` (Jacobian lagging only where ``lagging``).

        ``step``: a function returning the time step the convergence test is told.
        ``quadrature``: the quadrature fields are solved once the test finds Newton converged
        (a time step's solver; :meth:`_solve_quadrature_rows`).
        """
        if self.keep_linear_solver:
            if self._linear_solver is None:
                self._linear_solver = snes.getKSP()
                # SNESGetKSP hooks the Eisenstat-Walker tolerances (not used here) to this
                # Newton solver, which the KSP outlives: on 2 ranks a later solve read the
                # destroyed solver's memory ("Only versions 1-4 are supported").
                self._linear_solver.setPreSolve(None)
                self._linear_solver.setPostSolve(None)
            else:
                snes.setKSP(self._linear_solver)
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
        if self._condensed is not None:
            factor = {k: v for k, v in self.snes_options.items() if k.startswith("pc_factor_")}
            self._condensed.configure(snes.getKSP(), factor)
        if self.convergence_test is not None:
            # The test alone judges convergence: PETSc's Newton line search declares a step
            # below stol |x| "converged (SNORM_RELATIVE)" by itself when the line search
            # failed, whatever the residual (an update that overflowed, as sinh of
            # Butler-Volmer at ~50 V, ended so at residual 1.3 and TS accepted the predictor).
            snes.setTolerances(stol=0.0)
            test = self.convergence_test
            reuse = self.jacobian_reuse if lagging else 1
            backtracking = snes.getLineSearch().getType() == "bt"
            if reuse > 1 and backtracking:
                # A backtracking search without decrease along a reused Jacobian's direction
                # does not end the solve (see _reuse_verdict).
                snes.setMaxNonlinearStepFailures(10**6)

            def converged(snes, iteration, norms):
                xnorm, step_norm, fnorm = norms
                # For storage_round_off, called by the test; not kept past it (a reference
                # would keep the SNES alive after its TS is destroyed).
                self._judged_snes = snes
                if iteration == 0:
                    self._keep_jacobian = False  # (a solve's first Jacobian is always made)
                try:
                    reason = test(iteration, xnorm, step_norm, fnorm, step())
                    if iteration == 0 and reason > 0 and self._iterate_once:
                        # The last state as the guess (see _start_from_last_state): its
                        # residual may be below the tolerance where the state still moves.
                        reason = PETSc.SNES.ConvergedReason.ITERATING
                    if reason > 0 and quadrature:
                        self._solve_quadrature_rows(snes)
                    if reuse > 1:
                        reason = self._reuse_verdict(reason, iteration, fnorm, reuse, backtracking)
                    return reason
                finally:
                    self._judged_snes = None

            snes.setConvergenceTest(converged)
            if not quadrature and reuse == 1:
                self._install_screen(snes, converged)
        if self.configure_snes is not None:
            self.configure_snes(snes)

    def _destroy_newton_solver(
        self, snes: PETSc.SNES, ts: PETSc.TS | None = None, failed: bool = False
    ) -> None:
        """Destroy a Newton solver (and the TS that holds it), its convergence test released.

        The shared linear solver (``keep_linear_solver``) is taken out first: PETSc's
        SNESDestroy resets its KSP, and with it the factorisation; an empty KSP takes its
        place. After a failed Newton solve (``failed``, or any in the TS) it is dropped instead:
        MUMPS makes no numeric factorisation after one has failed.
        """
        if failed or (ts is not None and ts.getSNESFailures() > 0):
            self._drop_linear_solver()
        elif self._linear_solver is not None:
            placeholder = PETSc.KSP().create(self.comm)
            snes.setKSP(placeholder)
            placeholder.destroy()
        if ts is not None:
            ts.destroy()
        self._release_screen(snes)
        snes.destroy()

    def _drop_linear_solver(self) -> None:
        """The next Newton solver makes a new linear solver (``keep_linear_solver``)."""
        if self._linear_solver is not None:
            self._linear_solver.destroy()
            self._linear_solver = None

    def _install_screen(self, snes: PETSc.SNES, converged: Callable) -> None:
        """The convergence test screened in C (``convergence_screen``), where it can be.

        Where the compiled loop assembles (serial 1D) and PETSc's integers are 32-bit: the
        usual Newton iteration is answered without Python (~3 us of Python per iteration
        otherwise; the cycling DFN makes ~1,260 per cycle), the others by ``converged``.
        """
        if self.convergence_screen is None or self._assembler.compiled is None:
            return
        if np.dtype(PETSc.IntType).itemsize != 4:
            return
        from ..compiled_assembly import ConvergenceScreen

        def verdict(iteration, x_norm, step_norm, norm, snes=snes):
            return converged(snes, iteration, (x_norm, step_norm, norm))

        screen = ConvergenceScreen(*self.convergence_screen, verdict)
        set_test = _petsc_function("SNESSetConvergenceTest", 4)
        error = set_test(snes.handle, screen.function, screen.context, None)
        if error:
            screen.release()
            raise RuntimeError(f"SNESSetConvergenceTest failed (PETSc error {error})")
        self._screens[snes.handle] = screen

    def _start_from_last_state(self, snes: PETSc.SNES, x: PETSc.Vec, start: bool) -> None:
        """Newton's guess ``x`` replaced by the last accepted state where ``start``.

        Newton then takes at least one iteration: the last state's residual (the BDF rates
        of a step that changes nothing) may be below the absolute tolerance where the state
        still moves slowly. Accepted as it was, it froze a voltage hold in a probe that
        started every step so (every step accepted after no iteration, the current never
        falling to its limit).

        Nothing to do in the usual case (no start now, none before in this TS: a new Newton
        solver and its screen start with the flags off, and the flag is reset after each TS).
        """
        if not start and not self._iterate_once:
            return
        self._iterate_once = start
        snes.setForceIteration(start)  # (for PETSc's own convergence test)
        screen = self._screens.get(snes.handle)
        if screen is not None:
            screen.set_iterate_once(start)
        if start:
            x.getArray()[:] = self._ring[-1][1]

    def _release_screen(self, snes: PETSc.SNES) -> None:
        """The screen of this Newton solver released (before the solver is destroyed)."""
        screen = self._screens.pop(snes.handle, None)
        if screen is not None:
            screen.release()

    def _reuse_verdict(
        self, reason: int, iteration: int, norm: float, reuse: int, backtracking: bool
    ) -> int:
        """Whether Newton's next iteration reuses the Jacobian (``jacobian_reuse``).

        Called after the convergence test's ``reason`` for an iteration with its residual norm.
        A fresh Jacobian at each solve's first iteration; reused while it has served fewer than
        ``reuse`` iterations and the last one cut the norm by at least half. A backtracking line
        search that found no decrease leaves the iterate and its norm as they were: along a
        reused Jacobian's direction the next iteration takes a fresh one; along a fresh one it
        ends the solve (DIVERGED_LINE_SEARCH), as PETSc's Newton would have.
        """
        if reason != PETSc.SNES.ConvergedReason.ITERATING:
            self._keep_jacobian = False
            return reason
        if iteration > 0:  # (at iteration 0 the caller has asked for a fresh Jacobian)
            # (Only a backtracking search fails without moving; "basic" takes full steps, and
            # the other searches may accept a larger norm: their failures end the solve.)
            stalled = backtracking and norm >= self._last_norm
            if stalled and self._jacobian_uses == 1:
                self._keep_jacobian = False
                return PETSc.SNES.ConvergedReason.DIVERGED_LINE_SEARCH
            self._keep_jacobian = (
                not stalled and norm <= 0.5 * self._last_norm and self._jacobian_uses < reuse
            )
        self._last_norm = norm
        return reason

    def storage_round_off(self) -> float:
        """The round-off eps ||diag(J) x|| of the differential rows, at the iterate being judged.

        For a convergence test (call it from one): the residual Newton cannot get below,
        however it iterates, on small steps. An unknown x is stored to eps |x|, so its BDF
        rate to about eps |x| shift and its row's storage term m du/dt to eps |x| shift m,
        and diag(J) = shift m + dF/dx ~ shift m on a small step. It grows like 1/dt and with
        |x|: a film's thickness that has grown to several times its scale over hundreds of
        hours of cycling stalls Newton at steps of 1e-6 s where a fixed floor of 1e-12 / dt
        no longer covers it (bench/dfn_ageing.py, 22nd cycle).
        """
        values = self.judged_round_off()[self._differential]
        return float(np.sqrt(self.comm.allreduce(float(np.sum(values**2)))))

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

    def drop_structural_zeros(self, grow: bool = False) -> None:
        """Assemble the Jacobian into a matrix without its structural zeros from now on.

        Vertex-quadrature terms couple the unknowns of one node only, but the pattern of a cell
        integral couples every node of the cell; the entries that are zero at a randomly
        perturbed state are dropped (:func:`electrolyx.jacobian_pattern.compressed_matrix`).
        ``grow``: nonzeros met later outside that pattern are added to it (else ignored).
        """
        from ..jacobian_pattern import compressed_matrix

        saved = [u.x.array.copy() for u in (*self.unknowns, *self.rates)]
        rng = np.random.default_rng(0)
        for u in (*self.unknowns, *self.rates):
            u.x.array[:] *= 1.0 + 1e-3 * rng.standard_normal(u.x.array.size)
            u.x.array[:] += 1e-3 * rng.standard_normal(u.x.array.size)
        self.shift.value = 1.0
        self.matrix.zeroEntries()
        self._assembler.assemble_matrix(self.matrix, diag=1.0)
        self.matrix.assemble()
        for u, values in zip((*self.unknowns, *self.rates), saved, strict=True):
            u.x.array[:] = values
        # What else holds the whole matrix or its blocks goes first (the assembler's local
        # sub-matrices, a linear solver's operator, whose factorisation is of the old matrix):
        # then each whole block is freed as soon as it is compressed.
        self._assembler.release()
        self._drop_linear_solver()
        if self._lagged is not None:
            self._lagged.destroy()
            self._lagged = None
        compressed = compressed_matrix(self.matrix, grow=grow, consume=True)
        keep_nonzero_pattern(compressed)
        # (A growing pattern would leave the lagged blocks' matrix behind: no lagging.)
        self._pattern_grows = grow
        self.matrix = compressed
