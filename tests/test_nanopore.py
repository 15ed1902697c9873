"""3D charged nanopore (cases/nanopore-3d): iterative solver against MUMPS, and the bulk estimate.

Conductance of a cylindrical pore of radius a and length L in an electrolyte of conductivity
kappa = (mu_K + mu_Cl) c F, mobilities mu_k = D_k F/(RT):

    pore (bulk conduction):        G_pore = kappa pi a^2 / L,
    with the access resistance 1/(4 kappa a) of each mouth (Hall, J. Gen. Physiol. 66, 531, 1975):
                                   1/G = L/(kappa pi a^2) + 2/(4 kappa a).

The meshes here are tiny (size_factor or wall_size far above lambda_D/4): they check the solver
configuration and the 3D current, not the double-layer structure.
"""

from __future__ import annotations

import math

from mpi4py import MPI

import pytest
from conftest import CASES

from electrolyx.case import load_case
from electrolyx.constants import FARADAY, GAS_CONSTANT
from electrolyx.models.pnp import PoissonNernstPlanck

CASE = CASES / "nanopore-3d"
VT = GAS_CONSTANT * 298.15 / FARADAY
MU_SUM = (1.957e-9 + 2.032e-9) / VT  # mu_K + mu_Cl, m2/(V s)
RADIUS, LENGTH, VOLTAGE = 5.0e-9, 5.0e-8, 5.0e-3
QUIET = ["output.fields=false", "output.profiles=[]"]
MUMPS = ["solver.linear_solver='mumps'", "solver.petsc={}"]
CURRENT = "ionic_current_reservoir_bottom_end_A"


def solve(overrides):
    case = load_case(CASE, [*QUIET, *overrides])
    model = PoissonNernstPlanck(case.settings, case.directory, MPI.COMM_WORLD)
    model.build_mesh()
    model.prepare()
    model.solve()
    return model, model.update_outputs()


@pytest.mark.mpi
def test_case_iterative_solver_gives_the_mumps_answer():
    """The case's GMRES + electrochemical-potential block preconditioner against MUMPS."""
    coarse = ["mesh.size_factor=4.0"]  # ~24 k unknowns; the case's 10 mol/m3 and charged wall
    iterative, row = solve(coarse)
    direct, row_direct = solve([*coarse, *MUMPS])
    # Both Newton solves stop at a residual of 1e-10 (scaled); each Krylov solve at 1e-6 only
    # changes the Newton path, not the root, so the currents agree to the Newton tolerance
    # (measured 1e-14); 1e-6 is the bound asked of the iterative configuration.
    assert row[CURRENT] == pytest.approx(row_direct[CURRENT], rel=1e-6)
    assert row["conductance_S"] == pytest.approx(row_direct["conductance_S"], rel=1e-6)
    # The preconditioner keeps GMRES short: measured 8.5 iterations per Newton step (20 allowed;
    # block Gauss-Seidel in (psi, ln c) takes ~45, GAMG on the whole system diverges).
    stats = iterative.solver.statistics
    assert stats.linear_iterations <= 20 * stats.newton_iterations
    assert direct.solver.statistics.newton_iterations == stats.newton_iterations
    # The iterative configuration's Jacobian is stored by nodal blocks, MUMPS's by values.
    assert "baij" in iterative.solver.problem.A.getType()
    assert "baij" not in direct.solver.problem.A.getType()


