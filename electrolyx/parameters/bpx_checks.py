"""Checks of a converted BPX cell: positive sizes, ordered windows, finite functions where used."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .base import (
    CellParameters,
)
from .bpx_validation import BPXError


def _positive_numbers(source: str, values: dict[str, float]) -> list[str]:
    """Problems of the values that must be finite and positive, by key."""
    return [
        f"  {key} = {value!r}: expected a positive number"
        for key, value in values.items()
        if not (math.isfinite(value) and value > 0.0)
    ]


def _check_values(cell: CellParameters, p: Any, source: str) -> None:
    """Refuse sizes that are not positive and functions that are not finite where used.

    First the numbers: sizes, concentrations, temperatures and the cell's capacity must be
    positive, the cut-offs ordered, each stoichiometry window inside [0, 1]. Then every function
    is evaluated on 101 points: electrode functions over the stoichiometry window, electrolyte
    functions from 0.1 to 2 times the initial concentration; they must be finite there, and
    diffusivities and conductivities positive at the initial state.

    Raises:
        BPXError: naming each offending key, its value and what is allowed.
    """
    key = "Parameterisation"
    numbers = {
        f"{key} / Cell / Electrode area [m2]": cell.electrode_area_m2,
        f"{key} / Cell / Nominal cell capacity [A.h]": cell.nominal_capacity_Ah,
        f"{key} / Cell / Reference temperature [K]": cell.reference_temperature_K,
        f"{key} / Separator / Thickness [m]": cell.separator.thickness_m,
        "State / Initial conditions / Initial electrolyte concentration [mol.m-3]": (
            cell.electrolyte.initial_concentration_mol_m3
        ),
        "State / Thermal environment / Ambient temperature [K]": cell.ambient_temperature_K,
    }
    electrodes = (
        ("Negative electrode", cell.negative, p.negative_electrode),
        ("Positive electrode", cell.positive, p.positive_electrode),
    )
    problems = []
    if not cell.lower_voltage_cutoff_V < cell.upper_voltage_cutoff_V:
        problems.append(
            f"  {key} / Cell / Lower voltage cut-off [V] = {cell.lower_voltage_cutoff_V!r}: must "
            f"be below the upper cut-off ({cell.upper_voltage_cutoff_V!r} V)"
        )
    windows = {}
    for name, electrode, raw in electrodes:
        where = f"{key} / {name}"
        numbers.update(
            {
                f"{where} / Thickness [m]": electrode.thickness_m,
                f"{where} / Particle radius [m]": electrode.particle_radius_m,
                f"{where} / Maximum concentration [mol.m-3]": electrode.max_concentration_mol_m3,
                f"{where} / Conductivity [S.m-1]": electrode.conductivity_S_m,
                f"{where} / Surface area per unit volume [m-1]": float(
                    raw.surface_area_per_unit_volume
                ),
            }
        )
        low, high = float(raw.minimum_stoichiometry), float(raw.maximum_stoichiometry)
        if not 0.0 <= low < high <= 1.0:
            problems.append(
                f"  {where} / Minimum stoichiometry = {low!r}, Maximum stoichiometry = {high!r}: "
                "need 0 <= minimum < maximum <= 1"
            )
        windows[name] = np.linspace(low, high, 101)
    problems = _positive_numbers(source, numbers) + problems
    if problems:  # the functions below divide by these numbers
        raise BPXError(f"{source}: invalid BPX file:\n" + "\n".join(problems))

    for name, electrode, _ in electrodes:
        where = f"{key} / {name}"
        x = windows[name]
        c_max = electrode.max_concentration_mol_m3
        functions = {
            f"{where} / OCP [V]": lambda x=x, e=electrode: e.reference_open_circuit_potential(
                x, np
            ),
            f"{where} / Diffusivity [m2.s-1]": (
                lambda x=x, e=electrode, c=c_max: e.particle_diffusivity(x * c)
            ),
        }
        if electrode.entropic_change is not None:
            functions[f"{where} / Entropic change coefficient [V.K-1]"] = lambda x=x, e=electrode: (
                e.entropic_change(x, np)
            )
        problems += _finite_values(functions, "x", x)
        initial = _evaluate(
            lambda e=electrode: e.particle_diffusivity(e.initial_concentration_mol_m3), 1
        )
        if np.all(np.isfinite(initial)) and not np.all(initial > 0.0):
            problems.append(
                f"  {where} / Diffusivity [m2.s-1] = {float(initial[0])!r} at the initial "
                "stoichiometry: expected a positive number"
            )
    c_e = np.linspace(0.1, 2.0, 101) * cell.electrolyte.initial_concentration_mol_m3
    where = f"{key} / Electrolyte"
    electrolyte = cell.electrolyte
    problems += _finite_values(
        {
            f"{where} / Diffusivity [m2.s-1]": lambda: electrolyte.diffusivity(c_e),
            f"{where} / Conductivity [S.m-1]": lambda: electrolyte.conductivity(c_e),
        },
        "c_e [mol.m-3]",
        c_e,
    )
    for name, label in (
        ("diffusivity", "Diffusivity [m2.s-1]"),
        ("conductivity", "Conductivity [S.m-1]"),
    ):
        function = getattr(electrolyte, name)
        value = _evaluate(lambda f=function: f(electrolyte.initial_concentration_mol_m3), 1)
        if np.all(np.isfinite(value)) and not np.all(value > 0.0):
            problems.append(
                f"  {where} / {label} = {float(value[0])!r} at the initial concentration: "
                "expected a positive number"
            )
    if problems:
        raise BPXError(f"{source}: invalid BPX file:\n" + "\n".join(problems))


def _evaluate(function: Callable[[], Any], size: int) -> np.ndarray:
    """``function()`` as ``size`` floats; NaN where the arithmetic fails (1/0 of Python floats)."""
    with np.errstate(all="ignore"):
        try:
            values = np.asarray(function(), dtype=float)
        except (ZeroDivisionError, OverflowError, ValueError, FloatingPointError, TypeError):
            return np.full(size, np.nan)
    if values.size not in (1, size):
        return np.full(size, np.nan)
    return np.broadcast_to(values.reshape(-1), (size,))


def _finite_values(functions: dict[str, Callable[[], Any]], name: str, grid) -> list[str]:
    """Problems of the functions that are not finite on ``grid`` (the first point shown)."""
    problems = []
    for key, function in functions.items():
        values = _evaluate(function, grid.size)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            i = bad[0]
            problems.append(
                f"  {key}: {float(values[i])!r} at {name} = {grid[i]:.6g} (expected finite values "
                f"for {name} from {grid[0]:.6g} to {grid[-1]:.6g}: a division by zero or an "
                "overflow there)"
            )
    return problems
