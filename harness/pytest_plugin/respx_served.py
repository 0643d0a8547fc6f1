"""A case's HTTP and SSE exchanges served in process through respx, with no socket.

For a project whose client is built on httpx: ``wireplay_respx("<case id>")`` routes the
client's requests through a respx router to the case's script, the same pure router and
``expect`` checks the fake server uses, and ``stop()`` gives the same wire verdict. What
needs a socket cannot happen here and is reported as unavailable instead of judged:
websocket exchanges, TCP faults (drop, reset, hang, abort), delays and SSE pauses.
Use the socket server (``wireplay_server``) for those; use this for fast, in-process
tests of request shapes, status handling and SSE parsing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlsplit

import httpx
import respx

from fake_server.router import RequestHead, Router, decode_body, expect_findings
from fake_server.script import Exchange
from fake_server.transcript import Transcript
from harness.case.model import Case
from harness.layer import ALL_LAYERS, Layer
from harness.revision import SEED
from harness.verdict.events import EventScope
from harness.verdict.wire import WireVerdict, judge_wire


__all__ = ["BASE_ORIGIN", "RespxServedCase"]

BASE_ORIGIN = "http://wireplay.respx"


def _unavailable(exchange: Exchange) -> list[str]:
    """What of this exchange only a socket can do."""
    if exchange.kind == "websocket":
        return ["a websocket"]
    reply = exchange.reply
    assert reply is not None
    found = []
    if reply.abort is not None:
        found.append(f"abort ({reply.abort})")
    if reply.end != "complete":
        found.append(f"end: {reply.end}")
    if reply.delay:
        found.append("a delay before the status line")
    if reply.pace or any(step.op in ("sleep", "await") for step in reply.sse or ()):
        found.append("pauses between SSE events")
    return found


class RespxServedCase:
    """Serves ``case``'s HTTP exchanges to httpx clients in process (``with served.mock(): ...``)."""

    def __init__(self, case: Case, *, layers: frozenset[Layer] = ALL_LAYERS, revision: str = SEED) -> None:
        self.case = case.for_revision(revision)
        self.layers = layers
        self.base_url = f"{BASE_ORIGIN}/v1"
        self.transcript = Transcript(clock=_monotonic)
        self.router = Router(self.case.script)
        self.unavailable: list[str] = []
        self.verdict: WireVerdict | None = None
        self._conns = 0

    @contextmanager
    def mock(self) -> Iterator[respx.MockRouter]:
        """Route every httpx request to ``BASE_ORIGIN`` through the case while the block runs."""
        with respx.mock(base_url=BASE_ORIGIN, assert_all_called=False) as mock:
            mock.route().mock(side_effect=self._serve)
            yield mock

    def _serve(self, request: httpx.Request) -> httpx.Response:
        self._conns += 1
        conn = self._conns
        split = urlsplit(str(request.url))
        target = split.path + (f"?{split.query}" if split.query else "")
        headers = [[k.lower(), v] for k, v in request.headers.multi_items()]
        head = RequestHead(method=request.method, path=split.path, query=dict(parse_qsl(split.query, keep_blank_values=True)),
                           headers=dict(headers), websocket=False, target=target)
        body = decode_body(dict(headers), request.content)
        self.transcript.add("request", conn=conn, method=head.method, target=target, path=head.path, query=dict(head.query),
                            headers=headers, body=body, websocket=False, listener="main")
        exchange, order = self.router.route(head)
        for found in order:
            self.transcript.finding(found.message, layer=found.layer, conn=conn)
        if exchange is None:
            message = f"no scripted exchange matches {head.method} {target} (answered 404)"
            self.transcript.finding(message, layer=self.case.script.layer, conn=conn)
            return httpx.Response(404, json={"error": {"type": "wireplay_unmatched", "message": message}})
        for found in expect_findings(exchange, head, body):
            self.transcript.finding(found.message, layer=found.layer, conn=conn)
        missing = _unavailable(exchange)
        if missing:
            self.unavailable.append(f"{exchange.label}: {', '.join(missing)} (needs a socket: use wireplay_server)")
        reply = exchange.reply
        assert reply is not None
        content = reply.body if reply.body is not None else b"".join(step.data for step in reply.sse or ())
        for step in reply.sse or ():
            if step.op == "mark":
                self.transcript.add("mark", conn=conn, name=step.payload)
        self.transcript.add("response", conn=conn, status=reply.status, headers=[list(h) for h in reply.headers])
        return httpx.Response(reply.status, headers=list(reply.headers), content=content)

    def stop(self) -> WireVerdict:
        """The wire verdict of what the client sent (idempotent)."""
        if self.verdict is None:
            findings = [*self.transcript.findings(), *self.router.unmet()]
            self.verdict = judge_wire(
                self.case, records=self.transcript.records, server_findings=findings, events=[],
                layers=self.layers, scope=EventScope(), implementation="the client",
            )
        return self.verdict


def _monotonic() -> float:
    import time

    return time.monotonic()
