"""Output layer of homogenisation: the parameter file a DFN case can include, and its JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

from mpi4py import MPI

from .properties import EffectiveProperties

__all__ = ["parameter_toml", "write_parameter_files"]


def _toml_float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(float(value))


def parameter_toml(props: EffectiveProperties, source: str = "") -> str:
    """The effective properties as a TOML parameter file that a DFN case can include.

    Args:
        props: Result of :func:`homogenise`.
        source: Where the microstructure came from (written as a comment).
    """
    unit = {2: "m", 3: "m2"}[props.dimension]
    lines = [
        "# Effective (homogenised) parameters of a resolved microstructure,",
        "# computed by `electrolyx homogenise`" + (f" from {source}" if source else "") + ".",
        "# D_eff = porosity * D / tortuosity_factor = porosity**bruggeman_exponent * D.",
        f"porosity = {_toml_float(props.porosity)}  # [-] electrolyte volume fraction",
        f"specific_surface_area = {_toml_float(props.specific_surface_area)}  # [1/m] "
        "interface area per total volume",
    ]
    for direction, transport in props.directions.items():
        lines.append(
            f"tortuosity_factor_{direction} = {_toml_float(transport.tortuosity_factor)}  # [-] "
            f"eps D / D_eff along {direction}"
        )
    lines.append(
        f"bruggeman_exponent = {_toml_float(props.bruggeman_exponent)}  # [-] "
        "from the through-plane (x) tortuosity factor: tau_x = eps**(1 - b)"
    )
    for direction, transport in props.directions.items():
        lines.append(
            f"bruggeman_exponent_{direction} = {_toml_float(transport.bruggeman_exponent)}  # [-]"
        )
    lines += [
        "",
        "[microstructure]  # what the parameters were measured on",
        f"dimension = {props.dimension}",
        f"box_lower = [{', '.join(_toml_float(v) for v in props.box_lower)}]  # [m]",
        f"box_upper = [{', '.join(_toml_float(v) for v in props.box_upper)}]  # [m]",
        f"interface_area = {_toml_float(props.interface_area)}  # [{unit}]",
        f"pore_unknowns = {props.pore_unknowns}",
    ]
    return "\n".join(lines) + "\n"


def write_parameter_files(
    props: EffectiveProperties, path: str | Path, comm: MPI.Comm, source: str = ""
) -> tuple[Path, Path]:
    """Write ``path`` (.toml, see :func:`parameter_toml`) and the same stem .json (rank 0).

    Returns:
        The paths of the TOML and JSON files.
    """
    toml_path = Path(path)
    json_path = toml_path.with_suffix(".json")
    if comm.rank == 0:
        toml_path.parent.mkdir(parents=True, exist_ok=True)
        toml_path.write_text(parameter_toml(props, source))
        with open(json_path, "w") as f:
            json.dump({"source": source, **props.as_dict()}, f, indent=2)
            f.write("\n")
    comm.barrier()
    return toml_path, json_path
