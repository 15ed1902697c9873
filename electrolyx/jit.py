"""Many UFL forms compiled together, as one FFCx module.

``dolfinx.fem.form([...])`` compiles every form of a list as a module of its own: one FFCx
analysis and code generation, one C compiler run and one CFFI build per form, about 0.2 s apiece
of CPU. A block system of n unknowns has up to n + n^2 forms (the 1D DFN's residual and Jacobian
blocks are 34 forms), so on a first run, before the form cache holds them, most of the wait is
per-form overhead. :func:`forms` compiles all the forms of a nested list in one module and one C
compiler run, then gives each its mesh data as DOLFINx's precompiled-form interface
(:func:`dolfinx.fem.create_form`) does, through the same C++ constructor: the same kernels and
the same :class:`dolfinx.fem.Form` objects as ``dolfinx.fem.form`` makes, in the same nesting.

The module is cached like any other form module (electrolyx.form_cache_directory): a warm run
loads one shared library instead of one per form. The UFL signatures that name it are taken from
the form cache too when the same forms were compiled before (electrolyx.form_signatures).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dolfinx
import dolfinx.jit
import ffcx
import ffcx.codegeneration.jit
import numpy as np
import ufl
from dolfinx import cpp as _cpp
from dolfinx import fem
from dolfinx.fem.forms import form_cpp_creator, get_integration_domains

from electrolyx import form_signatures

__all__ = [
    "form_over",
    "form_parts",
    "forms",
    "integral_ids",
    "integration_domains",
    "sorted_unique",
]

#: the compiled modules, kept for as long as the process runs (their forms point into them)
_MODULES: list[Any] = []


def _compile_together(ufl_forms: list[ufl.Form], form_compiler_options: dict, jit_options: dict):
    compiled, module, _code = ffcx.codegeneration.jit.compile_forms(
        ufl_forms, options=form_compiler_options, **jit_options
    )
    return compiled, module


#: rank 0 compiles (or loads) first; the other ranks then load the cached module
_compile_on_rank_0_first = dolfinx.jit.mpi_jit_decorator(_compile_together)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``numpy.unique`` of integers, without importing ``numpy.ma`` (see below: 6-10 ms a run)."""
    values = np.sort(values)
    if values.size:
        values = values[np.concatenate(([True], values[1:] != values[:-1]))]
    return values


def integration_domains(
    integral_type: fem.IntegralType, tags: Any, subdomain_ids: Sequence[int]
) -> list[tuple[int, np.ndarray]]:
    """``dolfinx.fem.forms.get_integration_domains``, exterior facets found without NumPy sets.

    dolfinx intersects a tag's exterior facets with ``numpy.intersect1d``, whose ``unique``
    calls ``numpy.ma.is_masked``: the first call imports ``numpy.ma``, 6-10 ms of a 1D DFN run
    that otherwise never needs it. A tag's indices and the exterior facets are both sorted and
    unique, so keeping the tag's facets that are exterior (a mask over the facets) is the same
    array ``intersect1d`` returns. Other integral types: dolfinx's function.
    """
    if (
        integral_type is not fem.IntegralType.exterior_facet
        or tags is None
        or isinstance(tags, list)
    ):
        return get_integration_domains(integral_type, tags, list(subdomain_ids))
    topology = tags.topology
    tdim = topology.dim
    topology.create_connectivity(tdim - 1, tdim)
    topology.create_connectivity(tdim, tdim - 1)
    exterior = _cpp.mesh.exterior_facet_indices(topology)
    facets = topology.index_map(tdim - 1)
    is_exterior = np.zeros(facets.size_local + facets.num_ghosts, dtype=bool)
    is_exterior[exterior] = True
    domains = []
    for subdomain_id in subdomain_ids:
        entities = tags.find(subdomain_id)
        entities = entities[is_exterior[entities]]
        domain = _cpp.fem.compute_integration_domains(integral_type, topology, entities)
        domains.append((subdomain_id, np.array(domain)))
    return domains


def integral_ids(ufcx_form: Any) -> dict[fem.IntegralType, list[int]]:
    """The subdomain ids of a compiled form's integrals, per type, in the compiled order."""
    offsets = ufcx_form.form_integral_offsets
    return {
        fem.IntegralType(position): [
            ufcx_form.form_integral_ids[k] for k in range(offsets[position], offsets[position + 1])
        ]
        for position in range(len(fem.IntegralType))
    }


