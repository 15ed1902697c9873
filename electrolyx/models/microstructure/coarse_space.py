"""The half cell's coarse space: each particle's lithium and potential, the pores' profiles in x.

The field split's symmetric block Gauss-Seidel sweep with one multigrid cycle per field damps
slowly the modes that couple the phases over long distances: a particle's mean potential and
lithium content against its neighbours' (they meet through narrow sintered necks and through
the electrolyte) and the through-thickness profiles of the electrolyte's potential and salt
(the electrode's "transmission line"). Its GMRES iterations per linear solve grew with the
electrode's length, not with the number of unknowns: 27 at 24 um (139 k unknowns), 60 at 48 um
(251 k), 34 at 24 um with a 24 x 24 um section (303 k) (bench/README.md, "A coarse space of
the particles"). A Galerkin coarse correction on these modes
(:class:`electrolyx.coarse_correction.GalerkinCoarseCorrection`) before the sweep removes
them:

- c_s and psi: one indicator per particle (the dofs nearest to that sphere's surface,
  |x - c_p| - r_p smallest), without the collector contact's Dirichlet rows;
- c_e and phi_e: piecewise-linear hats in x, ``slabs`` + 1 nodes from the collector to the
  counter electrode;
- V: its one dof.
"""

from __future__ import annotations

from mpi4py import MPI

import numpy as np

from ...coarse_correction import coarse_columns
from ...meshes.packing import Packing
from .unknown_fields import _SOLID, _VOLTAGE, FIELDS

__all__ = ["particle_coarse_space"]

#: Through-thickness slabs of the electrolyte's hats (GMRES per solve on the 48 um box: 19.0
#: with 16; bench/README.md).
SLABS = 16
#: Dofs per chunk of the nearest-particle search (its differences: 4096 x particles x 3 values,
#: 20 MB at 201 particles).
_CHUNK = 4096


def _nearest_particle(points: np.ndarray, packing: Packing) -> np.ndarray:
    """Index of the particle whose surface is nearest to each point (|x - c| - r smallest)."""
    dim = packing.dim
    owner = np.empty(len(points), dtype=np.int64)
    for start in range(0, len(points), _CHUNK):
        chunk = points[start : start + _CHUNK, :dim]
        distance = np.linalg.norm(chunk[:, None, :] - packing.centres[None, :, :], axis=2)
        owner[start : start + len(chunk)] = np.argmin(distance - packing.radii[None, :], axis=1)
    return owner


def particle_coarse_space(cell, packing: Packing, slabs: int = SLABS) -> list:
    """Z of :class:`ResolvedHalfCell`'s five fields (one sparse matrix each, see the module).

    Columns without any row (hats beyond a phase, particles outside the mesh) are left out.
    """
    comm = cell.comm
    x = cell.mesh.geometry.x[:, 0]
    nodes = np.linspace(
        comm.allreduce(x.min(), op=MPI.MIN), comm.allreduce(x.max(), op=MPI.MAX), slabs + 1
    )
    contact = np.zeros(cell.spaces[_SOLID].dofmap.index_map.size_local, dtype=bool)
    contact[cell._contact_owned] = True
    parts = []  # per field: (columns, values), columns counted from the field's first mode
    widths = []
    for field, space in enumerate(cell.spaces):
        owned = space.dofmap.index_map.size_local
        points = space.tabulate_dof_coordinates()[:owned]
        if FIELDS[field].startswith("electrolyte_"):
            left = np.clip(np.searchsorted(nodes, points[:, 0], side="right") - 1, 0, slabs - 1)
            t = (points[:, 0] - nodes[left]) / (nodes[left + 1] - nodes[left])
            parts.append((np.stack([left, left + 1], axis=1), np.stack([1.0 - t, t], axis=1)))
            widths.append(slabs + 1)
        elif field != _VOLTAGE:  # the particles' concentration and potential
            values = np.ones(owned)
            if field == _SOLID:
                values[contact] = 0.0  # psi's Dirichlet rows
            parts.append((_nearest_particle(points, packing)[:, None], values[:, None]))
            widths.append(len(packing.radii))
        else:  # V: its one dof, on one rank
            parts.append((np.zeros((owned, 1), dtype=np.int64), np.ones((owned, 1))))
            widths.append(1)
    # Global mode numbers, keeping only the modes some row has.
    offsets = np.concatenate([[0], np.cumsum(widths)])
    support = np.zeros(offsets[-1], dtype=np.int64)
    for (columns, values), offset in zip(parts, offsets, strict=False):
        np.add.at(support, columns[values != 0.0] + offset, 1)
    support = comm.allreduce(support)
    kept = support > 0
    number = np.cumsum(kept) - 1
    width = int(kept.sum())
    return [
        coarse_columns(comm, number[columns + offset], values, width)
        for (columns, values), offset in zip(parts, offsets, strict=False)
    ]