@pytest.mark.mpi
def test_preconditioner_reads_a_blocked_operator_as_its_aij_copy():
    """ElectrochemicalPotentialPC reads the BAIJ Jacobian's blocks a slab of rows at a time:
    the same blocks, and the same application, as from the same Jacobian in AIJ (its blocks by
    MatCreateSubMatrix), at the first set-up and after the operator's values change; the
    operator stays BAIJ."""
    from petsc4py import PETSc

    from electrolyx.preconditioners import ElectrochemicalPotentialPC

    case = load_case(CASE, [*QUIET, "mesh.size_factor=4.0"])
    model = PoissonNernstPlanck(case.settings, case.directory, MPI.COMM_WORLD)
    model.build_mesh()
    model.prepare()
    model.solve()  # (a Jacobian at the converged state: every block nonzero)
    blocked = model.solver.problem.A
    plain = blocked.convert(PETSc.Mat.Type.AIJ, PETSc.Mat())
    PETSc.Options()["ebaij_pc_electrochemical_charge_numbers"] = "1,-1"
    # The same aggregation for both (read in slabs, MIS-2 would be the default: next test)
    for inner in ("transport", "potential"):
        PETSc.Options()[f"ebaij_{inner}_pc_gamg_aggressive_square_graph"] = True
    x = blocked.createVecRight()
    x.setRandom(PETSc.Random().create(blocked.getComm()).setFromOptions())
    contexts, pcs = [], []
    for operator in (blocked, plain):
        context = ElectrochemicalPotentialPC()
        # 8,106 vertices (3,966 and 4,140 on 2 ranks), read in 10 slabs of up to 811 (397,
        # 414), not whole
        context.slabs = 10
        context.read_whole_up_to = 0
        pc = PETSc.PC().create(operator.getComm())
        pc.setOptionsPrefix("ebaij_")
        pc.setType(PETSc.PC.Type.PYTHON)
        pc.setPythonContext(context)
        pc.setOperators(operator, operator)
        contexts.append(context)
        pcs.append(pc)

    def applied() -> list:
        results = []
        for pc in pcs:
            pc.setUp()
            y = x.duplicate()
            pc.apply(x, y)
            results.append(y.getArray().copy())
        return results

    for change in (None, 0.5):
        if change is not None:  # new values: the blocks read again into the same matrices
            for operator in (blocked, plain):
                operator.shift(change)
        results = applied()
        assert "baij" in blocked.getType()  # not converted in place
        read, extracted = contexts
        # Read in slabs, the couplings A_psi,k are not stored (their product comes from the
        # operator); read whole, they are.
        assert read._couplings == [] and len(extracted._couplings) == 2
        pairs = [*zip(read._blocks, extracted._blocks, strict=True)]
        pairs.append((read._screened, extracted._screened))
        for ours, theirs in pairs:
            difference = ours.copy()
            difference.axpy(-1.0, theirs)
            # The same values copied, S summed in the same order: equal (measured 0).
            assert difference.norm(PETSc.NormType.INFINITY) == 0.0
            assert theirs.norm(PETSc.NormType.INFINITY) > 0.0
        # The same blocks, the same GAMG set-ups: the same numbers (measured bit for bit).
        scale = max(abs(results[1]).max(), 1e-300)
        print(f"BAIJ against AIJ: {abs(results[0] - results[1]).max() / scale:.3g}")
        assert abs(results[0] - results[1]).max() <= 1e-12 * scale
        assert scale > 0.0
    for pc in pcs:
        pc.destroy()
    del PETSc.Options()["ebaij_pc_electrochemical_charge_numbers"]
    for inner in ("transport", "potential"):
        del PETSc.Options()[f"ebaij_{inner}_pc_gamg_aggressive_square_graph"]


def aggressive_coarsening(pc) -> str:
    """How a GAMG preconditioner coarsens aggressively, and its finest level's threshold, as
    PCView says them."""
    import tempfile

    from petsc4py import PETSc

    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/view.txt"
        viewer = PETSc.Viewer().createASCII(path, comm=PETSc.COMM_SELF)
        pc.view(viewer)
        viewer.destroy()
        lines = [line.strip() for line in open(path).read().splitlines()]
    (line,) = [line for line in lines if line.endswith("aggressive coarsening")]
    (threshold,) = [line for line in lines if line.startswith("Threshold for dropping")]
    return f"{line}, threshold {float(threshold.split('=')[1].split()[0]):g}"


