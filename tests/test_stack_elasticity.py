"""The cell elasticity of a DFN case ([elasticity], cases/pouch-2d-swelling and
cases/pouch-3d-swelling) against the closed form of a laterally constrained stack, on 1 and 2
ranks.

Without tabs the 2D cross-section's (the 3D pouch's) state does not vary along the height (nor
the width), and with "stack-pressure" the stack is held by rollers on all its edges: uniaxial
strain, the same in 2D plane strain and in 3D. Each layer i
(thickness t_i, E_i, nu_i, free swelling strain s(x)) then has sigma_xx = -p and the collector
face moves by

    u_x(L) = sum_electrodes (1 + nu) / (1 - nu) int s dx
             - p sum_i t_i (1 + nu_i) (1 - 2 nu_i) / (E_i (1 - nu_i)),

and the von Mises stress of a layer is p (1 - 2 nu_i) / (1 - nu_i) where nothing swells. With the
same nu in both electrodes int s dx over them is the DFN's cell_thickness_change_m / 3 (the
same swelling field): the face displacement is known at every row. P1 elements hold the
piecewise-quadratic u_x exactly at the nodes (a 1D problem; in 3D the structured hexahedra
keep it one), so the bar is round-off: 1e-8.
"""

import csv

from mpi4py import MPI

import pytest
from conftest import CASES

from electrolyx.case import load_case
from electrolyx.driver import run_case

CASE = CASES / "pouch-2d-swelling"
CASE_3D = CASES / "pouch-3d-swelling"
PRESSURE = 1e5  # Pa, the case's stack pressure
NU = 0.3  # both electrodes (the positive's overridden from 0.25)
#: (thickness [m], E [Pa], nu) of each layer: foils, electrodes (Chen2020), separator.
LAYERS = [
    (12e-6, 117e9, 0.34),
    (85.2e-6, 10e9, 0.3),
    (12e-6, 0.5e9, 0.35),
    (75.6e-6, 80e9, NU),
    (16e-6, 70e9, 0.33),
]
OVERRIDES = [
    "geometry.tabs=false",
    "geometry.height_cells=3",
    "mesh.negative_cells=6",
    "mesh.separator_cells=3",
    "mesh.positive_cells=6",
    f"elasticity.positive_electrode.poissons_ratio={NU}",
    'experiment.steps=["Discharge at 1C for 300 s"]',
    "output.row_interval=60.0",
]


