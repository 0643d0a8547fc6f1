"""``responses.*`` steps on ``AsyncOpenAI.responses`` (``create(stream=True)`` or ``connect()``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from harness.impls.openai_python.sdkdriver import app
from harness.impls.openai_python.sdkdriver.endpoint import MAX_IDLE_S, Endpoint, api_key, str_map
from harness.impls.openai_python.sdkdriver.errors import (
    connect_error,
    exception_error,
    is_recognised,
    status_error,
)
from harness.impls.openai_python.sdkdriver.policy import Policy
from harness.impls.openai_python.sdkdriver.realtime import sdk_dict
from harness.impls.openai_python.sdkdriver.sockets import bounded_close, is_open, spawn
from harness.sdk.events import compact, error_event, responses_stream_events, unrecognized_event


__all__ = ["ResponsesDriver", "stream_events_of"]

Emit = Callable[[dict[str, Any]], None]


def stream_events_of(event: Any, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A parsed stream event as neutral events; a server-sent failure names the SDK's class
    for it (``ResponseFailedEvent``, ``ResponseErrorEvent``, ...) as its kind of failure."""
    out = responses_stream_events(data)
    for neutral in out:
        if neutral.get("type") == "error":
            neutral["failure"] = type(event).__name__
    return out


class _Request:
    """What one model request produced, as the turn loop needs it."""

    def __init__(self) -> None:
        self.completed = False
        self.failed = False
        self.response_id: str | None = None
        self.usage: list[dict[str, int] | None] = []


