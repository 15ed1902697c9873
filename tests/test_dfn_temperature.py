"""Temperature as a coefficient of the DFN's laws: a number, a Constant or a field.

The laws (Arrhenius factors, open-circuit potential with dU/dT, exchange current, kinetics,
transport) read the DFN's temperature as a UFL coefficient, so a thermal model can replace the
``fem.Constant`` by a temperature ``fem.Function`` without touching them.
"""

from __future__ import annotations

import math

from mpi4py import MPI

import numpy as np
import pytest
from dolfinx import fem

from electrolyx.constants import GAS_CONSTANT
from electrolyx.models.dfn import DFN, DFNResolution
from electrolyx.parameters import chen2020, marquis2019

RESOLUTION = DFNResolution(6, 3, 6, 6, 6)  # small: the laws, not the discretisation, are tested
TEMPERATURE_K = 308.15  # 10 K above Chen2020's reference: every Arrhenius factor differs from 1


@pytest.mark.mpi
@pytest.mark.parametrize("parameter_set", [chen2020, marquis2019], ids=lambda f: f.__name__)
def test_uniform_temperature_field_gives_the_constant_temperature_voltage(parameter_set):
    # Chen2020: Arrhenius exchange currents; Marquis2019: also Arrhenius transport (particle
    # and electrolyte diffusivities, electrolyte conductivity).
    def run(temperature):
        parameters = parameter_set()
        model = DFN(parameters, RESOLUTION, MPI.COMM_WORLD, temperature_K=temperature)
        return model, model.discharge(parameters.one_c_current_A(), duration_s=600.0)

    constant_model, constant = run(TEMPERATURE_K)
    field_model, field = run(lambda x: np.full(x.shape[1], TEMPERATURE_K))
    assert isinstance(constant_model.temperature, fem.Constant)
    assert isinstance(field_model.temperature, fem.Function)
    assert len(field.voltage_V) == len(constant.voltage_V)
    # A P1 field equal to T everywhere is T at every quadrature point to round-off (the basis
    # functions sum to 1): the same Newton iterates, so the voltage agrees to 1e-12 V.
    np.testing.assert_allclose(field.voltage_V, constant.voltage_V, rtol=0.0, atol=1e-12)


@pytest.mark.mpi
def test_temperature_field_gives_the_local_arrhenius_exchange_current():
    parameters = chen2020()
    length = parameters.negative.thickness_m + parameters.separator.thickness_m
    length += parameters.positive.thickness_m

    def temperature(x):
        # 298.15 K at x = 0 rising linearly to 318.15 K at the positive collector.
        return 298.15 + 20.0 * x[0] / length

    model = DFN(parameters, RESOLUTION, MPI.COMM_WORLD, temperature_K=temperature)
    space = fem.functionspace(model.mesh, ("Lagrange", 1))
    owned = space.dofmap.index_map.size_local
    j0 = model.nodal_fields(space)["exchange_current_density_A_m2"][:owned]
    x = space.tabulate_dof_coordinates()[:owned, 0]
    c_e = parameters.electrolyte.initial_concentration_mol_m3
    checked = 0
    for electrode, inside in (
        (parameters.negative, x <= parameters.negative.thickness_m),
        (parameters.positive, x >= length - parameters.positive.thickness_m),
    ):
        c_s, c_max = electrode.initial_concentration_mol_m3, electrode.max_concentration_mol_m3
        for position, value in zip(x[inside], j0[inside], strict=True):
            local_temperature = temperature(np.array([[position]]))[0]
            # Closed form: j0 = k exp(E_a/R (1/T_ref - 1/T(x))) sqrt(c_e) R(c_s) R(c_max - c_s)
            # at the uniform initial state, R(y) = sqrt(c_max) (y / c_max) ((y / c_max)^2 +
            # 1e-6)^(-1/4) the regularised square root (forms/exchange_current.py).
            filled, empty = c_s / c_max, 1.0 - c_s / c_max
            expected = (
                electrode.exchange_current_rate_constant
                * math.exp(
                    electrode.exchange_current_activation_energy_J_mol
                    / GAS_CONSTANT
                    * (1.0 / electrode.reference_temperature_K - 1.0 / local_temperature)
                )
                * math.sqrt(c_e)
                * math.sqrt(c_max)
                * filled
                * (filled**2 + 1e-6) ** -0.25
                * math.sqrt(c_max)
                * empty
                * (empty**2 + 1e-6) ** -0.25
            )
            # Evaluated at the node from the same UFL expression: round-off, 1e-12 relative.
            assert value == pytest.approx(expected, rel=1e-12)
            checked += 1
    # Every node of both electrodes was checked (owned nodes, all ranks together).
    nodes = (RESOLUTION.negative_cells + 1) + (RESOLUTION.positive_cells + 1)
    assert model.comm.allreduce(checked, op=MPI.SUM) == nodes


def test_temperature_on_another_mesh_or_not_positive_is_refused():
    from electrolyx.temperature import temperature_coefficient

    model = DFN(chen2020(), RESOLUTION, MPI.COMM_SELF)
    other = DFN(chen2020(), RESOLUTION, MPI.COMM_SELF)
    with pytest.raises(ValueError, match="cell mesh"):
        temperature_coefficient(model.mesh, other.temperature)
    with pytest.raises(ValueError, match="allowed > 0"):
        temperature_coefficient(model.mesh, -1.0)
