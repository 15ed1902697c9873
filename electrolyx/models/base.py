"""What every model shares: the common case sections and the model interface.

A model is a class with a ``schema`` (the whole case-file schema for that model), a
``check_consistency`` class method for checks across keys, and instance methods that build the
mesh (``build_mesh``), report diagnostics (``diagnostics``, ``unknowns``) and run the study
(``run``). The driver in :mod:`electrolyx.driver` does the rest (output folder, timing, errors).
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from mpi4py import MPI

import dolfinx

from ..output import PhaseTimer, ResultWriter
from ..schema import CaseError, Key, Options, Table, TableArray

__all__ = [
    "Model",
    "case_table",
    "output_table",
    "require_boundaries",
    "solver_table",
    "sweep_table",
]


def case_table(models: tuple[str, ...]) -> Table:
    """The ``[case]`` table: which model, and a title."""
    return Table(
        "What the case is.",
        {
            "model": Key("str", "Model that solves the case.", choices=models),
            "title": Key("str", "One-line title shown by `electrolyx cases`.", default=""),
        },
        required=True,
    )


def solver_table(
    linear_solver: str = "mumps",
    relative_tolerance: float = 1e-12,
    absolute_tolerance: float = 1e-12,
    model_linear_solvers: dict[str, str] | None = None,
    line_searches: tuple[str, ...] = ("bt", "basic", "l2", "cp", "secant"),
    line_search_help: str = "SNES line search.",
) -> Table:
    """The ``[solver]`` table: Newton settings and verbatim PETSc options.

    Args:
        linear_solver: Default preset.
        relative_tolerance: Default Newton relative tolerance.
        absolute_tolerance: Default Newton absolute tolerance.
        model_linear_solvers: Presets a model adds to the common ones (name: description);
            the model translates them into PETSc options itself.
        line_searches: The line searches the model's Newton iteration supports.
        line_search_help: Meaning of ``line_search``.
    """
    extra = model_linear_solvers or {}
    described = "".join(f" `{name}`: {text}" for name, text in extra.items())
    return Table(
        "Newton's method (PETSc SNES) and its linear solver.",
        {
            "linear_solver": Key(
                "str",
                "Linear solver preset for each Newton step." + described,
                default=linear_solver,
                choices=("mumps", "superlu_dist", "gmres-ilu", "gmres-asm", *extra),
            ),
            "line_search": Key("str", line_search_help, default="bt", choices=line_searches),
            "relative_tolerance": Key(
                "float",
                "Newton stops when the residual norm fell by this factor.",
                default=relative_tolerance,
                low=0.0,
                high=1.0,
                low_open=True,
                high_open=True,
            ),
            "absolute_tolerance": Key(
                "float",
                "Newton stops when the (scaled) residual norm is below this.",
                default=absolute_tolerance,
                low=0.0,
                low_open=True,
            ),
            "max_iterations": Key(
                "int", "Newton iterations per solve.", default=50, low=1, high=10000
            ),
            "continuation_steps": Key(
                "int",
                "How many times a failed continuation step may be halved before giving up.",
                default=8,
                low=0,
                high=60,
            ),
            "petsc": Options(
                "PETSc options applied verbatim to the SNES (and its KSP/PC), overriding the "
                'settings above, e.g. `snes_monitor = ""` or `ksp_type = "gmres"`.'
            ),
        },
    )


def output_table(**extra: Any) -> Table:
    """The ``[output]`` table: fields, line profiles and model-specific ``extra`` entries."""
    return Table(
        "What the run writes besides run.json and timeseries.csv.",
        {
            **extra,
            "fields": Key(
                "bool",
                "Write fields for ParaView (fields/fields.pvd and fields/fields.bp).",
                default=True,
            ),
            "profiles": TableArray(
                "Line segments along which fields are sampled into profiles.csv.",
                Table(
                    "One line segment.",
                    {
                        "name": Key("str", "Profile name (column `profile` of profiles.csv)."),
                        "start": Key("point", "Start point.", unit="m"),
                        "end": Key("point", "End point.", unit="m"),
                        "points": Key(
                            "int",
                            "Number of equally spaced points.",
                            default=200,
                            low=2,
                            high=1_000_000,
                        ),
                    },
                ),
                unique_key="name",
            ),
        },
    )


def sweep_table() -> Table:
    """The ``[sweep]`` table: run the case once per value of one or more keys."""
    return Table(
        "Parameter sweep: the case runs once per value, every key in `keys` set to that value; "
        "each run writes a sub-folder `run_NNN` of the result folder.",
        {
            "keys": Key(
                "strs",
                "Dotted case keys set to each value (e.g. species.0.bulk_concentration).",
                default=[],
            ),
            "values": Key("floats", "Values, one run each.", default=[]),
        },
    )


class Model(ABC):
    """Interface of a model: schema, mesh, diagnostics and the study itself."""

    name: ClassVar[str]
    description: ClassVar[str]
    schema: ClassVar[Table]

    def __init__(self, settings: dict[str, Any], case_dir: Path, comm: MPI.Comm):
        self.settings = settings
        self.case_dir = case_dir
        self.comm = comm

    @classmethod  # noqa: B027
    def check_consistency(cls, settings: dict[str, Any], case_dir: Path) -> None:
        """Checks across keys that the schema cannot express; raise CaseError."""

    @abstractmethod
    def build_mesh(self) -> dolfinx.mesh.Mesh:
        """Create (or read) and distribute the mesh."""

    @abstractmethod
    def unknowns(self) -> int:
        """Global number of unknowns (after ``build_mesh``)."""

    @abstractmethod
    def diagnostics(self) -> dict[str, Any]:
        """Key scales and dimensionless numbers, printed by ``check`` and stored in run.json."""

    @abstractmethod
    def run(
        self, writer: ResultWriter, timer: PhaseTimer, log: Callable[[str], None]
    ) -> dict[str, Any]:
        """Run the study, writing outputs through ``writer``; return solver statistics."""


def require_boundaries(
    boundaries: dict[str, Any], available: list[str], where: str = "boundaries"
) -> None:
    """Raise CaseError if a boundary table names a boundary the mesh does not have."""
    problems = []
    for name in boundaries:
        if name not in available:
            close = difflib.get_close_matches(name, available, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"[{where}.{name}]: the mesh has no boundary named {name!r}{hint}; it has "
                + ", ".join(repr(a) for a in available)
            )
    if problems:
        raise CaseError(problems)
