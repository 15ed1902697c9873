"""Consistent initialisation: the algebraic unknowns solved with the differential ones held."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from petsc4py import PETSc

import numpy as np

from .assembly import _snes_reason
from .results import IntegrationFailure


class ConsistentInitialisation:
    """:meth:`make_consistent` of :class:`TSIntegrator`."""

    def make_consistent(
        self,
        t: float,
        held: Sequence[int] | None = None,
        rate_step_s: float | None = None,
        reference: Sequence[np.ndarray] | None = None,
        lagging: bool = False,
        step_limit: float | None = None,
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
            lagging: Newton reuses its Jacobian as the integrator's ``jacobian_reuse`` and
                the options' ``snes_lag_jacobian`` say (default: a Jacobian at every
                iteration, whatever they say), for a caller that solves time steps this way.
            step_limit: Largest change of any unknown in one Newton iteration (in the
                unknowns' own scaled units); a longer Newton update is shortened along its
                direction (:func:`limited_step`). None: full Newton updates.

        Returns:
            Newton iterations used.

        Raises:
            IntegrationFailure: if Newton does not converge (the unknowns are left as they were).
        """
        x0 = self._duplicate(self.x)
        self._state_loaded = None  # (the unknowns are written below; see _state_at)
        present = [u.x.array.copy() for u in self.unknowns]
        if reference is not None:
            for function, values in zip(self.unknowns, reference, strict=True):
                function.x.array[:] = values
        self._store(self.unknowns, x0)
        for function, values in zip(self.unknowns, present, strict=True):
            function.x.array[:] = values
        held = self._differential_fields if held is None else held
        held_mask = self._mask(held)
        # Whole fields held: their rows become identity rows, so their Jacobian blocks (the
        # particles', the temperature's: the costliest) are not assembled at all.
        held_fields = frozenset(item for item in held if not isinstance(item, tuple | list))
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
            reused = self._keep_jacobian  # (jacobian_reuse: P left as it is)
            rate.getArray()[:] = shift * (x.getArray(readonly=True) - x0.getArray(readonly=True))
            self._jacobian(None, t, x, rate, shift, J, P, skip_rows=held_fields)
            if held and not reused:  # (held, the same on every rank: none, nothing to zero)
                self._zero_rows(P, rows, diag=1.0)
                if self._condensed is not None:
                    self._condensed.update(P)

        snes = PETSc.SNES().create(self.comm)
        f = self._duplicate(x0)
        snes.setFunction(residual, f)
        snes.setJacobian(jacobian, self.matrix, self.matrix)
        step = np.inf if rate_step_s is None else rate_step_s
        self._configure_snes(snes, self.prefix + "init_", lagging=lagging, step=lambda: step)
        if step_limit is not None:
            snes.setLineSearchPreCheck(limited_step(step_limit))
        x = self._duplicate(x0)
        self._store(self.unknowns, x)
        x.getArray()[held_mask] = x0.getArray(readonly=True)[held_mask]
        self._assembler.set_bc(x)
        snes.solve(None, x)
        iterations = snes.getIterationNumber()
        reason = snes.getConvergedReason()
        self.totals["linear_iterations"] += snes.getLinearSolveIterations()
        converged = reason > 0 and np.isfinite(x.norm())
        self._destroy_newton_solver(snes, failed=not converged)
        self.totals["newton_iterations"] += iterations
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


def limited_step(limit: float) -> Callable[[PETSc.Vec, PETSc.Vec], None]:
    """A Newton line search's pre-check that shortens an update to at most ``limit`` an entry.

    PETSc's Newton moves from x to x - y; where max |y_i| > limit, y is scaled by
    limit / max |y_i| (its direction kept). Collective (the largest entry over all ranks).

    For an exponential law such as Butler-Volmer's j = 2 j0 sinh(eta / 2 V_T) a full Newton
    update from far away overshoots: linearised at eta = 0 it asks eta = j / j0 (in V_T), so
    a cell at rest asked for 3C asks 25 V_T where 6 V_T will do, and Newton then walks back
    about one V_T per iteration. Steps of at most ``limit`` approach the root from either side
    in a few iterations instead.
    """

    def precheck(x: PETSc.Vec, y: PETSc.Vec) -> None:
        # max |y_i| over the ranks by PETSc's reduction (exact, as a max is; ~25 us less than
        # numpy's with mpi4py's reduction of a Python float, at each consistent iteration)
        largest = y.norm(PETSc.NormType.NORM_INFINITY)
        if largest > limit:
            y.scale(limit / largest)

    return precheck
