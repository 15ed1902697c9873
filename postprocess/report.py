"""One self-contained HTML page summarising a result folder.

``write_report(RESULT_DIR)`` makes the figures (:func:`plot_results`), renders every field at
the last saved time (:func:`render_field`) and writes ``RESULT_DIR/report.html``: images embedded
as base64 ``data:`` URIs, styles inline, no script and no external resource, so the page opens
anywhere (e-mail attachment, laptop without the results). It opens with a headline table (the
model's few key numbers, see :mod:`electrolyx.postprocess.headline`), then summarises
``run.json``: case, mesh,
unknowns, solver statistics, timings, convergence, conservation and other diagnostics, and keeps
the whole file in a collapsed section.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .figure_tools import flatten
from .headline import headline_rows
from .plots import plot_results
from .render import render_field
from .results import PostprocessError, ResultFolder, is_sweep_folder
from .sweeps import plot_sweep, sweep_summary

__all__ = ["write_report"]

_log = logging.getLogger(__name__)
_MIME = {".png": "image/png", ".gif": "image/gif", ".svg": "image/svg+xml"}
_MAX_EMBEDDED_BYTES = 8_000_000  # larger files (long animations) are linked, not embedded
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; color: #1d1d1f; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.status { display: inline-block; padding: 0.1rem 0.6rem; border-radius: 0.8rem; color: #fff; }
.completed { background: #2e7d32; } .failed { background: #c62828; } .unknown { background: #777; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 1rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.92rem; }
td, th { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f4f4f6; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 0; } figure img { width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #555; }
pre { background: #f6f8fa; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem; }
.muted { color: #666; }
table.headline { font-size: 1.1rem; margin: 1rem 0 1.5rem; }
table.headline th { min-width: 14rem; }
"""


#: Fields rendered before the others when a result has them.
_RENDERED_FIRST = (
    "temperature_K",
    "plated_lithium_concentration_mol_m3",
    "von_mises_stress_Pa",
    "displacement_m",
)

#: Fields of the negative electrode's side reactions shown where plating began.
_PLATING_FIELDS = ("plated_lithium_concentration_mol_m3", "plating_overpotential_V")


def _view(result: ResultFolder, field: str) -> dict[str, str]:
    """Camera and slice of a field's render in the report (``render_field`` keywords).

    A 3D pouch's temperature face on (its large face, as a thermal camera sees it); its
    plated lithium and plating overpotential face on, on the plane through the stack where
    plating began (run.json ``solver.plating_onset``), just inside the negative electrode.
    Other fields and 1D/2D results: the default view.
    """
    run = result.run if isinstance(result.run, dict) else {}
    mesh = run.get("mesh")
    if not (isinstance(mesh, dict) and mesh.get("dimension") == 3):
        return {}
    if field == "temperature_K":
        return {"camera": "yz"}
    solver = run.get("solver")
    onset = solver.get("plating_onset") if isinstance(solver, dict) else None
    if field in _PLATING_FIELDS and isinstance(onset, dict):
        x = float(onset["position_m"][0])
        foil = run.get("case", {}).get("geometry", {}).get("negative_foil_thickness", 0.0)
        # 1 nm inside the electrode's cells: a plane on a layer's face may sample its neighbour
        inside = x - 1e-9 if x - 1e-9 > foil else x + 1e-9
        return {"camera": "yz", "slice": f"x={inside!r}"}
    return {}


def write_report(
    result_dir: str | Path,
    output: str | Path | None = None,
    plots: bool = True,
    renders: bool = True,
    max_renders: int = 8,
    render_size: tuple[int, int] = (900, 675),
) -> Path:
    """Write the HTML report of a result folder.

    Args:
        result_dir: Result folder, or a sweep folder (its figures and a table of the runs).
        output: HTML path; default ``RESULT_DIR/report.html``.
        plots: Make the matplotlib figures first (:func:`plot_results`).
        renders: Render each field at the last saved time (first ``max_renders`` fields).
        max_renders: Largest number of fields rendered.
        render_size: Size of each render in pixels.

    Returns:
        Path of the HTML file.
    """
    if Path(result_dir).is_dir() and is_sweep_folder(result_dir):
        return _write_sweep_report(Path(result_dir), output)
    result = ResultFolder(result_dir)
    figures_dir = result.path / "figures"
    if plots:
        plot_results(result.path)
    rendered: list[Path] = []
    if renders and result.fields_file.is_file():
        names = result.field_names()
        # The temperature, the plated lithium and the cell elasticity's fields first (a
        # pouch's or a swelling stack's point), then in order.
        first = [name for name in _RENDERED_FIRST if name in names]
        names = first + [name for name in names if name not in first]
        for field in names[:max_renders]:
            try:
                rendered.append(
                    render_field(result.path, field, size=render_size, **_view(result, field))
                )
            except PostprocessError as error:  # e.g. a field with nothing to show
                _log.warning("no render of %s: %s", field, error)
    residual_figure = _residual_figure(result.run, figures_dir)
    output = Path(output) if output is not None else result.path / "report.html"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(_page(result, figures_dir, rendered, residual_figure), encoding="utf-8")
    return output


