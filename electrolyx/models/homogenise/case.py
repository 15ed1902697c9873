"""Homogenisation case: effective DFN parameters of a generated packing or a mesh file.

A case with ``[case] model = "homogenise"`` describes a microstructure, either a random packing
of spheres (3D) or disks (2D) made by :mod:`electrolyx.meshes.packing`, or a mesh file read by
:mod:`electrolyx.meshes.mesh_file`, and which directions to measure transport along.
``electrolyx run`` writes ``effective_properties.toml`` (a parameter file a DFN case can
include) and ``effective_properties.json`` into the result folder besides run.json and
timeseries.csv; ``electrolyx homogenise CASE_DIR|MESH_FILE`` (:func:`homogenise_command`) writes
them where asked, and also reads a mesh file without a case. The cell problem is in
:mod:`.cell_problem`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mpi4py import MPI

import dolfinx
import numpy as np
from dolfinx import fem

from ...case import load_case
from ...errors import CaseError
from ...meshes.mesh_file import read_mesh_file
from ...meshes.packing import Packing
from ...output import PhaseTimer, ResultWriter
from ...progress import Progress
from ..base import Model
from .cell_problem import homogenise
from .microstructure import (
    AXES,
    Microstructure,
    microstructure_from_mesh_data,
    packed_mesh,
)
from .parameter_files import write_parameter_files
from .properties import DirectionalTransport, EffectiveProperties

__all__ = ["Homogenisation", "homogenise_command"]


class Homogenisation(Model):
    """Effective transport parameters of a resolved microstructure (see the module docstring)."""

    name = "homogenise"
    description = "Homogenisation: porosity, surface area, tortuosity of a resolved microstructure"

    @classmethod
    def check_consistency(cls, settings: dict[str, Any], case_dir: Path) -> None:
        """The mesh file exists (the box and directions are checked by the settings)."""
        m = settings["microstructure"]
        if m["generator"] == "mesh_file" and not (case_dir / m["path"]).is_file():
            raise CaseError([f"microstructure.path = {m['path']!r}: no such file in {case_dir}"])

    def __init__(self, settings: dict[str, Any], case_dir: Path, comm: MPI.Comm):
        super().__init__(settings, case_dir, comm)
        self.packing: Packing | None = None
        self.microstructure: Microstructure | None = None
        self.properties: EffectiveProperties | None = None

    def build_mesh(self) -> dolfinx.mesh.Mesh:
        """Generate the packing and mesh it, or read the mesh file; pick pore and solid cells."""
        m = self.settings["microstructure"]
        if m["generator"] == "random_packing":
            self.packing, mesh_data = packed_mesh(self.comm, m, log=self.log)
            pore, solid = ["electrolyte"], ["particles"]
        else:
            mesh_data = read_mesh_file(
                self.comm, self.case_dir / m["path"], cell_data=m["cell_data"]
            )
            pore, solid = m["pore_groups"], m["solid_groups"]
            axes = list(AXES)[: mesh_data.mesh.geometry.dim]
            bad = [d for d in self.settings["homogenisation"]["directions"] if d not in axes]
            if bad:
                raise CaseError(
                    [f"homogenisation.directions: {bad[0]!r} is not an axis of this mesh {axes}"]
                )
        try:
            self.microstructure = microstructure_from_mesh_data(mesh_data, pore, solid)
        except KeyError as error:
            raise CaseError([f"microstructure: {error.args[0]}"]) from None
        return self.mesh

    @property
    def mesh(self) -> dolfinx.mesh.Mesh:
        """The distributed mesh (after :meth:`build_mesh`)."""
        assert self.microstructure is not None, "build_mesh first"
        return self.microstructure.mesh

    def unknowns(self) -> int:
        """Global number of concentration unknowns in the pore phase."""
        micro = self.microstructure
        degree = self.settings["homogenisation"]["degree"]
        space = fem.functionspace(self.mesh, ("Lagrange", degree))
        marker = fem.Function(space)
        cells = np.concatenate([micro.cell_tags.find(t) for t in micro.pore_tags])
        marker.x.array[space.dofmap.list[cells].ravel()] = 1.0
        marker.x.scatter_reverse(dolfinx.la.InsertMode.add)
        owned = space.dofmap.index_map.size_local
        return self.comm.allreduce(int(np.count_nonzero(marker.x.array[:owned])), op=MPI.SUM)

    def diagnostics(self) -> dict[str, Any]:
        """Particle count and the packing's own solid-fraction estimate, mesh resolution."""
        out: dict[str, Any] = {}
        if self.packing is not None:
            m = self.settings["microstructure"]
            out.update(
                {
                    "particles": len(self.packing.radii),
                    "solid_fraction_estimate_of_the_packing": self.packing.solid_fraction_estimate,
                    "smallest_radius_m": float(self.packing.radii.min()),
                    "largest_radius_m": float(self.packing.radii.max()),
                    "element_size_over_mean_radius": m["element_size"] / m["mean_radius"],
                }
            )
        return out

    def homogenise(
        self,
        directions: Sequence[str] | None = None,
        log: Callable[[str], None] = lambda _: None,
    ) -> EffectiveProperties:
        """Run the cell problems (after :meth:`build_mesh`); their progress through ``log``."""
        h = self.settings["homogenisation"]
        directions = list(directions if directions is not None else h["directions"])
        progress = Progress(log, len(directions), unit="cell problem")

        def on_direction(direction: str, transport: DirectionalTransport | None) -> None:
            if transport is None:
                progress.step(directions.index(direction), f"diffusion along {direction}")
            else:
                progress.update(
                    quantity=f"tortuosity factor {transport.tortuosity_factor:.5g}, "
                    f"{transport.linear_iterations} linear iterations"
                )

        with progress:
            self.properties = homogenise(
                self.microstructure,
                directions,
                linear_solver=h["linear_solver"],
                relative_tolerance=h["relative_tolerance"],
                degree=h["degree"],
                on_direction=on_direction,
            )
        return self.properties

    def run(
        self, writer: ResultWriter, timer: PhaseTimer, log: Callable[[str], None]
    ) -> dict[str, Any]:
        """Solve the cell problems and write the parameter files and one timeseries row."""
        with timer.phase("solve"):
            props = self.homogenise(log=log)
        with timer.phase("output"):
            writer.add_timeseries_row({"time_s": 0.0, **_row(props)})
            write_parameter_files(
                props, writer.path / "effective_properties.toml", self.comm, str(self.case_dir)
            )
        _log_properties(props, log)
        return {
            "linear_solver": self.settings["homogenisation"]["linear_solver"],
            "pore_unknowns": props.pore_unknowns,
            "linear_iterations": {d: t.linear_iterations for d, t in props.directions.items()},
            "flux_mismatch": {d: t.flux_mismatch for d, t in props.directions.items()},
        }


