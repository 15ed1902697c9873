"""What a run will need, known before it is spent: unknowns, memory and time per step.

An estimate, not a bound: the per-unknown figures below were measured on the runs of
``bench/README.md`` (peak resident memory of whole processes, wall time per Newton iteration on a
shared 2-core machine) and are scaled linearly with the number of unknowns. They hold for cases
like the measured ones; direct solvers fill in more than linearly in 2D/3D, iterative ones need
more iterations on harder problems, a loaded machine is slower, and small 1D cases solved by LU
run several times faster than the 3D figures say (the Gouy-Chapman case: 0.43 s estimated per
solve, about 0.1 s measured). The memory estimate is what guards a run: a case estimated beyond
the available memory is refused before its mesh is built (1D DFN) or before its forms are.

The unknowns come from the settings alone where that is cheap (the DFN: its cells and radial
points; exact in 1D, tabs left out in 2D/3D; the PNP on an interval), otherwise from the built
mesh, as
``electrolyx check`` reports them; a case estimated beyond the available memory from its
settings is refused before its mesh is built. The available
memory is MemAvailable of /proc/meminfo on each node, shared by the ranks on that node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mpi4py import MPI

__all__ = [
    "FIGURES",
    "ResourceEstimate",
    "ResourceFigures",
    "available_memory_bytes",
    "estimate",
    "unknowns_from_settings",
]


@dataclass(frozen=True)
class ResourceFigures:
    """Measured costs of one model, from bench/README.md.

    Attributes:
        bytes_per_unknown: Peak resident memory per unknown above the fixed part [B].
        bytes_per_rank: Fixed memory of one process (libraries, forms) [B].
        rank_seconds_per_unknown_iteration: Wall time of one Newton iteration per unknown,
            times the number of ranks [s].
        iterations_per_step: Newton iterations of a typical time step (or steady solve).
        source: Where the figures were measured.
    """

    bytes_per_unknown: float
    bytes_per_rank: float
    rank_seconds_per_unknown_iteration: float
    iterations_per_step: float
    source: str


_MB = 1e6

#: Per model ("dfn" in 1D, "dfn-2d3d", "pnp", "microstructure", "homogenise").
FIGURES: dict[str, ResourceFigures] = {
    # 1D Chen2020 1C: 185 MB peak for the whole process at 976 unknowns, 1.81 s for 332 Newton
    # iterations (110 steps); P3D with foils: 399 MB at 20,542 unknowns, i.e. 10.9 kB per
    # unknown above the 1D process.
    "dfn": ResourceFigures(
        10.9e3,
        185 * _MB,
        5.6e-6,
        3.0,
        "bench/README.md, DFN vs PyBaMM: 1D Chen2020 1C (976 unknowns, 185 MB, 1.81 s for 332 "
        "Newton iterations) and P3D (20,542 unknowns, 399 MB)",
    ),
    # 3D pouch, 2 ranks: 55,010 unknowns, 79 steps, 345 Newton iterations in 167 s.
    "dfn-2d3d": ResourceFigures(
        10.9e3,
        185 * _MB,
        17.6e-6,
        4.4,
        "bench/README.md: 3D pouch (55,010 unknowns, 345 Newton iterations in 167 s on 2 "
        "ranks) and P3D memory (10.9 kB per unknown)",
    ),
    # 3D nanopore, 2 ranks, GMRES + block preconditioner, whole processes, the outputs
    # included: 1968 B per unknown at 1,085,046 unknowns and 2373 at 436,437, i.e. 1.70 kB per
    # unknown + 148 MB per rank (libraries, mesh input); rounded up to 1.8 kB + 150 MB (4.9-5.5 %
    # above both, and above the 2132 and 1638 B per unknown at 224,391 and 1,085,046
    # serially). 8.31 s per Newton iteration at 1,085,046 unknowns on 2 ranks, 4 Newton
    # iterations per solve (bench/README.md, "2 kB per unknown on 2 ranks").
    "pnp": ResourceFigures(
        1.8e3,
        150 * _MB,
        15.3e-6,
        4.0,
        "bench/README.md, 2 kB per unknown on 2 ranks: 1968 and 2373 B per unknown at "
        "1,085,046 and 436,437 unknowns on 2 ranks, 8.31 s per Newton iteration at 1,085,046",
    ),
    # 1 M-unknown half cell, whole processes, the mesh read from the cache: 3714 B per unknown
    # on 2 ranks and 3194 serially at 1,011,017 unknowns, 5798 and 4008 at 138,999, i.e. at
    # most 3.4 kB per unknown + 185 MB per rank; rounded up to 3.5 kB (bench/README.md, "The
    # unknowns read through copies on the parent mesh"). With the particles' coarse space,
    # 12.8 s per Newton iteration on 2 ranks over two 300 s steps at 1,011,017 unknowns
    # (bench/README.md, "A coarse space of the particles", one run: 81.7 and 149.1 s, 8 and
    # 10 iterations; 21.5 s before it), i.e. 2 x 12.8 / 1,011,017 = 25.3 us per unknown and
    # rank; 4 to 10 iterations a 300 s step.
    "microstructure": ResourceFigures(
        3.5e3,
        185 * _MB,
        25.3e-6,
        6.0,
        "bench/README.md, microstructure 1 M-unknown half cell: 3714 B per unknown on 2 ranks "
        "(2026-12-07, later), 12.8 s per Newton iteration on 2 ranks (a coarse space of the "
        "particles)",
    ),
    # No benchmark of its own: the cell problems are linear solves with the same kind of
    # iterative solver as the PNP case, whose figures of 2026-12-05 stand in (2.62 kB per
    # unknown + 128 MB per rank, rounded up; the PNP's leaner preconditioner and run of
    # 2026-12-07 are not the cell problems').
    "homogenise": ResourceFigures(
        2.7e3,
        130 * _MB,
        12.3e-6,
        1.0,
        "bench/README.md, PNP 3D nanopore figures of 2026-12-05 (homogenise has no benchmark of "
        "its own; one linear solve per direction)",
    ),
}


@dataclass(frozen=True)
class ResourceEstimate:
    """Estimated needs of a run on ``ranks`` processes.

    Attributes:
        unknowns: Global number of unknowns.
        unknowns_from: "settings" (estimated without a mesh) or "mesh".
        ranks: MPI processes.
        memory_bytes: Peak resident memory of all processes together [B].
        seconds_per_step: Wall time of one time step (one steady solve) [s].
        figures: The figures used.
        available_bytes: MemAvailable summed over the nodes, or None where unknown.
        fits: False when some node has less available memory than its ranks need.
    """

    unknowns: int
    unknowns_from: str
    ranks: int
    memory_bytes: float
    seconds_per_step: float
    figures: ResourceFigures
    available_bytes: float | None
    fits: bool

    def lines(self) -> list[str]:
        """What ``electrolyx check`` prints."""
        how = "from the settings, no mesh built" if self.unknowns_from == "settings" else ""
        f = self.figures
        out = [
            f"unknowns: {self.unknowns}" + (f" ({how})" if how else ""),
            f"estimate on {self.ranks} rank(s): memory {_bytes(self.memory_bytes)} "
            f"({_bytes(f.bytes_per_rank)} per rank + {f.bytes_per_unknown / 1e3:.1f} kB per "
            f"unknown), time per step {_seconds(self.seconds_per_step)} "
            f"({f.iterations_per_step:g} Newton iterations of "
            f"{f.rank_seconds_per_unknown_iteration * 1e6:.1f} us per unknown and rank)",
            f"  (an estimate: figures measured on {f.source}; the real cost depends on the "
            "dimension, the solver and the load of the machine)",
        ]
        if self.available_bytes is None:
            out.append("available memory: unknown (no /proc/meminfo)")
        else:
            verdict = "fits" if self.fits else "DOES NOT FIT: `run` refuses it without --force"
            out.append(
                f"available memory: {_bytes(self.available_bytes)} (MemAvailable) - {verdict}"
            )
        return out

    def refusal(self) -> str:
        """The message of a run refused for lack of memory."""
        return (
            f"estimated memory {_bytes(self.memory_bytes)} for {self.unknowns} unknowns on "
            f"{self.ranks} rank(s) exceeds the {_bytes(self.available_bytes or 0)} available "
            "(MemAvailable of /proc/meminfo): coarsen the mesh, use more nodes, or add --force "
            f"to run anyway (figures from {self.figures.source})"
        )


def _bytes(value: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if value >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value / 1e3:.3g} kB"


def _seconds(value: float) -> str:
    if value >= 3600:
        return f"{value / 3600:.3g} h"
    if value >= 60:
        return f"{value / 60:.3g} min"
    return f"{value:.2g} s"


def available_memory_bytes() -> float | None:
    """MemAvailable of /proc/meminfo [B] (this node), or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as stream:
            for line in stream:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except (OSError, ValueError, IndexError):
        return None
    return None


