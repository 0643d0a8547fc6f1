"""The shared stream state machine: mapping (§2.3), failures (§2.4), termination (§2.5)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from harness.client.responses.errors import ApiError
from harness.client.responses.headers import Headers
from harness.client.responses.models import RateLimitSnapshot, RateLimitWindow, TokenUsage
from harness.client.responses.profile import PRESETS
from harness.client.responses.stream import StreamProcessor, start_items
from harness.client.responses.stream_items import (
    Completed,
    Created,
    Failed,
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
    TurnStateSeen,
)


EARLY = PRESETS["early-2026"]
LATER = PRESETS["later"]
MSG = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hi"}]}


def run(events: list[Any], *, transport: str = "sse", profile=EARLY, eof: bool = True) -> list:
    proc = StreamProcessor(transport=transport, profile=profile)
    out: list = []
    for event in events:
        out += proc.feed(event if isinstance(event, str) else json.dumps(event))
    if eof:
        out += proc.eof()
    return out


def stream_error(message: str) -> Failed:
    return Failed(ApiError(kind="stream", message=message))


DONE = Completed(response_id="r1")
COMPLETED = {"type": "response.completed", "response": {"id": "r1"}}

MAPPING = [
    ("created", {"type": "response.created", "response": {"id": "r1"}}, [Created("r1")]),
    ("created without response", {"type": "response.created"}, []),
    ("created with non-object response", {"type": "response.created", "response": 3}, [Created(None)]),
    ("item added", {"type": "response.output_item.added", "item": MSG}, [OutputItemAdded(MSG)]),
    ("item done", {"type": "response.output_item.done", "item": MSG}, [OutputItemDone(MSG)]),
    ("unknown item type passes", {"type": "response.output_item.done", "item": {"type": "x"}},
     [OutputItemDone({"type": "x"})]),
    ("unparseable item skipped", {"type": "response.output_item.done",
                                  "item": {"type": "message", "role": "assistant"}}, []),
    ("item missing", {"type": "response.output_item.done"}, []),
    ("text delta", {"type": "response.output_text.delta", "delta": "he"}, [OutputTextDelta("he")]),
    ("summary delta", {"type": "response.reasoning_summary_text.delta", "delta": "s",
                       "summary_index": 1}, [ReasoningSummaryDelta("s", 1)]),
    ("summary delta without index dropped",
     {"type": "response.reasoning_summary_text.delta", "delta": "s"}, []),
    ("content delta", {"type": "response.reasoning_text.delta", "delta": "c",
                       "content_index": 0}, [ReasoningContentDelta("c", 0)]),
    ("content delta without index dropped", {"type": "response.reasoning_text.delta",
                                             "delta": "c"}, []),
    ("part added", {"type": "response.reasoning_summary_part.added", "summary_index": 2},
     [ReasoningSummaryPartAdded(2)]),
    ("non-string delta skips event", {"type": "response.output_text.delta", "delta": 5}, []),
    ("bool index skips event", {"type": "response.reasoning_summary_part.added",
                                "summary_index": True}, []),
    ("unknown type ignored", {"type": "response.new_tool_event"}, []),
    ("in_progress ignored", {"type": "response.in_progress", "response": {}}, []),
    ("malformed json skipped", "{not json", []),
    ("non-object json skipped", "[1,2]", []),
    ("missing type skipped", {"delta": "x"}, []),
    ("codex.rate_limits ignored on SSE", {"type": "codex.rate_limits", "plan_type": "plus"}, []),
    ("error event ignored on SSE", {"type": "error", "status": 400}, []),
]  # fmt: skip


@pytest.mark.parametrize(("name", "event", "expected"), MAPPING, ids=[m[0] for m in MAPPING])
def test_mapping(name: str, event: Any, expected: list) -> None:
    assert run([event, COMPLETED]) == [*expected, DONE]


def test_completed_with_usage_and_end_turn() -> None:
    usage = {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 2}, "output_tokens": 5,
             "output_tokens_details": {"reasoning_tokens": 1}, "total_tokens": 15}  # fmt: skip
    out = run([{"type": "response.completed", "response": {"id": "r", "usage": usage},
                "end_turn": True}])  # fmt: skip
    assert out == [
        Completed(
            response_id="r",
            token_usage=TokenUsage(input_tokens=10, cached_input_tokens=2, output_tokens=5,
                                   reasoning_output_tokens=1, total_tokens=15),
            end_turn=True,
        )
    ]  # fmt: skip


def test_completed_null_details_count_zero() -> None:
    usage = {"input_tokens": 1, "input_tokens_details": None, "output_tokens": 2, "total_tokens": 3}
    out = run([{"type": "response.completed", "response": {"id": "r", "usage": usage}}])
    assert out == [Completed(response_id="r", token_usage=TokenUsage(input_tokens=1,
                                                                      output_tokens=2, total_tokens=3))]  # fmt: skip


COMPLETED_ERRORS = [
    ({}, "failed to parse ResponseCompleted: missing field `id`"),
    ({"id": 5}, "failed to parse ResponseCompleted: invalid type: integer `5`, expected a string"),
    ({"id": "r", "usage": {"input_tokens": 1, "output_tokens": 1}},
     "failed to parse ResponseCompleted: missing field `total_tokens`"),
    ({"id": "r", "usage": {"input_tokens": "1", "output_tokens": 1, "total_tokens": 1}},
     'failed to parse ResponseCompleted: invalid type: string "1", expected i64'),
]  # fmt: skip


@pytest.mark.parametrize(("response", "message"), COMPLETED_ERRORS)
def test_completed_parse_failures(response: dict[str, Any], message: str) -> None:
    assert run([{"type": "response.completed", "response": response}]) == [stream_error(message)]


def test_completed_without_response_is_ignored() -> None:
    assert run([{"type": "response.completed"}]) == [
        stream_error("stream closed before response.completed")
    ]


def test_eof_without_completed() -> None:
    assert run([]) == [stream_error("stream closed before response.completed")]


def test_sse_completed_returns_immediately_and_later_events_are_ignored() -> None:
    proc = StreamProcessor(transport="sse", profile=EARLY)
    assert proc.feed(json.dumps(COMPLETED)) == [DONE]
    assert proc.done
    assert proc.feed(json.dumps({"type": "response.output_text.delta", "delta": "x"})) == []
    assert proc.eof() == []


def test_sse_completed_held_until_eof_in_old_parser_mode() -> None:
    profile = dataclasses.replace(EARLY, sse_completed_waits_for_eof=True)
    proc = StreamProcessor(transport="sse", profile=profile)
    assert proc.feed(json.dumps(COMPLETED)) == []
    assert proc.eof() == [DONE]


FAILED = [
    ("context_length_exceeded", "x", ApiError(kind="context_window_exceeded")),
    ("insufficient_quota", "x", ApiError(kind="quota_exceeded")),
    ("usage_not_included", "x", ApiError(kind="usage_not_included")),
    ("server_is_overloaded", "x", ApiError(kind="server_overloaded")),
    ("slow_down", "x", ApiError(kind="server_overloaded")),
    ("cyber_policy", " flagged ", ApiError(kind="cyber_policy", message="flagged")),
    ("invalid_prompt", "bad prompt", ApiError(kind="invalid_request", message="bad prompt")),
    ("server_error", "The model failed.", ApiError(kind="retryable", message="The model failed.")),
    ("rate_limit_exceeded", "Rate limit reached. Please try again in 11.054s. Visit",
     ApiError(kind="retryable", message="Rate limit reached. Please try again in 11.054s. Visit",
              delay_s=11.054)),
    ("rate_limit_exceeded", "try again in 28ms",
     ApiError(kind="retryable", message="try again in 28ms", delay_s=0.028)),
    ("rate_limit_exceeded", "Try Again In 2 seconds",
     ApiError(kind="retryable", message="Try Again In 2 seconds", delay_s=2.0)),
    ("rate_limit_exceeded", "slow down", ApiError(kind="retryable", message="slow down")),
    ("other_code", "try again in 3s", ApiError(kind="retryable", message="try again in 3s")),
]  # fmt: skip


@pytest.mark.parametrize(("code", "message", "expected"), FAILED)
def test_failed_classification_sse_reports_at_eof(
    code: str, message: str, expected: ApiError
) -> None:
    failed = {"type": "response.failed", "response": {"error": {"code": code, "message": message}}}
    proc = StreamProcessor(transport="sse", profile=EARLY)
    assert proc.feed(json.dumps(failed)) == []  # remembered, parsing goes on
    assert proc.feed(json.dumps({"type": "response.output_text.delta", "delta": "x"})) == [
        OutputTextDelta("x")
    ]
    assert proc.eof() == [Failed(expected)]


@pytest.mark.parametrize(("code", "message", "expected"), FAILED)
def test_failed_classification_websocket_is_terminal(
    code: str, message: str, expected: ApiError
) -> None:
    failed = {"type": "response.failed", "response": {"error": {"code": code, "message": message}}}
    assert run([failed], transport="websocket", eof=False) == [Failed(expected)]


@pytest.mark.parametrize("response", [{}, {"error": None}, {"error": {"code": 5}}])
def test_failed_without_parseable_error(response: dict[str, Any]) -> None:
    out = run([{"type": "response.failed", "response": response}])
    assert out == [stream_error("response.failed event received")]


def test_failed_without_response_is_ignored() -> None:
    assert run([{"type": "response.failed"}, COMPLETED]) == [DONE]


@pytest.mark.parametrize(
    ("response", "reason"),
    [({"incomplete_details": {"reason": "max_output_tokens"}}, "max_output_tokens"),
     ({}, "unknown"), (None, "unknown")],
)  # fmt: skip
def test_incomplete(response: Any, reason: str) -> None:
    out = run([{"type": "response.incomplete", "response": response}])
    assert out == [stream_error(f"Incomplete response returned, reason: {reason}")]


def test_response_done_completes_in_early_profile_only() -> None:
    done = {"type": "response.done", "response": {"id": "r1"}}
    assert run([done], transport="websocket", eof=False) == [
        Completed(response_id="r1", via_done=True)
    ]
    assert run([done], transport="websocket", profile=LATER) == [
        stream_error("stream closed before response.completed")
    ]


def test_websocket_rate_limits_event() -> None:
    event = {"type": "codex.rate_limits", "plan_type": "plus",
             "rate_limits": {"allowed": True, "limit_reached": False,
                             "primary": {"used_percent": 42, "window_minutes": 60,
                                         "reset_at": 1700000000}, "secondary": None},
             "credits": {"has_credits": True, "unlimited": False, "balance": "123"},
             "metered_limit_name": "codex", "promo": None}  # fmt: skip
    out = run([event], transport="websocket", eof=False)
    assert len(out) == 1 and isinstance(out[0], RateLimits)
    assert out[0].snapshot.primary == RateLimitWindow(
        used_percent=42.0, window_minutes=60, resets_at=1700000000
    )
    assert out[0].snapshot.plan_type == "plus"


def test_binary_frame_is_terminal() -> None:
    proc = StreamProcessor(transport="websocket", profile=EARLY)
    assert proc.binary() == [stream_error("unexpected binary websocket event")]
    assert proc.feed(json.dumps(COMPLETED)) == []


WRAPPED = {
    "type": "error",
    "status": 429,
    "error": {"type": "usage_limit_reached", "message": "limit", "plan_type": "pro"},
    "headers": {"x-codex-primary-used-percent": "100.0", "x-codex-primary-window-minutes": 15,
                "x-flag": True},
}  # fmt: skip


def test_wrapped_error_maps_like_http() -> None:
    raw = json.dumps(WRAPPED)
    proc = StreamProcessor(transport="websocket", profile=EARLY)
    out = proc.feed(raw)
    assert out == [Failed(ApiError(kind="http", status=429, url=None, body=raw, headers=Headers(
        (("x-codex-primary-used-percent", "100.0"), ("x-codex-primary-window-minutes", "15"),
         ("x-flag", "true")))))]  # fmt: skip


@pytest.mark.parametrize(
    ("event", "expected"),
    [({"type": "error", "error": {"code": "websocket_connection_limit_reached"}},
      ApiError(kind="retryable", message="Responses websocket connection limit reached (60 "
               "minutes). Create a new websocket connection to continue.")),
     ({"type": "error", "error": {"code": "websocket_connection_limit_reached", "message": "m"}},
      ApiError(kind="retryable", message="m")),
     ({"type": "error", "status_code": 503, "error": {}},
      "http")],
)  # fmt: skip
def test_wrapped_error_variants(event: dict[str, Any], expected: Any) -> None:
    out = run([event], transport="websocket", eof=False)
    if expected == "http":
        assert isinstance(out[0], Failed) and out[0].error.status == 503
    else:
        assert out == [Failed(expected)]


@pytest.mark.parametrize("event", [{"type": "error"}, {"type": "error", "status": 200}])
def test_wrapped_error_without_failure_status_is_ignored(event: dict[str, Any]) -> None:
    assert run([event, COMPLETED], transport="websocket", eof=False) == [DONE]


def test_response_model_field_is_never_a_server_model_source() -> None:
    events = [
        {"type": "response.created", "response": {"id": "r1", "model": "gpt-5.2"}},
        {"type": "response.completed", "response": {"id": "r1", "model": "gpt-5.3"}},
    ]
    for profile in (EARLY, LATER):
        assert run(events, profile=profile) == [Created("r1"), DONE]


def test_server_model_from_payload_headers_before_the_event_and_deduplicated() -> None:
    def headed(kind: str, model: str) -> dict[str, Any]:
        return {"type": kind, "response": {"id": "r1", "headers": {"OpenAI-Model": model}}}

    events = [
        headed("response.created", "gpt-5.2"),
        headed("response.in_progress", "gpt-5.2"),
        {"type": "response.completed",
         "response": {"id": "r1", "headers": {"openai-model": ["gpt-5.3", "x"]}}},
    ]  # fmt: skip
    for profile in (EARLY, LATER):
        assert run(events, profile=profile) == [
            ServerModel("gpt-5.2"), Created("r1"), ServerModel("gpt-5.3"), DONE
        ]  # fmt: skip


def test_payload_headers_read_in_both_profiles() -> None:
    events = [
        {"type": "response.created", "response": {"id": "r1", "model": "gpt-5.2"}},
        {"type": "response.created", "response": {"id": "r1", "headers": {"OpenAI-Model": ["m2"]}}},
        {"type": "codex.response.metadata", "headers": {"X-OpenAI-Model": " m3 "}},
        COMPLETED,
    ]
    for profile in (EARLY, LATER):
        assert run(events, profile=profile) == [
            Created("r1"), ServerModel("m2"), Created("r1"), ServerModel("m3"), DONE
        ]  # fmt: skip


def test_turn_state_from_metadata_event_only_in_later_profile() -> None:
    event = {"type": "response.metadata", "headers": {"X-Codex-Turn-State": "ts-9"}}
    assert run([event, COMPLETED], profile=LATER) == [TurnStateSeen("ts-9"), DONE]
    assert run([event, COMPLETED]) == [DONE]


def test_counts_by_type() -> None:
    proc = StreamProcessor(transport="sse", profile=EARLY)
    for event in [{"type": "a"}, {"type": "a"}, "junk", COMPLETED]:
        proc.feed(event if isinstance(event, str) else json.dumps(event))
    assert dict(proc.counts) == {"a": 2, "response.completed": 1}


def test_start_items_sse_order() -> None:
    headers = Headers.of(
        {"OpenAI-Model": "gpt-5.2", "x-codex-primary-used-percent": "12.5",
         "x-codex-other-primary-used-percent": "50", "X-Models-Etag": " e1 ",
         "x-reasoning-included": "false"}
    )  # fmt: skip
    assert start_items(headers, transport="sse") == [
        ServerModel("gpt-5.2"),
        RateLimits(RateLimitSnapshot(primary=RateLimitWindow(used_percent=12.5))),
        RateLimits(RateLimitSnapshot(limit_id="codex_other",
                                     primary=RateLimitWindow(used_percent=50.0))),
        ModelsEtag("e1"),
        ServerReasoningIncluded(),
    ]  # fmt: skip


def test_start_items_sse_always_has_default_rate_limits_and_websocket_none() -> None:
    assert start_items(Headers(), transport="sse") == [RateLimits(RateLimitSnapshot())]
    assert (
        start_items(Headers.of({"x-codex-primary-used-percent": "5"}), transport="websocket") == []
    )
