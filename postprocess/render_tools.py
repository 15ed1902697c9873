"""What the pictures of :mod:`.render` share: values of a grid, colour limits, zoom, camera, PNG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .render_options import (
    _AXES,
    _SIGNED_QUANTITIES,
    ZOOM_DEBYE_LENGTHS,
    ZOOM_DOMAIN_FRACTION,
    ZOOM_MAX_ASPECT,
    RenderOptions,
)
from .results import PostprocessError, ResultFolder


def _with_only(grid: Any, field: str) -> Any:
    """Shallow copy of ``grid`` carrying only ``field`` (point or cell data)."""
    copy = grid.copy(deep=False)
    for name in list(copy.point_data.keys()):
        if name != field:
            del copy.point_data[name]
    for name in list(copy.cell_data.keys()):
        if name != field:
            del copy.cell_data[name]
    return copy


def _association(grid: Any, field: str) -> str:
    return "point" if field in grid.point_data.keys() else "cell"


def _values(grid: Any, field: str) -> np.ndarray:
    source = grid.point_data if _association(grid, field) == "point" else grid.cell_data
    values = np.asarray(source[field], dtype=float)
    if values.ndim > 1:  # vector field: its magnitude
        values = np.linalg.norm(values, axis=1)
    return values


def _positions(grid: Any, field: str) -> np.ndarray:
    if _association(grid, field) == "point":
        return np.asarray(grid.points, dtype=float)
    return np.asarray(grid.cell_centers().points, dtype=float)


def _extents(bounds: Sequence[float]) -> list[float]:
    return [float(bounds[2 * i + 1] - bounds[2 * i]) for i in range(3)]


def _spanned_axes(bounds: Sequence[float]) -> str:
    """Axes along which the data has a non-negligible extent (``"xy"`` for a 2D result)."""
    extents = _extents(bounds)
    largest = max(extents)
    if largest <= 0.0:
        return ""
    return "".join(_AXES[i] for i, e in enumerate(extents) if e > 1e-9 * largest)


def _face_on(spanned: str) -> str:
    if spanned in ("xy", "xz", "yz"):
        return spanned
    return "xy"


def _as_vtk_bounds(window: np.ndarray) -> tuple[float, ...]:
    """``[[xmin, ymin, zmin], [xmax, ymax, zmax]]`` -> ``(xmin, xmax, ymin, ymax, zmin, zmax)``."""
    return tuple(float(window[side, axis]) for axis in range(3) for side in range(2))


def _zoom_window(result: ResultFolder, name: str, bounds: Sequence[float]) -> np.ndarray:
    """Window ``[[xmin, ymin, zmin], [xmax, ymax, zmax]]`` around a named boundary."""
    boundaries = result.boundaries
    if name not in boundaries:
        raise PostprocessError(
            f"unknown boundary {name!r} for --zoom-to; boundaries in run.json: "
            f"{', '.join(boundaries) or 'none (run.json has no mesh.boundaries)'}"
        )
    box = boundaries[name]
    low = np.array(bounds[0::2], dtype=float)
    high = np.array(bounds[1::2], dtype=float)
    extents = high - low
    in_domain = extents > 1e-9 * extents.max()
    debye = result.debye_length_m
    depth = ZOOM_DEBYE_LENGTHS * debye if debye else ZOOM_DOMAIN_FRACTION * extents.max()
    window = np.array([box[0] - depth, box[1] + depth])
    flat = in_domain & (box[1] - box[0] <= 1e-9 * extents.max())
    if np.any(flat):  # a wall: limit the window along it, centred on the wall's middle
        half_along = ZOOM_MAX_ASPECT * depth
        for i in np.flatnonzero(in_domain & ~flat):
            middle = 0.5 * (box[0, i] + box[1, i])
            if window[1, i] - window[0, i] > 2 * half_along:
                window[:, i] = (middle - half_along, middle + half_along)
    window[0] = np.maximum(window[0], low)
    window[1] = np.minimum(window[1], high)
    pad = extents.max()  # a flat direction of the domain (z of a 2D result): keep all of it
    window[0, ~in_domain] = low[~in_domain] - pad
    window[1, ~in_domain] = high[~in_domain] + pad
    return window


def _check_not_empty(grid: Any, what: str) -> None:
    if grid.n_points == 0:
        raise PostprocessError(f"{what} leaves nothing to show: check the plane or boundary")


def _colour_limits(values: np.ndarray, signed: bool, options: RenderOptions) -> tuple[float, float]:
    if options.clim is not None:
        return options.clim
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    if signed and not options.log:
        bound = max(abs(low), abs(high))
        return -bound, bound
    if high <= low:  # a uniform field: a small symmetric range keeps the colour bar valid
        pad = abs(high) * 1e-6 or 1.0
        return low - pad, high + pad
    return low, high


def _tick_format(clim: tuple[float, float]) -> str:
    """Colour-bar label format with enough digits to tell the ticks apart (3 at least)."""
    low, high = clim
    size = max(abs(low), abs(high))
    span = high - low
    if size == 0 or span <= 0:
        return "%.3g"
    digits = 2 + max(1, int(np.ceil(np.log10(size / span))))
    return f"%.{min(digits, 8)}g"


def _set_camera(plotter: Any, camera: str) -> None:
    if camera == "iso":
        plotter.view_isometric()
        plotter.disable_parallel_projection()
    else:
        getattr(plotter, f"view_{camera}")()
        plotter.enable_parallel_projection()


def _fit_camera(plotter: Any, bounds: Sequence[float], camera: str) -> None:
    """Frame the data, leaving room for the title above and the scalar bar below."""
    plotter.reset_camera(bounds=bounds)
    if camera == "iso":
        plotter.camera.zoom(0.68)
        up = np.asarray(plotter.camera.up, dtype=float)
        shift = -0.1 * float(np.linalg.norm(_extents(bounds))) * up / np.linalg.norm(up)
        plotter.camera.focal_point = np.asarray(plotter.camera.focal_point) + shift
        plotter.camera.position = np.asarray(plotter.camera.position) + shift
        return
    extents = _extents(bounds)
    horizontal, vertical = {"xy": (0, 1), "xz": (0, 2), "yz": (1, 2)}[camera]
    width, height = plotter.window_size
    span_h = extents[horizontal] or max(extents)
    span_v = extents[vertical] or max(extents)
    usable_aspect = (width * 0.78) / (height * 0.55)  # axes labels, title and colour bar
    scale = max(span_v, span_h / usable_aspect) / 2 / 0.55
    plotter.camera.parallel_scale = scale
    centre = [0.5 * (bounds[2 * i] + bounds[2 * i + 1]) for i in range(3)]
    position = list(plotter.camera.position)
    focal = list(plotter.camera.focal_point)
    shift = [centre[i] - focal[i] for i in range(3)]
    # move the picture up a little: the colour bar takes the bottom of the window
    shift[vertical] -= 0.09 * 2 * scale
    plotter.camera.focal_point = [focal[i] + shift[i] for i in range(3)]
    plotter.camera.position = [position[i] + shift[i] for i in range(3)]


class _quiet_vtk:  # noqa: N801  (used as a context manager)
    """Silence VTK's warnings (e.g. the X-server probe before EGL) while rendering."""

    def __init__(self, pyvista: Any) -> None:
        self._context = (
            pyvista.vtk_verbosity("error") if hasattr(pyvista, "vtk_verbosity") else None
        )

    def __enter__(self) -> None:
        if self._context is not None:
            self._context.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self._context is not None:
            self._context.__exit__(*exc)


def _vtk_text(text: str) -> str:
    """VTK's bundled font lacks Greek letters: spell them out (``µm`` as ``um``)."""
    for glyph, ascii_text in (("Ω", "Ohm"), ("λ", "lambda"), ("µ", "u"), ("μ", "u"), ("−", "-")):
        text = text.replace(glyph, ascii_text)
    return text


def _label_counts(bounds: Sequence[float]) -> tuple[int, int, int]:
    """Tick labels per axis, fewer along short sides so that they do not overlap."""
    extents = _extents(bounds)
    largest = max(extents) or 1.0
    return tuple(int(np.clip(round(5 * e / largest), 2, 5)) for e in extents)


def _is_signed_quantity(field: str) -> bool:
    """Quantities whose sign matters (drawn with a diverging colour map centred on zero)."""
    return any(word in field for word in _SIGNED_QUANTITIES)


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))


def _save_png(image: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(path)
