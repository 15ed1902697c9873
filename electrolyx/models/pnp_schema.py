"""Case-file schema of the Poisson-Nernst-Planck model (see :mod:`electrolyx.models.pnp`)."""

from __future__ import annotations

from ..mesh_input import mesh_variant
from ..schema import Key, NamedTables, Table, TableArray, Variant
from .base import case_table, output_table, solver_table, sweep_table

__all__ = ["SCHEMA"]

_POTENTIAL = Key("float", "Electric potential of the boundary (applied from t = 0).", unit="V")

BOUNDARY = Variant(
    "Boundary conditions by boundary name (physical-group name of the mesh). Boundaries not "
    "listed are blocking: no ion flux and no surface charge.",
    "kind",
    {
        "potential": Table(
            "Electrode or wall at a fixed potential (zeta potential); no ion flux.",
            {"potential": _POTENTIAL},
        ),
        "reservoir": Table(
            "Bulk reservoir: fixed potential and concentrations.",
            {
                "potential": Key(
                    "float", "Electric potential of the reservoir.", unit="V", default=0.0
                ),
                "concentrations": Key(
                    "floats",
                    "Concentration of each species, in [[species]] order (default: bulk).",
                    unit="mol/m3",
                    default=None,
                ),
            },
        ),
        "surface_charge": Table(
            "Charged wall: fixed surface charge density, no ion flux.",
            {"surface_charge_density": Key("float", "Surface charge density sigma.", unit="C/m2")},
        ),
        "stern": Table(
            "Metal at a fixed potential behind a Stern layer of given capacitance; no ion flux.",
            {
                "potential": _POTENTIAL,
                "stern_capacitance": Key(
                    "float",
                    "Stern-layer capacitance per area, C_S = eps_S / lambda_S.",
                    unit="F/m2",
                    low=0.0,
                    low_open=True,
                ),
            },
        ),
        "butler_volmer": Table(
            "Reactive electrode with Frumkin-corrected Butler-Volmer kinetics: one species is "
            "deposited or dissolved (M^z+ + z e- <-> M) at the reaction plane, which a Stern "
            "layer separates from the metal. j = j0 [exp(a_a z eta/V_T) - (c/c_bulk) "
            "exp(-a_c z eta/V_T)], eta = phi_M - phi(plane) - U, with c and phi taken at the "
            "plane (j > 0 anodic); the other species are blocked.",
            {
                "potential": Key("float", "Potential of the metal phi_M.", unit="V"),
                "species": Key("str", "Name of the reacting species (a [[species]] name)."),
                "exchange_current_density": Key(
                    "float",
                    "Exchange current density j0 at the bulk concentration.",
                    unit="A/m2",
                    low=0.0,
                    low_open=True,
                ),
                "equilibrium_potential": Key(
                    "float",
                    "Equilibrium potential U of the metal against the bulk electrolyte.",
                    unit="V",
                    default=0.0,
                ),
                "anodic_transfer_coefficient": Key(
                    "float", "alpha_a.", default=0.5, low=0.0, high=1.0
                ),
                "cathodic_transfer_coefficient": Key(
                    "float", "alpha_c.", default=0.5, low=0.0, high=1.0
                ),
                "stern_capacitance": Key(
                    "float",
                    "Stern-layer capacitance per area between metal and reaction plane.",
                    unit="F/m2",
                    low=0.0,
                    low_open=True,
                ),
            },
        ),
        "blocking": Table("No ion flux, no surface charge.", {}),
    },
)

STUDY = Variant(
    "What is solved: the steady state, or the evolution in time from a uniform bulk state.",
    "type",
    {
        "steady": Table("Steady state (needs a reservoir boundary).", {}),
        "transient": Table(
            "Evolution from the uniform bulk state (potential 0) with the boundary conditions "
            "applied at t = 0+ (a step), by variable-step BDF2 with local error control.",
            {
                "end_time": Key("float", "Final time.", unit="s", low=0.0, low_open=True),
                "initial_step": Key(
                    "float",
                    "First time step (default 1e-3 lambda_D^2 / D, the charging time scale).",
                    unit="s",
                    default=None,
                    low=0.0,
                    low_open=True,
                ),
                "max_step": Key(
                    "float",
                    "Largest time step (default end_time / 20).",
                    unit="s",
                    default=None,
                    low=0.0,
                    low_open=True,
                ),
                "relative_tolerance": Key(
                    "float",
                    "Local error tolerance of a step, relative.",
                    default=1e-3,
                    low=0.0,
                    low_open=True,
                ),
                "absolute_tolerance": Key(
                    "float",
                    "Local error tolerance of a step on ln(c/c_ref) and F phi/RT.",
                    default=1e-3,
                    low=0.0,
                    low_open=True,
                ),
                "output_times": Key(
                    "floats",
                    "Times at which fields and profiles are written (default: "
                    "`outputs_per_decade` log-spaced times).",
                    unit="s",
                    default=None,
                ),
                "outputs_per_decade": Key(
                    "int",
                    "Field outputs per decade of time when no output_times are given.",
                    default=3,
                    low=1,
                    high=100,
                ),
                "max_step_cuts": Key(
                    "int",
                    "How many times in a row a step may be cut by 4 after Newton failures.",
                    default=8,
                    low=0,
                    high=50,
                ),
            },
        ),
    },
    default="steady",
)

