"""The model interface that every model implements.

A model is a class with a ``check_consistency`` class method for the checks that need more
than the settings (files, parameter sets, mesh boundary names), and instance methods that build
the mesh (``build_mesh``), report diagnostics (``diagnostics``, ``unknowns``) and run the study
(``run``). Its case settings are a pydantic model in :mod:`electrolyx.settings` (registered
under the same name); the model receives them resolved, as a dict. The driver in
:mod:`electrolyx.driver` does the rest (output folder, timing, errors).
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from mpi4py import MPI

import dolfinx

from .. import collector
from ..errors import CaseError
from ..output import PhaseTimer, ResultWriter

__all__ = ["Model", "require_boundaries"]


class Model(ABC):
    """Interface of a model: consistency checks, mesh, diagnostics and the study itself."""

    name: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, settings: dict[str, Any], case_dir: Path, comm: MPI.Comm):
        collector.collect_earlier_models()
        self.settings = settings
        self.case_dir = case_dir
        self.comm = comm

    def log(self, message: str) -> None:  # noqa: B027 (optional: the driver sets it)
        """Messages and progress of mesh generation (the driver sets the run's logger)."""

    @classmethod  # noqa: B027
    def check_consistency(cls, settings: dict[str, Any], case_dir: Path) -> None:
        """Checks that need more than the settings (files, parameter sets); raise CaseError."""

    @abstractmethod
    def build_mesh(self) -> dolfinx.mesh.Mesh:
        """Create (or read) and distribute the mesh."""

    @abstractmethod
    def unknowns(self) -> int:
        """Global number of unknowns (after ``build_mesh``)."""

    @abstractmethod
    def diagnostics(self) -> dict[str, Any]:
        """Key scales and dimensionless numbers, printed by ``check`` and stored in run.json."""

    def parameter_names(self) -> dict[str, Any] | None:
        """The parameter set's values by their PyBaMM/BPX names (None: the model has no set).

        What ``electrolyx check CASE --parameters`` lists (after ``[parameters.values]``).
        """
        return None

    @abstractmethod
    def run(
        self, writer: ResultWriter, timer: PhaseTimer, log: Callable[[str], None]
    ) -> dict[str, Any]:
        """Run the study, writing outputs through ``writer``; return solver statistics."""

    # -- checkpoints (electrolyx.checkpoint): models that can be resumed override these ----
    #: Set by the driver before :meth:`run` when :meth:`resumable`: the
    #: :class:`electrolyx.checkpoint.CheckpointControl` the time loop asks at every step.
    checkpoint_control = None

    def resumable(self) -> bool:
        """Whether :meth:`run` writes checkpoints and can resume from one (after the mesh)."""
        return False

    def checkpoint_fingerprint(self) -> str:
        """This rank's fingerprint of the state's layout (see :mod:`electrolyx.checkpoint`)."""
        raise NotImplementedError(f"the {self.name} model cannot be resumed")

    def resume_from(self, scalars: dict[str, Any], arrays: dict[str, Any]) -> None:
        """Load a checkpoint's state (after the mesh is built): :meth:`run` continues from it."""
        raise NotImplementedError(f"the {self.name} model cannot be resumed")


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
