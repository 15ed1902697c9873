"""Field renders of 1D, 2D and 3D result folders: size, content, thumbnails, bad requests."""

from pathlib import Path

from mpi4py import MPI

import numpy as np
import pytest
from postprocess_data import (
    CHANNEL_LENGTH_M,
    load_rgb,
    pixel_std,
    thumbnail_difference,
    write_result_folder,
)

from electrolyx.postprocess import PostprocessError, ResultFolder, render_field
from electrolyx.postprocess.cli import main as postprocess_main

# Mean absolute difference, on the 0-255 scale, allowed between a 64x48 thumbnail of a render and
# the stored one, over the pixels that are not white. Same machine: 0. Another machine may hint
# fonts and anti-alias edges differently; a picture that differs in its labels only (colour-bar
# numbers of another saved time) measures 0.4 to 4.3. Wrong pictures measure 16 to 82: another
# field, no log scale, the other wall, another camera, another time of a 1D curve
# (test_thumbnail_tolerance keeps them above twice the tolerance).
THUMBNAIL_TOLERANCE = 6.0
# Grey-level standard deviation below which a picture counts as blank: a white picture with a
# title only measures about 10, every render here measures 40 or more.
BLANK_STD = 20.0
SIZE = (320, 240)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    comm = MPI.COMM_WORLD
    root = comm.bcast(tmp_path_factory.mktemp("render") if comm.rank == 0 else None, root=0)
    return {kind: write_result_folder(Path(root) / kind, kind) for kind in ("1d", "2d", "3d")}


RENDERS = {
    "render_1d_potential": ("1d", "potential_V", {}),
    "render_1d_zoom_log": ("1d", "concentration_Na_mol_m3", {"log": True, "zoom_to": "wall"}),
    "render_2d_potential": ("2d", "potential_V", {}),
    "render_2d_space_charge": ("2d", "space_charge_density_C_m3", {}),
    "render_2d_zoom_log": (
        "2d",
        "concentration_K_mol_m3",
        {"log": True, "zoom_to": "bottom_wall"},
    ),
    "render_3d_surface_concentration": ("3d", "particle_surface_concentration_mol_m3", {}),
    "render_3d_current_slice": ("3d", "interfacial_current_density_A_m2", {"slice": "z=1.5e-6"}),
    "render_3d_clip": ("3d", "particle_surface_concentration_mol_m3", {"clip": "-y"}),
}


@pytest.mark.parametrize("name", list(RENDERS))
def test_render_size_content_and_thumbnail(results, tmp_path, name):
    kind, field, options = RENDERS[name]
    path = render_field(results[kind], field, size=SIZE, output=tmp_path / f"{name}.png", **options)
    pixels = load_rgb(path)
    assert pixels.shape == (SIZE[1], SIZE[0], 3)
    assert pixel_std(pixels) > BLANK_STD
    assert thumbnail_difference(path, name) < THUMBNAIL_TOLERANCE


def test_thumbnail_tolerance(results, tmp_path):
    """The tolerance separates right from wrong pictures: related but different renders differ
    by far more than it."""
    wrong = {
        # another field of the same result, same layout
        "render_2d_potential": ("2d", "concentration_K_mol_m3", {}),
        # the same field and window without the log scale, then the other wall
        "render_2d_zoom_log": ("2d", "concentration_K_mol_m3", {"zoom_to": "bottom_wall"}),
        "render_2d_zoom_log ": (
            "2d",
            "concentration_K_mol_m3",
            {"log": True, "zoom_to": "top_wall"},
        ),
        # the same field seen from another camera
        "render_3d_surface_concentration": (
            "3d",
            "particle_surface_concentration_mol_m3",
            {"camera": "xy"},
        ),
        # an earlier time of a 1D curve
        "render_1d_potential": ("1d", "potential_V", {"time": 1e-9}),
    }
    for name, (kind, field, options) in wrong.items():
        path = render_field(results[kind], field, size=SIZE, output=tmp_path / "w.png", **options)
        assert thumbnail_difference(path, name.strip()) > 2 * THUMBNAIL_TOLERANCE, name


