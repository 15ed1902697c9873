"""Command-line interface: ``electrolyx run|check|cases|plot|...``.

Every command behaves the same under ``mpiexec -n N``: all ranks parse and validate, rank 0
prints. Invalid input exits with code 2 and a message naming the key, the value and what is
allowed; a solver that gives up exits with code 1 after writing what it had.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from . import __version__, collector, one_blas_thread
from .errors import CaseError
from .shipped_cases import cases_directory, copy_case, describe_cases

__all__ = ["cases_directory", "console_main", "main"]

#: environment variables in which MPI launchers (MPICH/Hydra, Open MPI, PMIx, Slurm) give the rank
_RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID")


def _comm():
    from mpi4py import MPI

    return MPI.COMM_WORLD


def _rank() -> int:
    """This process's MPI rank, without starting MPI for the commands that need none.

    Once mpi4py is loaded, its answer; before, the rank the launcher put in the environment
    (0 outside mpiexec).
    """
    if "mpi4py.MPI" in sys.modules:
        return _comm().rank
    for name in _RANK_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 0


def _print0(*args, file=None) -> None:
    if _rank() == 0:
        print(*args, file=file or sys.stdout, flush=True)


def _cmd_run(args: argparse.Namespace) -> int:
    from .case import load_case
    from .driver import execute, make_logger

    comm = _comm()
    _prepare_exit_handshake(comm)
    case = load_case(args.case, args.set)
    if args.out:
        out = Path(args.out)
    elif args.resume:
        out = None  # where the interrupted run was asked to write
    elif Path(args.case).expanduser().is_dir():
        out = case.directory / "results"
    else:  # a shipped case by name: its folder may be inside the installed package
        out = Path.cwd() / f"{case.name}-results"
    log = make_logger(comm, quiet=args.quiet)
    code, _ = execute(
        case, out, comm, log, overwrite=args.overwrite, force=args.force, resume=args.resume
    )
    return code


def _cmd_check(args: argparse.Namespace) -> int:
    from .case import load_case
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
    if args.mesh:
        return _check_with_mesh(case, comm)
    _check_mesh_files(case, comm)
    _print0(f"case {case.name!r}: valid ({case.model} model)")
    if cheap is not None:
        for line in needs.lines():
            _print0(line)
    else:
        _print0("mesh: not built (`electrolyx check --mesh` builds it and counts the unknowns)")
    for key, value in _settings_diagnostics(case, comm).items():
        text = f"{value:.6g}" if isinstance(value, float) else str(value)
        _print0(f"  {key}: {text}")
    return 0


def _check_mesh_files(case, comm) -> None:
    """Read the mesh files the case names (rank 0): a file that is not a usable mesh is refused.

    Raises:
        CaseError: naming the file and what is wrong with it.
    """
    from .case import FILE_KEYS
    from .meshes.mesh_file import mesh_file_problem

    problem = None
    if comm.rank == 0:
        for key in FILE_KEYS:
            section, _, name = key.partition(".")
            table = case.settings.get(section)
            if name != "path" or not isinstance(table, dict) or not table.get(name):
                continue
            if table.get("generator") not in ("gmsh_file", "mesh_file"):
                continue
            found, _ = mesh_file_problem(case.directory / table[name], table.get("cell_data"))
            if found is not None:
                problem = f"mesh file: {found}"
                break
    problem = comm.bcast(problem, root=0)
    if problem is not None:
        raise CaseError([problem])


def _settings_diagnostics(case, comm) -> dict:
    """The model's diagnostics that need no mesh (time scales, capacities, Debye length).

    A model whose diagnostics need the mesh (it says "build_mesh first") gives none here:
    ``check --mesh`` prints them.
    """
    from .driver import instantiate

    model = instantiate(case, comm)
    try:
        return model.diagnostics()
    except AssertionError:  # the model's "build_mesh first"
        return {"diagnostics": "with the mesh (`electrolyx check --mesh`)"}


def _check_with_mesh(case, comm) -> int:
    """``check --mesh``: build the mesh (and the model's forms), count the unknowns."""
    from .driver import mesh_statistics, prepare
    from .output import PhaseTimer
    from .resources import estimate

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
    if getattr(args, "cases_command", None) == "copy":
        target = None
        if _rank() == 0:
            target = copy_case(args.name, args.directory)
        if target is not None:
            _print0(f"copied case {args.name!r} to {target}; run it with: electrolyx run {target}")
        return 0
    for name, model, title in describe_cases():
        _print0(f"{name:32s} [{model}] {title}")
    _print0(f"(in {cases_directory()}; run one by name: electrolyx run NAME --out DIR)")
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    from .docs import case_format_markdown

    if _rank() == 0:
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``electrolyx`` command.

    Building it imports nothing heavy: each command imports what it needs (dolfinx for
    ``run``, matplotlib and pyvista for ``plot``/``render``/``animate``/``report``) when run.
    """
    parser = argparse.ArgumentParser(
        prog="electrolyx",
        description="Finite-element simulation of ion and electron transport in "
        "electrochemical cells (FEniCSx).",
    )
    parser.add_argument("--version", action="version", version=f"electrolyx {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def case_arguments(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "case",
            metavar="CASE",
            help="case directory holding case.toml, or the name of a shipped case "
            "(`electrolyx cases`)",
        )
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
        help="result folder (default CASE/results, or ./NAME-results for a shipped case given "
        "by name); it is created, or replaced when it "
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
    run.add_argument(
        "--resume",
        metavar="FOLDER",
        help="continue an interrupted run of the same case (FOLDER: its DIR.interrupted-... "
        "folder, which holds its checkpoint) on the same number of ranks; the result goes to "
        "--out, by default where the interrupted run was to write, and FOLDER is left as it is",
    )
    run.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar and no messages: one line per experiment step, and errors",
    )
    run.set_defaults(func=_cmd_run)

    check = sub.add_parser(
        "check",
        help="validate a case (settings, parameter and mesh files) and estimate its size "
        "without building the mesh",
    )
    case_arguments(check)
    check.add_argument(
        "--mesh",
        action="store_true",
        help="also build the mesh and the model (compiling its forms): cells, vertices, "
        "unknowns, and the diagnostics that need the mesh",
    )
    check.add_argument(
        "--parameters",
        action="store_true",
        help="list every name of the case's parameter set with its value (what "
        "[parameters.values] and [sweep] accept) instead of the size estimate",
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

    cases = sub.add_parser(
        "cases", help="list the shipped cases (`cases copy NAME DIR` copies one out to edit)"
    )
    cases_sub = cases.add_subparsers(dest="cases_command", metavar="copy")
    copy = cases_sub.add_parser("copy", help="copy a shipped case to a new folder")
    copy.add_argument("name", metavar="NAME", help="shipped case (see `electrolyx cases`)")
    copy.add_argument("directory", metavar="DIR", help="new folder (never overwritten)")
    cases.set_defaults(func=_cmd_cases)

    docs = sub.add_parser(
        "docs", help="print the case-format reference generated from the settings (Markdown)"
    )
    docs.set_defaults(func=_cmd_docs)

    from .postprocess.cli import add_subcommands

    add_subcommands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``electrolyx`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    if args.func is not _cmd_run:
        # The console script paused the collector for a run's start-up only (a plot or a
        # report makes cyclic garbage all along: matplotlib's figures).
        collector.resume()
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


def console_main() -> int:
    """The ``electrolyx`` console script (and ``python -m electrolyx``): :func:`main`, then exit.

    Once the command has returned, its files are written, closed and in place; what is left
    are the objects of the run (the model's forms and meshes, the settings' validators). The
    interpreter's exit would take them apart one by one, module by module: ~20 ms of the
    ~0.9 s default case, and before that a search of all of them for reference cycles, ~80 ms
    (bench/README.md). The console script leaves without either (:func:`_exit_finalised`):
    the exit handlers run as at any exit, then PETSc and MPI are finalised, then the process
    ends.

    Only the console script does this: :func:`main` called in a longer-lived process (tests,
    notebooks) leaves the interpreter as it was.

    Also only here: Python's cycle collector is paused until a run's model is built
    (:mod:`electrolyx.collector`: ~20 ms of collections over the objects of the start-up), and
    pydantic's plugins are off (``PYDANTIC_DISABLE_PLUGINS``, unless set). When
    the first settings model is built pydantic reads the entry points of every installed
    distribution to find its plugins (observability hooks): 5-7 ms of every command, for
    hooks that have nothing to do in a run. And numpy's OpenBLAS runs one thread, as under
    MPI (:func:`electrolyx.one_blas_thread`, unless ``OPENBLAS_NUM_THREADS`` is set): its
    second thread only spins, a quarter of a serial 3D pouch run's CPU time.
    """
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    one_blas_thread()
    collector.pause()  # until the model is built (electrolyx.collector)
    try:
        code = main()
    except BrokenPipeError:
        # Whoever read the output stopped reading (`electrolyx cases | head -3`): no traceback
        # for that, and nothing more goes to the closed pipe (also not at the exit's flush).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    gc.freeze()  # where the interpreter's exit still runs: no search for cycles
    return _exit_finalised(code)


def _exit_finalised(code: int) -> int:
    """End the process with ``code`` after everything an exit does but taking objects apart.

    In order: the standard streams are flushed; the ``atexit`` handlers run (logging's, and
    ``weakref.finalize``'s, which remove temporary folders); PETSc is finalised (its log and
    its list of unused options, when asked for) and then MPI (collective: every rank of a
    parallel run gets here after the same command); the streams are flushed again; then
    ``os._exit``. What is skipped is the interpreter's own teardown, which only frees memory
    that the process gives back at its end anyway.

    Returns ``code`` without exiting while a thread other than the main one still runs (the
    interpreter's exit waits for it), or where MPI was already finalised.
    """
    import atexit
    import threading

    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if any(t.is_alive() and not t.daemon for t in others):
        return code
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_finalized():
        return code
    _flush_standard_streams()
    atexit._run_exitfuncs()
    petsc = sys.modules.get("petsc4py.PETSc")
    if petsc is not None and petsc.Sys.isInitialized() and not petsc.Sys.isFinalized():
        petsc._finalize()
    if mpi is not None and mpi.Is_initialized():
        mpi.Finalize()
    _flush_standard_streams()
    os._exit(code)


def _flush_standard_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or a closed pipe: nothing left to write there
            pass


def _interrupted_exit(code: int) -> int:
    """Exit code of an interrupted command; on several ranks, leave without finalizers.

    After an interruption the ranks may stand in different collective calls: the destructors of
    PETSc and ADIOS2 objects would wait for each other forever. The run's folder is already in
    place (rank 0 moved it), so a parallel run ends here, once every rank has got here (at most
    :data:`EXIT_HANDSHAKE_S` of waiting, see :func:`_exit_handshake`).
    """
    if _comm().size > 1:
        _flush_standard_streams()
        _exit_handshake(EXIT_HANDSHAKE_S)
        os._exit(code)
    return code


#: How long a rank leaving after an interruption waits for the others [s].
EXIT_HANDSHAKE_S = 5.0

#: On several ranks, the communicator of :func:`_exit_handshake`, made when ``run`` starts
#: (while every rank is at the same place: duplicating a communicator is collective).
_exit_comm = None


def _prepare_exit_handshake(comm) -> None:
    """Make the exit handshake's communicator (collective; nothing on one rank)."""
    global _exit_comm
    if comm.size > 1 and _exit_comm is None:
        _exit_comm = comm.Dup()


def _exit_handshake(timeout_s: float) -> None:
    """Wait until every rank is leaving too, or ``timeout_s``, whichever comes first.

    MPICH's mpiexec ends the whole job as soon as one rank leaves without MPI_Finalize (checked:
    rank 1's ``os._exit``, with code 143 or 0, kills a rank 0 that is still sleeping), so a rank
    that left at once could kill rank 0 while it was still printing where the interrupted run's
    files are, or still writing them: the likely cause of a 2-rank run interrupted in
    `make test` that exited 143 with nothing on stderr. The ranks meet in a non-blocking
    barrier on a communicator of their own, which no collective that the interruption left
    unfinished on another communicator can hold up; a rank that never comes (stuck in such a
    collective) is waited for ``timeout_s``, after which the others leave as before.
    """
    if _exit_comm is None:
        return
    request = _exit_comm.Ibarrier()
    deadline = time.monotonic() + timeout_s
    while not request.Test():
        if time.monotonic() > deadline:
            return
        time.sleep(0.005)


if __name__ == "__main__":
    sys.exit(console_main())
