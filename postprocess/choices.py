"""Names the post-processing commands accept, in a module that imports nothing heavy.

``electrolyx --help`` builds the parsers of ``plot``/``render``/``animate``/``report`` from these
without importing matplotlib or pyvista.
"""

from __future__ import annotations

__all__ = ["CAMERAS", "SUPPORTED_FORMATS"]

#: views of ``render`` (see :mod:`electrolyx.postprocess.render`)
CAMERAS = ("iso", "xy", "xz", "yz")

#: file formats of ``plot``'s figures
SUPPORTED_FORMATS = ("png", "pdf", "svg")
