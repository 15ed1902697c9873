"""Heat in a DFN case: ``[thermal]``, its ambient schedules and its cooled boundaries."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ..base import SettingsTable, case_problems, unit
from ..common import (
    temperature_field,
)

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


def _ambient_problems(table) -> list[tuple[str, str]]:
    """Problems of a table's ambient_schedule (with the table's ambient_temperature).

    Times strictly increasing from >= 0, temperatures in (1, 1000) K, not both given.
    """
    key, schedule = "ambient_schedule", table.ambient_schedule
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
    if table.ambient_temperature is not None:
        problems.append((key, "{key}: give it or ambient_temperature, not both"))
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
        problems = _ambient_problems(self)
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
        problems = _ambient_problems(self)
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
