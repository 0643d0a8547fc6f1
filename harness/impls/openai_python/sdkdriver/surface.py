"""``sdk.*`` steps: the SDK's own surface, below any application (docs/contracts.md).

``sdk.send`` hands the SDK a client event (``conn.send(event)`` on ``realtime.connect()`` /
``responses.connect()``) or a request (``responses.create(**body)``, the keys it has no
parameter for as ``extra_body``), and reports what the SDK hands back: the recognised events
through the shared mapping (harness.sdk.events), an event of a type the SDK does not know
as ``server.unrecognized_event`` with every field the SDK kept, and every failure with the
exception's class as ``failure`` and the close code of a socket that ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any

from harness.impls.openai_python.sdkdriver.endpoint import MAX_IDLE_S, Endpoint, api_key, str_map
from harness.impls.openai_python.sdkdriver.errors import (
    connect_error,
    exception_error,
    is_recognised,
    status_error,
)
from harness.impls.openai_python.sdkdriver.realtime import sdk_dict
from harness.impls.openai_python.sdkdriver.responses import stream_events_of
from harness.impls.openai_python.sdkdriver.sockets import bounded_close, cancel
from harness.sdk.events import (
    NORMAL_CLOSE_CODES,
    is_terminal,
    realtime_surface_events,
    unrecognized_event,
)
from harness.sdk.steps import SendStep, parse_send


__all__ = ["SdkSurface"]

Emit = Callable[[dict[str, Any]], None]
_OPEN_S = 10.0
_CLOSE_S = 1.0


def _error_type(api: str) -> str:
    return "realtime.error" if api == "realtime" else "error"


class _Socket:
    def __init__(self, conn: Any, client: Any) -> None:
        self.conn = conn
        self.client = client
        self.reader: asyncio.Task[None] | None = None


class SdkSurface:
    """The SDK's connections for ``sdk.send``: one websocket per API, opened by the first send."""

    def __init__(self, *, endpoint: Endpoint, config: Mapping[str, Any], emit: Emit) -> None:
        self.endpoint = endpoint
        self.config = config
        self.emit = emit
        self.sockets: dict[str, _Socket] = {}

    def _section(self, api: str) -> Mapping[str, Any]:
        section = self.config.get(api)
        return section if isinstance(section, Mapping) else {}

    def _idle_s(self) -> float:
        return min(float(self._section("responses").get("stream_idle_timeout_ms", 300_000)) / 1000, MAX_IDLE_S)

    def _client(self, api: str) -> Any:
        cfg = self._section(api)
        key = (cfg.get("bearer_token") or api_key(cfg)) if api == "realtime" else api_key(cfg)
        retries = 0 if api == "realtime" else int(cfg.get("request_max_retries", 0))
        return self.endpoint.client(key=key, max_retries=retries, read_timeout_s=self._idle_s(), headers=str_map(cfg.get("headers")),
                                    query={} if api == "realtime" else str_map(cfg.get("query_params")), realtime=api == "realtime")  # fmt: skip

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        if op != "sdk.send":
            raise ValueError(f"unknown sdk op {op!r}")
        step = parse_send(args)
        if step.transport == "http":
            await self._post(step)
        else:
            await self._send(step)

    async def aclose(self) -> None:
        sockets, self.sockets = list(self.sockets.values()), {}
        for socket in sockets:
            await cancel(socket.reader)
            await bounded_close(socket.conn, _CLOSE_S)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(socket.client.close(), 2.0)

    # -- websocket ----------------------------------------------------------------------

    async def _open(self, api: str) -> _Socket | None:
        if api in self.sockets:
            return self.sockets[api]
        import openai  # type: ignore[import-not-found,unused-ignore]  # the SDK venv only

        cfg = self._section(api)
        client: Any = None
        try:
            client = self._client(api)
            options = self.endpoint.ws_options(open_timeout_s=_OPEN_S, close_timeout_s=_CLOSE_S)
            if api == "realtime":
                manager = client.realtime.connect(model=cfg["model"] if cfg.get("model") else openai.omit,
                                                  extra_query=str_map(cfg.get("query_params")), websocket_connection_options=options)  # fmt: skip
            else:
                manager = client.responses.connect(websocket_connection_options=options)
            conn = await asyncio.wait_for(manager.enter(), _OPEN_S + 1)
        except Exception as exc:
            self.emit(connect_error(exc, realtime=api == "realtime"))
            if client is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.close(), 2.0)
            return None
        socket = _Socket(conn, client)
        self.sockets[api] = socket
        socket.reader = asyncio.get_running_loop().create_task(self._read(api, socket))
        return socket

    async def _send(self, step: SendStep) -> None:
        socket = await self._open(step.api)
        if socket is None:
            return
        try:
            await socket.conn.send(step.body)  # the SDK's send: maybe_transform, then one text frame
        except Exception as exc:
            self.emit(exception_error(_error_type(step.api), exc))

    async def _read(self, api: str, socket: _Socket) -> None:
        """What the SDK hands back, until the socket ends (an abnormal end is reported with its code)."""
        from websockets.exceptions import ConnectionClosed

        transport = "websocket"
        while True:
            try:
                raw = await socket.conn.recv_bytes()
            except ConnectionClosed as exc:
                if exc.rcvd is None or exc.rcvd.code not in NORMAL_CLOSE_CODES:
                    self.emit(exception_error(_error_type(api), exc))
                return
            except Exception as exc:
                self.emit(exception_error(_error_type(api), exc))
                return
            try:
                event = socket.conn.parse_event(raw)
                data = json.loads(raw)
            except Exception as exc:  # JSONDecodeError: what recv() raises; the surface reads on
                self.emit(exception_error(_error_type(api), exc))
                continue
            if not isinstance(data, dict) or not isinstance(data.get("type"), str):
                continue
            if not is_recognised(event, data):
                self.emit(unrecognized_event(api, transport, sdk_dict(event)))
            elif api == "realtime":
                for neutral in realtime_surface_events(data):
                    if neutral["type"] == "realtime.error":
                        neutral["failure"] = type(event).__name__
                    self.emit(neutral)
            else:
                for neutral in stream_events_of(event, data):
                    self.emit(neutral)

    # -- HTTP + SSE ---------------------------------------------------------------------

    async def _post(self, step: SendStep) -> None:
        import openai  # type: ignore[import-not-found,unused-ignore]  # the SDK venv only

        client: Any = None
        stream: Any = None
        try:
            client = self._client("responses")
            create = client.responses.create
            params = set(inspect.signature(create).parameters) - {"extra_headers", "extra_query", "extra_body", "timeout"}
            known = {k: v for k, v in step.body.items() if k in params}
            extra = {k: v for k, v in step.body.items() if k not in params}
            stream = await create(**known, **({"extra_body": extra} if extra else {}))
            async for event in stream:
                data = sdk_dict(event)
                if not isinstance(data, dict):
                    continue
                if isinstance(data.get("type"), str) and not is_recognised(event, data):
                    self.emit(unrecognized_event("responses", "sse", data))
                    continue
                neutral_events = stream_events_of(event, data)
                for neutral in neutral_events:
                    self.emit(neutral)
                if any(is_terminal(e) for e in neutral_events):
                    break
        except openai.APIStatusError as exc:
            self.emit(status_error(exc))
        except Exception as exc:  # JSONDecodeError, APIError (an `error` payload), APIConnectionError
            self.emit(exception_error("error", exc))
        finally:
            if stream is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(stream.close(), 2.0)
            if client is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.close(), 2.0)
