""":class:`DFNSettings`: the tables of a DFN case together, and the rules across them."""

from __future__ import annotations

from pydantic import Field, model_validator

from ...experiment import parse_experiment
from ..base import SettingsTable, case_problems
from ..common import (
    InterfaceKinetics,
    SweepSettings,
)
from ..times import resolve_percentages
from .cell import Cell, Degradation, DFNCase, NegativeElectrode, Parameters
from .geometry import MAX_MESH_CELLS, Geometry, Mesh, _geometry_problems, _mesh_cells
from .mechanics import Elasticity, Mechanics
from .protocol import DFNOutput, Experiment, TimeStepping
from .thermal import Thermal


class DFNSettings(SettingsTable):
    """Doyle-Fuller-Newman lithium-ion cell."""

    case: DFNCase
    parameters: Parameters = Field(default_factory=Parameters)
    cell: Cell = Field(default_factory=Cell)
    negative_electrode: NegativeElectrode = Field(
        default_factory=NegativeElectrode,
        description="Kinetics of the intercalation reaction in the negative electrode, and its "
        "side reactions (a full cell only).",
    )
    degradation: Degradation = Field(
        default_factory=Degradation,
        description="Lithium plating and SEI growth (issue 14's spelling; the settings keep "
        "them in `[negative_electrode]`, which this fills in).",
    )
    positive_electrode: InterfaceKinetics = Field(
        default_factory=InterfaceKinetics,
        description="Kinetics of the intercalation reaction in the positive electrode.",
    )
    mechanics: Mechanics = Field(default_factory=Mechanics)
    thermal: Thermal = Field(default_factory=Thermal)
    elasticity: Elasticity = Field(default_factory=Elasticity)
    mesh: Mesh = Field(default_factory=Mesh)
    geometry: Geometry = Field(default_factory=Geometry)
    experiment: Experiment
    time_stepping: TimeStepping = Field(default_factory=TimeStepping)
    output: DFNOutput = Field(default_factory=DFNOutput)
    sweep: SweepSettings = Field(default_factory=SweepSettings)

    @model_validator(mode="after")
    def _consistent(self) -> DFNSettings:
        """Half-cell keys, BPX-only keys, geometry by dimension, mesh size."""
        problems: list[tuple[str, str]] = []
        if (
            self.parameters.initial_state_of_charge is not None
            and self.parameters.initial_voltage is not None
        ):
            problems.append(
                (
                    "parameters.initial_voltage",
                    "{key}: give initial_state_of_charge or initial_voltage, not both",
                )
            )
        half = self.cell.configuration == "half"
        j0 = self.cell.lithium_exchange_current_density
        if not half and j0 is not None:
            problems.append(
                ("cell.lithium_exchange_current_density", '{key}: only with configuration = "half"')
            )
        if half and j0 is None:
            problems.append(
                (
                    "cell.lithium_exchange_current_density",
                    '{key}: required with configuration = "half"',
                )
            )
        if half and self.negative_electrode.model_dump() != NegativeElectrode().model_dump():
            problems.append(
                ("negative_electrode", "{key}: a half cell has no negative electrode (leave out)")
            )
        problems += _degradation_problems(self)
        problems += _geometry_problems(self.geometry, half)
        if self.thermal.model != "isothermal":
            if self.parameters.temperature is not None:
                problems.append(
                    (
                        "parameters.temperature",
                        "{key}: an isothermal temperature; with thermal.model = "
                        f"{self.thermal.model!r} give thermal.initial_temperature",
                    )
                )
            wanted = {"2d": 2, "3d": 3}.get(self.thermal.model, 1)
            if self.geometry.dimension != wanted:
                problems.append(
                    (
                        "thermal.model",
                        f"{{key}} = {self.thermal.model!r}: only with geometry.dimension = "
                        f"{wanted} (here {self.geometry.dimension})",
                    )
                )
            if self.time_stepping.integrator != "ts":
                problems.append(("thermal.model", '{key}: needs time_stepping.integrator = "ts"'))
            for name in self.thermal.boundaries:
                if name.endswith("_tab") and not self.geometry.tabs:
                    problems.append(
                        (
                            f"thermal.boundaries.{name}",
                            "{key}: the cell has no tabs (geometry.tabs)",
                        )
                    )
            if half and self.thermal.model != "lumped":
                problems.append(
                    ("thermal.model", f"{{key}} = {self.thermal.model!r}: not for a half cell")
                )
        if self.elasticity.solve:
            problems += _elasticity_problems(self, half)
        cells = _mesh_cells(self.mesh, self.geometry, half)
        if cells > MAX_MESH_CELLS:
            problems.append(
                (
                    "mesh",
                    f"{{key}}: the cell mesh would have {cells:.3g} cells (cells across the "
                    f"stack times height_cells and width_cells); allowed at most "
                    f"{MAX_MESH_CELLS:.0e}",
                )
            )
        # Percentages of the protocol: its steps were parsed without error by Experiment.
        percentages = any(isinstance(t, str) for t in self.output.profile_times)
        steps = (
            parse_experiment(self.experiment.steps) if percentages and self.experiment.steps else []
        )
        times, problem = resolve_percentages(
            self.output.profile_times,
            steps * self.experiment.repeat,
            self.experiment.drive_cycle is not None,
        )
        if problem is not None:
            problems.append(("output.profile_times", problem))
        else:
            self.output.profile_times = times
        if problems:
            raise case_problems(problems)
        return self


