"""Command-line interface: ``electrolyx run|check|cases|plot|...``.

Every command behaves the same under ``mpiexec -n N``: all ranks parse and validate, rank 0
prints. Invalid input exits with code 2 and a message naming the key, the value and what is
allowed; a solver that gives up exits with code 1 after writing what it had.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tomllib
import traceback
from pathlib import Path

from . import __version__
from .errors import CaseError

__all__ = ["cases_directory", "main"]


def cases_directory() -> Path:
    """Folder of the shipped cases ($ELECTROLYX_CASES, else ``cases/`` beside the package)."""
    env = os.environ.get("ELECTROLYX_CASES")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "cases"


def _comm():
    from mpi4py import MPI

    return MPI.COMM_WORLD


def _print0(*args, file=None) -> None:
    if _comm().rank == 0:
        print(*args, file=file or sys.stdout, flush=True)


def _cmd_run(args: argparse.Namespace) -> int:
    from .case import load_case
    from .driver import make_logger, run_case

    comm = _comm()
    case = load_case(args.case, args.set)
    out = Path(args.out) if args.out else case.directory / "results"
    log = make_logger(comm, quiet=args.quiet)
    sweep = case.settings.get("sweep", {"keys": [], "values": []})
    safety = {"overwrite": args.overwrite, "force": args.force}
    if not sweep["keys"]:
        code, _ = run_case(case, out, comm, log, **safety)
        return code
    # Every run is validated before any runs; each writes out/run_NNN, then out/sweep.csv.
    from .sweep import run_sweep

    return run_sweep(case, out, comm, log, **safety)


def _cmd_check(args: argparse.Namespace) -> int:
    from .case import load_case
    from .driver import mesh_statistics, prepare
    from .output import PhaseTimer
    from .resources import estimate, unknowns_from_settings

    comm = _comm()
    case = load_case(args.case, args.set)
    if args.parameters:
        return _list_parameter_names(case, comm)
    cheap = unknowns_from_settings(case.model, case.settings)
    if cheap is not None:
        needs = estimate(case.model, case.settings, cheap, comm, "settings")
        if not needs.fits:  # the mesh is not even built
            _print0(f"case {case.name!r}: valid ({case.model} model) but too large here")
            for line in needs.lines():
                _print0(line)
            raise CaseError([needs.refusal()])
    model = prepare(case, comm, PhaseTimer())
    stats = mesh_statistics(model.mesh, model.unknowns())
    needs = estimate(case.model, case.settings, stats["unknowns"], comm)
    diagnostics = model.diagnostics()
    _print0(f"case {case.name!r}: valid ({case.model} model)")
    _print0(
        f"mesh: {stats['dimension']}D, {stats['cells']} cells, {stats['vertices']} vertices; "
        f"unknowns: {stats['unknowns']}"
    )
    for line in needs.lines()[1:]:
        _print0(line)
    for key, value in diagnostics.items():
        text = f"{value:.6g}" if isinstance(value, float) else str(value)
        _print0(f"  {key}: {text}")
    if not needs.fits:
        raise CaseError([needs.refusal()])
    return 0


def _list_parameter_names(case, comm) -> int:
    """``check --parameters``: every name of the case's parameter set with its value."""
    from .driver import instantiate

    names = instantiate(case, comm).parameter_names()
    if names is None:
        _print0(f"case {case.name!r}: valid ({case.model} model); it has no parameter set")
        return 0
    settable = "values" in case.settings.get("parameters", {})
    _print0(
        f"case {case.name!r}: valid ({case.model} model); {len(names)} parameter names"
        + (", each settable in [parameters.values] and [sweep]:" if settable else ":")
    )
    for name, value in names.items():
        text = {"function": "(a function)", None: "(not set)"}.get(value, repr(value))
        _print0(f'  "{name}" = {text}')
    return 0


