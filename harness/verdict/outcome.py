"""Outcome classes of a case, after Autobahn's and WPT's."""

from __future__ import annotations

from enum import StrEnum


__all__ = ["Outcome"]


class Outcome(StrEnum):
    """What a case ended as, for one implementation."""

    PASS = "PASS"
    NON_STRICT = "NON-STRICT"  # an alternative the case allows, with its reason
    FAIL = "FAIL"
    TIMEOUT = "TIMEOUT"  # the case's bound ran out
    ERROR = "ERROR"  # the adapter or implementation crashed
    UNSUPPORTED = "UNSUPPORTED"  # the implementation lacks a required capability

    @property
    def ok(self) -> bool:
        """Whether the run may exit 0 with this outcome."""
        return self in (Outcome.PASS, Outcome.NON_STRICT, Outcome.UNSUPPORTED)
