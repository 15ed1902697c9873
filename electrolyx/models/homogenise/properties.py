"""Output layer of homogenisation: the effective properties of a microstructure."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["DirectionalTransport", "EffectiveProperties"]


@dataclass
class DirectionalTransport:
    """Effective diffusion of the pore phase along one axis.

    Attributes:
        direction: "x", "y" or "z".
        relative_effective_diffusivity: D_eff / D [-].
        tortuosity_factor: tau = eps D / D_eff [-] (inf if the pore phase does not percolate).
        bruggeman_exponent: b with tau = eps^(1 - b) [-] (nan for eps = 1).
        flux_mismatch: |Q_in - Q_out| / Q of the consistent fluxes: the linear-solver error (0
            without a pore path between the faces).
        linear_iterations: Iterations of the linear solver.
    """

    direction: str
    relative_effective_diffusivity: float
    tortuosity_factor: float
    bruggeman_exponent: float
    flux_mismatch: float
    linear_iterations: int


@dataclass
class EffectiveProperties:
    """Homogenised parameters of a microstructure (see the module docstring).

    Attributes:
        dimension: 2 or 3.
        box_lower: Lower corner of the box [m].
        box_upper: Upper corner of the box [m].
        volume: |box| [m^d].
        pore_volume: |pore| [m^d].
        interface_area: |pore/solid interface| [m^(d-1)].
        porosity: eps [-].
        specific_surface_area: a_s [1/m].
        directions: Transport along each computed axis.
        pore_unknowns: Global number of unknowns of the cell problem.
    """

    dimension: int
    box_lower: list[float]
    box_upper: list[float]
    volume: float
    pore_volume: float
    interface_area: float
    porosity: float
    specific_surface_area: float
    directions: dict[str, DirectionalTransport] = field(default_factory=dict)
    pore_unknowns: int = 0

    @property
    def bruggeman_exponent(self) -> float:
        """The exponent a 1D DFN uses: through-plane (x) if computed, else the mean of those."""
        if "x" in self.directions:
            return self.directions["x"].bruggeman_exponent
        return float(np.mean([d.bruggeman_exponent for d in self.directions.values()]))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (infinite or undefined values as null)."""
        out = asdict(self)
        out["bruggeman_exponent"] = self.bruggeman_exponent
        return _finite_or_none(out)


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
