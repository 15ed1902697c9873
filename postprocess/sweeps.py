"""Parameter sweeps: a folder of result folders, one per value of a case parameter.

The swept parameter is the numeric case value that differs between the runs' ``run.json``;
:func:`plot_sweep` draws the last value of every time-series column against it (conductance on
log-log axes, currents against a swept voltage as the I-V curve).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .figure_tools import (
    all_positive,
    check_formats,
    flatten,
    new_figure,
    save_figure,
    slug,
    wide_positive,
)
from .results import PostprocessError, ResultFolder
from .units import axis_label, quantity_name, split_unit

__all__ = ["SweepSummary", "plot_sweep", "sweep_summary"]


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
    formats = check_formats(formats)
    sweep_dir = Path(sweep_dir)
    summary = sweep_summary(sweep_dir)
    parameter, finals = summary.parameter, summary.finals
    x = summary.values
    figures_dir = sweep_dir / "figures"
    written: list[Path] = []
    x_label = _parameter_label(parameter)
    for column, column_values in finals.items():
        y = np.asarray(column_values, dtype=float)
        fig, ax = new_figure()
        ax.plot(x, y, "o-", color="C0")
        ax.set_xlabel(x_label)
        ax.set_ylabel(axis_label(column))
        logx, logy = wide_positive(x), wide_positive(y)
        if split_unit(column)[1] == "S" and logx:
            logy = all_positive(y)
        ax.set_xscale("log" if logx else "linear")
        ax.set_yscale("log" if logy else "linear")
        ax.set_title(f"{quantity_name(column)} against {_parameter_quantity(parameter)}")
        written += save_figure(fig, figures_dir, f"sweep_{slug(column)}", formats)
    if _parameter_unit(parameter) == "V":
        currents = [c for c in finals if split_unit(c)[1] == "A"]
        if currents:
            fig, ax = new_figure()
            for i, column in enumerate(currents):
                y = np.asarray(finals[column], dtype=float)
                ax.plot(x, y, "o-", color=f"C{i}", label=quantity_name(column))
            ax.axhline(0.0, color="0.6", lw=0.8)
            ax.set_xlabel(x_label)
            ax.set_ylabel("current (A)")
            ax.set_title("current-voltage curve")
            if len(currents) > 1:
                ax.legend()
            written += save_figure(fig, figures_dir, "iv_curve", formats)
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
    cases = [flatten(json.loads((r / "run.json").read_text()).get("case", {})) for r in runs]
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
