"""Newton's method on a half cell's fields and its collector voltage together (bordered).

The collector voltage V is the unknown that makes the interface current equal the applied one;
it borders the Jacobian of the fields (see :func:`bordered_newton`).
"""

from __future__ import annotations

from petsc4py import PETSc

import numpy as np
from dolfinx.fem.petsc import assemble_vector as assemble_petsc_vector
from dolfinx.fem.petsc import assign as petsc_assign

from ...solver import NewtonFailure

__all__ = ["bordered_newton"]


def bordered_newton(cell, current_A: float, relative_tolerance: float) -> int:
    """Newton's method on the unknowns u and the collector voltage V together.

    Args:
        cell: The :class:`~electrolyx.models.microstructure.cell.ResolvedHalfCell`, its unknowns
            at the initial guess.
        current_A: Applied current, positive on discharge [A].
        relative_tolerance: The current condition holds to this times max(|I|, I_1C).

    Returns:
        Newton iterations.

    Raises:
        NewtonFailure: the fields and V are back at the guess.


    The discrete equations are R(u, V) = 0 (every law; V enters through the collector's
    Dirichlet condition) and g(u) = I(u) - I_app = 0 (I: the interface current). Each
    iteration solves the bordered system

        [ J    R_V ] [du]     [R]
        [ g_u   0  ] [dV] = - [g]

    by two solves with J: J du_1 = -R and J du_2 = -R_V, then
    dV = -(g + g_u . du_1) / (g_u . du_2) and du = du_1 + dV du_2. R_V is exact from two
    residuals (R is affine in V through the lifted boundary condition), g_u is the assembled
    derivative of I. Backtracking on ||R||^2 + (g / I_1C)^2 / N (N unknowns: the current
    weighs like one residual row per unknown) keeps the first step from rest, where
    Butler-Volmer switches on, from overshooting. This replaces secant iterations on V,
    each a whole Newton solve: a step now costs one Newton solve of twice the linear work.

    SNES options give the tolerances: converged when ||R|| <= max(atol, rtol ||R_0||) (or
    the update is below stol) and |g| <= ``relative_tolerance`` max(|I_app|, I_1C).
    """
    snes = cell.problem.solver
    ksp = snes.getKSP()
    rtol, atol, stol, max_it = snes.getTolerances()
    x, residual = cell.problem.x, cell.problem.b
    jacobian = cell.problem.A
    preconditioner = cell.problem.P_mat or jacobian
    petsc_assign(cell.u, x)
    guess = [function.x.array.copy() for function in cell.u]
    guess_voltage = float(cell.terminal_voltage.value)
    current_scale = max(abs(current_A), cell.one_c_current_A)
    where = f"t = {cell.time_s:g} s, I = {current_A:g} A"
    # The voltage predicted from the last step's resistance dV/dI (0.01 V per 1C at first).
    resistance = cell.resistance_ohm or 0.01 / cell.one_c_current_A
    voltage = (cell.voltage_V - resistance * (current_A - cell.current_A)) / (
        cell.thermal_voltage_ref
    )

    def evaluate(v: float) -> tuple[float, float]:
        with cell.timer.phase("residual"):
            cell.terminal_voltage.value = v
            snes.computeFunction(x, residual)
            mismatch = cell.integral(cell.diagnostic_forms["interface"]) - current_A
            return residual.norm(), mismatch

    def done(iterations: int) -> int:
        # dI/dV of the converged step predicts the next step's voltage.
        if cell.current_sensitivity < 0:
            cell.resistance_ohm = -cell.thermal_voltage_ref / cell.current_sensitivity
        for vector in (rhs, du_1, du_2, voltage_derivative, residual_at_voltage):
            vector.destroy()
        cell.residual_history = history
        return iterations

    def fail(reason: str) -> NewtonFailure:
        for vector in (rhs, du_1, du_2, voltage_derivative, residual_at_voltage):
            vector.destroy()
        for function, values in zip(cell.u, guess, strict=True):
            function.x.array[:] = values
        cell.terminal_voltage.value = guess_voltage
        return NewtonFailure(reason, history, where)

    rhs, du_1, du_2, voltage_derivative, residual_at_voltage = (
        residual.duplicate() for _ in range(5)
    )

    def converged(norm: float, mismatch: float, factor: float = 1.0) -> bool:
        return (
            norm <= factor * max(atol, rtol * first_norm)
            and abs(mismatch) <= relative_tolerance * current_scale
        )

    def merit(norm: float, mismatch: float) -> float:
        return norm**2 + (mismatch / cell.one_c_current_A) ** 2 / unknowns

    norm, mismatch = evaluate(voltage)
    history = [norm]
    first_norm, step_norm = norm, np.inf
    unknowns = x.getSize()
    backtracking = snes.getLineSearch().getType() != "basic"
    for iteration in range(max_it + 1):
        if not np.isfinite(norm) or not np.isfinite(mismatch):
            raise fail("non-finite residual")
        update_small = iteration > 0 and step_norm <= stol * x.norm()
        if converged(0.0 if update_small else norm, mismatch):
            return done(iteration)
        if iteration == max_it:
            raise fail(f"no convergence in {max_it} iterations")
        # R_V: R is affine in V (the lifting of the Dirichlet condition at fixed u).
        residual.copy(residual_at_voltage)
        evaluate(voltage + 1.0)
        residual.copy(voltage_derivative)
        voltage_derivative.axpy(-1.0, residual_at_voltage)  # R(V + 1) - R(V)
        cell.terminal_voltage.value = voltage
        with cell.timer.phase("jacobian"):
            snes.computeJacobian(x, jacobian, preconditioner)
            current_derivative = assemble_petsc_vector(cell.current_derivative_form, kind="mpi")
            current_derivative.ghostUpdate(PETSc.InsertMode.ADD, PETSc.ScatterMode.REVERSE)
            current_derivative.scale(cell.depth_m)  # as in integral
        with cell.timer.phase("preconditioner_setup"):
            ksp.setOperators(jacobian, preconditioner)
            ksp.setUp()
        for b, solution in ((residual_at_voltage, du_1), (voltage_derivative, du_2)):
            b.copy(rhs)
            rhs.scale(-1.0)
            with cell.timer.phase("linear_solve"):
                ksp.solve(rhs, solution)
            cell.linear_iterations += ksp.getIterationNumber()
            if ksp.getConvergedReason() < 0:
                raise fail(f"linear solver: KSP reason {ksp.getConvergedReason()}")
        cell.current_sensitivity = current_derivative.dot(du_2)
        if cell.current_sensitivity == 0:
            raise fail("the current does not depend on the collector voltage")
        dvoltage = -(mismatch + current_derivative.dot(du_1)) / cell.current_sensitivity
        current_derivative.destroy()
        du_1.axpy(dvoltage, du_2)  # du = du_1 + dV du_2
        cell.newton_iterations += 1
        start_merit = merit(norm, mismatch)
        step = 1.0
        x.axpy(step, du_1)
        trial_norm, trial_mismatch = evaluate(voltage + step * dvoltage)
        while backtracking:
            trial_merit = merit(trial_norm, trial_mismatch)
            if np.isfinite(trial_merit) and (
                trial_merit < (1 - 1e-4 * step) * start_merit
                or converged(trial_norm, trial_mismatch)
            ):
                break
            x.axpy(-step / 2, du_1)
            step /= 2
            if step < 1e-3:
                if converged(norm, mismatch, factor=10.0):
                    # Within 10x of the tolerance and no step decreases the residual: the
                    # residual is at its round-off floor. Back to the point of ``norm``.
                    x.axpy(-step, du_1)
                    evaluate(voltage)
                    return done(iteration + 1)
                raise fail("line search: no decrease of the residual")
            trial_norm, trial_mismatch = evaluate(voltage + step * dvoltage)
        voltage += step * dvoltage
        norm, mismatch = trial_norm, trial_mismatch
        step_norm = step * du_1.norm()
        history.append(norm)
    raise AssertionError("unreachable")
