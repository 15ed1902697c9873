"""Temperature as the laws read it: a UFL coefficient on the mesh, a constant or a field.

Every law of :mod:`electrolyx.forms` takes the temperature as a UFL expression, so that a model
isothermal today (a ``fem.Constant``) and a thermal model tomorrow (a temperature
``fem.Function``, updated by its own equation) share the same laws.
"""

from __future__ import annotations

from mpi4py import MPI

import dolfinx
import ufl
from dolfinx import fem
from ufl.domain import extract_unique_domain

__all__ = ["mean_temperature", "temperature_coefficient"]


def temperature_coefficient(mesh: dolfinx.mesh.Mesh, temperature) -> fem.Constant | fem.Function:
    """The temperature every law of the cell reads [K], as a coefficient on the cell mesh.

    Args:
        mesh: The cell mesh.
        temperature: A number (a ``fem.Constant`` is made), a ``fem.Constant`` or a
            ``fem.Function`` on ``mesh`` (used as given, so that a thermal model can update
            it), or a callable ``x -> T(x)`` of the coordinates (shape (3, n)), interpolated
            into a P1 ``fem.Function``.

    Raises:
        ValueError: for a Constant or Function on another mesh, or a temperature <= 0 K.
    """
    if isinstance(temperature, fem.Constant | fem.Function):
        if extract_unique_domain(temperature) != mesh.ufl_domain():
            raise ValueError("temperature: a Constant or Function must live on the cell mesh")
        return temperature
    if callable(temperature):
        field = fem.Function(fem.functionspace(mesh, ("Lagrange", 1)), name="temperature_K")
        field.interpolate(temperature)
        field.x.scatter_forward()
        return field
    if not float(temperature) > 0.0:
        raise ValueError(f"temperature = {temperature!r} K: allowed > 0")
    return fem.Constant(mesh, float(temperature))


def mean_temperature(mesh: dolfinx.mesh.Mesh, temperature: fem.Constant | fem.Function) -> float:
    """Mean of a temperature coefficient over the mesh [K] (a Constant's value itself).

    For what needs one number (an initial rest potential, a constant row scaling) where the laws
    read the coefficient itself.
    """
    if isinstance(temperature, fem.Constant):
        return float(temperature.value)
    dx = ufl.dx(domain=mesh)
    integral = fem.assemble_scalar(fem.form(temperature * dx))
    volume = fem.assemble_scalar(fem.form(fem.Constant(mesh, 1.0) * dx))
    return mesh.comm.allreduce(integral, op=MPI.SUM) / mesh.comm.allreduce(volume, op=MPI.SUM)
