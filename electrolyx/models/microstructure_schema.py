"""Case-file schema of the microstructure-resolved half cell (:mod:`.microstructure`)."""

from __future__ import annotations

from ..schema import Key, Table
from .base import case_table, output_table, solver_table
from .homogenise import SCHEMA as HOMOGENISE_SCHEMA

__all__ = ["SCHEMA"]

_LENGTH = {"unit": "m", "low": 0.0, "low_open": True}

#: The random-packing keys of the homogenisation case, plus the separator slab.
_PACKING = HOMOGENISE_SCHEMA.keys["microstructure"].variants["random_packing"]

SCHEMA = Table(
    "Microstructure-resolved half cell: particles of the positive electrode on a random packing, "
    "electrolyte in the pores and a separator slab, lithium-metal counter electrode.",
    {
        "case": case_table(("microstructure",)),
        "microstructure": Table(
            _PACKING.doc + " A particle-free separator slab follows x = L_x.",
            {
                **_PACKING.keys,
                "separator_thickness": Key(
                    "float",
                    "Thickness of the particle-free electrolyte slab between the packing and "
                    "the lithium counter electrode.",
                    **_LENGTH,
                ),
                "depth": Key(
                    "float",
                    "Out-of-plane depth of a 2D microstructure (currents and amounts are for "
                    "this depth); default L_y. Ignored in 3D.",
                    default=None,
                    **_LENGTH,
                ),
            },
            required=True,
        ),
        "parameters": Table(
            "Materials: the positive electrode and the electrolyte of a parameter set.",
            {
                "set": Key(
                    "str",
                    "Built-in parameter set; its positive electrode (particles) and electrolyte.",
                    default="Chen2020",
                    choices=("Chen2020",),
                ),
                "temperature": Key(
                    "float",
                    "Isothermal temperature (default: the set's ambient temperature).",
                    unit="K",
                    default=None,
                    low=0.0,
                    low_open=True,
                ),
                "initial_stoichiometry": Key(
                    "float",
                    "Initial c_s / c_s,max of the particles (default: the set's).",
                    default=None,
                    low=0.0,
                    high=1.0,
                    low_open=True,
                    high_open=True,
                ),
                "double_layer": Key(
                    "bool",
                    "Add the double-layer current C_dl d(phi_s - phi_e)/dt on the particle "
                    "surfaces (the set's C_dl).",
                    default=False,
                ),
                "lithium_exchange_current_density": Key(
                    "float",
                    "Exchange-current density of the lithium-metal counter electrode "
                    "(symmetric Butler-Volmer, alpha = 0.5).",
                    unit="A/m2",
                    default=10.0,
                    low=0.0,
                    low_open=True,
                ),
            },
        ),
        "discharge": Table(
            "Galvanostatic discharge (lithiation of the particles) until a cut-off voltage.",
            {
                "c_rate": Key(
                    "float",
                    "Current as a C-rate of the particles' capacity F V_s (c_s,max - c_s,0).",
                    unit="1/h",
                    low=0.0,
                    low_open=True,
                ),
                "cutoff_voltage": Key(
                    "float",
                    "Discharge ends when the voltage (vs Li/Li+) falls to this value "
                    "(default: the set's lower cut-off).",
                    unit="V",
                    default=None,
                    low=0.0,
                    low_open=True,
                ),
                "duration": Key(
                    "float",
                    "Longest discharge time (default: 1.2 hours over the C-rate).",
                    unit="s",
                    default=None,
                    low=0.0,
                    low_open=True,
                ),
                "time_step": Key(
                    "float", "Time step (implicit Euler).", unit="s", low=0.0, low_open=True
                ),
            },
            required=True,
        ),
        "solver": solver_table(
            relative_tolerance=1e-10,
            absolute_tolerance=1e-11,
            model_linear_solvers={
                "iterative": "GMRES preconditioned by a symmetric multiplicative field split "
                "over c_e, phi_e, c_s, phi_s with one GAMG V-cycle per field (large 3D packings, "
                "MPI).",
            },
            line_searches=("bt", "basic"),
            line_search_help="Newton's method on the unknowns and the collector voltage: `bt` "
            "backtracks on the residual norm, `basic` takes full steps.",
        ),
        "output": output_table(
            field_every=Key(
                "int",
                "Write fields and profiles (pore phase) every this many time steps and at the end.",
                default=10,
                low=1,
            )
        ),
    },
)
