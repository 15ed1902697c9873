"""Typed case settings: one pydantic model per model, validated once per run.

:func:`resolve_settings` turns a parsed ``case.toml`` into the resolved settings dict that the
models read (every default filled in, ``settings["parameters"]["set"]`` etc.), or raises
:class:`~electrolyx.errors.CaseError` with every problem, each naming the dotted key, the value
and what is allowed. :mod:`electrolyx.case` calls it once per run; the model's
``check_consistency`` then does the checks that need files (mesh files, BPX files, parameter
sets).

Modules: :mod:`.base` (the strict base table), :mod:`.common` (``[case]``, ``[solver]``,
``[output]``, ``[sweep]``, kinetics), one module per model (:mod:`.pnp` with :mod:`.mesh`,
:mod:`.dfn`, :mod:`.microstructure`, :mod:`.homogenise`), :mod:`.translate` (pydantic errors
into case problems), :mod:`.describe` and :mod:`.reference` (the same fields in words, and
docs/case-format.md), :mod:`.keys` (dotted keys) and :mod:`.unused` (keys not used yet).
Nothing here imports dolfinx, PETSc or matplotlib: ``electrolyx check`` starts fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from .base import SettingsTable
from .translate import validate_settings

__all__ = ["SETTINGS", "SettingsTable", "resolve_settings", "validate_settings"]

#: model name (``[case] model``) -> (module, class) of its settings model
_SETTINGS_CLASSES = {
    "pnp": (".pnp", "PNPSettings"),
    "dfn": (".dfn", "DFNSettings"),
    "homogenise": (".homogenise", "HomogeniseSettings"),
    "microstructure": (".microstructure", "MicrostructureSettings"),
}


class _SettingsByModel(Mapping[str, type[SettingsTable]]):
    """Model name -> its settings model, each module imported when first asked for.

    pydantic builds a model's validators when its class is created: a DFN run does not pay
    for the PNP's, the microstructure's and the homogenisation's.
    """

    def __getitem__(self, model: str) -> type[SettingsTable]:
        module, name = _SETTINGS_CLASSES[model]
        return getattr(importlib.import_module(module, __name__), name)

    def __iter__(self) -> Iterator[str]:
        return iter(_SETTINGS_CLASSES)

    def __len__(self) -> int:
        return len(_SETTINGS_CLASSES)


#: model name (``[case] model``) -> its settings model
SETTINGS: Mapping[str, type[SettingsTable]] = _SettingsByModel()


def resolve_settings(model: str, document: dict[str, Any]) -> dict[str, Any]:
    """The resolved settings of a case of ``model``: validated, defaults filled in.

    Raises:
        CaseError: listing every problem, each naming the key, the value and what is allowed.
    """
    return validate_settings(SETTINGS[model], document).model_dump()
