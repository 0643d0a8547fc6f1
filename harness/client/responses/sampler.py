"""One model request over SSE or websocket, fed through the shared stream processor.

The turn loop decides retries and fallback; this module only runs one attempt, keeps
the websocket (reused across requests and sessions) and applies the terminal-error
path of the seeds: drop the socket at once, report, reconnect next time (§6.1).
"""

from __future__ import annotations

import json
import ssl as ssl_module
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from harness.client.auth import RequestAuthContext
from harness.client.responses import events
from harness.client.responses.auth import AuthManager, recovery_error
from harness.client.responses.config import ClientConfig
from harness.client.responses.errors import ApiError
from harness.client.responses.http_transport import HttpStream, HttpTransport, StreamReadError
from harness.client.responses.incremental import LastResponse, WsIncrementalState
from harness.client.responses.request import (
    TURN_METADATA,
    build_http_headers,
    build_ws_headers,
    user_agent,
)
from harness.client.responses.sse import SseParser
from harness.client.responses.stream import StreamProcessor, start_items
from harness.client.responses.stream_items import Completed, Failed, OutputItemDone, StreamItem
from harness.client.responses.ws_transport import WsClosed, WsConnection, WsIdle, open_websocket


__all__ = ["Outcome", "RequestHooks", "Sampler"]

Emit = Callable[[dict[str, Any]], None]
WS_IDLE = "idle timeout waiting for websocket"
WS_STREAM_START_MS = "x-codex-ws-stream-request-start-ms"


class RequestHooks(Protocol):
    """What a request needs from the current turn/session."""

    def turn_state(self) -> str | None: ...
    def capture_turn_state(self, value: str) -> None: ...
    def turn_metadata(self) -> str | None: ...
    def on_item(self, item: StreamItem) -> None: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    """Completed, failed, or (websocket handshake 426, `error` = the 426) asked to fall
    back to HTTP."""

    completed: Completed | None = None
    error: ApiError | None = None
    fallback: bool = False


