"""Outcome classes of a case, after Autobahn's and WPT's, and how layers combine."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


__all__ = ["Outcome", "worst"]


class Outcome(StrEnum):
    """What a case ended as, for one implementation (overall, or in one layer)."""

    PASS = "PASS"
    NON_STRICT = "NON-STRICT"  # an alternative the case allows, with its reason
    FAIL = "FAIL"
    TIMEOUT = "TIMEOUT"  # the case's bound ran out
    ERROR = "ERROR"  # the adapter or implementation crashed
    UNSUPPORTED = "UNSUPPORTED"  # nothing of the case can be judged for this implementation

    @property
    def ok(self) -> bool:
        """Whether the run may exit 0 with this outcome."""
        return self in (Outcome.PASS, Outcome.NON_STRICT, Outcome.UNSUPPORTED)


_SEVERITY = (Outcome.PASS, Outcome.NON_STRICT, Outcome.FAIL, Outcome.TIMEOUT, Outcome.ERROR)


def worst(outcomes: Iterable[Outcome]) -> Outcome:
    """The overall outcome of judged layers: the most severe of them."""
    return max(outcomes, key=_SEVERITY.index)
