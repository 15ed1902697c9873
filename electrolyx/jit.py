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

__all__ = ["forms", "integration_domains", "sorted_unique"]

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


def _integration_domains(ufl_form: ufl.Form, ufcx_form: Any) -> dict:
    """Integral type -> [(subdomain id, integration entities)] for the compiled form's integrals."""
    (domain,) = ufl_form.subdomain_data().keys()
    data_by_type = ufl_form.subdomain_data()[domain]
    offsets = ufcx_form.form_integral_offsets
    ids: dict[str, list[int]] = {}
    for position in range(len(fem.IntegralType)):
        integral_type = fem.IntegralType(position)
        ids[integral_type.name] = [
            ufcx_form.form_integral_ids[k] for k in range(offsets[position], offsets[position + 1])
        ]
    return {
        fem.IntegralType[name]: integration_domains(
            fem.IntegralType[name], subdomain_data[0], ids[name]
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

    return rebuild(nested)
