"""What a DFN case runs and writes: ``[experiment]``, ``[time_stepping]`` and ``[output]``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ...experiment import MAX_PROTOCOL_STEPS, parse_experiment
from ..base import SettingsTable, case_problems, unit
from ..common import (
    CheckpointOutput,
    OutputSettings,
)
from ..times import ProfileTime


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
        "log-concentration",
        description="The electrolyte's unknown. `log-concentration` (the default): u = "
        "ln(c_e / c_e0) besides the concentration, tied node by node, the laws and the salt "
        "flux seeing c_e0 exp(u) > 0: the concentration stays positive through a depletion, "
        "lithium is still conserved exactly (docs/dfn.md). `concentration`: c_e itself alone "
        "(the laws see it held at 1e-6 of its initial value; past a depletion the unknown can "
        "go a little negative).",
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