class ResponsesDriver:
    """``responses.*`` steps: a Codex-like turn loop (``app``) over the SDK's Responses calls."""

    def __init__(self, *, endpoint: Endpoint, config: Mapping[str, Any], emit: Emit, policy: Policy) -> None:
        self.endpoint = endpoint
        self.cfg = dict(config)
        self.emit = emit
        self.policy = policy
        self._pending: list[Any] = []
        self.websocket = self.cfg.get("transport", "sse") == "websocket"
        self.idle_s = min(float(self.cfg.get("stream_idle_timeout_ms", 300_000)) / 1000, MAX_IDLE_S)
        self.history: list[Any] = []
        self.conversation_id = str(self.cfg.get("conversation_id") or uuid.uuid4())
        self._client: Any = None
        self.conn: Any = None
        self.last_request: dict[str, Any] | None = None
        self.last_response: tuple[str, list[Any]] | None = None
        self.closing: set[asyncio.Task[Any]] = set()

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        if op == "responses.turn":
            await self._turn(args)
        elif op == "responses.prewarm":
            if self.websocket and (self.conn is None or not is_open(self.conn)):
                with contextlib.suppress(Exception):
                    await self._connect()
        elif op == "responses.new_session":
            self.last_request = self.last_response = None
        else:
            raise ValueError(f"unknown responses op {op!r}")

    async def aclose(self) -> None:
        self._drop_ws()
        for task in list(self.closing):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 3.0)
        if self._client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._client.close(), 3.0)

    def client(self) -> Any:
        if self._client is None:
            cfg = self.cfg
            # The SDK's own retries (408/409/429/5xx, connection errors, its backoff) as many as
            # the case configures, else none: retry policy is the codex layer (policy.retries).
            self._client = self.endpoint.client(
                key=api_key(cfg),
                max_retries=int(cfg.get("request_max_retries", 0)),
                read_timeout_s=self.idle_s,
                headers=str_map(cfg.get("headers")),
                query=str_map(cfg.get("query_params")),
            )
        return self._client

    def _body(self) -> dict[str, Any]:
        """The request the app asks for (the SDK serialises it; headers are the SDK's own)."""
        cfg = self.cfg
        body: dict[str, Any] = {"model": cfg.get("model", "gpt-5.2-codex")}
        if cfg.get("instructions"):
            body["instructions"] = cfg["instructions"]
        body["input"] = list(self.history)
        body["tools"] = list(cfg.get("tools", []))
        body["tool_choice"] = cfg.get("tool_choice", "auto")
        body["parallel_tool_calls"] = cfg.get("parallel_tool_calls", True)
        body["reasoning"] = cfg.get("reasoning")
        body["store"] = cfg.get("store", False)
        body["stream"] = True
        body["include"] = ["reasoning.encrypted_content"] if cfg.get("reasoning") is not None else []
        if cfg.get("service_tier") is not None:
            body["service_tier"] = cfg["service_tier"]
        body["prompt_cache_key"] = self.conversation_id
        if cfg.get("text") is not None:
            body["text"] = cfg["text"]
        return body

    async def _turn(self, args: Mapping[str, Any]) -> None:
        items = app.user_items(args.get("input"))
        outputs = args.get("tool_outputs") or {}
        self.emit({"type": "turn.started", "turn_id": str(uuid.uuid4())})
        self.history.extend(items)
        usage: dict[str, int] | None = None
        status = "completed"
        for _ in range(app.MAX_REQUESTS_PER_TURN):
            result = await self._request()
            for item_usage in result.usage:
                if item_usage is not None:
                    usage = {k: (usage or {}).get(k, 0) + item_usage[k] for k in app.USAGE_KEYS}
            if result.failed:
                status = "failed"
                break
            calls = [call for call in (app.tool_call(i) for i in self._pending) if call is not None]
            if not calls:
                break
            for call in calls:
                self.history.append(app.tool_output(call, outputs))
        else:
            self.emit({"type": "error", "message": "turn exceeded the model request limit"})
            status = "failed"
        self.emit(compact("turn.completed", status=status, token_usage=usage))

    async def _request(self) -> _Request:
        self._pending = []
        body = self._body()
        try:
            client = self.client()
        except Exception as exc:
            return self._fail(exception_error("error", exc))
        if self.websocket:
            return await self._request_ws(body)
        return await self._request_sse(client, body)

    def _fail(self, event: dict[str, Any], result: _Request | None = None) -> _Request:
        self.emit(event)
        result = result or _Request()
        result.failed = True
        return result

    def _on_event(self, event: Any, data: Mapping[str, Any], result: _Request, *, transport: str) -> None:
        """One stream event the SDK parsed: passed through when the SDK does not know its
        type, then the turn's neutral events and their effect on the turn."""
        if isinstance(data.get("type"), str) and not is_recognised(event, data):
            self.emit(unrecognized_event("responses", transport, dict(data)))
            return
        for neutral in stream_events_of(event, data):
            kind = neutral["type"]
            self.emit(neutral)
            if kind == "responses.output_item_done":
                item = neutral["item"]
                self.history.append(item)
                call = app.tool_call(item)
                if call is not None:
                    self._pending.append(item)
                    self.emit(compact("turn.tool_call", call_id=call["call_id"], name=call["name"], arguments=call["arguments"]))
            elif kind == "responses.completed":
                result.completed = True
                result.response_id = neutral.get("response_id") or None
                result.usage.append(neutral.get("token_usage"))
            elif kind == "error":
                result.failed = True

    # -- HTTP + SSE ---------------------------------------------------------------------

    async def _request_sse(self, client: Any, body: dict[str, Any]) -> _Request:
        import openai  # type: ignore[import-not-found,unused-ignore]  # the SDK venv only

        result = _Request()
        try:
            stream = await client.responses.create(**body)
        except openai.APIStatusError as exc:
            return self._fail(status_error(exc))
        except Exception as exc:
            return self._fail(exception_error("error", exc))
        try:
            model = (stream.response.headers.get("openai-model") or "").strip()
            if model:
                self.emit({"type": "responses.server_model", "model": model})
            async for event in stream:
                data = sdk_dict(event)
                self._on_event(event, data if isinstance(data, dict) else {}, result, transport="sse")
                if result.completed or result.failed:
                    break  # a terminal event ends the response; the SDK itself would read on to EOF
        except openai.APIStatusError as exc:
            return self._fail(status_error(exc), result)
        except Exception as exc:  # JSONDecodeError, APIError (an `error` payload), APIConnectionError
            return self._fail(exception_error("error", exc), result)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(stream.close(), 2.0)
        return result

    # -- websocket ----------------------------------------------------------------------

    async def _connect(self) -> Any:
        manager = self.client().responses.connect(
            websocket_connection_options=self.endpoint.ws_options(open_timeout_s=min(self.idle_s, 15.0), close_timeout_s=1.0))
        self.conn = await asyncio.wait_for(manager.enter(), 16.0)
        self.last_request = self.last_response = None
        return self.conn

    def _drop_ws(self) -> None:
        conn, self.conn = self.conn, None
        self.last_request = self.last_response = None
        if conn is not None:
            spawn(self.closing, bounded_close(conn, 1.0))

    def _frame(self, body: dict[str, Any]) -> dict[str, Any]:
        """``response.create``; with chaining previous_response_id, chained when the socket holds the prefix."""
        last, self.last_response = self.last_response, None
        frame = {"type": "response.create", **body}
        previous = self.last_request
        if self.policy.chaining != "previous_response_id" or last is None or previous is None or not last[0]:
            return frame
        same = {k: v for k, v in previous.items() if k != "input"} == {k: v for k, v in body.items() if k != "input"}
        baseline = [*previous.get("input", []), *last[1]]
        current = body.get("input", [])
        if not same or not baseline or len(current) <= len(baseline) or current[: len(baseline)] != baseline:
            return frame
        frame = {"type": "response.create"}
        for key, value in body.items():
            if key == "input":
                frame["previous_response_id"] = last[0]
                value = current[len(baseline):]
            frame[key] = value
        return frame

    async def _request_ws(self, body: dict[str, Any]) -> _Request:
        from websockets.exceptions import ConnectionClosed

        result = _Request()
        if self.conn is not None and not is_open(self.conn):
            self._drop_ws()  # the server closed it: the next request takes a new one (after_failure either way)
        if self.conn is None:
            try:
                await self._connect()
            except Exception as exc:
                return self._fail(connect_error(exc, realtime=False))
        conn = self.conn
        frame = self._frame(body)
        self.last_request = body
        added: list[Any] = []
        in_flight = False  # the response failed before its terminal event: its rest is still on the socket
        try:
            await conn.send(frame)
            while not (result.completed or result.failed):
                raw = await asyncio.wait_for(conn.recv_bytes(), self.idle_s)
                try:
                    event = conn.parse_event(raw)
                    data = json.loads(raw)
                except Exception as exc:  # JSONDecodeError: recv() would raise it
                    if self.policy.responses_parse() == "skip_frame":
                        self.emit(exception_error("error", exc))
                        continue
                    in_flight = True
                    self._fail(exception_error("error", exc), result)
                    break
                if not isinstance(data, dict):
                    continue
                if data.get("type") == "response.output_item.done" and isinstance(data.get("item"), dict):
                    added.append(data["item"])
                self._on_event(event, data, result, transport="websocket")
        except ConnectionClosed as exc:
            self._drop_ws()
            return self._fail(exception_error("error", exc), result)
        except TimeoutError:
            self._drop_ws()
            return self._fail(error_event("error", message="idle timeout waiting for websocket", failure="TimeoutError"), result)
        except Exception as exc:
            self._drop_ws()
            return self._fail(exception_error("error", exc), result)
        if result.failed:
            if in_flight or self.policy.after_failure == "drop_connection":
                self._drop_ws()
            else:
                self.last_request = self.last_response = None  # nothing to chain on after a failure
        elif result.response_id:
            self.last_response = (result.response_id, added)
        return result
