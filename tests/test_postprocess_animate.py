"""Animations over the saved times: frames, size, shared colour limits, formats."""

import shutil
from pathlib import Path

from mpi4py import MPI

import numpy as np
import pytest
from PIL import Image
from postprocess_data import TIMES_S, write_result_folder

from electrolyx.postprocess import PostprocessError, animate_field
from electrolyx.postprocess.cli import main as postprocess_main

SIZE = (320, 240)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    comm = MPI.COMM_WORLD
    root = comm.bcast(tmp_path_factory.mktemp("animate") if comm.rank == 0 else None, root=0)
    return {kind: write_result_folder(Path(root) / kind, kind) for kind in ("1d", "2d")}


def _frames(path: Path) -> list[np.ndarray]:
    with Image.open(path) as gif:
        frames = []
        for index in range(gif.n_frames):
            gif.seek(index)
            frames.append(np.asarray(gif.convert("RGB"), dtype=float))
        return frames


def test_gif_has_one_frame_per_saved_time_with_shared_colours(results, tmp_path):
    path = animate_field(
        results["2d"], "potential_V", output=tmp_path / "phi.gif", fps=4, size=SIZE
    )
    with Image.open(path) as gif:
        assert gif.n_frames == len(TIMES_S)
        assert gif.size == SIZE
        assert gif.info["duration"] == 250  # ms per frame at 4 frames per second
    frames = _frames(path)
    # Colour limits are those of all saved times: at the first time the walls are charged to
    # 10% of their final potential and the whole channel stays in the dark (low) end of viridis;
    # at the last time the walls reach its yellow-green (high) end. Per-frame limits would paint
    # the walls of the first frame yellow-green too.
    high_end = [_high_end_pixels(frame) for frame in frames]
    assert high_end[0] == 0
    assert high_end[-1] > 500


def _high_end_pixels(frame: np.ndarray) -> int:
    """Yellow-green pixels (top of viridis) above the colour bar (bottom quarter left out)."""
    picture = frame[: int(0.75 * frame.shape[0])]
    red, green, blue = picture[..., 0], picture[..., 1], picture[..., 2]
    return int(np.sum((green > 150) & (blue < 130) & (red > 60)))


def test_1d_animation(results, tmp_path):
    path = animate_field(results["1d"], "potential_V", output=tmp_path / "phi.gif", size=SIZE)
    frames = _frames(path)
    assert len(frames) == len(TIMES_S)
    assert frames[0].shape == (SIZE[1], SIZE[0], 3)
    # the curve rises between the first and the last frame (shared axis limits): about 500
    # pixels change; anti-aliasing noise of an unchanged curve changes none by 40 grey levels
    changed = np.abs(frames[0] - frames[-1]).max(axis=2) > 40
    assert changed.sum() > 200


def test_bad_format_names_the_choices(results, tmp_path):
    with pytest.raises(PostprocessError, match=r"choose from \.gif, \.mp4"):
        animate_field(results["2d"], "potential_V", output=tmp_path / "phi.avi")


def test_mp4_needs_ffmpeg(results, tmp_path):
    output = tmp_path / "phi.mp4"
    if shutil.which("ffmpeg") is None:
        with pytest.raises(PostprocessError, match="MP4 needs the ffmpeg program"):
            animate_field(results["2d"], "potential_V", output=output, size=SIZE)
        assert not output.exists()
    else:
        animate_field(results["2d"], "potential_V", output=output, size=SIZE)
        assert output.read_bytes()[4:8] == b"ftyp"  # ISO base media file


def test_cli_animate_unknown_field(results, capsys):
    assert postprocess_main(["animate", str(results["2d"]), "--field", "phi"]) == 2
    assert "available fields: potential_V" in capsys.readouterr().err