def _degradation_problems(settings: DFNSettings) -> list[tuple[str, str]]:
    """``[degradation]`` fills in the side reactions of ``[negative_electrode]``.

    One source of truth: the model reads only ``[negative_electrode]``.
    """
    table = settings.degradation
    if table == Degradation():
        return []
    if settings.cell.configuration == "half":
        return [("degradation", "{key}: a half cell has no negative electrode (leave out)")]
    if table.lithium_plating == "partially-reversible" and table.sei == "none":
        return [
            (
                "degradation.lithium_plating",
                "{key} = 'partially-reversible' needs sei (dead lithium forms at a rate set by "
                "the SEI thickness)",
            )
        ]
    reactions = ["intercalation"]
    update: dict[str, object] = {"sei_film_resistance": table.sei_film_resistance}
    if table.lithium_plating != "none":
        reactions.append("lithium-plating")
        update["lithium_plating"] = table.lithium_plating
    if table.sei != "none":
        reactions.append("sei")
        update["sei"] = table.sei
    update["reactions"] = reactions
    negative = settings.negative_electrode
    filled = negative.model_copy(update=update)
    # A case resolved before (run.json's case) holds both spellings, agreeing.
    if negative.reactions != ["intercalation"] and filled != negative:
        return [
            (
                "degradation",
                f"{{key}}: give the side reactions in [degradation] or in [negative_electrode] "
                f"reactions = {negative.reactions}, not both",
            )
        ]
    object.__setattr__(settings, "negative_electrode", filled)
    return []


def _elasticity_problems(settings: DFNSettings, half: bool) -> list[tuple[str, str]]:
    """The cell elasticity needs a 2D/3D full cell whose electrodes both swell."""
    problems = []
    if settings.geometry.dimension == 1:
        problems.append(("elasticity.solve", "{key}: only with geometry.dimension = 2 or 3"))
    if half:
        problems.append(("elasticity.solve", '{key}: only with configuration = "full"'))
    m = settings.mechanics
    for side in ("negative", "positive"):
        if (getattr(m, side) or m.particle) == "none":
            problems.append(
                (
                    "elasticity.solve",
                    f"{{key}}: needs particle mechanics in the {side} electrode (its swelling "
                    'drives the elasticity): mechanics.particle = "swelling-only"',
                )
            )
    return problems
