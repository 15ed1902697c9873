"""Tables that several models share: ``[case]``, ``[solver]``, ``[output]``, ``[sweep]``, kinetics.

Also the field types used everywhere: :data:`Point` (coordinates), :func:`temperature_field`
(a temperature with its sane range) and :data:`KineticLaw` (the kinetic laws an interface can
follow).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from .base import SettingsTable, case_problems, unit
from .keys import split_dotted_key

__all__ = [
    "KINETIC_LAWS",
    "PARAMETER_SETS",
    "CaseSection",
    "CheckpointOutput",
    "InterfaceKinetics",
    "KineticLaw",
    "OutputSettings",
    "ParameterSetName",
    "Point",
    "ProfileLine",
    "SolverSettings",
    "SweepSettings",
    "kinetics_from_table",
    "kinetics_problems",
    "sweep_assignments",
    "checkpoint_interval",
    "temperature_field",
]

#: Coordinates of a point, 1 to 3 numbers (m).
Point = Annotated[list[float], Field(min_length=1, max_length=3)]

#: Built-in parameter sets (named after their papers) -> factory in electrolyx.parameters.
PARAMETER_SETS = {
    "Chen2020": "chen2020",
    "Marquis2019": "marquis2019",
    "Ecker2015": "ecker2015",
    "OKane2022": "okane2022",
    "Ai2020": "ai2020",
}
ParameterSetName = Literal["Chen2020", "Marquis2019", "Ecker2015", "OKane2022", "Ai2020"]

#: The kinetic law of an interfacial reaction.
KineticLaw = Literal[
    "butler-volmer", "symmetric-butler-volmer", "tafel", "linear", "marcus-hush-chidsey"
]
KINETIC_LAWS: tuple[str, ...] = KineticLaw.__args__

_KINETICS_HELP = (
    "Kinetic law of the reaction current density j(eta): `butler-volmer` "
    "j0 [exp(alpha_a F eta/RT) - exp(-alpha_c F eta/RT)]; `symmetric-butler-volmer` the same "
    "with alpha_a = alpha_c = 1/2, 2 j0 sinh(F eta/2RT); `tafel` only the branch that dominates "
    "for the sign of eta; `linear` j0 (alpha_a + alpha_c) F eta/RT (small overpotentials); "
    "`marcus-hush-chidsey` the rate of Marcus-Hush-Chidsey theory with reorganisation energy "
    "lambda (Zeng, Smith, Bai and Bazant, J. Electroanal. Chem. 2014)."
)

_TEMPERATURE_RANGE = (
    " Allowed (1, 1000) K: no electrolyte is liquid or conducts outside it, and near 0 K F/RT "
    "overflows."
)


def temperature_field(default: float | None, description: str) -> Any:
    """A temperature field in K, bounded to (1, 1000) K (the reason goes into its description)."""
    return Field(
        default,
        gt=1.0,
        lt=1000.0,
        description=description + _TEMPERATURE_RANGE,
        json_schema_extra=unit("K"),
    )


class CaseSection(SettingsTable):
    """What the case is."""

    model: str = Field(description="Model that solves the case.")
    title: str = Field("", description="One-line title shown by `electrolyx cases`.")


def kinetics_problems(
    kinetics: str, coefficients_given: list[str], reorganisation_energy: float | None
) -> list[tuple[str, str]]:
    """Rules of an interface's kinetic keys (for :func:`case_problems`).

    Args:
        kinetics: The kinetic law.
        coefficients_given: The transfer-coefficient keys the case sets.
        reorganisation_energy: The reorganisation energy, None when not given.
    """
    problems = []
    mhc = kinetics == "marcus-hush-chidsey"
    if mhc and reorganisation_energy is None:
        problems.append(
            (
                "reorganisation_energy",
                "missing key '{key}': required with kinetics = 'marcus-hush-chidsey' "
                "(a number in (0, 1e+06] J/mol)",
            )
        )
    if not mhc and reorganisation_energy is not None:
        problems.append(
            (
                "reorganisation_energy",
                f"{{key}} = {reorganisation_energy!r}: only with kinetics = "
                f"'marcus-hush-chidsey' (kinetics is {kinetics!r})",
            )
        )
    if kinetics in ("symmetric-butler-volmer", "marcus-hush-chidsey"):
        problems.extend(
            (
                key,
                f"{{key}}: only with kinetics = 'butler-volmer', 'tafel' or 'linear' "
                f"({kinetics!r} has no transfer coefficients to set)",
            )
            for key in coefficients_given
        )
    return problems


def kinetics_from_table(table: dict[str, Any], electrode: Any, discharge_direction: str):
    """The :class:`electrolyx.forms.kinetics.Kinetics` of a resolved kinetics table.

    Args:
        table: The resolved table (``settings["positive_electrode"]``, ...).
        electrode: The electrode's parameters (the set's transfer coefficients, used unless the
            table sets them).
        discharge_direction: ``"anodic"`` or ``"cathodic"``: the branch a Tafel law keeps
            unless ``tafel_direction`` says otherwise.
    """
    from ..forms.kinetics import Kinetics

    anodic, cathodic = table["anodic_transfer_coefficient"], table["cathodic_transfer_coefficient"]
    return Kinetics(
        table["kinetics"],
        electrode.anodic_transfer_coefficient if anodic is None else anodic,
        electrode.cathodic_transfer_coefficient if cathodic is None else cathodic,
        table["reorganisation_energy"],
        table["tafel_direction"] or discharge_direction,
    )


class InterfaceKinetics(SettingsTable):
    """Kinetics of the intercalation reaction at the particle surfaces."""

    kinetics: KineticLaw = Field("butler-volmer", description=_KINETICS_HELP)
    anodic_transfer_coefficient: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        description="alpha_a of `butler-volmer`, `tafel` and `linear` (default: the parameter "
        "set's, or the BPX file's).",
    )
    cathodic_transfer_coefficient: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        description="alpha_c of `butler-volmer`, `tafel` and `linear` (default: the parameter "
        "set's, or the BPX file's).",
    )
    reorganisation_energy: float | None = Field(
        None,
        gt=0.0,
        le=1e6,
        description="Reorganisation energy lambda of `marcus-hush-chidsey` (required with it, "
        "only with it; typically 1e4 to 1e5 J/mol, i.e. 0.1 to 1 eV per reaction).",
        json_schema_extra=unit("J/mol"),
    )
    tafel_direction: Literal["anodic", "cathodic"] | None = Field(
        None,
        description="The one branch `tafel` keeps (only with it): `anodic` (oxidation, "
        "lithium leaving the solid) or `cathodic`. Default: the electrode's direction on "
        "discharge (negative electrode anodic, positive electrode cathodic). A Tafel electrode "
        "has no rest state and cannot reverse.",
    )

    @model_validator(mode="after")
    def _kinetic_keys(self) -> InterfaceKinetics:
        if self.tafel_direction is not None and self.kinetics != "tafel":
            raise case_problems(
                [
                    (
                        "tafel_direction",
                        f"{{key}} = {self.tafel_direction!r}: only with kinetics = 'tafel' "
                        f"(kinetics is {self.kinetics!r})",
                    )
                ]
            )
        given = [
            key
            for key in ("anodic_transfer_coefficient", "cathodic_transfer_coefficient")
            if getattr(self, key) is not None
        ]
        problems = kinetics_problems(self.kinetics, given, self.reorganisation_energy)
        if problems:
            raise case_problems(problems)
        return self


class SolverSettings(SettingsTable):
    """Newton's method (PETSc SNES) and its linear solver."""

    linear_solver: Literal["mumps", "superlu_dist", "gmres-ilu", "gmres-asm"] = Field(
        "mumps", description="Linear solver preset for each Newton step."
    )
    line_search: Literal["bt", "basic", "l2", "cp", "secant"] = Field(
        "bt", description="SNES line search."
    )
    relative_tolerance: float = Field(
        1e-12,
        gt=0.0,
        lt=1.0,
        description="Newton stops when the residual norm fell by this factor.",
    )
    absolute_tolerance: float = Field(
        1e-12, gt=0.0, description="Newton stops when the (scaled) residual norm is below this."
    )
    max_iterations: int = Field(50, ge=1, le=10000, description="Newton iterations per solve.")
    continuation_steps: int = Field(
        8,
        ge=0,
        le=60,
        description="How many times a failed continuation step may be halved before giving up.",
    )
    petsc: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="PETSc options applied verbatim to the SNES (and its KSP/PC), overriding "
        'the settings above, e.g. `snes_monitor = ""` or `ksp_type = "gmres"`.',
    )


