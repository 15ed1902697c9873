"""Thermal parameters of a cell by their PyBaMM names: heat capacities, conductivities, cooling.

:class:`ThermalParameters` holds, for each layer of the stack (negative current collector,
negative electrode, separator, positive electrode, positive current collector), its density
[kg/m3], specific heat capacity [J/(kg K)] and thermal conductivity [W/(m K)], the collectors'
thicknesses, and the cell's cooling: total heat transfer coefficient [W/(m2 K)], cooled surface
area [m2] and volume [m3] (the lumped model's), and the initial temperature. Every value may be
missing (None); :meth:`ThermalParameters.missing` lists what a thermal model needs and lacks.

:data:`CHEN2020_THERMAL` are the values of PyBaMM's ``Chen2020`` set (pybamm 26.10,
``pybamm.ParameterValues("Chen2020")``), which takes them from C.-H. Chen et al., J.
Electrochem. Soc. 167, 080534 (2020) for the LG M50 cell's dimensions and from standard values
of copper, aluminium and the electrode materials for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = [
    "CHEN2020_THERMAL",
    "LAYERS",
    "ThermalParameters",
    "thermal_parameter_names",
]

#: Layer attribute prefix -> its PyBaMM title.
LAYERS = {
    "negative_current_collector": "Negative current collector",
    "negative_electrode": "Negative electrode",
    "separator": "Separator",
    "positive_electrode": "Positive electrode",
    "positive_current_collector": "Positive current collector",
}

#: Attribute suffix -> PyBaMM name suffix of each layer's properties.
_PROPERTIES = {
    "density_kg_m3": "density [kg.m-3]",
    "specific_heat_capacity_J_kg_K": "specific heat capacity [J.kg-1.K-1]",
    "thermal_conductivity_W_m_K": "thermal conductivity [W.m-1.K-1]",
}


@dataclass(frozen=True)
class ThermalParameters:
    """Heat capacities, conductivities and cooling of a cell (None: not given by the set)."""

    negative_current_collector_density_kg_m3: float | None = None
    negative_current_collector_specific_heat_capacity_J_kg_K: float | None = None
    negative_current_collector_thermal_conductivity_W_m_K: float | None = None
    negative_electrode_density_kg_m3: float | None = None
    negative_electrode_specific_heat_capacity_J_kg_K: float | None = None
    negative_electrode_thermal_conductivity_W_m_K: float | None = None
    separator_density_kg_m3: float | None = None
    separator_specific_heat_capacity_J_kg_K: float | None = None
    separator_thermal_conductivity_W_m_K: float | None = None
    positive_electrode_density_kg_m3: float | None = None
    positive_electrode_specific_heat_capacity_J_kg_K: float | None = None
    positive_electrode_thermal_conductivity_W_m_K: float | None = None
    positive_current_collector_density_kg_m3: float | None = None
    positive_current_collector_specific_heat_capacity_J_kg_K: float | None = None
    positive_current_collector_thermal_conductivity_W_m_K: float | None = None
    negative_current_collector_thickness_m: float | None = None
    positive_current_collector_thickness_m: float | None = None
    total_heat_transfer_coefficient_W_m2_K: float | None = None
    cell_cooling_surface_area_m2: float | None = None
    cell_volume_m3: float | None = None
    initial_temperature_K: float | None = None

    def volumetric_heat_capacity_J_m3_K(self, layer: str) -> float:
        """Rho c_p of a layer (a key of :data:`LAYERS`) [J/(m3 K)]."""
        density = getattr(self, f"{layer}_density_kg_m3")
        specific = getattr(self, f"{layer}_specific_heat_capacity_J_kg_K")
        return density * specific

    def conductivity_W_m_K(self, layer: str) -> float:
        """Lambda of a layer (a key of :data:`LAYERS`) [W/(m K)]."""
        return getattr(self, f"{layer}_thermal_conductivity_W_m_K")

    def missing(self, model: str) -> list[str]:
        """PyBaMM names of the values ``model`` ("lumped" or "x-full") needs and lacks."""
        names = thermal_parameter_names()
        needed = [
            f"{prefix}_{suffix}"
            for prefix in LAYERS
            for suffix in _PROPERTIES
            if model == "x-full" or not suffix.startswith("thermal")
        ]
        needed += [
            "negative_current_collector_thickness_m",
            "positive_current_collector_thickness_m",
        ]
        needed.append("total_heat_transfer_coefficient_W_m2_K")
        if model == "lumped":
            needed += ["cell_cooling_surface_area_m2", "cell_volume_m3"]
        by_field = {field: name for name, field in names.items()}
        return [by_field[field] for field in needed if getattr(self, field) is None]


def thermal_parameter_names() -> dict[str, str]:
    """PyBaMM name -> attribute of :class:`ThermalParameters`, for every thermal value."""
    names = {
        f"{title} {suffix_name}": f"{prefix}_{suffix}"
        for prefix, title in LAYERS.items()
        for suffix, suffix_name in _PROPERTIES.items()
    }
    names.update(
        {
            "Negative current collector thickness [m]": "negative_current_collector_thickness_m",
            "Positive current collector thickness [m]": "positive_current_collector_thickness_m",
            "Total heat transfer coefficient [W.m-2.K-1]": (
                "total_heat_transfer_coefficient_W_m2_K"
            ),
            "Cell cooling surface area [m2]": "cell_cooling_surface_area_m2",
            "Cell volume [m3]": "cell_volume_m3",
            "Initial temperature [K]": "initial_temperature_K",
        }
    )
    assert set(names.values()) == {f.name for f in fields(ThermalParameters)}
    return names


#: PyBaMM's Chen2020 thermal values (pybamm 26.10), SI units.
CHEN2020_THERMAL = ThermalParameters(
    negative_current_collector_density_kg_m3=8960.0,
    negative_current_collector_specific_heat_capacity_J_kg_K=385.0,
    negative_current_collector_thermal_conductivity_W_m_K=401.0,
    negative_electrode_density_kg_m3=1657.0,
    negative_electrode_specific_heat_capacity_J_kg_K=700.0,
    negative_electrode_thermal_conductivity_W_m_K=1.7,
    separator_density_kg_m3=397.0,
    separator_specific_heat_capacity_J_kg_K=700.0,
    separator_thermal_conductivity_W_m_K=0.16,
    positive_electrode_density_kg_m3=3262.0,
    positive_electrode_specific_heat_capacity_J_kg_K=700.0,
    positive_electrode_thermal_conductivity_W_m_K=2.1,
    positive_current_collector_density_kg_m3=2700.0,
    positive_current_collector_specific_heat_capacity_J_kg_K=897.0,
    positive_current_collector_thermal_conductivity_W_m_K=237.0,
    negative_current_collector_thickness_m=1.2e-5,
    positive_current_collector_thickness_m=1.6e-5,
    total_heat_transfer_coefficient_W_m2_K=10.0,
    cell_cooling_surface_area_m2=0.00531,
    cell_volume_m3=2.42e-5,
    initial_temperature_K=298.15,
)
