"""Models that solve case files, looked up by the name in ``[case] model``.

Modules are imported only when their model is used, so ``electrolyx cases`` stays fast.
"""

from __future__ import annotations

import importlib

__all__ = ["MODELS", "model_class"]

#: model name -> (module, class name, one-line description)
MODELS: dict[str, tuple[str, str, str]] = {
    "pnp": (
        "electrolyx.models.pnp",
        "PoissonNernstPlanck",
        "Poisson-Nernst-Planck ion transport where electroneutrality fails",
    ),
    "dfn": (
        "electrolyx.models.dfn.case",
        "DFNCase",
        "Doyle-Fuller-Newman lithium-ion cell (porous electrodes, particles, kinetics)",
    ),
    "homogenise": (
        "electrolyx.models.homogenise",
        "Homogenisation",
        "Homogenisation: porosity, surface area, tortuosity of a resolved microstructure",
    ),
    "microstructure": (
        "electrolyx.models.microstructure",
        "MicrostructureHalfCell",
        "Microstructure-resolved half cell (particles, pores, lithium counter electrode)",
    ),
}


def model_class(name: str) -> type:
    """The model class registered under ``name``."""
    module, cls, _ = MODELS[name]
    return getattr(importlib.import_module(module), cls)
