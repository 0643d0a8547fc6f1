"""The real Codex CLI through its adapter: the mappings, and a few cases end to end.

The mapping tests need nothing installed. The end-to-end tests run codex 0.169.0 (its
app-server) as real subprocesses against the fake server on loopback, and are skipped
when it is absent (scripts/install-codex-cli.sh installs it). Their cases are inline so they pin
the adapter's mapping, not the evolving suite's snapshots.
"""

from __future__ import annotations

import asyncio
import os
import stat
import time
from pathlib import Path

import pytest

from harness.case.catalog import load_catalog
from harness.case.loader import parse_case_text
from harness.expectations import load_expectations
from harness.implementations import ImplementationUnavailable, adapter_for
from harness.impls import codex_cli
from harness.impls.codex_cli import mapping as ev
from harness.impls.codex_cli.adapter import EXPECTATIONS_FILES, REPORTED_EVENT_TYPES, tls_env
from harness.impls.codex_cli.config import OWNER_ENV, provider_table, toml_value
from harness.impls.codex_cli.logs import ResponsesLog, parse_line, realtime_event
from harness.impls.codex_cli.mapping import error_info
from harness.impls.codex_cli.realtime import notification_events
from harness.impls.codex_cli.responses_app import TurnMapper
from harness.impls.codex_cli.sequencer import Sequencer, variant_of
from harness.impls.codex_cli.texts import error_fields, neutral
from harness.paths import CASES_DIR
from harness.runner import judge, run_case
from harness.verdict.outcome import Outcome
from harness.vocabulary import vocabulary_problems


def _installed() -> bool:
    try:
        codex_cli.adapter()
    except ImplementationUnavailable:
        return False
    return True


needs_codex = pytest.mark.skipif(not _installed(), reason=codex_cli.INSTALL_HINT)


def case(text: str, name: str):
    return parse_case_text(text, file=Path(f"cases/foundation/{name}.yaml"))


def reported(run) -> list[dict]:
    """The run's events, each checked against the neutral vocabulary and the declared types."""
    events = [e for _, e in run.events]
    for event in events:
        assert vocabulary_problems(event) == [], event
        assert event["type"] in REPORTED_EVENT_TYPES, event
    return events


def codex_processes() -> list[str]:
    """Codex processes this test process started (marked with its pid) that still run."""
    marker = f"\0{OWNER_ENV}={os.getpid()}\0".encode()
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            environ = (Path("/proc") / pid / "environ").read_bytes()
        except OSError:
            continue
        if marker in b"\0" + environ:
            found.append(pid)
    return found


@pytest.fixture(scope="module")
def codex():
    return codex_cli.adapter()


@pytest.fixture(autouse=True)
def nothing_left_behind(request):
    yield
    if "codex" not in request.fixturenames:
        return
    deadline = time.monotonic() + 3
    while codex_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert codex_processes() == []


# -- without codex --------------------------------------------------------------------


def test_missing_binary_is_unavailable_with_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("WIREPLAY_CODEX_BIN", str(tmp_path / "absent"))
    with pytest.raises(ImplementationUnavailable, match=r"wireplay install codex-cli"):
        codex_cli.adapter()
    stand_in = adapter_for(impl="codex-cli")
    assert stand_in.capabilities == frozenset()
    assert "wireplay install codex-cli" in stand_in.reason