def test_preconditioner_aggregates_by_mis2_on_meshes_read_in_slabs():
    """Read in slabs (large meshes), the inner GAMGs aggregate by MIS-2 with threshold 0 unless
    the case says otherwise; read whole (small meshes), on the square graph (PETSc's default)
    with threshold 0.02."""
    from petsc4py import PETSc

    from electrolyx.preconditioners import ElectrochemicalPotentialPC

    case = load_case(CASE, [*QUIET, "mesh.size_factor=4.0"])
    model = PoissonNernstPlanck(case.settings, case.directory, MPI.COMM_SELF)
    model.build_mesh()
    model.prepare()
    model.solve()
    operator = model.solver.problem.A
    options = PETSc.Options()
    options["mis_pc_electrochemical_charge_numbers"] = "1,-1"
    found = {}
    for label, whole_up_to, given in (
        ("slabs", 0, None),
        ("whole", 10**9, None),
        ("slabs, case's square graph", 0, True),
    ):
        if given is not None:
            options["mis_transport_pc_gamg_aggressive_square_graph"] = given
        context = ElectrochemicalPotentialPC()
        context.read_whole_up_to = whole_up_to
        pc = PETSc.PC().create(operator.getComm())
        pc.setOptionsPrefix("mis_")
        pc.setType(PETSc.PC.Type.PYTHON)
        pc.setPythonContext(context)
        pc.setOperators(operator, operator)
        pc.setUp()
        found[label] = [aggressive_coarsening(ksp.getPC()) for ksp in context._transport_ksps]
        found[label].append(aggressive_coarsening(context._potential_ksp.getPC()))
        pc.destroy()
    mis = "MIS-k aggressive coarsening, threshold 0"
    square = "Square graph aggressive coarsening, threshold 0.02"
    assert found["slabs"] == [mis] * 3
    assert found["whole"] == [square] * 3
    # the transport blocks as the case says (with the square graph's threshold), the potential
    # block by the default
    assert found["slabs, case's square graph"] == [square, square, mis]
    # the defaults are not left in the options database
    assert not options.hasName("mis_potential_pc_gamg_aggressive_square_graph")
    assert not options.hasName("mis_potential_pc_gamg_threshold")
    del options["mis_pc_electrochemical_charge_numbers"]
    del options["mis_transport_pc_gamg_aggressive_square_graph"]


@pytest.mark.mpi
def test_multigrid_products_are_cleared_on_several_ranks_with_the_same_answer(monkeypatch):
    """On several ranks, where it reads the Jacobian in slabs (large meshes), the preconditioner
    drops its GAMG hierarchies' triple-product data after each set-up
    (``pc_electrochemical_clear_products``, default true), serially it keeps it; either way the
    same Newton and GMRES iterations and the same current as with it kept."""
    import ctypes

    from electrolyx.compiled_assembly import petsc_function
    from electrolyx.preconditioners import ElectrochemicalPotentialPC

    # 8,106 vertices: read in slabs as a large mesh would be
    monkeypatch.setattr(ElectrochemicalPotentialPC, "read_whole_up_to", 0)
    coarse = ["mesh.size_factor=4.0"]
    cleared_model, cleared = solve(coarse)
    kept_model, kept = solve([*coarse, "solver.petsc.pc_electrochemical_clear_products=false"])
    print(f"cleared against kept: {abs(cleared[CURRENT] / kept[CURRENT] - 1):.3g}")
    # The next set-up makes the same products again from their symbolic part: the same
    # numbers (measured equal on 2 ranks). Serially, where nothing is cleared, the two solves
    # differ by 0 to 2.3e-15 (measured): each solve's smoothers estimate their eigenvalues
    # from other random vectors. 1e-12 bounds both.
    assert cleared[CURRENT] == pytest.approx(kept[CURRENT], rel=1e-12)
    for count in ("newton_iterations", "linear_iterations"):
        stats = (cleared_model.solver.statistics, kept_model.solver.statistics)
        assert getattr(stats[0], count) == getattr(stats[1], count), count
    product_type = petsc_function("MatProductGetType", [ctypes.c_void_p, ctypes.c_void_p])

    def product_types(model) -> list[int]:
        context = model.solver.snes.getKSP().getPC().getPythonContext()
        types = []
        for ksp in (*context._transport_ksps, context._potential_ksp):
            pc = ksp.getPC()
            for level in range(pc.getMGLevels() - 1):  # the coarse operators
                kind = ctypes.c_int(-1)
                operator = pc.getMGSmoother(level).getOperators()[0]
                assert product_type(operator.handle, ctypes.addressof(kind)) == 0
                types.append(kind.value)
        return types

    several = MPI.COMM_WORLD.size > 1
    # 0: MATPRODUCT_UNSPECIFIED, no product data kept
    assert all(kind == 0 for kind in product_types(cleared_model)) == several
    assert any(kind != 0 for kind in product_types(kept_model))


