"""Codex's error texts: the facts they carry as fields, and library texts made neutral (no I/O).

Codex shows the HTTP status and the request id of a failed request inside its error
text (``unexpected status 401 Unauthorized: …, url: …, cf-ray: …, request id: req_1``,
codex-api ``api_bridge.rs``; ``exceeded retry limit, last status: 429 Too Many Requests,
request id: …``; ``… (status 403 Forbidden), url: …``). The user sees them, and the
vocabulary has fields for them, so :func:`error_fields` reads them back out.

Where codex passes on the text of its HTTP, websocket or TLS library (reqwest, tungstenite,
rustls, the OS), :func:`neutral` puts the reference client's neutral text in its place
(harness/client/transport_errors.py, docs/responses.md "Transport texts"), keeping codex's
own prefixes (``stream disconnected before completion: ``, ``failed to connect realtime
websocket: ``): events never carry one library's wording. Only library texts whose
meaning is unambiguous are mapped; codex's own texts are kept verbatim.
"""

from __future__ import annotations

import re
from typing import Any

from harness.client.transport_errors import (
    CERTIFICATE_VERIFY_FAILED,
    CONNECTION_FAILED,
    CONNECTION_RESET,
    TIMED_OUT,
)


__all__ = ["CLOSED_WITHOUT_HANDSHAKE", "error_fields", "neutral", "with_error_fields"]

CLOSED_WITHOUT_HANDSHAKE = "connection closed without a closing handshake"
"""The reference's stand-in for tungstenite's ``ResetWithoutClosingHandshake`` (harness/client/realtime/conversation.py)."""

# `unexpected status 401 Unauthorized: …` (CodexErr::UnexpectedStatus, also on the realtime
# handshake), `exceeded retry limit, last status: 429 Too Many Requests` (RetryLimit) and the
# Cloudflare text `… (status 403 Forbidden), url: …`.
_STATUS = (
    re.compile(r"^unexpected status (?P<status>[1-5]\d\d)\b"),
    re.compile(r"^exceeded retry limit, last status: (?P<status>[1-5]\d\d)\b"),
    re.compile(r"\(status (?P<status>[1-5]\d\d) [^)]*\), url: "),
)
# The request id is the `, request id: X` suffix (x-request-id, else x-oai-request-id); an
# auth error and its code may follow it (`…, request id: X, auth error: Y, auth error code: Z`).
_REQUEST_ID = re.compile(r", request id: (?P<id>[^\s,]+)(?:, auth error: .*)?$")

# Library texts (whole, after codex's own prefix) → the reference's neutral text.
_LIBRARY_TEXTS: tuple[tuple[re.Pattern[str], str], ...] = (
    # rustls, wrapped by tungstenite's `IO error: ` (a websocket) or not.
    (re.compile(r"(?:IO error: )?invalid peer certificate: .+"), CERTIFICATE_VERIFY_FAILED),
    # The OS, wrapped by tungstenite's `IO error: ` or not.
    (re.compile(r"(?:IO error: )?Connection reset by peer \(os error 104\)"), CONNECTION_RESET),
    (re.compile(r"(?:IO error: )?Connection refused \(os error 111\)"), CONNECTION_FAILED),
    (re.compile(r"(?:IO error: )?(?:Connection timed out \(os error 110\)|deadline has elapsed)"), TIMED_OUT),
    # tungstenite: the peer ended TCP (FIN) with no close frame.
    (re.compile(r"WebSocket protocol error: Connection reset without closing handshake"), CLOSED_WITHOUT_HANDSHAKE),
)
# Where a library text may start: after one of codex's own prefixes, or the text's start.
_PREFIXES = ("failed to connect realtime websocket: ", "failed to read websocket message: ",
             "failed to send websocket request: ", "stream disconnected before completion: ")  # fmt: skip


def error_fields(text: str) -> dict[str, Any]:
    """``http_status`` and ``request_id`` as codex's error text shows them (absent ones left out)."""
    fields: dict[str, Any] = {}
    for pattern in _STATUS:
        m = pattern.search(text)
        if m is not None:
            fields["http_status"] = int(m["status"])
            break
    m = _REQUEST_ID.search(text)
    if m is not None:
        fields["request_id"] = m["id"]
    return fields


def with_error_fields(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` (``error`` / ``realtime.error``) with the fields its message shows, where it has none."""
    for key, value in error_fields(str(event.get("message", ""))).items():
        event.setdefault(key, value)
    return event


def neutral(text: str) -> str:
    """``text`` with a trailing library text replaced by the reference's neutral one."""
    start = 0
    for prefix in _PREFIXES:
        at = text.rfind(prefix)
        if at >= 0:
            start = max(start, at + len(prefix))
    head, tail = text[:start], text[start:]
    for pattern, replacement in _LIBRARY_TEXTS:
        if pattern.fullmatch(tail):
            return head + replacement
    return text
