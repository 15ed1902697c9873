"""Former home of the case schema; only :class:`CaseError` is left, re-exported.

The case settings are pydantic models in :mod:`electrolyx.settings`, and ``CaseError`` lives in
:mod:`electrolyx.errors`. This module keeps ``from electrolyx.schema import CaseError`` working
for code written against the old schema; new code imports from :mod:`electrolyx.errors`.
"""

from __future__ import annotations

from .errors import CaseError

__all__ = ["CaseError"]
