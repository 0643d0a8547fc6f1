"""SDK exceptions and server error events as neutral error events."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

from harness.sdk.events import error_event


__all__ = ["Unsupported", "close_code_of", "connect_error", "describe", "exception_error", "is_recognised", "status_error"]


class Unsupported(Exception):
    """The SDK offers no way to do what the step asks: answered ``failed`` with ``unsupported: true``."""


def describe(exc: BaseException) -> str:
    """``Type: text``; the SDK's generic ``Connection error.`` also names its cause."""
    text = str(exc)
    described = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    cause = exc.__cause__
    if cause is not None and type(exc).__name__ == "APIConnectionError":
        described += f" ({describe(cause)})"
    return described


def close_code_of(exc: BaseException) -> int | None:
    """The close code of a websockets ``ConnectionClosed``: the server's, else 1006 (no close frame)."""
    if not hasattr(exc, "rcvd"):
        return None
    rcvd = getattr(exc, "rcvd", None)
    code = getattr(rcvd, "code", None) if rcvd is not None else 1006
    return int(code) if isinstance(code, int) else None


def exception_error(event_type: str, exc: BaseException, *, message: str | None = None) -> dict[str, Any]:
    """Any exception: its text, the close code when a socket ended, its class as ``failure``."""
    return error_event(event_type, message=message or describe(exc), close_code=close_code_of(exc), failure=type(exc).__name__)


def status_error(exc: Any) -> dict[str, Any]:
    """``APIStatusError`` → ``error{message, http_status, request_id?, code?, failure}``."""
    code = getattr(exc, "code", None)
    return error_event("error", message=str(getattr(exc, "message", "") or exc), code=code if isinstance(code, str) else None,
                       http_status=getattr(exc, "status_code", None), request_id=getattr(exc, "request_id", None) or None,
                       failure=type(exc).__name__)  # fmt: skip


def connect_error(exc: BaseException, *, realtime: bool) -> dict[str, Any]:
    """A failed handshake as one event.

    The SDK raises websockets' ``InvalidStatus`` unwrapped; its ``response`` carries the
    status, reason and ``x-request-id``, which the event reports as the reference does.
    """
    kind, prefix = ("realtime.error", "failed to connect realtime websocket: ") if realtime else ("error", "")
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if not isinstance(status, int):
        return error_event(kind, message=prefix + describe(exc), failure=type(exc).__name__)
    headers = getattr(response, "headers", None)
    request_id = headers.get("x-request-id") if headers is not None else None
    reason = getattr(response, "reason_phrase", "") or ""
    message = f"{prefix}HTTP {status} {reason}".rstrip()
    if request_id:
        message += f" (x-request-id: {request_id})"
    return error_event(kind, message=message, http_status=status, request_id=request_id, failure=type(exc).__name__)


def is_recognised(event: Any, data: Mapping[str, Any]) -> bool:
    """Whether the SDK knows this event's type: its parsed class declares that ``type``.

    ``parse_event`` / the SSE stream build an unknown type as the union's first class with
    ``.type`` and the extra fields kept (openai-python-sdk.md §1), so the class's ``type``
    literal is what tells the two apart.
    """
    fields = getattr(type(event), "model_fields", None)
    field = fields.get("type") if isinstance(fields, Mapping) else None
    literals = typing.get_args(getattr(field, "annotation", None))
    return isinstance(data.get("type"), str) and data["type"] in literals
