"""Pure routing of incoming requests to scripted exchanges.

A request goes to the first exchange (in script order) on its listener whose route
matches and that has uses left. When the script is ``ordered``, taking an exchange
while an earlier one of the same listener still waits for its minimum number of uses
is reported as out of order (listeners are separate servers: no order between them). What
matches nothing is reported too; the server answers it with a 404.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fake_server.matchers import match
from fake_server.script import Exchange, Script
from fake_server.transcript import Finding


__all__ = ["RequestHead", "Router", "decode_body", "expect_findings"]


def decode_body(headers: Mapping[str, str], body: bytes) -> Any:
    """A request body as the transcript keeps it: JSON when it is JSON, else text, else None."""
    if not body:
        return None
    text = body.decode("utf-8", "replace")
    if "json" in headers.get("content-type", "") or text[:1] in "{[":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def expect_findings(exchange: Exchange, head: RequestHead, body: Any) -> list[Finding]:
    """What a request breaks of its exchange's ``expect`` block (asserted, never routed on)."""
    expected = exchange.expect
    actual = {"headers": dict(head.headers), "query": dict(head.query), "body": body, "target": head.target}
    found = []
    for part in ("target", "headers", "query", "body"):
        if part in expected and (miss := match(expected[part], actual[part], path=part)):
            found.append(Finding(f"{exchange.path}.expect.{miss}", exchange.expect_layer))
    return found


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
