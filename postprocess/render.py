"""Off-screen pictures of the fields of a result folder (pyvista; matplotlib for 1D lines).

``render_field(RESULT_DIR, "potential_V")`` draws one field at one saved time:

- 1D results (and slices of 2D results) as line plots against position;
- 2D results as a coloured surface seen face-on, 3D results as a coloured solid (iso view), with
  ``slice`` (a plane through the domain) and ``clip`` (cut half of it away) to see inside;
- perceptually uniform ``viridis`` for fields of one sign, the diverging ``RdBu_r`` centred on
  zero for signed fields (space-charge density, interfacial current);
- ``log=True`` for a logarithmic colour scale (positive fields only), ``zoom_to`` a named boundary
  of ``run.json`` ``mesh.boundaries`` (a window a few Debye lengths deep, for double layers);
- lengths shown in a readable unit (nm, um...), scalar bars and axes labelled with units.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .choices import CAMERAS
from .results import PostprocessError, ResultFolder
from .units import axis_label, length_scale, quantity_name

__all__ = [
    "CAMERAS",
    "RenderOptions",
    "check_size",
    "parse_plane",
    "render_field",
    "render_image",
    "with_clim",
]

SEQUENTIAL_CMAP = "viridis"
DIVERGING_CMAP = "RdBu_r"
# Depth of the window shown by ``zoom_to`` on each side of the boundary, in Debye lengths
# (PNP results) or as a fraction of the largest domain extent (other results).
ZOOM_DEBYE_LENGTHS = 6.0
ZOOM_DOMAIN_FRACTION = 0.1
# Longest side of the zoom window along a wall, relative to its depth (keeps the picture readable
# instead of a hairline along a long wall).
ZOOM_MAX_ASPECT = 2.0
_AXES = "xyz"
# Fields whose names contain one of these are signed quantities: diverging colour map, zero white.
_SIGNED_QUANTITIES = ("charge_density", "current", "flux", "velocity", "reaction_rate", "source")
_PLANE_PATTERN = re.compile(r"^\s*(?P<sign>[+-]?)(?P<axis>[xyzXYZ])\s*(?:=\s*(?P<value>\S+))?\s*$")


@dataclass(frozen=True)
class RenderOptions:
    """How to draw a field (see :func:`render_field` for the meaning of each option)."""

    slice: str | None = None
    clip: str | None = None
    log: bool = False
    zoom_to: str | None = None
    camera: str | None = None
    size: tuple[int, int] = (1200, 900)
    clim: tuple[float, float] | None = None


def render_field(
    result_dir: str | Path,
    field: str,
    time: float | None = None,
    slice: str | None = None,  # noqa: A002  (the option's name on the command line)
    clip: str | None = None,
    log: bool = False,
    zoom_to: str | None = None,
    camera: str | None = None,
    size: Sequence[int] = (1200, 900),
    output: str | Path | None = None,
) -> Path:
    """Render one field of a result folder at one saved time into a PNG file.

    Args:
        result_dir: Result folder with ``fields/fields.pvd``.
        field: Field name, e.g. ``potential_V`` (an unknown name raises an error listing them).
        time: Saved time in seconds (nearest saved time is used); ``None`` for the last.
        slice: Plane ``AXIS[=VALUE]`` (``"z"``, ``"x=2e-7"``) through a 3D result (shows the
            plane) or a 2D result (shows the line as a plot); VALUE in metres, centre by default.
        clip: Plane ``[-]AXIS[=VALUE]``: keep the part below VALUE (above with ``-``).
        log: Logarithmic colour scale; the field must be positive.
        zoom_to: Name of a boundary in ``run.json`` ``mesh.boundaries``: show a window around it
            a few Debye lengths deep (PNP) or a tenth of the domain (other models).
        camera: ``iso``, ``xy``, ``xz`` or ``yz``; default ``xy`` for 2D and ``iso`` for 3D.
        size: Image width and height in pixels.
        output: PNG path; default ``RESULT_DIR/figures/render_<field>[_<time>].png``.

    Returns:
        Path of the PNG written.

    Raises:
        PostprocessError: Unknown field, time or boundary, malformed plane, or ``log`` on a
            field that is not positive; the message names what is available.
    """
    result = ResultFolder(result_dir)
    options = RenderOptions(
        slice=slice, clip=clip, log=log, zoom_to=zoom_to, camera=camera, size=check_size(size)
    )
    resolved = result.resolve_time(time)
    image = render_image(result, field, resolved, options)
    if output is None:
        suffix = "" if len(result.times()) == 1 else f"_t{resolved:.4g}"
        output = result.path / "figures" / f"render_{field}{suffix}.png"
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    _save_png(image, output)
    return output


def render_image(
    result: ResultFolder, field: str, time: float | None, options: RenderOptions
) -> np.ndarray:
    """Render one field into an RGB array of shape ``(height, width, 3)``.

    Args:
        result: The result folder.
        field: Field name.
        time: Saved time in seconds, ``None`` for the last.
        options: Slice, clip, log scale, zoom, camera, size and optional fixed colour limits.
    """
    field = result.resolve_field(field)
    time = result.resolve_time(time)
    if options.camera is not None and options.camera not in CAMERAS:
        raise PostprocessError(
            f"unknown camera {options.camera!r}; choose from {', '.join(CAMERAS)}"
        )
    full = result.read_mesh(time)
    data = _with_only(full, field)
    domain_dims = _spanned_axes(full.bounds)
    for name, plane in (("clip", options.clip), ("slice", options.slice)):
        axis = _PLANE_PATTERN.match(plane or "")
        if axis is not None and axis["axis"].lower() not in domain_dims:
            raise PostprocessError(
                f"{name} {plane!r}: the result is flat in {axis['axis'].lower()} (it spans "
                f"{', '.join(domain_dims)}); cut along {' or '.join(domain_dims)}"
            )
    if options.clip is not None:
        normal, origin, keep_above = parse_plane(options.clip, full.bounds, signed=True)
        data = data.clip(normal=normal, origin=origin, invert=not keep_above)
        _check_not_empty(data, f"clip {options.clip!r}")
    if options.slice is not None:
        normal, origin, _ = parse_plane(options.slice, full.bounds)
        if len(domain_dims) < 2:
            raise PostprocessError("slice needs a 2D or 3D result; this one is 1D")
        data = data.slice(normal=normal, origin=origin)
        _check_not_empty(data, f"slice {options.slice!r}")
    window = None
    if options.zoom_to is not None:
        window = _zoom_window(result, options.zoom_to, full.bounds)
        if len(_spanned_axes(data.bounds)) >= 2:
            data = data.clip_box(_as_vtk_bounds(window), invert=False)
            _check_not_empty(data, f"zoom to {options.zoom_to!r}")
    values = _values(data, field)
    # A field defined on some regions only (NaN elsewhere: the particles' fields in a separator,
    # a foil's current density) is judged by its defined values; NaN is drawn in grey.
    finite = values[np.isfinite(values)]
    if values.size and not finite.size:
        raise PostprocessError(f"{field} has no defined value at t = {time:.4g} s")
    # A signed quantity (a current, a flux) is drawn diverging around zero, unless what is shown
    # keeps one sign and varies by less than half its size (a map of small in-plane variations
    # around a large value, e.g. the interfacial current in one electrode): then min to max.
    straddles_zero = bool(finite.size and finite.min() < 0.0 < finite.max())
    small_variation = bool(finite.size and np.ptp(finite) < 0.5 * float(np.max(np.abs(finite))))
    signed = straddles_zero or (
        _is_signed_quantity(field) and not options.log and not small_variation
    )
    if options.log and (finite.size == 0 or finite.min() <= 0.0):
        raise PostprocessError(
            f"--log needs a positive field; {field} ranges over "
            f"[{finite.min():.3g}, {finite.max():.3g}] here"
        )
    steady = len(result.times()) == 1 and time == 0.0
    title = quantity_name(field) if steady else f"{quantity_name(field)} at t = {time:.4g} s"
    if len(_spanned_axes(data.bounds)) <= 1:
        return _line_image(data, field, values, title, options, window, result.debye_length_m)
    return _surface_image(full, data, field, values, signed, title, options)


def parse_plane(
    spec: str, bounds: Sequence[float], signed: bool = False
) -> tuple[str, tuple[float, float, float], bool]:
    """Parse a plane ``[-]AXIS[=VALUE]`` (VALUE in metres, the domain centre when left out).

    Args:
        spec: Plane text such as ``"z"``, ``"x=2e-7"`` or ``"-y=1e-8"``.
        bounds: Domain bounds ``(xmin, xmax, ymin, ymax, zmin, zmax)``.
        signed: Whether a leading ``-`` (keep the part above VALUE) is allowed.

    Returns:
        ``(axis, origin, keep_above)``.

    Raises:
        PostprocessError: For text that is not a plane or a plane outside the domain.
    """
    match = _PLANE_PATTERN.match(spec or "")
    if match is None or (match["sign"] == "-" and not signed):
        form = "[-]AXIS[=VALUE]" if signed else "AXIS[=VALUE]"
        raise PostprocessError(
            f"cannot read plane {spec!r}: write {form} with AXIS one of x, y, z and VALUE in m "
            f"(e.g. 'z' or 'x=1e-7')"
        )
    axis = match["axis"].lower()
    index = _AXES.index(axis)
    low, high = bounds[2 * index], bounds[2 * index + 1]
    centre = [0.5 * (bounds[2 * i] + bounds[2 * i + 1]) for i in range(3)]
    if match["value"] is not None:
        try:
            centre[index] = float(match["value"])
        except ValueError:
            raise PostprocessError(f"plane {spec!r}: {match['value']!r} is not a number") from None
        tolerance = 1e-9 * max(high - low, abs(high), 1e-300)
        if not low - tolerance <= centre[index] <= high + tolerance:
            low_shown, high_shown = (0.0 if abs(v) < tolerance else v for v in (low, high))
            raise PostprocessError(
                f"plane {spec!r} lies outside the domain: {axis} ranges over "
                f"[{low_shown:.6g}, {high_shown:.6g}] m"
            )
    return axis, (centre[0], centre[1], centre[2]), match["sign"] == "-"


# -- pictures --------------------------------------------------------------------------------
def _surface_image(
    full: Any,
    data: Any,
    field: str,
    values: np.ndarray,
    signed: bool,
    title: str,
    options: RenderOptions,
) -> np.ndarray:
    import pyvista

    pyvista.OFF_SCREEN = True
    factor, unit = length_scale(max(_extents(full.bounds)))
    shown = data.scale(factor, inplace=False)
    # round-off such as x = -5e-17 would print as a tick label: snap it to zero
    tiny = 1e-9 * max(_extents(shown.bounds))
    shown.points[np.abs(shown.points) < tiny] = 0.0
    shown.set_active_scalars(field, preference=_association(data, field))
    clim = _colour_limits(values, signed, options)
    spanned = _spanned_axes(shown.bounds)
    camera = options.camera or ("iso" if len(spanned) == 3 else _face_on(spanned))
    width, height = options.size
    font = max(8, round(height / 45))
    with _quiet_vtk(pyvista):
        plotter = pyvista.Plotter(off_screen=True, window_size=(width, height))
        try:
            plotter.set_background("white")
            plotter.add_mesh(
                shown,
                scalars=field,
                preference=_association(data, field),
                cmap=DIVERGING_CMAP if signed and not options.log else SEQUENTIAL_CMAP,
                clim=clim,
                log_scale=options.log,
                show_edges=False,
                smooth_shading=False,
                # flat pictures (2D, slices) unlit: colours are exactly those of the colour bar;
                # solids softly shaded so that their faces stay apart
                lighting=len(spanned) == 3,
                ambient=0.45,
                diffuse=0.6,
                specular=0.0,
                scalar_bar_args={
                    "title": " ",  # drawn below as a centred text, clear of the tick labels
                    "color": "black",
                    "fmt": _tick_format(clim),
                    "n_labels": 5,
                    "vertical": False,
                    "position_x": 0.2,
                    "position_y": 0.075,
                    "width": 0.6,
                    "height": 0.045,
                    "title_font_size": 1,
                    "label_font_size": font,
                },
            )
            bar = plotter.scalar_bar
            if bar is not None:  # tick labels under the bar
                bar.SetTextPositionToPrecedeScalarBar()
            bar_title = _vtk_text(axis_label(field) + (", log scale" if options.log else ""))
            title_actor = plotter.add_text(
                bar_title, position=(width / 2, 0.125 * height), font_size=font, color="black"
            )
            title_actor.GetTextProperty().SetJustificationToCentered()
            full_shown = None
            if len(_spanned_axes(full.bounds)) == 3:  # the domain outline around cuts
                full_shown = full.scale(factor, inplace=False).outline()
                full_shown.points[np.abs(full_shown.points) < tiny] = 0.0
                plotter.add_mesh(full_shown, color="#595959")
            plotter.add_text(_vtk_text(title), position="upper_edge", font_size=font, color="black")
            _set_camera(plotter, camera)
            labels = _label_counts(shown.bounds)
            plotter.show_bounds(
                xtitle=_vtk_text(f"x ({unit})"),
                ytitle=_vtk_text(f"y ({unit})"),
                ztitle=_vtk_text(f"z ({unit})"),
                color="black",
                font_size=font,
                location="outer",
                fmt="%.3g",
                show_xaxis="x" in spanned,
                show_yaxis="y" in spanned,
                show_zaxis="z" in spanned,
                n_xlabels=labels[0],
                n_ylabels=labels[1],
                n_zlabels=labels[2],
            )
            context = full_shown.bounds if full_shown is not None else shown.bounds
            _fit_camera(plotter, context, camera)
            image = plotter.screenshot(return_img=True)
        finally:
            plotter.close()
    return np.asarray(image)[:, :, :3]


def _line_image(
    data: Any,
    field: str,
    values: np.ndarray,
    title: str,
    options: RenderOptions,
    window: np.ndarray | None,
    debye_length_m: float | None,
) -> np.ndarray:
    """Line plot of a 1D field (or a line through a 2D field) against position."""
    points = _positions(data, field)
    axis_index = int(np.argmax(np.ptp(points, axis=0))) if len(points) > 1 else 0
    position = points[:, axis_index]
    order = np.argsort(position, kind="stable")
    position, values = position[order], values[order]
    keep = np.concatenate([[True], np.diff(position) > 0])  # points shared by two MPI pieces
    position, values = position[keep], values[keep]
    factor, unit = length_scale(float(np.max(np.abs(position))) if position.size else 1.0)
    width, height = options.size
    dpi = width / 6.4
    fig = Figure(figsize=(6.4, height / dpi), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(position * factor, values, color="C0", lw=1.8)
    ax.set_xlabel(f"{_AXES[axis_index]} ({unit})")
    ax.set_ylabel(axis_label(field))
    ax.grid(alpha=0.3)
    if options.log:
        ax.set_yscale("log")
    elif values.size and values.min() < 0.0 < values.max():
        ax.axhline(0.0, color="0.5", lw=0.8)
    if options.clim is not None:
        ax.set_ylim(*options.clim)
    if window is not None:
        ax.set_xlim(window[0, axis_index] * factor, window[1, axis_index] * factor)
        if options.clim is None:
            inside = (position >= window[0, axis_index]) & (position <= window[1, axis_index])
            if np.any(inside):
                low, high = values[inside].min(), values[inside].max()
                pad = 0.05 * (high - low) if high > low else abs(high) * 0.05 + 1e-300
                if options.log:
                    ax.set_ylim(low / 1.1, high * 1.1)
                else:
                    ax.set_ylim(low - pad, high + pad)
    if debye_length_m is not None:
        scale = debye_length_m * factor
        start = float(position[0]) * factor if position.size else 0.0
        secondary = ax.secondary_xaxis(
            "top",
            functions=(
                lambda v, s=scale, o=start: (v - o) / s,
                lambda v, s=scale, o=start: v * s + o,
            ),
        )
        secondary.set_xlabel("distance / Debye length")
    ax.set_title(title)
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy()
    if image.shape[:2] != (height, width):  # rounding of the figure size in inches
        image = _resize(image, (width, height))
    return image


# -- helpers ---------------------------------------------------------------------------------
def check_size(size: Sequence[int]) -> tuple[int, int]:
    """Validate an image size ``(width, height)`` in pixels."""
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError):
        raise PostprocessError(f"size must be two integers (width, height), got {size!r}") from None
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        raise PostprocessError(f"size {width}x{height} is outside 16..8192 pixels per side")
    return width, height


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


def with_clim(options: RenderOptions, clim: tuple[float, float] | None) -> RenderOptions:
    """Copy of ``options`` with fixed colour limits (used by animations)."""
    return replace(options, clim=clim)
