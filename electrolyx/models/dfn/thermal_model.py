"""The thermal model of a DFN cell as the user chooses it: model, cooling, ambient schedule.

The settings of :mod:`electrolyx.models.dfn.thermal` (``[thermal]`` of a case): which model
(:data:`THERMAL_MODELS`), the cooling of each named boundary (:data:`BOUNDARIES`) and an
ambient temperature that may follow a schedule (:class:`AmbientSchedule`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import NEGATIVE_COLLECTOR, NEGATIVE_TAB, POSITIVE_COLLECTOR, POSITIVE_TAB

__all__ = [
    "BOUNDARIES",
    "EDGES",
    "THERMAL_MODELS",
    "AmbientSchedule",
    "BoundaryCooling",
    "ThermalModel",
]

#: The thermal models of ``[thermal] model``.
THERMAL_MODELS = ("isothermal", "lumped", "x-full", "2d", "3d")

#: Facet group of every outer face not named otherwise (2D/3D): the rim, the tabs' sides.
EDGES = "edges"

#: Named cooled boundaries of each distributed model (tab end faces only where there are tabs).
BOUNDARIES = {
    "x-full": (NEGATIVE_COLLECTOR, POSITIVE_COLLECTOR),
    "2d": (NEGATIVE_COLLECTOR, POSITIVE_COLLECTOR, NEGATIVE_TAB, POSITIVE_TAB, EDGES),
    "3d": (NEGATIVE_COLLECTOR, POSITIVE_COLLECTOR, NEGATIVE_TAB, POSITIVE_TAB, EDGES),
}


@dataclass(frozen=True)
class AmbientSchedule:
    """An ambient temperature that follows time: linear between (t_k, T_k), held outside.

    Attributes:
        times_s: Strictly increasing times [s].
        temperatures_K: The ambient temperature at each time [K] (> 0).
    """

    times_s: tuple[float, ...]
    temperatures_K: tuple[float, ...]

    def __post_init__(self):
        times, temperatures = self.times_s, self.temperatures_K
        if not times or len(times) != len(temperatures):
            raise ValueError("an ambient schedule needs one temperature per time, at least one")
        if any(not b > a for a, b in zip(times, times[1:], strict=False)):
            raise ValueError(f"ambient schedule times {list(times)}: allowed strictly increasing")
        if any(not value > 0.0 for value in temperatures):
            raise ValueError(f"ambient schedule temperatures {list(temperatures)}: allowed > 0")

    @classmethod
    def from_pairs(cls, pairs) -> AmbientSchedule:
        """From ``[(t [s], T [K]), ...]``."""
        return cls(tuple(float(t) for t, _ in pairs), tuple(float(T) for _, T in pairs))

    def __call__(self, time_s: float) -> float:
        """T_amb(t) [K]."""
        return float(np.interp(time_s, self.times_s, self.temperatures_K))


def _ambient_at(ambient, time_s: float) -> float:
    """A number, or a schedule's value at ``time_s``."""
    return ambient(time_s) if isinstance(ambient, AmbientSchedule) else float(ambient)


@dataclass(frozen=True)
class BoundaryCooling:
    """Cooling of one named boundary: q = h (T - T_amb) [W/m2] leaves through it.

    Attributes:
        heat_transfer_coefficient_W_m2_K: h (None: the model's).
        ambient_temperature_K: T_amb, a number or an :class:`AmbientSchedule` (None: the
            model's).
    """

    heat_transfer_coefficient_W_m2_K: float | None = None
    ambient_temperature_K: float | AmbientSchedule | None = None

    def __post_init__(self):
        h = self.heat_transfer_coefficient_W_m2_K
        if h is not None and not h >= 0.0:
            raise ValueError(f"heat transfer coefficient {h!r}: allowed >= 0")
        ambient = self.ambient_temperature_K
        if isinstance(ambient, int | float) and not ambient > 0.0:
            raise ValueError(f"ambient temperature {ambient!r}: allowed > 0")


@dataclass(frozen=True)
class ThermalModel:
    """The thermal model of a DFN cell.

    Attributes:
        model: One of :data:`THERMAL_MODELS`.
        ambient_temperature_K: T_amb of the cooling, a number or an :class:`AmbientSchedule`
            (None: the set's ambient temperature).
        initial_temperature_K: T at t = 0 (None: the set's "Initial temperature [K]", else
            the ambient temperature at t = 0).
        heat_transfer_coefficient_W_m2_K: h of every cooled boundary (None: the set's
            "Total heat transfer coefficient [W.m-2.K-1]").
        boundaries: Boundary name (:data:`BOUNDARIES`) -> its own :class:`BoundaryCooling`
            (x-full, 2d, 3d).
    """

    model: str = "isothermal"
    ambient_temperature_K: float | AmbientSchedule | None = None
    initial_temperature_K: float | None = None
    heat_transfer_coefficient_W_m2_K: float | None = None
    boundaries: tuple[tuple[str, BoundaryCooling], ...] = ()

    def __post_init__(self):
        if self.model not in THERMAL_MODELS:
            raise ValueError(f"thermal model {self.model!r}: allowed {', '.join(THERMAL_MODELS)}")
        for name in ("ambient_temperature_K", "initial_temperature_K"):
            value = getattr(self, name)
            if isinstance(value, int | float) and not value > 0.0:
                raise ValueError(f"thermal {name} = {value!r}: allowed > 0")
        h = self.heat_transfer_coefficient_W_m2_K
        if h is not None and not h >= 0.0:
            raise ValueError(f"thermal heat_transfer_coefficient_W_m2_K = {h!r}: allowed >= 0")
        boundaries = tuple(dict(self.boundaries).items())
        object.__setattr__(self, "boundaries", boundaries)
        allowed = BOUNDARIES.get(self.model, ())
        for name, _ in boundaries:
            if name not in allowed:
                raise ValueError(
                    f"thermal boundary {name!r} of model {self.model!r}: allowed "
                    + (", ".join(allowed) if allowed else "none (one cooling for the cell)")
                )

    @property
    def active(self) -> bool:
        """Whether the temperature is an unknown."""
        return self.model != "isothermal"
