"""Which particles of a packing conduct electrons to the current collector."""

from __future__ import annotations

import numpy as np

from ...meshes.packing import Packing

__all__ = ["particles_connected_to_collector"]


def particles_connected_to_collector(packing: Packing) -> np.ndarray:
    """Which particles a chain of overlapping particles links to the collector face x = 0.

    Args:
        packing: The particles (a particle cut by x = 0 touches the collector).

    Returns:
        One boolean per particle.
    """
    centres, radii = packing.centres, packing.radii
    distance = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=2)
    overlapping = distance < radii[:, None] + radii[None, :]
    connected = centres[:, 0] - radii < 0.0
    while True:
        grown = connected | overlapping[connected].any(axis=0)
        if np.array_equal(grown, connected):
            return connected
        connected = grown