class ProfileLine(SettingsTable):
    """One line segment."""

    name: str = Field(min_length=1, description="Profile name (column `profile` of profiles.csv).")
    start: Point = Field(description="Start point.", json_schema_extra=unit("m"))
    end: Point = Field(description="End point.", json_schema_extra=unit("m"))
    points: int = Field(200, ge=2, le=1_000_000, description="Number of equally spaced points.")


#: units of ``checkpoint_every`` given as a wall time -> seconds
_WALL_TIME_UNITS = {
    "s": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "min": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
}


def checkpoint_interval(value: int | str | None) -> tuple[str, float] | None:
    """``checkpoint_every`` as ("steps", n) or ("seconds", wall time), or None (never).

    Raises:
        ValueError: for a string that is not "<number> <unit>" with a positive number and a
            unit of :data:`_WALL_TIME_UNITS` (the message says what is allowed).
    """
    if value is None:
        return None
    if isinstance(value, int):
        return ("steps", float(value))
    parts = value.split()
    allowed = (
        f"{value!r} is not allowed: give a number of accepted time steps (an integer >= 1) or "
        'a wall time such as "10 minutes" (units: s, min, minutes, h, hours; at least 1 s, '
        "at most 1000 hours)"
    )
    if len(parts) != 2 or parts[1].lower() not in _WALL_TIME_UNITS:
        raise ValueError(allowed)
    try:
        number = float(parts[0])
    except ValueError:
        raise ValueError(allowed) from None
    seconds = number * _WALL_TIME_UNITS[parts[1].lower()]
    if not (math.isfinite(seconds) and 1.0 <= seconds <= 1000 * 3600.0):
        raise ValueError(allowed)
    return ("seconds", seconds)