def _figures_key(model: str, settings: dict[str, Any]) -> str:
    if model == "dfn":
        geometry = settings.get("geometry") or {}
        return "dfn" if geometry.get("dimension", 1) == 1 else "dfn-2d3d"
    return model if model in FIGURES else "pnp"


def unknowns_from_settings(model: str, settings: dict[str, Any]) -> int | None:
    """The number of unknowns where the settings give it without a mesh, else None.

    The DFN: c_e and phi_e on every vertex through the stack (and u = ln(c_e / c_e0) with the
    default log-concentration unknown), phi_s on the vertices of each
    electrode and its foil, c_s on each electrode vertex times its radial points (a half cell
    has no negative electrode; on PETSc TS it has the metal's dissolved lithium on the
    electrolyte's vertices), the crack length on each vertex of a cracking electrode; times the
    in-plane vertices in 2D/3D. Exact in 1D; in 2D/3D the
    tabs are left out (a few per cent: see tests/test_resources.py). The PNP on an interval:
    one potential and one log-concentration per species on each vertex, and in a transient
    study one projected concentration per species more (exact).
    """
    if model == "pnp":
        mesh = settings["mesh"]
        if mesh.get("generator") != "interval":
            return None
        solid = mesh["solid_cells"] if mesh["solid_thickness"] > 0 else 0
        species = len(settings["species"])
        transient = settings.get("study", {}).get("type") == "transient"
        return (mesh["cells"] + 1 + solid) * (1 + species + (species if transient else 0))
    if model != "dfn":
        return None
    mesh = settings["mesh"]
    geometry = settings.get("geometry") or {}
    dimension = geometry.get("dimension", 1)
    half = settings["cell"]["configuration"] == "half"
    negative = 0 if half else mesh["negative_cells"]
    separator, positive = mesh["separator_cells"], mesh["positive_cells"]
    time_stepping = settings.get("time_stepping") or {}
    electrolyte_fields = 2
    if time_stepping.get("electrolyte_unknown", "log-concentration") == "log-concentration":
        electrolyte_fields += 1  # u = ln(c_e / c_e0) besides c_e (the default)
    if half and time_stepping.get("integrator", "ts") == "ts":
        electrolyte_fields += 1  # on PETSc TS the dissolved lithium is an unknown too
    through = electrolyte_fields * (negative + separator + positive + 1)
    foil_cells = geometry.get("foil_cells", 1) if dimension > 1 else 0
    sides = [("positive", positive, mesh["positive_radial_points"])]
    if not half:
        sides.append(("negative", negative, mesh["negative_radial_points"]))
    mechanics = settings.get("mechanics") or {}
    for side, cells, radial in sides:
        foil = foil_cells if dimension > 1 and geometry.get(f"{side}_foil_thickness") else 0
        choice = mechanics.get(side) or mechanics.get("particle", "none")
        cracks = 1 if choice == "swelling-and-cracking" else 0
        through += (cells + 1) * (1 + radial + cracks) + foil
    in_plane = 1
    if dimension > 1:
        in_plane = geometry["height_cells"] + 1
    if dimension > 2:
        in_plane *= geometry["width_cells"] + 1
    return through * in_plane


