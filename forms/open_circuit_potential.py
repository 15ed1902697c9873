"""Open-circuit potential of an insertion electrode with its entropic (reversible heat) term.

    U(x, T) = U_ref(x) + (T - T_ref) dU/dT(x),

with x = c_s,surf / c_s,max the surface stoichiometry, U_ref the potential measured at the
reference temperature T_ref and dU/dT the entropic change [V/K] (T dS/F per mole of lithium; 0
when the set gives none). The same dU/dT gives the reversible heat a_s j T dU/dT of a thermal
model.
"""

from __future__ import annotations

__all__ = ["open_circuit_potential"]


def open_circuit_potential(
    reference_potential, entropic_change, temperature, reference_temperature
):
    """U = U_ref + (T - T_ref) dU/dT [V].

    Args:
        reference_potential: U_ref(x) at T_ref [V] (number, array or UFL expression).
        entropic_change: dU/dT(x) [V/K] (0 when the material has no entropic data).
        temperature: T [K].
        reference_temperature: T_ref [K].
    """
    if isinstance(entropic_change, float | int) and entropic_change == 0:
        return reference_potential
    return reference_potential + (temperature - reference_temperature) * entropic_change
