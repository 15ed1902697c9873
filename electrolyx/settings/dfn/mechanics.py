"""Mechanics of a DFN case: ``[mechanics]`` (the particles) and ``[elasticity]`` (the stack)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..base import SettingsTable, unit


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