def test_another_version_is_unavailable(monkeypatch, tmp_path):
    fake = tmp_path / "codex"
    fake.write_text("#!/bin/sh\necho codex-cli 0.1.0\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("WIREPLAY_CODEX_BIN", str(fake))
    with pytest.raises(ImplementationUnavailable, match=r"0\.169\.0 is not installed.*reports '0\.1\.0'"):
        codex_cli.adapter()


def test_the_expectations_file_is_valid_and_names_only_suite_cases():
    known = load_expectations(list(EXPECTATIONS_FILES))
    assert all(entry.why and "\n" not in entry.why for entry in known.values())
    ids = {entry.id for entry in load_catalog([str(CASES_DIR)])}
    assert set(known) <= ids, sorted(set(known) - ids)


def test_config_values_are_toml_literals():
    assert toml_value({"a b": 'x"y', "n": 3, "on": True}) == '{"a b"="x\\"y", "n"=3, "on"=true}'
    assert toml_value(["é", 1.5]) == '["é", 1.5]'


def test_provider_without_a_key_names_no_env_key():
    table = provider_table(base_url="http://127.0.0.1:1/v1", api_key=None, query_params={"n": 1, "b": False})
    assert "env_key" not in table
    assert table["query_params"] == {"n": "1", "b": "false"}
    assert provider_table(base_url="u", api_key="sk", websockets=True)["supports_websockets"] is True


def test_tls_env_is_the_case_env_whole_or_the_run_ca():
    from harness.adapters.base import Endpoint

    endpoint = Endpoint(origin="https://h", base_url="https://h/v1", ca_file="/ca.pem")
    assert tls_env(endpoint=endpoint, config={}) == {"CODEX_CA_CERTIFICATE": "/ca.pem"}
    assert tls_env(endpoint=endpoint, config={"tls": {"env": {}}}) == {}
    assert tls_env(endpoint=endpoint, config={"tls": {"env": {"SSL_CERT_FILE": "/x"}}}) == {"SSL_CERT_FILE": "/x"}


def test_exec_notices_map_to_reroute_and_stream_errors():
    assert ev.parse_reroute("model rerouted: gpt-a -> gpt-b (HighRiskCyberActivity)") == {
        "type": "turn.model_reroute", "from_model": "gpt-a", "to_model": "gpt-b", "reason": "high_risk_cyber_activity",
    }
    assert ev.parse_reroute("something else") is None
    assert ev.parse_reconnect("Reconnecting... 2/5 (stream disconnected before completion: x (y))") == {
        "type": "turn.stream_error", "message": "Reconnecting... 2/5", "details": "stream disconnected before completion: x (y)",
    }
    assert ev.parse_reconnect("Reconnecting... waiting for network (Connection failed)") is None
    assert ev.is_model_metadata_notice("Model metadata for `gpt-test` not found. Defaulting to fallback metadata.")


def test_error_codes_come_from_codex_error_info():
    assert error_info({"httpConnectionFailed": {"httpStatusCode": 401}}) == {"code": "http_connection_failed", "http_status": 401}
    assert error_info({"responseStreamDisconnected": {"httpStatusCode": None}}) == {"code": "response_stream_disconnected"}
    assert error_info("usageLimitExceeded") == {"code": "usage_limit_exceeded"}
    assert error_info(None) == {}
    assert ev.error_event("m", None) == {"type": "error", "message": "m"}


def test_error_texts_give_status_and_request_id_fields():
    text = "unexpected status 401 Unauthorized: bad key, url: http://h/v1/responses, cf-ray: ray-1, request id: req_1"
    assert error_fields(text) == {"http_status": 401, "request_id": "req_1"}
    assert error_fields("unexpected status 401 Unauthorized: k, url: u, request id: req_2, auth error: invalid_api_key, auth error code: x") == {
        "http_status": 401, "request_id": "req_2"}
    assert error_fields("exceeded retry limit, last status: 429 Too Many Requests, request id: req_429") == {"http_status": 429, "request_id": "req_429"}
    assert error_fields("Access blocked by Cloudflare. Try again (status 403 Forbidden), url: http://h/v1/responses, cf-ray: c") == {"http_status": 403}
    assert error_fields("unexpected status 503 Service Unavailable: realtime websocket handshake failed") == {"http_status": 503}
    assert error_fields("You\u2019ve hit your usage limit.") == {}
    assert ev.error_event(text, None) == {"type": "error", "message": text, "http_status": 401, "request_id": "req_1"}
    assert notification_events("thread/realtime/error", {"message": "unexpected status 403 Forbidden: realtime websocket handshake failed"}) == [
        {"type": "realtime.error", "message": "unexpected status 403 Forbidden: realtime websocket handshake failed", "http_status": 403}]
    # the app-server's top-level error carries codex's class (observed: not running → badRequest)
    not_running = {"error": {"message": "conversation is not running", "codexErrorInfo": "badRequest"}, "willRetry": False}
    assert notification_events("error", not_running) == [{"type": "error", "message": "conversation is not running", "code": "bad_request"}]


def test_library_texts_become_the_reference_neutral_texts():
    prefix = "stream disconnected before completion: failed to connect realtime websocket: "
    assert neutral(prefix + "IO error: Connection reset by peer (os error 104)") == prefix + "connection reset"
    assert neutral(prefix + "IO error: invalid peer certificate: UnknownIssuer") == prefix + "certificate verify failed"
    assert neutral(prefix + "WebSocket protocol error: Connection reset without closing handshake") == (
        prefix + "connection closed without a closing handshake")
    assert neutral("Connection refused (os error 111)") == "connection failed"
    # Codex's own texts, and library texts whose cause they do not show, are kept.
    for kept in ("stream disconnected before completion: idle timeout waiting for SSE",
                 "stream disconnected before completion: Transport error: network error: error decoding response body",
                 "failed to configure websocket TLS: Failed to read CA certificate file /x selected by SSL_CERT_FILE: No such file or directory (os error 2)"):
        assert neutral(kept) == kept
    assert ev.parse_reconnect("Reconnecting... 1/2 (" + prefix + "IO error: Connection reset by peer (os error 104))")["details"] == prefix + "connection reset"
    assert ev.warning("Falling back from WebSockets to HTTPS transport. " + prefix + "IO error: invalid peer certificate: Expired") == {
        "type": "warning", "message": "Falling back from WebSockets to HTTPS transport. " + prefix + "certificate verify failed"}


_TS = "2026-12-06T04:10:39.036825Z  INFO session_loop{thread_id=t}:turn{model=m}: "


def _logged(*lines: str, auth_tags: bool = True) -> tuple[list[dict], list[tuple[str, str]]]:
    events: list[dict] = []
    retries: list[tuple[str, str]] = []
    log = ResponsesLog(emit=events.append, auth_tags=auth_tags, on_stream_error=lambda m, d: retries.append((m, d)))
    for line in lines:
        record = parse_line(line)
        assert record is not None, line
        log.feed(record)
    log.flush()
    for event in events:
        assert vocabulary_problems(event) == [], event
    return events, retries


def test_log_lines_of_other_targets_are_not_read():
    assert parse_line("2026-12-06T04:10:38.869Z DEBUG codex.exec{x=1}: codex_core::exec_policy: loaded rules from 0 files") is None
    assert parse_line("WARNING: proceeding, even though we could not create PATH aliases") is None


def test_otel_request_records_become_telemetry_and_auth_events():
    events, _ = _logged(
        _TS + 'codex_otel.log_only: event.name="codex.api_request" duration_ms=24 http.response.status_code=401 error.message="http 401" '
        'attempt=0 auth.header_attached=true endpoint="/responses" auth.request_id="req_1" event.timestamp=2026-12-06T04:10:39.036Z model=m',
        _TS + 'feedback_tags: endpoint="/responses" auth_header_attached=true auth_header_name="authorization" auth_mode="ApiKey" '
        'auth_retry_after_unauthorized="false" auth_recovery_mode="" auth_recovery_phase="" auth_connection_reused="" auth_request_id="req_1" '
        'auth_cf_ray="ray" auth_error="" auth_error_code="" auth_recovery_followup_success="" auth_recovery_followup_status="" auth_env_provider_key_present="true"',
        _TS + 'codex_otel.log_only: event.name="codex.auth_recovery" auth.mode="managed" auth.step="reload" auth.outcome="recovery_not_run" '
        'auth.request_id="req_1" auth.recovery_reason="not_chatgpt_auth" event.timestamp=2026-12-06T04:10:39.036Z',
        _TS + 'feedback_tags: auth_recovery_mode="managed" auth_recovery_phase="reload" auth_recovery_outcome="recovery_not_run" '
        'auth_401_request_id="req_1" auth_401_cf_ray="ray" auth_401_error="" auth_401_error_code=""',
        _TS + 'codex_otel.log_only: event.name="codex.api_request" duration_ms=15 http.response.status_code=200 attempt=1 auth.header_attached=true',
        _TS + 'codex_otel.log_only: event.name="codex.sse_event" event.kind=response.created duration_ms=0 event.timestamp=x',
        _TS + 'codex_otel.log_only: event.name="codex.sse_event" event.kind=response.output_text.delta duration_ms=0',
        _TS + 'codex_otel.log_only: event.name="codex.sse_event" event.kind=response.output_text.delta duration_ms=0',
        _TS + 'codex_otel.log_only: event.name="codex.sse_event" event.kind=response.completed duration_ms=0',
    )
    assert events == [
        {"type": "telemetry.request", "transport": "http", "attempt": 1, "status": 401, "duration_ms": 24.0, "error": "http 401"},
        {"type": "auth.request", "request_kind": "api_request", "endpoint": "/responses", "auth_header_attached": True,
         "auth_retry_after_unauthorized": False, "auth_header_name": "authorization", "auth_mode": "ApiKey", "auth_recovery_mode": "",
         "auth_recovery_phase": "", "auth_request_id": "req_1", "auth_cf_ray": "ray", "auth_error": "", "auth_error_code": ""},
        {"type": "auth.recovery", "auth_recovery_mode": "managed", "auth_recovery_phase": "reload", "auth_recovery_outcome": "recovery_not_run",
         "auth_401_request_id": "req_1", "auth_401_cf_ray": "ray", "auth_401_error": "", "auth_401_error_code": "", "recovery_reason": "not_chatgpt_auth"},
        {"type": "telemetry.request", "transport": "http", "attempt": 2, "status": 200, "duration_ms": 15.0},
        {"type": "telemetry.events", "transport": "http", "counts": {"response.completed": 1, "response.created": 1, "response.output_text.delta": 2}},
    ]
    # Without an auth config the auth events are not reported, as the vocabulary has it.
    assert [e["type"] for e in _logged(*[], auth_tags=False)[0]] == []


def test_websocket_records_and_the_logged_retry():
    events, retries = _logged(
        _TS + 'codex_otel.log_only: event.name="codex.websocket_connect" duration_ms=15 http.response.status_code=503 success="false" '
        'error.message="http 503" auth.header_attached=true endpoint="/responses" auth.connection_reused=false',
        _TS + 'codex_otel.log_only: event.name="codex.websocket_connect" duration_ms=28 success="true" auth.header_attached=true',
        _TS + 'codex_otel.log_only: event.name="codex.websocket_request" duration_ms=0 success="true" auth.connection_reused=false',
        "2026-12-06T04:17:29.812090Z  WARN session_loop{thread_id=t}: codex_core::responses_retry: stream disconnected - retrying sampling "
        "request (1/1 in 209ms)... turn_id=t1 retries=1 max_retries=1 sampling_error=stream disconnected before completion: IO error: "
        "Connection reset by peer (os error 104)",
        _TS + 'codex_otel.log_only: event.name="codex.websocket_request" duration_ms=1 success="true" auth.connection_reused=true',
        auth_tags=False,
    )
    assert events == [
        {"type": "telemetry.ws_connect", "duration_ms": 15.0, "success": False, "status": 503, "error": "http 503"},
        {"type": "telemetry.ws_connect", "duration_ms": 28.0, "success": True, "status": 101},
        {"type": "telemetry.request", "transport": "websocket", "attempt": 1, "duration_ms": 0.0},
        {"type": "turn.retry_scheduled", "attempt": 1, "max_retries": 1, "delay_ms": 209},
        {"type": "telemetry.request", "transport": "websocket", "attempt": 2, "duration_ms": 1.0},
    ]
    assert retries == [("Reconnecting... 1/1", "stream disconnected before completion: IO error: Connection reset by peer (os error 104)")]


@pytest.mark.parametrize(("shown", "delay_ms"), [("1.5s", 1500), ("230.412ms", 230), ("0ns", 0), ("900µs", 1), ("2s", 2000)])
def test_the_retry_delay_codex_logs_as_rust_prints_a_duration(shown, delay_ms):
    events = []
    log = ResponsesLog(emit=events.append)
    record = parse_line(f"2026-12-06T04:17:29.812090Z  WARN codex_core::responses_retry: stream disconnected - retrying sampling request (2/5 in {shown})... retries=2")
    assert record is not None
    log.feed(record)
    assert events == [{"type": "turn.retry_scheduled", "attempt": 2, "max_retries": 5, "delay_ms": delay_ms}]


def test_parsed_realtime_events_codex_logs():
    assert realtime_event('SessionUpdated { realtime_session_id: "sess_1", instructions: Some("be \\"brief\\"") }') == {
        "type": "realtime.session_updated", "session_id": "sess_1", "instructions": 'be "brief"'}
    assert realtime_event('SessionUpdated { realtime_session_id: "sess_2", instructions: None }') == {
        "type": "realtime.session_updated", "session_id": "sess_2"}
    assert realtime_event('ConversationItemDone { item_id: "item_1" }') == {"type": "realtime.item_done", "item_id": "item_1"}
    assert realtime_event('ResponseCreated(RealtimeResponseCreated { response_id: Some("resp_1") })') == {
        "type": "realtime.item_added", "item": {"type": "response.created", "response": {"id": "resp_1"}}}
    assert realtime_event("ResponseDone(RealtimeResponseDone { response_id: None })") == {
        "type": "realtime.item_added", "item": {"type": "response.done"}}
    assert realtime_event('OutputTranscriptDelta(RealtimeTranscriptDelta { delta: "hi" })') is None  # relayed by the app-server
    line = ('2026-12-06T04:17:10.39Z DEBUG codex_api::endpoint::realtime_websocket::methods: realtime websocket parsed event '
            'event=ConversationItemDone { item_id: "item_msg" }')
    record = parse_line(line)
    assert record is not None and variant_of(record.fields["event"]) == "ConversationItemDone"
    assert transcript_done_is_the_completed_input_transcription()


def transcript_done_is_the_completed_input_transcription() -> bool:
    assert notification_events("thread/realtime/transcript/done", {"role": "user", "text": "what time is it"}) == [
        {"type": "realtime.input_transcript_delta", "delta": "what time is it"}]
    return notification_events("thread/realtime/transcript/done", {"role": "assistant", "text": "x"}) == []


def test_log_only_realtime_events_keep_codex_order():
    asyncio.run(_sequencer_keeps_codex_order())


async def _sequencer_keeps_codex_order() -> None:
    out: list[dict] = []
    seq = Sequencer(out.append, hold=0.05)
    added = {"type": "realtime.item_added", "item": {"id": "i"}}
    done = {"type": "realtime.item_done", "item_id": "i"}
    # Log: item added (relayed), item done (log only); the notification comes after both lines.
    seq.logged("ConversationItemAdded", None)
    seq.logged("ConversationItemDone", done)
    assert out == []
    seq.notified("itemAdded", [added])
    assert out == [added, done]
    # A relayed event whose notification never comes holds the log-only one only briefly.
    out.clear()
    seq.logged("AudioOut", None)
    seq.logged("ConversationItemDone", done)
    await asyncio.sleep(0.1)
    assert out == [done]
    # A notification read before its log line is not waited for again.
    out.clear()
    seq.notified("transcript/delta", [{"type": "realtime.output_transcript_delta", "delta": "x"}])
    seq.logged("OutputTranscriptDelta", None)
    seq.logged("ConversationItemDone", done)
    assert out == [{"type": "realtime.output_transcript_delta", "delta": "x"}, done]
    # What codex parses after a start waits for `started`, however late that notification is read.
    out.clear()
    started = {"type": "conversation.started", "session_id": "s", "version": "v2"}
    seq.gate("started", timeout=1.0)
    seq.logged("SessionUpdated", {"type": "realtime.session_updated", "session_id": "x"})
    seq.logged("ConversationItemAdded", None)
    seq.logged("ConversationItemDone", done)
    seq.notified("started", [started])
    assert out == [started, {"type": "realtime.session_updated", "session_id": "x"}]
    seq.notified("itemAdded", [added])
    assert out == [started, {"type": "realtime.session_updated", "session_id": "x"}, added, done]
    seq.close()


def test_stored_items_lose_codex_bookkeeping_only():
    stored = {
        "type": "function_call", "status": "completed", "id": "fc_01a212c0-033b-77e3-90dc-2847d07915f2",
        "name": "exec_command", "arguments": "{}", "call_id": "call_1", "namespace": None,
        "internal_chat_message_metadata_passthrough": {"turn_id": "t"}, "metadata": {"history_sequence": 4},
    }
    item = ev.output_item(stored)
    assert item == {"type": "function_call", "status": "completed", "name": "exec_command", "arguments": "{}", "call_id": "call_1"}
    assert ev.output_item({**stored, "id": "fc_1"})["id"] == "fc_1"
    assert ev.output_item({"type": "message", "role": "user", "content": []}) is None
    assert ev.output_item({"type": "function_call_output", "call_id": "c"}) is None
    assert ev.tool_call_event(item) == {"type": "turn.tool_call", "call_id": "call_1", "name": "exec_command", "arguments": "{}"}
    shell = {"type": "local_shell_call", "call_id": "c", "status": "completed", "action": {"type": "exec", "command": ["ls"], "timeout_ms": None}}
    assert ev.output_item(shell)["action"] == {"type": "exec", "command": ["ls"]}  # codex's nulls, nested too


def test_turn_notifications_map_to_turn_events():
    out: list[dict] = []
    retries: list[tuple[str, str]] = []
    turn = TurnMapper(out.append, stream_error=lambda m, d: retries.append((m, d)))
    turn.begin()
    usage = {"totalTokens": 18, "inputTokens": 11, "cachedInputTokens": 3, "cacheWriteInputTokens": 0, "outputTokens": 7, "reasoningOutputTokens": 2}
    for method, params in [
        ("turn/started", {"turn": {"id": "t1"}}),
        ("rawResponseItem/completed", {"turnId": "t1", "item": {"type": "message", "role": "user", "content": []}}),
        ("error", {"turnId": "t1", "willRetry": True, "error": {"message": "Reconnecting... 1/1", "additionalDetails": "stream disconnected before completion: x"}}),
        ("model/rerouted", {"turnId": "t1", "fromModel": "a", "toModel": "b", "reason": "highRiskCyberActivity"}),
        ("item/agentMessage/delta", {"turnId": "t1", "itemId": "m", "delta": "hi"}),
        ("rawResponseItem/completed", {"turnId": "t1", "item": {"type": "message", "id": "m", "role": "assistant", "content": [], "phase": None}}),
        ("rawResponse/completed", {"turnId": "t1", "responseId": "resp_1", "usage": usage}),
        ("thread/tokenUsage/updated", {"turnId": "t1", "tokenUsage": {"total": usage, "last": usage}}),
        ("error", {"turnId": "t1", "willRetry": False, "error": {"message": "You\u2019ve hit your usage limit.", "codexErrorInfo": "usageLimitExceeded"}}),
        ("turn/completed", {"turn": {"id": "t1", "status": "failed"}}),
    ]:
        turn.on(method, params)
    turn.end()
    tokens = {"input_tokens": 11, "cached_input_tokens": 3, "output_tokens": 7, "reasoning_output_tokens": 2, "total_tokens": 18}
    assert out == [
        {"type": "turn.started", "turn_id": "t1"},
        {"type": "turn.model_reroute", "from_model": "a", "to_model": "b", "reason": "high_risk_cyber_activity"},
        {"type": "responses.output_text_delta", "delta": "hi"},
        {"type": "responses.output_item_done", "item": {"type": "message", "id": "m", "role": "assistant", "content": []}},
        {"type": "responses.completed", "response_id": "resp_1", "token_usage": tokens},
        {"type": "error", "message": "You\u2019ve hit your usage limit.", "code": "usage_limit_exceeded"},
        {"type": "turn.completed", "status": "failed", "token_usage": tokens},
    ]
    assert retries == [("Reconnecting... 1/1", "stream disconnected before completion: x")]
    for event in out:
        assert vocabulary_problems(event) == [], event


def test_app_server_notifications_map_to_realtime_events():
    n = notification_events
    assert n("thread/realtime/started", {"threadId": "t", "realtimeSessionId": None, "version": "v2"}) == [
        {"type": "conversation.started", "session_id": "t", "version": "v2"}]
    assert n("thread/realtime/closed", {"reason": "transport_closed"}) == [{"type": "conversation.closed", "reason": "transport_closed"}]
    assert n("thread/realtime/transcript/delta", {"role": "user", "delta": "hi"}) == [{"type": "realtime.input_transcript_delta", "delta": "hi"}]
    assert n("thread/realtime/itemAdded", {"item": {"type": "handoff_request", "handoff_id": "h", "item_id": "i",
                                                    "input_transcript": "go", "active_transcript": [{"role": "user", "text": "go"}]}}) == [
        {"type": "realtime.handoff_requested", "handoff_id": "h", "item_id": "i", "input_transcript": "go",
         "active_transcript": [{"role": "user", "text": "go"}]}]
    assert n("thread/realtime/itemAdded", {"item": {"type": "input_audio_buffer.speech_started", "item_id": None}}) == [
        {"type": "realtime.speech_started"}]
    assert n("thread/realtime/itemAdded", {"item": {"type": "message", "id": "m"}}) == [
        {"type": "realtime.item_added", "item": {"type": "message", "id": "m"}}]
    assert n("error", {"error": {"message": "conversation is not running"}, "willRetry": False}) == [
        {"type": "error", "message": "conversation is not running"}]
    assert n("error", {"error": {"message": "Reconnecting... 1/5"}, "willRetry": True}) == []
    assert n("thread/realtime/transcript/done", {"role": "assistant", "text": "x"}) == []


# -- with codex -----------------------------------------------------------------------


@needs_codex
def test_adapter_declares_what_codex_can_do(codex):
    assert (codex.name, codex.version) == ("codex-cli", "0.169.0")
    assert {"responses.sse", "responses.ws", "responses.tool_outputs", "realtime.v1", "realtime.v2"} <= codex.capabilities
    assert "realtime.transcription" in codex.capabilities
    assert not codex.capabilities & {"profiles", "responses.ws.v1", "realtime.handoff_output", "auth.chatgpt", "auth.external"}
    assert codex.expectations_files == EXPECTATIONS_FILES


@needs_codex
def test_sse_turn_reports_reroute_items_and_usage(codex):
    c = case(
        """
id: foundation.codex.sse-turn
title: one SSE turn with a reroute header, a reasoning item, a message and usage
seed: foundation
requires: [responses.sse]
client:
  config:
    responses: {model: gpt-test, api_key: sk-test-codex, request_max_retries: 0, stream_max_retries: 0, headers: {x-case: c1}, query_params: {scenario: s1}}
  steps:
    - responses.turn: {input: hello}
server:
  exchanges:
    - http: {method: POST, path: /v1/responses}
      expect:
        query: {scenario: s1}
        headers: {authorization: Bearer sk-test-codex, x-case: c1, accept: text/event-stream}
        body: {model: gpt-test, stream: true}
      respond:
        headers: {openai-model: gpt-other}
        sse:
          - event: {type: response.created, response: {id: resp_1}}
          - event: {type: response.output_item.done, output_index: 0, item: {type: reasoning, id: rs_1, summary: [{type: summary_text, text: thinking}]}}
          - event: {type: response.output_item.done, output_index: 1, item: {type: message, status: completed, id: msg_1, role: assistant, content: [{type: output_text, text: hi there, annotations: []}]}}
          - event: {type: response.completed, response: {id: resp_1, usage: {input_tokens: 11, input_tokens_details: {cached_tokens: 3}, output_tokens: 7, output_tokens_details: {reasoning_tokens: 2}, total_tokens: 18}}}
""",
        "codex-sse",
    )
    run = run_case(c, adapter=codex)
    events = reported(run)
    telemetry = [e for e in events if e["type"].startswith("telemetry.")]
    events = [e for e in events if not e["type"].startswith("telemetry.")]
    assert [e["type"] for e in events] == [
        "turn.started", "turn.model_reroute", "warning", "responses.output_item_done", "responses.output_item_done",
        "responses.completed", "turn.completed",
    ], events
    assert events[1] == {"type": "turn.model_reroute", "from_model": "gpt-test", "to_model": "gpt-other", "reason": "high_risk_cyber_activity"}
    assert events[3]["item"] == {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "thinking"}]}
    assert events[4]["item"]["content"][0]["text"] == "hi there"
    tokens = {"input_tokens": 11, "cached_input_tokens": 3, "output_tokens": 7, "reasoning_output_tokens": 2, "total_tokens": 18}
    assert events[5] == {"type": "responses.completed", "response_id": "resp_1", "token_usage": tokens}
    assert events[6] == {"type": "turn.completed", "status": "completed", "token_usage": tokens}
    # codex's own records (codex.api_request, codex.sse_event per event) as telemetry.
    assert [{k: v for k, v in e.items() if k != "duration_ms"} for e in telemetry] == [
        {"type": "telemetry.request", "transport": "http", "attempt": 1, "status": 200},
        {"type": "telemetry.events", "transport": "http", "counts": {"response.completed": 1, "response.created": 1, "response.output_item.done": 2}},
    ]
    result = judge(run)
    assert result.outcome is Outcome.PASS, result.detail


