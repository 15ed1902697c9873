"""Settings of a Poisson-Nernst-Planck case (``[case] model = "pnp"``, :mod:`..models.pnp`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from ..petsc_options import reuse_across_solves
from .base import SettingsTable, case_problems, unit
from .common import (
    CaseSection,
    CheckpointOutput,
    KineticLaw,
    OutputSettings,
    Point,
    SolverSettings,
    SweepSettings,
    kinetics_problems,
    temperature_field,
)
from .keys import format_dotted_key
from .lengths import resolve_debye_lengths
from .mesh import MeshSettings

__all__ = ["Boundary", "PNPSettings", "Species", "Study"]

_POTENTIAL_HELP = "Electric potential of the boundary (applied from t = 0)."


class PNPCase(CaseSection):
    """What the case is."""

    model: Literal["pnp"] = Field(description="Model that solves the case.")


class Electrolyte(SettingsTable):
    """The solvent and conditions."""

    temperature: float = temperature_field(298.15, "Temperature.")
    relative_permittivity: float = Field(
        78.5,
        gt=0.0,
        description="Relative permittivity of the electrolyte (78.5 for water at 25 C).",
    )


class Species(SettingsTable):
    """One ionic species."""

    name: str = Field(
        min_length=1, description="Name used in output names (concentration_NAME_mol_m3)."
    )
    charge_number: int = Field(ge=-10, le=10, description="Charge number z.")
    diffusivity: float = Field(
        gt=0.0, description="Diffusion coefficient D.", json_schema_extra=unit("m2/s")
    )
    bulk_concentration: float = Field(
        gt=0.0,
        description="Bulk (reservoir and initial) concentration.",
        json_schema_extra=unit("mol/m3"),
    )


class Discretisation(SettingsTable):
    """Finite-element discretisation (P1 for the potential and every species)."""

    quadrature_degree: int | None = Field(
        None,
        ge=1,
        le=20,
        description="Quadrature degree of the volume integrals (default: UFL's estimate, 5 for "
        "the Jacobian as exp(ln c) counts as degree + 2; 2 is exact for the P1 terms without "
        "exp and cuts 3D assembly time about 2x).",
    )


class Flow(SettingsTable):
    """Convection by a prescribed uniform solvent velocity."""

    velocity: Point | None = Field(
        None,
        description="Solvent velocity (none: no convection).",
        json_schema_extra=unit("m/s"),
    )


class DielectricRegion(SettingsTable):
    """A dielectric solid: only the potential is solved there (no ions)."""

    kind: Literal["dielectric"] = Field("dielectric", description="Region kind.")
    relative_permittivity: float = Field(
        gt=0.0, description="Relative permittivity (3.9 for silica)."
    )


class PotentialBoundary(SettingsTable):
    """Electrode or wall at a fixed potential (zeta potential); no ion flux."""

    kind: Literal["potential"] = "potential"
    potential: float = Field(description=_POTENTIAL_HELP, json_schema_extra=unit("V"))


class ReservoirBoundary(SettingsTable):
    """Bulk reservoir: fixed potential and concentrations."""

    kind: Literal["reservoir"] = "reservoir"
    potential: float = Field(
        0.0, description="Electric potential of the reservoir.", json_schema_extra=unit("V")
    )
    concentrations: list[Annotated[float, Field(gt=0.0)]] | None = Field(
        None,
        description="Concentration of each species, in [[species]] order (default: bulk).",
        json_schema_extra=unit("mol/m3"),
    )


class SurfaceChargeBoundary(SettingsTable):
    """Charged wall: fixed surface charge density, no ion flux."""

    kind: Literal["surface_charge"] = "surface_charge"
    surface_charge_density: float = Field(
        description="Surface charge density sigma.", json_schema_extra=unit("C/m2")
    )


class SternBoundary(SettingsTable):
    """Metal at a fixed potential behind a Stern layer of given capacitance; no ion flux."""

    kind: Literal["stern"] = "stern"
    potential: float = Field(description=_POTENTIAL_HELP, json_schema_extra=unit("V"))
    stern_capacitance: float = Field(
        gt=0.0,
        description="Stern-layer capacitance per area, C_S = eps_S / lambda_S.",
        json_schema_extra=unit("F/m2"),
    )


class ButlerVolmerBoundary(SettingsTable):
    """Reactive electrode with Frumkin-corrected kinetics.

    One species is deposited or dissolved (M^z+ + z e- <-> M) at the reaction plane, which a
    Stern layer separates from the metal. With `kinetics = "butler-volmer"`: j = j0
    [exp(a_a z eta/V_T) - (c/c_bulk) exp(-a_c z eta/V_T)], eta = phi_M - phi(plane) - U, with
    c and phi taken at the plane (j > 0 anodic); the other species are blocked.
    """

    kind: Literal["butler_volmer"] = "butler_volmer"
    potential: float | None = Field(
        None,
        description="Potential of the metal phi_M (potentiostatic; give this or "
        "`current_density`).",
        json_schema_extra=unit("V"),
    )
    current_density: float | None = Field(
        None,
        description="Current density i imposed on the electrode, averaged over it "
        "(galvanostatic; i > 0 anodic, i < 0 deposition; give this or `potential`): the "
        "faradaic current plus the charging current of the metal's charge (its Stern layer's). "
        "The metal potential phi_M is then a global unknown solved with the fields, written as "
        "electrode_potential_NAME_V (docs/pnp.md). Transient studies only.",
        json_schema_extra=unit("A/m2"),
    )
    current_rise_time: float = Field(
        0.0,
        ge=0.0,
        description="With `current_density`: the applied current rises linearly from 0 over "
        "this time (0: a step at t = 0+). With a step, the metal's charge starts growing at the "
        "full current, which the electrolyte answers as a dielectric until its ions move; a rise "
        "over many Debye charging times forms the double layer on the way.",
        json_schema_extra=unit("s"),
    )
    species: str = Field(description="Name of the reacting species (a [[species]] name).")
    exchange_current_density: float = Field(
        ge=0.0,
        description="Exchange current density j0 at the bulk concentration (0: no reaction, "
        "a blocking metal behind its Stern layer).",
        json_schema_extra=unit("A/m2"),
    )
    equilibrium_potential: float = Field(
        0.0,
        description="Equilibrium potential U of the metal against the bulk electrolyte.",
        json_schema_extra=unit("V"),
    )
    kinetics: KineticLaw = Field(
        "butler-volmer",
        description="Kinetic law of the Frumkin-corrected reaction (the laws of a DFN "
        "electrode's `kinetics`, with the concentration factor of the reaction plane).",
    )
    anodic_transfer_coefficient: float = Field(
        0.5, ge=0.0, le=1.0, description="alpha_a (`butler-volmer`, `tafel`, `linear`)."
    )
    cathodic_transfer_coefficient: float = Field(
        0.5, ge=0.0, le=1.0, description="alpha_c (`butler-volmer`, `tafel`, `linear`)."
    )
    reorganisation_energy: float | None = Field(
        None,
        gt=0.0,
        le=1e6,
        description="Reorganisation energy lambda of `marcus-hush-chidsey` (required with it, "
        "only with it).",
        json_schema_extra=unit("J/mol"),
    )
    tafel_direction: Literal["anodic", "cathodic"] | None = Field(
        None,
        description="The one branch `tafel` keeps: `anodic` (dissolution) or `cathodic` "
        "(deposition); required with `tafel`, only with it.",
    )
    stern_capacitance: float = Field(
        gt=0.0,
        description="Stern-layer capacitance per area between metal and reaction plane.",
        json_schema_extra=unit("F/m2"),
    )

    @model_validator(mode="after")
    def _kinetic_keys(self) -> ButlerVolmerBoundary:
        control = [k for k in ("potential", "current_density") if getattr(self, k) is not None]
        if self.current_rise_time > 0.0 and self.current_density is None:
            raise case_problems(
                [
                    (
                        "current_rise_time",
                        f"{{key}} = {self.current_rise_time!r}: only with `current_density` "
                        "(a potentiostatic electrode has no current to ramp)",
                    )
                ]
            )
        if len(control) != 1:
            found = " and ".join(f"{k} = {getattr(self, k)!r}" for k in control) or "neither"
            raise case_problems(
                [
                    (
                        "potential",
                        "{key}: give exactly one of `potential` (V, potentiostatic) and "
                        f"`current_density` (A/m2, galvanostatic); found {found}",
                    )
                ]
            )
        given = [
            key
            for key in ("anodic_transfer_coefficient", "cathodic_transfer_coefficient")
            if key in self.model_fields_set
        ]
        problems = kinetics_problems(self.kinetics, given, self.reorganisation_energy)
        if (self.kinetics == "tafel") != (self.tafel_direction is not None):
            problems.append(
                (
                    "tafel_direction",
                    "{key}: required with kinetics = 'tafel' and only with it "
                    f"(kinetics is {self.kinetics!r})",
                )
            )
        if problems:
            raise case_problems(problems)
        return self


class BlockingBoundary(SettingsTable):
    """No ion flux, no surface charge."""

    kind: Literal["blocking"] = "blocking"


#: One ``[boundaries.NAME]`` table: ``kind`` selects which.
Boundary = Annotated[
    PotentialBoundary
    | ReservoirBoundary
    | SurfaceChargeBoundary
    | SternBoundary
    | ButlerVolmerBoundary
    | BlockingBoundary,
    Field(discriminator="kind"),
]


class SteadyStudy(SettingsTable):
    """Steady state (needs a reservoir boundary)."""

    type: Literal["steady"] = "steady"


class TransientStudy(SettingsTable):
    """Evolution from the uniform bulk state (potential 0).

    The boundary conditions apply at t = 0+ (a step); PETSc TS, BDF3 with adaptive steps on the
    local error of the potential and the log-concentrations.
    """

    type: Literal["transient"] = "transient"
    end_time: float = Field(gt=0.0, description="Final time.", json_schema_extra=unit("s"))
    initial_step: float | None = Field(
        None,
        gt=0.0,
        description="First time step (default 1e-3 lambda_D^2 / D, the charging time scale).",
        json_schema_extra=unit("s"),
    )
    max_step: float | None = Field(
        None,
        gt=0.0,
        description="Largest time step (default end_time / 20).",
        json_schema_extra=unit("s"),
    )
    relative_tolerance: float = Field(
        1e-3, gt=0.0, description="Local error tolerance of a step, relative."
    )
    absolute_tolerance: float = Field(
        1e-3, gt=0.0, description="Local error tolerance of a step on ln(c/c_ref) and F phi/RT."
    )
    output_times: list[Annotated[float, Field(gt=0.0)]] | None = Field(
        None,
        description="Times at which fields and profiles are written (default: "
        "`outputs_per_decade` log-spaced times); each in (0, end_time].",
        json_schema_extra=unit("s"),
    )
    outputs_per_decade: int = Field(
        3,
        ge=1,
        le=100,
        description="Field outputs per decade of time when no output_times are given.",
    )
    max_step_cuts: int = Field(
        8,
        ge=0,
        le=50,
        description="How many times in a row a step may be rejected (cut by 4 after a Newton "
        "failure, or shortened by the error test).",
    )


#: The ``[study]`` table: ``type`` selects which (default "steady").
Study = Annotated[SteadyStudy | TransientStudy, Field(discriminator="type")]


class Probe(SettingsTable):
    """One probe."""

    name: str = Field(min_length=1, description="Probe name.")
    point: Point = Field(description="Location.", json_schema_extra=unit("m"))
    concentrations: bool = Field(
        False,
        description="Also write the concentration of every species there "
        "(concentration_SPECIES_NAME_mol_m3).",
    )


class Conductance(SettingsTable):
    """Four-probe conductance written to timeseries.csv.

    As conductance_S (3D), conductance_S_m (2D, per metre depth) or conductance_S_m2 (1D, per
    area): the ionic current through `boundary` over the potential difference between
    `probe_start` and `probe_end`, scaled to `length`.
    """

    boundary: str | None = Field(None, description="Boundary whose ionic current is used.")
    probe_start: Point | None = Field(
        None, description="First voltage probe.", json_schema_extra=unit("m")
    )
    probe_end: Point | None = Field(
        None, description="Second voltage probe.", json_schema_extra=unit("m")
    )
    length: float | None = Field(
        None,
        gt=0.0,
        description="Length the conductance refers to (the probes measure over "
        "|probe_end - probe_start|).",
        json_schema_extra=unit("m"),
    )


class PNPOutput(OutputSettings, CheckpointOutput):
    """What the run writes besides run.json and timeseries.csv.

    ``checkpoint_every``: transient studies only (a steady solve is not resumed).
    """

    probes: list[Probe] = Field(
        default_factory=list,
        description="Points where the potential (and, if asked, the concentrations) are "
        "written to timeseries.csv (potential_NAME_V).",
    )
    conductance: Conductance = Field(default_factory=Conductance)


class PNPSettings(SettingsTable):
    """Poisson-Nernst-Planck case."""

    case: PNPCase
    electrolyte: Electrolyte = Field(default_factory=Electrolyte)
    species: list[Species] = Field(
        min_length=1,
        description="Ionic species; their bulk concentrations must be electroneutral.",
    )
    discretisation: Discretisation = Field(default_factory=Discretisation)
    flow: Flow = Field(default_factory=Flow)
    mesh: MeshSettings = Field(
        description="The mesh: made by a gmsh generator from its parameters, or read from a "
        ".msh file. Any length here, and any point of [[output.profiles]], [[output.probes]] "
        "and [output.conductance], may be given in bulk Debye lengths as text, e.g. "
        '"100 lambda_D" (also "debye_lengths"): lambda_D = sqrt(eps V_T / (F sum z^2 c)) of '
        "this case's [electrolyte] and [[species]]."
    )
    regions: dict[str, DielectricRegion] = Field(
        default_factory=dict,
        description="Regions (cell groups of the mesh) that are not electrolyte. Regions not "
        "listed are electrolyte.",
    )
    boundaries: dict[str, Boundary] = Field(
        default_factory=dict,
        description="Boundary conditions by boundary name (physical-group name of the mesh). "
        "Boundaries not listed are blocking: no ion flux and no surface charge.",
    )
    study: Study = Field(
        default_factory=SteadyStudy,
        description="What is solved: the steady state, or the evolution in time from a uniform "
        "bulk state.",
    )
    solver: SolverSettings = Field(default_factory=SolverSettings)
    output: PNPOutput = Field(default_factory=PNPOutput)
    sweep: SweepSettings = Field(default_factory=SweepSettings)

    @model_validator(mode="before")
    @classmethod
    def _steady_by_default(cls, data: Any) -> Any:
        """A ``[study]`` without ``type`` is steady; Debye lengths become metres.

        Lengths given as ``"100 lambda_D"`` are resolved by :mod:`.lengths`.
        """
        data = resolve_debye_lengths(data)
        study = data.get("study") if isinstance(data, dict) else None
        if isinstance(study, dict) and "type" not in study:
            data = {**data, "study": {"type": "steady", **study}}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> PNPSettings:
        """Charged, electroneutral species; a potential reference; consistent boundaries."""
        problems = _species_problems(self.species)
        kinds = {b.kind for b in self.boundaries.values()}
        referenced = {
            b.kind
            for b in self.boundaries.values()
            if b.kind != "butler_volmer" or b.potential is not None
        }
        if not referenced & {"potential", "reservoir", "stern", "butler_volmer"}:
            problems.append(
                (
                    "boundaries",
                    "{key}: the potential needs a reference: give at least one boundary of "
                    "kind 'potential', 'reservoir', 'stern' or 'butler_volmer' with a "
                    "`potential` (a `current_density` electrode floats)",
                )
            )
        study = self.study
        galvanostatic = [
            name
            for name, b in self.boundaries.items()
            if b.kind == "butler_volmer" and b.current_density is not None
        ]
        if galvanostatic and study.type != "transient":
            problems.append(
                (
                    format_dotted_key(["boundaries", galvanostatic[0], "current_density"]),
                    "{key}: a current-controlled electrode needs study.type = 'transient' "
                    "(allowed here: `potential` instead)",
                )
            )
        if study.type == "steady" and "reservoir" not in kinds:
            problems.append(
                (
                    "boundaries",
                    "{key}: a steady study needs a boundary of kind 'reservoir' (it fixes the "
                    "amount of each species); a closed domain needs study.type = 'transient'",
                )
            )
        if study.type == "transient" and study.output_times is not None:
            if any(t > study.end_time for t in study.output_times):
                problems.append(
                    (
                        "study.output_times",
                        f"{{key}} = {study.output_times!r}: allowed times in "
                        f"(0, end_time = {study.end_time:g}] s",
                    )
                )
        problems += _boundary_problems(self.boundaries, self.species)
        mesh = self.mesh
        if mesh.generator == "interval" and mesh.grading != "none":
            if mesh.first_cell_size is None:
                problems.append(
                    (
                        "mesh.first_cell_size",
                        "missing key '{key}': needed for grading "
                        f"{mesh.grading!r} (a number in (0, inf) m)",
                    )
                )
        if self.output.checkpoint_every is not None:
            if study.type == "steady":
                problems.append(
                    (
                        "output.checkpoint_every",
                        f"{{key}} = {self.output.checkpoint_every!r}: only a transient study "
                        "writes checkpoints (remove the key, or set study.type = 'transient')",
                    )
                )
            for key in reuse_across_solves(self.solver.petsc):
                problems.append(
                    (
                        f"solver.petsc.{key}",
                        f"{{key}} = {self.solver.petsc[key]!r} keeps solver state from one time "
                        "step to the next, which a resumed run cannot repeat: not allowed with "
                        "output.checkpoint_every (allowed: a lag >= 1, reuse = false; or remove "
                        "output.checkpoint_every)",
                    )
                )
        conductance = self.output.conductance
        given = [
            getattr(conductance, k) is not None for k in ("boundary", "probe_start", "probe_end")
        ]
        if any(given) and not all(given):
            problems.append(
                ("output.conductance", "{key} needs all of boundary, probe_start and probe_end")
            )
        if problems:
            raise case_problems(problems)
        return self


def _species_problems(species: list[Species]) -> list[tuple[str, str]]:
    problems = []
    if all(s.charge_number == 0 for s in species):
        problems.append(
            ("species", "{key}: at least one species must carry charge (charge_number)")
        )
    net = sum(s.charge_number * s.bulk_concentration for s in species)
    scale = sum(abs(s.charge_number) * s.bulk_concentration for s in species)
    if abs(net) > 1e-12 * scale:
        detail = ", ".join(
            f"{s.name}: {s.charge_number:+d} x {s.bulk_concentration:g}" for s in species
        )
        problems.append(
            (
                "species",
                f"{{key}}: bulk concentrations are not electroneutral (sum z_k c_k = {net:g} "
                f"mol/m3; {detail}); allowed: sum z_k c_k = 0",
            )
        )
    return problems


def _boundary_problems(boundaries: dict[str, Any], species: list[Species]) -> list[tuple[str, str]]:
    problems = []
    names = [s.name for s in species]
    for name, b in boundaries.items():
        key = format_dotted_key(["boundaries", name])
        if b.kind == "butler_volmer" and b.species not in names:
            problems.append(
                (
                    f"{key}.species",
                    f"{{key}} = {b.species!r}: allowed one of " + ", ".join(repr(n) for n in names),
                )
            )
        elif b.kind == "butler_volmer" and species[names.index(b.species)].charge_number == 0:
            problems.append(
                (f"{key}.species", f"{{key}} = {b.species!r}: a reacting species must carry charge")
            )
        if b.kind == "reservoir" and b.concentrations is not None:
            if len(b.concentrations) != len(species):
                problems.append(
                    (
                        f"{key}.concentrations",
                        f"{{key}} = {b.concentrations!r}: allowed one positive value (mol/m3) "
                        f"per species ({len(species)})",
                    )
                )
    return problems
