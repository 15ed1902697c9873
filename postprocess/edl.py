"""Double-layer figure: computed potential and ion concentrations against the Gouy-Chapman theory.

For a symmetric z:z electrolyte next to a wall at potential zeta, with a bulk reservoir far away
(Gouy 1910, Chapman 1913):

    phi(x) = (4RT/zF) artanh(tanh(zF zeta / 4RT) exp(-x / lambda_D)),
    c_+-(x) = c0 exp(-+ zF phi(x) / RT),

x the distance from the wall. The figure shows both against x / lambda_D so that a reader sees
the double layer's thickness at once. Reads only the result folder (run.json, profiles.csv).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

__all__ = ["gouy_chapman_potential", "plot_edl"]

_FARADAY = 96485.33212331001  # C/mol
_GAS_CONSTANT = 8.314462618153241  # J/(mol K)


def gouy_chapman_potential(
    distance: np.ndarray, zeta: float, debye_length: float, thermal_voltage: float, z: int = 1
) -> np.ndarray:
    """Gouy-Chapman potential (V) at ``distance`` (m) from a wall at ``zeta`` (V)."""
    scale = 4 * thermal_voltage / z
    return scale * np.arctanh(np.tanh(zeta / scale) * np.exp(-distance / debye_length))


def _single_wall(info: dict) -> tuple[str, float, float]:
    """Name, potential and position of the one potential-controlled wall of a 1D PNP case."""
    case = info["case"]
    walls = [(n, b) for n, b in case["boundaries"].items() if b["kind"] == "potential"]
    if info.get("model") != "pnp" or info["mesh"]["dimension"] != 1 or len(walls) != 1:
        raise ValueError("the Gouy-Chapman figure needs a 1D PNP result with one potential wall")
    name, wall = walls[0]
    mesh = case["mesh"]
    if mesh.get("generator") != "interval":
        raise ValueError("the Gouy-Chapman figure needs an interval mesh")
    position = 0.0 if name == mesh["left_name"] else mesh["length"]
    return name, wall["potential"], position


def plot_edl(
    result_dir: str | Path,
    figures_dir: str | Path | None = None,
    formats: Sequence[str] = ("png",),
) -> list[Path]:
    """Plot potential and concentrations vs distance in Debye lengths with Gouy-Chapman overlaid.

    Args:
        result_dir: A result folder of a 1D PNP run with one wall of kind ``potential`` and a
            symmetric z:z electrolyte.
        figures_dir: Where to write (default ``RESULT_DIR/figures``).
        formats: File formats (png, pdf, svg).

    Returns:
        The files written.

    Raises:
        ValueError: when the result is not such a double layer.
    """
    result_dir = Path(result_dir)
    figures_dir = Path(figures_dir) if figures_dir else result_dir / "figures"
    info = json.loads((result_dir / "run.json").read_text())
    _, zeta, wall_x = _single_wall(info)
    species = info["case"]["species"]
    charges = sorted(s["charge_number"] for s in species)
    if len(species) != 2 or charges[0] != -charges[1]:
        raise ValueError("the Gouy-Chapman figure needs a symmetric z:z electrolyte")
    z = charges[1]
    c0 = species[0]["bulk_concentration"]
    temperature = info["case"]["electrolyte"]["temperature"]
    thermal_voltage = _GAS_CONSTANT * temperature / _FARADAY
    debye = info["diagnostics"]["debye_length_m"]

    columns: dict[str, list[tuple[float, float]]] = {}
    with open(result_dir / "profiles.csv") as f:
        for row in csv.DictReader(f):
            distance = abs(float(row["x_m"]) - wall_x)
            columns.setdefault(row["field"], []).append((distance, float(row["value"])))
    if "potential_V" not in columns:
        raise ValueError("profiles.csv has no potential_V profile")

    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax_phi, ax_c = fig.subplots(1, 2)
    points = np.array(sorted(columns["potential_V"]))
    xi = points[:, 0] / debye
    fine = np.linspace(0, xi.max(), 400)
    exact_phi = gouy_chapman_potential(fine * debye, zeta, debye, thermal_voltage, z)
    error = np.abs(
        points[:, 1] - gouy_chapman_potential(points[:, 0], zeta, debye, thermal_voltage, z)
    ).max()
    ax_phi.plot(fine, 1e3 * exact_phi, color="0.2", lw=3, alpha=0.35, label="Gouy-Chapman")
    ax_phi.plot(xi, 1e3 * points[:, 1], "C0", lw=1.3, label="electrolyx (PNP)")
    ax_phi.set_xlabel(r"distance from the wall $x/\lambda_D$ (-)")
    ax_phi.set_ylabel(r"potential $\phi$ (mV)")
    ax_phi.set_title(
        rf"$\zeta$ = {1e3 * zeta:g} mV, $\lambda_D$ = {1e9 * debye:.3g} nm; "
        rf"max |error| = {error / abs(zeta):.1e} $\zeta$",
        fontsize="medium",
    )
    ax_phi.legend()
    for k, s in enumerate(species):
        name = f"concentration_{s['name']}_mol_m3"
        if name not in columns:
            continue
        data = np.array(sorted(columns[name]))
        boltzmann = c0 * np.exp(-s["charge_number"] * exact_phi / thermal_voltage)
        ax_c.plot(
            fine, boltzmann, color="0.2", lw=3, alpha=0.35, label="Gouy-Chapman" if k == 0 else None
        )
        ax_c.plot(
            data[:, 0] / debye,
            data[:, 1],
            f"C{k + 1}",
            lw=1.3,
            label=f"{s['name']} (z = {s['charge_number']:+d})",
        )
    ax_c.set_yscale("log")
    ax_c.set_xlabel(r"distance from the wall $x/\lambda_D$ (-)")
    ax_c.set_ylabel(r"concentration $c$ (mol/m$^3$)")
    ax_c.axhline(c0, color="0.5", lw=0.8, ls=":")
    ax_c.set_title(
        rf"bulk $c_0$ = {c0:g} mol/m$^3$; Boltzmann $c_0 e^{{\mp z F\phi/RT}}$", fontsize="medium"
    )
    ax_c.legend()
    for ax in (ax_phi, ax_c):
        ax.grid(alpha=0.3)
        ax.set_xlim(0, xi.max())
    figures_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = figures_dir / f"gouy_chapman.{fmt}"
        fig.savefig(path, dpi=150)
        written.append(path)
    return written