@needs_codex
def test_stream_retry_then_401_fails_the_turn(codex):
    c = case(
        """
id: foundation.codex.sse-401
title: a dropped stream is retried once, then a 401 fails the turn with codex's error info
seed: foundation
requires: [responses.sse]
client:
  config:
    responses: {model: gpt-test, api_key: sk-test-codex, request_max_retries: 0, stream_max_retries: 1}
  steps:
    - responses.turn: {input: hello}
server:
  exchanges:
    - http: {method: POST, path: /v1/responses}
      respond:
        end: drop
        sse:
          - event: {type: response.created, response: {id: resp_1}}
    - http: {method: POST, path: /v1/responses}
      respond: {status: 401, headers: {x-request-id: req_1}, json: {error: {message: bad key}}}
expect:
  wire:
    - of: {kind: http, path: /v1/responses}
      count: 2
""",
        "codex-401",
    )
    run = run_case(c, adapter=codex)
    events = [e for e in reported(run) if not e["type"].startswith("telemetry.")]
    assert [e["type"] for e in events] == ["turn.started", "turn.retry_scheduled", "turn.stream_error", "error", "turn.completed"], events
    assert events[1]["attempt"] == 1 and events[1]["max_retries"] == 1 and events[1]["delay_ms"] >= 0
    assert events[2]["message"] == "Reconnecting... 1/1"
    assert events[3]["code"] == "http_connection_failed" and events[3]["http_status"] == 401
    assert events[3]["request_id"] == "req_1"  # shown only in codex's text: `…, request id: req_1`
    assert events[3]["message"].startswith("unexpected status 401 Unauthorized: bad key, url: http://127.0.0.1:")
    assert events[4] == {"type": "turn.completed", "status": "failed"}
    result = judge(run)
    assert result.outcome is Outcome.PASS, result.detail


