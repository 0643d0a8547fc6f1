"""Pure response-stream state machine shared by SSE and websocket (responses-wire §2).

Feed it each SSE `data` string or websocket text frame; it maps events by `type`
(§2.3), classifies failures (§2.4), applies the termination rules (§2.5) and reports
the server model carried in payload headers (`response.headers`, §3.3). The transports only move bytes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any, TypeGuard

from harness.client.responses.errors import ApiError
from harness.client.responses.headers import Headers
from harness.client.responses.models import TokenUsage
from harness.client.responses.profile import ResponsesProfile
from harness.client.responses.rate_limits import parse_rate_limit_event, parse_rate_limit_updates
from harness.client.responses.stream_items import (
    Completed,
    Created,
    Failed,
    ModelsEtag,
    ModelVerifications,
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
    TurnStateSeen,
)


__all__ = ["StreamProcessor", "start_items"]

CLOSED_BEFORE_COMPLETED = "stream closed before response.completed"
WS_CONNECTION_LIMIT_CODE = "websocket_connection_limit_reached"
WS_CONNECTION_LIMIT_TEXT = (
    "Responses websocket connection limit reached (60 minutes). Create a new websocket "
    "connection to continue."
)
_RETRY_AFTER = re.compile(r"(?i)try again in\s*(\d+(?:\.\d+)?)\s*(s|ms|seconds?)")
_FATAL_CODES = {
    "context_length_exceeded": "context_window_exceeded",
    "insufficient_quota": "quota_exceeded",
    "usage_not_included": "usage_not_included",
    "server_is_overloaded": "server_overloaded",
    "slow_down": "server_overloaded",
}


def start_items(headers: Headers, *, transport: str) -> list[StreamItem]:
    """Header-derived items emitted before any body event (§3.1, seeds for websocket).

    SSE: server model, one rate-limit snapshot per family, etag, reasoning-included.
    Websocket (handshake headers, per request): the same minus rate limits, which
    arrive as `codex.rate_limits` events instead.
    """
    items: list[StreamItem] = []
    model = headers.server_model()
    if model is not None:
        items.append(ServerModel(model))
    if transport == "sse":
        items.extend(RateLimits(s) for s in parse_rate_limit_updates(headers))
    etag = headers.models_etag()
    if etag is not None:
        items.append(ModelsEtag(etag))
    if headers.reasoning_included():
        items.append(ServerReasoningIncluded())
    return items


class StreamProcessor:
    """One response stream. `transport` is `sse` or `websocket`."""

    def __init__(self, *, transport: str, profile: ResponsesProfile) -> None:
        self._websocket = transport == "websocket"
        self._profile = profile
        self._pending_error: ApiError | None = None  # SSE remembers failures (§2.5)
        self._held_completed: Completed | None = None
        self._last_payload_model: str | None = None
        self.done = False
        self.counts: Counter[str] = Counter()

    def feed(self, data: str) -> list[StreamItem]:
        """One SSE `data` payload or websocket text frame; malformed input is skipped."""
        if self.done:
            return []
        try:
            event = json.loads(data)
        except ValueError:
            return []  # §2.1: unparseable data is skipped
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return []
        if not _typed_fields_ok(event):
            return []  # codex's typed struct fails to deserialize: the event is skipped
        kind: str = event["type"]
        self.counts[kind] += 1
        out: list[StreamItem] = []
        model = self._payload_model(event)
        if model is not None and model != self._last_payload_model:
            self._last_payload_model = model
            out.append(ServerModel(model))  # emitted before the event carrying it
        if self._profile.turn_state_from_metadata_event and kind in (
            "response.metadata",
            "codex.response.metadata",
        ):
            state = _json_header(event.get("headers"), "x-codex-turn-state")
            if state is not None:
                out.append(TurnStateSeen(state))
        if self._profile.model_verification_from_metadata and kind == "response.metadata":
            verifications = _model_verifications(event.get("metadata"))
            if verifications:
                out.append(ModelVerifications(verifications))
        out.extend(self._dispatch(kind, event, data))
        return out

    def binary(self) -> list[StreamItem]:
        """A binary websocket frame is a terminal error (§2.1)."""
        return self.fail("unexpected binary websocket event")

    def fail(self, message: str) -> list[StreamItem]:
        """Terminal stream error (idle timeout, socket closed, read error)."""
        return self._terminal(ApiError(kind="stream", message=message))

    def eof(self) -> list[StreamItem]:
        """The body / socket ended: held completion, remembered error, or §2.5's message."""
        if self.done:
            return []
        if self._held_completed is not None:
            self.done = True
            return [self._held_completed]
        return self._terminal(
            self._pending_error or ApiError(kind="stream", message=CLOSED_BEFORE_COMPLETED)
        )

    # -- dispatch (§2.3) -------------------------------------------------------------

    def _dispatch(self, kind: str, event: dict[str, Any], raw: str) -> list[StreamItem]:
        if kind == "response.created":
            response = event.get("response")
            if response is None:
                return []
            rid = response.get("id") if isinstance(response, dict) else None
            return [Created(rid if isinstance(rid, str) else None)]
        if kind in ("response.output_item.added", "response.output_item.done"):
            item = event.get("item")
            if not _valid_item(item):
                return []
            done = kind.endswith("done")
            return [OutputItemDone(item) if done else OutputItemAdded(item)]
        if kind == "response.output_text.delta":
            delta = event.get("delta")
            return [OutputTextDelta(delta)] if delta is not None else []
        if kind == "response.reasoning_summary_text.delta":
            delta, index = event.get("delta"), event.get("summary_index")
            return [] if delta is None or index is None else [ReasoningSummaryDelta(delta, index)]
        if kind == "response.reasoning_text.delta":
            delta, index = event.get("delta"), event.get("content_index")
            return [] if delta is None or index is None else [ReasoningContentDelta(delta, index)]
        if kind == "response.reasoning_summary_part.added":
            index = event.get("summary_index")
            return [] if index is None else [ReasoningSummaryPartAdded(index)]
        if kind == "response.completed" or (
            kind == "response.done" and self._profile.response_done_completes
        ):
            return self._completed(event, via_done=kind == "response.done")
        if kind == "response.failed":
            response = event.get("response")
            return [] if response is None else self._failure(_classify_failed(response))
        if kind == "response.incomplete":
            return self._failure(_incomplete(event.get("response")))
        if self._websocket and kind == "codex.rate_limits":
            snapshot = parse_rate_limit_event(event)
            return [RateLimits(snapshot)] if snapshot is not None else []
        if self._websocket and kind == "error":
            error = _wrapped_error(event, raw)
            return self._terminal(error) if error is not None else []
        return []  # unknown kinds are ignored (§2.3)

    def _completed(self, event: dict[str, Any], *, via_done: bool) -> list[StreamItem]:
        response = event.get("response")
        if response is None:
            return []
        try:
            completed = _parse_completed(response, event, via_done=via_done)
        except ValueError as exc:
            return self._failure(
                ApiError(kind="stream", message=f"failed to parse ResponseCompleted: {exc}")
            )
        if not self._websocket and self._profile.sse_completed_waits_for_eof:
            self._held_completed = completed
            return []
        self.done = True
        return [completed]

    def _failure(self, error: ApiError) -> list[StreamItem]:
        if self._websocket:
            return self._terminal(error)  # websocket: terminal at once (§2.5)
        self._pending_error = error  # SSE: remembered, reported at EOF (§2.5)
        return []

    def _terminal(self, error: ApiError) -> list[StreamItem]:
        if self.done:
            return []
        self.done = True
        return [Failed(error)]

    def _payload_model(self, event: Mapping[str, Any]) -> str | None:
        """`response.headers` inside the event, else a top-level `headers` object (websocket
        metadata events); case-insensitive `openai-model` / `x-openai-model` (§3.3). The
        body field `response.model` is never a source (codex-cli §4c: only headers count)."""
        response = event.get("response")
        if isinstance(response, Mapping):
            model = _json_header(response.get("headers"), "openai-model", "x-openai-model")
            if model is not None:
                return model
        return _json_header(event.get("headers"), "openai-model", "x-openai-model")


