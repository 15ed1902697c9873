"""PETSc options of the half cell's Newton solver: the case's presets and the iterative one."""

from __future__ import annotations

from typing import Any

from ...solver import petsc_options_from_case

__all__ = ["ITERATIVE_SOLVER", "JACOBIAN_LAG", "petsc_options"]

#: The most Newton iterations one Jacobian (and the preconditioner or factorisation made from
#: it) serves within a time step's Newton solve (TSIntegrator's ``jacobian_reuse``: each solve
#: starts with a fresh one, and one is made sooner where an iteration cut the residual by less
#: than half or its line search found no decrease; ``[solver.petsc] snes_lag_jacobian``
#: overrides it). Assembling the 25 Jacobian blocks was more than half of a Newton iteration of
#: the "iterative" solver (1.7 s of 2.9 s at 139 k unknowns); with 3 the steps take 0.62-0.66 of
#: the time with the same voltages to the 9 digits printed (bench/README.md, microstructure, "A
#: Jacobian for up to three Newton iterations"). Tried at a fixed schedule (PETSc's
#: snes_lag_jacobian) on a 21 k-unknown discharge: 2 and 5 saved less than 3.
JACOBIAN_LAG = 3

#: The fields whose diagonal Jacobian block is symmetric (checked by a test).
SYMMETRIC_BLOCK_FIELDS = ("phi_e", "c_s", "phi_s")

#: PETSc options of the "iterative" linear solver (``linear_solver = "iterative"``): GMRES
#: preconditioned by one symmetric block Gauss-Seidel sweep (forward then backward) over the four
#: fields c_e, phi_e, c_s, phi_s, each diagonal block approximated by one GAMG W-cycle. The
#: backward sweep also carries the couplings above the block diagonal (the electrolyte rows'
#: dependence on the particle unknowns through Butler-Volmer, phi_e in the salt rows): against
#: the forward sweep alone it cut GMRES from 115-160 to 33-40 iterations per solve on 21 k
#: unknowns, and a 300 s step from 5.2 to 2.9 s.
#: The threshold 0.05 drops the weak Butler-Volmer couplings (about 1e-4 of the conduction terms)
#: from GAMG's aggregation graph: aggregates then never straddle a particle surface, so the
#: coarse spaces hold the potential of every particle cluster and of the electrolyte separately
#: (with threshold 0 GMRES stalls on these nearly free shifts). Plain (unsmoothed) aggregation:
#: smoothed aggregation needed fewer GMRES iterations but its Galerkin coarse operators filled
#: in (set-up 20x slower, ~20 GB at 1 M unknowns). Plain aggregation's V-cycle weakens as the
#: mesh is refined (GMRES 34-45 iterations per solve at 21 k unknowns, 90-150 at 139 k, 113-163
#: at 1 M): a W-cycle (each coarser level visited twice per visit of the finer) keeps it at
#: 29-32 at 139 k on 1 and 2 ranks and 43 at 1 M, with 1.6-1.7x less time per Newton
#: iteration, and takes the first 300 s step the V-cycle failed at 139 k (bench/README.md,
#: microstructure). ksp_rtol 1e-8 keeps the Newton iterations and the voltage those of the
#: direct solver.
#: Each level's Chebyshev smoother estimates its largest eigenvalue once per Jacobian, by 10
#: Krylov iterations kept with the smoother. For the blocks that are symmetric (phi_e, c_s and
#: phi_s: conduction, solid diffusion and the Butler-Volmer surface terms in their own
#: unknown; tests/test_microstructure_iterative.py) the estimate is by CG, which holds 4
#: vectors where GMRES holds ~19: at 139 k unknowns the solver's state after the first linear
#: solve took 15 MiB less (113 B per unknown), the same Newton and GMRES iterations. c_e's
#: block is not symmetric (its diffusivity depends on c_e: 7e-5 of its norm after a few
#: steps); with CG's estimate for it too GMRES stalled (bench/README.md, microstructure).
ITERATIVE_SOLVER: dict[str, Any] = {
    "ksp_type": "gmres",
    "ksp_gmres_restart": 100,
    "ksp_rtol": 1e-8,
    "ksp_max_it": 2000,
    "pc_type": "fieldsplit",
    "pc_fieldsplit_type": "symmetric_multiplicative",
    **{
        f"fieldsplit_{field}_{key}": value
        for field in ("c_e", "phi_e", "c_s", "phi_s")
        for key, value in (
            ("ksp_type", "preonly"),
            ("pc_type", "gamg"),
            ("pc_gamg_threshold", 0.05),
            ("pc_gamg_agg_nsmooths", 0),
            ("pc_mg_cycle_type", "w"),
        )
    },
    **{f"fieldsplit_{field}_mg_levels_esteig_ksp_type": "cg" for field in SYMMETRIC_BLOCK_FIELDS},
}


_LINEAR_SOLVER_KEYS = ("ksp_type", "pc_type", "ksp_rtol")


def petsc_options(solver: dict[str, Any]) -> dict[str, Any]:
    """SNES options of the case's ``[solver]`` table.

    The "mumps" preset keeps the model's default (PETSc LU in serial, MUMPS distributed); the
    model's own "iterative" preset is :data:`ITERATIVE_SOLVER`; other presets and
    ``[solver.petsc]`` apply as given.
    """
    if solver["linear_solver"] == "iterative":
        options = petsc_options_from_case({**solver, "linear_solver": "gmres-ilu", "petsc": {}})
        for key in _LINEAR_SOLVER_KEYS:
            options.pop(key, None)
        return {**options, **ITERATIVE_SOLVER, **solver["petsc"]}
    options = petsc_options_from_case(solver)
    if solver["linear_solver"] == "mumps" and "pc_factor_mat_solver_type" not in solver["petsc"]:
        for key in ("ksp_type", "pc_type", "pc_factor_mat_solver_type"):
            options.pop(key)
    return options
