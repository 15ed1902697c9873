"""Simulation against reference data (a peer code, an exact solution) matched by column name."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .figure_tools import FIGURE_WIDTH_IN, profile_position, save_figure, slug
from .results import PostprocessError, ResultFolder, read_numeric_csv
from .units import axis_label, length_scale, quantity_name, split_unit

__all__ = ["POSITION_COLUMNS", "Comparison", "compare_with_reference", "reference_figures"]

POSITION_COLUMNS = ("distance_m", "x_m", "y_m", "z_m")


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
    elif abscissa in POSITION_COLUMNS:
        profiles = result.profiles()
        last = max((p.time_s for p in profiles), default=0.0)
        latest = {p.field: p for p in profiles if p.time_s == last}
        available = list(latest)
        name = "distance" if abscissa == "distance_m" else abscissa[0]
        for column in (c for c in compared if c in latest):
            profile = latest[column]
            position = profile_position(profile, name)
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
            f"({', '.join(timeseries) or 'none'}) nor a position ({', '.join(POSITION_COLUMNS)})"
        )
    if not comparisons:
        raise PostprocessError(
            f"no column of {reference.name} ({', '.join(compared)}) matches the results; "
            f"available: {', '.join(available) or 'none'}"
        )
    return comparisons


def reference_figures(
    result_dir: Path, reference: Path, figures_dir: Path, formats: Sequence[str]
) -> list[Path]:
    """One figure (overlay above, difference below) per column that matches the reference."""
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
    fig = Figure(figsize=(FIGURE_WIDTH_IN, 5.2), layout="constrained")
    top, bottom = fig.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1.4)}, squeeze=True
    )
    # Reference as a wide pale band under electrolyx's line, and at most ~60 markers, so that
    # dense reference data (a point per second) does not hide the simulation.
    top.plot(ref_x * factor, ref_y, color="C3", lw=4, alpha=0.3)
    every = max(1, len(ref_x) // 60)
    top.plot(
        ref_x[::every] * factor,
        ref_y[::every],
        "o",
        ms=3.5,
        mfc="none",
        color="C3",
        label=reference_name,
    )
    top.plot(sim_x * factor, sim_y, color="C0", lw=1.4, label="electrolyx")
    top.set_ylabel(axis_label(column))
    top.legend(fontsize="small")
    title = f"{quantity_name(column)}: electrolyx against reference{comparison.title_suffix}"
    top.set_title(textwrap.fill(title, 60))
    marker = ".-" if difference.size <= 200 else "-"
    bottom.plot(ref_x[inside] * factor, difference, marker, color="C3", ms=4)
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
    return save_figure(fig, figures_dir, f"reference_{slug(column)}", formats)
