"""What codex records in its own log (stderr, ``RUST_LOG``), as neutral events (no I/O).

Codex's tracing subscriber writes one line per record to stderr, filtered by ``RUST_LOG``:
``<UTC timestamp> <LEVEL> <spans>: <target>: <message> <field>=<value> …``. The adapter
turns on exactly the targets that carry facts of the vocabulary (:data:`RUST_LOG`):

- ``codex_otel.log_only`` — codex's OTel log events, one per record: ``codex.api_request``
  (each HTTP attempt: status, attempt, duration, error text), ``codex.websocket_connect``
  (each handshake), ``codex.websocket_request`` (each request on a socket),
  ``codex.sse_event`` (each SSE event parsed, by kind) and ``codex.auth_recovery``
  (each 401 handled: step, outcome, reason). They are what codex's OTel exporter would
  send; the log has them at once and in codex's order, an exporter only in batches.
- ``feedback_tags`` — the feedback tags codex attaches to each request attempt
  (``FeedbackRequestTags``) and to each 401 recovery (``emit_feedback_auth_recovery_tags``).
- ``codex_core::responses_retry`` — ``stream disconnected - retrying sampling request (n/m
  in …)… sampling_error=…``: every turn-level retry with the delay codex sleeps before it
  (``turn.retry_scheduled``), also the first websocket one that codex's release build does
  not show its user.
- ``codex_api::endpoint::realtime_websocket::methods`` — ``realtime websocket parsed
  event event=<RealtimeEvent>``: every realtime server event codex parsed, as Rust's
  Debug text of its own enum.

Everything else in the log is ignored, and nothing here invents a fact codex did not record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.impls.codex_cli.texts import neutral


__all__ = [
    "RUST_LOG",
    "LogRecord",
    "ResponsesLog",
    "parse_fields",
    "parse_line",
    "realtime_event",
]

OTEL = "codex_otel.log_only"
FEEDBACK = "feedback_tags"
RETRY = "codex_core::responses_retry"
REALTIME = "codex_api::endpoint::realtime_websocket::methods"
RUST_LOG = ",".join(["error", f"{OTEL}=info", f"{FEEDBACK}=info", f"{RETRY}=warn", f"{REALTIME}=debug"])

_LINE = re.compile(r"^(?P<ts>\d{4}-\d\d-\d\dT\S+Z)\s+(?P<level>TRACE|DEBUG|INFO|WARN|ERROR) (?P<rest>.*)$")
_TARGET = re.compile(r"(?:^|: )(?P<target>" + "|".join(re.escape(t) for t in (OTEL, FEEDBACK, RETRY, REALTIME)) + r"): ")
# Where a bare (unquoted, Display-formatted) value may end: only before a field codex writes.
_KEY = re.compile(r"(?:^| )(?P<key>[A-Za-z_][\w.]*)=")
_KNOWN_KEYS = frozenset({
    "event.name", "event.kind", "event.timestamp", "duration_ms", "http.response.status_code", "error.message",
    "attempt", "success", "endpoint", "conversation.id", "app.version", "originator", "terminal.type", "model",
    "slug", "user.account_id", "user.email", "turn_id", "retries", "max_retries", "sampling_error", "event",
    "last_model_response_id", "prompt_length", "prompt", "provider_name",
})  # fmt: skip
_RETRY_MESSAGE = re.compile(r"^stream disconnected - retrying sampling request \((?P<n>\d+)/(?P<m>\d+) in (?P<delay>[^)]*)\)\.\.\.")
# Rust's `Debug` of a `Duration`: `1.5s`, `230.123ms`, `500µs`, `0ns`.
_DURATION = re.compile(r"^(?P<value>\d+(?:\.\d+)?)(?P<unit>s|ms|µs|us|ns)$")
_UNIT_MS = {"s": 1000.0, "ms": 1.0, "µs": 0.001, "us": 0.001, "ns": 0.000001}
_TERMINAL_KINDS = frozenset({"response.completed", "response.failed", "response.incomplete"})


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One log line of a target the adapter reads: its message and its fields."""

    ts: str
    level: str
    target: str
    message: str
    fields: Mapping[str, Any]


def _is_key(key: str) -> bool:
    return key in _KNOWN_KEYS or key.startswith(("auth.", "auth_", "config.", "startup.")) or key.endswith("_token_count")


