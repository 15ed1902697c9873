"""The DFN's solvers: PETSc TS (or the BDF2 loop's Newton problems), controls, Newton's test.

:class:`DFNSolvers` is the part of :class:`~electrolyx.models.dfn.problem.DFNProblem` that
builds the time integrator from the residual blocks, switches between current and voltage
control and judges Newton's convergence on the scaled residual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mpi4py import MPI
from petsc4py import PETSc

import numpy as np
from dolfinx import fem
from ufl.algorithms import extract_coefficients

from electrolyx.jacobian_pattern import factor_without_structural_zeros
from electrolyx.petsc_options import unique_prefix
from electrolyx.ts_integrator import TSIntegrator
from electrolyx.ts_integrator.derivatives import NodalTerm

if TYPE_CHECKING:
    from dolfinx.fem.petsc import NonlinearProblem

#: Newton's absolute tolerance on the scaled residual (the foils' rows excepted: their
#: round-off level, :meth:`DFNProblem._round_off_floor`).
NEWTON_ABSOLUTE_TOLERANCE = 1e-11

#: Newton's other stops (newton_verdict, each then checked against the residual floor): a
#: relative decrease of the residual norm, an update below this fraction of |x|, and the
#: iterations allowed.
NEWTON_RELATIVE_DECREASE = 1e-12
NEWTON_STEP_FRACTION = 1e-14
NEWTON_MAX_ITERATIONS = 12

#: Newton iterations per Jacobian within a solve (PETSc's snes_lag_jacobian; not persisting
#: across solves, so each solve starts with a fresh Jacobian).
JACOBIAN_LAG = 5
#: The same in 3D, where a factorisation costs what ~15 Newton iterations do (the 3D pouch with
#: tabs on 2 ranks: 0.23 s against 17 ms of triangular solves and residual). Its solves reach
#: the foils' round-off in 3 iterations, and the chord iterations that then bring the other
#: rows to 1e-11 (newton_verdict) took a sixth to seventh iteration in a quarter of them, with
#: a second factorisation at the fifth: with 8, the pouch's first 10 minutes took 50
#: factorisations instead of 61 (185 Newton iterations instead of 183, the same 42 steps),
#: its whole 1C discharge 115 instead of 136 (bench/README.md, "Fewer factorisations in 3D").
#: In 1D and 2D a factorisation is cheap beside the iterations it would save (the P3D
#: cross-section of bench/dfn_potential_pair_vs_pybamm.py: 475 Newton iterations instead of
#: 423 with 8, no faster): 5 there.
JACOBIAN_LAG_3D = 8

#: Steps over which the temperature's rows' derivatives with respect to the electrochemistry's
#: unknowns (the heat sources' derivatives, two thirds of the thermal rows' assembly) are kept
#: in 2D/3D (TSIntegrator's coupling_jacobian_lag; the rows' own blocks, with the step's shift,
#: assembled every step). The 3C pouch to its cut-off: 761 Newton iterations as with 1, 159
#: steps against 162; whole process +20.4 % over the isothermal run against +26.1 % with 1
#: (bench/README.md). 3: 781 iterations; 10: 788; never: 1009.
THERMAL_COUPLING_LAG = 5

#: A stored electrolyte concentration below this fraction of c_e0 (the stored unknown's scale)
#: marks a state as depleted for Newton's guesses after a failure (start_from_last_state): a
#: thousand times the depletion threshold (ELECTROLYTE_LAW_FLOOR, 1e-6 c_e0), so that it holds
#: from before the concentration reaches it.
DEPLETED_GUESS_FRACTION = 1e-3
#: Newton solves that start from the last accepted state after a failure in a depleted
#: electrolyte: the retry and the 3 after it (start_from_last_state). With the retry alone
#: 2 of 7 small 2D meshes still failed; with 1 solve after it one of those two, with 2 neither
#: (3 meshes tried; bench/README.md); 3 for a margin.
SOLVES_FROM_LAST_STATE = 4


class DFNSolvers:
    """Time integrator, Dirichlet conditions and Newton's test of :class:`DFNProblem`."""

    def build_solvers(self, **settings) -> None:
        """The time integrator's solvers under current control.

        Args:
            settings: With PETSc TS, keyword arguments of
                :class:`electrolyx.ts_integrator.TSIntegrator` (order, tolerances, step growth).
        """
        layout = self.layout
        if self.counter_electrode is not None:
            # The lithium metal's potential is the reference: no Dirichlet condition.
            self.bcs = []
        else:
            negative = self.electrode["negative"]
            dofs = negative.terminal_dofs(layout, layout.negative_terminal)
            self.bcs = [fem.dirichletbc(0.0, dofs, negative.potential_space)]
        # Under voltage control the positive terminal is an equipotential at V.
        positive = self.electrode["positive"]
        dofs = positive.terminal_dofs(layout, layout.positive_terminal)
        self._terminal_bc = fem.dirichletbc(self.terminal_voltage, dofs, positive.potential_space)
        if self.integrator_kind == "bdf2":
            self.current_problem = self._nonlinear_problem(self.bcs, "dfn_current")
            self.voltage_problem: NonlinearProblem | None = None
            self.active_problem = self.current_problem
            return
        unknowns = self.unknowns
        checked = [i for i in unknowns.differential if unknowns.names[i] not in self.unchecked]
        if self.thermal is not None:  # (a copy: the caller's settings stay as given)
            tolerances = self.thermal.absolute_tolerances(settings)
            settings = {**settings, "field_absolute_tolerances": tolerances}
        # The Newton solver whose thermal split reuses its factors now (_reuse_thermal_factor).
        self._thermal_factor_kept: int | None = None
        split = self._thermal_split()
        three_dimensional = layout.mesh.topology.dim == 3
        # u = ln(c_e / c_e0) eliminated exactly from the linear systems in 3D (its tie rows
        # are diagonal in u), so that MUMPS factorises the Schur complement of the other
        # fields: the 3D pouch's factorisations 2.0x as fast, the same Newton iterates
        # (bench/README.md, "The log-concentration eliminated from the 3D factorisations").
        condensed = (
            unknowns.position("electrolyte_log_concentration")
            if self.log_electrolyte and three_dimensional and not split
            else None
        )
        self.integrator = TSIntegrator(
            self.residual_blocks,
            unknowns.functions,
            self.time_derivative.functions,
            bcs=self.bcs,
            entity_maps=self.entity_maps,
            differential=checked,
            # newton_verdict alone judges convergence (the integrator sets PETSc's stol to 0:
            # with its step test a Newton solve whose first update overflowed ended
            # "converged" at residual 1.3, and Ecker2015's 3C charge from empty jumped its
            # graphite surface past c_max at 797.5 s).
            # The Jacobian (and its LU) at the first of every 5 (3D: 8) Newton iterations of a
            # solve, so at least once per step (its shift changes with the step; most solves
            # take 3-4 iterations, so one Jacobian): against every 3rd iteration, cycling -18 % per
            # cycle, the 3D pouch -8 % (its 3C thermal run -14 %), 1D discharges ~-2 %
            # (bench/README.md, issue 18); the capacities of cycling equal to 1e-12. In 2D/3D
            # the rows off the foils are held to 1D's tolerance (newton_verdict), so that the
            # chord iterations stop no less converged than Newton's.
            snes_options={
                "snes_max_it": NEWTON_MAX_ITERATIONS,
                "snes_lag_jacobian": JACOBIAN_LAG_3D if three_dimensional else JACOBIAN_LAG,
                **self._linear_solver_options(),
            },
            comm=self.comm,
            name="dfn",
            convergence_test=self.newton_verdict,
            omitted_jacobian_blocks=self._thermal_split_blocks(),
            step_jacobian_rows=self._thermal_fields() if split else (),
            on_step_rows=self._reuse_thermal_factor if split else None,
            configure_snes=self._configure_thermal_split if split else None,
            # One factorisation's analysis for the whole run, the consistent potentials' and
            # every restart's Newton solvers included (the 3D pouch: one MUMPS analysis of
            # 0.44 s instead of three; bench/README.md).
            keep_linear_solver=not split,
            condensed_field=condensed,
            quadrature_fields=[unknowns.position(name) for name in self.quadrature],
            coupling_jacobian_lag=THERMAL_COUPLING_LAG if split else 1,
            nodal_terms=self._nodal_terms(),
            **settings,
        )
        # Positions of the foils' phi_s rows among the owned residual entries (newton_verdict).
        rows = [
            self.integrator.owned_rows(self.unknowns.position(e.potential), e.foil_dofs(layout))
            for e in self.electrodes
        ]
        self._foil_rows = np.concatenate([np.zeros(0, dtype=np.int64), *rows])
        # The owned entries of the stored electrolyte concentration (start_from_last_state).
        electrolyte = unknowns.position("electrolyte_concentration")
        owned = unknowns.functions[electrolyte].function_space.dofmap.index_map.size_local
        self._electrolyte_rows = self.integrator.owned_rows(electrolyte, np.arange(owned))
        self._solves_from_last_state = 0
        self._any_foil = bool(self.comm.allreduce(self._foil_rows.size, op=MPI.SUM))
        if not self._any_foil:
            # newton_verdict's usual answers, given in C where the integrator can: converged
            # below the residual floor, iterating until one of its other stops (or iteration
            # 0, or a norm that is not finite) asks it
            self.integrator.convergence_screen = (
                self._residual_floor,
                NEWTON_RELATIVE_DECREASE,
                NEWTON_STEP_FRACTION,
                NEWTON_MAX_ITERATIONS,
            )

    # ------------------------------------------------------- thermal split
    def _thermal_split(self) -> bool:
        """Whether Newton's linear systems are solved as (electrochemistry, temperature).

        In 2D/3D with a thermal model, Newton's Jacobian leaves out the electrochemistry's rows'
        derivatives with respect to the temperature (every law that reads T: Arrhenius factors,
        R T / F, the entropic OCP), and its block lower-triangular system is solved exactly by
        two LU factorisations in turn (PETSc fieldsplit, multiplicative): the electrochemistry's
        (the isothermal one) and the temperature's. The residual stays exact, so the converged
        steps are the same; only Newton's convergence is slower (the 60 s pouch at 3C: 219
        Newton iterations against 200, CPU time -12 %: bench/README.md). The thermal rows
        (temperature, heat generated and removed: a third of a Jacobian's assembly, the
        temperature nearly linear within a step) are assembled at each step's first Newton
        iteration only and kept for its others (TSIntegrator's step_jacobian_rows: 221 Newton
        iterations against 220, a Jacobian 37.5 -> 25-28 ms on average); their derivatives
        with respect to the electrochemistry's unknowns only every THERMAL_COUPLING_LAG-th
        step (TSIntegrator's coupling_jacobian_lag). Not in 1D: there the
        extra iterations cost more than the blocks saved (lumped 549 against 458, x-full 534
        against 456, and more CPU time).
        """
        return self.thermal is not None and self.layout.geometry is not None

    def _thermal_fields(self) -> list[int]:
        """Block positions of the thermal unknowns (temperature, both energy accumulators)."""
        names = ("temperature", "heat_generated", "heat_removed")
        return [self.unknowns.position(name) for name in names]

    def _nodal_terms(self) -> list[NodalTerm]:
        """Each electrode's reaction current densities, evaluated once per node.

        The intercalation's j (its open-circuit potential, exchange current and Butler-Volmer
        exponentials) and each side reaction's (lithium plating's, the SEI's) enter the rows of
        c_e, phi_e, phi_s, c_s, the reactions' states and the heat sources, always with vertex
        quadrature: the residual reads each from a function filled at the electrode's nodes,
        the Jacobian each and its partial derivatives from another (TSIntegrator's
        ``nodal_terms``), instead of every block evaluating them again. The same residual and
        Jacobian to round-off. On the cycling model a Jacobian 148 -> 122 us and a residual 34
        -> 32 us with the side reactions' currents as well as the intercalation's
        (bench/README.md). Not the double layer's current, which reads the potentials' rates.
        """
        rates = set(self.time_derivative.functions)
        terms = []
        for electrode in self.electrodes:
            space = fem.functionspace(electrode.particles.mesh, ("Lagrange", 1))
            # (The reactions read c_s at the surface only: the last radial node.)
            surface = {self.unknowns[electrode.concentration].function: [electrode.grid.size - 1]}
            for reaction in self.balances[electrode.name].reactions.values():
                current = reaction.current_density
                if rates.intersection(extract_coefficients(current)):
                    continue
                terms.append(NodalTerm(current, space, self.dx_vertex(electrode.tag), surface))
        return terms

    def _thermal_split_blocks(self) -> list[tuple[int, int]]:
        """Jacobian blocks left out: d(electrochemistry)/d(thermal unknowns) (see above)."""
        if not self._thermal_split():
            return []
        thermal = self._thermal_fields()
        electrochemistry = [i for i in range(len(self.unknowns)) if i not in thermal]
        return [(i, j) for i in electrochemistry for j in thermal]

    def _configure_thermal_split(self, snes: PETSc.SNES) -> None:
        """Field-split LU of the block lower-triangular Jacobian (electrochemistry first).

        The monolithic matrix numbers each rank's owned unknowns field by field; the split's
        sub-solvers read their options (under this Newton solver's unique prefix) at their first
        set-up, after the integrator has removed its own.
        """
        thermal = self._thermal_fields()
        owned = [
            V.dofmap.index_map.size_local * V.dofmap.index_map_bs for V in self.unknowns.spaces
        ]
        start = self.comm.exscan(sum(owned)) or 0
        offsets = start + np.concatenate([[0], np.cumsum(owned)]).astype(np.int64)
        rows = {"electrochemistry": [], "thermal": []}
        for i, size in enumerate(owned):
            part = "thermal" if i in thermal else "electrochemistry"
            rows[part].append(np.arange(offsets[i], offsets[i] + size, dtype=PETSc.IntType))
        preconditioner = snes.getKSP().getPC()
        preconditioner.setType(PETSc.PC.Type.FIELDSPLIT)
        preconditioner.setFieldSplitType(PETSc.PC.CompositeType.MULTIPLICATIVE)
        preconditioner.setFieldSplitIS(
            *[
                (name, PETSc.IS().createGeneral(np.concatenate(parts), comm=self.comm))
                for name, parts in rows.items()
            ]
        )
        database = PETSc.Options()
        prefix = snes.getOptionsPrefix()
        for name in rows:
            database[f"{prefix}fieldsplit_{name}_ksp_type"] = "preonly"
            database[f"{prefix}fieldsplit_{name}_pc_type"] = "lu"
            database[f"{prefix}fieldsplit_{name}_pc_factor_mat_solver_type"] = "mumps"

    def _reuse_thermal_factor(self, snes: PETSc.SNES | None, kept: bool) -> None:
        """The thermal split's LU factors kept with its rows (refactorised when they are new).

        Rows are kept only from a step's second Newton iteration on, after a linear solve has
        set the split up; the flag is reset at the next new rows of the same Newton solver.
        ``snes`` None: a new Newton solver follows (its split is not set up yet).
        """
        if snes is None:
            self._thermal_factor_kept = None
            return
        if kept == (self._thermal_factor_kept == snes.handle):
            return
        split = snes.getKSP().getPC().getFieldSplitSubKSP()
        split[1].getPC().setReusePreconditioner(kept)
        self._thermal_factor_kept = snes.handle if kept else None

    def _linear_solver_options(self) -> dict:
        """Direct solver: MUMPS when distributed and in 2D/3D, else PETSc's own LU.

        PETSc's LU (reverse Cuthill-McKee ordering) is about twice as fast as MUMPS on these
        small banded 1D systems; MUMPS has nested-dissection fill reduction. A thermal model's
        temperature couples to every field (and its one-dof unknowns to all dofs): there RCM
        fills the factor 7-fold (x-full, 20/6/20 cells: 471k nonzeros against the isothermal
        65k); quotient minimum degree keeps it at 73k (lumped 68k; nested dissection 116k /
        98k).
        Under TS the 1D Jacobian has no structural zeros (:meth:`drop_structural_zeros`): there
        quotient minimum degree too. PETSc's LU does not pivot, and with RCM on that pattern the
        10-cycle ageing test (tests/test_dfn_ageing.py) failed in Newton on NaN in its 8th
        discharge; with nested dissection and with quotient minimum degree it passes, and the
        500-cycle ageing run completes (its capacities equal to 6e-12 relative). Quotient
        minimum degree against nested dissection: the ageing bench's cycle 0.202 -> 0.186 s of
        CPU, the default discharge's time loop 0.085 -> 0.077 s (bench/README.md).
        """
        if self.comm.size > 1 or self.layout.geometry is not None:
            return {"pc_factor_mat_solver_type": "mumps"}
        if self.thermal is not None:
            return {"pc_factor_mat_solver_type": "petsc", "pc_factor_mat_ordering_type": "qmd"}
        if self.integrator_kind == "ts":
            return {"pc_factor_mat_solver_type": "petsc", "pc_factor_mat_ordering_type": "qmd"}
        return {"pc_factor_mat_solver_type": "petsc", "pc_factor_mat_ordering_type": "rcm"}

    def drop_structural_zeros(self) -> None:
        """Jacobians assembled without the structural zeros of vertex quadrature.

        In 1D the pattern grows by any nonzero met outside it later (a term a conditional
        switched off where it was found); in 2D/3D such entries are ignored, as before 1D
        dropped its zeros (growing changed a 2D test's charge balance by 2e-9 relative,
        past its 1e-9: tests/test_dfn_multidimensional.py).
        """
        if self.integrator_kind == "ts":
            self.integrator.drop_structural_zeros(grow=self.layout.geometry is None)
        else:
            factor_without_structural_zeros(self.current_problem, self.unknowns.functions)

    def use_voltage_control(self, voltage_control: bool) -> None:
        """Switch between current/power control and voltage control (a terminal condition)."""
        bcs = [*self.bcs, self._terminal_bc] if voltage_control else self.bcs
        if self.integrator_kind == "ts":
            self.integrator.set_bcs(bcs)
            return
        if voltage_control and self.voltage_problem is None:
            self.voltage_problem = self._nonlinear_problem(bcs, "dfn_voltage")
            if self.layout.geometry is not None:
                factor_without_structural_zeros(self.voltage_problem, self.unknowns.functions)
        self.active_problem = self.voltage_problem if voltage_control else self.current_problem

    def _nonlinear_problem(self, bcs, name: str) -> NonlinearProblem:
        """A Newton problem of the BDF2 loop (one per set of Dirichlet conditions)."""
        # Imported here: the TS integrator's runs do without dolfinx.fem.petsc (its import
        # parses C declarations, see electrolyx.block_assembly).
        from dolfinx.fem.petsc import NonlinearProblem

        return NonlinearProblem(
            self.residual_blocks,
            self.unknowns.functions,
            bcs=bcs,
            entity_maps=self.entity_maps,
            kind="mpi",
            petsc_options_prefix=unique_prefix(name),
            petsc_options={
                "snes_type": "newtonls",
                "snes_linesearch_type": "none",
                "snes_atol": self._residual_floor,
                "snes_rtol": 1e-12,
                "snes_stol": 1e-14,
                "snes_max_it": 12,
                "ksp_type": "preonly",
                "pc_type": "lu",
                **self._linear_solver_options(),
            },
        )

    def newton_solve(self, dt: float) -> tuple[bool, int]:
        """BDF2 loop: Newton from the present unknowns; (converged, iterations).

        Converged as :meth:`newton_verdict` says (PETSc's test, then the residual checked).
        """
        self.active_problem.solve()
        snes = self.active_problem.solver
        floor = 1e-6 + 1e-13 / dt + 10 * self._residual_floor
        reason, norm = snes.getConvergedReason(), snes.getFunctionNorm()
        converged = reason > 0 and norm < floor
        stalled = reason == PETSc.SNES.ConvergedReason.DIVERGED_MAX_IT
        stalled = stalled and norm < 1e-10 + 1e-13 / dt + 10 * self._residual_floor
        return converged or stalled, snes.getIterationNumber()

    def start_from_last_state(self, state: np.ndarray, newton_failures: int) -> bool:
        """Whether Newton's next solve starts from the last accepted ``state``.

        Yes for the retry after a failed Newton solve (``newton_failures`` since ``state`` was
        accepted) and the solves after it, :data:`SOLVES_FROM_LAST_STATE` in all, where a stored
        electrolyte concentration of ``state`` is below :data:`DEPLETED_GUESS_FRACTION` c_e0
        somewhere; otherwise TSBDF's extrapolated guess (TSIntegrator's ``last_state_guess``:
        Newton then takes at least one iteration).

        At a depleted node the extrapolation of the log-concentration u overshoots by tens
        (-53..-126 where the tie asks ~-35, after a 3C discharge turned into a 3C charge) and
        Newton's updates take u back by one unit an iteration (the tie's exponential branch),
        so every retry ran out of iterations too, down to steps of 1e-22 s: the 2D
        cross-section with tabs failed so on 10 cells in height and on smaller meshes. After
        a retry from the last state the next extrapolations, through steps of very different
        lengths, overshot again (residuals of 1e5..1e22): hence the solves after it. Not
        always: where no Newton solve failed, the extrapolation is the better guess (the last
        state as the guess of every step once depleted cost ``cases/pouch-3d-thermal-3C`` 915
        Newton iterations instead of 597; this rule 709; bench/README.md, "The last state as
        the guess of a retried step in a depleted electrolyte").
        """
        if newton_failures:
            self._solves_from_last_state = SOLVES_FROM_LAST_STATE
        if self._solves_from_last_state == 0:
            return False
        self._solves_from_last_state -= 1
        local = bool(np.any(state[self._electrolyte_rows] < DEPLETED_GUESS_FRACTION))
        return bool(self.comm.allreduce(local, op=MPI.LOR))

    def guesses_extrapolated(self) -> bool:
        """Whether no solve from the last state is pending (:meth:`start_from_last_state`)."""
        return self._solves_from_last_state == 0

    def newton_verdict(
        self, iteration: int, x_norm: float, step_norm: float, norm: float, dt: float
    ) -> int:
        """Newton's convergence test on the scaled residual (a ``SNES.ConvergedReason``).

        Converged below the absolute tolerance (1e-11, or a foil's round-off floor), or after a
        relative decrease of 1e-12 or a step below 1e-14 of the unknowns, but then only if the
        residual is small: below 1e-6 plus the round-off floor of the storage terms, which
        grows like 1/dt (a step-norm stop at a huge residual is no convergence). That floor is
        1e-12/dt, or where Newton stopped above it, 1e-12/dt plus the round-off of the storage
        terms at the present unknowns (:meth:`TSIntegrator.storage_round_off`: an SEI grown to
        5.8 times its initial thickness stalled Newton at 1.7e-12/dt). 1e-12/dt: in the half
        cell's end-of-discharge cliff (every particle surface within 1e-7 of c_max, the steps
        cut to 1e-11..1e-7 s) Newton stagnated at 3e-13/dt..8e-13/dt, and with 1e-13/dt (the
        BDF2 loop's) every TS step there was rejected. At most 12 iterations; Newton stalled at
        the round-off level just above the tolerance (j0 ~ (c_max - c_surf)^0.5 loses digits as
        a particle surface fills) is accepted.
        """
        reason = PETSc.SNES.ConvergedReason
        floor = 1e-6 + 1e-12 / dt + 10 * self._residual_floor
        if not np.isfinite(norm):
            return reason.DIVERGED_FNORM_NAN
        if iteration == 0:
            self._initial_norm = norm
        if self._converged_to_round_off(norm):
            return reason.CONVERGED_FNORM_ABS
        if iteration == 0:
            return reason.ITERATING
        if norm < NEWTON_RELATIVE_DECREASE * self._initial_norm:
            converged = self._below(norm, floor)
            return reason.CONVERGED_FNORM_RELATIVE if converged else reason.DIVERGED_DTOL
        if step_norm < NEWTON_STEP_FRACTION * x_norm:
            converged = self._below(norm, floor)
            return reason.CONVERGED_SNORM_RELATIVE if converged else reason.DIVERGED_DTOL
        if iteration >= NEWTON_MAX_ITERATIONS:
            stalled = self._below(norm, 1e-10 + 1e-12 / dt + 10 * self._residual_floor)
            return reason.CONVERGED_ITS if stalled else reason.DIVERGED_MAX_IT
        return reason.ITERATING

    def _converged_to_round_off(self, norm: float) -> bool:
        """Whether every row is within its tolerance: the foils' and the others' apart.

        The rows off the foils: below 1e-11 (1D's tolerance) plus their own round-off. The
        foils' phi_s rows: below the foils' floor (:meth:`DFNProblem._round_off_floor`) plus
        their own round-off. That floor is eps times a foil's conduction stiffness, so it holds
        for potentials of order 1 (in thermal voltages); the round-off is eps |J_ii x_i|
        (:meth:`TSIntegrator.judged_round_off`), which grows with the foil's potential. In the
        3D pouch with tabs at 1C (cases/pouch-3d-tabs) the foils' rows stagnated at
        4e-7..6e-6, 0.6 of their round-off, against a floor of 5.1e-7: most Newton solves ran
        on two or three iterations to their step-size stop, and near 6e-6 (the step-size
        stop's own floor) a solve on 2 ranks, whose round-off differs, failed now and then and
        its step was cut (the 10-minute run took 54-58 steps instead of 47).

        The rows off the foils are held to 1e-11 even where the whole residual is below the
        foils' floor (~1e-7 for copper): a residual below that level can leave the
        electrochemistry converged to ~1e-7 only; exact Newton steps usually overshoot far
        below it (quadratic convergence), but the chord iterations of a lagged Jacobian stop
        just under it: the pouch case's interfacial current met the applied one to 8.6e-9
        instead of 1e-9 (tests/test_dfn_case.py). Their own round-off is allowed there too: a
        heat equation's rows carry the conduction stiffness times the temperature, and in the
        3D pouch at 3C their residual stays at 0.6-1.0 times that level, 1e-9..5e-9 once the
        cell has warmed by a few kelvin, and 1e-11 alone made every Newton solve run on to its
        step-size stop (595 Newton iterations against 467 in the first 300 s). The
        electrochemistry's rows' round-off is 1e-15..2e-12 at the pouch's usual steps.

        Without foils: the residual's norm below 1e-11 (1D). With foils, the round-off is not
        computed where the whole residual is below the foils' floor and the rows off the foils
        below 1e-11 (one reduction); otherwise it costs the Jacobian's diagonal and one more
        reduction (of four numbers), small beside a 3D Newton iteration.
        """
        if not self._any_foil:
            return norm < self._residual_floor
        residual = np.array(self.integrator.judged_residual())
        foil_residual = residual[self._foil_rows]
        residual[self._foil_rows] = 0.0
        squares = [float(residual @ residual), float(foil_residual @ foil_residual)]
        if norm < self._residual_floor:
            off_foil = np.sqrt(self.comm.allreduce(squares[0], op=MPI.SUM))
            if off_foil < NEWTON_ABSOLUTE_TOLERANCE:
                return True
        round_off = self.integrator.judged_round_off()
        foil_round_off = round_off[self._foil_rows]
        round_off[self._foil_rows] = 0.0
        squares += [float(round_off @ round_off), float(foil_round_off @ foil_round_off)]
        off_foil, foil, off_foil_level, foil_level = np.sqrt(
            self.comm.allreduce(np.array(squares), op=MPI.SUM)
        )
        return (
            off_foil < NEWTON_ABSOLUTE_TOLERANCE + off_foil_level
            and foil < self._residual_floor + foil_level
        )

    def _below(self, norm: float, floor: float) -> bool:
        """Whether the residual norm is below floor, or below it plus the storage round-off.

        The round-off (:meth:`TSIntegrator.storage_round_off`) is computed only when needed.
        """
        return norm < floor or norm < floor + self.integrator.storage_round_off()
