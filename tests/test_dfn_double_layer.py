"""DFN current pulse with and without double-layer capacitance against PyBaMM (Chen2020).

References: tests/data/pybamm/chen2020_double_layer_pulse.csv (PyBaMM surface form
"differential", C_dl = 0.2 F/m2 in both electrodes, starting with the double layers at open
circuit) and chen2020_pulse_no_double_layer.csv; 5 A for 10 s, then rest for 10 s. PyBaMM's own
meshes spread by up to 6 mV on this pulse (radial boundary layer); issue 4 asks for 2 mV at
1 ms, 10 ms, 0.1 s and 10.01 s.
"""

from pathlib import Path

from mpi4py import MPI

import numpy as np
import pytest

from electrolyx.models.dfn import DFN, DFNResolution
from electrolyx.parameters import chen2020

DATA = Path(__file__).parent / "data" / "pybamm"
PROBE_TIMES_S = (1e-3, 1e-2, 0.1, 10.01)


def run_pulse(double_layer: bool):
    model = DFN(chen2020(), DFNResolution(20, 6, 20, 20, 20), MPI.COMM_WORLD, double_layer)
    # Steps land on the probe times, so no interpolation error enters the comparison.
    model.discharge(5.0, duration_s=10.0, output_times_s=PROBE_TIMES_S[:3])
    solution = model.discharge(0.0, duration_s=10.0, output_times_s=PROBE_TIMES_S[3:])
    return solution.as_arrays()


def voltage_at(arrays, time_s):
    """Voltage of the step that ended at ``time_s``."""
    rows = np.nonzero(np.isclose(arrays["time_s"], time_s, rtol=0, atol=1e-9))[0]
    return arrays["voltage_V"][rows[-1]]


def reference_at(reference, time_s):
    rows = np.nonzero(np.isclose(reference[:, 0], time_s, rtol=0, atol=1e-9))[0]
    return reference[rows[-1], 1]


@pytest.mark.mpi
@pytest.mark.parametrize(
    ("double_layer", "filename", "initial_voltage_V"),
    [
        (True, "chen2020_double_layer_pulse.csv", 4.168898),
        (False, "chen2020_pulse_no_double_layer.csv", 4.037413),
    ],
)
def test_current_pulse_matches_pybamm(double_layer, filename, initial_voltage_V):
    reference = np.loadtxt(DATA / filename, delimiter=",", skiprows=1)
    arrays = run_pulse(double_layer)
    # V(0+): with the double layers at open circuit only the ohmic drop appears (PyBaMM README:
    # 4.168898 V); without, the kinetic and ohmic drop. 0.5 mV covers the x-mesh difference.
    assert abs(arrays["voltage_V"][0] - initial_voltage_V) < 0.5e-3
    for time_s in PROBE_TIMES_S:
        # Issue 4: within 2 mV of the reference at each probe time.
        assert abs(voltage_at(arrays, time_s) - reference_at(reference, time_s)) < 2e-3, time_s
    # End of the rest: relaxed voltage within 0.2 mV (both references agree to 3 uV there).
    assert abs(arrays["voltage_V"][-1] - reference[-1, 1]) < 0.2e-3