def _red_and_blue_pixels(pixels: np.ndarray) -> tuple[int, int]:
    """Strongly red and strongly blue pixels above the colour bar (bottom 18% of the picture)."""
    pixels = pixels[: int(0.82 * pixels.shape[0])]
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    reddish = (red > 150) & (green < 110) & (blue < 110)
    bluish = (blue > 120) & (red < 90) & (blue > green + 20)
    return int(reddish.sum()), int(bluish.sum())


def test_signed_fields_use_a_diverging_map_centred_on_zero(results, tmp_path):
    # The 2D space charge is negative everywhere (positive wall potential): with the map centred
    # on zero every coloured pixel is blue or white, none red. A map stretched over [min, max]
    # would paint the least negative values red.
    path = render_field(
        results["2d"], "space_charge_density_C_m3", size=(640, 480), output=tmp_path / "rho.png"
    )
    red, blue = _red_and_blue_pixels(load_rgb(path))
    assert blue > 2000  # measured 6300: the bands of strong negative charge along both walls
    assert red == 0
    # The interfacial current changes sign: both halves of the map appear in the picture.
    path = render_field(
        results["3d"],
        "interfacial_current_density_A_m2",
        slice="z=1.5e-6",
        size=(640, 480),
        output=tmp_path / "j.png",
    )
    red, blue = _red_and_blue_pixels(load_rgb(path))
    assert red > 5000 and blue > 5000  # measured 14000 and 18000: a half period of each sign


@pytest.mark.parametrize(
    "kind,field", [("1d", "potential_V"), ("3d", "particle_surface_concentration_mol_m3")]
)
def test_requested_size_is_respected(results, tmp_path, kind, field):
    path = render_field(results[kind], field, size=(321, 203), output=tmp_path / "odd.png")
    assert load_rgb(path).shape == (203, 321, 3)


def test_default_output_and_nearest_saved_time(results):
    path = render_field(results["2d"], "potential_V", time=2e-8, size=SIZE)
    assert path == results["2d"] / "figures" / "render_potential_V_t1e-08.png"


def test_slice_of_a_2d_result_is_a_line_plot(results, tmp_path):
    # a cut across the channel at mid-length: the cosh profile between the two walls, drawn by
    # matplotlib as a line against y in nm (compared with its stored thumbnail)
    path = render_field(
        results["2d"],
        "potential_V",
        slice=f"x={CHANNEL_LENGTH_M / 2}",
        size=SIZE,
        output=tmp_path / "cut.png",
    )
    assert pixel_std(load_rgb(path)) > BLANK_STD
    assert thumbnail_difference(path, "render_2d_cut") < THUMBNAIL_TOLERANCE


@pytest.mark.parametrize(
    "request_kwargs,expected",
    [
        ({"field": "potential"}, "available fields: potential_V, concentration_K_mol_m3"),
        ({"field": "potential_V", "time": 1.0}, "saved times (s): 1e-09, 1e-08, 1e-07"),
        ({"field": "potential_V", "time": -1.0}, "out of range"),
        ({"field": "potential_V", "zoom_to": "wall"}, "bottom_wall, top_wall, inlet, outlet"),
        ({"field": "potential_V", "slice": "w=0"}, "AXIS one of x, y, z"),
        ({"field": "potential_V", "slice": "z"}, "flat in z (it spans x, y); cut along x or y"),
        ({"field": "potential_V", "clip": "x=1"}, "x ranges over [0, 1e-07] m"),
        ({"field": "space_charge_density_C_m3", "log": True}, "--log needs a positive field"),
        ({"field": "potential_V", "camera": "top"}, "choose from iso, xy, xz, yz"),
        ({"field": "potential_V", "size": (0, 10)}, "outside 16..8192"),
    ],
)
def test_bad_requests_name_the_choices(results, tmp_path, request_kwargs, expected):
    with pytest.raises(PostprocessError) as error:
        render_field(results["2d"], output=tmp_path / "never.png", **request_kwargs)
    assert expected in str(error.value)
    assert not (tmp_path / "never.png").exists()


