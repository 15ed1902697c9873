"""Matplotlib figures of a result folder: time series, profiles, sweeps and reference overlays.

``plot_results(RESULT_DIR)`` writes into ``RESULT_DIR/figures/``:

- ``timeseries_<unit>.png``: every column of ``timeseries.csv`` against time, one figure per unit;
- ``voltage.png``: voltage against time and against discharge capacity (when both columns exist);
- ``iv_curve.png``: current against voltage (when a run's time series sweeps the voltage);
- ``profile_<profile>_<unit>.png``: the fields along each profile at every saved time, in
  physical units and, for PNP results with a Debye length, in Debye lengths on a second axis;
- ``reference_<column>.png``: simulation and reference data, their difference in a second panel;
- for a sweep folder (sub-folders that are result folders): ``sweep_<column>.png`` against the
  parameter that varies between the runs, conductance on log-log axes, and ``iv_curve.png``.

Figures are made with ``matplotlib.figure.Figure`` directly, so no GUI backend is involved.
"""

from __future__ import annotations

import json
import logging
import math
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure

from .results import PostprocessError, Profile, ResultFolder, is_sweep_folder, read_numeric_csv
from .units import axis_label, length_scale, quantity_name, split_unit

__all__ = [
    "SUPPORTED_FORMATS",
    "Comparison",
    "SweepSummary",
    "compare_with_reference",
    "plot_results",
    "plot_sweep",
    "sweep_summary",
]

SUPPORTED_FORMATS = ("png", "pdf", "svg")

_log = logging.getLogger(__name__)
_POSITION_COLUMNS = ("distance_m", "x_m", "y_m", "z_m")
_LINESTYLES = ("-", "--", "-.", ":")
_FIGURE_WIDTH_IN = 6.4
_DPI = 150


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
    formats = _check_formats(formats)
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
    profiles = result.profiles()
    written += _profile_figures(profiles, result.debye_length_m, figures_dir, formats)
    if reference is not None:
        written += _reference_figures(result.path, Path(reference), figures_dir, formats)
    if result.model == "pnp":
        written += _edl_figures(result.path, figures_dir, formats)
    return written


def plot_sweep(sweep_dir: str | Path, formats: Sequence[str] = ("png",)) -> list[Path]:
    """Figures of a parameter sweep: final values of each run against the swept parameter.

    The swept parameter is the numeric case value that differs between the runs' ``run.json``
    (e.g. ``electrolyte.concentration_mol_m3``). Conductance columns (unit S) over more than a
    decade are drawn on log-log axes; a current against a swept voltage is the I-V curve.

    Args:
        sweep_dir: Folder whose sub-folders are result folders.
        formats: File formats among ``png``, ``pdf``, ``svg``.

    Returns:
        Paths of the files written into ``sweep_dir/figures/``.
    """
    formats = _check_formats(formats)
    sweep_dir = Path(sweep_dir)
    summary = sweep_summary(sweep_dir)
    parameter, finals = summary.parameter, summary.finals
    x = summary.values
    figures_dir = sweep_dir / "figures"
    written: list[Path] = []
    x_label = _parameter_label(parameter)
    for column, column_values in finals.items():
        y = np.asarray(column_values, dtype=float)
        fig, ax = _new_figure()
        ax.plot(x, y, "o-", color="C0")
        ax.set_xlabel(x_label)
        ax.set_ylabel(axis_label(column))
        logx, logy = _wide_positive(x), _wide_positive(y)
        if split_unit(column)[1] == "S" and logx:
            logy = _all_positive(y)
        ax.set_xscale("log" if logx else "linear")
        ax.set_yscale("log" if logy else "linear")
        ax.set_title(f"{quantity_name(column)} against {_parameter_quantity(parameter)}")
        written += _save(fig, figures_dir, f"sweep_{_slug(column)}", formats)
    if _parameter_unit(parameter) == "V":
        currents = [c for c in finals if split_unit(c)[1] == "A"]
        if currents:
            fig, ax = _new_figure()
            for i, column in enumerate(currents):
                y = np.asarray(finals[column], dtype=float)
                ax.plot(x, y, "o-", color=f"C{i}", label=quantity_name(column))
            ax.axhline(0.0, color="0.6", lw=0.8)
            ax.set_xlabel(x_label)
            ax.set_ylabel("current (A)")
            ax.set_title("current-voltage curve")
            if len(currents) > 1:
                ax.legend()
            written += _save(fig, figures_dir, "iv_curve", formats)
    return written


