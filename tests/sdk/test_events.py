"""harness.sdk: the SDK-level surface's events, step arguments and known event types (pure)."""

from __future__ import annotations

import pytest

from harness.sdk import events as ev
from harness.sdk.known import RESPONSES_STREAM_EVENTS, RESPONSES_WS_EVENTS, recognised
from harness.sdk.steps import parse_send
from harness.vocabulary import vocabulary_problems


def test_error_events_keep_only_their_fields_in_range():
    event = ev.error_event("realtime.error", message="", code="x", http_status=99, close_code=1011, failure="closed", extra=1)
    assert event == {"type": "realtime.error", "message": "closed", "close_code": 1011, "failure": "closed"}
    assert vocabulary_problems(event) == []
    event = ev.error_event("error", message="m", code="c", http_status=503, request_id="", close_code=999, failure="")
    assert event == {"type": "error", "message": "m", "code": "c", "http_status": 503}
    assert vocabulary_problems(ev.error_event("error", message="m", close_code=1006, failure="dropped")) == []


def test_the_pass_through_keeps_every_field_and_is_in_the_vocabulary():
    frame = {"type": "x.future", "a": {"b": [1, None]}, "note": None}
    event = ev.unrecognized_event("realtime", "websocket", frame)
    assert event == {"type": "server.unrecognized_event", "api": "realtime", "transport": "websocket", "event": frame}
    assert event["event"] is not frame  # a copy: the caller's dict is not shared
    assert vocabulary_problems(event) == []


def test_the_responses_stream_maps_as_a_turn_reports_it():
    assert ev.responses_stream_events({"type": "response.created", "response": {"id": "r"}}) == [{"type": "responses.created", "response_id": "r"}]
    completed = ev.responses_stream_events({"type": "response.completed", "response": {"id": "r", "usage": {"input_tokens": 2, "output_tokens": 1, "total_tokens": 3}}})
    assert completed == [{"type": "responses.completed", "response_id": "r", "token_usage": {
        "input_tokens": 2, "cached_input_tokens": 0, "output_tokens": 1, "reasoning_output_tokens": 0, "total_tokens": 3}}]
    failed = ev.responses_stream_events({"type": "response.failed", "response": {"error": {"code": "server_error", "message": "boom"}}})
    assert failed == [{"type": "error", "message": "boom", "code": "server_error", "failure": "server_error"}]
    nested = ev.responses_stream_events({"type": "error", "status": 429, "error": {"code": "rate", "message": "slow"}})
    assert nested == [{"type": "error", "message": "slow", "code": "rate", "http_status": 429, "failure": "server_error"}]
    assert ev.responses_stream_events({"type": "response.in_progress"}) == []
    assert all(ev.is_terminal(e) for e in (*completed, *failed))


def test_the_realtime_surface_reports_session_updated_and_errors_only():
    assert ev.realtime_surface_events({"type": "session.updated", "session": {"id": "s", "instructions": "i"}}) == [
        {"type": "realtime.session_updated", "session_id": "s", "instructions": "i"}]
    assert ev.realtime_surface_events({"type": "error", "error": {"message": "nope"}}) == [
        {"type": "realtime.error", "message": "nope", "failure": "server_error"}]
    assert ev.realtime_surface_events({"type": "conversation.item.added", "item": {}}) == []


def test_recognised_types_are_per_api_and_transport():
    assert recognised("realtime", "websocket", "session.updated")
    assert not recognised("realtime", "websocket", "response.completed")  # the Responses event, not a realtime one
    assert recognised("responses", "sse", "response.completed")
    assert not recognised("responses", "sse", "response.steer.accepted")  # websocket only
    assert recognised("responses", "websocket", "response.steer.accepted")
    assert RESPONSES_WS_EVENTS - RESPONSES_STREAM_EVENTS == {"response.steer.accepted", "response.steer.failed", "response.steer.pending"}


@pytest.mark.parametrize(("args", "message"), [
    ({"transport": "tcp", "body": {}}, "transport must be websocket or http"),
    ({"transport": "http", "api": "realtime", "body": {"stream": True}}, "a Responses request"),
    ({"transport": "websocket", "body": {"model": "m"}}, "needs a string `type`"),
    ({"transport": "websocket", "body": []}, "body must be an object"),
])  # fmt: skip
def test_send_arguments_are_checked(args, message):
    with pytest.raises(ValueError, match=message):
        parse_send(args)


def test_send_defaults_to_the_responses_api():
    step = parse_send({"transport": "websocket", "body": {"type": "response.create"}})
    assert (step.api, step.transport, step.body) == ("responses", "websocket", {"type": "response.create"})
