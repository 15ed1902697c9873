"""A 2D field as a coloured surface seen face-on, a 3D field as a coloured solid (pyvista).

Slices and clips through a 3D domain, zoom windows at a boundary, logarithmic colour scales.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .render_options import (
    DIVERGING_CMAP,
    SEQUENTIAL_CMAP,
    RenderOptions,
)
from .render_tools import (
    _association,
    _colour_limits,
    _extents,
    _face_on,
    _fit_camera,
    _label_counts,
    _quiet_vtk,
    _set_camera,
    _spanned_axes,
    _tick_format,
    _vtk_text,
)
from .units import axis_label, length_scale


def _surface_image(
    full: Any,
    data: Any,
    field: str,
    values: np.ndarray,
    signed: bool,
    title: str,
    options: RenderOptions,
) -> np.ndarray:
    import pyvista

    pyvista.OFF_SCREEN = True
    factor, unit = length_scale(max(_extents(full.bounds)))
    shown = data.scale(factor, inplace=False)
    # round-off such as x = -5e-17 would print as a tick label: snap it to zero
    tiny = 1e-9 * max(_extents(shown.bounds))
    shown.points[np.abs(shown.points) < tiny] = 0.0
    shown.set_active_scalars(field, preference=_association(data, field))
    clim = _colour_limits(values, signed, options)
    spanned = _spanned_axes(shown.bounds)
    camera = options.camera or ("iso" if len(spanned) == 3 else _face_on(spanned))
    width, height = options.size
    font = max(8, round(height / 45))
    with _quiet_vtk(pyvista):
        plotter = pyvista.Plotter(off_screen=True, window_size=(width, height))
        try:
            plotter.set_background("white")
            plotter.add_mesh(
                shown,
                scalars=field,
                preference=_association(data, field),
                cmap=DIVERGING_CMAP if signed and not options.log else SEQUENTIAL_CMAP,
                clim=clim,
                log_scale=options.log,
                show_edges=False,
                smooth_shading=False,
                # flat pictures (2D, slices) unlit: colours are exactly those of the colour bar;
                # solids softly shaded so that their faces stay apart
                lighting=len(spanned) == 3,
                ambient=0.45,
                diffuse=0.6,
                specular=0.0,
                scalar_bar_args={
                    "title": " ",  # drawn below as a centred text, clear of the tick labels
                    "color": "black",
                    "fmt": _tick_format(clim),
                    "n_labels": 5,
                    "vertical": False,
                    "position_x": 0.2,
                    "position_y": 0.075,
                    "width": 0.6,
                    "height": 0.045,
                    "title_font_size": 1,
                    "label_font_size": font,
                },
            )
            bar = plotter.scalar_bar
            if bar is not None:  # tick labels under the bar
                bar.SetTextPositionToPrecedeScalarBar()
            bar_title = _vtk_text(axis_label(field) + (", log scale" if options.log else ""))
            title_actor = plotter.add_text(
                bar_title, position=(width / 2, 0.125 * height), font_size=font, color="black"
            )
            title_actor.GetTextProperty().SetJustificationToCentered()
            full_shown = None
            if len(_spanned_axes(full.bounds)) == 3:  # the domain outline around cuts
                full_shown = full.scale(factor, inplace=False).outline()
                full_shown.points[np.abs(full_shown.points) < tiny] = 0.0
                plotter.add_mesh(full_shown, color="#595959")
            plotter.add_text(_vtk_text(title), position="upper_edge", font_size=font, color="black")
            _set_camera(plotter, camera)
            labels = _label_counts(shown.bounds)
            plotter.show_bounds(
                xtitle=_vtk_text(f"x ({unit})"),
                ytitle=_vtk_text(f"y ({unit})"),
                ztitle=_vtk_text(f"z ({unit})"),
                color="black",
                font_size=font,
                location="outer",
                fmt="%.3g",
                show_xaxis="x" in spanned,
                show_yaxis="y" in spanned,
                show_zaxis="z" in spanned,
                n_xlabels=labels[0],
                n_ylabels=labels[1],
                n_zlabels=labels[2],
            )
            context = full_shown.bounds if full_shown is not None else shown.bounds
            _fit_camera(plotter, context, camera)
            image = plotter.screenshot(return_img=True)
        finally:
            plotter.close()
    return np.asarray(image)[:, :, :3]
