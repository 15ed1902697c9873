"""Case-file schema of the Doyle-Fuller-Newman model (see :mod:`electrolyx.models.dfn.case`)."""

from __future__ import annotations

from ..schema import Key, Table
from .base import case_table, output_table, sweep_table

__all__ = ["PARAMETER_SETS", "SCHEMA"]

#: parameter-set name -> factory in electrolyx.parameters
PARAMETER_SETS = {"Chen2020": "chen2020", "Marquis2019": "marquis2019", "Ecker2015": "ecker2015"}

SCHEMA = Table(
    "Doyle-Fuller-Newman lithium-ion cell.",
    {
        "case": case_table(("dfn",)),
        "parameters": Table(
            "Cell parameters and physics options.",
            {
                "set": Key(
                    "str",
                    "Built-in parameter set (named after its paper).",
                    default="Chen2020",
                    choices=tuple(PARAMETER_SETS),
                ),
                "bpx_file": Key(
                    "str",
                    "Battery Parameter eXchange (BPX) JSON file, relative to the case folder; "
                    "when given it replaces `set` (see electrolyx.parameters.bpx).",
                    default=None,
                ),
                "initial_state_of_charge": Key(
                    "float",
                    "Initial state of charge of a BPX cell (default: the file's initial state); "
                    "only with bpx_file.",
                    default=None,
                    low=0.0,
                    high=1.0,
                ),
                "temperature": Key(
                    "float",
                    "Isothermal temperature (default: the set's ambient temperature).",
                    unit="K",
                    default=None,
                    low=0.0,
                    low_open=True,
                ),
                "double_layer": Key(
                    "bool",
                    "Add the double-layer current a_s C_dl d(phi_s - phi_e)/dt (the set's C_dl).",
                    default=False,
                ),
            },
        ),
        "cell": Table(
            "Cell configuration: a full cell, or a half cell against lithium metal.",
            {
                "configuration": Key(
                    "str",
                    '"full": negative electrode | separator | positive electrode; "half": '
                    "separator | positive electrode with a lithium-metal counter electrode at "
                    "the separator's outer end (the set's negative electrode is not used).",
                    default="full",
                    choices=("full", "half"),
                ),
                "lithium_exchange_current_density": Key(
                    "float",
                    "Exchange-current density j0_Li of the lithium-metal counter electrode "
                    '(symmetric Butler-Volmer, OCP 0 V); only with configuration = "half".',
                    unit="A/m2",
                    default=None,
                    low=0.0,
                    low_open=True,
                ),
            },
        ),
        "mesh": Table(
            "Cells across each region (gmsh interval) and radial points of the particles.",
            {
                "negative_cells": Key(
                    "int", "Cells across the negative electrode.", default=20, low=1
                ),
                "separator_cells": Key("int", "Cells across the separator.", default=6, low=1),
                "positive_cells": Key(
                    "int", "Cells across the positive electrode.", default=20, low=1
                ),
                "negative_radial_points": Key(
                    "int", "Radial nodes of the negative particles.", default=20, low=3, high=200
                ),
                "positive_radial_points": Key(
                    "int", "Radial nodes of the positive particles.", default=20, low=3, high=200
                ),
                "radial_surface_refinement": Key(
                    "float",
                    "Exponent p of the radial grid r_k = R (1 - (1 - k/N)^p) (1 = uniform).",
                    default=2.0,
                    low=1.0,
                    high=4.0,
                ),
            },
        ),
        "geometry": Table(
            "Cell geometry: the 1D cell (P2D), a 2D cross-section (P3D) or a 3D pouch stack "
            "(P4D) with resolved current-collector foils and tabs (electrolyx.meshes.pouch). "
            "x runs through the stack; the height along y (2D) or z (3D), the width along y "
            "(3D). The mesh stands for one of A / (height x width) identical layer pairs of the "
            "set's electrode area A (2D: width 1 m).",
            {
                "dimension": Key("int", "1, 2 or 3.", default=1, low=1, high=3),
                "height": Key(
                    "float",
                    "Electrode height (2D and 3D).",
                    unit="m",
                    default=None,
                    low=0.0,
                    low_open=True,
                ),
                "height_cells": Key("int", "Cells along the height.", default=10, low=1),
                "width": Key(
                    "float",
                    "Electrode width (3D only).",
                    unit="m",
                    default=None,
                    low=0.0,
                    low_open=True,
                ),
                "width_cells": Key("int", "Cells along the width (3D).", default=10, low=1),
                "negative_foil_thickness": Key(
                    "float",
                    "Thickness of the negative current-collector foil, resolved as a conducting "
                    "layer; 0: no foil, the negative terminal is the electrode's outer face.",
                    unit="m",
                    default=0.0,
                    low=0.0,
                ),
                "negative_foil_conductivity": Key(
                    "float",
                    "Electronic conductivity of the negative foil (copper; PyBaMM's Chen2020 "
                    "value).",
                    unit="S/m",
                    default=58411000.0,
                    low=0.0,
                    low_open=True,
                ),
                "positive_foil_thickness": Key(
                    "float",
                    "Thickness of the positive current-collector foil; 0: no foil.",
                    unit="m",
                    default=0.0,
                    low=0.0,
                ),
                "positive_foil_conductivity": Key(
                    "float",
                    "Electronic conductivity of the positive foil (aluminium; PyBaMM's Chen2020 "
                    "value).",
                    unit="S/m",
                    default=36914000.0,
                    low=0.0,
                    low_open=True,
                ),
                "foil_cells": Key("int", "Cells across each foil.", default=1, low=1),
                "tabs": Key(
                    "bool",
                    "Terminals on tabs that leave the foils at the top edge (needs both foils; "
                    "a half cell: the positive one); false: on the outer faces of the stack.",
                    default=False,
                ),
                "negative_tab": Key(
                    "floats",
                    "Span [start, end] of the negative tab along the width (3D with tabs).",
                    unit="m",
                    default=None,
                ),
                "positive_tab": Key(
                    "floats",
                    "Span [start, end] of the positive tab along the width (3D with tabs).",
                    unit="m",
                    default=None,
                ),
                "tab_length": Key(
                    "float",
                    "How far the tabs stick out beyond the top edge.",
                    unit="m",
                    default=0.01,
                    low=0.0,
                    low_open=True,
                ),
                "tab_cells": Key("int", "Cells along a tab's length.", default=2, low=1),
            },
        ),
        "experiment": Table(
            "The protocol: PyBaMM-style sentences run in order (see electrolyx.experiment).",
            {
                "steps": Key(
                    "strs",
                    'Steps, e.g. "Discharge at 1C until 2.5 V", "Rest for 1 hour", '
                    '"Charge at 0.5C until 4.2 V", "Hold at 4.2 V until C/50", '
                    '"Discharge at 5 W for 10 minutes".',
                    default=[],
                ),
                "drive_cycle": Key(
                    "str",
                    "CSV file (relative to the case folder) with columns time_s, current_A "
                    "(positive on discharge), run after the steps: the current is linear between "
                    "the rows; the run stops at the end or at the set's voltage cut-offs.",
                    default=None,
                ),
                "repeat": Key("int", "How many times the steps run.", default=1, low=1),
            },
            required=True,
        ),
        "time_stepping": Table(
            "Adaptive BDF1/BDF2 time stepping with local error control.",
            {
                "relative_tolerance": Key(
                    "float", "Local error tolerance, relative.", default=1e-3, low=0, low_open=True
                ),
                "absolute_tolerance": Key(
                    "float",
                    "Local error tolerance, absolute on scaled concentrations.",
                    default=1e-6,
                    low=0,
                    low_open=True,
                ),
                "max_step": Key(
                    "float", "Largest time step.", unit="s", default=60.0, low=0, low_open=True
                ),
            },
        ),
        "output": output_table(
            profile_times=Key(
                "floats",
                "Times at which profiles and fields are written (steps land on them); the "
                "state at t = 0 and at the end of every step is always written.",
                unit="s",
                default=[],
            )
        ),
        "sweep": sweep_table(),
    },
)
