"""HTTP status lines as the Codex client's Rust HTTP stack displays them.

Shared by the Responses client and the auth token refresh, whose error texts embed
``401 Unauthorized``-style status lines (reqwest's ``StatusCode`` display).
"""

from __future__ import annotations

from http import HTTPStatus


__all__ = ["status_text"]

# Where Rust's canonical reason differs from Python's http.HTTPStatus phrase.
_REASONS = {413: "Payload Too Large", 414: "URI Too Long", 416: "Range Not Satisfiable", 418: "I'm a teapot"}


def status_text(status: int) -> str:
    """``500 Internal Server Error``, as Rust's ``StatusCode`` displays it."""
    reason = _REASONS.get(status)
    if reason is None:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "<unknown status code>"
    return f"{status} {reason}"
