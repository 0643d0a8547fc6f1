"""Exceptions of the harness.

WireplayError
├── CaseError            a case file cannot be used (file, line, field path, what was expected)
│   └── CaseErrors       several CaseErrors found in one pass (``wireplay validate``)
├── AdapterError         an implementation could not be driven (start-up, protocol)
└── Unsupported          the implementation offers no way to do what the case asks (UNSUPPORTED)

Errors carry structured, keyword-only fields; ``str()`` builds the one line a user
reads: ``cases/x.yaml:14: server.exchanges[0].http.method: expected ...``.
"""

from __future__ import annotations

from pathlib import Path


__all__ = ["AdapterError", "CaseError", "CaseErrors", "Unsupported", "WireplayError"]


class WireplayError(Exception):
    """Base of every error wireplay raises on purpose."""


class CaseError(WireplayError):
    """A problem in one case file, located as precisely as known."""

    def __init__(self, *, file: Path | str, line: int | None, field: str, message: str) -> None:
        self.file = str(file)
        self.line = line
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class CaseErrors(WireplayError):
    """All problems found in one or more case files."""

    def __init__(self, errors: list[CaseError]) -> None:
        self.errors = errors
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class AdapterError(WireplayError):
    """An implementation could not be started or spoke its protocol wrongly."""


class Unsupported(WireplayError):
    """The implementation offers no way to do what a case asks (a setting or step it lacks).

    Raised by an adapter from ``start`` or ``handle``; the case ends UNSUPPORTED with this
    reason, not ERROR: nothing crashed, the case cannot be expressed for this client.
    """