def test_cli_exit_code_2_with_message(results, capsys):
    code = postprocess_main(["render", str(results["2d"]), "--field", "nope"])
    assert code == 2
    assert "available fields: potential_V" in capsys.readouterr().err
    code = postprocess_main(["render", str(results["2d"]), "--field", "potential_V", "--time", "9"])
    assert code == 2
    assert "saved times (s): 1e-09, 1e-08, 1e-07" in capsys.readouterr().err
    assert postprocess_main(["render", str(results["2d"])]) == 2
    assert "choose a field with --field: potential_V, " in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:  # argparse rejects an unknown camera itself
        postprocess_main(["render", str(results["2d"]), "--field", "potential_V", "--camera", "up"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'up'" in capsys.readouterr().err


@pytest.mark.mpi
def test_parallel_result_reads_and_renders_like_a_serial_one(results, tmp_path):
    """Under mpiexec -n 2 the fixture is written in two pieces with ghost cells: merged, it has
    the serial cell and vertex counts and renders to the serial thumbnail."""
    comm = MPI.COMM_WORLD
    outcome = None
    if comm.rank == 0:
        grid = ResultFolder(results["2d"]).read_mesh()
        path = render_field(
            results["2d"], "potential_V", size=SIZE, output=tmp_path / "parallel.png"
        )
        outcome = (grid.n_cells, grid.n_points, thumbnail_difference(path, "render_2d_potential"))
    cells, points, difference = comm.bcast(outcome, root=0)
    assert (cells, points) == (40 * 24 * 2, 41 * 25)  # triangles and vertices of the 40x24 grid
    assert difference < THUMBNAIL_TOLERANCE


def test_a_field_undefined_in_part_of_the_mesh_is_drawn(tmp_path):
    # A pouch's interfacial current density is NaN in its foils and separator (no reaction
    # there). The render used to fail on the NaN colour range; now the range is that of the
    # defined part, from -1 to 1 A/m2 here (a diverging map: both signs drawn), and the
    # undefined quarter of the box is grey.
    import json

    import dolfinx.mesh
    from postprocess_data import CUBE_SIDE_M, _counts, _run_info, _write_fields

    side, comm = CUBE_SIDE_M, MPI.COMM_WORLD
    folder = tmp_path / "nan"
    if comm.rank == 0:
        folder.mkdir()
    comm.barrier()
    domain = dolfinx.mesh.create_box(
        comm, [[0.0] * 3, [side] * 3], [4, 4, 4], cell_type=dolfinx.mesh.CellType.tetrahedron
    )

    def current(x, t):
        return np.where(x[0] < 0.25 * side - 1e-12 * side, np.nan, np.cos(np.pi * x[1] / side))

    _write_fields(comm, domain, folder, {"interfacial_current_density_A_m2": current})
    if comm.rank == 0:
        info = _run_info("dfn", 3, {}, *_counts(domain))
        (folder / "run.json").write_text(json.dumps(info))
    comm.barrier()
    path = render_field(
        folder,
        "interfacial_current_density_A_m2",
        slice=f"z={0.5 * side}",
        camera="xy",
        size=(640, 480),
        output=tmp_path / "nan.png",
    )
    pixels = load_rgb(path)
    red, blue = _red_and_blue_pixels(pixels)
    assert red > 2000 and blue > 2000  # measured 7200 and 9200
    body = pixels[: int(0.82 * pixels.shape[0])].astype(int)
    grey = (np.ptp(body, axis=-1) < 8) & (body[..., 0] > 60) & (body[..., 0] < 200)
    assert grey.sum() > 2000  # measured 37000: the undefined quarter