def _row(props: EffectiveProperties) -> dict[str, float]:
    """One timeseries row: the effective properties, units as suffixes."""
    row = {
        "porosity": props.porosity,
        "specific_surface_area_1_m": props.specific_surface_area,
    }
    for d, t in props.directions.items():
        row[f"relative_effective_diffusivity_{d}"] = t.relative_effective_diffusivity
        row[f"tortuosity_factor_{d}"] = t.tortuosity_factor
        row[f"bruggeman_exponent_{d}"] = t.bruggeman_exponent
    return row


def _log_properties(props: EffectiveProperties, log: Callable[[str], None]) -> None:
    log(f"porosity = {props.porosity:.6g}")
    log(f"specific surface area = {props.specific_surface_area:.6g} 1/m")
    for d, t in props.directions.items():
        log(
            f"{d}: D_eff/D = {t.relative_effective_diffusivity:.6g}, tortuosity factor = "
            f"{t.tortuosity_factor:.6g}, Bruggeman exponent = {t.bruggeman_exponent:.6g} "
            f"({t.linear_iterations} linear iterations)"
        )


def homogenise_command(
    target: str | Path,
    comm: MPI.Comm,
    *,
    out: str | Path | None = None,
    direction: str = "all",
    pore_groups: Sequence[str] | None = None,
    solid_groups: Sequence[str] | None = None,
    log: Callable[[str], None] = print,
) -> tuple[EffectiveProperties, Path]:
    """``electrolyx homogenise``: effective properties of a case folder or a mesh file.

    Args:
        target: A folder with a ``case.toml`` of model "homogenise", or a mesh file.
        comm: Communicator.
        out: TOML file to write (a .json of the same stem beside it); default
            ``CASE_DIR/effective_properties.toml`` or ``MESH_effective_properties.toml``.
        direction: "x", "y", "z" or "all" (every axis of the mesh; for a case, its
            ``homogenisation.directions``).
        pore_groups: Pore cell groups of a mesh file (default "electrolyte").
        solid_groups: Solid cell groups of a mesh file (default "particles").
        log: Printer (rank 0 only is the caller's choice).

    Returns:
        The properties and the path of the TOML file.

    Raises:
        CaseError: for an invalid case, a case of another model or unknown groups.
    """
    target = Path(target)
    if target.name == "case.toml":
        target = target.parent
    is_case = target.is_dir()
    if is_case:
        case = load_case(target)
        if case.model != "homogenise":
            raise CaseError(
                [f"case.model = {case.model!r}: `electrolyx homogenise` needs model 'homogenise'"]
            )
        if pore_groups or solid_groups:
            raise CaseError(["--pore-group/--solid-group apply to mesh files, not to cases"])
        model = Homogenisation(case.settings, case.directory, comm)
        default_out = case.directory / "effective_properties.toml"
        source = str(case.directory)
    else:
        if not target.is_file():
            raise CaseError([f"{target}: neither a case folder nor a mesh file"])
        settings = {
            "case": {"model": "homogenise", "title": ""},
            "microstructure": {
                "generator": "mesh_file",
                "path": target.name,
                "pore_groups": list(pore_groups or ["electrolyte"]),
                "solid_groups": list(solid_groups or ["particles"]),
                "cell_data": None,
            },
            "homogenisation": {
                "directions": ["x"],
                "linear_solver": "cg-gamg",
                "relative_tolerance": 1e-12,
                "degree": 1,
            },
        }
        model = Homogenisation(settings, target.resolve().parent, comm)
        default_out = target.with_name(f"{target.stem}_effective_properties.toml")
        source = str(target)
    model.build_mesh()
    axes = list(AXES)[: model.mesh.geometry.dim]
    if direction == "all":
        directions = model.settings["homogenisation"]["directions"] if is_case else axes
    elif direction in axes:
        directions = [direction]
    else:
        raise CaseError([f"--direction {direction!r}: allowed {axes} or 'all' for this mesh"])
    props = model.homogenise(directions)
    toml_path, json_path = write_parameter_files(
        props, Path(out) if out else default_out, comm, source
    )
    _log_properties(props, log)
    log(f"written {toml_path} and {json_path}")
    return props, toml_path
