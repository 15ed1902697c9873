"""Sums of many UFL forms built as one form.

Every ``+`` of two ``ufl.Form`` objects makes a new Form, and a Form's constructor traverses
all its integrands (to list their constants): adding n terms one by one traverses the growing
sum n times. :func:`sum_forms` makes the one Form of all the terms' integrals, in the order a
chain of ``+`` gives them, so the result is the same form (the same UFL signature, the same
compiled module).
"""

from __future__ import annotations

from collections.abc import Iterable

import ufl

__all__ = ["sum_forms"]


def sum_forms(terms: Iterable[ufl.Form]) -> ufl.Form | int:
    """``terms[0] + terms[1] + ...`` as one ``ufl.Form`` (0 when there is no term).

    UFL's Form sorts its integrals stably by domain, type and subdomain, so sorting the
    concatenation once gives the order that sorting after every ``+`` gives.
    """
    integrals = [integral for term in terms for integral in term.integrals()]
    return ufl.Form(integrals) if integrals else 0