@needs_codex
def test_turns_share_one_session(codex):
    c = case(
        """
id: foundation.codex.two-turns
title: the second turn carries the first turn's exchange as history, in the same session
seed: foundation
requires: [responses.sse]
client:
  config:
    responses: {model: gpt-test, api_key: sk-test-codex, request_max_retries: 0, stream_max_retries: 0}
  steps:
    - responses.turn: {input: first question}
    - responses.turn: {input: second question}
server:
  exchanges:
    - http: {method: POST, path: /v1/responses}
      respond:
        sse:
          - event: {type: response.output_item.done, output_index: 0, item: {type: message, id: msg_1, role: assistant, content: [{type: output_text, text: first answer, annotations: []}]}}
          - event: {type: response.completed, response: {id: resp_1}}
    - http: {method: POST, path: /v1/responses}
      respond:
        sse:
          - event: {type: response.completed, response: {id: resp_2}}
""",
        "codex-two-turns",
    )
    run = run_case(c, adapter=codex)
    assert [e["type"] for e in reported(run) if not e["type"].startswith("telemetry.")] == [
        "turn.started", "responses.output_item_done", "responses.completed", "turn.completed",
        "turn.started", "responses.completed", "turn.completed",
    ]
    first, second = [r for r in run.wire_log if r.get("kind") == "request"]
    texts = [part.get("text") for item in second["body"]["input"] for part in item.get("content") or []]
    assert texts[-3:] == ["first question", "first answer", "second question"]
    # One client session: the same session id on both turns' requests.
    assert dict(first["headers"])["session-id"] == dict(second["headers"])["session-id"]
    result = judge(run)
    assert result.outcome is Outcome.PASS, result.detail


