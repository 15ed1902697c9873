"""What the cell is: the case, its parameters, its configuration, its electrodes' reactions.

``[case]``, ``[parameters]``, ``[cell]``, ``[negative_electrode]`` and ``[degradation]`` of a
DFN case.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ..base import SettingsTable, case_problems, unit
from ..common import (
    CaseSection,
    InterfaceKinetics,
    ParameterSetName,
    temperature_field,
)


class DFNCase(CaseSection):
    """What the case is."""

    model: Literal["dfn"] = Field(description="Model that solves the case.")


#: A value of ``[parameters.values]``: a number, or an expression in the BPX language.
ParameterValue = float | Annotated[str, Field(min_length=1, max_length=1000)]


class NegativeElectrode(InterfaceKinetics):
    """Reactions at the negative particles: intercalation (its kinetics), plating, SEI."""

    reactions: list[Literal["intercalation", "lithium-plating", "sei"]] = Field(
        default_factory=lambda: ["intercalation"],
        min_length=1,
        description="Interfacial reactions of the negative particles, intercalation first: "
        "`lithium-plating` (plating and stripping of lithium metal, O'Kane et al. 2020, 2022) "
        "and `sei` (SEI growth) add their currents, their lithium and their own states "
        "(plated and dead lithium, SEI thickness). Both need a set with degradation "
        "parameters (`OKane2022`, or its names in [parameters.values]).",
    )
    lithium_plating: Literal["reversible", "irreversible", "partially-reversible"] = Field(
        "partially-reversible",
        description='PyBaMM\'s "lithium plating" option (with `lithium-plating` in '
        "`reactions`): plated lithium strips back (`reversible`), never strips "
        "(`irreversible`, all plated lithium is dead), or turns dead at the rate "
        "gamma_0 L_SEI,0 / L_SEI (`partially-reversible`; needs `sei`).",
    )
    sei: Literal[
        "reaction-limited",
        "reaction-limited-asymmetric",
        "solvent-diffusion-limited",
        "electron-migration-limited",
        "interstitial-diffusion-limited",
        "ec-reaction-limited",
    ] = Field(
        "reaction-limited",
        description='PyBaMM\'s "SEI" option (with `sei` in `reactions`): growth limited '
        "by the reduction's kinetics (symmetric, or with the set's SEI growth transfer "
        "coefficient), by the solvent's diffusion through the film, by electrons migrating "
        "through it, by lithium interstitials diffusing through it, or by the EC reaction "
        "with EC diffusing through it (Yang et al. 2017).",
    )

    sei_film_resistance: Literal["distributed", "none"] = Field(
        "distributed",
        description='PyBaMM\'s "SEI film resistance" (with `sei`): `distributed` adds '
        "-j L_SEI rho_SEI to the overpotentials of intercalation and plating (j the total "
        "current density at each point, an algebraic unknown); `none` leaves them unchanged.",
    )
    sei_on_cracks: bool = Field(
        False,
        description='PyBaMM\'s "SEI on cracks" (with `sei` and cracking negative particles, '
        '`[mechanics]` "swelling-and-cracking"): SEI also grows, by the same law, on the '
        "crack faces the particles' cracks open, its amount its own unknown, from the set's "
        '"Initial SEI on cracks thickness [m]"; its lithium is lost from the inventory.',
    )

    @model_validator(mode="after")
    def _reaction_list(self) -> NegativeElectrode:
        problems = []
        if self.reactions[0] != "intercalation":
            problems.append(("reactions", f"{{key}} = {self.reactions}: intercalation comes first"))
        if len(set(self.reactions)) != len(self.reactions):
            problems.append(
                ("reactions", f"{{key}} = {self.reactions}: a reaction is listed twice")
            )
        plating = "lithium-plating" in self.reactions
        if (
            plating
            and self.lithium_plating == "partially-reversible"
            and "sei" not in self.reactions
        ):
            problems.append(
                (
                    "reactions",
                    f"{{key}} = {self.reactions}: lithium_plating = 'partially-reversible' needs "
                    "'sei' too (dead lithium forms at a rate set by the SEI thickness)",
                )
            )
        if self.sei_on_cracks and "sei" not in self.reactions:
            problems.append(
                (
                    "sei_on_cracks",
                    f"{{key}} = true needs 'sei' in reactions (reactions = {self.reactions})",
                )
            )
        if problems:
            raise case_problems(problems)
        return self


class Degradation(SettingsTable):
    """Lithium plating and SEI growth, as an alias of ``[negative_electrode]``'s side reactions.

    ``[degradation]`` fills in ``reactions``, ``lithium_plating`` and ``sei`` there.
    """

    lithium_plating: Literal["none", "reversible", "irreversible", "partially-reversible"] = Field(
        "none",
        description="Lithium plating on the negative particles: the same as "
        "`[negative_electrode] reactions` with `lithium-plating` and that option "
        "(`none`: no plating).",
    )
    sei: Literal[
        "none",
        "reaction-limited",
        "reaction-limited-asymmetric",
        "solvent-diffusion-limited",
        "electron-migration-limited",
        "interstitial-diffusion-limited",
        "ec-reaction-limited",
    ] = Field(
        "none",
        description="SEI growth on the negative particles: the same as "
        "`[negative_electrode] reactions` with `sei` and that option (`none`: no SEI growth).",
    )
    sei_film_resistance: Literal["distributed", "none"] = Field(
        "distributed",
        description="As `[negative_electrode] sei_film_resistance`.",
    )


class Parameters(SettingsTable):
    """Cell parameters and physics options."""

    set: ParameterSetName = Field(
        "Chen2020", description="Built-in parameter set (named after its paper)."
    )
    bpx_file: str | None = Field(
        None,
        min_length=1,
        description="Battery Parameter eXchange (BPX) JSON file, relative to the case folder; "
        "when given it replaces `set` (see electrolyx.parameters.bpx).",
    )
    initial_state_of_charge: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Initial state of charge, at rest (default: the set's or file's stored "
        "state): stoichiometries on the line of constant cyclable lithium between the cut-offs "
        "(a BPX file's own window), as PyBaMM's set_initial_state "
        "(electrolyx.parameters.initial_state).",
    )
    initial_voltage: float | None = Field(
        None,
        gt=0.0,
        description="Initial open-circuit voltage, at rest, instead of initial_state_of_charge "
        "(within the set's voltage cut-offs).",
        json_schema_extra=unit("V"),
    )
    temperature: float | None = temperature_field(
        None, "Isothermal temperature (default: the set's ambient temperature)."
    )
    double_layer: bool = Field(
        False,
        description="Add the double-layer current a_s C_dl d(phi_s - phi_e)/dt (the set's C_dl).",
    )
    values: dict[str, ParameterValue] = Field(
        default_factory=dict,
        description="Values that replace those of the set (or BPX file), by their PyBaMM/BPX "
        'name, e.g. `"Negative particle diffusivity [m2.s-1]" = 4e-14`: a number in the '
        "name's unit, or an expression in the safe expression language of BPX files (checked "
        "against the set by the model; `electrolyx check CASE --parameters` lists the names).",
    )

    @model_validator(mode="after")
    def _names(self) -> Parameters:
        if "" in self.values:
            raise case_problems([("values", '{key}."": a parameter needs a name')])
        return self


class Cell(SettingsTable):
    """Cell configuration: a full cell, or a half cell against lithium metal."""

    configuration: Literal["full", "half"] = Field(
        "full",
        description='"full": negative electrode | separator | positive electrode; "half": '
        "separator | positive electrode with a lithium-metal counter electrode at the "
        "separator's outer end (the set's negative electrode is not used).",
    )
    lithium_exchange_current_density: float | None = Field(
        None,
        gt=0.0,
        description="Exchange-current density j0_Li of the lithium-metal counter electrode "
        '(symmetric Butler-Volmer, OCP 0 V); only with configuration = "half".',
        json_schema_extra=unit("A/m2"),
    )
