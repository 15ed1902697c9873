"""Battery Parameter eXchange (BPX) JSON files read into :class:`CellParameters`.

BPX (Faraday Institution, https://github.com/FaradayInstitution/BPX) describes a DFN cell in SI
units. The file is validated by the ``bpx`` package (pydantic schema; legacy v0.x files are
converted to v1) and its validation errors are reported as ``BPXError`` naming each key. Values
then map onto the typed containers as follows (the conventions of the BPX standard, also used by
PyBaMM's importer):

* ``Transport efficiency`` eps^b gives the electrolyte Bruggeman exponent b = ln(TE) / ln(eps);
* ``Surface area per unit volume`` a_s gives the active volume fraction eps_s = a_s R / 3;
* electrode ``Conductivity`` is already effective (no Bruggeman correction, b_solid = 0);
* the exchange-current density is j0 = F k sqrt(c_e / c_e0) sqrt(x (1 - x)) with x = c_s / c_max,
  k the ``Reaction rate constant [mol.m-2.s-1]`` and c_e0 the initial electrolyte concentration,
  i.e. the law of :mod:`electrolyx.forms.exchange_current` with rate constant F k / (sqrt(c_e0)
  c_max); Butler-Volmer transfer coefficients alpha_a = alpha, alpha_c = 1 - alpha from PyBaMM's
  ``"Negative electrode charge transfer coefficient"`` (and positive) in the file's
  ``User-defined`` section, 0.5 when absent (BPX 1.x has no such key of its own);
* every transport property and rate constant carries an Arrhenius factor
  exp(E_a / R (1/T_ref - 1/T)) with the file's activation energy (0 when absent);
* U(x, T) = U(x) + (T - T_ref) dU/dT(x) with the ``Entropic change coefficient``;
* particle diffusivities are functions of the stoichiometry x, electrolyte properties of the
  concentration x = c_e [mol/m3];
* the electrode area times the number of electrode pairs in parallel is the cell's area;
* initial stoichiometries sit linearly in the window: x_n = x_n,min + SOC (x_n,max - x_n,min),
  x_p = x_p,max - SOC (x_p,max - x_p,min), SOC from the file's initial state (1 by default).

Functions given as strings become :class:`~electrolyx.parameters.expressions.SafeExpression`
(an AST whitelist, never ``eval``), tables become
:class:`~electrolyx.parameters.expressions.PiecewiseLinear`; both evaluate with numpy and UFL.

No string of the file ever reaches the ``bpx`` package: its validators turn function strings into
Python source and execute it (``Function.to_python_function``, called by its voltage-window
check, also leaves a temporary ``.py`` file per call). Before validation every string outside
``Header`` and the free-text ``Description`` entries is set aside and replaced by a constant
two-point table, which ``bpx`` accepts wherever a function is allowed and refuses where a number is
required; the texts are then read by :class:`SafeExpression` only. The file is read as strict
UTF-8 JSON of at most :data:`MAX_FILE_BYTES` bytes and :data:`MAX_NESTING` levels, without
NaN or Infinity; every function must give finite values over the electrode's stoichiometry
window (electrolyte functions: from 0.1 to 2 times the initial concentration).

Reading and validation are in :mod:`.bpx_validation`, the conversion into the typed containers
in :mod:`.bpx_conversion`, the checks of the converted values in :mod:`.bpx_checks`.
"""

import json
from pathlib import Path
from typing import Any

from .base import CellParameters
from .bpx_checks import _check_values
from .bpx_conversion import STOICHIOMETRY as STOICHIOMETRY
from .bpx_conversion import BPXFunction, _cell_parameters
from .bpx_validation import MAX_FILE_BYTES, MAX_NESTING, BPXError, _validate
from .expressions import ExpressionError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_NESTING",
    "BPXError",
    "BPXFunction",
    "bpx_to_cell_parameters",
    "read_bpx",
]


def bpx_to_cell_parameters(
    data: dict[str, Any], source: str = "BPX", initial_state_of_charge: float | None = None
) -> CellParameters:
    """A cell parameter set from a parsed BPX JSON object.

    Args:
        data: The JSON object (``json.load`` of a BPX file).
        source: Name of the file, quoted in errors and in the citation.
        initial_state_of_charge: Initial SOC in [0, 1] (default: the file's initial state,
            1 for v0.x files).

    Raises:
        BPXError: naming the key, for a file that does not validate or an expression outside
            the whitelist.
    """
    model, texts = _validate(data, source)
    try:
        cell_parameters = _cell_parameters(model, texts, source, initial_state_of_charge)
    except ExpressionError as error:
        raise BPXError(f"{source}: {error}") from None
    except (AttributeError, TypeError) as error:
        # An SPM or partial parameterisation validates but lacks what a DFN cell needs.
        raise BPXError(
            f"{source}: not a full DFN parameterisation (Cell, Electrolyte, Negative electrode, "
            f"Positive electrode and Separator with their transport properties): {error}"
        ) from None
    _check_values(cell_parameters, model.parameterisation, source)
    return cell_parameters


def read_bpx(path: str | Path, initial_state_of_charge: float | None = None) -> CellParameters:
    """Read, validate and convert a BPX JSON file.

    Args:
        path: The ``.json`` file.
        initial_state_of_charge: Initial SOC in [0, 1] (default: the file's initial state).

    Raises:
        BPXError: naming the file and, for invalid content, every offending key.
    """
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise BPXError(f"{path}: cannot read the BPX file ({error.strerror})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise BPXError(f"{path}: larger than {MAX_FILE_BYTES} bytes, too large for a BPX file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BPXError(
            f"{path}: not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start}); "
            "a BPX file is UTF-8 JSON"
        ) from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise BPXError(
            f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except RecursionError:
        raise BPXError(f"{path}: nested more than {MAX_NESTING} levels deep") from None
    except ValueError as error:  # NaN/Infinity, or an integer of more than 4300 digits
        raise BPXError(f"{path}: not valid BPX JSON: {error}") from None
    return bpx_to_cell_parameters(data, str(path), initial_state_of_charge)


def _refuse_constant(name: str) -> float:
    """``json.loads`` hook: NaN, Infinity and -Infinity are not numbers of a parameter file."""
    raise ValueError(f"{name} is not allowed (parameters are finite numbers)")
