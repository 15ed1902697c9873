"""A 1D field (or a slice of a 2D field) as a line against position (matplotlib)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .render_options import (
    _AXES,
    RenderOptions,
)
from .render_tools import (
    _positions,
    _resize,
)
from .units import axis_label, length_scale


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
