"""Steady Fickian diffusion through the pore (electrolyte) phase of a resolved microstructure.

This is the cell problem that measures effective transport: with a concentration drop imposed
between two opposite faces of the box and no flux through the pore/solid interface and the other
faces,

    div(D grad c) = 0                in the pore phase,
    c = c_in on the inlet face,  c = c_out on the outlet face,
    D grad(c).n = 0                  on the pore/solid interface and the remaining faces.

Weak form: find c, equal to c_in and c_out on the inlet and outlet, such that

    int D grad(c).grad(v) dx = 0    for every v vanishing on the inlet and outlet.

The flux through the box follows from the solution without differentiating it on a face. Since
c - c_in chi_in - c_out chi_out is a test function (chi_in, chi_out: finite-element functions
equal to 1 on the nodes of the inlet/outlet and 0 at every other node),

    Q = int D grad(c).grad(chi_in) dx = -int D grad(c).grad(chi_out) dx      (consistent flux)
      = int D |grad c|^2 dx / (c_in - c_out)                                 (dissipation)

for the discrete solution. Q is the energy of a minimisation problem, so its error is the square
of the energy-norm error (second order for P1 on a smooth geometry), not the first-order error of
a facet-integrated gradient.
"""

from __future__ import annotations

import ufl

__all__ = ["consistent_boundary_flux", "diffusion_dissipation", "steady_diffusion_form"]


def steady_diffusion_form(concentration, test_function, diffusivity, dx: ufl.Measure) -> ufl.Form:
    """Bilinear form of -div(D grad c) = 0 with natural no-flux boundaries [mol/s per unit v].

    Args:
        concentration: Trial function c (or the solution, for a residual) [mol/m3].
        test_function: Test function v, vanishing where c is prescribed.
        diffusivity: D [m2/s].
        dx: Measure of the pore phase.
    """
    return diffusivity * ufl.inner(ufl.grad(concentration), ufl.grad(test_function)) * dx


def diffusion_dissipation(concentration, diffusivity, dx: ufl.Measure) -> ufl.Form:
    """Functional int D |grad c|^2 dx [mol/s x mol/m3] = (c_in - c_out) Q at the solution.

    Args:
        concentration: Solution c of :func:`steady_diffusion_form` [mol/m3].
        diffusivity: D [m2/s].
        dx: Measure of the pore phase.
    """
    return diffusivity * ufl.inner(ufl.grad(concentration), ufl.grad(concentration)) * dx


def consistent_boundary_flux(concentration, indicator, diffusivity, dx: ufl.Measure) -> ufl.Form:
    """Functional int D grad(c).grad(chi) dx [mol/s]: the flux into the domain through a face.

    With ``indicator`` chi equal to 1 on the nodes of one Dirichlet face and 0 at all other nodes,
    this is the molar flow entering through that face (the residual of the diffusion equation at
    its nodes), exact for the discrete solution.

    Args:
        concentration: Solution c of :func:`steady_diffusion_form` [mol/m3].
        indicator: chi, a function of the same space as c.
        diffusivity: D [m2/s].
        dx: Measure of the pore phase.
    """
    return diffusivity * ufl.inner(ufl.grad(concentration), ufl.grad(indicator)) * dx
