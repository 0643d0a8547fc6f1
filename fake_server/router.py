"""Pure routing of incoming requests to scripted exchanges.

A request goes to the first exchange (in script order) on its listener whose route
matches and that has uses left. When the script is ``ordered``, taking an exchange
while an earlier one of the same listener still waits for its minimum number of uses
is reported as out of order (listeners are separate servers: no order between them). What
matches nothing is reported too; the server answers it with a 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fake_server.matchers import match
from fake_server.script import Exchange, Script
from fake_server.transcript import Finding


__all__ = ["RequestHead", "Router"]


@dataclass(frozen=True, slots=True)
class RequestHead:
    """The routable facts of a request."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    websocket: bool
    target: str = ""  # the raw request-target: path and query in the order sent
    listener: str = "main"  # which of the server's listeners it arrived on

    def as_route_target(self) -> dict[str, Any]:
        """What routes match on: method and path."""
        return {"method": self.method, "path": self.path}


@dataclass(slots=True)
class Router:
    """Chooses the exchange for each request and counts uses."""

    script: Script
    uses: dict[int, int] = field(default_factory=dict)

    def route(self, head: RequestHead) -> tuple[Exchange | None, list[Finding]]:
        """Return the exchange for this request (or None) and any ordering findings."""
        kind = "websocket" if head.websocket else "http"
        target = head.as_route_target()
        for ex in self.script.exchanges:
            if ex.kind != kind or ex.listener != head.listener or match(dict(ex.route), target) is not None:
                continue
            used = self.uses.get(ex.index, 0)
            if ex.times.max is not None and used >= ex.times.max:
                continue
            self.uses[ex.index] = used + 1
            return ex, self._order_findings(ex, head)
        return None, []

    def _order_findings(self, chosen: Exchange, head: RequestHead) -> list[Finding]:
        if not self.script.ordered:
            return []
        late = [
            ex
            for ex in self.script.exchanges
            if ex.index < chosen.index and ex.listener == chosen.listener and self.uses.get(ex.index, 0) < ex.times.min
        ]
        return [
            Finding(
                f"{chosen.label}: {head.method} {head.path} arrived before {ex.label} "
                f"had its {ex.times.min} expected request(s) (script is ordered)",
                ex.layer,
            )
            for ex in late
        ]

    def unmet(self) -> list[Finding]:
        """Findings for exchanges used fewer times than their minimum."""
        return [
            Finding(f"{ex.label}: expected {ex.times.describe()} request(s), got {self.uses.get(ex.index, 0)}", ex.layer)
            for ex in self.script.exchanges
            if self.uses.get(ex.index, 0) < ex.times.min
        ]
