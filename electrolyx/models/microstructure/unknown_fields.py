"""The half cell's unknowns by name and position, and the ids of its subdomains in the forms."""

from __future__ import annotations

#: Names of the unknowns, in block order.
FIELDS = (
    "electrolyte_concentration",
    "electrolyte_potential",
    "particle_concentration",
    "solid_potential_above_collector",
    "collector_voltage",
)
#: Short names of the fields in PETSc's field-split options (``fieldsplit_c_e_pc_type``).
FIELD_SPLIT_NAMES = dict(zip(FIELDS, ("c_e", "phi_e", "c_s", "phi_s", "V"), strict=True))
_SOLID, _VOLTAGE = 3, 4  # positions of psi = phi_s - V and of V

_ELECTROLYTE, _PARTICLES = 1, 2  # cell subdomain ids
_COUNTER, _COLLECTOR = 1, 2  # exterior facet subdomain ids
_INTERFACE = 1  # interior facet subdomain id
