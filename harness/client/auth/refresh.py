"""The OAuth refresh exchange as data: the request body and what a response means.

codex `request_chatgpt_token_refresh` / `classify_refresh_token_failure`
(responses-wire §5.1): `POST <token endpoint>` with JSON
`{"client_id", "grant_type": "refresh_token", "refresh_token"}`; a 2xx body
`{"id_token"?, "access_token"?, "refresh_token"?}` is the new token set; a 401 is a
permanent failure classified by `error.code` (or a string `error`, or a top-level
`code`); any other status is transient. Pure: no socket here (see `manager`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from harness.client.auth.recovery import StepFailure
from harness.client.http_status import status_text


__all__ = [
    "CLIENT_ID",
    "DECODE_ERROR",
    "REFRESH_TOKEN_EXPIRED_MESSAGE",
    "REFRESH_TOKEN_INVALIDATED_MESSAGE",
    "REFRESH_TOKEN_REUSED_MESSAGE",
    "REFRESH_TOKEN_UNKNOWN_MESSAGE",
    "RefreshedTokens",
    "classify_refresh_response",
    "refresh_request_body",
    "status_text",
    "transient",
]

CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
REFRESH_TOKEN_EXPIRED_MESSAGE = (
    "Your access token could not be refreshed because your refresh token has expired. "
    "Please log out and sign in again."
)
REFRESH_TOKEN_REUSED_MESSAGE = (
    "Your access token could not be refreshed because your refresh token was already used. "
    "Please log out and sign in again."
)
REFRESH_TOKEN_INVALIDATED_MESSAGE = (
    "Your access token could not be refreshed because your refresh token was revoked. "
    "Please log out and sign in again."
)
REFRESH_TOKEN_UNKNOWN_MESSAGE = (
    "Your access token could not be refreshed. Please log out and sign in again."
)
# reqwest's Display for a body that is not the expected JSON; a stable text of codex's
# own HTTP library, kept verbatim (no Python library text ever reaches an event).
DECODE_ERROR = "error decoding response body"

_PERMANENT = {
    "refresh_token_expired": ("expired", REFRESH_TOKEN_EXPIRED_MESSAGE),
    "refresh_token_reused": ("exhausted", REFRESH_TOKEN_REUSED_MESSAGE),
    "refresh_token_invalidated": ("revoked", REFRESH_TOKEN_INVALIDATED_MESSAGE),
}
@dataclass(frozen=True, slots=True)
class RefreshedTokens:
    """The token endpoint's answer; absent fields keep the stored value (`persist_tokens`)."""

    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)


def refresh_request_body(refresh_token: str, client_id: str = CLIENT_ID) -> bytes:
    """The JSON body codex sends (`RefreshRequest`, serde field order, compact)."""
    body = {"client_id": client_id, "grant_type": "refresh_token", "refresh_token": refresh_token}
    return json.dumps(body, separators=(",", ":")).encode()



def transient(message: str) -> StepFailure:
    """A transient refresh failure (`RefreshTokenError::Transient`)."""
    return StepFailure(permanent=False, message=message)


def classify_refresh_response(status: int, body: bytes | str) -> RefreshedTokens | StepFailure:
    """New tokens on 2xx, permanent on 401, transient otherwise."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    if 200 <= status < 300:
        return _tokens(text)
    if status == 401:
        reason, message = _PERMANENT.get((_error_code(text) or "").lower(),
                                         ("other", REFRESH_TOKEN_UNKNOWN_MESSAGE))  # fmt: skip
        return StepFailure(permanent=True, message=message, reason=reason)
    return transient(f"Failed to refresh token: {status_text(status)}: {_error_message(text)}")


def _tokens(text: str) -> RefreshedTokens | StepFailure:
    try:
        parsed = json.loads(text)
    except ValueError:
        return transient(DECODE_ERROR)
    if not isinstance(parsed, dict):
        return transient(DECODE_ERROR)
    values: dict[str, str | None] = {}
    for key in ("access_token", "refresh_token", "id_token"):
        value = parsed.get(key)
        if value is not None and not isinstance(value, str):
            return transient(DECODE_ERROR)  # serde: Option<String> rejects other types
        values[key] = value
    return RefreshedTokens(**values)


def _error_code(text: str) -> str | None:
    """`extract_refresh_token_error_code`: `error.code`, a string `error`, or `code`."""
    if not text.strip():
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    error = parsed.get("error")
    if isinstance(error, dict):
        if isinstance(error.get("code"), str):
            return error["code"]
    elif isinstance(error, str):
        return error
    code = parsed.get("code")
    return code if isinstance(code, str) else None


def _error_message(text: str) -> str:
    """`try_parse_error_message`: `error.message`, else the body, else `Unknown error`."""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    return text or "Unknown error"