SCHEMA = Table(
    "Poisson-Nernst-Planck case.",
    {
        "case": case_table(("pnp",)),
        "electrolyte": Table(
            "The solvent and conditions.",
            {
                "temperature": Key(
                    "float", "Temperature.", unit="K", default=298.15, low=0.0, low_open=True
                ),
                "relative_permittivity": Key(
                    "float",
                    "Relative permittivity of the electrolyte (78.5 for water at 25 C).",
                    default=78.5,
                    low=0.0,
                    low_open=True,
                ),
            },
        ),
        "species": TableArray(
            "Ionic species; their bulk concentrations must be electroneutral.",
            Table(
                "One ionic species.",
                {
                    "name": Key("str", "Name used in output names (concentration_NAME_mol_m3)."),
                    "charge_number": Key("int", "Charge number z.", low=-10, high=10),
                    "diffusivity": Key(
                        "float", "Diffusion coefficient D.", unit="m2/s", low=0.0, low_open=True
                    ),
                    "bulk_concentration": Key(
                        "float",
                        "Bulk (reservoir and initial) concentration.",
                        unit="mol/m3",
                        low=0.0,
                        low_open=True,
                    ),
                },
            ),
            min_items=1,
            unique_key="name",
        ),
        "discretisation": Table(
            "Finite-element discretisation (P1 for the potential and every species).",
            {
                "quadrature_degree": Key(
                    "int",
                    "Quadrature degree of the volume integrals (default: UFL's estimate, 5 for "
                    "the Jacobian as exp(ln c) counts as degree + 2; 2 is exact for the P1 "
                    "terms without exp and cuts 3D assembly time about 2x).",
                    default=None,
                    low=1,
                    high=20,
                ),
            },
        ),
        "flow": Table(
            "Convection by a prescribed uniform solvent velocity.",
            {
                "velocity": Key(
                    "point", "Solvent velocity (none: no convection).", unit="m/s", default=None
                )
            },
        ),
        "mesh": mesh_variant(),
        "regions": NamedTables(
            "Regions (cell groups of the mesh) that are not electrolyte. Regions not listed "
            "are electrolyte.",
            Table(
                "A dielectric solid: only the potential is solved there (no ions).",
                {
                    "kind": Key(
                        "str", "Region kind.", default="dielectric", choices=("dielectric",)
                    ),
                    "relative_permittivity": Key(
                        "float",
                        "Relative permittivity (3.9 for silica).",
                        low=0.0,
                        low_open=True,
                    ),
                },
            ),
        ),
        "boundaries": NamedTables(BOUNDARY.doc, BOUNDARY),
        "study": STUDY,
        "solver": solver_table(),
        "output": output_table(
            probes=TableArray(
                "Points where the potential is written to timeseries.csv (potential_NAME_V).",
                Table(
                    "One probe.",
                    {
                        "name": Key("str", "Probe name."),
                        "point": Key("point", "Location.", unit="m"),
                    },
                ),
                unique_key="name",
            ),
            conductance=Table(
                "Four-probe conductance written to timeseries.csv as conductance_S (3D), "
                "conductance_S_m (2D, per metre depth) or conductance_S_m2 (1D, per area): the "
                "ionic current through `boundary` over the potential difference between "
                "`probe_start` and `probe_end`, scaled to `length`.",
                {
                    "boundary": Key("str", "Boundary whose ionic current is used.", default=None),
                    "probe_start": Key("point", "First voltage probe.", unit="m", default=None),
                    "probe_end": Key("point", "Second voltage probe.", unit="m", default=None),
                    "length": Key(
                        "float",
                        "Length the conductance refers to (the probes measure over "
                        "|probe_end - probe_start|).",
                        unit="m",
                        default=None,
                        low=0.0,
                        low_open=True,
                    ),
                },
            ),
        ),
        "sweep": sweep_table(),
    },
)