def _cmd_cases(args: argparse.Namespace) -> int:
    folder = cases_directory()
    for case_file in sorted(folder.glob("*/case.toml")):
        try:
            with open(case_file, "rb") as f:
                section = tomllib.load(f).get("case", {})
        except tomllib.TOMLDecodeError:
            section = {"title": "(unreadable case.toml)"}
        model = section.get("model", "?")
        _print0(f"{case_file.parent.name:32s} [{model}] {section.get('title', '')}")
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    from .docs import case_format_markdown

    if _comm().rank == 0:
        sys.stdout.write(case_format_markdown())
    return 0


def _cmd_homogenise(args: argparse.Namespace) -> int:
    from .meshes.mesh_file import MeshFileError
    from .models.homogenise import homogenise_command

    _check_parameter_file_target(args)
    try:
        homogenise_command(
            args.target,
            _comm(),
            out=args.out,
            direction=args.direction,
            pore_groups=args.pore_group,
            solid_groups=args.solid_group,
            log=_print0,
        )
    except MeshFileError as error:
        raise CaseError([f"mesh file: {error}"]) from None
    return 0


_HOMOGENISE_HEADER = "# Effective (homogenised) parameters of a resolved microstructure,"


def _check_parameter_file_target(args: argparse.Namespace) -> None:
    """Refuse to overwrite a file that `electrolyx homogenise` did not write (unless asked).

    Raises:
        CaseError: naming the file, when the TOML (or the JSON beside it) exists and is not an
            earlier output of `electrolyx homogenise`, or is a folder.
    """
    target = Path(args.target)
    if args.out:
        toml_path = Path(args.out)
    elif target.is_dir() or target.name == "case.toml":
        folder = target if target.is_dir() else target.parent
        toml_path = folder / "effective_properties.toml"
    else:
        toml_path = target.with_name(f"{target.stem}_effective_properties.toml")
    for path in (toml_path, toml_path.with_suffix(".json")):
        if path.is_dir():
            raise CaseError([f"--out {path} is a folder: give the name of a .toml file"])
        if not path.exists() or args.overwrite:
            continue
        try:
            with open(path, "rb") as stream:
                content = stream.read(1 << 20)
        except OSError as error:
            raise CaseError([f"--out {path}: cannot be read ({error.strerror})"]) from None
        if path.suffix == ".json":
            try:
                data = json.loads(content)
            except (ValueError, RecursionError):
                data = None
            ours = isinstance(data, dict) and {"source", "porosity"} <= set(data)
        else:
            ours = content.startswith(_HOMOGENISE_HEADER.encode())
        if not ours:
            raise CaseError(
                [
                    f"{path} exists and was not written by `electrolyx homogenise`: give another "
                    "--out, or add --overwrite to replace it"
                ]
            )


#: post-processing subcommands (electrolyx.postprocess, which imports matplotlib and pyvista)
POSTPROCESS_COMMANDS = {
    "plot": "matplotlib figures of a result folder (or a sweep folder) into RESULT_DIR/figures",
    "render": "off-screen picture of one field (1D line, 2D surface, 3D solid, slice or clip)",
    "animate": "GIF or MP4 of one field over the saved times",
    "report": "self-contained HTML page: plots, renders and a summary of run.json",
}


