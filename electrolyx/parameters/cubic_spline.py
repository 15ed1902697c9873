"""Cubic-spline interpolation of a table, the same in numpy and UFL.

The spline through (x_k, y_k) with not-a-knot ends (scipy's ``CubicSpline``, the "cubic"
interpolant of PyBaMM's tabulated sets), extrapolated by its end pieces. In UFL each interval's
cubic p_k(x) = y_k + b_k d + c_k d^2 + e_k d^3 (d = x - x_k) is picked by a balanced tree of
conditionals on x, so an evaluation compares log2(n) times and the pieces never cancel each
other in round-off.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import ufl

__all__ = ["CubicSplineTable"]


class CubicSplineTable:
    """Not-a-knot cubic spline through a table (x_k, y_k), callable with numpy or UFL.

    Args:
        x: Increasing abscissae (at least 4).
        y: Values at ``x``.
        key: What the table is, quoted in error messages.
    """

    def __init__(self, x: Sequence[float], y: Sequence[float], key: str):
        self.key = key
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=float)
        if self.x.ndim != 1 or self.x.shape != self.y.shape or self.x.size < 4:
            raise ValueError(f"{key}: a cubic spline needs x and y of the same length >= 4")
        if np.any(np.diff(self.x) <= 0) or not np.all(np.isfinite(self.y)):
            raise ValueError(f"{key}: x must increase and y be finite")
        from scipy.interpolate import CubicSpline  # 0.6 s to import: only when a set uses a table

        self.spline = CubicSpline(self.x, self.y)
        #: coefficients (e_k, c_k, b_k, y_k) of each interval's cubic in d = x - x_k
        self.coefficients = self.spline.c

    def _piece(self, k: int, value):
        e, c, b, a = (float(v) for v in self.coefficients[:, k])
        d = value - float(self.x[k])
        return a + d * (b + d * (c + d * e))

    def _tree(self, value, first: int, last: int):
        if first == last:
            return self._piece(first, value)
        middle = (first + last + 1) // 2
        return ufl.conditional(
            ufl.lt(value, float(self.x[middle])),
            self._tree(value, first, middle - 1),
            self._tree(value, middle, last),
        )

    def __call__(self, value: Any, mod: Any = np) -> Any:
        """The spline at ``value`` (numpy array/float, or a UFL expression with mod=ufl)."""
        if mod is np:
            return self.spline(np.asarray(value, dtype=float))
        return self._tree(value, 0, self.x.size - 2)

    def __repr__(self) -> str:
        return f"CubicSplineTable({self.x.size} points, key={self.key!r})"