@needs_codex
def test_websocket_session_reuses_the_socket_and_chains(codex):
    c = case(
        """
id: foundation.codex.ws-session
title: turn two goes over turn one's socket, chained on turn one's response
seed: foundation
requires: [responses.ws]
client:
  config:
    responses: {model: gpt-test, api_key: sk-test-codex, transport: websocket, request_max_retries: 0, stream_max_retries: 0}
  steps:
    - responses.turn: {input: one}
    - responses.turn: {input: two}
server:
  exchanges:
    - websocket: {path: /v1/responses}
      script:
        - expect: {type: response.create}
        - send: {type: response.completed, response: {id: resp_1}}
        - expect: {type: response.create, previous_response_id: resp_1}
        - send: {type: response.completed, response: {id: resp_2}}
expect:
  wire:
    - of: {kind: websocket}
      count: 1
""",
        "codex-ws-session",
    )
    run = run_case(c, adapter=codex)
    reported(run)
    result = judge(run)
    assert result.outcome is Outcome.PASS, result.detail


@needs_codex
def test_the_fallback_to_http_is_sticky_for_the_session(codex):
    c = case(
        """
id: foundation.codex.sticky-fallback
title: after a 426 upgrade, turn two goes straight to HTTP
seed: foundation
requires: [responses.ws]
client:
  config:
    responses: {model: gpt-test, api_key: sk-test-codex, transport: websocket, request_max_retries: 0, stream_max_retries: 0}
  steps:
    - responses.turn: {input: one}
    - responses.turn: {input: two}
server:
  exchanges:
    - websocket: {path: /v1/responses}
      reject: {status: 426}
    - http: {method: POST, path: /v1/responses}
      times: 2
      respond:
        sse:
          - event: {type: response.completed, response: {id: resp_1}}
expect:
  wire:
    - of: {kind: websocket}
      count: 1
""",
        "codex-sticky-fallback",
    )
    run = run_case(c, adapter=codex)
    reported(run)
    result = judge(run)
    assert result.outcome is Outcome.PASS, result.detail


