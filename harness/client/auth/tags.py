"""The feedback tags as neutral events (responses-wire §5.2; schemas/events/auth.schema.json).

`auth.request` is codex's `FeedbackRequestTags` of one request attempt (an HTTP
attempt, a websocket handshake, a request over an open websocket); `auth.recovery`
is `emit_feedback_auth_recovery_tags` of one 401 handling. Tag names are kept;
string tags are `""` when missing, as codex emits them; booleans stay booleans;
the tags codex leaves empty when they do not apply (`auth_connection_reused` on
HTTP, the follow-up result on a request that is no retry) are omitted. The 401
evidence (`auth_401_*`) lives only on `auth.recovery`, so a follow-up's own result
never overwrites it. Pure; no token value can reach these builders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.client.auth.evidence import DebugContext


__all__ = [
    "RECOVERY_EVENT",
    "REQUEST_EVENT",
    "REQUEST_KINDS",
    "PendingRetry",
    "RequestAuthContext",
    "recovery_event",
    "request_event",
]

REQUEST_EVENT = "auth.request"
RECOVERY_EVENT = "auth.recovery"
# The OTel event each attempt belongs to (`codex.api_request`, `codex.websocket_connect`,
# `codex.websocket_request`), so a reader can tell the three sources apart.
REQUEST_KINDS = ("api_request", "websocket_connect", "websocket_request")


@dataclass(frozen=True, slots=True)
class PendingRetry:
    """`PendingUnauthorizedRetry`: set after a recovery step, for the request that follows it."""

    retry_after_unauthorized: bool = False
    recovery_mode: str | None = None
    recovery_phase: str | None = None

    @classmethod
    def after(cls, mode: str, phase: str) -> PendingRetry:
        return cls(retry_after_unauthorized=True, recovery_mode=mode, recovery_phase=phase)


@dataclass(frozen=True, slots=True)
class RequestAuthContext:
    """`AuthRequestTelemetryContext`: the auth facts of the request about to be sent."""

    auth_mode: str | None
    header_attached: bool
    header_name: str | None
    retry: PendingRetry = PendingRetry()


def request_event(
    *,
    endpoint: str,
    request_kind: str,
    context: RequestAuthContext,
    ok: bool,
    status: int | None,
    debug: DebugContext,
    connection_reused: bool | None = None,
) -> dict[str, Any]:
    """`auth.request` for one attempt; `debug` is the failed response's evidence (empty on success)."""
    if request_kind not in REQUEST_KINDS:
        raise ValueError(f"unknown request kind {request_kind!r}")
    retry = context.retry
    event: dict[str, Any] = {
        "type": REQUEST_EVENT,
        "request_kind": request_kind,
        "endpoint": endpoint,
        "auth_header_attached": context.header_attached,
        "auth_header_name": context.header_name or "",
        "auth_mode": context.auth_mode or "",
        "auth_retry_after_unauthorized": retry.retry_after_unauthorized,
        "auth_recovery_mode": retry.recovery_mode or "",
        "auth_recovery_phase": retry.recovery_phase or "",
        "auth_request_id": debug.request_id or "",
        "auth_cf_ray": debug.cf_ray or "",
        "auth_error": debug.auth_error or "",
        "auth_error_code": debug.auth_error_code or "",
    }
    if connection_reused is not None:
        event["auth_connection_reused"] = connection_reused
    if retry.retry_after_unauthorized:
        event["auth_recovery_followup_success"] = ok
        if status is not None:
            event["auth_recovery_followup_status"] = status
    return event


def recovery_event(
    *,
    mode: str,
    phase: str,
    outcome: str,
    debug: DebugContext,
    reason: str | None = None,
    state_changed: bool | None = None,
) -> dict[str, Any]:
    """`auth.recovery` for one 401: the step it ran (or why none) and the 401's evidence.

    `recovery_reason` (why no step ran) and `state_changed` (whether a step changed
    the stored auth) are the OTel `codex.auth_recovery` attributes of the same name.
    """
    event: dict[str, Any] = {
        "type": RECOVERY_EVENT,
        "auth_recovery_mode": mode,
        "auth_recovery_phase": phase,
        "auth_recovery_outcome": outcome,
        "auth_401_request_id": debug.request_id or "",
        "auth_401_cf_ray": debug.cf_ray or "",
        "auth_401_error": debug.auth_error or "",
        "auth_401_error_code": debug.auth_error_code or "",
    }
    if reason is not None:
        event["recovery_reason"] = reason
    if state_changed is not None:
        event["state_changed"] = state_changed
    return event
