"""Neutral events of the SDK-level surface, built in one place (docs/contracts.md).

- ``server.unrecognized_event {api, transport, event}``: a server event of a type the
  client does not recognise, passed through with all its fields as received.
- ``error`` / ``realtime.error`` with the optional ``close_code`` (the websocket close code
  that ended the connection; 1006 when it ended without a close frame) and ``failure`` (the
  kind of failure: an SDK's exception class name, the reference's neutral kind below).
- ``responses_stream_events``: one Responses stream event (SSE ``data`` or websocket frame,
  parsed) as the ``responses.*`` events a turn reports, without any turn state.

Stdlib only (see the package docstring).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


__all__ = [
    "FAILURE_BINARY_FRAME",
    "FAILURE_CLOSED",
    "FAILURE_CONNECT",
    "FAILURE_DROPPED",
    "FAILURE_HTTP_STATUS",
    "FAILURE_INVALID_JSON",
    "FAILURE_NOT_AN_EVENT",
    "FAILURE_SERVER_ERROR",
    "FAILURE_TIMEOUT",
    "NORMAL_CLOSE_CODES",
    "UNRECOGNIZED",
    "compact",
    "error_event",
    "is_terminal",
    "realtime_surface_events",
    "responses_stream_events",
    "token_usage",
    "unrecognized_event",
]

UNRECOGNIZED = "server.unrecognized_event"

# The reference's neutral kinds of failure (`failure`); an SDK reports its exception's class name.
FAILURE_HTTP_STATUS = "http_status"  # the server answered the request or the upgrade with a non-2xx status
FAILURE_CONNECT = "connect"  # no connection: refused, TLS, a handshake that is no websocket upgrade
FAILURE_CLOSED = "closed"  # the server closed the websocket with a close frame (close_code)
FAILURE_DROPPED = "dropped"  # the connection ended without a close frame (close_code 1006) or mid-body
FAILURE_INVALID_JSON = "invalid_json"  # an SSE data line or a text frame that is not JSON
FAILURE_NOT_AN_EVENT = "not_an_event"  # JSON without a string `type`
FAILURE_BINARY_FRAME = "binary_frame"  # a binary frame where JSON text frames are the protocol
FAILURE_SERVER_ERROR = "server_error"  # the server said so: an `error` event, response.failed / incomplete
FAILURE_TIMEOUT = "timeout"  # nothing arrived within the idle bound

# Closes that end a connection normally: no error is reported for them (RFC 6455 §7.4.1:
# normal closure, going away; 1005: a close frame without a code).
NORMAL_CLOSE_CODES = frozenset({1000, 1001, 1005})

_ERROR_FIELDS = {
    "error": ("message", "code", "http_status", "request_id", "close_code", "failure"),
    "realtime.error": ("message", "http_status", "request_id", "close_code", "failure"),
}


def compact(event_type: str, **fields: Any) -> dict[str, Any]:
    """An event without its absent (None) fields: optional fields are omitted, never null."""
    return {"type": event_type, **{k: v for k, v in fields.items() if v is not None}}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def error_event(event_type: str = "error", /, **fields: Any) -> dict[str, Any]:
    """``error`` or ``realtime.error`` with the fields that event admits (others dropped).

    ``message`` defaults to the failure kind; ``http_status`` and ``close_code`` must be
    integers in their ranges, ``code``, ``request_id`` and ``failure`` non-empty strings.
    """
    allowed = _ERROR_FIELDS[event_type]
    picked = {k: fields.get(k) for k in allowed}
    status, close = _int(picked["http_status"]), _int(picked["close_code"])
    picked["http_status"] = status if status is not None and 100 <= status <= 599 else None
    picked["close_code"] = close if close is not None and 1000 <= close <= 4999 else None
    for key in ("code", "request_id", "failure"):
        if key in picked and not (isinstance(picked[key], str) and picked[key]):
            picked[key] = None
    message = picked.get("message")
    if not (isinstance(message, str) and message):
        picked["message"] = picked.get("failure") or "unknown error"
    return compact(event_type, **picked)


def unrecognized_event(api: str, transport: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """The pass-through: a server event the client does not recognise, every field kept."""
    return {"type": UNRECOGNIZED, "api": api, "transport": transport, "event": dict(event)}


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(obj: Any, key: str) -> str | None:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return value if isinstance(value, str) else None


def token_usage(usage: Any) -> dict[str, int] | None:
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


def responses_stream_events(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One parsed Responses stream event as the ``responses.*`` events a turn reports.

    Terminal events: ``response.completed`` → ``responses.completed``; ``response.failed``,
    ``response.incomplete`` and an ``error`` event → ``error`` (failure ``server_error``;
    an SDK driver replaces the kind by its own when the SDK raised). Other types: nothing.
    """
    kind = data.get("type")
    if kind == "response.created":
        return [compact("responses.created", response_id=_str(data.get("response"), "id"))]
    if kind in ("response.output_item.added", "response.output_item.done"):
        item = data.get("item")
        if not isinstance(item, dict):
            return []
        return [{"type": "responses.output_item_done" if kind.endswith("done") else "responses.output_item_added", "item": item}]
    if kind == "response.output_text.delta":
        return [{"type": "responses.output_text_delta", "delta": data["delta"]}] if isinstance(data.get("delta"), str) else []
    if kind == "response.reasoning_summary_text.delta":
        delta, index = data.get("delta"), _int(data.get("summary_index"))
        return [{"type": "responses.reasoning_summary_delta", "delta": delta, "summary_index": index}] if isinstance(delta, str) and index is not None else []
    if kind == "response.reasoning_text.delta":
        delta, index = data.get("delta"), _int(data.get("content_index"))
        return [{"type": "responses.reasoning_content_delta", "delta": delta, "content_index": index}] if isinstance(delta, str) and index is not None else []
    if kind == "response.reasoning_summary_part.added":
        index = _int(data.get("summary_index"))
        return [{"type": "responses.reasoning_summary_part_added", "summary_index": index}] if index is not None else []
    if kind == "response.completed":
        response = _map(data.get("response"))
        end_turn = response.get("end_turn", data.get("end_turn"))
        return [compact("responses.completed", response_id=_str(response, "id") or "", token_usage=token_usage(response.get("usage")),
                        end_turn=end_turn if isinstance(end_turn, bool) else None)]  # fmt: skip
    if kind == "response.failed":
        response = _map(data.get("response"))
        error = _map(response.get("error"))
        return [error_event("error", message=_str(error, "message") or "response failed", code=_str(error, "code"), failure=FAILURE_SERVER_ERROR)]
    if kind == "response.incomplete":
        response = _map(data.get("response"))
        reason = _str(response.get("incomplete_details"), "reason")
        return [error_event("error", message=f"response incomplete: {reason or 'unknown'}", failure=FAILURE_SERVER_ERROR)]
    if kind == "error":
        nested = data.get("error") if isinstance(data.get("error"), Mapping) else data
        return [error_event("error", message=_str(nested, "message") or "server error event", code=_str(nested, "code"),
                            http_status=data.get("status"), failure=FAILURE_SERVER_ERROR)]  # fmt: skip
    return []


def is_terminal(event: Mapping[str, Any]) -> bool:
    """A mapped event that ends a response: ``responses.completed`` or an ``error``."""
    return event.get("type") in ("responses.completed", "error")


def realtime_surface_events(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A realtime server event on the SDK-level surface: ``session.updated`` and ``error``
    only (the conversation's other events belong to the application, ``realtime.*`` steps)."""
    kind = data.get("type")
    if kind == "session.updated":
        session_id = _str(data.get("session"), "id")
        return [compact("realtime.session_updated", session_id=session_id, instructions=_str(data.get("session"), "instructions"))] if session_id else []
    if kind == "error":
        nested = data.get("error") if isinstance(data.get("error"), Mapping) else data
        return [error_event("realtime.error", message=_str(nested, "message") or "server error event", failure=FAILURE_SERVER_ERROR)]
    return []
