"""Physical constants in SI units (exact values of the 2019 SI redefinition, CODATA 2018)."""

__all__ = [
    "AVOGADRO",
    "BOLTZMANN",
    "ELEMENTARY_CHARGE",
    "FARADAY",
    "GAS_CONSTANT",
    "VACUUM_PERMITTIVITY",
    "thermal_voltage",
]

ELEMENTARY_CHARGE = 1.602176634e-19  # C (exact)
AVOGADRO = 6.02214076e23  # 1/mol (exact)
BOLTZMANN = 1.380649e-23  # J/K (exact)
FARADAY = ELEMENTARY_CHARGE * AVOGADRO  # C/mol = 96485.33212...
GAS_CONSTANT = BOLTZMANN * AVOGADRO  # J/(mol K) = 8.314462618...
VACUUM_PERMITTIVITY = 8.8541878128e-12  # F/m (CODATA 2018)


def thermal_voltage(temperature):
    """Return V_T = RT/F in volts at ``temperature`` in kelvin (25.69 mV at 298.15 K).

    ``temperature`` may be a number or a UFL coefficient (a ``fem.Constant`` or a temperature
    ``fem.Function``): every law that needs RT/F takes it from here.
    """
    return GAS_CONSTANT * temperature / FARADAY
