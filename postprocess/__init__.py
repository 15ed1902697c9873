"""Post-processing of result folders: plots, renders, animations and an HTML report.

Everything here reads a result folder (``run.json``, ``timeseries.csv``, ``profiles.csv``,
``fields/fields.pvd``) and nothing else: no solver imports this package and it does not import
dolfinx, so it works on a laptop that only has the results. From a notebook::

    from electrolyx.postprocess import plot_results, render_field, write_report

    plot_results("results/edl")                        # figures/*.png
    render_field("results/edl", "potential_V", log=False, zoom_to="wall")
    write_report("results/edl")                        # results/edl/report.html
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> module that defines it (imported on first use: matplotlib and pyvista load
#: only when a plot, render or report is made)
_WHERE = {
    "animate_field": "animate",
    "BrowserCheck": "browser",
    "check_html": "browser",
    "find_chromium": "browser",
    "plot_results": "plots",
    "compare_with_reference": "reference",
    "render_field": "render",
    "render_image": "render",
    "write_report": "report",
    "PostprocessError": "results",
    "Profile": "results",
    "ResultFolder": "results",
    "plot_sweep": "sweeps",
    "sweep_summary": "sweeps",
    "axis_label": "units",
    "split_unit": "units",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BrowserCheck",
    "PostprocessError",
    "Profile",
    "ResultFolder",
    "animate_field",
    "axis_label",
    "check_html",
    "compare_with_reference",
    "find_chromium",
    "plot_results",
    "plot_sweep",
    "render_field",
    "render_image",
    "split_unit",
    "sweep_summary",
    "write_report",
]
