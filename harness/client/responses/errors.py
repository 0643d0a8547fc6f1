"""Error model: transport/stream failures (`ApiError`) and what a turn reports (`TurnError`).

`map_api_error` is codex's `map_api_error` (responses-wire §4.2): it decides the display
string, whether the turn retries, and the `codex_error_info` code.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from harness.client.auth.evidence import error_json_code
from harness.client.http_status import status_text
from harness.client.responses.headers import AUTH_ERROR, ERROR_JSON, Headers
from harness.client.responses.models import RateLimitSnapshot
from harness.client.responses.rate_limits import (
    ACTIVE_LIMIT,
    parse_promo_message,
    parse_rate_limit_for_limit,
)
from harness.client.responses.usage_limit import UsageLimit, usage_limit_message


__all__ = ["ApiError", "TurnError", "map_api_error", "status_text"]

STREAM_PREFIX = "stream disconnected before completion: "
CONTEXT_WINDOW_TEXT = (
    "Codex ran out of room in the model's context window. Start a new thread or clear "
    "earlier history before retrying."
)
QUOTA_TEXT = "Quota exceeded. Check your plan and billing details."
USAGE_NOT_INCLUDED_TEXT = (
    "To use Codex with your ChatGPT plan, upgrade to Plus: https://chatgpt.com/explore/plus."
)
SERVER_OVERLOADED_TEXT = "Selected model is at capacity. Please try a different model."
INTERNAL_SERVER_ERROR_TEXT = (
    "We're currently experiencing high demand, which may cause temporary errors."
)
CYBER_POLICY_FALLBACK = "This request has been flagged for possible cybersecurity risk."
INVALID_IMAGE_MARKERS = (
    "The image data you provided does not represent a valid image",
    "Expected a base64-encoded data URL with an image MIME type, but got empty "
    "base64-encoded bytes.",
)
CLOUDFLARE_TEXT = (
    "Access blocked by Cloudflare. This usually happens when connecting from a restricted region"
)
_BODY_MAX_BYTES = 1000
# The Rust `http` crate's reason phrases where Python's differ.
@dataclass(frozen=True, slots=True, kw_only=True)
class ApiError:
    """A failure below the turn: codex `ApiError` / `TransportError` (§2.4, §4.1).

    kind: stream | retryable | context_window_exceeded | quota_exceeded |
    usage_not_included | server_overloaded | cyber_policy | invalid_request | http |
    network | timeout | refresh_token_failed | io (auth recovery, §5.1).
    """

    kind: str
    message: str = ""
    delay_s: float | None = None
    status: int | None = None
    url: str | None = None
    headers: Headers = field(default_factory=Headers)
    body: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnError:
    """A failure as the turn sees it: codex `CodexErr` with its display text."""

    kind: str
    message: str
    retryable: bool
    code: str
    delay_s: float | None = None
    http_status: int | None = None
    request_id: str | None = None
    """The failed response's `x-request-id` (else `x-oai-request-id`), for the neutral
    `error.request_id`: surfacing a server error includes its request id."""
    rate_limits: RateLimitSnapshot | None = None



def map_api_error(err: ApiError, *, now_s: float) -> TurnError:
    """Classify one failure (§4.2 table); `now_s` only formats usage-limit reset times."""
    kind = err.kind
    if kind == "stream":
        return _stream(err.message)
    if kind == "retryable":
        return _stream(err.message, err.delay_s)
    if kind == "network":
        return _stream(err.message)
    if kind == "timeout":
        return TurnError(kind="request_timeout", message="request timed out", retryable=True,
                         code="other")  # fmt: skip
    if kind == "context_window_exceeded":
        return _fatal(kind, CONTEXT_WINDOW_TEXT, "context_window_exceeded")
    if kind == "quota_exceeded":
        return _fatal(kind, QUOTA_TEXT, "usage_limit_exceeded")
    if kind == "usage_not_included":
        return _fatal(kind, USAGE_NOT_INCLUDED_TEXT, "usage_limit_exceeded")
    if kind == "server_overloaded":
        return _fatal(kind, SERVER_OVERLOADED_TEXT, "server_overloaded")
    if kind == "cyber_policy":
        return _fatal(kind, err.message or CYBER_POLICY_FALLBACK, "cyber_policy")
    if kind == "invalid_request":
        return _fatal(kind, err.message or "Invalid request.", "other")
    if kind == "refresh_token_failed":  # §5.1 permanent recovery failure (harness.client.auth)
        return _fatal(kind, err.message, "unauthorized")
    if kind == "io":  # §5.1 transient recovery failure: `CodexErr::Io`, retryable
        return TurnError(kind=kind, message=err.message, retryable=True, code="other")
    if kind == "http":
        return dataclasses.replace(_map_http(err, now_s=now_s), http_status=err.status,
                                   request_id=err.headers.request_id())  # fmt: skip
    raise ValueError(f"unknown ApiError kind {kind!r}")


def _stream(message: str, delay_s: float | None = None) -> TurnError:
    return TurnError(kind="stream", message=STREAM_PREFIX + message, retryable=True,
                     code="response_stream_disconnected", delay_s=delay_s)  # fmt: skip


def _fatal(kind: str, message: str, code: str) -> TurnError:
    return TurnError(kind=kind, message=message, retryable=False, code=code)


def _map_http(err: ApiError, *, now_s: float) -> TurnError:
    status = err.status or 0
    body = err.body
    parsed = _json(body)
    error = parsed.get("error") if isinstance(parsed, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    if status == 503 and code in ("server_is_overloaded", "slow_down"):
        return _fatal("server_overloaded", SERVER_OVERLOADED_TEXT, "server_overloaded")
    if status == 400:
        if code == "cyber_policy":
            message = error.get("message")
            text = message if isinstance(message, str) and message.strip() else None
            return _fatal("cyber_policy", text or CYBER_POLICY_FALLBACK, "cyber_policy")
        if any(marker in body for marker in INVALID_IMAGE_MARKERS):
            return _fatal("invalid_image_request", "Image poisoning", "other")
        return _fatal("invalid_request", body, "other")
    if status == 500:
        return TurnError(kind="internal_server_error", message=INTERNAL_SERVER_ERROR_TEXT,
                         retryable=True, code="internal_server_error", http_status=500)  # fmt: skip
    if status == 429:
        error_type = error.get("type")
        if error_type == "usage_limit_reached":
            return _usage_limit(err, error, now_s=now_s)
        if error_type == "usage_not_included":
            return _fatal("usage_not_included", USAGE_NOT_INCLUDED_TEXT, "usage_limit_exceeded")
        if "insufficient_quota" in (error_type, code):  # codex-cli §3 (0.169.0)
            return _fatal("quota_exceeded", QUOTA_TEXT, "usage_limit_exceeded")
        request_id = err.headers.request_id() or err.headers.cf_ray()
        suffix = f", request id: {request_id}" if request_id else ""
        return TurnError(kind="retry_limit",
                         message=f"exceeded retry limit, last status: {status_text(status)}{suffix}",
                         retryable=False, code="response_too_many_failed_attempts",
                         http_status=status)  # fmt: skip
    return TurnError(kind="unexpected_status", message=unexpected_status_text(err),
                     retryable=True, code="other", http_status=status)  # fmt: skip


def _usage_limit(err: ApiError, error: dict[str, object], *, now_s: float) -> TurnError:
    limit_id = err.headers.get(ACTIVE_LIMIT)
    snapshot = parse_rate_limit_for_limit(err.headers, limit_id)
    plan = error.get("plan_type")
    resets = error.get("resets_at")
    limit = UsageLimit(
        plan_type=plan if isinstance(plan, str) else None,
        resets_at=resets if isinstance(resets, int) and not isinstance(resets, bool) else None,
        limit_name=snapshot.limit_name,
        promo_message=parse_promo_message(err.headers),
    )
    return TurnError(kind="usage_limit_reached", message=usage_limit_message(limit, now_s=now_s),
                     retryable=False, code="usage_limit_exceeded", http_status=429,
                     rate_limits=snapshot)  # fmt: skip


def unexpected_status_text(err: ApiError) -> str:
    """`unexpected status 401 Unauthorized: <msg>, url: …, cf-ray: …, request id: …` (§4.2)."""
    status = err.status or 0
    suffix = ""
    for label, value in (
        ("url", err.url),
        ("cf-ray", err.headers.cf_ray()),
        ("request id", err.headers.request_id()),
        ("auth error", err.headers.get(AUTH_ERROR)),
        ("auth error code", error_json_code(err.headers.get(ERROR_JSON))),
    ):
        if value is not None:
            suffix += f", {label}: {value}"
    if status == 403 and "Cloudflare" in err.body and "blocked" in err.body:
        return f"{CLOUDFLARE_TEXT} (status {status_text(status)}){suffix}"
    return f"unexpected status {status_text(status)}: {_display_body(err.body)}{suffix}"


def _display_body(body: str) -> str:
    parsed = _json(body)
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
        message = parsed["error"].get("message")
        if isinstance(message, str) and message.strip():
            return message.strip()
    trimmed = body.strip()
    if not trimmed:
        return "Unknown error"
    raw = trimmed.encode()
    if len(raw) <= _BODY_MAX_BYTES:
        return trimmed
    return raw[:_BODY_MAX_BYTES].decode("utf-8", errors="ignore") + "..."



def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None
