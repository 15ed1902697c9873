"""Shared pieces of the matplotlib figures: formats, figure size, saving, small numeric tests."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .choices import SUPPORTED_FORMATS
from .results import PostprocessError, Profile

__all__ = [
    "DPI",
    "FIGURE_WIDTH_IN",
    "SUPPORTED_FORMATS",
    "all_positive",
    "check_formats",
    "flatten",
    "new_figure",
    "profile_position",
    "save_figure",
    "slug",
    "wide_positive",
]

FIGURE_WIDTH_IN = 6.4
DPI = 150


def check_formats(formats: Iterable[str]) -> list[str]:
    """Normalised figure formats (``".PNG"`` -> ``"png"``); unknown ones raise, naming choices."""
    if isinstance(formats, str):
        formats = [formats]
    checked = [f.lower().lstrip(".") for f in formats]
    unknown = [f for f in checked if f not in SUPPORTED_FORMATS]
    if unknown or not checked:
        raise PostprocessError(
            f"unsupported figure format(s) {', '.join(unknown) or '(none)'}; "
            f"choose from {', '.join(SUPPORTED_FORMATS)}"
        )
    return list(dict.fromkeys(checked))


def new_figure() -> tuple[Figure, Any]:
    """A single-axes figure of the standard size with a light grid."""
    fig = Figure(figsize=(FIGURE_WIDTH_IN, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.grid(alpha=0.3)
    return fig, ax


def save_figure(fig: Figure, figures_dir: Path, stem: str, formats: Sequence[str]) -> list[Path]:
    """Save ``fig`` as ``figures_dir/stem.<format>`` for each format; returns the paths."""
    figures_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = figures_dir / f"{stem}.{fmt}"
        fig.savefig(path, dpi=DPI)
        paths.append(path)
    return paths


def all_positive(values: np.ndarray) -> bool:
    """True when the finite values exist and are all positive."""
    finite = values[np.isfinite(values)]
    return finite.size > 0 and bool(np.all(finite > 0))


def wide_positive(values: np.ndarray, decades: float = 2.0) -> bool:
    """True when all values are positive and span more than ``decades`` decades."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size < 2 or not np.all(finite > 0):
        return False
    return math.log10(finite.max() / finite.min()) > decades


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dictionaries as one level with dotted keys (``{"a": {"b": 1}}`` -> ``{"a.b": 1}``)."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def slug(name: str) -> str:
    """``name`` made safe as a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "unnamed"


def profile_position(profile: Profile, name: str) -> np.ndarray:
    """Positions of a profile's samples: coordinate ``x``, ``y``, ``z``, or ``distance``."""
    if name in ("x", "y", "z"):
        return profile.points_m[:, "xyz".index(name)]
    return profile.distance_m
