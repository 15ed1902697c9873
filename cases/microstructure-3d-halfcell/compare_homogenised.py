"""Closing the loop: the resolved half cell against a DFN half cell with bridged parameters.

Usage (after ``mpiexec -n 2 electrolyx run cases/microstructure-3d-halfcell``)::

    python cases/microstructure-3d-halfcell/compare_homogenised.py \
        cases/microstructure-3d-halfcell/results

It rebuilds the same packing and mesh, homogenises its electrode box (porosity eps, specific
surface area a_s, through-plane Bruggeman exponent b, :mod:`electrolyx.models.homogenise`), runs the
1D DFN half cell (:class:`electrolyx.models.dfn.DFN` with a lithium counter electrode) with
thickness L_x, eps, eps_s = 1 - eps, R = 3 eps_s / a_s (so that a_s matches), b, a 6 um
pure-electrolyte separator and the same current per collector area, and plots both voltage
curves against the delivered capacity into ``RESULTS/figures/resolved_vs_homogenised.png``.
"""

from __future__ import annotations

import dataclasses
import sys
import tomllib
from pathlib import Path

from mpi4py import MPI

import matplotlib

import electrolyx  # noqa: F401  (before dolfinx)

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from electrolyx.meshes.packing import packing_mesh, random_packing
from electrolyx.models.dfn import DFN, DFNResolution, LithiumCounterElectrode
from electrolyx.models.homogenise import homogenise, microstructure_from_mesh_data
from electrolyx.parameters import chen2020

CASE = Path(__file__).resolve().parent


def main(results: Path) -> None:
    """Homogenise the case's packing, run the DFN half cell and plot both voltage curves."""
    comm = MPI.COMM_WORLD
    settings = tomllib.loads((CASE / "case.toml").read_text())
    m, p = settings["microstructure"], settings["parameters"]
    packing = random_packing(
        tuple(m["box"]),
        solid_fraction=m["solid_fraction"],
        mean_radius=m["mean_radius"],
        radius_std=m["radius_std"],
        max_overlap=m["max_overlap"],
        seed=m["seed"],
    )
    mesh_data = packing_mesh(
        comm,
        packing,
        element_size=m["element_size"],
        separator_thickness=m["separator_thickness"],
        segments_per_circle=m["segments_per_circle"],
    )
    bridge = homogenise(microstructure_from_mesh_data(mesh_data), ["x"])
    eps, a_s, b = bridge.porosity, bridge.specific_surface_area, bridge.bruggeman_exponent
    eps_s = 1.0 - eps
    length, width, depth = m["box"]
    base = chen2020()
    positive = dataclasses.replace(
        base.positive,
        thickness_m=length,
        porosity=eps,
        active_material_volume_fraction=eps_s,
        particle_radius_m=3.0 * eps_s / a_s,
        bruggeman_electrolyte=b,
    )
    separator = dataclasses.replace(
        base.separator, thickness_m=m["separator_thickness"], porosity=1.0, bruggeman_electrolyte=0
    )
    area = width * depth
    capacity = (
        96485.33212
        * eps_s
        * length
        * area
        * positive.max_concentration_mol_m3
        * (1 - positive.initial_concentration_mol_m3 / positive.max_concentration_mol_m3)
        / 3600.0
    )
    cell = dataclasses.replace(
        base,
        positive=positive,
        separator=separator,
        electrode_area_m2=area,
        nominal_capacity_Ah=capacity,
    )
    resolved = np.genfromtxt(results / "timeseries.csv", delimiter=",", names=True)
    current = float(resolved["current_A"][-1])
    cutoff = settings["discharge"]["cutoff_voltage"]
    model = DFN(
        cell,
        DFNResolution(separator_cells=4, positive_cells=20, positive_radial_points=20),
        comm=comm,
        counter_electrode=LithiumCounterElectrode(p["lithium_exchange_current_density"]),
    )
    solution = model.discharge(current_A=current, cutoff_voltage_V=cutoff)
    if comm.rank != 0:
        return
    dfn = solution.as_arrays()
    q_resolved = resolved["discharge_capacity_Ah"] / capacity
    q_dfn = dfn["discharge_capacity_Ah"] / capacity
    print(f"bridge: eps = {eps:.4f}, a_s = {a_s:.4e} 1/m, b_x = {b:.3f}, R = {3 * eps_s / a_s:.3e}")
    print(f"current {current:.4e} A, DFN capacity {capacity:.4e} Ah")
    print(f"resolved: {q_resolved[-1]:.4f} of capacity at {resolved['voltage_V'][-1]:.4f} V")
    print(f"DFN:      {q_dfn[-1]:.4f} of capacity at {dfn['voltage_V'][-1]:.4f} V")
    common = np.linspace(0, min(q_resolved[-1], q_dfn[-1]), 200)[1:]
    difference = np.interp(common, q_resolved, resolved["voltage_V"]) - np.interp(
        common, q_dfn, dfn["voltage_V"]
    )
    print(
        f"V_resolved - V_DFN over the common range: mean {difference.mean() * 1e3:.1f} mV, "
        f"max |.| {np.abs(difference).max() * 1e3:.1f} mV"
    )
    for q in np.arange(0.1, common[-1], 0.1):
        gap = np.interp(q, common, difference) * 1e3
        print(f"  at {q:.1f} of the capacity: V_resolved - V_DFN = {gap:+.1f} mV")
    figures = results / "figures"
    figures.mkdir(exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(q_resolved, resolved["voltage_V"], label="resolved microstructure (3D)")
    ax.plot(q_dfn, dfn["voltage_V"], "--", label="homogenised DFN (bridged eps, a_s, b)")
    ax.set_xlabel("delivered capacity / particle capacity [-]")
    ax.set_ylabel("voltage vs Li/Li+ [V]")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(figures / "resolved_vs_homogenised.png", dpi=120)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