def _typed_fields_ok(event: Mapping[str, Any]) -> bool:
    delta = event.get("delta")
    if delta is not None and not isinstance(delta, str):
        return False
    for key in ("summary_index", "content_index"):
        value = event.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            return False
    return True


# Required fields of the ResponseItem variants codex parses strictly; other `type`s
# deserialize as `Other` and pass through.
_ITEM_FIELDS: dict[str, tuple[tuple[str, type], ...]] = {
    "message": (("role", str), ("content", list)),
    "function_call": (("name", str), ("arguments", str), ("call_id", str)),
    "custom_tool_call": (("name", str), ("input", str), ("call_id", str)),
    "reasoning": (("summary", list),),
}


# codex_protocol models.rs `MessagePhase`: `commentary` | `final_answer`, no catch-all
# variant, so a message with any other phase fails to deserialize as a `ResponseItem`.
MESSAGE_PHASES = ("commentary", "final_answer")


def _valid_item(item: object) -> TypeGuard[dict[str, Any]]:
    if not isinstance(item, dict) or not isinstance(item.get("type"), str):
        return False
    if item["type"] == "message" and item.get("phase") not in (None, *MESSAGE_PHASES):
        return False  # the item is skipped, as codex's parse failure skips it
    return all(
        isinstance(item.get(name), kind) for name, kind in _ITEM_FIELDS.get(item["type"], ())
    )


