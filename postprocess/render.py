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

The pictures are drawn by :mod:`.render_surface` (2D and 3D, pyvista) and :mod:`.render_line`
(1D, matplotlib) with the shared tools of :mod:`.render_tools`; :mod:`.render_options` holds
:class:`RenderOptions`, the colour maps and the parsing of planes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .choices import CAMERAS
from .render_line import _line_image
from .render_options import (
    _PLANE_PATTERN,
    RenderOptions,
    check_size,
    parse_plane,
    with_clim,
)
from .render_options import DIVERGING_CMAP as DIVERGING_CMAP
from .render_options import SEQUENTIAL_CMAP as SEQUENTIAL_CMAP
from .render_options import ZOOM_DEBYE_LENGTHS as ZOOM_DEBYE_LENGTHS
from .render_options import ZOOM_DOMAIN_FRACTION as ZOOM_DOMAIN_FRACTION
from .render_options import ZOOM_MAX_ASPECT as ZOOM_MAX_ASPECT
from .render_surface import _surface_image
from .render_tools import (
    _as_vtk_bounds,
    _check_not_empty,
    _is_signed_quantity,
    _save_png,
    _spanned_axes,
    _values,
    _with_only,
    _zoom_window,
)
from .results import PostprocessError, ResultFolder
from .units import quantity_name

__all__ = [
    "CAMERAS",
    "RenderOptions",
    "check_size",
    "parse_plane",
    "render_field",
    "render_image",
    "with_clim",
]


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
