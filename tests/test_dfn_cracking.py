"""DFN with particle swelling and cracking against PyBaMM's "particle mechanics": "swelling and
cracking" (with its default "stress-induced diffusion": "true") on the Ai2020 set at 1C, and the
mechanics chosen per electrode against PyBaMM's option tuple ("swelling and cracking", "none").

References: tests/data/pybamm/ai2020_cracking_1C.csv and ai2020_cracking_negative_only_1C.csv
(PyBaMM 26.10.1.1, 160 finite volumes per region and particle, IDAKLU rtol 1e-8; written by
bench/make_pybamm_cracking_reference.py; its 100-volume mesh is 0.085 mV RMS and 0.27 % (at the
negative maximum over x) from it at the stress extremes, and its crack growth within 0.014 %:
see README.md there). Our default mesh (20/6/20 cells, 20 radial points) as in the shipped case.
"""

from pathlib import Path

from mpi4py import MPI

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

import electrolyx  # noqa: F401  (loads MPI/PETSc libraries first)
from electrolyx.models.dfn import DFN, DFNResolution, ParticleMechanics
from electrolyx.parameters import ai2020

DATA = Path(__file__).parent / "data" / "pybamm"
RESOLUTION = DFNResolution(20, 6, 20, 20, 20)
INITIAL_CRACK_M = 2e-8  # Ai2020's l_0 of both electrodes


def discharge(mechanics: ParticleMechanics):
    """1C (2.28 A) discharge to 3.0 V: (solution arrays, outputs per row)."""
    model = DFN(ai2020(), RESOLUTION, comm=MPI.COMM_WORLD, mechanics=mechanics)
    rows = []

    def observe(kind: str) -> None:
        if kind == "row":
            row = {**model.outputs.particle_stresses_Pa(), **model.outputs.particle_cracks()}
            if model.outputs.has_thickness_change:
                row["cell_thickness_change_m"] = model.outputs.cell_thickness_change_m()
            rows.append(row)

    model.observer = observe
    solution = model.discharge(2.28)
    # Break the model -> observer -> model cycle (collective PETSc destroys on every rank).
    model.observer = None
    assert solution.termination == "event"
    arrays = solution.as_arrays()
    outputs = {name: np.array([row[name] for row in rows]) for name in rows[0]}
    return arrays, outputs


def load(name: str):
    return np.genfromtxt(DATA / name, delimiter=",", names=True, skip_header=1)


def on_reference_times(arrays, values, reference):
    """Our curve at PyBaMM's times from 1 s to the earlier cut-off (and those times' mask)."""
    t_ref = reference["time_s"]
    mask = (t_ref >= 1.0) & (t_ref <= min(t_ref[-1], arrays["time_s"][-1]))
    return CubicSpline(arrays["time_s"], values)(t_ref[mask]), mask


def voltage_rms(arrays, reference) -> float:
    ours, mask = on_reference_times(arrays, arrays["voltage_V"], reference)
    return float(np.sqrt(np.mean((ours - reference["voltage_V"][mask]) ** 2)))


def crack_growth_errors(outputs, reference, side, short):
    """Relative errors of the crack growth l - l_0 at the cut-off: electrode average, largest."""
    average = outputs[f"{side}_particle_crack_length_m"][-1] - INITIAL_CRACK_M
    largest = outputs[f"{side}_particle_crack_length_max_m"][-1] - INITIAL_CRACK_M
    return (
        average / reference[f"{short}_crack_growth_m"][-1] - 1.0,
        largest / reference[f"{short}_crack_growth_max_m"][-1] - 1.0,
    )


@pytest.mark.mpi
def test_swelling_and_cracking_match_pybamm():
    reference = load("ai2020_cracking_1C.csv")
    arrays, outputs = discharge(ParticleMechanics("swelling-and-cracking", True))
    rms = voltage_rms(arrays, reference)
    assert rms < 1e-3, rms  # issue 16's bar for the voltage, 1 mV RMS (measured 0.127)
    assert arrays["time_s"][-1] == pytest.approx(reference["time_s"][-1], rel=5e-4)
    for side, short in (("negative", "neg"), ("positive", "pos")):
        # Both surfaces in tension (graphite delithiating; LiCoO2 lithiating with Omega < 0):
        # the largest tension of the electrode average and of its extremes over x within 1 %
        # (issue 16's bar for the stresses; measured 0.02-0.09 %).
        for suffix in ("", "_min", "_max"):
            ours = outputs[f"{side}_particle_surface_hoop_stress{suffix}_Pa"].max()
            theirs = reference[f"{short}_surface_hoop_stress{suffix}_Pa"].max()
            assert ours == pytest.approx(theirs, rel=1e-2), (side, suffix)
        # The crack growth integrates (sigma_t)^2.2 over the discharge: 1 % of the stress is
        # 2.2 % of the growth; bar 3 % (measured average / largest: negative
        # -0.06 / +0.25 %, positive -0.09 / -0.03 %).
        average, largest = crack_growth_errors(outputs, reference, side, short)
        assert abs(average) < 3e-2, (side, average)
        assert abs(largest) < 3e-2, (side, largest)
        # Roughness ratio 1 + 2 l rho_cr w_cr: its growth from 1 + 2 l_0 rho_cr w_cr = 2.908
        # follows the crack growth, the same 3 % (measured -0.06 % / -0.09 %).
        initial = 1.0 + 2.0 * INITIAL_CRACK_M * 3.18e15 * 1.5e-8  # Ai2020's rho_cr, w_cr
        roughness = outputs[f"{side}_electrode_roughness_ratio"][-1] - initial
        theirs = reference[f"{short}_roughness_ratio"][-1] - initial
        assert abs(roughness / theirs - 1.0) < 3e-2, (side, roughness, theirs)
    # Issue 16: the cell thickness change within 1 % along the whole curve, of its largest
    # magnitude (-150 um at the cut-off, 34 electrode pairs); measured 0.012 %.
    thickness = reference["cell_thickness_change_m"]
    ours, mask = on_reference_times(arrays, outputs["cell_thickness_change_m"], reference)
    assert np.max(np.abs(ours - thickness[mask])) < 1e-2 * np.abs(thickness).max()


@pytest.mark.mpi
def test_mechanics_per_electrode_match_pybamm_option_tuple():
    """[mechanics] negative = "swelling-and-cracking", positive = "none": PyBaMM's
    ("swelling and cracking", "none") without stress-induced diffusion."""
    reference = load("ai2020_cracking_negative_only_1C.csv")
    mechanics = ParticleMechanics("none", False, negative="swelling-and-cracking")
    arrays, outputs = discharge(mechanics)
    # Only the negative electrode's columns, no thickness change (needs both electrodes).
    assert not any(name.startswith("positive") for name in outputs)
    assert "cell_thickness_change_m" not in outputs
    rms = voltage_rms(arrays, reference)
    assert rms < 1e-3, rms  # measured 0.123 mV
    for suffix in ("", "_min", "_max"):  # 1 % (measured -0.03 / -0.29 / +0.04 %)
        ours = outputs[f"negative_particle_surface_hoop_stress{suffix}_Pa"].max()
        theirs = reference[f"neg_surface_hoop_stress{suffix}_Pa"].max()
        assert ours == pytest.approx(theirs, rel=1e-2), suffix
    # 3 % as above (measured -0.06 / +0.28 %).
    average, largest = crack_growth_errors(outputs, reference, "negative", "neg")
    assert abs(average) < 3e-2, average
    assert abs(largest) < 3e-2, largest