def _integration_domains(ufl_form: ufl.Form, ufcx_form: Any) -> dict:
    """Integral type -> [(subdomain id, integration entities)] for the compiled form's integrals."""
    (domain,) = ufl_form.subdomain_data().keys()
    data_by_type = ufl_form.subdomain_data()[domain]
    ids = integral_ids(ufcx_form)
    return {
        fem.IntegralType[name]: integration_domains(
            fem.IntegralType[name], subdomain_data[0], ids[fem.IntegralType[name]]
        )
        for name, subdomain_data in data_by_type.items()
    }


def _attach(ufl_form: ufl.Form, ufcx_form: Any, module: Any, entity_maps: Any) -> fem.Form:
    """The DOLFINx form of one compiled form: what ``dolfinx.fem.create_form`` makes.

    ``create_form`` finds the form's coefficients and constants by traversing the whole form
    twice more (``ufl.algorithms.extract_coefficients`` and ``extract_constants``); they are
    ``ufl_form.coefficients()`` and ``ufl_form.constants()``, the same lists in the same
    order (sorted by count), which the form has already computed.
    """
    coefficients = ufl_form.coefficients()
    constants = ufl_form.constants()
    if ufcx_form.num_constants != len(constants):
        raise RuntimeError(
            f"the compiled form has {ufcx_form.num_constants} constants, the UFL form "
            f"{len(constants)}"
        )
    positions = ufcx_form.original_coefficient_positions
    subdomains = _integration_domains(ufl_form, ufcx_form)
    for domains in subdomains.values():
        domains.sort(key=lambda domain: domain[0])
    cpp_form = form_cpp_creator(dolfinx.default_scalar_type)(
        module.ffi.cast("uintptr_t", module.ffi.addressof(ufcx_form)),
        [argument.ufl_function_space()._cpp_object for argument in ufl_form.arguments()],
        {
            f"w{i}": coefficients[positions[i]]._cpp_object
            for i in range(ufcx_form.num_coefficients)
        },
        {f"c{i}": constant._cpp_object for i, constant in enumerate(constants)},
        subdomains,
        [entity_map._cpp_object for entity_map in entity_maps or ()],
        ufl_form.ufl_domain().ufl_cargo(),
    )
    return fem.Form(cpp_form, ufcx_form, "", module)


def form_over(
    form: fem.Form,
    subdomains: dict[fem.IntegralType, list[tuple[int, np.ndarray]]],
    entity_maps: Sequence[Any] | None = None,
) -> fem.Form:
    """``form``'s compiled kernels, coefficients and constants over other integration entities.

    ``subdomains``: per integral type, (subdomain id, entities) sorted by id; an integral of
    the form whose id is not given is left out. DOLFINx's precompiled-form constructor, as
    :func:`forms` uses it; ``entity_maps`` those ``form`` was made with.
    """
    cpp_form = form._cpp_object
    module, ufcx_form = form.module, form.ufcx_form
    cpp_over = form_cpp_creator(dolfinx.default_scalar_type)(
        module.ffi.cast("uintptr_t", module.ffi.addressof(ufcx_form)),
        cpp_form.function_spaces,
        {f"w{i}": c for i, c in enumerate(cpp_form.coefficients)},
        {f"c{i}": c for i, c in enumerate(cpp_form.constants)},
        subdomains,
        [entity_map._cpp_object for entity_map in entity_maps or ()],
        cpp_form.mesh,
    )
    return fem.Form(cpp_over, ufcx_form, "", module)


#: The integral types :func:`form_parts` splits, in the order DOLFINx's assemblers visit them.
#: (DOLFINx 0.11: cells, then interior facets, then exterior facets; in another order the
#: sums differ in the last bit, tests/test_block_assembly.py.)
_SPLIT_TYPES = (
    fem.IntegralType.cell,
    fem.IntegralType.interior_facet,
    fem.IntegralType.exterior_facet,
)


