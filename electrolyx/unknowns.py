"""Named unknowns of a coupled problem: each field by what it is, with its scale and offset.

Models solve for scaled unknowns u (O(1) numbers, for the conditioning of Newton's method and of
the time-step error norm) and write their laws in physical values

    value = scale (u + offset)   (offset: a ``fem.Constant``, None for most fields),

so every form asks for ``unknowns["electrolyte_concentration"].value()`` and never for an
integer index. The order of :meth:`Unknowns.add` is the order of the blocks of the nonlinear
system; states (lists of arrays) follow the same order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from dolfinx import fem

__all__ = ["Unknown", "Unknowns"]


@dataclass
class Unknown:
    """One field of a coupled problem.

    Attributes:
        name: What it is (``electrolyte_concentration``, ``solid_potential_negative``, ...).
        function: The scaled unknown u.
        scale: Physical value per unit of u (SI).
        differential: Whether a time derivative of it appears (else algebraic).
        offset: Added to u before scaling (a ``fem.Constant``), or None.
    """

    name: str
    function: fem.Function
    scale: float
    differential: bool
    offset: fem.Constant | None = None

    @property
    def space(self) -> fem.FunctionSpace:
        """The function space of the unknown."""
        return self.function.function_space

    def value(self, function: fem.Function | None = None):
        """Physical value scale (u + offset) as a UFL expression (of ``function`` if given)."""
        u = self.function if function is None else function
        return self.scale * (u + self.offset) if self.offset is not None else self.scale * u

    def offset_value(self) -> float:
        """The present offset (0 without one)."""
        return 0.0 if self.offset is None else float(self.offset.value)

    def physical_array(self) -> np.ndarray:
        """Physical values at the local dofs (ghosts included)."""
        return self.scale * (self.function.x.array + self.offset_value())


class Unknowns:
    """The named unknowns of one problem, in block order."""

    def __init__(self) -> None:
        self._items: dict[str, Unknown] = {}

    def add(
        self,
        name: str,
        space: fem.FunctionSpace,
        scale: float,
        differential: bool,
        offset: fem.Constant | None = None,
    ) -> Unknown:
        """Add a field (its position is the next block)."""
        if name in self._items:
            raise ValueError(f"unknown {name!r} added twice")
        unknown = Unknown(name, fem.Function(space, name=name), scale, differential, offset)
        self._items[name] = unknown
        return unknown

    def __getitem__(self, name: str) -> Unknown:
        return self._items[name]

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[Unknown]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    @property
    def names(self) -> list[str]:
        """Names in block order."""
        return list(self._items)

    @property
    def functions(self) -> list[fem.Function]:
        """The scaled unknowns in block order (what the nonlinear problem solves for)."""
        return [u.function for u in self._items.values()]

    @property
    def spaces(self) -> list[fem.FunctionSpace]:
        """Function spaces in block order."""
        return [u.space for u in self._items.values()]

    def position(self, name: str) -> int:
        """Block position of ``name`` (for state lists)."""
        return self.names.index(name)

    @property
    def differential(self) -> list[int]:
        """Block positions of the differential unknowns."""
        return [i for i, u in enumerate(self._items.values()) if u.differential]

    def state(self) -> list[np.ndarray]:
        """Copies of the local values of every unknown, in block order."""
        return [u.function.x.array.copy() for u in self._items.values()]

    def set_state(self, state: Sequence[np.ndarray]) -> None:
        """Set every unknown from a state list."""
        for unknown, values in zip(self._items.values(), state, strict=True):
            unknown.function.x.array[:] = values

    def global_size(self) -> int:
        """Number of unknowns over all ranks."""
        return sum(
            u.space.dofmap.index_map.size_global * u.space.dofmap.index_map_bs
            for u in self._items.values()
        )