def _write_sweep_report(sweep_dir: Path, output: str | Path | None) -> Path:
    """Report of a sweep folder: the sweep figures and one table row per run."""
    figures = [p for p in plot_sweep(sweep_dir) if p.suffix in _MIME]
    summary = sweep_summary(sweep_dir)
    columns = list(summary.finals)
    header = "".join(
        f"<th>{_e(name)}</th>" for name in (summary.parameter, "run", "status", *columns)
    )
    rows = []
    for index, run in enumerate(summary.runs):
        status = str(ResultFolder(run).run.get("status", "unknown"))
        cells = [_format(float(summary.values[index])), run.name, status]
        cells += [_format(float(summary.finals[c][index])) for c in columns]
        rows.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    page = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(sweep_dir.name)}: electrolyx sweep report</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Sweep {_e(sweep_dir.name)}</h1>",
        f"<p>{len(summary.runs)} runs; swept parameter <b>{_e(summary.parameter)}</b>; "
        "last value of each time-series column per run.</p>",
        f"<table><tr>{header}</tr>{''.join(rows)}</table>",
        "<h2>Plots</h2>",
        _figure_grid(figures),
        '<p class="muted">Written by <code>electrolyx report</code>.</p>',
        "</body></html>",
    ]
    output = Path(output) if output is not None else sweep_dir / "report.html"
    output.write_text("\n".join(page), encoding="utf-8")
    return output