@needs_codex
def test_a_configured_tool_is_answered_with_the_scripted_output(codex):
    c = case(
        """
id: foundation.codex.dynamic-tool
title: a call to a tool the case configures gets the step's scripted output (codex's dynamic tool)
seed: foundation
requires: [responses.sse, responses.tool_outputs]
client:
  config:
    responses:
      model: gpt-test
      api_key: sk-test-codex
      request_max_retries: 0
      stream_max_retries: 0
      tools: [{type: function, name: get_weather, description: the weather, parameters: {type: object, properties: {city: {type: string}}}}]
  steps:
    - responses.turn: {input: weather?, tool_outputs: {call_1: sunny}}
server:
  exchanges:
    - http: {method: POST, path: /v1/responses}
      expect:
        body: {tools: {$contains: [{type: function, name: get_weather}]}}
      respond:
        sse:
          - event: {type: response.output_item.done, output_index: 0, item: {type: function_call, id: fc_1, call_id: call_1, name: get_weather, arguments: "{\\"city\\": \\"x\\"}"}}
          - event: {type: response.completed, response: {id: resp_1}}
    - http: {method: POST, path: /v1/responses}
      expect:
        body: {input: {$contains: [{type: function_call_output, call_id: call_1, output: sunny}]}}
      respond:
        sse:
          - event: {type: response.completed, response: {id: resp_2}}
expect:
  events:
    - sequence:
        - {type: turn.tool_call, call_id: call_1, name: get_weather}
        - {type: turn.completed, status: completed}
""",
        "codex-dynamic-tool",
    )
    run = run_case(c, adapter=codex)
    reported(run)
    result = judge(run)
    assert result.outcome is Outcome.PASS, result.detail


