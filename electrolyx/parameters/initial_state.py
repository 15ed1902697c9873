"""The initial state of a cell from a state of charge or an open-circuit voltage.

A parameter set stores one initial state (its particle concentrations). Any other state at rest
follows from the cell's balance of cyclable lithium, as in PyBaMM's electrode state-of-health
calculation (Mohtat et al., J. Electrochem. Soc. 166 (2019) A3585; PyBaMM's
``set_initial_state``). With the electrode capacities in moles of lithium

    n_k = eps_s,k L_k A c_max,k                        (k = negative, positive)

and the lithium in the particles of the stored state

    n_Li = x_init n_n + y_init n_p,

every state at rest lies on the line x n_n + y n_p = n_Li of the negative and positive
stoichiometries x and y. Its two ends are where the open-circuit voltage reaches the set's
cut-offs:

    U_p(y_100) - U_n(x_100) = V_max,       U_p(y_0) - U_n(x_0) = V_min,

and a state of charge s in [0, 1] is the point x = x_0 + s (x_100 - x_0),
y = y_0 - s (y_0 - y_100) between them. An initial voltage V is the s at which
U_p(y) - U_n(x) = V. A half cell (positive electrode against lithium metal, U_n = 0) has
U_p(y_100) = V_max and U_p(y_0) = V_min (or the end of the stoichiometry range, 1e-6 inside it,
where U_p does not reach a cut-off there). The open-circuit potentials are the set's at its
reference temperature (PyBaMM: the same). A BPX file gives the window itself (its minimum and
maximum stoichiometries): :attr:`CellParameters.stoichiometry_window` then replaces the
lithium balance.

Each equation is one monotone scalar equation, solved by bisection to 1e-14 in stoichiometry.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .base import CellParameters, StoichiometryWindow

__all__ = ["StoichiometryWindow", "stoichiometry_window", "with_initial_state"]

#: Bisection stops when the bracket of the stoichiometry is this narrow.
_TOLERANCE = 1e-14
#: Nearest a half cell's window comes to an empty or full positive electrode [-].
_HALF_CELL_MARGIN = 1e-6


class InitialStateError(ValueError):
    """An initial state the cell cannot reach at rest (the message names the value)."""


def _bisect(function, low: float, high: float) -> float:
    """The root of ``function`` (of opposite signs at the ends) in [low, high]."""
    f_low, f_high = function(low), function(high)
    if f_low * f_high > 0.0:
        # A root at an end (a voltage equal to a cut-off) may round to either sign.
        if min(abs(f_low), abs(f_high)) < 1e-12:
            return low if abs(f_low) < abs(f_high) else high
        raise InitialStateError("no root in the bracket")
    while high - low > _TOLERANCE:
        middle = 0.5 * (low + high)
        f_middle = function(middle)
        if (f_middle > 0.0) == (f_low > 0.0):
            low, f_low = middle, f_middle
        else:
            high = middle
    return 0.5 * (low + high)


def _ocp(electrode, stoichiometry: float) -> float:
    """The electrode's open-circuit potential at its reference temperature [V]."""
    return float(electrode.reference_open_circuit_potential(np.float64(stoichiometry), np))


def _electrode_moles(electrode, area_m2: float) -> float:
    return (
        electrode.active_material_volume_fraction
        * electrode.thickness_m
        * area_m2
        * electrode.max_concentration_mol_m3
    )