class Sampler:
    def __init__(
        self,
        *,
        cfg: ClientConfig,
        auth: AuthManager,
        emit: Emit,
        http: HttpTransport,
        url: str,
        ws_url: str,
        conversation_id: Callable[[], str],
        ssl: ssl_module.SSLContext | None,
    ) -> None:
        self._cfg = cfg
        self._profile = cfg.profile
        self._auth = auth
        self._emit = emit
        self._http = http
        self._url = url
        self._ws_url = ws_url
        self._conversation_id = conversation_id
        self._ssl = ssl
        self._idle_s = cfg.stream_idle_timeout_ms / 1000.0
        self.ws: WsConnection | None = None
        self.incr = WsIncrementalState()
        self._ws_auth: RequestAuthContext | None = None  # auth context the socket was opened with

    # -- HTTP / SSE -------------------------------------------------------------------

    async def sample_http(self, body: Mapping[str, Any], hooks: RequestHooks) -> Outcome:
        def headers() -> list[tuple[str, str]]:
            return build_http_headers(self._cfg, self._auth, conversation_id=self._conversation_id(),
                                      turn_state=hooks.turn_state(),
                                      turn_metadata=hooks.turn_metadata())  # fmt: skip

        opened = await self._http.open(self._url, headers, json.dumps(body).encode())
        if isinstance(opened, ApiError):
            return Outcome(error=opened)
        state = opened.headers.turn_state()
        if state is not None:
            hooks.capture_turn_state(state)  # §3.4: first value of the turn wins
        for item in start_items(opened.headers, transport="sse"):
            hooks.on_item(item)
        processor = StreamProcessor(transport="sse", profile=self._profile)
        try:
            outcome = await self._read_sse(opened, processor, hooks)
        finally:
            await opened.aclose()
            self._emit(events.telemetry_events(transport="http", counts=processor.counts))
        return outcome

    async def _read_sse(
        self, stream: HttpStream, processor: StreamProcessor, hooks: RequestHooks
    ) -> Outcome:
        parser = SseParser()
        try:
            async for chunk in stream.chunks():
                for event in parser.feed(chunk):
                    outcome = _deliver(processor.feed(event.data), hooks)
                    if outcome is not None:
                        return outcome
            for event in parser.close():
                outcome = _deliver(processor.feed(event.data), hooks)
                if outcome is not None:
                    return outcome
            items = processor.eof()
        except StreamReadError as exc:
            items = processor.fail(str(exc))
        return _deliver(items, hooks) or Outcome(
            error=ApiError(kind="stream", message="stream ended")
        )

    # -- websocket --------------------------------------------------------------------

    async def ensure_ws(self, hooks: RequestHooks) -> WsConnection | ApiError:
        """Reuse the open socket, else connect (and forget what the old one held)."""
        if self.ws is not None and self.ws.is_open:
            return self.ws
        self.drop_ws()
        attempts = self._auth.attempts("websocket_connect")
        while True:
            context = attempts.context()
            headers = build_ws_headers(self._cfg, self._auth, conversation_id=self._conversation_id(),
                                       turn_state=hooks.turn_state(),
                                       turn_metadata=hooks.turn_metadata())  # fmt: skip
            started = time.monotonic()
            opened = await open_websocket(
                self._ws_url,
                headers,
                user_agent=user_agent(self._cfg.originator),
                ssl=self._ssl,
                timeout_s=self._profile.ws_connect_timeout_ms / 1000.0,
                compression="deflate",  # codex offers permessage-deflate (§1.4, codex-cli §4g)
            )
            failed = isinstance(opened, ApiError)
            self._emit(events.telemetry_ws_connect(
                duration_ms=round((time.monotonic() - started) * 1000, 3), success=not failed,
                status=opened.status if failed else 101,
                error=_telemetry_error(opened) if failed else None))  # fmt: skip
            attempts.observe(ok=not failed, status=opened.status if failed else None,
                             headers=opened.headers if failed else None, context=context,
                             connection_reused=False)  # fmt: skip
            if not failed:
                self._ws_auth = context
                break
            if opened.kind == "http" and opened.status == 401:  # §5.1: recovery on the handshake
                decision = await attempts.unauthorized(opened.headers)
                if decision.retry:
                    continue
                if decision.failure is not None:
                    return recovery_error(decision.failure)
            return opened
        state = opened.handshake_headers.turn_state()
        if state is not None:
            hooks.capture_turn_state(state)
        self.ws = opened
        return opened

    def drop_ws(self) -> None:
        """Forget the socket (aborting it) and what the server held for it."""
        if self.ws is not None:
            self.ws.abort()
        self.ws = None
        self.incr.reset()

    async def sample_ws(
        self,
        body: Mapping[str, Any],
        hooks: RequestHooks,
        *,
        attempt: int,
        generate: bool | None = None,
    ) -> Outcome:
        reused = self.ws is not None and self.ws.is_open
        conn = await self.ensure_ws(hooks)
        if isinstance(conn, ApiError):
            if conn.kind == "http" and conn.status == 426:
                return Outcome(error=conn, fallback=True)  # §6.3: Upgrade Required → HTTP
            return Outcome(error=conn)
        frame = self.incr.prepare(body, version=self._cfg.ws_version, generate=generate,
                                  client_metadata=self._client_metadata(hooks))  # fmt: skip
        if self._profile.ws_stream_start_in_client_metadata and frame["type"] == "response.create":
            # [later] stamp_ws_stream_request_start_ms: the send time, unix ms as a string
            metadata = frame.setdefault("client_metadata", {})
            metadata[WS_STREAM_START_MS] = str(int(time.time() * 1000))
        started = time.monotonic()
        processor = StreamProcessor(transport="websocket", profile=self._profile)
        send_error = await conn.send(json.dumps(frame))
        if send_error is not None:
            items: list[StreamItem] = processor.fail(send_error)
        else:
            self.incr.record_request(body, prewarm=generate is False)
            for item in start_items(conn.handshake_headers, transport="websocket"):
                hooks.on_item(item)
            items = []
        outcome = await self._read_ws(conn, processor, hooks, items)
        if outcome.error is not None:
            await self._drop_after_error(conn)
        self._emit(events.telemetry_request(
            transport="websocket", attempt=attempt, status=None,
            duration_ms=round((time.monotonic() - started) * 1000, 3),
            error=_telemetry_error(outcome.error)))  # fmt: skip
        http_error = outcome.error if outcome.error and outcome.error.kind == "http" else None
        self._auth.report_request(
            request_kind="websocket_request", context=self._ws_auth or self._auth.request_context(),
            ok=outcome.error is None, status=http_error.status if http_error else None,
            headers=http_error.headers if http_error else None, connection_reused=reused)  # fmt: skip
        self._emit(events.telemetry_events(transport="websocket", counts=processor.counts))
        return outcome

    async def _read_ws(
        self,
        conn: WsConnection,
        processor: StreamProcessor,
        hooks: RequestHooks,
        items: list[StreamItem],
    ) -> Outcome:
        added: list[Any] = []
        while True:
            for item in items:
                if isinstance(item, OutputItemDone):
                    added.append(item.item)
                if isinstance(item, Completed):
                    self.incr.record_response(LastResponse(item.response_id, tuple(added)))
            outcome = _deliver(items, hooks)
            if outcome is not None:
                return outcome
            message = await conn.recv(self._idle_s)
            if isinstance(message, str):
                items = processor.feed(message)
            elif isinstance(message, bytes):
                items = processor.binary()
            elif isinstance(message, WsIdle):
                items = processor.fail(WS_IDLE)
            else:
                assert isinstance(message, WsClosed)
                items = processor.fail(message.message)

    async def _drop_after_error(self, conn: WsConnection) -> None:
        """Terminal error: drop now (seed fix) or, if profiled, await the close handshake."""
        if self.ws is conn:
            self.ws = None
            self.incr.reset()
        if self._profile.ws_await_close_on_error:
            await conn.close_gracefully(self._idle_s)
        else:
            conn.abort()

    def _client_metadata(self, hooks: RequestHooks) -> dict[str, str] | None:
        metadata: dict[str, str] = {}
        turn_metadata = hooks.turn_metadata()
        if turn_metadata is not None:
            metadata[TURN_METADATA] = turn_metadata
        if self._profile.ws_turn_state_in_client_metadata:
            metadata["x-codex-turn-state"] = hooks.turn_state() or ""
        return metadata or None


def _deliver(items: list[StreamItem], hooks: RequestHooks) -> Outcome | None:
    """Hand non-terminal items to the turn; return the outcome once the stream ends."""
    for item in items:
        if isinstance(item, Failed):
            return Outcome(error=item.error)
        hooks.on_item(item)
        if isinstance(item, Completed):
            return Outcome(completed=item)
    return None


def _telemetry_error(error: ApiError | None) -> str | None:
    """Telemetry never carries HTTP bodies: `http {status}` only (§5.2)."""
    if error is None:
        return None
    if error.kind == "http":
        return f"http {error.status}"
    return error.message or error.kind