@pytest.mark.mpi
def test_current_at_high_concentration_is_bulk_plus_access():
    """At 1000 mol/m3 (lambda_D = 0.3 nm << a) the pore conducts like bulk electrolyte."""
    concentration = 1000.0
    _, row = solve(
        [
            f"species.0.bulk_concentration={concentration}",
            f"species.1.bulk_concentration={concentration}",
            "mesh.wall_size=2.0e-9",  # coarse: 25 k unknowns (the double layer is not resolved)
            "mesh.wall_layer_thickness=0.0",
        ]
    )
    kappa = MU_SUM * concentration * FARADAY
    pore = kappa * math.pi * RADIUS**2 / LENGTH
    # Four-probe taps inside the pore: the bulk value. Surface conduction adds at most
    # 2 |sigma| / (a c F) x |mu_K - mu_Cl| / (mu_K + mu_Cl) = 1.6e-4 at low zeta; the coarse
    # mesh costs -0.4 % (measured -0.40 %, -0.23 % with wall_size 1.5 nm): bound 1 %.
    assert row["conductance_S"] / pore == pytest.approx(1.0, abs=0.01)
    total = 1.0 / (1.0 / pore + 2.0 / (4.0 * kappa * RADIUS))
    # Whole device (reservoir ends at +-2.5 mV) against Hall's bulk + access estimate. The
    # finite reservoirs (R = H = 10 a) shift the estimate by +0.2 % (Roess's constriction factor
    # 1 - 1.409 a/R on the access term, plus the reservoirs' own H/(kappa pi R^2)); the mesh by
    # -0.4 % as above; the rest is Hall's treatment of each mouth as an equipotential disc.
    # Measured -0.04 % (-0.22 % from the finite-reservoir estimate); bound 1.5 %.
    assert abs(row[CURRENT]) / VOLTAGE / total == pytest.approx(1.0, abs=0.015)
    # The pore's openings are inside facet groups, their current measured out of the pore:
    # in the steady state the device current leaves it at the bottom and enters at the top.
    # Each region's discrete balance holds to Newton's tolerance: measured 2e-14 relative
    # (1 and 2 ranks); 1e-7 as for the nanochannel's entrances (3e-9 there).
    assert row["ionic_current_pore_opening_bottom_A"] == pytest.approx(row[CURRENT], rel=1e-7)
    assert row["ionic_current_pore_opening_top_A"] == pytest.approx(-row[CURRENT], rel=1e-7)
    for wall in ("pore_wall", "membrane_surface_top", "membrane_surface_bottom", "reservoir_wall"):
        # Blocking: measured <= 5e-14 of the device current. The reservoir wall's ring of
        # nodes on the reservoir ends gives its flux to the ends (it took 5e-4 before).
        assert abs(row[f"ionic_current_{wall}_A"]) <= 1e-10 * abs(row[CURRENT]), wall