def _unquote(value: str) -> Any:
    """A Debug-quoted string (``"a\\"b"``) as its text; anything else as written."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return json.loads(value)
        except ValueError:
            return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def parse_fields(text: str) -> tuple[str, dict[str, Any]]:
    """``message k1=v1 k2="v 2" …`` → (message, fields); bare values end only before a known key."""
    bounds = [m for m in _KEY.finditer(text) if _is_key(m["key"])]
    # A quoted value is skipped whole: a key-looking text inside it is no boundary.
    cuts: list[re.Match[str]] = []
    skip_to = 0
    for m in bounds:
        if m.start() < skip_to:
            continue
        cuts.append(m)
        value_start = m.end()
        if text[value_start : value_start + 1] == '"':
            close = _closing_quote(text, value_start)
            skip_to = close + 1 if close > 0 else skip_to
    if not cuts:
        return text.strip(), {}
    message = text[: cuts[0].start()].strip()
    fields: dict[str, Any] = {}
    for i, m in enumerate(cuts):
        end = cuts[i + 1].start() if i + 1 < len(cuts) else len(text)
        fields[m["key"]] = _unquote(text[m.end() : end].strip())
    return message, fields


def _closing_quote(text: str, start: int) -> int:
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        i += 1
    return -1


def parse_line(line: str) -> LogRecord | None:
    """A record of one of the adapter's targets, or None for any other line."""
    m = _LINE.match(line.rstrip("\n"))
    if m is None:
        return None
    t = _TARGET.search(m["rest"])
    if t is None:
        return None
    body = m["rest"][t.end() :]
    if t["target"] == REALTIME:
        message, _, event = body.partition(" event=")
        return LogRecord(ts=m["ts"], level=m["level"], target=t["target"], message=message.strip(), fields={"event": event} if event else {})
    message, fields = parse_fields(body)
    return LogRecord(ts=m["ts"], level=m["level"], target=t["target"], message=message, fields=fields)


# -- realtime ----------------------------------------------------------------------------------

_RT_SESSION = re.compile(r'^SessionUpdated \{ realtime_session_id: (?P<id>"(?:[^"\\]|\\.)*"), instructions: (?:None|Some\((?P<ins>"(?:[^"\\]|\\.)*")\)) \}$')
_RT_ITEM_DONE = re.compile(r'^ConversationItemDone \{ item_id: (?P<id>"(?:[^"\\]|\\.)*") \}$')
_RT_RESPONSE = re.compile(r'^Response(?P<kind>Created|Done)\(RealtimeResponse(?:Created|Done) \{ response_id: (?:None|Some\((?P<id>"(?:[^"\\]|\\.)*")\)) \}\)$')


def realtime_event(debug: str) -> dict[str, Any] | None:
    """The neutral event for a parsed ``RealtimeEvent`` the app-server does not relay; else None.

    ``SessionUpdated`` → ``realtime.session_updated``; ``ConversationItemDone`` →
    ``realtime.item_done``; ``ResponseCreated`` / ``ResponseDone`` (v2) →
    ``realtime.item_added`` with what codex kept of the event: its type and the response id.
    The others reach the adapter as app-server notifications (realtime.py).
    """
    text = debug.strip()
    if m := _RT_SESSION.match(text):
        event: dict[str, Any] = {"type": "realtime.session_updated", "session_id": _unquote(m["id"])}
        if m["ins"] is not None:
            event["instructions"] = _unquote(m["ins"])
        return event
    if m := _RT_ITEM_DONE.match(text):
        return {"type": "realtime.item_done", "item_id": _unquote(m["id"])}
    if m := _RT_RESPONSE.match(text):
        item: dict[str, Any] = {"type": f"response.{m['kind'].lower()}"}
        if m["id"] is not None:
            item["response"] = {"id": _unquote(m["id"])}
        return {"type": "realtime.item_added", "item": item}
    return None


# -- responses ---------------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    try:
        return float(str(value))
    except ValueError:
        return None


def _bool(value: Any) -> bool | None:
    return {"true": True, "false": False}.get(str(value))


_REQUEST_KINDS = {"codex.api_request": "api_request", "codex.websocket_connect": "websocket_connect",
                  "codex.websocket_request": "websocket_request"}  # fmt: skip
_AUTH_STRINGS = ("auth_header_name", "auth_mode", "auth_recovery_mode", "auth_recovery_phase", "auth_request_id",
                 "auth_cf_ray", "auth_error", "auth_error_code")  # fmt: skip
_RECOVERY_STRINGS = ("auth_recovery_mode", "auth_recovery_phase", "auth_recovery_outcome", "auth_401_request_id",
                     "auth_401_cf_ray", "auth_401_error", "auth_401_error_code")  # fmt: skip


