"""Settings of the microstructure-resolved half cell (``model = "microstructure"``).

See :mod:`electrolyx.models.microstructure`. The packing keys are those of the homogenisation
case (:class:`.homogenise.RandomPackingGeometry`) plus the separator slab.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import SettingsTable, unit
from .common import (
    CaseSection,
    CheckpointOutput,
    InterfaceKinetics,
    OutputSettings,
    ParameterSetName,
    SolverSettings,
    SweepSettings,
    temperature_field,
)
from .homogenise import RandomPackingGeometry

__all__ = ["MicrostructureSettings"]


class MicrostructureCase(CaseSection):
    """What the case is."""

    model: Literal["microstructure"] = Field(description="Model that solves the case.")


class HalfCellPacking(RandomPackingGeometry):
    """Random sequential addition of spheres (3D box) or disks (2D box), meshed by gmsh.

    Log-normal radii, up to a target solid fraction; x runs from the collector face (particles
    may be cut there and at the sides) to the separator-side face (never cut). A particle-free
    separator slab follows x = L_x.
    """

    separator_thickness: float = Field(
        gt=0.0,
        description="Thickness of the particle-free electrolyte slab between the packing and "
        "the lithium counter electrode.",
        json_schema_extra=unit("m"),
    )
    depth: float | None = Field(
        None,
        gt=0.0,
        description="Out-of-plane depth of a 2D microstructure (currents and amounts are for "
        "this depth); default L_y. Ignored in 3D.",
        json_schema_extra=unit("m"),
    )


class HalfCellParameters(SettingsTable):
    """Materials: the positive electrode and the electrolyte of a parameter set."""

    set: ParameterSetName = Field(
        "Chen2020",
        description="Built-in parameter set; its positive electrode (particles) and electrolyte.",
    )
    bpx_file: str | None = Field(
        None,
        min_length=1,
        description="Battery Parameter eXchange (BPX) JSON file, relative to the case folder; "
        "when given it replaces `set` (its positive electrode and electrolyte).",
    )
    temperature: float | None = temperature_field(
        None, "Isothermal temperature (default: the set's ambient temperature)."
    )
    initial_stoichiometry: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        description="Initial c_s / c_s,max of the particles (default: the set's).",
    )
    double_layer: bool = Field(
        False,
        description="Add the double-layer current C_dl d(phi_s - phi_e)/dt on the particle "
        "surfaces (the set's C_dl).",
    )
    lithium_exchange_current_density: float = Field(
        10.0,
        gt=0.0,
        description="Exchange-current density of the lithium-metal counter electrode "
        "(symmetric Butler-Volmer, alpha = 0.5).",
        json_schema_extra=unit("A/m2"),
    )


class Discharge(SettingsTable):
    """Galvanostatic discharge (lithiation of the particles) until a cut-off voltage."""

    c_rate: float = Field(
        gt=0.0,
        le=1000.0,
        description="Current as a C-rate of the particles' capacity F V_s (c_s,max - c_s,0) "
        "(at most 1000: a discharge in 3.6 s).",
        json_schema_extra=unit("1/h"),
    )
    cutoff_voltage: float | None = Field(
        None,
        gt=0.0,
        le=6.0,
        description="Discharge ends when the voltage (vs Li/Li+) falls to this value (default: "
        "the set's lower cut-off); no lithium-ion electrode works above 6 V vs Li/Li+.",
        json_schema_extra=unit("V"),
    )
    duration: float | None = Field(
        None,
        gt=0.0,
        description="Longest discharge time (default: 1.2 hours over the C-rate).",
        json_schema_extra=unit("s"),
    )
    time_step: float = Field(
        gt=0.0, description="Time step (implicit Euler).", json_schema_extra=unit("s")
    )


class MicrostructureSolver(SolverSettings):
    """Newton's method (PETSc SNES) and its linear solver."""

    linear_solver: Literal["mumps", "superlu_dist", "gmres-ilu", "gmres-asm", "iterative"] = Field(
        "mumps",
        description="Linear solver preset for each Newton step. `iterative`: GMRES "
        "preconditioned by a coarse correction (each particle's lithium and solid potential, "
        "the electrolyte's concentration and potential as profiles in x), then a symmetric "
        "multiplicative field split over c_e, phi_e, c_s, phi_s with one GAMG W-cycle per "
        "field (large 3D packings, MPI).",
    )
    line_search: Literal["bt", "basic"] = Field(
        "bt",
        description="Newton's method on the unknowns and the collector voltage: `bt` "
        "backtracks on the residual norm, `basic` takes full steps.",
    )
    relative_tolerance: float = Field(
        1e-10,
        gt=0.0,
        lt=1.0,
        description="Newton stops when the residual norm fell by this factor.",
    )
    absolute_tolerance: float = Field(
        1e-11, gt=0.0, description="Newton stops when the (scaled) residual norm is below this."
    )


class MicrostructureOutput(OutputSettings, CheckpointOutput):
    """What the run writes besides run.json and timeseries.csv."""

    field_every: int = Field(
        10,
        ge=1,
        le=1_000_000,
        description="Write fields and profiles (pore phase) every this many time steps and at "
        "the end.",
    )


class MicrostructureSettings(SettingsTable):
    """Microstructure-resolved half cell.

    Particles of the positive electrode on a random packing, electrolyte in the pores and a
    separator slab, lithium-metal counter electrode.
    """

    case: MicrostructureCase
    microstructure: HalfCellPacking
    parameters: HalfCellParameters = Field(default_factory=HalfCellParameters)
    interface: InterfaceKinetics = Field(
        default_factory=InterfaceKinetics,
        description="Kinetics of the intercalation reaction on the particle surfaces (the "
        "interface between particles and electrolyte).",
    )
    discharge: Discharge
    solver: MicrostructureSolver = Field(default_factory=MicrostructureSolver)
    output: MicrostructureOutput = Field(default_factory=MicrostructureOutput)
    sweep: SweepSettings = Field(default_factory=SweepSettings)
