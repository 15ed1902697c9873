"""Matplotlib figures of a result folder: time series, profiles, sweeps and reference overlays.

``plot_results(RESULT_DIR)`` writes into ``RESULT_DIR/figures/``:

- ``timeseries_<unit>.png``: every column of ``timeseries.csv`` against time, one figure per unit;
- ``voltage.png``: voltage against time and against discharge capacity (when both columns exist);
- ``iv_curve.png``: current against voltage (when a run's time series sweeps the voltage);
- ``capacity_fade.png``: from ``cycles.csv`` (a repeated protocol), discharge and charge capacity
  and the lithium lost to SEI and plating against the cycle number;
- ``profile_<profile>_<unit>.png``: the fields along each profile at every saved time, in
  physical units and, for PNP results with a Debye length, in Debye lengths on a second axis;
- ``reference_<column>.png``: simulation and reference data, their difference in a second panel;
- for a sweep folder (sub-folders that are result folders): ``sweep_<column>.png`` against the
  parameter that varies between the runs, conductance on log-log axes, and ``iv_curve.png``.

Reference overlays live in ``reference.py``, sweeps in ``sweeps.py``, shared figure helpers in
``figure_tools.py``. Figures are made with ``matplotlib.figure.Figure`` directly, so no GUI backend
is involved.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure

from .figure_tools import (
    FIGURE_WIDTH_IN,
    SUPPORTED_FORMATS,
    check_formats,
    new_figure,
    profile_position,
    save_figure,
    slug,
    wide_positive,
)
from .reference import reference_figures
from .results import (
    PostprocessError,
    Profile,
    ResultFolder,
    is_sweep_folder,
    read_numeric_csv,
)
from .sweeps import plot_sweep
from .units import axis_label, length_scale, quantity_name, split_unit

__all__ = ["SUPPORTED_FORMATS", "plot_results"]

_log = logging.getLogger(__name__)
_LINESTYLES = ("-", "--", "-.", ":")


def plot_results(
    result_dir: str | Path,
    formats: Sequence[str] = ("png",),
    reference: str | Path | None = None,
) -> list[Path]:
    """Write every figure that the result folder's data supports into ``figures/``.

    Args:
        result_dir: Result folder, or a sweep folder whose sub-folders are result folders.
        formats: File formats among ``png``, ``pdf``, ``svg``; each figure is saved in each.
        reference: CSV file of reference data to overlay. Its first column is the abscissa and
            must be a column of ``timeseries.csv`` (``time_s``, ``discharge_capacity_Ah``...) or a
            position along a profile (``distance_m``, ``x_m``, ``y_m``, ``z_m``); every other
            column whose name matches a simulated column or profile field is compared.

    Returns:
        Paths of the files written.

    Raises:
        PostprocessError: Unknown format, or a reference file that matches nothing.
    """
    formats = check_formats(formats)
    result_dir = Path(result_dir)
    if result_dir.is_dir() and is_sweep_folder(result_dir):
        if reference is not None:
            raise PostprocessError("--reference is for a single result folder, not a sweep")
        return plot_sweep(result_dir, formats)
    result = ResultFolder(result_dir)
    figures_dir = result.path / "figures"
    written: list[Path] = []
    timeseries = result.timeseries()
    written += _timeseries_figures(timeseries, figures_dir, formats)
    written += _voltage_figure(timeseries, figures_dir, formats)
    written += _iv_figure(timeseries, figures_dir, formats)
    written += _capacity_fade_figure(result.path, figures_dir, formats)
    profiles = result.profiles()
    written += _profile_figures(profiles, result.debye_length_m, figures_dir, formats)
    if reference is not None:
        written += reference_figures(result.path, Path(reference), figures_dir, formats)
    if result.model == "pnp":
        written += _edl_figures(result.path, figures_dir, formats)
    return written


# -- time series -----------------------------------------------------------------------------
def _timeseries_figures(
    timeseries: dict[str, np.ndarray], figures_dir: Path, formats: Sequence[str]
) -> list[Path]:
    time = timeseries.get("time_s")
    if time is None or time.size < 2:
        return []
    groups: dict[str, list[str]] = {}
    for column in timeseries:
        if column != "time_s":
            groups.setdefault(split_unit(column)[1], []).append(column)
    written: list[Path] = []
    for unit, columns in groups.items():
        fig, ax = new_figure()
        scale = _time_axis(ax, time)
        for i, column in enumerate(columns):
            ax.plot(
                time / scale, timeseries[column], color=f"C{i % 10}", label=quantity_name(column)
            )
        if len(columns) == 1:
            ax.set_ylabel(axis_label(columns[0]))
        else:
            ax.set_ylabel(_group_label(columns, unit))
            ax.legend(fontsize="small")
        ax.set_title(", ".join(quantity_name(c) for c in columns[:4]) + " against time")
        written += save_figure(fig, figures_dir, f"timeseries_{unit or 'dimensionless'}", formats)
    return written


def _voltage_figure(
    timeseries: dict[str, np.ndarray], figures_dir: Path, formats: Sequence[str]
) -> list[Path]:
    voltage = timeseries.get("voltage_V")
    time = timeseries.get("time_s")
    if voltage is None or time is None or voltage.size < 2:
        return []
    capacity = timeseries.get("discharge_capacity_Ah")
    panels = 2 if capacity is not None else 1
    fig = Figure(
        figsize=(FIGURE_WIDTH_IN * (1.0 if panels == 1 else 1.6), 4.0), layout="constrained"
    )
    axes = fig.subplots(1, panels, squeeze=False)[0]
    scale = _time_axis(axes[0], time)
    axes[0].plot(time / scale, voltage, color="C0")
    axes[0].set_ylabel(axis_label("voltage_V"))
    axes[0].set_title("voltage against time")
    if capacity is not None:
        axes[1].plot(capacity, voltage, color="C1")
        axes[1].set_xlabel(axis_label("discharge_capacity_Ah"))
        axes[1].set_ylabel(axis_label("voltage_V"))
        axes[1].set_title("voltage against discharge capacity")
    for ax in axes:
        ax.grid(alpha=0.3)
    return save_figure(fig, figures_dir, "voltage", formats)


def _capacity_fade_figure(
    result_dir: Path, figures_dir: Path, formats: Sequence[str]
) -> list[Path]:
    """Capacity and lost lithium per cycle (``cycles.csv``), when there are two cycles."""
    path = result_dir / "cycles.csv"
    cycles = read_numeric_csv(path) if path.is_file() else {}
    number = cycles.get("cycle")
    if number is None or number.size < 2:
        return []
    fig = Figure(figsize=(FIGURE_WIDTH_IN * 1.6, 4.0), layout="constrained")
    capacity_ax, lithium_ax = fig.subplots(1, 2)
    for i, column in enumerate(("discharge_capacity_Ah", "charge_capacity_Ah")):
        if column in cycles:
            capacity_ax.plot(
                number, cycles[column], marker=".", color=f"C{i}", label=quantity_name(column)
            )
    capacity_ax.set_ylabel("capacity [A h]")
    capacity_ax.set_title("capacity fade")
    for i, column in enumerate(
        ("loss_of_lithium_inventory_percent", "sei_lithium_percent", "plated_lithium_percent")
    ):
        if column in cycles:
            lithium_ax.plot(
                number, cycles[column], marker=".", color=f"C{i + 2}", label=quantity_name(column)
            )
    lithium_ax.set_ylabel("lithium lost [% of the initial inventory]")
    lithium_ax.set_title("loss of lithium inventory")
    for ax in (capacity_ax, lithium_ax):
        ax.set_xlabel("cycle")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return save_figure(fig, figures_dir, "capacity_fade", formats)


def _iv_figure(
    timeseries: dict[str, np.ndarray], figures_dir: Path, formats: Sequence[str]
) -> list[Path]:
    voltages = [c for c in timeseries if split_unit(c)[1] == "V" and "voltage" in c]
    currents = [c for c in timeseries if split_unit(c)[1] == "A"]
    if not voltages or not currents or timeseries[voltages[0]].size < 3:
        return []
    voltage = timeseries[voltages[0]]
    if not any(np.ptp(timeseries[c]) > 0.0 for c in currents):
        return []  # constant current: a discharge, not a voltage sweep
    if np.ptp(voltage) == 0.0 or not (np.all(np.diff(voltage) > 0) or np.all(np.diff(voltage) < 0)):
        return []  # not a voltage sweep: the voltage-time figure already shows it
    fig, ax = new_figure()
    for i, column in enumerate(currents):
        ax.plot(voltage, timeseries[column], "o-", ms=3, color=f"C{i}", label=quantity_name(column))
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel(axis_label(voltages[0]))
    ax.set_ylabel("current (A)")
    ax.set_title("current-voltage curve")
    if len(currents) > 1:
        ax.legend(fontsize="small")
    return save_figure(fig, figures_dir, "iv_curve", formats)


# -- profiles --------------------------------------------------------------------------------
def _profile_figures(
    profiles: list[Profile],
    debye_length_m: float | None,
    figures_dir: Path,
    formats: Sequence[str],
) -> list[Path]:
    by_group: dict[tuple[str, str], list[Profile]] = {}
    for profile in profiles:
        by_group.setdefault((profile.name, split_unit(profile.field)[1]), []).append(profile)
    written: list[Path] = []
    for (name, unit), group in by_group.items():
        fields = list(dict.fromkeys(p.field for p in group))
        times = sorted({p.time_s for p in group})
        fig, ax = new_figure()
        x_name, x_factor, x_unit = _profile_abscissa(group)
        time_norm = _time_norm(times)
        time_cmap = colormaps["viridis"]
        for f_index, field in enumerate(fields):
            for profile in sorted((p for p in group if p.field == field), key=lambda p: p.time_s):
                x = profile_position(profile, x_name) * x_factor
                if len(times) == 1:
                    style = {"color": f"C{f_index % 10}", "ls": "-"}
                else:
                    style = {
                        "color": time_cmap(time_norm(_positive_time(profile.time_s, times))),
                        "ls": _LINESTYLES[f_index % len(_LINESTYLES)],
                    }
                label = quantity_name(field) if len(times) == 1 else None
                ax.plot(x, profile.values, label=label, lw=1.6, **style)
            if len(times) > 1:  # legend entry for the field's line style, in neutral grey
                ax.plot([], [], color="0.25", ls=style["ls"], label=quantity_name(field))
        ax.set_xlabel(f"{x_name} ({x_unit})")
        ax.set_ylabel(_group_label(fields, unit))
        values = np.concatenate([p.values for p in group])
        if wide_positive(values, decades=1.3):
            ax.set_yscale("log")
        if len(fields) > 1:
            ax.legend(fontsize="small")
        if len(times) > 1:
            mappable = ScalarMappable(norm=time_norm, cmap=time_cmap)
            fig.colorbar(mappable, ax=ax, label=axis_label("time_s"), pad=0.02)
        title = f"{', '.join(quantity_name(f) for f in fields[:4])} along {name}"
        if len(times) == 1:
            title += f" at t = {times[0]:.3g} s" if times[0] != 0.0 else ""
        if debye_length_m is not None and x_name in ("x", "y", "z", "distance"):
            scale = debye_length_m * x_factor
            secondary = ax.secondary_xaxis(
                "top", functions=(lambda v, s=scale: v / s, lambda v, s=scale: v * s)
            )
            secondary.set_xlabel(
                f"distance / Debye length (λ_D = {debye_length_m * x_factor:.3g} {x_unit})"
            )
        else:
            ax.set_title(textwrap.fill(title, 60))
        if debye_length_m is not None:
            fig.suptitle(textwrap.fill(title, 70), fontsize="medium")
        written += save_figure(
            fig, figures_dir, f"profile_{slug(name)}_{unit or 'dimensionless'}", formats
        )
    return written


def _profile_abscissa(group: list[Profile]) -> tuple[str, float, str]:
    """Abscissa name (``x``... or ``distance``), factor from metres and unit for a profile."""
    first = group[0]
    axis = first.varying_axis
    if axis is not None and first.points_m[0, "xyz".index(axis)] == 0.0:
        name = axis
    else:
        name = "distance"
    longest = max(float(np.max(np.abs(profile_position(p, name)))) for p in group)
    factor, unit = length_scale(longest)
    return name, factor, unit


# -- the lead's Gouy-Chapman figure ---------------------------------------------------------
def _edl_figures(result_dir: Path, figures_dir: Path, formats: Sequence[str]) -> list[Path]:
    """Gouy-Chapman overlay of ``postprocess/edl.py`` for PNP results, when it is available."""
    try:
        from . import edl
    except ImportError as error:
        _log.info("no double-layer figure: %s", error)
        return []
    plot = getattr(edl, "plot_edl", None)
    if plot is None:
        return []
    try:
        written = plot(result_dir, figures_dir=figures_dir, formats=tuple(formats))
    except TypeError:
        written = plot(result_dir)
    except (KeyError, ValueError) as error:  # a PNP result that is not a single charged wall
        _log.info("no double-layer figure: %s", error)
        return []
    if written is None:
        return []
    if isinstance(written, str | Path):
        return [Path(written)]
    return [Path(p) for p in written]


# -- helpers ---------------------------------------------------------------------------------
def time_scale(time: np.ndarray) -> tuple[float, str, bool]:
    """How to draw a time axis: (seconds per unit, unit, logarithmic).

    Linear in the unit that reads best (s, min, h) for times spread evenly (a discharge, even
    with a first row at 1 us); logarithmic, in s, when the times themselves are spread over
    decades (more than three, most of them below 1 % of the end, as a transient's log-spaced
    outputs are).
    """
    positive = time[time > 0]
    if (
        positive.size >= 2
        and positive.max() / positive.min() > 1e3
        and np.median(positive) < 0.01 * positive.max()
    ):
        return 1.0, "s", True
    end = float(time.max()) if time.size else 0.0
    if end >= 3 * 3600:
        return 3600.0, "h", False
    if end >= 3 * 60:
        return 60.0, "min", False
    return 1.0, "s", False


def _time_axis(ax: Any, time: np.ndarray) -> float:
    """Label the time axis (see :func:`time_scale`); return the seconds per plotted unit."""
    scale, unit, log = time_scale(time)
    ax.set_xlabel(axis_label("time", unit))
    if log:
        ax.set_xscale("log")
    return scale


def _group_label(names: list[str], unit: str) -> str:
    """Axis label for several quantities of one unit: their common leading words."""
    if len(names) == 1:
        return axis_label(names[0])
    words = [quantity_name(n).split() for n in names]
    common = []
    for column in zip(*words, strict=False):
        if len(set(column)) > 1:
            break
        common.append(column[0])
    quantity = "_".join(common) or "value"
    return axis_label(f"{quantity}_{unit}" if unit else quantity)


def _time_norm(times: list[float]) -> Normalize:
    positive = [t for t in times if t > 0]
    if len(positive) >= 2 and max(positive) / min(positive) > 30:
        return LogNorm(vmin=min(positive), vmax=max(positive))
    return Normalize(
        vmin=min(times), vmax=max(times) if max(times) > min(times) else min(times) + 1
    )


def _positive_time(time: float, times: list[float]) -> float:
    positive = [t for t in times if t > 0]
    return max(time, min(positive)) if positive else time
