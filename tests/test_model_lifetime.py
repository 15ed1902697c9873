"""A model that has run is freed when the user drops it.

Every model holds meshes, functions and PETSc solvers, and each of those holds MPI
communicators, of which MPICH gives a process 2048. A model kept alive by a reference cycle
through PETSc (a solver's Python callback that refers back to its integrator, which refers to
the solver) is invisible to Python's garbage collector: one was introduced with the Newton test's
storage round-off (the integrator kept the SNES being judged), and the test suite then aborted
in MPI ("Too many communicators (0/2048 free)") after some 200 DFN runs.
"""

import gc
import weakref

from electrolyx.models.dfn import DFN, DFNResolution
from electrolyx.parameters import chen2020


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
