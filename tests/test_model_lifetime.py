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


def _free_communicators(limit: int = 2100) -> int:
    """How many more communicators MPICH would give this process (each duplicate then freed)."""
    from mpi4py import MPI

    made = []
    try:
        while len(made) < limit:
            made.append(MPI.COMM_SELF.Dup())
    except MPI.Exception:
        pass  # (context ids exhausted: MPICH's "Too many communicators")
    for comm in made:
        comm.Free()
    return len(made)


def test_models_built_one_after_another_do_not_run_out_of_communicators():
    """A serial process that builds model after model, dropping each (a notebook, a sweep,
    a test worker), frees the earlier ones' communicators before it runs out of MPICH's 2048:
    with the automatic cycle collector off (as it may not run for a long time in a big
    process), every EARLIER_MODELS-th new model collects the garbage first
    (electrolyx.collector.collect_earlier_models). Without it a test worker ran out after
    some 70 models and dolfinx ended the process through MPI_Abort."""
    from mpi4py import MPI

    from electrolyx import collector

    if MPI.COMM_WORLD.size > 1:
        pytest.skip("the collection is made in serial processes only")
    resolution = DFNResolution(4, 2, 4, 5, 5)
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = _free_communicators()
        DFN(chen2020(), resolution).discharge(5.0, duration_s=60.0)
        one_model = start - _free_communicators()  # held by one dropped, uncollected model
        for _ in range(3 * collector.EARLIER_MODELS):
            DFN(chen2020(), resolution).discharge(5.0, duration_s=60.0)
        held = start - _free_communicators()
    finally:
        if enabled:
            gc.enable()
        gc.collect()
    # A dropped model holds its communicators until the collector runs (measured: 30).
    assert one_model >= 10
    # The 13 models would hold 13 models' worth; with a collection at every EARLIER_MODELS-th
    # new model at most EARLIER_MODELS + 1 models' worth are held (the last ones since the
    # last collection, and the one being built then).
    assert held <= (collector.EARLIER_MODELS + 1) * one_model


def test_a_mesh_whose_form_was_compiled_is_freed(tmp_path):
    """A form compiled afresh (a form-cache miss) does not keep its mesh alive: on CPython
    3.13.0-3.13.1 UFL's derivative dispatcher, kept for good by functools.singledispatchmethod's
    per-instance cache (CPython gh-127750), held the form's expressions and with them the mesh
    and its MPI communicators, 5 for this interval mesh, at every compilation; electrolyx turns
    that cache off at import."""
    from mpi4py import MPI

    import ufl
    from dolfinx import fem, mesh

    def compile_afresh():
        cell_mesh = mesh.create_unit_interval(MPI.COMM_SELF, 4)
        u = fem.Function(fem.functionspace(cell_mesh, ("Lagrange", 1)))
        # (a cache folder of its own: FFCx generates and compiles the form here)
        fem.form(u * u * ufl.dx, jit_options={"cache_dir": str(tmp_path)})
        return weakref.ref(cell_mesh)

    gc.collect()
    start = _free_communicators()
    reference = compile_afresh()
    gc.collect()
    assert reference() is None  # exact: freed or not
    assert _free_communicators() == start  # every communicator of the mesh given back
