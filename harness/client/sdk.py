"""The reference client's SDK-level surface: ``sdk.*`` steps (docs/contracts.md).

What an SDK offers an application below any Codex behaviour: send a client event the
application gives on the API's websocket, or POST a Responses request it gives, and report
what the server answers: the ``responses.*`` events of a turn (Responses),
``realtime.session_updated`` / ``realtime.error`` (realtime), every server event of a type
it does not recognise as ``server.unrecognized_event`` with all its fields, and every
failure as ``error`` / ``realtime.error`` with ``close_code`` and a neutral ``failure`` kind.

The surface owns its connections (one websocket per API, opened by the first send), apart
from the realtime conversation and the Responses turns of the ``realtime.*`` /
``responses.*`` steps. The pure parts (the event mapping, the known event types, the step
arguments) live in ``harness.sdk``, shared with the openai-python driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from harness.client.responses.sse import SseParser
from harness.sdk import events as ev
from harness.sdk.known import recognised
from harness.sdk.steps import SendStep, parse_send


__all__ = ["SdkClient"]

Emit = Callable[[dict[str, Any]], None]

_MAX_IDLE_S = 30.0
_CONNECT_S = 5.0
_CLOSE_S = 1.0


def _with_path(base_url: str, suffix: str, query: Mapping[str, str], *, scheme_ws: bool) -> str:
    """``base_url`` + ``suffix`` (unless the path already ends with it), its own query kept, ``query`` added."""
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")
    if not path.endswith(suffix):
        path += suffix
    pairs = [*parse_qsl(parts.query, keep_blank_values=True), *query.items()]
    scheme = parts.scheme
    if scheme_ws:
        scheme = {"http": "ws", "https": "wss"}.get(scheme, scheme)
    return urlunsplit(parts._replace(scheme=scheme, path=path, query=urlencode(pairs)))


def _str_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def _api_key(cfg: Mapping[str, Any]) -> str | None:
    """``auth.api_key`` in api_key mode, else ``bearer_token`` / ``api_key`` (as the SDK drivers)."""
    auth = cfg.get("auth")
    if isinstance(auth, Mapping) and auth.get("mode", "api_key") == "api_key" and isinstance(auth.get("api_key"), str):
        return str(auth["api_key"])
    key = cfg.get("bearer_token") or cfg.get("api_key")
    return str(key) if key else None


def _error_type(api: str) -> str:
    return "realtime.error" if api == "realtime" else "error"


class _Socket:
    """One websocket of the surface and the task that reports what arrives on it."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.reader: asyncio.Task[None] | None = None


