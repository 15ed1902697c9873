"""The error every bad input becomes: :class:`CaseError`, exit code 2 with one line per problem."""

from __future__ import annotations

__all__ = ["CaseError"]


class CaseError(ValueError):
    """Invalid case input; ``problems`` lists one message per offending key.

    Each message names the dotted key, the value given and what is allowed; the command line
    prints them all and exits with code 2.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(f"  - {p}" for p in self.problems))

    def __str__(self) -> str:
        n = len(self.problems)
        head = "invalid case: 1 problem" if n == 1 else f"invalid case: {n} problems"
        return head + "\n" + "\n".join(f"  - {p}" for p in self.problems)