# -- page ------------------------------------------------------------------------------------
def _page(
    result: ResultFolder, figures_dir: Path, rendered: list[Path], residual: Path | None
) -> str:
    run = result.run
    case = run.get("case", {}) if isinstance(run.get("case"), dict) else {}
    title = str(_case_title(run) or result.path.name)
    status = str(run.get("status", "unknown"))
    status_class = status if status in ("completed", "failed") else "unknown"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}: electrolyx report</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p><span class="status {status_class}">{_e(status)}</span> '
        f"model <b>{_e(result.model or 'unknown')}</b> · result folder "
        f"<code>{_e(str(result.path))}</code></p>",
    ]
    message = run.get("message") or run.get("error")
    if message:
        parts.append(f"<p><b>Message:</b> {_e(str(message))}</p>")
    timeseries = result.timeseries()
    headline = headline_rows(run, timeseries)
    if headline:  # what a reader looks for first: before every other table and figure
        parts.append('<table id="headline" class="headline">')
        parts += [f"<tr><th>{_e(name)}</th><td>{_e(value)}</td></tr>" for name, value in headline]
        parts.append("</table>")
    parts.append("<h2>Summary</h2>")
    parts.append(_summary_tables(run))
    if timeseries:
        time = timeseries.get("time_s")
        at = f" at t = {time[-1]:.6g} s" if time is not None and time.size else ""
        parts.append(f"<h2>Scalar outputs{_e(at)}</h2>")
        parts.append(
            _table((name, float(values[-1])) for name, values in timeseries.items() if values.size)
        )
    plot_files = [
        p
        for p in sorted(figures_dir.glob("*"))
        if p.suffix in _MIME and not p.name.startswith(("render_", "animation_")) and p != residual
    ]
    if residual is not None:
        parts.append("<h2>Convergence</h2>")
        parts.append(_figure_grid([residual]))
    if plot_files:
        parts.append("<h2>Plots</h2>")
        parts.append(_figure_grid(plot_files))
    renders = rendered or sorted(figures_dir.glob("render_*.png"))
    if renders:
        parts.append("<h2>Fields</h2>")
        parts.append(_figure_grid(renders))
    animations = sorted(figures_dir.glob("animation_*.gif"))
    if animations:
        parts.append("<h2>Animations</h2>")
        parts.append(_figure_grid(animations))
    if case:
        parts.append("<h2>Case (fully resolved)</h2>")
        parts.append(_table(flatten(case).items()))
    if run:
        parts.append("<details><summary>run.json</summary>")
        parts.append(f"<pre>{_e(json.dumps(run, indent=2, default=str))}</pre></details>")
    parts.append('<p class="muted">Written by <code>electrolyx report</code>.</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


def _summary_tables(run: dict[str, Any]) -> str:
    """Tables of the run.json sections a reader looks for first, found by their key names."""
    flat = flatten({k: v for k, v in run.items() if k != "case"})
    sections: list[tuple[str, tuple[str, ...]]] = [
        (
            "Versions and parallel run",
            ("version", "mpi", "petsc", "dolfinx", "electrolyx", "python", "host", "date"),
        ),
        ("Mesh and unknowns", ("mesh.", "unknown", "dofs", "cells", "vertices")),
        ("Convergence", ("converged", "status", "reason", "continuation", "failed")),
        ("Solver statistics", ("solver.", "newton", "linear", "iterations", "snes", "ksp")),
        ("Timings", ("timing", "wall_time", "elapsed", "seconds")),
        ("Conservation", ("conservation", "inventory", "balance", "charge", "mass")),
        ("Diagnostics", ("diagnostics.",)),
    ]
    shown: set[str] = set()
    html_parts = []
    for heading, needles in sections:
        rows = [
            (key, value)
            for key, value in flat.items()
            if key not in shown
            and not _is_long_list(value)
            and not key.startswith("mesh.boundaries.")
            and any(needle in key.lower() for needle in needles)
        ]
        if heading == "Mesh and unknowns" and "boundaries" in run.get("mesh", {}):
            rows.append(("mesh.boundaries", ", ".join(run["mesh"]["boundaries"])))
        if not rows:
            continue
        shown.update(key for key, _ in rows)
        html_parts.append(f"<h3>{_e(heading)}</h3>")
        html_parts.append(_table(rows))
    rest = [
        (k, v)
        for k, v in flat.items()
        if k not in shown
        and not _is_long_list(v)
        and not k.startswith("mesh.boundaries.")
        and v not in ("", None, [], {})
    ]
    if rest:
        html_parts.append("<h3>Other</h3>")
        html_parts.append(_table(rest))
    if not html_parts:
        return '<p class="muted">run.json is missing or empty.</p>'
    return '<div class="grid">' + "".join(f"<div>{p}</div>" for p in _pairs(html_parts)) + "</div>"


def _pairs(parts: list[str]) -> list[str]:
    """Join each heading with its table so that the grid keeps them together."""
    return ["".join(parts[i : i + 2]) for i in range(0, len(parts), 2)]


def _table(rows: Iterable[tuple[str, Any]]) -> str:
    body = []
    for key, value in rows:
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        cell = (
            f'<td class="num">{_e(_format(value))}</td>'
            if numeric
            else f"<td>{_e(_format(value))}</td>"
        )
        # let long dotted keys break after "." and "_" only, not inside words
        shown_key = re.sub(r"([._])", r"\1<wbr>", _e(key))
        body.append(f"<tr><th>{shown_key}</th>{cell}</tr>")
    return "<table>" + "".join(body) + "</table>"


def _figure_grid(paths: list[Path]) -> str:
    items = []
    for path in paths:
        data = path.read_bytes()
        if len(data) > _MAX_EMBEDDED_BYTES:
            items.append(f"<p>{_e(path.name)}: {len(data) / 1e6:.1f} MB, not embedded.</p>")
            continue
        uri = f"data:{_MIME[path.suffix]};base64,{base64.b64encode(data).decode('ascii')}"
        caption = path.stem.replace("_", " ")
        items.append(
            f'<figure><img src="{uri}" alt="{_e(caption)}" loading="eager">'
            f"<figcaption>{_e(path.name)}</figcaption></figure>"
        )
    return '<div class="grid">' + "".join(items) + "</div>"


def _residual_figure(run: dict[str, Any], figures_dir: Path) -> Path | None:
    """Semi-log plot of every residual history found in run.json (lists under 'residual')."""
    histories = {
        key: np.asarray(value, dtype=float)
        for key, value in flatten(run).items()
        if "residual" in key.lower() and _is_number_list(value) and len(value) >= 2
    }
    if not histories:
        return None
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    for i, (key, values) in enumerate(histories.items()):
        positive = np.where(values > 0, values, np.nan)
        ax.semilogy(np.arange(len(values)), positive, "o-", ms=4, color=f"C{i}", label=key)
    ax.set_xlabel("Newton iteration")
    ax.set_ylabel("residual norm")
    ax.set_title("nonlinear solver convergence")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    figures_dir.mkdir(parents=True, exist_ok=True)
    path = figures_dir / "solver_residuals.png"
    fig.savefig(path, dpi=120)
    return path


def _case_title(run: dict[str, Any]) -> str:
    """The case's title or name from run.json, else the name of its case directory."""
    case = run.get("case") if isinstance(run.get("case"), dict) else {}
    meta = case.get("case") if isinstance(case.get("case"), dict) else {}
    for candidate in (meta.get("title"), meta.get("name"), case.get("name"), case.get("title")):
        if isinstance(candidate, str) and candidate:
            return candidate
    directory = run.get("case_directory")
    return Path(directory).name if isinstance(directory, str) and directory else ""


# -- helpers ---------------------------------------------------------------------------------
def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else str(value)
    if isinstance(value, list):
        return ", ".join(_format(v) for v in value)
    return str(value)


def _is_number_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    )


def _is_long_list(value: Any) -> bool:
    return isinstance(value, list) and len(value) > 6
