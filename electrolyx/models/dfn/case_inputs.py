"""The DFN case's inputs: the model's objects built from the validated settings, and their checks.

:class:`CaseInputs` is the part of :class:`~electrolyx.models.dfn.case.DFNCase` that reads the
parameter set (``parameters.set`` or a BPX file, with ``[parameters.values]`` and the initial
state), the geometry, the half cell's counter electrode, the particle mechanics, the side
reactions, the thermal model and the kinetics, and checks what needs the parameter set
(mechanical, degradation and thermal parameters; the protocol's voltage window).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ... import parameters as parameter_sets
from ...errors import CaseError
from ...experiment import Step
from ...forms.kinetics import Kinetics
from ...parameters import CellParameters
from ...parameters.by_name import (
    cracking_parameter_names,
    mechanical_parameter_names,
    with_values,
)
from ...parameters.initial_state import InitialStateError, with_initial_state
from ...settings.common import kinetics_from_table
from . import (
    AmbientSchedule,
    BoundaryCooling,
    CellGeometry,
    CurrentCollectorFoil,
    LithiumCounterElectrode,
    ParticleMechanics,
    SideReactions,
    TabPlacement,
    ThermalModel,
)


def _check_voltage_window(steps: list[Step], parameters: CellParameters) -> None:
    """Voltages of the protocol (cut-offs, holds) must lie in the parameter set's window.

    Raises:
        CaseError: naming the step, the voltage and the window.
    """
    low, high = parameters.lower_voltage_cutoff_V, parameters.upper_voltage_cutoff_V
    problems = []
    for index, step in enumerate(steps):
        voltages = [("cut-off", step.until_voltage_V)]
        voltages += [("hold voltage", step.value)] if step.mode == "voltage" else []
        for what, volts in voltages:
            if volts is not None and not low <= volts <= high:
                problems.append(
                    f"experiment.steps[{index}] = {step.text!r}: the {what} {volts:g} V is "
                    f"outside the voltage window of {parameters.name} [{low:g}, {high:g}] V"
                )
    if problems:
        raise CaseError(problems)


class CaseInputs:
    """The model's objects of a DFN case's settings, and the checks that need the parameters."""

    @staticmethod
    def _mechanics(settings: dict[str, Any]) -> ParticleMechanics:
        """The particle mechanics of ``[mechanics]``."""
        table = settings["mechanics"]
        return ParticleMechanics(
            table["particle"],
            table["stress_induced_diffusion"],
            table.get("negative"),
            table.get("positive"),
        )

    @classmethod
    def _check_mechanics(cls, settings: dict[str, Any], parameters: CellParameters) -> None:
        """The mechanical parameters the chosen mechanics needs must all be there, in range.

        Raises:
            CaseError: listing every missing name (PyBaMM's), or the value out of range.
        """
        mechanics = cls._mechanics(settings)
        if not mechanics.needs_elastic_constants:
            return
        sides = ["positive"] if settings["cell"]["configuration"] == "half" else []
        sides = sides or ["negative", "positive"]
        option = mechanics.describe()
        problems = []
        for side in sides:
            if not mechanics.needs_elastic_constants_of(side):
                continue
            electrode = getattr(parameters, side)
            names = dict(mechanical_parameter_names(side))
            if mechanics.cracking(side):
                names.update(cracking_parameter_names(side))
            missing = [
                name
                for name, where in names.items()
                if where.field != "volume_change" and getattr(electrode, where.field) is None
            ]
            problems += [
                f"mechanics ({option}): the parameter {name!r} is missing from "
                f"{parameters.name} (give it in [parameters.values])"
                for name in missing
            ]
            if not missing:
                try:
                    electrode.elastic_particle()
                    if mechanics.cracking(side):
                        electrode.cracking_particle()
                except ValueError as error:
                    problems.append(f"parameters ({side} electrode): {error}")
        if problems:
            raise CaseError(problems)

    @staticmethod
    def _side_reactions(
        settings: dict[str, Any], parameters: CellParameters
    ) -> dict[str, SideReactions]:
        """Lithium plating and SEI growth of ``[negative_electrode] reactions``."""
        table = settings["negative_electrode"]
        names = tuple(name for name in table["reactions"] if name != "intercalation")
        if not names or settings["cell"]["configuration"] == "half":
            return {}
        return {
            "negative": SideReactions(
                names,
                table["lithium_plating"],
                table["sei"],
                parameters.degradation,
                parameters.reference_temperature_K,
                table["sei_film_resistance"] == "distributed",
                table["sei_on_cracks"],
            )
        }

    @classmethod
    def _check_side_reactions(cls, settings: dict[str, Any], parameters: CellParameters) -> None:
        """Side reactions need a set with degradation parameters (OKane2022)."""
        reactions = settings["negative_electrode"]["reactions"]
        cracking = cls._mechanics(settings).cracking("negative")
        if settings["negative_electrode"]["sei_on_cracks"] and not cracking:
            raise CaseError(
                [
                    "negative_electrode.sei_on_cracks = true: the negative particles do not "
                    "crack (allowed: [mechanics] particle or negative = "
                    "'swelling-and-cracking')"
                ]
            )
        if len(reactions) > 1 and parameters.degradation is None:
            raise CaseError(
                [
                    f"negative_electrode.reactions = {reactions}: the parameter set "
                    f"{parameters.name!r} has no lithium plating or SEI parameters (allowed: "
                    "set = 'OKane2022', or only ['intercalation'])"
                ]
            )

    @staticmethod
    def _thermal(settings: dict[str, Any]) -> ThermalModel:
        """The thermal model of ``[thermal]``."""
        table = settings["thermal"]

        def ambient(cooling: dict[str, Any]):
            schedule = cooling["ambient_schedule"]
            if schedule is not None:
                return AmbientSchedule.from_pairs(schedule)
            return cooling["ambient_temperature"]

        boundaries = {
            name: BoundaryCooling(cooling["heat_transfer_coefficient"], ambient(cooling))
            for name, cooling in table["boundaries"].items()
        }
        return ThermalModel(
            table["model"],
            ambient(table),
            table["initial_temperature"],
            table["heat_transfer_coefficient"],
            tuple(boundaries.items()),
        )

    @classmethod
    def _check_thermal(cls, settings: dict[str, Any], parameters: CellParameters) -> None:
        """The thermal parameters the chosen model needs must all be there.

        Raises:
            CaseError: listing every missing name (PyBaMM's).
        """
        model = cls._thermal(settings)
        if not model.active:
            return
        missing = parameters.thermal.missing(model.model)
        if missing:
            raise CaseError(
                [
                    f"thermal (model = {model.model!r}): the parameter {name!r} is missing "
                    f"from {parameters.name} (give it in [parameters.values])"
                    for name in missing
                ]
            )

    @staticmethod
    def _counter_electrode(settings: dict[str, Any]) -> LithiumCounterElectrode | None:
        """The lithium-metal counter electrode of a half cell (``[cell]``), None for a full cell."""
        cell = settings["cell"]
        if cell["configuration"] == "full":
            return None
        return LithiumCounterElectrode(cell["lithium_exchange_current_density"])

    @staticmethod
    def _geometry(settings: dict[str, Any]) -> CellGeometry | None:
        """The 2D/3D stack of ``[geometry]`` (checked by the settings), None in 1D."""
        g = settings["geometry"]
        dimension = g["dimension"]
        if dimension == 1:
            return None
        half = settings["cell"]["configuration"] == "half"
        spans = {}
        for side in ("negative", "positive"):
            if g["tabs"] and not (side == "negative" and half):
                span = g[f"{side}_tab"]
                spans[side] = TabPlacement() if dimension == 2 else TabPlacement(*span)

        def foil(side: str) -> CurrentCollectorFoil | None:
            thickness = g[f"{side}_foil_thickness"]
            if thickness == 0:
                return None
            return CurrentCollectorFoil(thickness, g[f"{side}_foil_conductivity"], g["foil_cells"])

        return CellGeometry(
            height_m=g["height"],
            height_cells=g["height_cells"],
            width_m=g["width"] if dimension == 3 else None,
            width_cells=g["width_cells"],
            negative_foil=foil("negative"),
            positive_foil=foil("positive"),
            negative_tab=spans.get("negative"),
            positive_tab=spans.get("positive"),
            tab_length_m=g["tab_length"],
            tab_cells=g["tab_cells"],
        )

    @staticmethod
    def _read_parameters(settings: dict[str, Any], case_dir: Path) -> CellParameters:
        """The cell of ``parameters.set`` or ``parameters.bpx_file``, with ``[parameters.values]``.

        The values are set by their PyBaMM/BPX names (:mod:`electrolyx.parameters.by_name`).

        Raises:
            CaseError: naming the key, for an unreadable or invalid BPX file, an unknown
                parameter name or a bad value.
        """
        physics = settings["parameters"]
        if physics["bpx_file"] is None:
            cell = parameter_sets.parameter_set(physics["set"])
        else:
            try:
                cell = parameter_sets.read_bpx(case_dir / physics["bpx_file"])
            except parameter_sets.BPXError as error:
                raise CaseError([f"parameters.bpx_file: {error}"]) from None
        try:
            cell = with_values(cell, physics["values"])
        except ValueError as error:
            raise CaseError([str(error)]) from None
        soc, voltage = physics["initial_state_of_charge"], physics["initial_voltage"]
        if soc is None and voltage is None:
            return cell
        key = "initial_state_of_charge" if voltage is None else "initial_voltage"
        try:
            return with_initial_state(
                cell, soc, voltage, half_cell=settings["cell"]["configuration"] == "half"
            )
        except InitialStateError as error:
            raise CaseError([f"parameters.{key} = {physics[key]!r}: {error}"]) from None

    def _kinetics(self) -> dict[str, Kinetics]:
        """The kinetic law of each electrode's intercalation (``[negative_electrode]``, ...)."""
        p = self.parameters
        kinetics = {
            "positive": kinetics_from_table(
                self.settings["positive_electrode"], p.positive, "cathodic"
            )
        }
        if self.settings["cell"]["configuration"] == "full":
            kinetics["negative"] = kinetics_from_table(
                self.settings["negative_electrode"], p.negative, "anodic"
            )
        return kinetics