@needs_codex
def test_realtime_v2_through_the_app_server(codex):
    c = case(
        """
id: foundation.codex.realtime-v2
title: start, an assistant transcript, and a requested close through codex app-server
seed: realtime-conversation-manager
requires: [realtime.v2]
client:
  config:
    realtime: {version: v2, api_key: sk-test-codex}
  steps:
    - realtime.start: {prompt: be brief, session_id: sess-1}
    - wait: {event: {type: realtime.output_transcript_delta}}
    - realtime.close: {}
server:
  exchanges:
    - websocket: {path: /v1/realtime}
      expect: {headers: {authorization: Bearer sk-test-codex, x-session-id: sess-1}}
      script:
        - expect: {type: session.update, session: {type: realtime, instructions: be brief}}
        - send: {type: response.output_audio_transcript.delta, event_id: e1, response_id: r1, item_id: i1, output_index: 0, content_index: 0, delta: hello}
expect:
  events:
    - exact:
        - {type: conversation.started, session_id: sess-1, version: v2}
        - {type: realtime.output_transcript_delta, delta: hello}
        - {type: conversation.closed, reason: requested}
""",
        "codex-realtime",
    )
    run = run_case(c, adapter=codex)
    reported(run)
    result = judge(run)
    assert result.outcome is Outcome.PASS, result.detail


