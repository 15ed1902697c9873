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

The package's modules, one job each: :mod:`.tsintegrator` (the :class:`TSIntegrator` class: its
set-up and :meth:`~TSIntegrator.integrate`), :mod:`.solve` (one TS from start to end: options,
tolerances, events, outputs, replay), :mod:`.assembly` (states between functions and the
monolithic vector; residual and Jacobian assembly; Newton's options), :mod:`.consistency`
(:meth:`~TSIntegrator.make_consistent`), :mod:`.history` (:class:`ReplayHistory`, the resumable
history), :mod:`.derivatives` (UFL: the rates of named unknowns and the Jacobian blocks),
:mod:`.condensation` (a nodal field eliminated exactly from the linear systems) and
:mod:`.results` (:class:`Event`, :class:`IntegrationResult`, :class:`IntegrationFailure`).
"""

from .derivatives import TSTimeDerivative
from .history import REPLAY_STEPS, ReplayHistory
from .results import EVENT_RESTARTS as EVENT_RESTARTS
from .results import AffineIndicator, Event, IntegrationFailure, IntegrationResult
from .tsintegrator import TSIntegrator

__all__ = [
    "AffineIndicator",
    "REPLAY_STEPS",
    "Event",
    "IntegrationFailure",
    "IntegrationResult",
    "ReplayHistory",
    "TSIntegrator",
    "TSTimeDerivative",
]
