"""The DFN's residual is continuous where the electrolyte concentration crosses the laws' floor.

The electrolyte laws see c_e held at a floor, max(c_e, 1e-6 c_e0)
(:data:`electrolyx.models.dfn.problem.ELECTROLYTE_LAW_FLOOR`). The diffusion term of the ionic
current, 2 kappa_eff V_T (1 - t+) chi grad(c_e) / c_e, once took the gradient of that floored
value: zero below the floor, so the current jumped by 2 kappa_eff V_T (1 - t+) chi |grad c_e| /
c_floor wherever c_e crossed the floor at a quadrature point. A depleted positive electrode then
had no solution at the crossing: Newton cycled across the jump (the residual along its step
jumped by 1.9e-4 between two states a last bit apart) and the 3D pouch case
(cases/pouch-3d-thermal-3C) took 1e-9 s steps at 572.40 s. The term now takes the gradient of
c_e itself over the floored c_e: continuous in c_e (docs/dfn.md, "At the extremes").
"""

from __future__ import annotations

from mpi4py import MPI

import numpy as np
from conftest import CASES

from electrolyx.case import load_case
from electrolyx.driver import prepare
from electrolyx.models.dfn.problem import ELECTROLYTE_LAW_FLOOR
from electrolyx.output import PhaseTimer


def test_the_residual_is_continuous_as_the_electrolyte_crosses_its_floor():
    # The floor belongs to the concentration unknown (the log-concentration one has none).
    case = load_case(
        CASES / "dfn-chen2020-1C",
        values={"output.fields": False, "time_stepping.electrolyte_unknown": "concentration"},
    )
    model = prepare(case, MPI.COMM_SELF, PhaseTimer()).model
    problem, integrator = model.problem, model.problem.integrator
    names = problem.unknowns.names
    electrolyte = problem.unknowns.functions[names.index("electrolyte_concentration")]
    x = electrolyte.function_space.tabulate_dof_coordinates()[:, 0]
    # Scaled unknown (c_e / c_e0): a linear profile through the floor inside the positive
    # electrode, 2e-4 c_e0 per cell, falling deeper in (the depleted pouch's slope: 0.22 mol/m3
    # over one of its cells), its zero moved across one cell in 400 equal steps.
    positive = np.sort(np.unique(x[x > 0.6 * x.max()]))
    cell = positive[1] - positive[0]
    state, rates = integrator.x.duplicate(), integrator.x.duplicate()
    residual = integrator.x.duplicate()
    rates.set(0.0)
    offsets = np.cumsum([0] + [f.x.array.size for f in problem.unknowns.functions])
    block = names.index("electrolyte_potential")
    rows = slice(offsets[block], offsets[block + 1])
    values = []
    for crossing in positive[2] + cell * np.linspace(0.0, 1.0, 401):
        electrolyte.x.array[:] = 2e-4 * (crossing - x) / cell + ELECTROLYTE_LAW_FLOOR
        integrator._store(problem.unknowns.functions, state)
        integrator._assemble_residual(0.0, state, rates, residual)
        values.append(residual.getArray(readonly=True)[rows].copy())
    change = np.max(np.abs(np.diff(np.array(values), axis=0)), axis=1)
    # Continuous: every step of the profile changes the charge balance by a like amount. The
    # largest step is 4.8 times the median, where the zero passes a node and the exchange
    # current's sqrt(c_e) rises steeply just above the floor (continuous, decaying over the
    # next steps); with the floored gradient the step where the zero passed a quadrature
    # point jumped by 1.3e-2, 2.8e4 times the median (measured; the bar sits between them).
    assert np.max(change) <= 10.0 * np.median(change)
