"""A case's fake server in a background thread, for hand-written (synchronous) tests.

``wireplay_server`` hands one of these to a test that drives its own client against a
case's script and then asks for the wire verdict. The server is the runner's and
``wireplay serve``'s own lifecycle (``harness.serving.CaseServer``): a TLS case is
served over TLS, with ``ca_file`` to trust; listeners, the proxy and the client's
endpoint and config (placeholders resolved) are there too.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import Any

from harness.adapters.base import Endpoint
from harness.case.model import Case
from harness.layer import ALL_LAYERS, Layer
from harness.revision import SEED
from harness.serving import CaseServer
from harness.verdict.wire import WireVerdict


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
        self._served = CaseServer(self.case)
        try:
            self._call(self._served.__aenter__())
        except BaseException:
            self._shutdown()
            raise
        assert self._served.endpoint is not None
        self.endpoint: Endpoint = self._served.endpoint
        self.origin = self._served.origin
        self.base_url = self.endpoint.base_url
        self.ca_file = self._served.ca_file  # the CA to trust on a TLS case (None otherwise)
        self.config: dict[str, Any] = self._served.config  # the case's client config, placeholders resolved
        self.verdict: WireVerdict | None = None

    @property
    def tls(self) -> bool:
        return self._served.tls

    def _call(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout=_BOUND)

    def _shutdown(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=_BOUND)
        self._loop.close()

    def stop(self) -> WireVerdict:
        """Stop serving (idempotent) and judge what the server saw."""
        if self.verdict is None:
            try:
                self._call(self._served.__aexit__(None, None, None))
            finally:
                self._shutdown()
            self.verdict = self._served.wire_verdict(layers=self.layers)
        return self.verdict

    def wire_log(self) -> list[dict[str, Any]]:
        """The redacted transcript so far."""
        return self._served.wire_log()