def build_parser(postprocess: bool = True) -> argparse.ArgumentParser:
    """The argument parser of the ``electrolyx`` command.

    Args:
        postprocess: Register the post-processing subcommands in full (importing their 1.3 s
            of plotting libraries); otherwise only by name, for the other commands' help.
    """
    parser = argparse.ArgumentParser(
        prog="electrolyx",
        description="Finite-element simulation of ion and electron transport in "
        "electrochemical cells (FEniCSx).",
    )
    parser.add_argument("--version", action="version", version=f"electrolyx {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def case_arguments(p: argparse.ArgumentParser) -> None:
        p.add_argument("case", metavar="CASE_DIR", help="case directory holding case.toml")
        p.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a case value by its dotted key (repeatable), "
            "e.g. --set boundaries.wall.potential=0.05",
        )

    run = sub.add_parser("run", help="run a case (also under mpiexec -n N)")
    case_arguments(run)
    run.add_argument(
        "--out",
        metavar="DIR",
        help="result folder (default CASE_DIR/results); it is created, or replaced when it "
        "holds an earlier electrolyx result, only once the run has completed; a failed or "
        "interrupted run goes beside it as DIR.failed-YYYYmmdd-HHMMSS",
    )
    run.add_argument(
        "--overwrite",
        action="store_true",
        help="accept an existing --out folder that is not an electrolyx result: it is moved "
        "aside to DIR.previous-YYYYmmdd-HHMMSS when the run completes (nothing is deleted)",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="run even when the estimated memory exceeds what this machine has available",
    )
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    run.set_defaults(func=_cmd_run)

    check = sub.add_parser("check", help="validate a case and report its size and scales")
    case_arguments(check)
    check.add_argument(
        "--parameters",
        action="store_true",
        help="list every name of the case's parameter set with its value (what "
        "[parameters.values] and [sweep] accept) instead of building the mesh",
    )
    check.set_defaults(func=_cmd_check)

    homogenise = sub.add_parser(
        "homogenise",
        help="porosity, surface area, tortuosity factors and Bruggeman exponents of a "
        "microstructure (a homogenise case folder or a mesh file)",
    )
    homogenise.add_argument("target", metavar="MESH_OR_CASE", help="case folder or mesh file")
    homogenise.add_argument("--out", metavar="FILE", help="TOML parameter file (JSON beside it)")
    homogenise.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --out (and its .json) even if `electrolyx homogenise` did not write them",
    )
    homogenise.add_argument("--direction", choices=("x", "y", "z", "all"), default="all")
    homogenise.add_argument(
        "--pore-group", action="append", metavar="NAME", help="pore cells of a mesh file"
    )
    homogenise.add_argument(
        "--solid-group", action="append", metavar="NAME", help="solid cells of a mesh file"
    )
    homogenise.set_defaults(func=_cmd_homogenise)

    cases = sub.add_parser("cases", help="list the shipped cases")
    cases.set_defaults(func=_cmd_cases)

    docs = sub.add_parser(
        "docs", help="print the case-format reference generated from the settings (Markdown)"
    )
    docs.set_defaults(func=_cmd_docs)

    if not postprocess:
        for name, text in POSTPROCESS_COMMANDS.items():
            sub.add_parser(name, help=text)
        return parser
    try:
        from .postprocess.cli import add_subcommands
    except ImportError:
        pass
    else:
        add_subcommands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``electrolyx`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    # The plotting libraries only for the commands that use them (a bad case is answered in
    # about a second instead of 2.5).
    args = build_parser(command is None or command in POSTPROCESS_COMMANDS).parse_args(argv)
    try:
        return args.func(args)
    except CaseError as error:
        _print0(f"electrolyx: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        # SIGINT, or SIGTERM during a run (electrolyx.driver.RunInterrupted).
        number = getattr(stop, "signal_number", signal.SIGINT)
        _print0(f"electrolyx: interrupted ({signal.Signals(number).name})", file=sys.stderr)
        return _interrupted_exit(128 + number)
    except Exception:
        # An error on one rank must not leave the others waiting forever under mpiexec.
        comm = _comm()
        if comm.size > 1:
            traceback.print_exc()
            sys.stderr.flush()
            comm.Abort(1)
        raise


def _interrupted_exit(code: int) -> int:
    """Exit code of an interrupted command; on several ranks, leave without finalizers.

    After an interruption the ranks may stand in different collective calls: the destructors of
    PETSc and ADIOS2 objects would wait for each other forever. The run's folder is already in
    place (rank 0 moved it), so a parallel run ends here at once.
    """
    if _comm().size > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
