"""A model that has run is freed when the user drops it.

Every model holds meshes, functions and PETSc solvers, and each of those holds MPI
communicators, of which MPICH gives a process 2048. A model kept alive by a reference cycle
through PETSc (a solver's Python callback that refers back to its integrator, which refers to
the solver) is invisible to Python's garbage collector: one was introduced with the Newton test's
storage round-off (the integrator kept the SNES being judged), and the test suite then aborted
in MPI ("Too many communicators (0/2048 free)") after some 200 DFN runs.

On several ranks petsc4py does not destroy a PETSc object whose last reference Python drops: it
defers that to a collective clean-up, and until then the object's Python callbacks live on. A
Newton solver left so kept its convergence test, and with it the integrator and the model, alive
after every distributed run (tests/test_every_case_on_two_ranks.py then ran out of communicators
in its 24th case). Under ``mpiexec -n 2`` this test runs the model over both ranks.
"""

import gc
import weakref

import pytest

from electrolyx.models.dfn import DFN, DFNResolution
from electrolyx.parameters import chen2020


@pytest.mark.mpi
def test_a_dfn_model_that_has_run_is_freed():
    model = DFN(chen2020(), DFNResolution(4, 2, 4, 5, 5))
    model.discharge(5.0, 2.5)
    # It ran to its located 2.5 V cut-off (the event is located far inside 1 mV).
    assert abs(model.voltage() - 2.5) < 1e-3
    reference = weakref.ref(model)
    del model
    gc.collect()
    # Exact: the model is either freed or not.
    assert reference() is None