def _parse_completed(response: object, event: Mapping[str, Any], *, via_done: bool) -> Completed:
    if not isinstance(response, Mapping):
        raise ValueError(f"invalid type: {_json_kind(response)}, expected struct ResponseCompleted")
    rid = _field(response, "id", str)
    usage = None
    raw_usage = response.get("usage")
    if raw_usage is not None:
        if not isinstance(raw_usage, Mapping):
            raise ValueError(f"invalid type: {_json_kind(raw_usage)}, expected struct Usage")
        input_details = raw_usage.get("input_tokens_details")
        output_details = raw_usage.get("output_tokens_details")
        usage = TokenUsage(
            input_tokens=_field(raw_usage, "input_tokens", int),
            cached_input_tokens=_detail(input_details, "cached_tokens"),
            output_tokens=_field(raw_usage, "output_tokens", int),
            reasoning_output_tokens=_detail(output_details, "reasoning_tokens"),
            total_tokens=_field(raw_usage, "total_tokens", int),
        )
    end_turn = response.get("end_turn", event.get("end_turn"))
    return Completed(response_id=rid, token_usage=usage,
                     end_turn=end_turn if isinstance(end_turn, bool) else None,
                     via_done=via_done)  # fmt: skip


def _detail(details: object, key: str) -> int:
    if not isinstance(details, Mapping):
        return 0
    value: int = _field(details, key, int)
    return value


def _field(obj: Mapping[str, Any], key: str, kind: type) -> Any:
    if key not in obj or obj[key] is None:
        raise ValueError(f"missing field `{key}`")
    value = obj[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"invalid type: {_json_kind(value)}, expected i64")
    if kind is str and not isinstance(value, str):
        raise ValueError(f"invalid type: {_json_kind(value)}, expected a string")
    return value


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f'string "{value}"'
    return "sequence" if isinstance(value, list) else "map"


def _classify_failed(response: object) -> ApiError:
    """`response.failed` by `response.error.code` (§2.4)."""
    error = response.get("error") if isinstance(response, Mapping) else None
    if not isinstance(error, Mapping) or not all(
        isinstance(error.get(k), str | None) for k in ("type", "code", "message", "plan_type")
    ):
        return ApiError(kind="stream", message="response.failed event received")
    code, message = error.get("code"), error.get("message")
    if code in _FATAL_CODES:
        return ApiError(kind=_FATAL_CODES[code])
    if code == "cyber_policy":
        return ApiError(kind="cyber_policy", message=(message or "").strip())
    if code == "invalid_prompt":
        return ApiError(kind="invalid_request", message=message or "Invalid request.")
    return ApiError(kind="retryable", message=message or "", delay_s=_retry_after(code, message))


def _retry_after(code: object, message: str | None) -> float | None:
    """`try again in N s|ms|seconds` — only for `rate_limit_exceeded` (§2.4)."""
    if code != "rate_limit_exceeded" or not message:
        return None
    match = _RETRY_AFTER.search(message)
    if match is None:
        return None
    value, unit = float(match.group(1)), match.group(2).lower()
    return int(value) / 1000 if unit == "ms" else value


def _incomplete(response: object) -> ApiError:
    details = response.get("incomplete_details") if isinstance(response, Mapping) else None
    reason = details.get("reason") if isinstance(details, Mapping) else None
    reason = reason if isinstance(reason, str) else "unknown"
    return ApiError(kind="stream", message=f"Incomplete response returned, reason: {reason}")


def _wrapped_error(event: Mapping[str, Any], raw: str) -> ApiError | None:
    """Websocket `error` event (§6.2); None when it carries no non-2xx status."""
    error = event.get("error")
    if isinstance(error, Mapping) and error.get("code") == WS_CONNECTION_LIMIT_CODE:
        message = error.get("message")
        text = message if isinstance(message, str) and message else WS_CONNECTION_LIMIT_TEXT
        return ApiError(kind="retryable", message=text)
    status = event.get("status", event.get("status_code"))
    if isinstance(status, bool) or not isinstance(status, int) or 200 <= status < 300:
        return None
    headers = event.get("headers")
    pairs: list[tuple[str, str]] = []
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            if isinstance(value, bool):
                pairs.append((name, "true" if value else "false"))
            elif isinstance(value, str | int | float):
                pairs.append((name, str(value)))
    return ApiError(kind="http", status=status, url=None, headers=Headers(tuple(pairs)), body=raw)


TRUSTED_ACCESS_FOR_CYBER = "trusted_access_for_cyber"


def _model_verifications(metadata: object) -> tuple[str, ...]:
    """[later] `metadata.openai_verification_recommendation` of a `response.metadata` event:
    the known values (`trusted_access_for_cyber`) in order, duplicates and unknown or
    non-string entries dropped (codex-api sse/responses.rs model_verifications_from_json_value)."""
    values = (
        metadata.get("openai_verification_recommendation")
        if isinstance(metadata, Mapping)
        else None
    )
    if not isinstance(values, list):
        return ()
    known: list[str] = []
    for value in values:
        if value == TRUSTED_ACCESS_FOR_CYBER and value not in known:
            known.append(value)
    return tuple(known)


def _json_header(headers: object, *names: str) -> str | None:
    """A header inside a JSON `headers` object: case-insensitive, string or first element."""
    if not isinstance(headers, Mapping):
        return None
    wanted = {n.lower() for n in names}
    for name, value in headers.items():
        if not isinstance(name, str) or name.lower() not in wanted:
            continue
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