def estimate(
    model: str,
    settings: dict[str, Any],
    unknowns: int,
    comm: MPI.Comm,
    unknowns_from: str = "mesh",
) -> ResourceEstimate:
    """Memory and time per step of a run with ``unknowns`` on ``comm`` (collective).

    Each node compares what its ranks need (the fixed part per rank plus their share of the
    unknowns) with its MemAvailable; the case fits when every node has enough.
    """
    figures = FIGURES[_figures_key(model, settings)]
    ranks = comm.size
    per_rank = figures.bytes_per_rank + unknowns * figures.bytes_per_unknown / ranks
    node = comm.Split_type(MPI.COMM_TYPE_SHARED)
    try:
        ranks_here = node.size
        leader = node.rank == 0
    finally:
        node.Free()
    available = available_memory_bytes()
    short_here = available is not None and per_rank * ranks_here > available
    fits = not comm.allreduce(short_here, op=MPI.LOR)  # unknown MemAvailable: not short
    known = comm.allreduce(available is not None, op=MPI.LAND)
    total_available = comm.allreduce((available or 0.0) if leader else 0.0, op=MPI.SUM)
    iteration = unknowns * figures.rank_seconds_per_unknown_iteration / ranks
    return ResourceEstimate(
        unknowns=unknowns,
        unknowns_from=unknowns_from,
        ranks=ranks,
        memory_bytes=per_rank * ranks,
        seconds_per_step=iteration * figures.iterations_per_step,
        figures=figures,
        available_bytes=total_available if known else None,
        fits=fits,
    )
