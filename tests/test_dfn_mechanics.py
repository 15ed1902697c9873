"""DFN with particle mechanics against PyBaMM's "particle mechanics": "swelling only" with
"stress-induced diffusion": "true" (Chen2020 with the mechanical parameters of OKane2022, 1C).

Reference: tests/data/pybamm/chen2020_mechanics_1C.csv (PyBaMM 26.10.1.1, 160 finite volumes
per region and particle, IDAKLU rtol 1e-8; its 80-volume mesh is 0.084 mV RMS and at most
0.40 % (positive minimum over x) from it at the stress extremes: see README.md there).
Issue 16: the surface hoop stress of each electrode within 1 % of PyBaMM at its extremes, the
voltage within 1 mV RMS. Our default mesh (20/6/20 cells, 20 radial points) meets both.
"""

from pathlib import Path

from mpi4py import MPI

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

import electrolyx  # noqa: F401  (loads MPI/PETSc libraries first)
from electrolyx.models.dfn import DFN, DFNResolution, ParticleMechanics
from electrolyx.parameters import chen2020
from electrolyx.parameters.mechanics import with_okane2022_mechanics

DATA = Path(__file__).parent / "data" / "pybamm"
RESOLUTION = DFNResolution(20, 6, 20, 20, 20)
#: Ours -> PyBaMM's column; the sign of the electrode's stress (negative: tension on
#: delithiation, positive: compression on lithiation).
COLUMNS = {
    "negative_particle_surface_hoop_stress_Pa": ("neg_surface_hoop_stress_Pa", 1),
    "negative_particle_surface_hoop_stress_min_Pa": ("neg_surface_hoop_stress_min_Pa", 1),
    "negative_particle_surface_hoop_stress_max_Pa": ("neg_surface_hoop_stress_max_Pa", 1),
    "positive_particle_surface_hoop_stress_Pa": ("pos_surface_hoop_stress_Pa", -1),
    "positive_particle_surface_hoop_stress_min_Pa": ("pos_surface_hoop_stress_min_Pa", -1),
    "positive_particle_surface_hoop_stress_max_Pa": ("pos_surface_hoop_stress_max_Pa", -1),
}


def discharge(stress_induced_diffusion: bool):
    """1C discharge to 2.5 V: (solution arrays, stresses per row)."""
    model = DFN(
        with_okane2022_mechanics(chen2020()),
        RESOLUTION,
        comm=MPI.COMM_WORLD,
        mechanics=ParticleMechanics("swelling-only", stress_induced_diffusion),
    )
    rows = []

    def observe(kind: str) -> None:
        if kind == "row":
            row = model.outputs.particle_stresses_Pa()
            row["cell_thickness_change_m"] = model.outputs.cell_thickness_change_m()
            rows.append(row)

    model.observer = observe
    solution = model.discharge(5.0)
    # Break the model -> observer -> model cycle: the model (its PETSc objects, destroyed
    # collectively) is freed here on every rank, not by a rank's cyclic collector later.
    model.observer = None
    assert solution.termination == "event"
    arrays = solution.as_arrays()
    stresses = {name: np.array([row[name] for row in rows]) for name in rows[0]}
    return arrays, stresses


@pytest.fixture(scope="module")
def reference():
    return np.genfromtxt(
        DATA / "chen2020_mechanics_1C.csv", delimiter=",", names=True, skip_header=1
    )


def compare(arrays, stresses, reference):
    """RMS voltage difference [V]; per column: (relative error of the extreme, curve error
    relative to the extreme) at the reference times from 1 s to the earlier cut-off."""
    t_ref = reference["time_s"]
    times = arrays["time_s"]
    mask = (t_ref >= 1.0) & (t_ref <= min(t_ref[-1], times[-1]))
    voltage = CubicSpline(times, arrays["voltage_V"])(t_ref[mask])
    rms = np.sqrt(np.mean((voltage - reference["voltage_V"][mask]) ** 2))
    errors = {}
    for name, (column, sign) in COLUMNS.items():
        ours, theirs = sign * stresses[name], sign * reference[column]
        peak = theirs.max()
        curve = CubicSpline(times, ours)(t_ref[mask]) - theirs[mask]
        errors[name] = (ours.max() / peak - 1.0, np.max(np.abs(curve)) / peak)
    return rms, errors


@pytest.mark.mpi
def test_surface_hoop_stress_and_voltage_match_pybamm(reference):
    arrays, stresses = discharge(stress_induced_diffusion=True)
    rms, errors = compare(arrays, stresses, reference)
    # Issue 16: 1 mV RMS (measured 0.061 mV).
    assert rms < 1e-3, rms
    # Cut-off time as PyBaMM's within 0.05 % (issue 4's bar; measured +0.0005 %).
    assert arrays["time_s"][-1] == pytest.approx(reference["time_s"][-1], rel=5e-4)
    for name, (extreme, curve) in errors.items():
        # Issue 16: the extremes within 1 %. Measured: electrode averages -0.04 % (negative
        # peak tension 11.75 MPa), +0.46 % (positive peak compression 78.0 MPa); extremes over
        # x -0.16 / -0.55 % (negative min / max), +0.63 / +0.51 % (positive), PyBaMM's
        # 160-volume cell centres against our nodes, which include the electrode's ends.
        assert abs(extreme) < 1e-2, (name, extreme)
        # The electrode averages' whole curves within 1 % of their extreme (measured 0.055 %
        # and 0.78 %, the latter in the first seconds). (Not the extremes over x, whose
        # location jumps between our nodes and PyBaMM's cell centres: 0.6-2.9 %.)
        if not name.endswith(("_min_Pa", "_max_Pa")):
            assert curve < 1e-2, (name, curve)
    # The cell's thickness change (Ai 2020; PyBaMM's "Cell thickness change [m]", 17.5 um at
    # the cut-off) within 1 % of its final value along the whole curve (measured 0.02 %).
    thickness = reference["cell_thickness_change_m"]
    t_ref = reference["time_s"]
    mask = (t_ref >= 1.0) & (t_ref <= arrays["time_s"][-1])
    ours = CubicSpline(arrays["time_s"], stresses["cell_thickness_change_m"])(t_ref[mask])
    assert np.max(np.abs(ours - thickness[mask])) < 1e-2 * thickness.max()


def test_stress_induced_diffusion_matters(reference):
    """Without the stress term the positive particles' stress is 100x PyBaMM's: the check above
    holds only with the term, as PyBaMM's theta c ~ 200 in the NMC (Omega = 1.25e-5 m3/mol,
    E = 375 GPa) speeds its diffusion up 200-fold."""
    arrays, stresses = discharge(stress_induced_diffusion=False)
    rms, errors = compare(arrays, stresses, reference)
    assert rms > 10e-3, rms  # measured 79 mV
    assert errors["positive_particle_surface_hoop_stress_Pa"][0] > 10.0  # measured 113
