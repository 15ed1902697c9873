"""Settings of a Doyle-Fuller-Newman case (``[case] model = "dfn"``, :mod:`..models.dfn_case`).

Rules that need only the settings are validators here (half-cell keys, geometry by dimension,
protocol sentences, mesh size); those that need files (the BPX file, the drive cycle, the
parameter set's voltage window) are in ``DFNCase.check_consistency``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ..experiment import MAX_PROTOCOL_STEPS, parse_experiment
from .base import SettingsTable, case_problems, unit
from .common import (
    CaseSection,
    CheckpointOutput,
    InterfaceKinetics,
    OutputSettings,
    ParameterSetName,
    SweepSettings,
    temperature_field,
)
from .times import ProfileTime, resolve_percentages

__all__ = ["MAX_MESH_CELLS", "MAX_PROTOCOL_STEPS", "DFNSettings"]

#: Most cells of the cell mesh (through the stack times in the plane): beyond, memory runs out.
MAX_MESH_CELLS = 10_000_000


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


def _cells(default: int, description: str, high: int = 100_000) -> int:
    return Field(default, ge=1, le=high, description=description)


class Mesh(SettingsTable):
    """Cells across each region (gmsh interval) and radial points of the particles."""

    negative_cells: int = _cells(20, "Cells across the negative electrode.")
    separator_cells: int = _cells(6, "Cells across the separator.")
    positive_cells: int = _cells(20, "Cells across the positive electrode.")
    negative_radial_points: int = Field(
        20, ge=3, le=200, description="Radial nodes of the negative particles."
    )
    positive_radial_points: int = Field(
        20, ge=3, le=200, description="Radial nodes of the positive particles."
    )
    radial_surface_refinement: float = Field(
        2.0,
        ge=1.0,
        le=4.0,
        description="Exponent p of the radial grid r_k = R (1 - (1 - k/N)^p) (1 = uniform).",
    )


def _positive_length(description: str, default: float | None = None) -> float | None:
    return Field(default, gt=0.0, description=description, json_schema_extra=unit("m"))


class Geometry(SettingsTable):
    """Cell geometry: the 1D cell (P2D), a 2D cross-section (P3D) or a 3D pouch stack (P4D).

    The 2D and 3D stacks have resolved current-collector foils and tabs
    (electrolyx.meshes.pouch). x runs through the stack; the height along y (2D) or z (3D),
    the width along y (3D). The mesh stands for one of A / (height x width) identical layer
    pairs of the set's electrode area A (2D: width 1 m).
    """

    dimension: int = Field(1, ge=1, le=3, description="1, 2 or 3.")
    height: float | None = _positive_length("Electrode height (2D and 3D).")
    height_cells: int = _cells(10, "Cells along the height.", high=10_000)
    width: float | None = _positive_length("Electrode width (3D only).")
    width_cells: int = _cells(10, "Cells along the width (3D).", high=10_000)
    negative_foil_thickness: float = Field(
        0.0,
        ge=0.0,
        description="Thickness of the negative current-collector foil, resolved as a "
        "conducting layer; 0: no foil, the negative terminal is the electrode's outer face.",
        json_schema_extra=unit("m"),
    )
    negative_foil_conductivity: float = Field(
        58411000.0,
        gt=0.0,
        description="Electronic conductivity of the negative foil (copper; PyBaMM's Chen2020 "
        "value).",
        json_schema_extra=unit("S/m"),
    )
    positive_foil_thickness: float = Field(
        0.0,
        ge=0.0,
        description="Thickness of the positive current-collector foil; 0: no foil.",
        json_schema_extra=unit("m"),
    )
    positive_foil_conductivity: float = Field(
        36914000.0,
        gt=0.0,
        description="Electronic conductivity of the positive foil (aluminium; PyBaMM's "
        "Chen2020 value).",
        json_schema_extra=unit("S/m"),
    )
    foil_cells: int = _cells(1, "Cells across each foil.", high=1000)
    tabs: bool = Field(
        False,
        description="Terminals on tabs that leave the foils at the top edge (needs both foils; "
        "a half cell: the positive one); false: on the outer faces of the stack.",
    )
    negative_tab: list[float] | None = Field(
        None,
        description="Span [start, end] of the negative tab along the width (3D with tabs).",
        json_schema_extra=unit("m"),
    )
    positive_tab: list[float] | None = Field(
        None,
        description="Span [start, end] of the positive tab along the width (3D with tabs).",
        json_schema_extra=unit("m"),
    )
    tab_length: float = Field(
        0.01,
        gt=0.0,
        description="How far the tabs stick out beyond the top edge.",
        json_schema_extra=unit("m"),
    )
    tab_cells: int = _cells(2, "Cells along a tab's length.", high=1000)


class Experiment(SettingsTable):
    """The protocol: PyBaMM-style sentences run in order (see electrolyx.experiment)."""

    steps: list[Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=list,
        description='Steps, e.g. "Discharge at 1C until 2.5 V", "Rest for 1 hour", '
        '"Charge at 0.5C until 4.2 V", "Hold at 4.2 V until C/50", '
        '"Discharge at 5 W for 10 minutes". Durations, currents, C-rates and powers must be '
        "positive and finite; the voltages of a full cell must lie in the parameter set's "
        "voltage window (its lower and upper cut-off).",
    )
    drive_cycle: str | None = Field(
        None,
        min_length=1,
        description="CSV file (relative to the case folder) with columns time_s, current_A "
        "(positive on discharge), run after the steps: the current is linear between the rows; "
        "the run stops at the end or at the set's voltage cut-offs.",
    )
    repeat: int = Field(1, ge=1, le=MAX_PROTOCOL_STEPS, description="How many times the steps run.")

    @model_validator(mode="after")
    def _protocol(self) -> Experiment:
        if not self.steps and self.drive_cycle is None:
            raise case_problems([("", "{key}: give steps, a drive_cycle file, or both")])
        if len(self.steps) * self.repeat > MAX_PROTOCOL_STEPS:
            raise case_problems(
                [
                    (
                        "repeat",
                        f"{{key}} = {self.repeat}: {len(self.steps)} steps x {self.repeat} "
                        f"repeats = {len(self.steps) * self.repeat} steps; allowed at most "
                        f"{MAX_PROTOCOL_STEPS}",
                    )
                ]
            )
        if self.steps:
            try:
                parse_experiment(self.steps)
            except ValueError as error:
                raise case_problems([("steps", f"{{key}}: {error}")]) from None
        return self


class TimeStepping(SettingsTable):
    """Time integration: PETSc TS (BDF of a fixed order, adaptive steps), or our BDF2 loop.

    TS controls the local error of the scaled concentrations (max norm) and runs one
    integration per protocol step.
    """

    integrator: Literal["ts", "bdf2"] = Field(
        "ts",
        description="PETSc TS (TSBDF, the default), or `bdf2`: our former variable-step "
        "BDF1/BDF2 loop (kept for comparison; no shipped case needs it). `order`, `first_step` "
        "and `max_step_growth` apply to TS only; with `bdf2` an unset `max_step` means 60 s.",
    )

    electrolyte_unknown: Literal["concentration", "log-concentration"] = Field(
        "concentration",
        description="The electrolyte's unknown. `concentration`: c_e itself (the laws see it "
        "held at 1e-6 of its initial value; past a depletion the unknown can go a little "
        "negative). `log-concentration`: u = ln(c_e / c_e0) besides it, tied node by node, the "
        "laws and the salt flux seeing c_e0 exp(u) > 0: the concentration stays positive "
        "through a depletion, lithium is still conserved exactly (docs/dfn.md).",
    )
    relative_tolerance: float = Field(
        1e-4,
        gt=0.0,
        description="Local error tolerance, relative (1e-4 with BDF4: 0.004 mV RMS time error "
        "at 1C, bench/README.md).",
    )
    absolute_tolerance: float = Field(
        1e-6, gt=0.0, description="Local error tolerance, absolute on scaled concentrations."
    )
    max_step: float | None = Field(
        None,
        gt=0.0,
        description="Largest time step. Not set: no limit (the error control sets the steps).",
        json_schema_extra=unit("s"),
    )
    order: int = Field(
        4,
        ge=1,
        le=6,
        description="Order of the BDF formula (TSBDF; ramped up from 1 at the start of every "
        "protocol step).",
    )
    first_step: float = Field(
        1e-3,
        gt=0.0,
        le=1e4,
        description="First time step of every protocol step.",
        json_schema_extra=unit("s"),
    )
    max_step_growth: float | None = Field(
        None,
        gt=1.0,
        le=10.0,
        description="Largest ratio of two successive steps. Not set: 1.5 for order >= 4 "
        "(variable-step BDF4/5 lose exact lithium conservation when steps grow fast), 10 "
        "otherwise.",
    )


class Mechanics(SettingsTable):
    """Particle mechanics: diffusion-induced stress in the particles (electrolyx.forms.mechanics).

    Needs the mechanical parameters of each electrode with mechanics by their PyBaMM names
    (Young's modulus, Poisson's ratio, partial molar volume, reference concentration for free of
    deformation; with cracking also the initial crack length and width, the number of cracks
    per unit area, Paris' law constants b and m and the cracking rate), from the parameter set
    or ``[parameters.values]``.
    """

    particle: Literal["none", "swelling-only", "swelling-and-cracking"] = Field(
        "none",
        description='"none"; "swelling-only": radial and hoop stresses of elastic spheres from '
        "the particles' concentration profiles (timeseries.csv: surface hoop stress of each "
        "electrode, its average and extremes over the electrode; maps and profiles: surface "
        "hoop and centre radial stress; cell_thickness_change_m when the set has the volume-"
        'change functions); "swelling-and-cracking": also the length of the particles\' '
        "surface cracks at every electrode node, grown by Paris' law from the tensile surface "
        'hoop stress (PyBaMM\'s "swelling and cracking"; needs the cracking parameters, e.g. '
        "of the Ai2020 set; timeseries.csv: crack length averaged and largest, crack surface "
        "area, roughness ratio; maps and profiles: crack length).",
    )
    negative: Literal["none", "swelling-only", "swelling-and-cracking"] | None = Field(
        None,
        description="The negative electrode's particle mechanics when it differs from "
        "`particle` (PyBaMM's option tuple (negative, positive)); not set: `particle`.",
    )
    positive: Literal["none", "swelling-only", "swelling-and-cracking"] | None = Field(
        None,
        description="The positive electrode's particle mechanics when it differs from "
        "`particle`; not set: `particle`.",
    )
    stress_induced_diffusion: bool = Field(
        False,
        description="Particle flux N = -D (1 + theta (c - c_ref)) grad c with theta = 2 Omega^2 "
        "E / (9 R T (1 - nu)): the hydrostatic-stress gradient drives lithium (PyBaMM's "
        '"stress-induced diffusion").',
    )


#: One point of an ambient schedule: [time (s), ambient temperature (K)].
SchedulePoint = Annotated[list[float], Field(min_length=2, max_length=2)]

#: Named boundaries of the distributed thermal models (models/dfn/thermal.py BOUNDARIES).
THERMAL_BOUNDARIES = {
    "x-full": ("negative_current_collector", "positive_current_collector"),
    "2d": (
        "negative_current_collector",
        "positive_current_collector",
        "negative_tab",
        "positive_tab",
        "edges",
    ),
}
THERMAL_BOUNDARIES["3d"] = THERMAL_BOUNDARIES["2d"]


def _schedule_field(what: str):
    return Field(
        None,
        min_length=1,
        max_length=100_000,
        description=f"{what} following a schedule: [[time (s), T (K)], ...], times strictly "
        "increasing from >= 0, linear in between, held before the first and after the last "
        "point (instead of a constant ambient_temperature).",
    )


def _schedule_problems(schedule, key: str) -> list[tuple[str, str]]:
    """Times strictly increasing from >= 0 and temperatures in (1, 1000) K."""
    if schedule is None:
        return []
    times = [point[0] for point in schedule]
    problems = []
    if times[0] < 0.0 or any(not b > a for a, b in zip(times, times[1:], strict=False)):
        problems.append((key, f"{{key}}: times {times}: allowed strictly increasing from >= 0 s"))
    for time, temperature in schedule:
        if not 1.0 < temperature < 1000.0:
            problems.append(
                (key, f"{{key}}: T = {temperature!r} K at t = {time!r} s: allowed 1 < T < 1000 K")
            )
    return problems


class BoundaryCooling(SettingsTable):
    """Cooling of one named boundary: h (T - T_amb) [W/m2] leaves through it."""

    heat_transfer_coefficient: float | None = Field(
        None,
        ge=0.0,
        description="h of this boundary (default: [thermal] heat_transfer_coefficient).",
        json_schema_extra=unit("W/(m2 K)"),
    )
    ambient_temperature: float | None = temperature_field(
        None, "T_amb of this boundary (default: [thermal]'s ambient temperature or schedule)."
    )
    ambient_schedule: list[SchedulePoint] | None = _schedule_field("T_amb of this boundary")

    @model_validator(mode="after")
    def _consistent(self):
        problems = _schedule_problems(self.ambient_schedule, "ambient_schedule")
        if self.ambient_temperature is not None and self.ambient_schedule is not None:
            problems.append(("ambient_schedule", "{key}: give it or ambient_temperature, not both"))
        if problems:
            raise case_problems(problems)
        return self


class Thermal(SettingsTable):
    """Thermal model: the cell's temperature from its energy balance (models/dfn/thermal.py).

    Heat sources (always written to timeseries.csv as heat_*_W): irreversible reaction heat
    a_s j eta, reversible heat a_s j T dU/dT, ohmic heat of the solid (in 2D/3D also of the
    foils and tabs) and of the electrolyte, all from the expressions the DFN solves. The
    models need the set's thermal parameters by their PyBaMM names (densities, specific heat
    capacities and, except "lumped", thermal conductivities of the collectors, electrodes and
    separator; the collectors' thicknesses; "Total heat transfer coefficient [W.m-2.K-1]"; for
    "lumped" also "Cell cooling surface area [m2]" and "Cell volume [m3]"), from the set or
    [parameters.values].
    """

    model: Literal["isothermal", "lumped", "x-full", "2d", "3d"] = Field(
        "isothermal",
        description='"isothermal" (the temperature of [parameters]); "lumped": one temperature, '
        'rho_c_p,eff V dT/dt = Q - h A (T - T_amb) (PyBaMM\'s lumped model); "x-full": the '
        "temperature through the thickness of the 1D cell with each layer's heat capacity and "
        "conductivity, the collectors lumped on the two faces and cooled there with h "
        '(PyBaMM\'s x-full model without edge or tab cooling); "2d" / "3d": the temperature '
        "on the 2D cross-section / 3D pouch (geometry.dimension 2 / 3) with every layer, foil "
        "and tab resolved (the layered stack conducts in plane with the thickness-weighted "
        "mean conductivity and through it with the series one), each named boundary cooled "
        "with its own h and T_amb ([thermal.boundaries]). All add temperature_K, "
        "max_temperature_K, its position (max_temperature_position_m through the stack; "
        "2D/3D also _y_m, _z_m) and the heat generated, removed and stored [J] to "
        "timeseries.csv; x-full, 2d and 3d also the temperature_K field.",
    )
    ambient_temperature: float | None = temperature_field(
        None, "Ambient temperature of the cooling (default: the set's ambient temperature)."
    )
    ambient_schedule: list[SchedulePoint] | None = _schedule_field(
        "The ambient temperature of the cooling"
    )
    initial_temperature: float | None = temperature_field(
        None,
        'Temperature at t = 0 (default: the set\'s "Initial temperature [K]", else the '
        "ambient temperature at t = 0).",
    )
    heat_transfer_coefficient: float | None = Field(
        None,
        ge=0.0,
        description="h of every cooled boundary (default: the set's \"Total heat transfer "
        'coefficient [W.m-2.K-1]").',
        json_schema_extra=unit("W/(m2 K)"),
    )
    boundaries: dict[str, BoundaryCooling] = Field(
        default_factory=dict,
        description="Per named boundary its own cooling ([thermal.boundaries.<name>]; x-full, "
        "2d, 3d). Names: negative_current_collector and positive_current_collector (the two "
        "large faces of the layer pair), and in 2D/3D negative_tab and positive_tab (the "
        "tabs' end faces: tab cooling) and edges (every other outer face: the rim of the "
        "stack and the tabs' sides). A boundary not named gets heat_transfer_coefficient and "
        "the ambient temperature; h = 0 makes it adiabatic (e.g. the faces of a layer pair "
        "inside a stack).",
    )

    @model_validator(mode="after")
    def _consistent(self):
        problems = _schedule_problems(self.ambient_schedule, "ambient_schedule")
        if self.ambient_temperature is not None and self.ambient_schedule is not None:
            problems.append(("ambient_schedule", "{key}: give it or ambient_temperature, not both"))
        allowed = THERMAL_BOUNDARIES.get(self.model, ())
        for name in self.boundaries:
            if name not in allowed:
                problems.append(
                    (
                        f"boundaries.{name}",
                        f"{{key}}: not a boundary of model = {self.model!r} (allowed: "
                        + (", ".join(allowed) if allowed else "none, one cooling for the cell")
                        + ")",
                    )
                )
        if problems:
            raise case_problems(problems)
        return self


class LayerElasticity(SettingsTable):
    """Isotropic elastic constants of one layer of the stack (an effective, homogenised value)."""

    youngs_modulus: float = Field(gt=0.0, description="E.", json_schema_extra=unit("Pa"))
    poissons_ratio: float = Field(gt=-1.0, lt=0.5, description="nu, -1 < nu < 0.5.")


def _layer(youngs_modulus: float, poissons_ratio: float, what: str):
    return Field(
        default_factory=lambda: LayerElasticity(
            youngs_modulus=youngs_modulus, poissons_ratio=poissons_ratio
        ),
        description=f"{what} (default E = {youngs_modulus:g} Pa, nu = {poissons_ratio:g}).",
    )


class Elasticity(SettingsTable):
    """Cell-level linear elasticity of the 2D/3D stack, driven by the electrodes' swelling.

    Needs particle mechanics with volume changes in both electrodes (electrolyx.models.elasticity).
    At every row and field output the displacement of the layers is solved with the free
    swelling strain eps_s [dV/V(x_avg) - dV/V(x_avg,0)] / 3 as eigenstrain (plane strain in
    2D), by the `linear_solver`. One way: the stresses do not act back on the
    electrochemistry. Outputs: fields `displacement_m` and `von_mises_stress_Pa` (nodal averages
    of the cells' values), timeseries `stack_face_displacement_m` (mean through-stack
    displacement of the positive collector's face) and `max_von_mises_stress_Pa`.
    """

    solve: bool = Field(False, description="Solve the cell's elasticity.")
    casing: Literal["stack-pressure", "fixed"] = Field(
        "stack-pressure",
        description='"stack-pressure": the negative collector\'s face (x = 0) on a rigid '
        "plate it slides on, `stack_pressure` on the positive collector's face, the stack held "
        "in its plane by rollers on its edge faces (as far from the edges of a large pouch; "
        'a tab\'s end is free); "fixed": both collector faces bonded to rigid plates (u = 0), '
        "the edges free. The collector faces are the stack's: the tabs, above its height, are "
        "outside the plates.",
    )
    stack_pressure: float = Field(
        0.0,
        description="Pressure on the positive collector's face (stack-pressure casing).",
        json_schema_extra=unit("Pa"),
    )
    linear_solver: Literal["direct", "gamg"] = Field(
        "direct",
        description='"direct": sparse Cholesky (MUMPS, distributed), factored once and reused '
        'at every row; "gamg": conjugate gradients with algebraic multigrid given the '
        "rigid-body near null space, for large meshes of well-shaped cells (it stalls on a "
        "pouch's thin layers meshed with its in-plane cells, hundreds of times wider than "
        "thick).",
    )
    negative_electrode: LayerElasticity = _layer(10e9, 0.3, "Negative electrode")
    separator: LayerElasticity = _layer(0.5e9, 0.35, "Separator")
    positive_electrode: LayerElasticity = _layer(80e9, 0.25, "Positive electrode")
    negative_foil: LayerElasticity = _layer(117e9, 0.34, "Negative foil and tab (copper)")
    positive_foil: LayerElasticity = _layer(70e9, 0.33, "Positive foil and tab (aluminium)")


class DFNOutput(OutputSettings, CheckpointOutput):
    """What the run writes besides run.json and timeseries.csv."""

    profile_times: list[ProfileTime] = Field(
        default_factory=list,
        description="Times at which profiles and fields are written (steps land on them); the "
        "state at t = 0 and at the end of every step is always written. Seconds, or text with "
        'a unit: "15 min", "0.5 h", or "25 %" of the protocol\'s nominal duration (the sum of '
        "its steps' `for` durations, a step at a C-rate without one counting the time to pass "
        "the nominal capacity: 1 h at 1C). A discharge that ends on its cut-off ends before "
        '"100 %" (3555 s of the nominal 3600 s for the Chen2020 cell at 1C): times after the '
        "end are not reached; run.json's resolved case holds the times in seconds.",
        json_schema_extra={
            **unit("s"),
            "allowed": "a list of times: numbers in [0, inf) s, or text such as "
            '"15 min", "0.5 h", "25 %"',
        },
    )
    row_interval: float | None = Field(
        None,
        gt=0.0,
        le=1e6,
        description="Rows of timeseries.csv at most this far apart: besides a row per time "
        "step, rows at the multiples of the interval, the state interpolated between the steps "
        "(cubic), which the interval does not limit. Not set: a row per time step.",
        json_schema_extra=unit("s"),
    )


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


def _mesh_cells(mesh: Mesh, g: Geometry, half: bool) -> int:
    """Cells of the cell mesh: across the stack, times those in the plane (2D, 3D)."""
    across = mesh.separator_cells + mesh.positive_cells + (0 if half else mesh.negative_cells)
    if g.dimension == 1:
        return across
    across += sum(g.foil_cells for t in (g.negative_foil_thickness, g.positive_foil_thickness) if t)
    return across * g.height_cells * (g.width_cells if g.dimension == 3 else 1)


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


def _geometry_problems(g: Geometry, half: bool) -> list[tuple[str, str]]:
    """What ``[geometry]`` allows in each dimension (keys relative to the case)."""
    dimension = g.dimension
    if dimension == 1:
        extra = [k for k in ("height", "width", "negative_tab", "positive_tab") if getattr(g, k)]
        extra += [
            k for k in ("negative_foil_thickness", "positive_foil_thickness") if getattr(g, k)
        ]
        extra += ["tabs"] if g.tabs else []
        return [
            (
                f"geometry.{key}",
                f"{{key}} = {getattr(g, key)}: only with dimension = 2 or 3 (dimension is 1)",
            )
            for key in extra
        ]
    problems = []
    if g.height is None:
        problems.append(("geometry.height", f"{{key}}: required with dimension = {dimension}"))
    if dimension == 2 and g.width is not None:
        problems.append(
            ("geometry.width", "{key}: only with dimension = 3 (2D is a cross-section)")
        )
    if dimension == 3 and g.width is None:
        problems.append(("geometry.width", "{key}: required with dimension = 3"))
    if half and g.negative_foil_thickness > 0:
        problems.append(
            (
                "geometry.negative_foil_thickness",
                f"{{key}} = {g.negative_foil_thickness}: a half cell has no negative foil "
                "(allowed: 0)",
            )
        )
    for side in ("negative", "positive"):
        key = f"geometry.{side}_tab"
        span = getattr(g, f"{side}_tab")
        if not g.tabs or (side == "negative" and half):
            if span is not None:
                problems.append((key, f"{{key}}: only with tabs = true (and a {side} foil)"))
            continue
        if getattr(g, f"{side}_foil_thickness") == 0:
            problems.append(
                (
                    "geometry.tabs",
                    f"{{key}} = true: needs geometry.{side}_foil_thickness > 0 (a tab leaves its "
                    "foil)",
                )
            )
        if dimension == 2:
            if span is not None:
                problems.append((key, "{key}: only in 3D (a 2D tab is the foil's end)"))
            continue
        width = g.width or 0.0
        if span is None or len(span) != 2 or not 0 <= span[0] < span[1] <= width:
            problems.append(
                (
                    key,
                    f"{{key}} = {span}: give [start, end] with 0 <= start < end <= width "
                    f"({width} m)",
                )
            )
    return problems
