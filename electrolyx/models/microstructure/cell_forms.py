"""The resolved half cell's residual: one block per law, and the forms of its integral quantities.

:class:`HalfCellForms` is the part of
:class:`~electrolyx.models.microstructure.cell.ResolvedHalfCell` that writes the laws of the
module docstring of :mod:`.cell` as UFL blocks (``residual_blocks``) and the diagnostic forms.
"""

from __future__ import annotations

import numpy as np
import ufl
from dolfinx import fem

from ...constants import FARADAY
from ...constants import thermal_voltage as thermal_voltage_at
from ...forms import ufl_math
from ...forms.electrolyte_conduction import (
    electrolyte_charge_conservation_residual,
    electrolyte_current_density,
)
from ...forms.electrolyte_diffusion import electrolyte_diffusion_residual, electrolyte_salt_flux
from ...forms.kinetics import Kinetics
from ...forms.reactions import (
    DoubleLayer,
    Intercalation,
    Interface,
    LithiumMetal,
    interfacial_balance,
)
from ...forms.solid_conduction import solid_charge_conservation_residual, solid_current_density
from ...forms.solid_diffusion import solid_diffusion_residual
from .unknown_fields import (
    _COUNTER,
    _ELECTROLYTE,
    _INTERFACE,
    _PARTICLES,
    _SOLID,
    _VOLTAGE,
    FIELDS,
)


