"""Post-processing of result folders: plots, renders, animations and an HTML report.

Everything here reads a result folder (``run.json``, ``timeseries.csv``, ``profiles.csv``,
``fields/fields.pvd``) and nothing else: no solver imports this package and it does not import
dolfinx, so it works on a laptop that only has the results. From a notebook::

    from electrolyx.postprocess import plot_results, render_field, write_report

    plot_results("results/edl")                        # figures/*.png
    render_field("results/edl", "potential_V", log=False, zoom_to="wall")
    write_report("results/edl")                        # results/edl/report.html
"""

from .animate import animate_field
from .browser import BrowserCheck, check_html, find_chromium
from .plots import plot_results
from .reference import compare_with_reference
from .render import render_field, render_image
from .report import write_report
from .results import PostprocessError, Profile, ResultFolder
from .sweeps import plot_sweep, sweep_summary
from .units import axis_label, split_unit

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
