"""openai-python (``openai[realtime]``) as a wireplay driver: JSON lines on stdin/stdout.

Runs inside the SDK's own venv (the SDK pins ``websockets<16``, wireplay runs 17), so it
imports only the stdlib and ``openai`` — never wireplay. Protocol: schemas/driver.schema.json.

Split of responsibilities. The SDK does everything on the wire: URLs, handshake and HTTP
headers, auth, retries, SSE framing, websocket frames, parsing, close. The few decisions
an application makes on top of the SDK (what ``session.update`` says, when to ask for a
response, how a delegated call is answered, what a turn sends next) follow the steps'
definitions (schemas/steps/) and the reference client's defaults, so that any difference
the suite finds is the SDK's. Events report only what the SDK surfaces: parsed events,
exceptions and the response headers it exposes; Codex-only facts (telemetry, rate-limit
snapshots, reroute warnings, turn-level retries) are not invented.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import os
import ssl as ssl_module
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit


NAME = "openai-python"
# Not claimed: realtime.v1 (Codex's quicksilver protocol), responses.ws.v1 (response.append is
# no SDK client event), profiles (Codex revision presets), auth.* (Codex's auth manager and its
# 401 tags), and tls.ca-env: the SDK does not implement Codex's CA policy (CODEX_CA_CERTIFICATE
# first, then SSL_CERT_FILE, Codex's error texts). A case's tls.env is still applied as given
# (httpx2 and websockets read SSL_CERT_FILE / SSL_CERT_DIR themselves) for cases that set it
# without requiring the policy; a TLS run without it trusts the run's CA (endpoint.ca_file).
CAPABILITIES = (
    "auth.api-key",  # an API key as the bearer credential (its Codex-only tags and recovery are the codex layer)
    "realtime",
    "realtime.v2",
    "realtime.transcription",
    "responses",
    "responses.sse",
    "responses.ws",
    "responses.ws.v2",
    "responses.tool_outputs",
    "responses.builtin_tool_outputs",  # the app answers every function call, whatever its name
    "responses.request_options",  # the app builds the request body (instructions, tools, ...) from the case
    "realtime.handoff_output",
    "tls",
)

# The event types this driver can report at all: what the SDK surfaces (parsed events,
# exceptions, the ``openai-model`` header on SSE) and the app-level turn and conversation
# events the steps define. Everything else in the vocabulary is Codex-only and never
# reported: telemetry.*, auth.*, responses.rate_limits / models_etag /
# server_reasoning_included, turn.stream_error / model_reroute, warning. Declared in the
# hello, so a case whose events match within this scope is NON-STRICT, not FAIL.
REPORTED_EVENTS = (
    "error",
    "conversation.started",
    "conversation.closed",
    "realtime.*",
    "responses.created",
    "responses.output_item_added",
    "responses.output_item_done",
    "responses.output_text_delta",
    "responses.reasoning_summary_delta",
    "responses.reasoning_summary_part_added",
    "responses.reasoning_content_delta",
    "responses.completed",
    "responses.server_model",
    "turn.started",
    "turn.tool_call",
    "turn.completed",
)

Emit = Callable[[dict[str, Any]], None]

# The application defaults a Codex-like app puts in its requests (reference client, R-C).
_PCM = {"type": "audio/pcm", "rate": 24_000}
_TOOL_NAME = "codex"
_TOOL_DESCRIPTION = (
    "Delegate a request to Codex and return the final result to the user. Use this as the "
    "default action. If the user asks to do something next, later, after this, or once "
    "current work finishes, call this tool so the work is actually queued instead of "
    "merely promising to do it later."
)
_TOOL_PROMPT_DESCRIPTION = "The user request to delegate to Codex."
_FINAL_MESSAGE_PREFIX = '"Agent Final Message":\n\n'
_ACTIVE_RESPONSE_PREFIX = "Conversation already has an active response in progress:"
_NOT_RUNNING = "conversation is not running"
_CLOSED = "realtime websocket connection is closed"
_TOOL_ARGUMENT_KEYS = ("input_transcript", "input", "text", "prompt", "query")
_CALL_OUTPUT_TYPES = {
    "function_call": "function_call_output",
    "local_shell_call": "function_call_output",
    "custom_tool_call": "custom_tool_call_output",
}
_MAX_REQUESTS_PER_TURN = 64
_MAX_IDLE_S = 60.0  # bound on any single wait, whatever the config says
_CONNECT_S = 5.0
_CA_ENV = ("SSL_CERT_FILE", "SSL_CERT_DIR", "CODEX_CA_CERTIFICATE")


def _write(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _emit(event: dict[str, Any]) -> None:
    _write({"type": "event", "event": event})


def _compact(event_type: str, **fields: Any) -> dict[str, Any]:
    """An event without its absent (None) fields: optional fields are omitted, never null."""
    return {"type": event_type, **{k: v for k, v in fields.items() if v is not None}}


def _describe(exc: BaseException) -> str:
    """``Type: text``; the SDK's generic ``Connection error.`` also names its cause."""
    text = str(exc)
    described = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    cause = exc.__cause__
    if cause is not None and type(exc).__name__ == "APIConnectionError":
        described += f" ({_describe(cause)})"
    return described