class HalfCellForms:
    """Residual blocks and diagnostic forms of :class:`ResolvedHalfCell`."""

    def _physical(self, i, functions=None):
        """Value of field i [SI] as UFL; i = 3: phi_s = V + psi."""
        functions = self.u if functions is None else functions
        if i == _SOLID:
            return self.scales[i] * (functions[_SOLID] + functions[_VOLTAGE])
        return self.scales[i] * functions[i]

    def _rate(self, i):
        """d/dt of field i's value as UFL (i = 3: of phi_s = V + psi)."""
        if i == _SOLID:
            rates = self.time_derivative.functions
            return self.scales[i] * (rates[_SOLID] + rates[_VOLTAGE])
        return self.time_derivative.rate(FIELDS[i])

    def _forms(self) -> None:
        mesh, ep = self.mesh, self.electrode
        electrolyte = self.parameters.electrolyte
        dx, ds, dS = self.dx, self.ds, self.dS
        # The interface current the galvanostatic row asks for, spread over the particle
        # surfaces: I_app / (depth A_interface) [A/m2].
        self.applied_current_density = fem.Constant(mesh, 0.0)
        temperature = self.temperature
        thermal_voltage = thermal_voltage_at(temperature)
        v_ce, v_pe, w_cs, w_ps, r_v = ufl.TestFunctions(ufl.MixedFunctionSpace(*self.spaces))
        c_e, phi_e = self._physical(0), self._physical(1)
        c_s, phi_s = self._physical(2), self._physical(3)
        transference = electrolyte.transference_number(c_e, temperature, mod=ufl_math)
        i_e = electrolyte_current_density(
            c_e,
            phi_e,
            electrolyte.conductivity(c_e, temperature, mod=ufl_math),
            transference,
            electrolyte.thermodynamic_factor(c_e, temperature, mod=ufl_math),
            thermal_voltage,
        )
        n_e = electrolyte_salt_flux(
            c_e, electrolyte.diffusivity(c_e, temperature, mod=ufl_math), transference, i_e
        )

        # The particle surface ("+") against the electrolyte ("-"): the reactions of the
        # interface, summed (intercalation, and the double layer when asked for).
        reactions = [Intercalation(ep, self.kinetics)]
        if self.double_layer and ep.double_layer_capacity_F_m2 > 0:
            reactions.append(DoubleLayer(ep.double_layer_capacity_F_m2))
        interface = interfacial_balance(
            reactions,
            Interface(
                solid_potential=phi_s("+"),
                electrolyte_potential=phi_e("-"),
                electrolyte_concentration=c_e("-"),
                temperature=temperature,
                particle_surface_concentration=c_s("+"),
                surface_potential_difference_rate=self._rate(3)("+") - self._rate(1)("-"),
            ),
        )
        j_total = interface.current_density
        j_faradaic = interface.reactions["intercalation"].current_density
        # The lithium metal at phi = 0 (the reference) exchanges Li+ with the electrolyte.
        counter = interfacial_balance(
            [LithiumMetal(fem.Constant(mesh, self.lithium_j0), Kinetics("butler-volmer"))],
            Interface(0.0, phi_e, c_e, temperature),
        )
        j_lithium = counter.current_density

        current_scale = self.one_c_current_A / self.depth_m
        molar_scale = current_scale / FARADAY
        salt = electrolyte_diffusion_residual(
            self._rate(0),
            v_ce,
            1.0,
            n_e,
            dx(_ELECTROLYTE),
            [
                (interface.electrolyte_lithium_source, dS(_INTERFACE), "-"),
                (counter.electrolyte_lithium_source, ds(_COUNTER)),
            ],
        )
        charge = electrolyte_charge_conservation_residual(
            i_e,
            v_pe,
            dx(_ELECTROLYTE),
            [(j_total, dS(_INTERFACE), "-"), (j_lithium, ds(_COUNTER))],
        )
        solid_lithium = solid_diffusion_residual(
            c_s,
            self._rate(2),
            w_cs,
            ep.particle_diffusivity(c_s, temperature, mod=ufl_math),
            dx(_PARTICLES),
            [(interface.particle_lithium_outflux, dS(_INTERFACE), "+")],
        )
        solid_charge = solid_charge_conservation_residual(
            solid_current_density(phi_s, ep.conductivity_S_m),
            w_ps,
            dx(_PARTICLES),
            [(j_total, dS(_INTERFACE), "+")],
        )
        # The salt rows are combined with t+_0 / F times the charge rows (t+_0: the transference
        # number at the initial salt concentration): an invertible constant row operation, so
        # the solution and the Newton directions are unchanged, but the migration flux
        # t+ i_e / F leaves the salt rows (exactly so for a constant t+), which become
        # diffusion with interface sources. The c_e block of the Jacobian is then an
        # M-matrix-like diffusion operator and c_e hardly couples back to phi_e, which the
        # block preconditioner of the "iterative" solver relies on.
        transference_0 = float(
            electrolyte.transference_number(
                electrolyte.initial_concentration_mol_m3, self.temperature_K
            )
        )
        charge_as_salt = ufl.replace(charge, {v_pe: v_ce})
        # Galvanostatic control, the row of V: g = -int j dA - I_app = 0, divided by the 1C
        # current and by sqrt(N) (N unknowns), so that in Newton's line search (on the squared
        # residual norm) the current weighs like one residual row per unknown and the first
        # step from rest, where Butler-Volmer switches on, does not overshoot. Its own
        # tolerance is checked in the convergence test (:meth:`_newton_verdict`).
        unknowns = sum(V.dofmap.index_map.size_global for V in self.spaces)
        self._galvanostatic_weight = 1.0 / (current_scale * np.sqrt(unknowns))
        galvanostatic = (
            self._galvanostatic_weight
            * (-j_total - self.applied_current_density)
            * r_v("+")
            * dS(_INTERFACE)
        )
        residual = (
            (1.0 / molar_scale) * (salt + solid_lithium)
            + (1.0 / current_scale) * (charge + solid_charge - transference_0 * charge_as_salt)
            + galvanostatic
        )
        self.residual_blocks = ufl.extract_blocks(residual)

        # (compiled by _compile_diagnostics, once the integrator's views of the unknowns exist)
        self._diagnostic_integrands = {
            "interface": -j_total * dS(_INTERFACE),
            "faradaic": -j_faradaic * dS(_INTERFACE),
            "counter": j_lithium * ds(_COUNTER),
            "electrolyte": c_e * dx(_ELECTROLYTE),
            "particles": c_s * dx(_PARTICLES),
        }

    def _compile_diagnostics(self) -> None:
        """The diagnostic forms, reading the unknowns through the integrator's views.

        (As the integrator's forms do, see ``TSIntegrator(coefficients_on=...)``: no copy of
        the interface's facets per unknown; :meth:`state` refreshes the views first.)
        """
        views = self.integrator.views
        self.diagnostic_forms = {
            name: fem.form(views.replace(integrand), entity_maps=self.entity_maps)
            for name, integrand in self._diagnostic_integrands.items()
        }
        del self._diagnostic_integrands
