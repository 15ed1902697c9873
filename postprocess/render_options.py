"""How a field is drawn: :class:`RenderOptions`, the colour maps and zoom depths, plane specs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .results import PostprocessError

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


def check_size(size: Sequence[int]) -> tuple[int, int]:
    """Validate an image size ``(width, height)`` in pixels."""
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError):
        raise PostprocessError(f"size must be two integers (width, height), got {size!r}") from None
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        raise PostprocessError(f"size {width}x{height} is outside 16..8192 pixels per side")
    return width, height


def with_clim(options: RenderOptions, clim: tuple[float, float] | None) -> RenderOptions:
    """Copy of ``options`` with fixed colour limits (used by animations)."""
    return replace(options, clim=clim)