@dataclass(slots=True)
class ResponsesLog:
    """Turns one codex process's Responses records into events, in the order codex wrote them.

    ``auth_tags``: whether the case asked for the auth events (an ``auth`` config with
    ``tags`` not false), as the vocabulary reports them. ``on_stream_error`` receives each
    turn-level retry (``Reconnecting... n/m``, raw details), so the caller can tell it apart
    from the same retry exec prints.
    """

    emit: Callable[[dict[str, Any]], None]
    auth_tags: bool = False
    on_stream_error: Callable[[str, str], None] | None = None
    _request_kind: str | None = None
    _counts: dict[str, int] | None = None
    _retries: int = 0
    _recovery: dict[str, Any] = field(default_factory=dict)

    def new_turn(self) -> None:
        """A turn began: websocket request attempts count from 1 again."""
        self._retries = 0

    def flush(self) -> None:
        """The stream being read is over (the turn ended, or another request began)."""
        if self._counts is not None:
            self.emit({"type": "telemetry.events", "transport": "http", "counts": dict(sorted(self._counts.items()))})
            self._counts = None

    def feed(self, record: LogRecord) -> None:
        f = record.fields
        if record.target == OTEL:
            self._otel(str(f.get("event.name", "")), f)
        elif record.target == FEEDBACK:
            self._feedback(f)
        elif record.target == RETRY:
            self._retry(record)

    def _otel(self, name: str, f: Mapping[str, Any]) -> None:
        if name in _REQUEST_KINDS:
            self.flush()
            self._request_kind = _REQUEST_KINDS[name]
        if name == "codex.api_request":
            event: dict[str, Any] = {"type": "telemetry.request", "transport": "http", "attempt": (_int(f.get("attempt")) or 0) + 1}
            status = _int(f.get("http.response.status_code"))
            if status is not None:
                event["status"] = status
            event["duration_ms"] = _number(f.get("duration_ms")) or 0.0
            if f.get("error.message"):
                event["error"] = neutral(str(f["error.message"]))
            self.emit(event)
            if status is not None and 200 <= status < 300:
                self._counts = {}  # the stream this attempt opened: its events are counted
        elif name == "codex.websocket_connect":
            success = _bool(f.get("success")) is True
            event = {"type": "telemetry.ws_connect", "duration_ms": _number(f.get("duration_ms")) or 0.0, "success": success}
            status = _int(f.get("http.response.status_code"))
            if status is not None:
                event["status"] = status
            elif success:
                event["status"] = 101  # a completed handshake is its 101
            if f.get("error.message"):
                event["error"] = neutral(str(f["error.message"]))
            self.emit(event)
        elif name == "codex.websocket_request":
            event = {"type": "telemetry.request", "transport": "websocket", "attempt": self._retries + 1,
                     "duration_ms": _number(f.get("duration_ms")) or 0.0}  # fmt: skip
            if f.get("error.message"):
                event["error"] = neutral(str(f["error.message"]))
            self.emit(event)
        elif name == "codex.sse_event":
            if self._counts is None:
                return
            if f.get("error.message"):
                self.flush()  # the stream failed here; nothing after it is this stream's
                return
            kind = f.get("event.kind")
            if "input_token_count" in f:
                return  # codex's summary of the completed response (its usage), not another event
            if isinstance(kind, str) and kind:
                self._counts[kind] = self._counts.get(kind, 0) + 1
        elif name == "codex.auth_recovery":
            self._recovery = {}
            if f.get("auth.recovery_reason"):
                self._recovery["recovery_reason"] = str(f["auth.recovery_reason"])
            changed = _bool(f.get("auth.state_changed"))
            if changed is not None:
                self._recovery["state_changed"] = changed

    def _feedback(self, f: Mapping[str, Any]) -> None:
        if not self.auth_tags:
            return
        if "auth_recovery_outcome" in f:
            event: dict[str, Any] = {"type": "auth.recovery", **{k: str(f.get(k, "")) for k in _RECOVERY_STRINGS}}
            event.update(self._recovery)
            self._recovery = {}
            self.emit(event)
        elif "endpoint" in f and self._request_kind is not None:
            event = {"type": "auth.request", "request_kind": self._request_kind, "endpoint": str(f["endpoint"]),
                     "auth_header_attached": _bool(f.get("auth_header_attached")) is True,
                     "auth_retry_after_unauthorized": _bool(f.get("auth_retry_after_unauthorized")) is True}  # fmt: skip
            event.update({k: str(f.get(k, "")) for k in _AUTH_STRINGS})
            reused = _bool(f.get("auth_connection_reused"))
            if reused is not None:
                event["auth_connection_reused"] = reused
            followup = _bool(f.get("auth_recovery_followup_success"))
            if followup is not None:
                event["auth_recovery_followup_success"] = followup
            status = _int(f.get("auth_recovery_followup_status")) if f.get("auth_recovery_followup_status") else None
            if status is not None:
                event["auth_recovery_followup_status"] = status
            self.emit(event)

    def _retry(self, record: LogRecord) -> None:
        m = _RETRY_MESSAGE.match(record.message)
        if m is None:
            return
        self._retries = int(m["n"])
        delay = _DURATION.match(m["delay"].strip())
        if delay is not None:  # the delay codex sleeps before this retry (responses_retry)
            delay_ms = round(float(delay["value"]) * _UNIT_MS[delay["unit"]])
            self.emit({"type": "turn.retry_scheduled", "attempt": int(m["n"]), "max_retries": int(m["m"]), "delay_ms": delay_ms})
        if self.on_stream_error is not None:
            self.on_stream_error(f"Reconnecting... {m['n']}/{m['m']}", str(record.fields.get("sampling_error", "")))