def _str(obj: Any, key: str) -> str | None:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value if isinstance(value, str) else None


def _uint(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _ws_base_url(base_url: str) -> str:
    """``websocket_base_url`` for the SDK: the base URL with a ws(s) scheme."""
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit(parts._replace(scheme=scheme))


def _str_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


class _Endpoint:
    """Where the case's fake server is, and the TLS context when it serves TLS."""

    def __init__(self, *, base_url: str, ca_file: str | None, tls_env: Mapping[str, str] | None,
                 realtime_base_url: str | None = None) -> None:
        self.base_url = base_url
        self.ws_base_url = _ws_base_url(base_url)
        # A realtime listener of its own, when the case gives one: the SDK's websocket base there.
        self.realtime_ws_base_url = _ws_base_url(realtime_base_url or base_url)
        self.ssl: ssl_module.SSLContext | None = None
        if tls_env is not None:
            # The case gives the client's CA environment, whole: the SDK reads what it
            # reads of it itself (httpx2 and websockets honour SSL_CERT_FILE / SSL_CERT_DIR;
            # CODEX_CA_CERTIFICATE means nothing to them). One process per case, so this is local.
            for name in _CA_ENV:
                os.environ.pop(name, None)
            os.environ.update({str(k): str(v) for k, v in tls_env.items()})
        elif ca_file:
            # No CA environment: the SDK's documented way, an explicit context for HTTP and websockets.
            self.ssl = ssl_module.create_default_context(cafile=ca_file)

    def client(self, *, api_key: str | None, max_retries: int, read_timeout_s: float,
               headers: Mapping[str, str], query: Mapping[str, str], realtime: bool = False) -> Any:
        """An ``AsyncOpenAI`` pointed at the fake server; raises ``OpenAIError`` without a key."""
        import openai

        kwargs: dict[str, Any] = {}
        if self.ssl is not None:
            kwargs["http_client"] = openai.DefaultAsyncHttpxClient(verify=self.ssl)
        if headers:
            kwargs["default_headers"] = dict(headers)
        if query:
            kwargs["default_query"] = dict(query)
        return openai.AsyncOpenAI(
            api_key=api_key,
            base_url=self.base_url,
            websocket_base_url=self.realtime_ws_base_url if realtime else self.ws_base_url,
            max_retries=max_retries,
            timeout=openai.Timeout(read_timeout_s, connect=_CONNECT_S),
            **kwargs,
        )

    def ws_options(self, *, open_timeout_s: float, close_timeout_s: float) -> dict[str, Any]:
        options: dict[str, Any] = {"open_timeout": open_timeout_s, "close_timeout": close_timeout_s}
        if self.ssl is not None:
            options["ssl"] = self.ssl
        return options


def _connect_error(exc: BaseException, *, realtime: bool) -> dict[str, Any]:
    """A failed handshake as one event.

    The SDK raises websockets' ``InvalidStatus`` unwrapped; its ``response`` carries the
    status, reason and ``x-request-id``, which the event reports as the reference does.
    """
    kind, prefix = ("realtime.error", "failed to connect realtime websocket: ") if realtime else ("error", "")
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if not isinstance(status, int):
        return _compact(kind, message=prefix + _describe(exc))
    headers = getattr(response, "headers", None)
    request_id = headers.get("x-request-id") if headers is not None else None
    reason = getattr(response, "reason_phrase", "") or ""
    message = f"{prefix}HTTP {status} {reason}".rstrip()
    if request_id:
        message += f" (x-request-id: {request_id})"
    return _compact(kind, message=message, http_status=status, request_id=request_id)


async def _bounded_close(conn: Any, timeout_s: float) -> bool:
    """Close through the SDK; True when the server never answered the close frame in time.

    The websockets connection under the SDK's wrapper records whether the server's close
    frame arrived; a slow TCP teardown after a completed handshake is not a timeout.
    """
    started = time.monotonic()
    try:
        await asyncio.wait_for(conn.close(), timeout_s + 1.0)
    except Exception:  # a failed close is still a close
        return True
    ran_out = time.monotonic() - started >= timeout_s * 0.95
    ws = getattr(conn, "_connection", None)
    if ws is not None and hasattr(ws, "close_rcvd"):
        return ran_out and ws.close_rcvd is None
    return ran_out


# --- realtime ------------------------------------------------------------------------


def _input_transcript(arguments: str) -> str:
    if arguments == "":
        return ""
    try:
        parsed = json.loads(arguments)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        for key in _TOOL_ARGUMENT_KEYS:
            value = parsed.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return arguments


def _handoff(item: Any) -> dict[str, Any] | None:
    """A ``function_call`` item naming the delegation tool, as a handoff event."""
    if not isinstance(item, Mapping) or item.get("type") != "function_call" or item.get("name") != _TOOL_NAME:
        return None
    item_id, call_id = _str(item, "id"), _str(item, "call_id")
    call_id = call_id if call_id is not None else item_id
    if call_id is None:
        return None
    return {"type": "realtime.handoff_requested", "handoff_id": call_id,
            "item_id": call_id if item_id is None else item_id,
            "input_transcript": _input_transcript(_str(item, "arguments") or ""), "active_transcript": []}


def _audio_ms(data: str, sample_rate: int, channels: int, samples: int | None) -> int:
    if samples is None:
        try:
            samples = len(base64.b64decode(data, validate=True)) // 2 // max(channels, 1)
        except (binascii.Error, ValueError):
            return 0
    return min(samples * 1000 // max(sample_rate, 1), 2**32 - 1)


def _session_body(mode: str, instructions: str) -> dict[str, Any]:
    """The GA ``session.update`` session the app configures (conversational or transcription)."""
    if mode == "transcription":
        return {"type": "transcription", "audio": {"input": {"format": dict(_PCM)}}}
    return {
        "type": "realtime",
        "instructions": instructions,
        "output_modalities": ["audio"],
        "audio": {
            "input": {
                "format": dict(_PCM),
                "noise_reduction": {"type": "near_field"},
                "turn_detection": {"type": "server_vad", "interrupt_response": True, "create_response": True},
            },
            "output": {"format": dict(_PCM), "voice": "marin"},
        },
        "tools": [{
            "type": "function",
            "name": _TOOL_NAME,
            "description": _TOOL_DESCRIPTION,
            "parameters": {
                "type": "object",
                "properties": {"prompt": {"type": "string", "description": _TOOL_PROMPT_DESCRIPTION}},
                "required": ["prompt"],
                "additionalProperties": False,
            },
        }],
        "tool_choice": "auto",
    }


class _Conversation:
    """One SDK realtime connection and the app state riding on it."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.lock = asyncio.Lock()
        self.active = True
        self.reader: asyncio.Task[None] | None = None
        self.response_in_progress = False
        self.pending_create = False
        self.audio_item: str | None = None
        self.audio_end_ms = 0
        self.handoff: str | None = None
        self.last_output: str | None = None


class RealtimeDriver:
    """``realtime.*`` steps on ``AsyncOpenAI.realtime.connect`` (GA protocol only)."""

    def __init__(self, *, endpoint: _Endpoint, config: Mapping[str, Any], emit: Emit) -> None:
        self.endpoint = endpoint
        self.cfg = dict(config)
        self.emit = emit
        self.conversation: _Conversation | None = None
        self.closing: set[asyncio.Task[None]] = set()
        self.close_timeout_s = min(float(self.cfg.get("close_timeout_ms", 1000)) / 1000, _MAX_IDLE_S)
        self.open_timeout_s = min(float(self.cfg.get("open_timeout_ms", 10_000)) / 1000, _MAX_IDLE_S)

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        handlers = {
            "realtime.start": self._start,
            "realtime.audio": self._audio,
            "realtime.text": self._text,
            "realtime.handoff_output": self._handoff_output,
            "realtime.turn_complete": self._turn_complete,
            "realtime.close": self._close,
        }
        if op not in handlers:
            raise ValueError(f"unknown realtime op {op!r}")
        await handlers[op](args)

    async def aclose(self) -> None:
        conversation, self.conversation = self.conversation, None
        if conversation is not None and conversation.active:
            conversation.active = False
            await _cancel(conversation.reader)
            await _bounded_close(conversation.conn, self.close_timeout_s)
        for task in list(self.closing):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, self.close_timeout_s + 2)

    # -- steps --------------------------------------------------------------------------

    async def _start(self, args: Mapping[str, Any]) -> None:
        import openai

        previous, self.conversation = self.conversation, None
        if previous is not None and previous.active:
            previous.active = False
            await _cancel(previous.reader)
            self._close_later(previous)
        cfg = self.cfg
        if cfg.get("version", "v2") != "v2":
            self.emit(_compact("realtime.error", message="openai-python speaks only the GA (v2) realtime protocol"))
            return
        session_id = args.get("session_id") or cfg.get("session_id") or str(uuid.uuid4())
        api_key = cfg.get("bearer_token") or _api_key(cfg)
        base = cfg.get("backend_prompt") if cfg.get("backend_prompt") is not None else (args.get("prompt") or "")
        instructions = f"{base}\n\n{cfg['startup_context']}" if cfg.get("startup_context") else base
        try:
            client = self.endpoint.client(api_key=api_key, max_retries=0, read_timeout_s=self.open_timeout_s,
                                          headers=_str_map(cfg.get("headers")), query={}, realtime=True)
            manager = client.realtime.connect(
                model=cfg["model"] if cfg.get("model") else openai.omit,
                extra_query=_str_map(cfg.get("query_params")),
                websocket_connection_options=self.endpoint.ws_options(
                    open_timeout_s=self.open_timeout_s, close_timeout_s=self.close_timeout_s),
            )
            conn = await asyncio.wait_for(manager.enter(), self.open_timeout_s + 1)
        except Exception as exc:
            self.emit(_connect_error(exc, realtime=True))
            return
        conversation = _Conversation(conn)
        try:
            await conn.session.update(session=_session_body(cfg.get("type", "conversational"), instructions))
        except Exception as exc:
            self._close_later(conversation)
            self.emit(_compact("realtime.error", message="failed to connect realtime websocket: " + _describe(exc)))
            return
        self.conversation = conversation
        self.emit({"type": "conversation.started", "session_id": session_id, "version": "v2"})
        conversation.reader = asyncio.get_running_loop().create_task(self._read(conversation))

    async def _audio(self, args: Mapping[str, Any]) -> None:
        await self._command(lambda c: c.conn.input_audio_buffer.append(audio=args["data"]))

    async def _text(self, args: Mapping[str, Any]) -> None:
        async def send(c: _Conversation) -> None:
            await c.conn.conversation.item.create(
                item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": args["text"]}]})
            await self._request_response(c)

        await self._command(send)

    async def _handoff_output(self, args: Mapping[str, Any]) -> None:
        async def keep(c: _Conversation) -> None:
            if c.handoff is not None:
                c.last_output = args["text"]

        await self._command(keep, report_idle=False)

    async def _turn_complete(self, args: Mapping[str, Any]) -> None:
        async def finish(c: _Conversation) -> None:
            handoff, output = c.handoff, c.last_output
            c.handoff = c.last_output = None
            if handoff is not None and output is not None:
                await c.conn.conversation.item.create(
                    item={"type": "function_call_output", "call_id": handoff, "output": _FINAL_MESSAGE_PREFIX + output})
                await self._request_response(c)

        await self._command(finish, report_idle=False)

    async def _close(self, args: Mapping[str, Any]) -> None:
        conversation, self.conversation = self.conversation, None
        timed_out = False
        if conversation is not None and conversation.active:
            conversation.active = False
            await _cancel(conversation.reader)
            timed_out = await _bounded_close(conversation.conn, self.close_timeout_s)
        self.emit(_compact("conversation.closed", reason="requested", close_timed_out=True if timed_out else None))

    # -- plumbing -----------------------------------------------------------------------

    async def _command(self, action: Callable[[_Conversation], Any], *, report_idle: bool = True) -> None:
        conversation = self.conversation
        if conversation is None or not conversation.active:
            if report_idle:
                self.emit({"type": "error", "message": _NOT_RUNNING})
            return
        async with conversation.lock:
            if not conversation.active:
                if report_idle:
                    self.emit({"type": "error", "message": _NOT_RUNNING})
                return
            try:
                await action(conversation)
            except Exception as exc:
                self._end(conversation, _send_failure(exc))

    async def _request_response(self, c: _Conversation) -> None:
        if c.response_in_progress:
            c.pending_create = True
            return
        await c.conn.response.create()

    async def _flush_pending(self, c: _Conversation) -> None:
        if c.pending_create:
            c.pending_create = False
            c.response_in_progress = True
            await c.conn.response.create()

    async def _read(self, c: _Conversation) -> None:
        """The SDK's receive loop: ``recv_bytes`` + ``parse_event`` is exactly ``recv()``."""
        from websockets.exceptions import ConnectionClosed

        while True:
            failure: str | None = None
            raw: bytes | None = None
            event: Any = None
            try:
                raw = await c.conn.recv_bytes()
                event = c.conn.parse_event(raw)
            except ConnectionClosed:
                # A clean close (the SDK's iterator just ends) or 1011 / a dropped TCP
                # (ConnectionClosedError): either way the socket is gone.
                failure = _CLOSED
            except Exception as exc:
                failure = _describe(exc)
            async with c.lock:
                if not c.active:
                    return
                if failure is not None:
                    self._end(c, failure)
                    return
                try:
                    await self._on_event(c, event, json.loads(raw or b"null"))
                except Exception as exc:
                    self._end(c, _send_failure(exc))
                if not c.active:
                    return

    def _end(self, c: _Conversation, message: str | None) -> None:
        """The conversation stopped (server error, transport end): report, then close via the SDK."""
        c.active = False
        if self.conversation is c:
            self.conversation = None
        if message:
            self.emit(_compact("realtime.error", message=message))
        self.emit({"type": "conversation.closed", "reason": "transport_closed"})
        self._close_later(c)

    def _close_later(self, c: _Conversation) -> None:
        c.active = False
        task = asyncio.get_running_loop().create_task(_bounded_close(c.conn, self.close_timeout_s))
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    async def _on_event(self, c: _Conversation, event: Any, raw: Any) -> None:
        kind = getattr(event, "type", None)
        obj = raw if isinstance(raw, dict) else {}
        if kind == "session.updated":
            session = obj.get("session")
            session_id = _str(session, "id")
            if session_id is not None:
                self.emit(_compact("realtime.session_updated", session_id=session_id,
                                   instructions=_str(session, "instructions")))
        elif kind in ("response.output_audio.delta", "response.audio.delta"):
            data = _str(obj, "delta")
            if data is None:
                return
            rate = _uint(obj.get("sample_rate"))
            channels = _uint(obj.get("channels", obj.get("num_channels")))
            samples = _uint(obj.get("samples_per_channel"))
            rate = 24_000 if rate is None else rate
            channels = 1 if channels is None else channels
            item_id = _str(obj, "item_id")
            if item_id is not None:
                duration = _audio_ms(data, rate, channels, samples)
                if duration:
                    if c.audio_item == item_id:
                        c.audio_end_ms = min(c.audio_end_ms + duration, 2**32 - 1)
                    else:
                        c.audio_item, c.audio_end_ms = item_id, duration
            self.emit(_compact("realtime.audio_out", data=data, sample_rate=rate, num_channels=channels,
                               samples_per_channel=samples, item_id=item_id))
        elif kind in ("conversation.item.input_audio_transcription.delta",
                      "conversation.item.input_audio_transcription.completed"):
            delta = _str(obj, "delta" if kind.endswith("delta") else "transcript")
            if delta is not None:
                self.emit({"type": "realtime.input_transcript_delta", "delta": delta})
        elif kind in ("response.output_text.delta", "response.output_audio_transcript.delta"):
            delta = _str(obj, "delta")
            if delta is not None:
                self.emit({"type": "realtime.output_transcript_delta", "delta": delta})
        elif kind == "input_audio_buffer.speech_started":
            item_id = _str(obj, "item_id")
            tracked, ms = c.audio_item, c.audio_end_ms
            c.audio_item, c.audio_end_ms = None, 0
            if tracked is not None and (item_id is None or item_id == tracked):
                await c.conn.conversation.item.truncate(item_id=tracked, content_index=0, audio_end_ms=ms)
            self.emit(_compact("realtime.speech_started", item_id=item_id))
        elif kind == "conversation.item.added":
            if "item" in obj:
                self.emit({"type": "realtime.item_added", "item": obj["item"]})
        elif kind == "conversation.item.done":
            item = obj.get("item")
            if not isinstance(item, dict):
                return
            handoff = _handoff(item)
            if handoff is not None:
                self._on_handoff(c, handoff)
            elif _str(item, "id") is not None:
                self.emit({"type": "realtime.item_done", "item_id": item["id"]})
        elif kind == "response.created":
            c.response_in_progress = True
            self.emit({"type": "realtime.item_added", "item": obj})
        elif kind == "response.done":
            response = obj.get("response")
            output = response.get("output") if isinstance(response, dict) else None
            for item in output if isinstance(output, list) else []:
                handoff = _handoff(item)
                if handoff is not None:
                    self._on_handoff(c, handoff)
                    return
            c.response_in_progress = False
            c.audio_item, c.audio_end_ms = None, 0
            await self._flush_pending(c)
            self.emit({"type": "realtime.item_added", "item": obj})
        elif kind == "response.cancelled":
            c.response_in_progress = False
            c.audio_item, c.audio_end_ms = None, 0
            await self._flush_pending(c)
            response = obj.get("response")
            rid = _str(response, "id") if isinstance(response, dict) else _str(obj, "response_id")
            self.emit(_compact("realtime.response_cancelled", response_id=rid))
        elif kind == "error":
            message = self._error_message(event, obj)
            if message is None:
                return
            if message.startswith(_ACTIVE_RESPONSE_PREFIX):
                c.pending_create = True
                c.response_in_progress = True
                return
            self._end(c, message)

    @staticmethod
    def _error_message(event: Any, obj: Mapping[str, Any]) -> str | None:
        """The text of a server ``error`` event, as the SDK's ``RealtimeErrorEvent`` holds it."""
        if isinstance(obj.get("message"), str):
            return obj["message"]
        error = getattr(event, "error", None)
        message = getattr(error, "message", None)
        if message is None and isinstance(error, Mapping):
            message = error.get("message")
        if isinstance(message, str):
            return message
        if "error" in obj:
            return json.dumps(obj["error"], separators=(",", ":"), ensure_ascii=False)
        return None

    def _on_handoff(self, c: _Conversation, handoff: dict[str, Any]) -> None:
        c.handoff = handoff["handoff_id"]
        c.last_output = None
        c.response_in_progress = False
        c.audio_item, c.audio_end_ms = None, 0
        self.emit(handoff)


def _send_failure(exc: BaseException) -> str:
    from websockets.exceptions import ConnectionClosed

    return _CLOSED if isinstance(exc, ConnectionClosed) else _describe(exc)


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is None or task is asyncio.current_task():
        return
    task.cancel()
    with contextlib.suppress(BaseException):
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 1.0)


# --- responses -----------------------------------------------------------------------


def _user_items(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": value}]}]
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return [dict(item) for item in value]
    raise ValueError("responses.turn 'input' must be a string or a list of item objects")


def _tool_call(item: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = item.get("type")
    if kind not in _CALL_OUTPUT_TYPES:
        return None
    call_id = item.get("call_id") or item.get("id")
    if not isinstance(call_id, str):
        return None
    name = "local_shell" if kind == "local_shell_call" else item.get("name")
    arguments = item.get("arguments") if kind == "function_call" else item.get("input")
    return {"call_id": call_id, "name": name if isinstance(name, str) else "", "kind": kind,
            "arguments": arguments if isinstance(arguments, str) else None}


def _tool_output(call: Mapping[str, Any], outputs: Mapping[str, Any]) -> dict[str, Any]:
    if call["call_id"] in outputs:
        scripted: Any = outputs[call["call_id"]]
    elif call["name"] in outputs:
        scripted = outputs[call["name"]]
    else:
        scripted = f"unsupported call: {call['name']}"
    if call["name"] == "view_image" and isinstance(scripted, str) and not scripted.startswith("unsupported call"):
        scripted = [{"type": "input_image", "image_url": scripted}]
    if not isinstance(scripted, str | list):
        scripted = str(scripted)
    return {"type": _CALL_OUTPUT_TYPES[call["kind"]], "call_id": call["call_id"], "output": scripted}


_USAGE_KEYS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens")


def _token_usage(usage: Any) -> dict[str, int] | None:
    """``response.usage`` flattened as the neutral ``token_usage``."""
    if not isinstance(usage, Mapping):
        return None

    def num(obj: Any, key: str) -> int:
        value = obj.get(key) if isinstance(obj, Mapping) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    return {
        "input_tokens": num(usage, "input_tokens"),
        "cached_input_tokens": num(usage.get("input_tokens_details"), "cached_tokens"),
        "output_tokens": num(usage, "output_tokens"),
        "reasoning_output_tokens": num(usage.get("output_tokens_details"), "reasoning_tokens"),
        "total_tokens": num(usage, "total_tokens"),
    }


def _dict(model: Any) -> Any:
    """A parsed SDK object back to JSON data (the SDK keeps every field it received)."""
    if hasattr(model, "to_dict"):
        return model.to_dict()
    return model


class _Request:
    """What one model request produced, as the turn loop needs it."""

    def __init__(self) -> None:
        self.completed = False
        self.failed = False
        self.response_id: str | None = None
        self.usage: list[dict[str, int] | None] = []


class ResponsesDriver:
    """``responses.*`` steps on ``AsyncOpenAI.responses`` (``create(stream=True)`` or ``connect()``)."""

    def __init__(self, *, endpoint: _Endpoint, config: Mapping[str, Any], emit: Emit) -> None:
        self.endpoint = endpoint
        self.cfg = dict(config)
        self.emit = emit
        self._pending: list[Any] = []
        self.websocket = self.cfg.get("transport", "sse") == "websocket"
        self.idle_s = min(float(self.cfg.get("stream_idle_timeout_ms", 300_000)) / 1000, _MAX_IDLE_S)
        self.history: list[Any] = []
        self.conversation_id = str(self.cfg.get("conversation_id") or uuid.uuid4())
        self._client: Any = None
        self.conn: Any = None
        self.last_request: dict[str, Any] | None = None
        self.last_response: tuple[str, list[Any]] | None = None
        self.session_used = False
        self.closing: set[asyncio.Task[Any]] = set()

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        if op == "responses.turn":
            await self._turn(args)
        elif op == "responses.prewarm":
            if self.websocket and self.conn is None:
                with contextlib.suppress(Exception):
                    await self._connect()
        elif op == "responses.new_session":
            self._new_session()
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

    def _new_session(self) -> None:
        self.last_request = self.last_response = None
        self.session_used = False

    def client(self) -> Any:
        if self._client is None:
            cfg = self.cfg
            self._client = self.endpoint.client(
                api_key=_api_key(cfg),
                max_retries=int(cfg.get("request_max_retries", 0)),
                read_timeout_s=self.idle_s,
                headers=_str_map(cfg.get("headers")),
                query=_str_map(cfg.get("query_params")),
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
        items = _user_items(args.get("input"))
        outputs = args.get("tool_outputs") or {}
        if self.session_used:
            self._new_session()
        self.session_used = True
        self.emit({"type": "turn.started", "turn_id": str(uuid.uuid4())})
        self.history.extend(items)
        usage: dict[str, int] | None = None
        status = "completed"
        for _ in range(_MAX_REQUESTS_PER_TURN):
            result = await self._request()
            for item_usage in result.usage:
                if item_usage is not None:
                    usage = {k: (usage or {}).get(k, 0) + item_usage[k] for k in _USAGE_KEYS}
            if result.failed:
                status = "failed"
                break
            calls = [call for call in (_tool_call(i) for i in self._pending) if call is not None]
            if not calls:
                break
            for call in calls:
                self.history.append(_tool_output(call, outputs))
        else:
            self.emit({"type": "error", "message": "turn exceeded the model request limit"})
            status = "failed"
        self.emit(_compact("turn.completed", status=status, token_usage=usage))

    async def _request(self) -> _Request:
        self._pending = []
        body = self._body()
        try:
            client = self.client()
        except Exception as exc:
            return self._fail(_compact("error", message=_describe(exc)))
        if self.websocket:
            return await self._request_ws(body)
        return await self._request_sse(client, body)

    def _fail(self, event: dict[str, Any], result: _Request | None = None) -> _Request:
        self.emit(event)
        result = result or _Request()
        result.failed = True
        return result

    # -- events common to SSE and websocket ------------------------------------------

    def _on_event(self, kind: str, data: Mapping[str, Any], result: _Request) -> None:
        """One stream event (SDK-parsed, as JSON data) to neutral events."""
        if kind == "response.created":
            response = data.get("response")
            self.emit(_compact("responses.created", response_id=_str(response, "id")))
        elif kind in ("response.output_item.added", "response.output_item.done"):
            item = data.get("item")
            if not isinstance(item, dict):
                return
            done = kind.endswith("done")
            self.emit({"type": "responses.output_item_done" if done else "responses.output_item_added", "item": item})
            if done:
                self.history.append(item)
                call = _tool_call(item)
                if call is not None:
                    self._pending.append(item)
                    self.emit(_compact("turn.tool_call", call_id=call["call_id"], name=call["name"],
                                       arguments=call["arguments"]))
        elif kind == "response.output_text.delta":
            if isinstance(data.get("delta"), str):
                self.emit({"type": "responses.output_text_delta", "delta": data["delta"]})
        elif kind == "response.reasoning_summary_text.delta":
            if isinstance(data.get("delta"), str) and isinstance(data.get("summary_index"), int):
                self.emit({"type": "responses.reasoning_summary_delta", "delta": data["delta"],
                           "summary_index": data["summary_index"]})
        elif kind == "response.reasoning_text.delta":
            if isinstance(data.get("delta"), str) and isinstance(data.get("content_index"), int):
                self.emit({"type": "responses.reasoning_content_delta", "delta": data["delta"],
                           "content_index": data["content_index"]})
        elif kind == "response.reasoning_summary_part.added":
            if isinstance(data.get("summary_index"), int):
                self.emit({"type": "responses.reasoning_summary_part_added", "summary_index": data["summary_index"]})
        elif kind == "response.completed":
            response = data.get("response") if isinstance(data.get("response"), Mapping) else {}
            usage = _token_usage(response.get("usage"))
            end_turn = response.get("end_turn", data.get("end_turn"))
            result.completed = True
            result.response_id = _str(response, "id")
            result.usage.append(usage)
            self.emit(_compact("responses.completed", response_id=result.response_id or "", token_usage=usage,
                               end_turn=end_turn if isinstance(end_turn, bool) else None))
        elif kind == "response.failed":
            response = data.get("response") if isinstance(data.get("response"), Mapping) else {}
            error = response.get("error") if isinstance(response.get("error"), Mapping) else {}
            self._fail(_compact("error", message=_str(error, "message") or "response failed",
                                code=_str(error, "code")), result)
        elif kind == "response.incomplete":
            response = data.get("response") if isinstance(data.get("response"), Mapping) else {}
            details = response.get("incomplete_details")
            reason = _str(details, "reason") if isinstance(details, Mapping) else None
            self._fail(_compact("error", message=f"response incomplete: {reason or 'unknown'}"), result)
        elif kind == "error":
            nested = data.get("error") if isinstance(data.get("error"), Mapping) else data
            status = data.get("status")
            self._fail(_compact("error", message=_str(nested, "message") or json.dumps(dict(data)),
                                code=_str(nested, "code"),
                                http_status=status if isinstance(status, int) else None), result)

    # -- HTTP + SSE ---------------------------------------------------------------------

    async def _request_sse(self, client: Any, body: dict[str, Any]) -> _Request:
        import openai

        result = _Request()
        try:
            stream = await client.responses.create(**body)
        except openai.APIStatusError as exc:
            return self._fail(_status_error(exc))
        except Exception as exc:
            return self._fail(_compact("error", message=_describe(exc)))
        try:
            model = (stream.response.headers.get("openai-model") or "").strip()
            if model:
                self.emit({"type": "responses.server_model", "model": model})
            async for event in stream:
                self._on_event(str(getattr(event, "type", "")), _dict(event), result)
                if result.completed or result.failed:
                    break  # a terminal event ends the response; the SDK itself would read on to EOF
        except openai.APIStatusError as exc:
            return self._fail(_status_error(exc), result)
        except Exception as exc:
            return self._fail(_compact("error", message=_describe(exc)), result)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(stream.close(), 2.0)
        return result

    # -- websocket ----------------------------------------------------------------------

    async def _connect(self) -> Any:
        manager = self.client().responses.connect(
            websocket_connection_options=self.endpoint.ws_options(open_timeout_s=min(self.idle_s, 15.0),
                                                                  close_timeout_s=1.0))
        self.conn = await asyncio.wait_for(manager.enter(), 16.0)
        self.last_request = self.last_response = None
        return self.conn

    def _drop_ws(self) -> None:
        conn, self.conn = self.conn, None
        self.last_request = self.last_response = None
        if conn is not None:
            task = asyncio.get_running_loop().create_task(_bounded_close(conn, 1.0))
            self.closing.add(task)
            task.add_done_callback(self.closing.discard)

    def _frame(self, body: dict[str, Any]) -> dict[str, Any]:
        """``response.create``; chained with ``previous_response_id`` when the socket holds the prefix."""
        last, self.last_response = self.last_response, None
        frame = {"type": "response.create", **body}
        previous = self.last_request
        if last is None or previous is None or not last[0]:
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
        if self.conn is None:
            try:
                await self._connect()
            except Exception as exc:
                return self._fail(_connect_error(exc, realtime=False))
        conn = self.conn
        frame = self._frame(body)
        self.last_request = body
        added: list[Any] = []
        try:
            await conn.send(frame)
            while not (result.completed or result.failed):
                raw = await asyncio.wait_for(conn.recv_bytes(), self.idle_s)
                event = conn.parse_event(raw)
                data = json.loads(raw)
                kind = str(getattr(event, "type", ""))
                if kind == "response.output_item.done" and isinstance(data.get("item"), dict):
                    added.append(data["item"])
                self._on_event(kind, data if isinstance(data, dict) else {}, result)
        except ConnectionClosed as exc:
            self._drop_ws()
            return self._fail(_compact("error", message=_describe(exc)), result)
        except TimeoutError:
            self._drop_ws()
            return self._fail(_compact("error", message="idle timeout waiting for websocket"), result)
        except Exception as exc:
            self._drop_ws()
            return self._fail(_compact("error", message=_describe(exc)), result)
        if result.failed:
            self._drop_ws()
        elif result.response_id:
            self.last_response = (result.response_id, added)
        return result


def _status_error(exc: Any) -> dict[str, Any]:
    """``APIStatusError`` → ``error{message, http_status, request_id?, code?}``."""
    code = getattr(exc, "code", None)
    return _compact("error", message=str(getattr(exc, "message", "") or exc), code=code if isinstance(code, str) else None,
                    http_status=getattr(exc, "status_code", None), request_id=getattr(exc, "request_id", None) or None)


# --- the driver protocol -------------------------------------------------------------


class _Session:
    """One case: each area's driver, created on first use."""

    def __init__(self, *, endpoint: _Endpoint, config: Mapping[str, Any]) -> None:
        self.endpoint = endpoint
        self.config = config
        self.areas: dict[str, Any] = {}

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        area = op.split(".", 1)[0]
        if area not in self.areas:
            section = self.config.get(area, {})
            if area == "realtime":
                self.areas[area] = RealtimeDriver(endpoint=self.endpoint, config=section, emit=_emit)
            elif area == "responses":
                self.areas[area] = ResponsesDriver(endpoint=self.endpoint, config=section, emit=_emit)
            else:
                raise ValueError(f"openai-python has no '{area}' steps")
        await self.areas[area].handle(op, args)

    async def aclose(self) -> None:
        for driver in self.areas.values():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(driver.aclose(), 5.0)


def _api_key(cfg: dict[str, Any]) -> str | None:
    """The key the app gives the SDK: ``auth.api_key`` in api_key mode, else the area's ``api_key``.

    Where Codex would have read the key from (``auth.key_source``) changes nothing on the
    wire: the SDK is handed the key and sends it as the bearer credential.
    """
    auth = cfg.get("auth") if isinstance(cfg.get("auth"), dict) else {}
    if auth.get("mode", "api_key") == "api_key" and auth.get("api_key"):
        return str(auth["api_key"])
    return cfg.get("api_key") or None


def _hello() -> dict[str, Any]:
    import openai

    return {"type": "hello", "protocol": 1, "name": NAME, "version": openai.__version__,
            "capabilities": sorted(CAPABILITIES), "layers": ["protocol"], "reported_events": sorted(REPORTED_EVENTS),
            "cases": "many"}


async def _serve() -> int:
    _write(_hello())
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=16 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    session: _Session | None = None
    # One process serves case after case ("cases": "many"): each case starts from this
    # environment, so what one case's env or CA settings put there never reaches the next.
    clean_env = dict(os.environ)
    try:
        while line := await reader.readline():
            msg = json.loads(line)
            kind = msg.get("type")
            if kind == "start":
                os.environ.clear()
                os.environ.update(clean_env)
                endpoint, config = msg["endpoint"], msg.get("config", {})
                if isinstance(config.get("env"), Mapping):
                    # The client's process environment the case gives (OPENAI_API_KEY, ...);
                    # the harness's own OPENAI_* never reached this process.
                    os.environ.update({str(k): str(v) for k, v in config["env"].items()})
                tls = config.get("tls") if isinstance(config.get("tls"), Mapping) else {}
                tls_env = tls.get("env") if isinstance(tls.get("env"), Mapping) else None
                session = _Session(endpoint=_Endpoint(base_url=endpoint["base_url"], ca_file=endpoint.get("ca_file"),
                                                      tls_env=tls_env, realtime_base_url=endpoint.get("realtime_base_url")),
                                   config=config)
            elif kind == "command":
                try:
                    if session is None:
                        raise RuntimeError("command before start")
                    await session.handle(msg["op"], msg.get("args", {}))
                except Exception as exc:
                    _write({"type": "failed", "id": msg["id"], "message": _describe(exc),
                            "traceback": traceback.format_exc()})
                else:
                    _write({"type": "done", "id": msg["id"]})
            elif kind == "end":
                if session is not None:
                    await session.aclose()
                    session = None
                _write({"type": "ended"})
    finally:
        if session is not None:
            await session.aclose()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``driver.py [--hello]``; the SDK must never read the harness's own OpenAI settings."""
    argv = sys.argv[1:] if argv is None else argv
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_ADMIN_KEY",
                 "OPENAI_WEBHOOK_SECRET", "OPENAI_LOG"):
        os.environ.pop(name, None)
    if "--hello" in argv:
        _write(_hello())
        return 0
    return asyncio.run(_serve())


if __name__ == "__main__":
    raise SystemExit(main())