def stoichiometry_window(cell: CellParameters, half_cell: bool = False) -> StoichiometryWindow:
    """The stoichiometries of ``cell`` at its two voltage cut-offs, at rest.

    Raises:
        InitialStateError: when the cell's lithium cannot reach a cut-off at rest.
    """
    if cell.stoichiometry_window is not None:
        return cell.stoichiometry_window
    negative, positive = cell.negative, cell.positive

    def positive_potential(y):
        return _ocp(positive, y)

    def negative_potential(x):
        return _ocp(negative, x)

    if half_cell:
        # U_p falls as y rises; where it never reaches a cut-off inside the stoichiometry range
        # (Chen2020's NMC811 stays above 3.49 V), the window ends at that range's end.
        low, high = _HALF_CELL_MARGIN, 1.0 - _HALF_CELL_MARGIN
        ends = []
        for voltage in (cell.lower_voltage_cutoff_V, cell.upper_voltage_cutoff_V):
            if positive_potential(high) > voltage:
                ends.append(high)
            elif positive_potential(low) < voltage:
                ends.append(low)
            else:
                ends.append(_bisect(lambda y, v=voltage: positive_potential(y) - v, low, high))
        return StoichiometryWindow(0.0, 0.0, ends[0], ends[1])

    n_negative = _electrode_moles(negative, cell.electrode_area_m2)
    n_positive = _electrode_moles(positive, cell.electrode_area_m2)
    lithium = (
        negative.initial_concentration_mol_m3 / negative.max_concentration_mol_m3 * n_negative
        + positive.initial_concentration_mol_m3 / positive.max_concentration_mol_m3 * n_positive
    )

    def positive_of(x: float) -> float:
        return (lithium - x * n_negative) / n_positive

    # x such that both x and y = positive_of(x) lie in (0, 1).
    low = max(1e-9, (lithium - (1.0 - 1e-9) * n_positive) / n_negative)
    high = min(1.0 - 1e-9, (lithium - 1e-9 * n_positive) / n_negative)
    ends = []
    for voltage in (cell.lower_voltage_cutoff_V, cell.upper_voltage_cutoff_V):
        try:
            x = _bisect(
                lambda x, v=voltage: positive_potential(positive_of(x)) - negative_potential(x) - v,
                low,
                high,
            )
        except InitialStateError:
            raise InitialStateError(
                f"{cell.name}: the open-circuit voltage does not reach {voltage} V at rest with "
                "the set's cyclable lithium"
            ) from None
        ends.append((x, positive_of(x)))
    (x_0, y_0), (x_100, y_100) = ends
    return StoichiometryWindow(x_0, x_100, y_0, y_100)


def with_initial_state(
    cell: CellParameters,
    state_of_charge: float | None = None,
    voltage_V: float | None = None,
    half_cell: bool = False,
) -> CellParameters:
    """``cell`` at rest at ``state_of_charge`` (0 to 1) or open-circuit ``voltage_V``.

    Raises:
        InitialStateError: a value outside [0, 1] or outside the cut-off window.
    """
    if (state_of_charge is None) == (voltage_V is None):
        raise InitialStateError("give exactly one of a state of charge and a voltage")
    window = stoichiometry_window(cell, half_cell)
    if voltage_V is not None:
        low, high = cell.lower_voltage_cutoff_V, cell.upper_voltage_cutoff_V
        if not low <= voltage_V <= high:
            raise InitialStateError(
                f"initial voltage {voltage_V} V is outside the set's cut-offs [{low}, {high}] V"
            )

        def open_circuit_voltage(s: float) -> float:
            x, y = window.at(s)
            u_p = _ocp(cell.positive, y)
            return u_p if half_cell else u_p - _ocp(cell.negative, x)

        state_of_charge = _bisect(lambda s: open_circuit_voltage(s) - voltage_V, 0.0, 1.0)
    if not 0.0 <= state_of_charge <= 1.0:
        raise InitialStateError(f"initial state of charge {state_of_charge} is not in [0, 1]")
    x, y = window.at(state_of_charge)
    positive = replace(
        cell.positive, initial_concentration_mol_m3=y * cell.positive.max_concentration_mol_m3
    )
    if half_cell:
        return replace(cell, positive=positive)
    negative = replace(
        cell.negative, initial_concentration_mol_m3=x * cell.negative.max_concentration_mol_m3
    )
    return replace(cell, negative=negative, positive=positive)
