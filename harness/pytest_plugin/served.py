"""A case's fake server in a background thread, for hand-written (synchronous) tests.

``wireplay_server`` hands one of these to a test that drives its own client against a
case's script and then asks for the wire verdict.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import Any

from fake_server.server import FakeServer
from harness.case.model import Case
from harness.layer import ALL_LAYERS, Layer
from harness.revision import SEED
from harness.verdict.events import EventScope
from harness.verdict.wire import WireVerdict, judge_wire


__all__ = ["ServedCase"]

_BOUND = 10.0


class ServedCase:
    """Serves ``case`` on loopback until ``stop()``; then ``verdict`` holds the wire plane,
    judged in ``layers`` (both by default; an SDK's own tests pass ``{Layer.PROTOCOL}``), as
    the case holds for ``revision``."""

    def __init__(self, case: Case, *, layers: frozenset[Layer] = ALL_LAYERS, revision: str = SEED) -> None:
        self.case = case.for_revision(revision)
        self.layers = layers
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"wireplay-{case.id}", daemon=True)
        self._thread.start()
        self._server = FakeServer(self.case.script)
        self._call(self._server.start())
        self.origin = self._server.origin
        self.base_url = f"{self.origin}/v1"
        self.verdict: WireVerdict | None = None

    def _call(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout=_BOUND)

    def stop(self) -> WireVerdict:
        """Stop serving (idempotent) and judge what the server saw."""
        if self.verdict is None:
            async def finish() -> None:
                await self._server.settle(timeout=1.0)
                await self._server.aclose()

            try:
                self._call(finish())
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(timeout=_BOUND)
                self._loop.close()
            self.verdict = judge_wire(
                self.case, records=self._server.transcript.records, server_findings=self._server.findings(), events=[],
                layers=self.layers, scope=EventScope(), implementation="the client",
            )
        return self.verdict

    def wire_log(self) -> list[dict[str, Any]]:
        """The redacted transcript so far."""
        return self._server.transcript.to_json()
