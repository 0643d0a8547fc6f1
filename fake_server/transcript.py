"""The transcript: everything the fake server saw and did, with time offsets.

It is the wire log of a case and the input of the wire verdict. Records hold raw
values in memory (the verdict needs them); ``to_json`` redacts secrets, and it is
the only way a transcript leaves the process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fake_server.redact import redact_header, redact_json, redact_text


__all__ = ["Finding", "Record", "Transcript"]


@dataclass(frozen=True, slots=True)
class Record:
    """One observation or action, ``t`` seconds after the server started."""

    t: float
    conn: int
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Finding:
    """A wire failure the server detected, tagged with the layer of the assertion it breaks."""

    message: str
    layer: str


def _redact_record_data(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "headers" and isinstance(value, list):
            out[key] = [[k, redact_header(k, v)] for k, v in value]
        elif isinstance(value, str):
            out[key] = redact_text(value)
        else:
            out[key] = redact_json(value)
    return out


@dataclass(slots=True)
class Transcript:
    """An append-only log of records sharing one clock with the runner."""

    clock: Callable[[], float]
    start: float = 0.0
    records: list[Record] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.start = self.clock()

    def now(self) -> float:
        """Seconds since the transcript started."""
        return self.clock() - self.start

    def add(self, kind: str, *, conn: int = 0, **data: Any) -> Record:
        record = Record(t=self.now(), conn=conn, kind=kind, data=data)
        self.records.append(record)
        return record

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def of_kind(self, *kinds: str) -> list[Record]:
        return [r for r in self.records if r.kind in kinds]

    def finding(self, message: str, *, layer: str, conn: int = 0) -> None:
        """Record a wire failure of an assertion in ``layer``."""
        self.add("finding", conn=conn, message=message, layer=layer)

    def findings(self) -> list[Finding]:
        """Wire failures the server detected while serving (mismatches, unmatched requests)."""
        return [Finding(r.data["message"], r.data["layer"]) for r in self.records if r.kind == "finding"]

    def to_json(self) -> list[dict[str, Any]]:
        """The redacted wire log, safe to write to reports."""
        return [
            {"t": round(r.t, 4), "conn": r.conn, "kind": r.kind, **_redact_record_data(r.data)}
            for r in self.records
        ]
