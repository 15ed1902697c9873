"""Command-line subcommands ``plot``, ``render``, ``animate`` and ``report``.

``electrolyx/cli.py`` registers them with ``add_subcommands(subparsers)``; each subcommand sets
``func`` to a handler that takes the parsed arguments and returns the exit code: 0 on success, 2
when the request does not fit the result folder (unknown field, time out of range...), with a
message on stderr naming what is available. ``python -m electrolyx.postprocess.cli`` runs them
on their own.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

# The plotting libraries (matplotlib, pyvista) are imported by the handlers that use them, so
# that registering these subcommands costs nothing (electrolyx --help).
from .choices import CAMERAS, SUPPORTED_FORMATS

__all__ = ["EXIT_BAD_REQUEST", "add_subcommands", "main"]

EXIT_BAD_REQUEST = 2


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``plot``, ``render``, ``animate`` and ``report`` on an argparse subparsers object.

    Args:
        subparsers: What ``ArgumentParser.add_subparsers()`` returned.
    """
    plot = subparsers.add_parser(
        "plot",
        help="matplotlib figures of a result folder (or a sweep folder) into RESULT_DIR/figures",
        description="Figures from timeseries.csv and profiles.csv: time series grouped by unit, "
        "voltage against time and capacity, profiles at the saved times (in Debye lengths too "
        "for PNP results), I-V and conductance curves of sweeps.",
    )
    plot.add_argument("result_dir", type=Path, metavar="RESULT_DIR")
    plot.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=SUPPORTED_FORMATS,
        help="figure format, repeat for several (default: png)",
    )
    plot.add_argument(
        "--reference",
        type=Path,
        metavar="FILE.csv",
        help="reference data to overlay; first column the abscissa (time_s, x_m, ...), "
        "other columns matched by name, differences in a second panel",
    )
    plot.set_defaults(func=_plot)

    render = subparsers.add_parser(
        "render",
        help="off-screen picture of one field (1D line, 2D surface, 3D solid, slice or clip)",
    )
    _add_picture_arguments(render)
    render.add_argument("--time", type=float, help="saved time in s (nearest; default: last)")
    render.add_argument("--size", type=_size, default=(1200, 900), metavar="WxH")
    render.add_argument("--output", "-o", type=Path, help="PNG file (default: in figures/)")
    render.set_defaults(func=_render)

    animate = subparsers.add_parser("animate", help="GIF or MP4 of one field over the saved times")
    _add_picture_arguments(animate)
    animate.add_argument("--fps", type=float, default=4.0, help="frames per second (default: 4)")
    animate.add_argument("--size", type=_size, default=(800, 600), metavar="WxH")
    animate.add_argument(
        "--output", "-o", type=Path, help=".gif or .mp4 file (default: figures/animation_*.gif)"
    )
    animate.set_defaults(func=_animate)

    report = subparsers.add_parser(
        "report", help="self-contained HTML page: plots, renders and a summary of run.json"
    )
    report.add_argument("result_dir", type=Path, metavar="RESULT_DIR")
    report.add_argument("--output", "-o", type=Path, help="HTML file (default: report.html)")
    report.add_argument("--no-renders", action="store_true", help="leave out the field renders")
    report.set_defaults(func=_report)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one post-processing subcommand; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m electrolyx.postprocess.cli",
        description="Post-processing of electrolyx result folders.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_subcommands(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


# -- handlers --------------------------------------------------------------------------------
def _handled(action: Callable[[argparse.Namespace], list[Path] | Path]) -> Callable:
    """Run ``action``, print what it wrote, turn PostprocessError into exit code 2."""

    def handler(args: argparse.Namespace) -> int:
        from .results import PostprocessError

        try:
            written = action(args)
        except PostprocessError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_BAD_REQUEST
        for path in [written] if isinstance(written, Path) else written:
            print(path)
        return 0

    return handler


@_handled
def _plot(args: argparse.Namespace) -> list[Path]:
    from .plots import plot_results

    return plot_results(args.result_dir, formats=args.formats or ("png",), reference=args.reference)


def _require_field(args: argparse.Namespace) -> None:
    from .results import PostprocessError, ResultFolder

    if args.field is None:
        fields = ResultFolder(args.result_dir).field_names()
        raise PostprocessError(f"choose a field with --field: {', '.join(fields) or 'none saved'}")


@_handled
def _render(args: argparse.Namespace) -> Path:
    _require_field(args)
    from .render import render_field

    return render_field(
        args.result_dir,
        args.field,
        time=args.time,
        slice=args.slice,
        clip=args.clip,
        log=args.log,
        zoom_to=args.zoom_to,
        camera=args.camera,
        size=args.size,
        output=args.output,
    )


@_handled
def _animate(args: argparse.Namespace) -> Path:
    _require_field(args)
    from .animate import animate_field

    return animate_field(
        args.result_dir,
        args.field,
        output=args.output,
        fps=args.fps,
        slice=args.slice,
        clip=args.clip,
        log=args.log,
        zoom_to=args.zoom_to,
        camera=args.camera,
        size=args.size,
    )


@_handled
def _report(args: argparse.Namespace) -> Path:
    from .report import write_report

    return write_report(args.result_dir, output=args.output, renders=not args.no_renders)


# -- arguments -------------------------------------------------------------------------------
def _add_picture_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("result_dir", type=Path, metavar="RESULT_DIR")
    parser.add_argument("--field", help="field name, e.g. potential_V (left out: list them)")
    parser.add_argument(
        "--slice", metavar="AXIS[=VALUE]", help="plane through the domain, VALUE in m (e.g. z=1e-6)"
    )
    parser.add_argument(
        "--clip", metavar="[-]AXIS[=VALUE]", help="keep the part below VALUE (above with -)"
    )
    parser.add_argument("--log", action="store_true", help="logarithmic colour scale")
    parser.add_argument(
        "--zoom-to", metavar="BOUNDARY", help="zoom to a boundary named in run.json mesh.boundaries"
    )
    parser.add_argument("--camera", choices=CAMERAS, help="view (default: xy in 2D, iso in 3D)")


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"size {text!r} is not WIDTHxHEIGHT, e.g. 1200x900"
        ) from None
    return width, height


if __name__ == "__main__":
    sys.exit(main())
