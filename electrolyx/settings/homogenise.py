"""Settings of a homogenisation case (``[case] model = "homogenise"``, :mod:`..models.homogenise`).

:class:`RandomPackingGeometry` (a random packing of spheres or disks meshed by gmsh) is shared
with the microstructure-resolved half cell (:mod:`.microstructure`).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import SettingsTable, case_problems, unit
from .common import CaseSection, SweepSettings

__all__ = ["AXES", "HomogeniseSettings", "MAX_PACKING_ELEMENTS", "RandomPackingGeometry"]

#: Direction names of the cell problem (x: through-plane).
AXES = ("x", "y", "z")
#: Most elements of a packing mesh (box volume over element_size^dimension): beyond, gmsh and
#: memory run out long before a solve.
MAX_PACKING_ELEMENTS = 10_000_000


def _length(description: str, default: float | None = None) -> float | None:
    return Field(default, gt=0.0, description=description, json_schema_extra=unit("m"))


class HomogeniseCase(CaseSection):
    """What the case is."""

    model: Literal["homogenise"] = Field(description="Model that solves the case.")


class RandomPackingGeometry(SettingsTable):
    """Random sequential addition of spheres (3D box) or disks (2D box), meshed by gmsh.

    Log-normal radii, up to a target solid fraction; x runs from the collector face (particles
    may be cut there and at the sides) to the separator-side face (never cut).
    """

    box: Annotated[list[Annotated[float, Field(gt=0.0)]], Field(min_length=2, max_length=3)] = (
        Field(description="Box side lengths (L_x, L_y[, L_z]).", json_schema_extra=unit("m"))
    )
    solid_fraction: float = Field(
        gt=0.0,
        lt=1.0,
        description="Target solid volume fraction (the packing reaches or just exceeds it).",
    )
    mean_radius: float = _length("Mean particle radius.", ...)
    radius_std: float = Field(
        0.0,
        ge=0.0,
        description="Standard deviation of the log-normal radius (0: equal radii).",
        json_schema_extra=unit("m"),
    )
    radius_min: float | None = _length("Smallest radius (redrawn below); default mean_radius / 2.")
    radius_max: float | None = _length("Largest radius (redrawn above); default 2 mean_radius.")
    min_gap: float | None = _length(
        "Smallest gap between separate particles and to faces they do not cross; default "
        "mean_radius / 10."
    )
    max_overlap: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="0: disjoint particles; else pairs may overlap down to a centre distance "
        "(1 - max_overlap)(r_1 + r_2).",
    )
    seed: int = Field(
        0, ge=0, le=2**32 - 1, description="Random seed (equal seeds, equal packings)."
    )
    element_size: float = _length("Largest element size.", ...)
    segments_per_circle: int = Field(
        16, ge=6, le=1000, description="Elements per full circle along particle surfaces."
    )
    cache: bool = Field(
        True,
        description="Keep the packing's mesh in electrolyx's mesh cache ($ELECTROLYX_MESH_CACHE, "
        "else ~/.cache/electrolyx/meshes) and read it from there, distributed over the ranks, "
        "when the same packing is meshed again (false: mesh every run).",
    )

    @model_validator(mode="after")
    def _sizes(self) -> RandomPackingGeometry:
        problems = []
        low = self.radius_min if self.radius_min is not None else self.mean_radius / 2
        high = self.radius_max if self.radius_max is not None else 2 * self.mean_radius
        if not low <= self.mean_radius <= high:
            problems.append(
                (
                    "radius_min",
                    f"{{key}} = {low!r} m, radius_max = {high!r} m: must bracket mean_radius = "
                    f"{self.mean_radius!r} m",
                )
            )
        # Ratios first: element_size ** 3 underflows to 0 for a tiny size (ZeroDivisionError).
        elements = math.prod(side / self.element_size for side in self.box)
        if elements > MAX_PACKING_ELEMENTS:
            problems.append(
                (
                    "element_size",
                    f"{{key}} = {self.element_size!r} m: the box {self.box!r} m would hold "
                    f"about {elements:.3g} elements of this size; allowed at most "
                    f"{MAX_PACKING_ELEMENTS:.0e}",
                )
            )
        if problems:
            raise case_problems(problems)
        return self


class RandomPacking(RandomPackingGeometry):  # noqa: D101 (the docstring of its base)
    generator: Literal["random_packing"] = "random_packing"


class MeshFile(SettingsTable):
    """A mesh file with cells grouped into pore and solid phases.

    gmsh .msh (physical-group names), or .vtu/.xdmf read by meshio (groups named by an integer
    cell-data array, `<array>_<value>`, e.g. `physical_1`).
    """

    generator: Literal["mesh_file"] = "mesh_file"
    path: str = Field(
        min_length=1, description="Path of the mesh file, relative to the case folder."
    )
    pore_groups: list[str] = Field(
        default_factory=lambda: ["electrolyte"], description="Cell groups of the pore phase."
    )
    solid_groups: list[str] = Field(
        default_factory=lambda: ["particles"], description="Cell groups of the solid phase."
    )
    cell_data: str | None = Field(
        None,
        description="Integer cell-data array naming the groups (meshio formats; default "
        "gmsh:physical or the only integer array).",
    )


class Homogenisation(SettingsTable):
    """The cell problem: steady diffusion through the pore phase.

    A unit concentration drop between opposite faces, no flux elsewhere.
    """

    directions: list[str] = Field(
        default_factory=lambda: list(AXES),
        description="Axes along which the tortuosity factor is computed (x: through-plane).",
    )
    linear_solver: Literal["cg-gamg", "mumps"] = Field(
        "cg-gamg", description="Conjugate gradients with algebraic multigrid, or MUMPS LU."
    )
    relative_tolerance: float = Field(
        1e-12, gt=0.0, lt=1.0, description="Relative residual tolerance of cg-gamg."
    )
    degree: int = Field(1, ge=1, le=3, description="Lagrange degree of the concentration.")


class HomogeniseSettings(SettingsTable):
    """Homogenisation case.

    Porosity, specific surface area, tortuosity factors and Bruggeman exponents of a resolved
    microstructure.
    """

    case: HomogeniseCase
    microstructure: Annotated[RandomPacking | MeshFile, Field(discriminator="generator")] = Field(
        description="The microstructure: a random packing made by gmsh, or a mesh file."
    )
    homogenisation: Homogenisation = Field(default_factory=Homogenisation)
    sweep: SweepSettings = Field(default_factory=SweepSettings)

    @model_validator(mode="after")
    def _directions(self) -> HomogeniseSettings:
        """Distinct directions among the axes of the box (of any mesh when read from a file)."""
        axes = list(AXES)
        if self.microstructure.generator == "random_packing":
            axes = axes[: len(self.microstructure.box)]
        directions = self.homogenisation.directions
        bad = [d for d in directions if d not in axes]
        if bad or not directions or len(set(directions)) != len(directions):
            raise case_problems(
                [
                    (
                        "homogenisation.directions",
                        f"{{key}} = {directions!r}: allowed distinct axes among {axes}",
                    )
                ]
            )
        return self
