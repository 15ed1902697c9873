"""UFL form signatures of many forms at once, from one traversal of their shared expressions.

FFCx names a compiled module after the UFL signatures of its forms
(:meth:`ufl.Form.signature`), and it computes them even when the module is already in the form
cache: on a warm run of the default DFN case that was 0.2 s of the whole 1.7 s. UFL hashes every
node of each form separately (one SHA-512 per node and form), while the residual and Jacobian
blocks of a block system share most of their expression graph: the 1D DFN's 43 forms have 10,432
nodes form by form but 1,400 distinct ones.

:func:`key` serialises the whole list of forms once: every distinct node as its UFL type code and
the numbers of its operands, every terminal as the data UFL's signature takes of it (element,
function space, mesh, value of a literal), numbered over the whole list, and for each form its
integrals (integrand, integral type, domain, subdomain, metadata) and UFL's own renumbering of
its coefficients, constants, arguments' domains and indices. That is everything UFL's form
signature is computed from, so two lists of forms with the same key have the same signatures;
the SHA-256 of it is the key. :func:`prime` looks the key up among the signatures stored by an
earlier run (in the form cache, ``signatures/``) and gives each form its stored signature;
:func:`store` records them after FFCx has computed them. A key that is not found (a changed
form, another parameter set's open-circuit potential, another UFL) only costs UFL's own
computation, as before.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import ufl
from ufl.algorithms.domain_analysis import canonicalize_metadata
from ufl.classes import (
    Argument,
    Coefficient,
    Constant,
    ConstantValue,
    GeometricQuantity,
    Index,
    Label,
    MultiIndex,
)
from ufl.corealg.traversal import unique_post_traversal

__all__ = ["key", "prime", "store"]

#: bump when the serialisation below changes
_FORMAT = 2
#: terminals whose signature data UFL takes from ``_ufl_signature_data_(renumbering)``
_DATA_TERMINALS = (ConstantValue, Coefficient, Constant, Argument, GeometricQuantity, Label)


def _renumbering(form: ufl.Form) -> dict | None:
    """The numbers UFL's signature gives the form's meshes, coefficients and constants.

    UFL's ``Form.terminal_numbering`` numbers the coefficients, and the constants, from 0 in
    the order of their counts: the order of ``form.coefficients()`` and ``form.constants()``,
    which the form has computed already (DOLFINx needs them), while ``terminal_numbering``
    traverses the whole form once more. Its other entries (indices, variables' labels) do not
    enter the signature through the renumbering: indices are numbered by position, and a label
    outside it signs with its own count, which the key then holds. None for a coefficient of
    another kind (a cofunction), numbered by UFL among its own kind.
    """
    renumbering = dict(form.domain_numbering())
    for number, coefficient in enumerate(form.coefficients()):
        if coefficient._counted_class is not Coefficient:
            return None
        renumbering[coefficient] = number
    for number, constant in enumerate(form.constants()):
        renumbering[constant] = number
    return renumbering


def key(forms: list[ufl.Form]) -> str | None:
    """SHA-256 of everything the UFL signatures of ``forms`` depend on; None if unsure.

    None (UFL's own signatures are then computed) for a form with a terminal this function
    does not know.
    """
    renumberings = []
    numbering: dict = {}  # every renumbered object of every form -> one number for the list
    for form in forms:
        renumbering = _renumbering(form)
        if renumbering is None:
            return None
        renumberings.append(renumbering)
        for item in renumbering:
            numbering.setdefault(item, len(numbering))
    index_numbering: dict[Index, int] = {}
    node_numbers: dict = {}  # node -> its position in `nodes` (UFL's equality, as UFL traverses)
    nodes: list = []
    visited: set = set()
    form_data = []
    for form, renumbering in zip(forms, renumberings, strict=True):
        integrals = []
        for integral in form.integrals():
            integrand = integral.integrand()
            for node in unique_post_traversal(integrand, visited):
                if node._ufl_is_terminal_:
                    if isinstance(node, MultiIndex):
                        data = tuple(
                            index_numbering.setdefault(i, -len(index_numbering) - 1)
                            if isinstance(i, Index)
                            else int(i)
                            for i in node
                        )
                    elif isinstance(node, _DATA_TERMINALS):
                        data = node._ufl_signature_data_(numbering)
                    else:
                        return None
                    nodes.append((node._ufl_typecode_, data))
                else:
                    operands = tuple(node_numbers[op] for op in node.ufl_operands)
                    nodes.append((node._ufl_typecode_, operands))
                node_numbers[node] = len(nodes) - 1
            extra_domains = integral.extra_domain_integral_type_map()
            integrals.append(
                (
                    node_numbers[integrand],
                    integral.ufl_domain()._ufl_signature_data_(numbering),
                    integral.integral_type(),
                    tuple(
                        (domain._ufl_signature_data_(numbering), integral_type)
                        for domain, integral_type in extra_domains.items()
                    ),
                    integral.subdomain_id(),
                    canonicalize_metadata(integral.metadata()),
                )
            )
        own_numbers = sorted((numbering[item], number) for item, number in renumbering.items())
        form_data.append((integrals, own_numbers))
    text = repr((_FORMAT, ufl.__version__, nodes, form_data))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _path(cache_dir: str | os.PathLike, form_key: str) -> Path:
    return Path(cache_dir) / "signatures" / f"{form_key}.json"


def prime(forms: list[ufl.Form], cache_dir: str | os.PathLike) -> str | None:
    """Give ``forms`` the UFL signatures stored under their key; the key if none are stored.

    Returns None when the forms got their stored signatures (or have no key), else the key to
    :func:`store` their signatures under once they are computed.
    """
    form_key = key(forms)
    if form_key is None:
        return None
    try:
        signatures = json.loads(_path(cache_dir, form_key).read_text())
    except (OSError, ValueError):
        return form_key
    if not isinstance(signatures, list) or len(signatures) != len(forms):
        return form_key
    for form, signature in zip(forms, signatures, strict=True):
        form._signature = signature
    return None


def store(forms: list[ufl.Form], cache_dir: str | os.PathLike, form_key: str) -> None:
    """Record the UFL signatures of ``forms`` under ``form_key`` (atomically; errors ignored)."""
    path = _path(cache_dir, form_key)
    signatures = [form.signature() for form in forms]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_text(json.dumps(signatures))
        os.replace(partial, path)
    except OSError:
        pass
