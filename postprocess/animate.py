"""Animations of one field over the saved times of a result folder (GIF, or MP4 with ffmpeg).

Every frame is a :func:`electrolyx.postprocess.render.render_image` picture with the same colour
limits (the range over all saved times), so that colours mean the same value in every frame.
GIFs are written with Pillow; MP4 needs the ``ffmpeg`` program on ``PATH``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .render import RenderOptions, check_size, render_image, with_clim
from .results import PostprocessError, ResultFolder

__all__ = ["ANIMATION_FORMATS", "animate_field"]

ANIMATION_FORMATS = ("gif", "mp4")


def animate_field(
    result_dir: str | Path,
    field: str,
    output: str | Path | None = None,
    fps: float = 4.0,
    slice: str | None = None,  # noqa: A002  (the option's name on the command line)
    clip: str | None = None,
    log: bool = False,
    zoom_to: str | None = None,
    camera: str | None = None,
    size: Sequence[int] = (800, 600),
) -> Path:
    """Write an animation of ``field`` over every saved time.

    Args:
        result_dir: Result folder with ``fields/fields.pvd``.
        field: Field name (an unknown name raises an error listing the fields).
        output: ``.gif`` or ``.mp4`` path; default ``RESULT_DIR/figures/animation_<field>.gif``.
        fps: Frames (saved times) per second.
        slice: Plane through the domain, as for :func:`render_field`.
        clip: Plane cutting half the domain away, as for :func:`render_field`.
        log: Logarithmic colour scale (positive fields).
        zoom_to: Named boundary to zoom to.
        camera: ``iso``, ``xy``, ``xz`` or ``yz``.
        size: Frame width and height in pixels.

    Returns:
        Path of the animation written.

    Raises:
        PostprocessError: Unknown field, unsupported format, MP4 without ffmpeg, bad options.
    """
    result = ResultFolder(result_dir)
    field = result.resolve_field(field)
    if output is None:
        output = result.path / "figures" / f"animation_{field}.gif"
    output = Path(output)
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in ANIMATION_FORMATS:
        raise PostprocessError(
            f"unsupported animation format {output.suffix or '(none)'!r}; "
            f"choose from {', '.join('.' + f for f in ANIMATION_FORMATS)}"
        )
    if fmt == "mp4" and shutil.which("ffmpeg") is None:
        raise PostprocessError("MP4 needs the ffmpeg program on PATH; write a .gif instead")
    if not fps > 0:
        raise PostprocessError(f"fps must be positive, got {fps}")
    times = result.times()
    options = RenderOptions(
        slice=slice, clip=clip, log=log, zoom_to=zoom_to, camera=camera, size=check_size(size)
    )
    options = with_clim(options, _common_limits(result, field, times, log))
    frames = [render_image(result, field, t, options) for t in times]
    output.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "gif":
        _write_gif(frames, output, fps)
    else:
        _write_mp4(frames, output, fps)
    return output


def _common_limits(
    result: ResultFolder, field: str, times: list[float], log: bool
) -> tuple[float, float]:
    """Colour limits over every saved time (symmetric about zero for signed fields)."""
    low, high = np.inf, -np.inf
    for time in times:
        grid = result.read_mesh(time)
        data = grid.point_data if field in grid.point_data.keys() else grid.cell_data
        values = np.asarray(data[field], dtype=float)
        low, high = min(low, float(values.min())), max(high, float(values.max()))
    if log:
        if low <= 0.0:
            raise PostprocessError(
                f"--log needs a positive field; {field} ranges over [{low:.3g}, {high:.3g}]"
            )
        return low, high
    if low < 0.0 < high:
        bound = max(-low, high)
        return -bound, bound
    if high <= low:
        pad = abs(high) * 1e-6 or 1.0
        return low - pad, high + pad
    return low, high


def _write_gif(frames: list[np.ndarray], output: Path, fps: float) -> None:
    from PIL import Image

    images = [Image.fromarray(np.ascontiguousarray(f, dtype=np.uint8)) for f in frames]
    # one shared adaptive palette keeps colours stable between frames
    palette = images[-1].quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    quantized = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    quantized[0].save(
        output,
        save_all=True,
        append_images=quantized[1:],
        duration=max(20, round(1000.0 / fps)),
        loop=0,
        optimize=False,
    )


def _write_mp4(frames: list[np.ndarray], output: Path, fps: float) -> None:
    from PIL import Image

    with tempfile.TemporaryDirectory() as folder:
        for index, frame in enumerate(frames):
            height, width = frame.shape[:2]
            even = frame[: height - height % 2, : width - width % 2]  # yuv420p needs even sides
            Image.fromarray(np.ascontiguousarray(even, dtype=np.uint8)).save(
                Path(folder) / f"frame{index:05d}.png"
            )
        command = [
            "ffmpeg",
            "-y",
            "-loglevel",
            "error",
            "-framerate",
            f"{fps:g}",
            "-i",
            str(Path(folder) / "frame%05d.png"),
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            str(output),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise PostprocessError(f"ffmpeg failed: {completed.stderr.strip()}")