@dataclass(frozen=True)
class SweepSummary:
    """Final values of the runs of a sweep, ordered by the swept parameter.

    Attributes:
        parameter: Dotted case key that differs between runs (``run_index`` when none does).
        values: The parameter's value in each run, ascending.
        runs: The result folders, in the same order.
        finals: Column of ``timeseries.csv`` -> last value of each run (NaN where missing).
    """

    parameter: str
    values: np.ndarray
    runs: list[Path]
    finals: dict[str, np.ndarray]


def sweep_summary(sweep_dir: str | Path) -> SweepSummary:
    """Collect a sweep: the swept case value and the last time-series row of each run.

    Args:
        sweep_dir: Folder whose sub-folders are result folders (``run.json`` with ``case``).

    Raises:
        PostprocessError: Fewer than two result folders.
    """
    sweep_dir = Path(sweep_dir)
    runs = sorted(c for c in sweep_dir.iterdir() if (c / "run.json").is_file())
    if len(runs) < 2:
        raise PostprocessError(f"{sweep_dir} is not a sweep: it holds {len(runs)} result folder(s)")
    cases = [_flatten(json.loads((r / "run.json").read_text()).get("case", {})) for r in runs]
    parameter, values = _swept_parameter(cases)
    if parameter is None:
        parameter, values = "run_index", np.arange(len(runs), dtype=float)
    finals: dict[str, list[float]] = {}
    for index, run in enumerate(runs):
        for column, data in ResultFolder(run).timeseries().items():
            if column == "time_s" or data.size == 0:
                continue
            finals.setdefault(column, [math.nan] * len(runs))[index] = float(data[-1])
    order = np.argsort(values, kind="stable")
    return SweepSummary(
        parameter,
        np.asarray(values, dtype=float)[order],
        [runs[i] for i in order],
        {column: np.asarray(v, dtype=float)[order] for column, v in finals.items()},
    )


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
        fig, ax = _new_figure()
        for i, column in enumerate(columns):
            ax.plot(time, timeseries[column], color=f"C{i % 10}", label=quantity_name(column))
        _time_axis(ax, time)
        if len(columns) == 1:
            ax.set_ylabel(axis_label(columns[0]))
        else:
            ax.set_ylabel(_group_label(columns, unit))
            ax.legend(fontsize="small")
        ax.set_title(", ".join(quantity_name(c) for c in columns[:4]) + " against time")
        written += _save(fig, figures_dir, f"timeseries_{unit or 'dimensionless'}", formats)
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
        figsize=(_FIGURE_WIDTH_IN * (1.0 if panels == 1 else 1.6), 4.0), layout="constrained"
    )
    axes = fig.subplots(1, panels, squeeze=False)[0]
    axes[0].plot(time, voltage, color="C0")
    _time_axis(axes[0], time)
    axes[0].set_ylabel(axis_label("voltage_V"))
    axes[0].set_title("voltage against time")
    if capacity is not None:
        axes[1].plot(capacity, voltage, color="C1")
        axes[1].set_xlabel(axis_label("discharge_capacity_Ah"))
        axes[1].set_ylabel(axis_label("voltage_V"))
        axes[1].set_title("voltage against discharge capacity")
    for ax in axes:
        ax.grid(alpha=0.3)
    return _save(fig, figures_dir, "voltage", formats)


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
    fig, ax = _new_figure()
    for i, column in enumerate(currents):
        ax.plot(voltage, timeseries[column], "o-", ms=3, color=f"C{i}", label=quantity_name(column))
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel(axis_label(voltages[0]))
    ax.set_ylabel("current (A)")
    ax.set_title("current-voltage curve")
    if len(currents) > 1:
        ax.legend(fontsize="small")
    return _save(fig, figures_dir, "iv_curve", formats)


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
        fig, ax = _new_figure()
        x_name, x_factor, x_unit = _profile_abscissa(group)
        time_norm = _time_norm(times)
        time_cmap = colormaps["viridis"]
        for f_index, field in enumerate(fields):
            for profile in sorted((p for p in group if p.field == field), key=lambda p: p.time_s):
                x = _profile_position(profile, x_name) * x_factor
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
        if _wide_positive(values, decades=1.3):
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
        written += _save(
            fig, figures_dir, f"profile_{_slug(name)}_{unit or 'dimensionless'}", formats
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
    longest = max(float(np.max(np.abs(_profile_position(p, name)))) for p in group)
    factor, unit = length_scale(longest)
    return name, factor, unit


def _profile_position(profile: Profile, name: str) -> np.ndarray:
    if name in ("x", "y", "z"):
        return profile.points_m[:, "xyz".index(name)]
    return profile.distance_m


# -- reference data --------------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """One simulated column or profile field next to the reference data of the same name.

    Attributes:
        abscissa: Name of the abscissa (``time_s``, ``discharge_capacity_Ah``, ``x_m``...).
        column: Name of the compared quantity.
        simulated: Abscissa and values of the simulation, sorted by abscissa.
        reference: Abscissa and values of the reference file.
        title_suffix: Where the simulated data comes from (profile and time), for titles.
    """

    abscissa: str
    column: str
    simulated: tuple[np.ndarray, np.ndarray]
    reference: tuple[np.ndarray, np.ndarray]
    title_suffix: str = ""

    @property
    def inside(self) -> np.ndarray:
        """Mask of the reference points within the simulated abscissa range."""
        sim_x = self.simulated[0]
        return (self.reference[0] >= sim_x[0]) & (self.reference[0] <= sim_x[-1])

    @property
    def difference(self) -> np.ndarray:
        """Simulation (linearly interpolated) minus reference, at the reference points inside."""
        sim_x, sim_y = self.simulated
        ref_x, ref_y = self.reference
        inside = self.inside
        return np.interp(ref_x[inside], sim_x, sim_y) - ref_y[inside]

    @property
    def max_abs_difference(self) -> float:
        """Largest absolute difference (NaN when no reference point lies in the range)."""
        difference = self.difference
        return float(np.max(np.abs(difference))) if difference.size else math.nan


def compare_with_reference(result_dir: str | Path, reference: str | Path) -> list[Comparison]:
    """Match the columns of a reference CSV file with the results of the same name.

    Args:
        result_dir: Result folder.
        reference: CSV file; first column the abscissa, a column of ``timeseries.csv`` or a
            position along a profile (``distance_m``, ``x_m``, ``y_m``, ``z_m``; compared with
            the profiles at the last saved time); other columns matched by name.

    Returns:
        One comparison per matched column.

    Raises:
        PostprocessError: Missing file, unknown abscissa, or no matching column; the message
            names the columns available.
    """
    result = ResultFolder(result_dir)
    reference = Path(reference)
    if not reference.is_file():
        raise PostprocessError(f"reference file {reference} does not exist")
    columns = read_numeric_csv(reference)
    if len(columns) < 2:
        raise PostprocessError(f"reference file {reference} needs an abscissa and a data column")
    abscissa, *compared = list(columns)
    timeseries = result.timeseries()
    comparisons: list[Comparison] = []
    if abscissa in timeseries:
        available = [c for c in timeseries if c != abscissa]
        order = np.argsort(timeseries[abscissa], kind="stable")
        for column in (c for c in compared if c in available):
            comparisons.append(
                Comparison(
                    abscissa,
                    column,
                    (timeseries[abscissa][order], timeseries[column][order]),
                    (columns[abscissa], columns[column]),
                )
            )
    elif abscissa in _POSITION_COLUMNS:
        profiles = result.profiles()
        last = max((p.time_s for p in profiles), default=0.0)
        latest = {p.field: p for p in profiles if p.time_s == last}
        available = list(latest)
        name = "distance" if abscissa == "distance_m" else abscissa[0]
        for column in (c for c in compared if c in latest):
            profile = latest[column]
            position = _profile_position(profile, name)
            order = np.argsort(position, kind="stable")
            comparisons.append(
                Comparison(
                    abscissa,
                    column,
                    (position[order], profile.values[order]),
                    (columns[abscissa], columns[column]),
                    f" along {profile.name} at t = {last:.3g} s",
                )
            )
    else:
        raise PostprocessError(
            f"first column {abscissa!r} of {reference.name} is neither a time-series column "
            f"({', '.join(timeseries) or 'none'}) nor a position ({', '.join(_POSITION_COLUMNS)})"
        )
    if not comparisons:
        raise PostprocessError(
            f"no column of {reference.name} ({', '.join(compared)}) matches the results; "
            f"available: {', '.join(available) or 'none'}"
        )
    return comparisons


def _reference_figures(
    result_dir: Path, reference: Path, figures_dir: Path, formats: Sequence[str]
) -> list[Path]:
    written: list[Path] = []
    for comparison in compare_with_reference(result_dir, reference):
        written += _comparison_figure(comparison, reference.name, figures_dir, formats)
    return written


def _comparison_figure(
    comparison: Comparison, reference_name: str, figures_dir: Path, formats: Sequence[str]
) -> list[Path]:
    sim_x, sim_y = comparison.simulated
    ref_x, ref_y = comparison.reference
    column, abscissa = comparison.column, comparison.abscissa
    inside, difference = comparison.inside, comparison.difference
    is_length = split_unit(abscissa)[1] == "m"
    factor, x_unit = length_scale(float(np.max(np.abs(sim_x)))) if is_length else (1.0, None)
    fig = Figure(figsize=(_FIGURE_WIDTH_IN, 5.2), layout="constrained")
    top, bottom = fig.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1.4)}, squeeze=True
    )
    top.plot(sim_x * factor, sim_y, color="C0", lw=1.8, label="electrolyx")
    top.plot(ref_x * factor, ref_y, "o", ms=3.5, mfc="none", color="C3", label=reference_name)
    top.set_ylabel(axis_label(column))
    top.legend(fontsize="small")
    title = f"{quantity_name(column)}: electrolyx against reference{comparison.title_suffix}"
    top.set_title(textwrap.fill(title, 60))
    bottom.plot(ref_x[inside] * factor, difference, ".-", color="C3", ms=4)
    bottom.axhline(0.0, color="0.5", lw=0.8)
    bottom.set_ylabel(axis_label("difference_" + split_unit(column)[1]))
    bottom.set_xlabel(axis_label(abscissa, x_unit))
    if difference.size:
        bottom.set_title(
            f"electrolyx − reference (max |difference| = {comparison.max_abs_difference:.3g})",
            fontsize="small",
        )
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    return _save(fig, figures_dir, f"reference_{_slug(column)}", formats)


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
def _check_formats(formats: Iterable[str]) -> list[str]:
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


def _new_figure() -> tuple[Figure, Any]:
    fig = Figure(figsize=(_FIGURE_WIDTH_IN, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.grid(alpha=0.3)
    return fig, ax


def _save(fig: Figure, figures_dir: Path, stem: str, formats: Sequence[str]) -> list[Path]:
    figures_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = figures_dir / f"{stem}.{fmt}"
        fig.savefig(path, dpi=_DPI)
        paths.append(path)
    return paths


def _time_axis(ax: Any, time: np.ndarray) -> None:
    """Label the time axis; logarithmic when the saved times span more than three decades."""
    ax.set_xlabel(axis_label("time_s"))
    positive = time[time > 0]
    if positive.size >= 2 and positive.max() / positive.min() > 1e3:
        ax.set_xscale("log")


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


def _all_positive(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return finite.size > 0 and bool(np.all(finite > 0))


def _wide_positive(values: np.ndarray, decades: float = 2.0) -> bool:
    """True when all values are positive and span more than ``decades`` decades."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size < 2 or not np.all(finite > 0):
        return False
    return math.log10(finite.max() / finite.min()) > decades


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _swept_parameter(cases: list[dict[str, Any]]) -> tuple[str | None, np.ndarray]:
    """The numeric case key whose value differs between runs (the first one when several)."""
    keys = [k for k in cases[0] if all(k in c for c in cases)]
    for key in keys:
        values = [c[key] for c in cases]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            if len(set(values)) > 1:
                return key, np.asarray(values, dtype=float)
    return None, np.empty(0)


# Case values are SI (the schema's rule): a key whose last word names one of these quantities
# carries this unit even when its name has no suffix (``boundaries.wall.potential``).
_SI_UNIT_OF_QUANTITY = {"potential": "V", "voltage": "V", "concentration": "mol_m3"}
_SI_UNIT_OF_QUANTITY |= {"temperature": "K"}


def _parameter_unit(parameter: str) -> str:
    """Unit suffix of a dotted case key: its own suffix, else the SI unit of the quantity."""
    last = parameter.rsplit(".", 1)[-1]
    suffix = split_unit(last)[1]
    if suffix:
        return suffix
    return _SI_UNIT_OF_QUANTITY.get(last.split("_")[-1], "")


def _parameter_quantity(parameter: str) -> str:
    return quantity_name(parameter.rsplit(".", 1)[-1])


def _parameter_label(parameter: str) -> str:
    """``electrolyte.concentration_mol_m3`` -> ``electrolyte concentration (mol/m³)``."""
    unit = _parameter_unit(parameter)
    name = parameter.replace(".", "_")
    if unit and not split_unit(name)[1]:
        name = f"{name}_{unit}"
    return axis_label(name)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "unnamed"