class SdkClient:
    """``sdk.send`` over websockets (realtime, Responses) and HTTP + SSE (Responses)."""

    def __init__(self, *, base_url: str, realtime_base_url: str | None, config: Mapping[str, Any], emit: Emit,
                 ssl: ssl.SSLContext | None = None) -> None:  # fmt: skip
        self._base_url = base_url
        self._realtime_base_url = realtime_base_url or base_url
        self._config = config
        self._emit = emit
        self._ssl = ssl
        self._sockets: dict[str, _Socket] = {}

    def _section(self, api: str) -> Mapping[str, Any]:
        section = self._config.get(api)
        return section if isinstance(section, Mapping) else {}

    def _idle_s(self) -> float:
        ms = self._section("responses").get("stream_idle_timeout_ms", 300_000)
        return min(float(ms) / 1000, _MAX_IDLE_S)

    def _headers(self, api: str) -> dict[str, str]:
        cfg = self._section(api)
        headers = {k.lower(): v for k, v in _str_map(cfg.get("headers")).items()}
        key = _api_key(cfg)
        if key:
            headers["authorization"] = f"Bearer {key}"
        return headers

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        if op != "sdk.send":
            raise ValueError(f"unknown sdk op {op!r}")
        step = parse_send(args)
        if step.transport == "http":
            await self._post(step)
        else:
            await self._send_frame(step)

    async def aclose(self) -> None:
        sockets, self._sockets = list(self._sockets.values()), {}
        for socket in sockets:
            if socket.reader is not None:
                socket.reader.cancel()
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(asyncio.gather(socket.reader, return_exceptions=True), 1.0)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(socket.ws.close(), _CLOSE_S + 0.5)

    # -- websocket ----------------------------------------------------------------------

    def _ws_url(self, api: str) -> str:
        cfg = self._section(api)
        query = _str_map(cfg.get("query_params"))
        if api == "realtime":
            if cfg.get("model"):
                query = {"model": str(cfg["model"]), **query}
            return _with_path(self._realtime_base_url, "/realtime", query, scheme_ws=True)
        return _with_path(self._base_url, "/responses", query, scheme_ws=True)

    async def _open(self, api: str) -> _Socket | None:
        socket = self._sockets.get(api)
        if socket is not None:
            return socket
        url = self._ws_url(api)
        kwargs: dict[str, Any] = {"ssl": self._ssl} if self._ssl is not None and url.startswith("wss:") else {}
        try:
            async with asyncio.timeout(_CONNECT_S + 1):
                ws = await connect(url, additional_headers=list(self._headers(api).items()), user_agent_header=None,
                                   compression=None, proxy=None, open_timeout=_CONNECT_S, ping_interval=None,
                                   close_timeout=_CLOSE_S, max_size=None, **kwargs)  # fmt: skip
        except InvalidStatus as exc:
            response = exc.response
            request_id = response.headers.get("x-request-id")
            message = f"websocket upgrade refused: HTTP {response.status_code} {response.reason_phrase}".rstrip()
            self._emit(ev.error_event(_error_type(api), message=message, http_status=response.status_code,
                                      request_id=request_id, failure=ev.FAILURE_HTTP_STATUS))  # fmt: skip
            return None
        except Exception as exc:
            self._emit(ev.error_event(_error_type(api), message=f"websocket connect failed: {type(exc).__name__}",
                                      failure=ev.FAILURE_CONNECT))  # fmt: skip
            return None
        socket = _Socket(ws)
        self._sockets[api] = socket
        socket.reader = asyncio.get_running_loop().create_task(self._read(api, socket))
        return socket

    async def _send_frame(self, step: SendStep) -> None:
        socket = await self._open(step.api)
        if socket is None:
            return
        try:
            await socket.ws.send(json.dumps(step.body, ensure_ascii=False))
        except ConnectionClosed as exc:
            self._emit(self._closed_event(step.api, exc, sending=True))

    def _closed_event(self, api: str, exc: ConnectionClosed, *, sending: bool = False) -> dict[str, Any]:
        where = "sending on a closed websocket" if sending else "websocket"
        if exc.rcvd is None:
            return ev.error_event(_error_type(api), message=f"{where}: the connection ended without a close frame",
                                  close_code=1006, failure=ev.FAILURE_DROPPED)  # fmt: skip
        reason = f" {exc.rcvd.reason}" if exc.rcvd.reason else ""
        return ev.error_event(_error_type(api), message=f"{where}: closed by the server ({exc.rcvd.code}{reason})",
                              close_code=exc.rcvd.code, failure=ev.FAILURE_CLOSED)  # fmt: skip

    async def _read(self, api: str, socket: _Socket) -> None:
        """Report what arrives until the socket ends; an abnormal end is an error with its close code."""
        while True:
            try:
                message = await socket.ws.recv()
            except ConnectionClosed as exc:
                if exc.rcvd is None or exc.rcvd.code not in ev.NORMAL_CLOSE_CODES:
                    self._emit(self._closed_event(api, exc))
                return
            except Exception as exc:  # a read error also ends it
                self._emit(ev.error_event(_error_type(api), message=f"websocket read failed: {type(exc).__name__}",
                                          close_code=1006, failure=ev.FAILURE_DROPPED))  # fmt: skip
                return
            if isinstance(message, bytes):
                self._emit(ev.error_event(_error_type(api), message="binary websocket frame", failure=ev.FAILURE_BINARY_FRAME))
                continue
            self._on_data(api, "websocket", message)

    def _on_data(self, api: str, transport: str, text: str) -> list[dict[str, Any]]:
        """One event as received (SSE data or a text frame): report it; returns what was reported."""
        out: list[dict[str, Any]]
        try:
            data = json.loads(text)
        except ValueError:
            out = [ev.error_event(_error_type(api), message="server event is not JSON", failure=ev.FAILURE_INVALID_JSON)]
        else:
            if not isinstance(data, dict) or not isinstance(data.get("type"), str):
                out = [ev.error_event(_error_type(api), message="server event has no type", failure=ev.FAILURE_NOT_AN_EVENT)]
            elif not recognised(api, transport, data["type"]):
                out = [ev.unrecognized_event(api, "sse" if transport == "http" else transport, data)]
            elif api == "realtime":
                out = ev.realtime_surface_events(data)
            else:
                out = ev.responses_stream_events(data)
        for event in out:
            self._emit(event)
        return out

    # -- HTTP + SSE ---------------------------------------------------------------------

    async def _post(self, step: SendStep) -> None:
        cfg = self._section("responses")
        url = _with_path(self._base_url, "/responses", _str_map(cfg.get("query_params")), scheme_ws=False)
        headers = {**self._headers("responses"), "content-type": "application/json", "accept": "text/event-stream"}
        idle = self._idle_s()
        timeout = httpx.Timeout(idle, connect=_CONNECT_S)
        async with httpx.AsyncClient(verify=self._ssl or True, timeout=timeout, trust_env=False) as http:
            try:
                async with http.stream("POST", url, content=json.dumps(step.body, ensure_ascii=False).encode(), headers=headers) as response:
                    if response.status_code >= 300:
                        await self._status_error(response)
                        return
                    await self._read_sse(response, idle)
            except httpx.TimeoutException:
                self._emit(ev.error_event("error", message="timed out waiting for the response", failure=ev.FAILURE_TIMEOUT))
            except httpx.HTTPError as exc:
                self._emit(ev.error_event("error", message=f"request failed: {type(exc).__name__}",
                                          failure=ev.FAILURE_DROPPED if isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError) else ev.FAILURE_CONNECT))  # fmt: skip

    async def _status_error(self, response: httpx.Response) -> None:
        body = await response.aread()
        message: str = f"HTTP {response.status_code}"
        code: str | None = None
        with contextlib.suppress(ValueError):
            data = json.loads(body)
            error = data.get("error") if isinstance(data, dict) else None
            if isinstance(error, Mapping):
                message = str(error["message"]) if isinstance(error.get("message"), str) else message
                code = error.get("code") if isinstance(error.get("code"), str) else None
        self._emit(ev.error_event("error", message=message, code=code, http_status=response.status_code,
                                  request_id=response.headers.get("x-request-id"), failure=ev.FAILURE_HTTP_STATUS))  # fmt: skip

    async def _read_sse(self, response: httpx.Response, idle_s: float) -> None:
        """Each SSE event until a terminal one or the end; data that is not JSON ends the stream."""
        parser = SseParser()
        chunks = response.aiter_raw()
        while True:
            try:
                chunk = await asyncio.wait_for(anext(chunks), idle_s)
            except StopAsyncIteration:
                chunk = None
            except TimeoutError:
                self._emit(ev.error_event("error", message="idle timeout waiting for SSE", failure=ev.FAILURE_TIMEOUT))
                return
            sse_events = parser.feed(chunk) if chunk is not None else parser.close()
            for sse in sse_events:
                if sse.data == "[DONE]":
                    continue
                reported = self._on_data("responses", "http", sse.data)
                if any(e.get("failure") in (ev.FAILURE_INVALID_JSON, ev.FAILURE_NOT_AN_EVENT) for e in reported):
                    return
                if any(ev.is_terminal(e) for e in reported):
                    return
            if chunk is None:
                self._emit(ev.error_event("error", message="stream closed before response.completed", failure=ev.FAILURE_DROPPED))
                return
