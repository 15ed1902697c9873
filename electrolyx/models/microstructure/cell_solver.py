"""The resolved half cell's solver: PETSc TS at fixed steps, Newton's test, the field split.

:class:`HalfCellSolver` is the part of
:class:`~electrolyx.models.microstructure.cell.ResolvedHalfCell` that builds the integrator
(implicit Euler on the shared :class:`~electrolyx.ts_integrator.TSIntegrator`), judges
Newton's convergence with the current condition and gives a field-split preconditioner its
rows.
"""

from __future__ import annotations

from typing import Any

from mpi4py import MPI
from petsc4py import PETSc

import numpy as np
from dolfinx import fem

from ...coarse_correction import GalerkinCoarseCorrection
from ...output import PhaseTimer
from ...ts_integrator import TSIntegrator
from .coarse_space import particle_coarse_space
from .solver_options import JACOBIAN_LAG
from .unknown_fields import (
    _SOLID,
    _VOLTAGE,
    FIELD_SPLIT_NAMES,
    FIELDS,
)


class HalfCellSolver:
    """Time integrator, Newton's convergence test and field split of :class:`ResolvedHalfCell`."""

    def _solver(self, options: dict[str, Any]) -> None:
        solid_space = self.spaces[_SOLID]
        contact = fem.locate_dofs_geometrical(solid_space, lambda x: np.isclose(x[0], 0.0))
        self._contact_owned = contact[contact < solid_space.dofmap.index_map.size_local]
        # psi = phi_s - V = 0 on the particles' contact with the collector.
        self.bcs = [fem.dirichletbc(PETSc.ScalarType(0.0), contact, solid_space)]
        defaults = {
            "snes_type": "newtonls",
            "snes_linesearch_type": "bt",
            "snes_rtol": 1e-10,
            "snes_atol": 1e-11,
            "snes_stol": 1e-14,
            "snes_max_it": 25,
            "ksp_type": "preonly",
            "pc_type": "lu",
            # MUMPS, except for the double layer in serial, where it fails (INFOG(1) = -9, then
            # -3) and PETSc's own LU with nested dissection works (slower in 3D).
            **(
                {"pc_factor_mat_solver_type": "petsc", "pc_factor_mat_ordering_type": "nd"}
                if self.comm.size == 1 and self.double_layer
                else {"pc_factor_mat_solver_type": "mumps"}
            ),
        }
        options = {**defaults, **options}
        if options["pc_type"] != "lu":
            options.pop("pc_factor_mat_solver_type", None)
            options.pop("pc_factor_mat_ordering_type", None)
        # The most Newton iterations a Jacobian serves (TSIntegrator's jacobian_reuse, which
        # renews it sooner where Newton slows down; -1: no limit), not PETSc's fixed schedule.
        lag = int(options.pop("snes_lag_jacobian", JACOBIAN_LAG))
        jacobian_reuse = lag if lag >= 1 else 10**6
        # Newton's tolerances, for the convergence test (which replaces PETSc's).
        self._newton_tolerances = {
            key: float(options[f"snes_{key}"]) for key in ("rtol", "atol", "stol", "max_it")
        }
        field_split = {
            k: options.pop(k) for k in [k for k in options if k.startswith("fieldsplit_")]
        }
        if field_split:
            # The collector voltage's one-dof block: its diagonal entry inverts it.
            field_split.setdefault("fieldsplit_V_ksp_type", "preonly")
            field_split.setdefault("fieldsplit_V_pc_type", "jacobi")
        # A field split over the five fields works on the Jacobian's blocks themselves when the
        # Jacobian is a nested matrix of them (no copies of its rows and diagonal blocks, no
        # whole-system sparsity pattern while it is made); a direct solver needs one AIJ matrix.
        nested = options.get("pc_type") == "fieldsplit"
        self.timer = PhaseTimer()  # residual, jacobian
        self.integrator = TSIntegrator(
            self.residual_blocks,
            self.u,
            self.time_derivative.functions,
            bcs=self.bcs,
            entity_maps=self.entity_maps,
            order=1,
            snes_options=options,
            name="microstructure",
            convergence_test=self._newton_verdict,
            # Implicit Euler reads the last state, TSBDF's extrapolated Newton guess the last
            # two: a resumed discharge replays two steps (bit-identical from there on).
            replay_steps=2,
            configure_snes=self._configure_field_split if field_split else None,
            timer=self.timer,
            jacobian_reuse=jacobian_reuse,
            matrix_type="nest" if nested else "aij",
            # The forms integrate over the parent mesh; the unknowns live on the two phases'
            # submeshes: read through P1 copies on the parent mesh, each form keeps no
            # mapped copy of its entities per unknown (0.35 kB per unknown at 1 M unknowns).
            coefficients_on=self.mesh,
        )
        self._field_split_options = field_split
        self._coarse_correction: GalerkinCoarseCorrection | None = None
        self._first_norm = 0.0

    def _drop_structural_zeros(self) -> None:
        """A nested Jacobian's blocks without their structural zeros (at the rest state).

        The particle-surface blocks' pattern couples every vertex of an interface facet's two
        cells, Butler-Volmer only the facet's own vertices: 28 % of the Jacobian's entries at
        139 k unknowns are such zeros (3.77 M kept of 5.21 M), and a product with the nested
        matrix took 5.6 ms with them, 4.4 ms without (3.5 ms with the single AIJ matrix).
        They are found at a random perturbation of the rest state
        (:meth:`TSIntegrator.drop_structural_zeros`, entries below 1e-14 of their block row's
        largest). Later entries outside that pattern are dropped, not added: on 21 k unknowns
        they are exact zeros on an off-diagonal block's diagonal positions, which PETSc inserts
        (MAT_IGNORE_ZERO_ENTRIES spares diagonal positions); added to the pattern, each cost a
        reallocation of its block (the first Jacobian of a 139 k-unknown step took 32 s
        instead of about 1.2 s).
        """
        if self.integrator.matrix_type == "nest":
            self.integrator.drop_structural_zeros(grow=False)

    def _configure_field_split(self, snes: PETSc.SNES) -> None:
        """The rows of each field and the sub-solvers' options for a field-split preconditioner.

        The sub-solvers read their options when the preconditioner is first set up (first
        solve), after the integrator has removed its options from the database: they stay
        there under this Newton solver's (unique) prefix.
        """
        preconditioner = snes.getKSP().getPC()
        if preconditioner.getType() != PETSc.PC.Type.FIELDSPLIT:
            return
        prefix = snes.getOptionsPrefix()
        field_split = preconditioner
        if self.particles is not None:
            # The particles' coarse correction, then the field split on what it leaves
            # (PETSc's multiplicative composite: y = C r; y += P (r - A y)).
            preconditioner.setType(PETSc.PC.Type.COMPOSITE)
            preconditioner.setCompositeType(PETSc.PC.CompositeType.MULTIPLICATIVE)
            preconditioner.addCompositePCType(PETSc.PC.Type.PYTHON)
            preconditioner.addCompositePCType(PETSc.PC.Type.FIELDSPLIT)
            preconditioner.getCompositePC(0).setPythonContext(self.coarse_correction())
            field_split = preconditioner.getCompositePC(1)
            # It reads the Newton solver's pc_fieldsplit_* options, its sub-solvers the
            # fieldsplit_* ones below, under this Newton solver's prefix.
            field_split.setOptionsPrefix(prefix)
            database = PETSc.Options()
            split = {
                k: v
                for k, v in self.integrator.snes_options.items()
                if k.startswith("pc_fieldsplit_")
            }
            for key, value in split.items():
                database[prefix + key] = value
            field_split.setFromOptions()
            for key in split:
                del database[prefix + key]
        field_split.setFieldSplitIS(*self.field_index_sets())
        database = PETSc.Options()
        for key, value in self._field_split_options.items():
            database[prefix + key] = value

    def coarse_correction(self) -> GalerkinCoarseCorrection:
        """The particles' coarse correction (:mod:`.coarse_space`), made once.

        The Newton solvers share it; each set-up makes its coarse matrix from the present
        Jacobian.
        """
        if self._coarse_correction is None:
            self._coarse_correction = GalerkinCoarseCorrection(
                particle_coarse_space(self, self.particles)
            )
        return self._coarse_correction

    def _current_mismatch_A(self) -> float:
        """I - I_app of the last residual evaluation [A] (from the row of V; collective)."""
        integrator = self.integrator
        offsets = integrator._blocks[0]
        row = integrator._b.getArray(readonly=True)[offsets[_VOLTAGE] : offsets[_VOLTAGE + 1]]
        local = float(row.sum())
        # The row is w (I - I_app) / depth (the forms integrate per unit depth in 2D).
        return self.comm.allreduce(local, op=MPI.SUM) * self.depth_m / self._galvanostatic_weight

    def _newton_verdict(
        self, iteration: int, x_norm: float, step_norm: float, norm: float, dt: float
    ) -> int:
        """Newton's convergence test (a ``SNES.ConvergedReason``).

        Converged when the scaled residual is below max(atol, rtol |R_0|) (or the update below
        stol |x|) and the current condition holds to 1e-12 max(|I_app|, I_1C); at most
        ``snes_max_it`` iterations.
        """
        reason = PETSc.SNES.ConvergedReason
        tolerances = self._newton_tolerances
        if not np.isfinite(norm):
            return reason.DIVERGED_FNORM_NAN
        if iteration == 0:
            self._first_norm = norm
        current_scale = max(abs(self.applied_current_A), self.one_c_current_A)
        current_holds = abs(self._current_mismatch_A()) <= 1e-12 * current_scale
        if current_holds:
            if iteration > 0 and step_norm <= tolerances["stol"] * x_norm:
                return reason.CONVERGED_SNORM_RELATIVE
            if norm <= max(tolerances["atol"], tolerances["rtol"] * self._first_norm):
                return reason.CONVERGED_FNORM_ABS
        if iteration >= tolerances["max_it"]:
            return reason.DIVERGED_MAX_IT
        return reason.ITERATING

    def field_index_sets(self) -> list[tuple[str, PETSc.IS]]:
        """Global rows of each field (c_e, phi_e, c_s, phi_s, V) in the Jacobian, for fieldsplit.

        The monolithic ("mpi") block matrix numbers the owned unknowns of each rank field by
        field: rank r holds rows [start_r, start_r + n_0 + ... + n_4).
        """
        owned = [V.dofmap.index_map.size_local * V.dofmap.index_map_bs for V in self.spaces]
        start = self.comm.exscan(sum(owned)) or 0
        offsets = start + np.concatenate([[0], np.cumsum(owned)])
        names = [FIELD_SPLIT_NAMES[name] for name in FIELDS]
        return [
            (name, PETSc.IS().createStride(n, int(first), 1, comm=self.comm))
            for name, n, first in zip(names, owned, offsets, strict=False)
        ]
