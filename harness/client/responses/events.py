"""The neutral event vocabulary of the Responses client (docs/contracts.md).

Every event the client emits is built here, so names and fields match
schemas/events/responses.schema.json in one place. Optional top-level fields are
omitted when absent, never null (as in the realtime vocabulary); payloads that mirror
codex's own JSON (`item`, `snapshot`) keep codex's nulls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.client.responses.models import TokenUsage
from harness.client.responses.stream_items import (
    Completed,
    Created,
    ModelsEtag,
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    RateLimits,
    ReasoningContentDelta,
    ReasoningSummaryDelta,
    ReasoningSummaryPartAdded,
    ServerModel,
    ServerReasoningIncluded,
    StreamItem,
)


__all__ = [
    "REROUTE_WARNING",
    "error",
    "model_reroute",
    "model_verification",
    "retry_scheduled",
    "stream_event",
    "telemetry_events",
    "telemetry_request",
    "telemetry_ws_connect",
    "token_count",
    "tool_call",
    "turn_completed",
    "turn_started",
    "turn_stream_error",
    "warning",
]

# §3.3: literal text, model names included, whatever the actual models are.
REROUTE_WARNING = (
    "Your account was flagged for potentially high-risk cyber activity and this request was "
    "routed to gpt-5.2 as a fallback. To regain access to gpt-5.3-codex, apply for trusted "
    "access: https://chatgpt.com/cyber or learn more: "
    "https://developers.openai.com/codex/concepts/cyber-safety"
)
REROUTE_REASON = "high_risk_cyber_activity"


def stream_event(item: StreamItem) -> dict[str, Any] | None:
    """The `responses.*` event for a stream item; None for items with no event of their own."""
    match item:
        case Created(response_id=rid):
            return _some({"type": "responses.created", "response_id": rid})
        case OutputItemAdded(item=value):
            return {"type": "responses.output_item_added", "item": value}
        case OutputItemDone(item=value):
            return {"type": "responses.output_item_done", "item": value}
        case OutputTextDelta(delta=delta):
            return {"type": "responses.output_text_delta", "delta": delta}
        case ReasoningSummaryDelta(delta=delta, summary_index=index):
            return {"type": "responses.reasoning_summary_delta", "delta": delta,
                    "summary_index": index}  # fmt: skip
        case ReasoningContentDelta(delta=delta, content_index=index):
            return {"type": "responses.reasoning_content_delta", "delta": delta,
                    "content_index": index}  # fmt: skip
        case ReasoningSummaryPartAdded(summary_index=index):
            return {"type": "responses.reasoning_summary_part_added", "summary_index": index}
        case Completed():
            return _some({
                "type": "responses.completed",
                "response_id": item.response_id,
                "token_usage": item.token_usage.to_json() if item.token_usage else None,
                "end_turn": item.end_turn,
            })  # fmt: skip
        case RateLimits(snapshot=snapshot):
            return {"type": "responses.rate_limits", "snapshot": snapshot.to_json()}
        case ModelsEtag(etag=etag):
            return {"type": "responses.models_etag", "etag": etag}
        case ServerModel(model=model):
            return {"type": "responses.server_model", "model": model}
        case ServerReasoningIncluded(included=included):
            return {"type": "responses.server_reasoning_included", "included": included}
    return None


def turn_started(turn_id: str) -> dict[str, Any]:
    return {"type": "turn.started", "turn_id": turn_id}


def turn_completed(*, status: str, token_usage: TokenUsage | None) -> dict[str, Any]:
    return _some({"type": "turn.completed", "status": status,
                  "token_usage": token_usage.to_json() if token_usage else None})  # fmt: skip


def turn_stream_error(message: str, details: str) -> dict[str, Any]:
    return {"type": "turn.stream_error", "message": message, "details": details}


def model_reroute(from_model: str, to_model: str) -> dict[str, Any]:
    return {"type": "turn.model_reroute", "from_model": from_model, "to_model": to_model,
            "reason": REROUTE_REASON}  # fmt: skip


def model_verification(verifications: tuple[str, ...]) -> dict[str, Any]:
    """[later] codex `EventMsg::ModelVerification`: at most once per turn."""
    return {"type": "turn.model_verification", "verifications": list(verifications)}


def retry_scheduled(*, attempt: int, max_retries: int, delay_ms: int) -> dict[str, Any]:
    """A stream retry and the delay before it (codex logs `stream disconnected - retrying
    sampling request ({attempt}/{max} in {delay:?})...` and sleeps that long)."""
    return {"type": "turn.retry_scheduled", "attempt": attempt, "max_retries": max_retries,
            "delay_ms": delay_ms}  # fmt: skip


def token_count(
    *, total: TokenUsage, last: TokenUsage, model_context_window: int | None
) -> dict[str, Any]:
    """codex `EventMsg::TokenCount`'s `info` (`TokenUsageInfo`): the session's summed usage,
    the last response's, and the model's effective context window when it is known."""
    return _some({"type": "turn.token_count", "total_token_usage": total.to_json(),
                  "last_token_usage": last.to_json(),
                  "model_context_window": model_context_window})  # fmt: skip


def tool_call(call_id: str, name: str, arguments: str | None) -> dict[str, Any]:
    return _some({"type": "turn.tool_call", "call_id": call_id, "name": name,
                  "arguments": arguments})  # fmt: skip


def warning(message: str) -> dict[str, Any]:
    return {"type": "warning", "message": message}


def error(
    message: str, code: str | None, http_status: int | None = None, request_id: str | None = None
) -> dict[str, Any]:
    return _some({"type": "error", "message": message, "code": code, "http_status": http_status,
                  "request_id": request_id})  # fmt: skip


def telemetry_request(
    *, transport: str, attempt: int, status: int | None, duration_ms: float, error: str | None
) -> dict[str, Any]:
    return _some({"type": "telemetry.request", "transport": transport, "attempt": attempt,
                  "status": status, "duration_ms": duration_ms, "error": error})  # fmt: skip


def telemetry_ws_connect(
    *, duration_ms: float, success: bool, status: int | None, error: str | None
) -> dict[str, Any]:
    return _some({"type": "telemetry.ws_connect", "duration_ms": duration_ms,
                  "success": success, "status": status, "error": error})  # fmt: skip


def telemetry_events(*, transport: str, counts: Mapping[str, int]) -> dict[str, Any]:
    return {
        "type": "telemetry.events",
        "transport": transport,
        "counts": dict(sorted(counts.items())),
    }


def _some(event: dict[str, Any]) -> dict[str, Any]:
    """Drop absent (None) top-level fields."""
    return {k: v for k, v in event.items() if v is not None}
