"""Linear elasticity with an isotropic eigenstrain (swelling), 2D plane strain and 3D.

    -div sigma = 0,   sigma = lambda (tr eps(u) - 3 s) I + 2 mu (eps(u) - s I),
    eps(u) = (grad u + grad u^T) / 2,

with s the free linear swelling strain (a particle-laden electrode that swells by the volume
fraction dV/V has s = dV/V / 3), lambda = E nu / ((1 + nu)(1 - 2 nu)), mu = E / (2 (1 + nu)). In
2D the out-of-plane strain is zero (plane strain) and the swelling is still three-dimensional:
tr of the eigenstrain is 3 s in both cases. Boundary conditions: a prescribed displacement
(fixed casing, rollers), or a traction t = sigma n (a stack pressure p is t = -p n). Weak form:

    int sigma(u) : eps(v) dx - sum_k int t_k . v ds_k = 0   for all v.
"""

from __future__ import annotations

from collections.abc import Sequence

import ufl

__all__ = [
    "elastic_stress",
    "lame_parameters",
    "linear_elasticity_residual",
    "out_of_plane_stress",
    "strain",
    "von_mises_stress",
]


def lame_parameters(youngs_modulus, poissons_ratio):
    """(lambda, mu) of an isotropic material [Pa]."""
    E, nu = youngs_modulus, poissons_ratio
    return E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))


def strain(displacement):
    """Small strain eps(u) = sym(grad u) [-]."""
    return ufl.sym(ufl.grad(displacement))


def elastic_stress(displacement, youngs_modulus, poissons_ratio, swelling_strain=0.0):
    """Stress sigma = lambda (tr eps - 3 s) I + 2 mu (eps - s I) [Pa] (in-plane part in 2D)."""
    lam, mu = lame_parameters(youngs_modulus, poissons_ratio)
    eps = strain(displacement)
    identity = ufl.Identity(len(displacement))
    return lam * (ufl.tr(eps) - 3 * swelling_strain) * identity + 2 * mu * (
        eps - swelling_strain * identity
    )


def out_of_plane_stress(displacement, youngs_modulus, poissons_ratio, swelling_strain=0.0):
    """sigma_zz of plane strain (eps_zz = 0): lambda (tr eps - 3 s) - 2 mu s [Pa]."""
    lam, mu = lame_parameters(youngs_modulus, poissons_ratio)
    return lam * (ufl.tr(strain(displacement)) - 3 * swelling_strain) - 2 * mu * swelling_strain


def von_mises_stress(stress, out_of_plane=None):
    """sqrt(3/2 s : s), s the deviator of the 3D stress [Pa].

    Args:
        stress: The 2x2 or 3x3 stress tensor.
        out_of_plane: sigma_zz of a 2D (plane-strain) stress; ignored in 3D.
    """
    if stress.ufl_shape == (2, 2):
        zz = 0.0 if out_of_plane is None else out_of_plane
        full = ufl.as_matrix(
            [[stress[0, 0], stress[0, 1], 0], [stress[1, 0], stress[1, 1], 0], [0, 0, zz]]
        )
    else:
        full = stress
    deviator = ufl.dev(full)
    return ufl.sqrt(1.5 * ufl.inner(deviator, deviator))


def linear_elasticity_residual(
    stress, test_function, dx: ufl.Measure, tractions: Sequence[tuple] = ()
) -> ufl.Form:
    """Residual int sigma : eps(v) dx - sum int t . v ds [N m per unit test].

    Args:
        stress: sigma(u) (:func:`elastic_stress`).
        test_function: Vector test function v.
        dx: Cell measure.
        tractions: (traction vector t = sigma n [Pa], facet measure) pairs.
    """
    form = ufl.inner(stress, strain(test_function)) * dx
    for traction, ds in tractions:
        form -= ufl.inner(traction, test_function) * ds
    return form