def closed_form_rows(folder):
    """The time series' rows, each checked against the closed-form face displacement (1e-8
    relative: round-off, see the module's docstring); the stack's compression p sum_i ..."""
    with open(folder / "timeseries.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) >= 5
    compression = PRESSURE * sum(
        t * (1 + nu) * (1 - 2 * nu) / (E * (1 - nu)) for t, E, nu in LAYERS
    )
    for row in rows:
        swelling = (1 + NU) / (1 - NU) * float(row["cell_thickness_change_m"]) / 3.0
        expected = swelling - compression
        scale = max(abs(swelling), compression)
        assert abs(float(row["stack_face_displacement_m"]) - expected) < 1e-8 * scale, row
    return rows, compression


@pytest.mark.mpi
@pytest.mark.parametrize("linear_solver", ["direct", "gamg"])
def test_stack_under_pressure_and_swelling_matches_the_closed_form(shared_tmp_path, linear_solver):
    overrides = [*OVERRIDES, f'elasticity.linear_solver="{linear_solver}"']
    case = load_case(CASE, overrides)
    code, folder = run_case(case, shared_tmp_path / "out", MPI.COMM_WORLD, lambda _: None)
    assert code == 0
    rows, compression = closed_form_rows(folder)
    # At t = 0 nothing swells: the largest von Mises stress is that of the electrodes (nu =
    # 0.3), p (1 - 2 nu) / (1 - nu), their nodes away from the interfaces unmixed.
    # (t = 0: the swelling is round-off, 1e-20 m, of dV/V(x_0) evaluated twice.)
    assert abs(float(rows[0]["cell_thickness_change_m"])) < 1e-8 * compression
    von_mises = PRESSURE * (1 - 2 * NU) / (1 - NU)
    assert float(rows[0]["max_von_mises_stress_Pa"]) == pytest.approx(von_mises, rel=1e-8)
    # The electrodes swell (graphite delithiates, shrinking; NMC lithiates): the stack moves.
    assert abs(float(rows[-1]["cell_thickness_change_m"])) > 100 * compression
    # The fields for ParaView carry the displacement and the von Mises stress.
    pieces = [p.read_text() for p in (folder / "fields").glob("*.pvtu")]
    assert pieces and all('Name="displacement_m"' in text for text in pieces)
    assert all('Name="von_mises_stress_Pa"' in text for text in pieces)
    if MPI.COMM_WORLD.size == 1 and linear_solver == "direct":
        # The report renders them first (pyvista off-screen), despite the NaN of other fields.
        from electrolyx.postprocess.report import write_report

        write_report(folder, plots=False, max_renders=2)
        renders = sorted(p.name for p in (folder / "figures").glob("render_*.png"))
        assert [name.split("_t")[0] for name in renders] == [
            "render_displacement_m",
            "render_von_mises_stress_Pa",
        ]


@pytest.mark.mpi
def test_3d_pouch_under_pressure_and_swelling_matches_the_closed_form(shared_tmp_path):
    """cases/pouch-3d-swelling without its tabs on a coarse mesh: the 3D stack (structured
    hexahedra, rollers on its four edge faces) is the 2D stack's uniaxial strain: the same
    closed form at every row, to 1e-8 (round-off). Its layers are 12 um to 85 um thick under
    5 mm x 5 mm cells, where CG + GAMG stalls (the reason for the default direct solver)."""
    text = (CASE_3D / "case.toml").read_text()
    kept = [
        line
        for line in text.splitlines()
        if not line.startswith(("negative_tab", "positive_tab", "tab_length"))
    ]
    directory = shared_tmp_path / "case"
    if MPI.COMM_WORLD.rank == 0:
        directory.mkdir()
        (directory / "case.toml").write_text("\n".join(kept) + "\n")
    MPI.COMM_WORLD.barrier()
    overrides = [
        "geometry.tabs=false",
        "geometry.height=0.01",
        "geometry.height_cells=2",
        "geometry.width=0.01",
        "geometry.width_cells=2",
        "mesh.negative_cells=6",
        "mesh.separator_cells=3",
        "mesh.positive_cells=6",
        "mesh.negative_radial_points=8",
        "mesh.positive_radial_points=8",
        f"elasticity.positive_electrode.poissons_ratio={NU}",
        'experiment.steps=["Discharge at 1C for 300 s"]',
        "output.row_interval=60.0",
        "output.fields=false",
        "output.profile_times=[]",
    ]
    case = load_case(directory, overrides)
    code, folder = run_case(case, shared_tmp_path / "out", MPI.COMM_WORLD, lambda _: None)
    assert code == 0
    rows, compression = closed_form_rows(folder)
    # The electrodes swell: the face moves by far more than the pressure compresses the stack.
    assert abs(float(rows[-1]["cell_thickness_change_m"])) > 100 * compression


@pytest.mark.mpi
def test_the_plates_press_the_stack_not_its_tabs():
    """The casing's faces are the stack's collector faces: the tabs above its height stay free
    (pressed, a 16 um aluminium tab bends as a cantilever: micrometres under 1 bar). Their
    areas are the stack's height x 1 m (2D), exactly (a sum of facet lengths)."""
    import ufl
    from dolfinx import fem

    from electrolyx.models import model_class

    overrides = [o for o in OVERRIDES if not o.startswith("geometry.tabs")]
    case = load_case(CASE, overrides)  # with its tabs
    cell = model_class(case.model)(case.settings, case.directory, MPI.COMM_WORLD)
    cell.build_mesh()
    stack = cell._stack_elasticity()
    mesh = cell.model.mesh
    ds = ufl.Measure("ds", domain=mesh, subdomain_data=stack.facet_tags)
    one = fem.Constant(mesh, 1.0)
    height = case.settings["geometry"]["height"]
    for marker in (1, 2):
        area = mesh.comm.allreduce(fem.assemble_scalar(fem.form(one * ds(marker))), op=MPI.SUM)
        assert area == pytest.approx(height * 1.0, rel=1e-12)


def test_elasticity_needs_a_2d_swelling_cell(tmp_path):
    from electrolyx.errors import CaseError

    with pytest.raises(CaseError) as info:
        load_case(CASE, ['mechanics.particle="none"'])
    assert "elasticity.solve" in str(info.value)
    assert "negative electrode" in str(info.value)