@needs_codex
def test_codex_log_gives_auth_tags_and_the_hidden_websocket_retry(codex):
    c = case(
        """
id: foundation.codex.ws-log
title: a reset websocket turn is retried; codex's log shows the retry, the telemetry and the auth tags
seed: foundation
requires: [responses.ws]
client:
  config:
    responses: {model: gpt-test, transport: websocket, request_max_retries: 0, stream_max_retries: 1, auth: {mode: api_key, api_key: sk-test-codex}}
  steps:
    - responses.turn: {input: hello}
server:
  exchanges:
    - websocket: {path: /v1/responses}
      script:
        - expect: {type: response.create}
        - reset: {}
    - websocket: {path: /v1/responses}
      script:
        - expect: {type: response.create}
        - send: {type: response.completed, response: {id: resp_2}}
expect:
  events:
    - sequence:
        - {type: turn.stream_error, message: Reconnecting... 1/1, details: "stream disconnected before completion: connection reset"}
        - {type: turn.completed, status: completed}
""",
        "codex-ws-log",
    )
    run = run_case(c, adapter=codex)
    events = reported(run)
    kinds = [e["type"] for e in events]
    # exec shows no `Reconnecting... 1/1` on the websocket: only codex's log has the retry.
    assert kinds.count("turn.stream_error") == 1
    assert [e["success"] for e in events if e["type"] == "telemetry.ws_connect"] == [True, True]
    assert [e["attempt"] for e in events if e["type"] == "telemetry.request"] == [1, 1, 2]  # the prewarm, the turn, its retry
    tags = [e for e in events if e["type"] == "auth.request"]
    assert [t["request_kind"] for t in tags] == ["websocket_connect", "websocket_request", "websocket_request", "websocket_connect", "websocket_request"]
    assert all(t["auth_mode"] == "ApiKey" and t["auth_header_attached"] for t in tags)
    result = judge(run)
    assert result.outcome is Outcome.PASS, result.detail


@needs_codex
def test_realtime_events_only_codex_log_shows_keep_their_place(codex):
    c = case(
        """
id: foundation.codex.realtime-log
title: session.updated and item.done, which codex parses but does not relay, in codex's order
seed: realtime-conversation-manager
requires: [realtime.v2]
client:
  config:
    realtime: {version: v2, api_key: sk-test-codex}
  steps:
    - realtime.start: {prompt: hi, session_id: thread-1}
    - wait: {event: {type: realtime.session_updated}}
    - wait: {event: {type: realtime.item_added}}
    - wait: {event: {type: realtime.item_done, item_id: item_2}}
    - realtime.close: {}
server:
  exchanges:
    - websocket: {path: /v1/realtime}
      script:
        - expect: {type: session.update}
        - send: {type: session.updated, event_id: e1, session: {id: sess_1, type: realtime, instructions: hi}}
        - send: {type: conversation.item.added, event_id: e2, item: {id: item_1, type: message, role: user, content: [{type: input_text, text: hello}]}}
        - send: {type: conversation.item.done, event_id: e3, item: {id: item_1, type: message, role: user, content: [{type: input_text, text: hello}]}}
        - send: {type: conversation.item.done, event_id: e4, item: {id: item_2, type: function_call, name: get_weather, call_id: c, arguments: "{}"}}
expect:
  events:
    - exact:
        - {type: realtime.session_updated, session_id: sess_1, instructions: hi}
        - {type: realtime.item_added, item: {id: item_1}}
        - {type: realtime.item_done, item_id: item_1}
        - {type: realtime.item_done, item_id: item_2}
      of: [realtime.session_updated, realtime.item_added, realtime.item_done]
""",
        "codex-realtime-log",
    )
    run = run_case(c, adapter=codex)
    reported(run)
    result = judge(run)
    assert result.outcome is Outcome.PASS, result.detail


@needs_codex
def test_rejected_realtime_upgrade_reports_the_status_its_text_shows(codex):
    c = case(
        """
id: foundation.codex.realtime-503
title: a rejected realtime upgrade is one realtime.error with the status codex's text shows
seed: realtime-conversation-manager
requires: [realtime.v2]
client:
  config:
    realtime: {version: v2, api_key: sk-test-codex}
  steps:
    - realtime.start: {prompt: hi}
server:
  exchanges:
    - websocket: {path: /v1/realtime}
      reject: {status: 503, text: upstream unavailable}
expect:
  events:
    - exact: [{type: realtime.error, http_status: 503, message: {$prefix: "unexpected status 503 Service Unavailable: "}}]
""",
        "codex-realtime-503",
    )
    run = run_case(c, adapter=codex)
    errors = [e for e in reported(run) if e["type"] == "realtime.error"]
    assert errors == [{"type": "realtime.error", "message": "unexpected status 503 Service Unavailable: realtime websocket handshake failed",
                       "http_status": 503}]
    result = judge(run)
    assert result.outcome is Outcome.PASS, result.detail


@needs_codex
@pytest.mark.parametrize("case_id", ["foundation.ws.binary-frame", "foundation.sse.status-429", "foundation.ws.upgrade-426"])
def test_suite_cases_end_as_recorded(codex, case_id):
    """A few suite cases: PASS, or exactly the outcome expectations.yaml records for them."""
    entry = next(e for e in load_catalog([str(CASES_DIR / "foundation")]) if e.id == case_id)
    result = judge(run_case(entry.case, adapter=codex))
    known = load_expectations(list(EXPECTATIONS_FILES)).get(case_id)
    assert result.outcome is (known.outcome if known else Outcome.PASS), result.detail