def form_parts(
    form: fem.Form, max_bytes: int, entity_maps: Sequence[Any] | None = None
) -> list[fem.Form]:
    """The form as forms over consecutive parts of its integrals' entities.

    Each integral whose packed coefficients (per entity, cell or facet, every coefficient's
    dofs on its cell, both cells of an interior facet) would take more than ``max_bytes`` is
    split into as few consecutive parts of its entities as keep each part's within that;
    every part is a form of its own with one integral's entities (those before it left empty),
    with the form's compiled kernels, coefficients and constants (the constructor
    :func:`dolfinx.fem.create_form` uses, as :func:`forms` does). The parts come in the order
    DOLFINx assembles the form (integral type by type, each type's integrals by subdomain id,
    each integral's entities in order), so that assembled one after the other they add the
    same values in the same order: the same vector and matrix bit for bit in serial (in
    parallel PETSc sums the entries other ranks add in an order of its own). What it is for: the
    coefficients packed for an assembly (per entity, every coefficient's dofs) are then one
    part's, not those of every cell of the mesh at once. The parts hold the form's entity
    lists once between them.

    A form with an integral over all entities of a type (subdomain id -1, whose entities
    DOLFINx finds itself) or of another type (vertex, ridge) comes back whole, as does one
    whose integrals are all within the limit (one without coefficients always): ``[form]``.
    (:mod:`electrolyx.chunked_assembly` does the like for the steady PNP's residual, whose
    whole-mesh cell integrals it compiles under a subdomain id of their own for it.)
    """
    cpp_form = form._cpp_object
    integrals: list[tuple[fem.IntegralType, int, np.ndarray]] = []
    for integral_type in cpp_form.integral_types:
        if fem.IntegralType(integral_type.value) not in _SPLIT_TYPES:
            return [form]
    ids = integral_ids(form.ufcx_form)
    for integral_type in _SPLIT_TYPES:
        for k, subdomain_id in enumerate(ids[integral_type]):
            if subdomain_id < 0:
                return [form]
            integrals.append((integral_type, subdomain_id, cpp_form.domains(integral_type, k)))
    # a pack's bytes per entity: every coefficient's dofs on a cell, on both cells of a facet
    # of the interior, in the form's scalar type
    width = sum(c.function_space.element.space_dimension for c in cpp_form.coefficients)
    entity_bytes = width * np.dtype(form.dtype).itemsize
    max_entities = [
        max(max_bytes // (entity_bytes * (2 if t == fem.IntegralType.interior_facet else 1)), 1)
        if entity_bytes
        else entities.shape[0]
        for t, _, entities in integrals
    ]
    if all(e.shape[0] <= m for (_, _, e), m in zip(integrals, max_entities, strict=True)):
        return [form]
    empty = np.zeros(0, dtype=np.int32)
    parts = []
    for position, (integral_type, subdomain_id, entities) in enumerate(integrals):
        # The integrals of the same type before this one, over no entity (DOLFINx numbers a
        # type's integrals by position); the others left out of the part (an integral without
        # entities given is not made: no entity map inverted for it, which is what a part
        # costs to make, O(submesh cells) per integral and argument on a submesh).
        before = [
            (other_id, empty)
            for other_type, other_id, _ in integrals[:position]
            if other_type == integral_type
        ]
        count = max(-(-entities.shape[0] // max_entities[position]), 1)
        for chunk in np.array_split(entities, count):
            part = [*before, (subdomain_id, np.ascontiguousarray(chunk).ravel())]
            parts.append(form_over(form, {integral_type: part}, entity_maps))
    return parts


def forms(nested: Any, entity_maps: Sequence[Any] | None = None) -> Any:
    """``dolfinx.fem.form(nested, entity_maps=...)``, with all its forms compiled as one module.

    Args:
        nested: A UFL form, or a (nested) list of UFL forms, zero forms and ``None``.
        entity_maps: Entity maps of the submeshes the forms' arguments and coefficients live on.

    Returns:
        The DOLFINx forms, nested as ``nested`` (``None`` stays ``None``).
    """
    leaves: list[ufl.Form] = []

    def collect(item: Any) -> None:
        if isinstance(item, ufl.Form):
            leaves.append(item)
        elif isinstance(item, (list, tuple)):
            for sub_item in item:
                collect(sub_item)

    collect(nested)
    if not leaves:
        return fem.form(nested, entity_maps=entity_maps)
    comm = leaves[0].ufl_domain().ufl_cargo().comm
    form_compiler_options = ffcx.get_options({"scalar_type": dolfinx.default_scalar_type})
    jit_options = dolfinx.jit.get_options()
    unstored_key = form_signatures.prime(leaves, jit_options["cache_dir"])
    compiled, module = _compile_on_rank_0_first(comm, leaves, form_compiler_options, jit_options)
    if unstored_key is not None and comm.rank == 0:
        form_signatures.store(leaves, jit_options["cache_dir"], unstored_key)
    _MODULES.append(module)
    built = {
        id(ufl_form): _attach(ufl_form, ufcx_form, module, entity_maps)
        for ufl_form, ufcx_form in zip(leaves, compiled, strict=True)
    }

    def rebuild(item: Any) -> Any:
        if isinstance(item, ufl.Form):
            return built[id(item)]
        if isinstance(item, (list, tuple)):
            return [rebuild(sub_item) for sub_item in item]
        return fem.form(item, entity_maps=entity_maps)  # zero forms, None

    result = rebuild(nested)
    # (rebuild calls itself: a reference cycle, which holds ``built`` until the cycle collector
    # runs, and never once gc.freeze has frozen it (electrolyx.collector); emptied, the forms
    # go as soon as the caller lets them go, as BlockAssembler.split_forms needs)
    built.clear()
    return result