class CheckpointOutput(SettingsTable):
    """``checkpoint_every`` of the models that can be resumed (``electrolyx run --resume``)."""

    checkpoint_every: Annotated[int, Field(ge=1, le=10**9)] | str | None = Field(
        None,
        description="Write the whole state of the run into checkpoint/ of the result folder "
        'this often: a wall time ("10 minutes", "2 hours") or a number of accepted time steps '
        "(50); each checkpoint replaces the previous one. SIGTERM and SIGINT (Slurm "
        "pre-emption, Ctrl-C) always write one, and `electrolyx run CASE --resume FOLDER` "
        "continues from it to the uninterrupted result (docs/checkpoint.md). Not set: only on "
        "SIGTERM/SIGINT.",
    )

    @model_validator(mode="after")
    def _checkpoint_interval(self) -> CheckpointOutput:
        try:
            checkpoint_interval(self.checkpoint_every)
        except ValueError as error:
            raise case_problems([("checkpoint_every", f"{{key}} = {error}")]) from None
        return self


class OutputSettings(SettingsTable):
    """What the run writes besides run.json and timeseries.csv."""

    fields: bool = Field(
        True, description="Write fields for ParaView (fields/fields.pvd and fields/fields.bp)."
    )
    profiles: list[ProfileLine] = Field(
        default_factory=list,
        description="Line segments along which fields are sampled into profiles.csv.",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> OutputSettings:
        problems = []
        for table in ("profiles", "probes"):
            seen: set[str] = set()
            for index, item in enumerate(getattr(self, table, [])):
                if item.name in seen:
                    problems.append(
                        (
                            f"{table}[{index}].name",
                            f"{{key}} = {item.name!r} is used twice: must be unique",
                        )
                    )
                seen.add(item.name)
        if problems:
            raise case_problems(problems)
        return self


_MAX_RUNS = 10_000
_MAX_NESTING = 16


def _non_finite(value: Any) -> bool:
    """Whether a NaN or an infinity hides in ``value`` (nested lists and tables included)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return True
        if depth < _MAX_NESTING and isinstance(item, list | dict):
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


class SweepSettings(SettingsTable):
    """Parameter sweep: the case runs once per entry of `values`.

    Each run writes a sub-folder `run_NNN` of the result folder, and `sweep.csv` beside them
    tabulates the swept values and each run's status and final results. Every run is
    validated before the first one starts.
    """

    keys: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="Dotted case keys set in each run, e.g. `species.0.bulk_concentration` or, "
        "for a name with spaces or dots, quoted as in TOML: "
        "`'parameters.values.\"Negative particle diffusivity [m2.s-1]\"'`.",
    )
    values: list[Any] = Field(
        default_factory=list,
        description="One entry per run, of any TOML type (number, string, boolean, list, "
        "table). With one key the entry is that key's value (a list entry is a list value). "
        "With several keys an entry is either a list of one value per key, in the order of "
        "`keys` (`[[298.15, 10.0], [310.0, 20.0]]`), or a single value (not a list) given to "
        "every key. Without keys the values are ignored (one run).",
    )

    @model_validator(mode="after")
    def _runs(self) -> SweepSettings:
        problems: list[tuple[str, str]] = []
        for index, key in enumerate(self.keys):
            try:
                parts = split_dotted_key(key)
            except ValueError as error:
                problems.append((f"keys[{index}]", f"{{key}} = {key!r} is not allowed: {error}"))
                continue
            if parts[0] in ("case", "sweep"):
                problems.append(
                    (
                        f"keys[{index}]",
                        f"{{key}} = {key!r} is not allowed: a sweep cannot change [{parts[0]}]",
                    )
                )
        if len(set(self.keys)) != len(self.keys):
            problems.append(("keys", f"{{key}} = {self.keys!r}: each key at most once"))
        if self.keys and not self.values:
            problems.append(("values", "{key} is empty: give at least one value for sweep.keys"))
        if len(self.values) > _MAX_RUNS:
            problems.append(
                (
                    "values",
                    f"{{key}} has {len(self.values)} entries: allowed at most {_MAX_RUNS} runs",
                )
            )
        several = len(self.keys) > 1
        for index, value in enumerate(self.values):
            if several and isinstance(value, list) and len(value) != len(self.keys):
                problems.append(
                    (
                        f"values[{index}]",
                        f"{{key}} = {value!r} is not allowed: expected "
                        f"{len(self.keys)} values, one per key of sweep.keys, or a single value "
                        "for all of them",
                    )
                )
            if _non_finite(value):
                problems.append(
                    (
                        f"values[{index}]",
                        f"{{key}} = {value!r} is not allowed: NaN and infinities are not values",
                    )
                )
        if problems:
            raise case_problems(problems)
        return self


def sweep_assignments(keys: list[str], values: list[Any]) -> list[dict[str, Any]]:
    """Each run of a validated ``[sweep]``: swept key -> value, in the order of ``values``."""
    if len(keys) > 1:
        return [
            dict(zip(keys, value, strict=True))
            if isinstance(value, list)
            else dict.fromkeys(keys, value)
            for value in values
        ]
    return [dict.fromkeys(keys, value) for value in values]
