"""The codex session layer (harness/client/session) and the realtime side it drives.

Pure parts (routing, the handoff state machine) without sockets; the client parts with
stubs, every wait bounded.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from harness.client.realtime import RealtimeClient
from harness.client.realtime.kinds import SessionKind, SessionMode
from harness.client.realtime.profile import PRESETS
from harness.client.realtime.session import HandoffOutput, RealtimeSession
from harness.client.responses import ResponsesClient
from harness.client.responses.turn import TurnContext
from harness.client.session import (
    CodexSession,
    SteerableResponsesClient,
    assistant_message_text,
    routed_text,
)


RC = PRESETS["r-c"]
PREFIX = '"Agent Final Message":\n\n'


def make(kind: SessionKind) -> RealtimeSession:
    return RealtimeSession(kind=kind, mode=SessionMode.CONVERSATIONAL, instructions="p", profile=RC)


def handoff(session: RealtimeSession, handoff_id: str) -> None:
    if session.kind is SessionKind.V1:
        frame = {
            "type": "conversation.handoff.requested",
            "handoff_id": handoff_id,
            "item_id": "i",
            "input_transcript": "x",
        }
    else:
        frame = {
            "type": "conversation.item.done",
            "item": {
                "type": "function_call",
                "name": "codex",
                "call_id": handoff_id,
                "id": "i",
                "arguments": "{}",
            },
        }
    session.receive_text(json.dumps(frame))


# --- routing (realtime_text_from_handoff_request, R-C) ------------------------------------


def test_routed_text_prefers_the_active_transcript_as_role_lines():
    event = {"input_transcript": "ignored", "active_transcript": [
        {"role": "assistant", "text": "assistant context"}, {"role": "user", "text": "delegated query"},
        {"role": "assistant", "text": "assist confirm"}]}  # fmt: skip
    assert (
        routed_text(event)
        == "assistant: assistant context\nuser: delegated query\nassistant: assist confirm"
    )


def test_routed_text_falls_back_to_the_input_transcript_then_to_nothing():
    assert (
        routed_text({"input_transcript": "open the readme", "active_transcript": []})
        == "open the readme"
    )
    assert routed_text({"input_transcript": "", "active_transcript": []}) is None


def test_assistant_message_text_concatenates_output_text_parts_only():
    item = {"type": "message", "role": "assistant", "content": [
        {"type": "output_text", "text": "a"}, {"type": "refusal", "refusal": "no"}, {"type": "output_text", "text": "b"}]}  # fmt: skip
    assert assistant_message_text(item) == "ab"
    assert assistant_message_text({"type": "message", "role": "user", "content": []}) is None
    assert assistant_message_text({"type": "function_call", "name": "x"}) is None


# --- the handoff state machine (handoff_out / handoff_complete, R-C) -------------------------


def test_v1_mirrors_each_message_at_once_and_completion_sends_nothing():
    session = make(SessionKind.V1)
    assert session.mirror("ignored, no handoff") is None
    handoff(session, "handoff_1")
    first = session.mirror("one")
    assert first == HandoffOutput("handoff_1", "one")
    assert session.deliver(first).frames == (
        {
            "type": "conversation.handoff.append",
            "handoff_id": "handoff_1",
            "output_text": PREFIX + "one",
        },
    )
    assert session.complete() is None
    assert session.mirror("after the turn") is None  # the handoff cleared


def test_v2_keeps_the_last_message_for_completion_with_response_create():
    session = make(SessionKind.V2)
    handoff(session, "call_1")
    assert session.mirror("working") is None
    assert session.mirror("result") is None
    final = session.complete()
    assert final == HandoffOutput("call_1", "result", final=True)
    assert session.deliver(final).frames == (
        {
            "type": "conversation.item.create",
            "item": {
                "type": "function_call_output",
                "call_id": "call_1",
                "output": PREFIX + "result",
            },
        },
        {"type": "response.create"},
    )
    assert session.complete() is None


def test_a_newer_handoff_takes_over_and_forgets_the_last_message():
    session = make(SessionKind.V2)
    handoff(session, "call_1")
    session.mirror("first")
    handoff(session, "call_2")
    assert session.complete() is None  # no message since call_2
    handoff(session, "call_3")
    session.mirror("third")
    assert session.complete() == HandoffOutput("call_3", "third", final=True)


@pytest.mark.parametrize("kind", [SessionKind.V1, SessionKind.V2])
def test_an_id_addressed_append_leaves_the_handoff_state_alone(kind):
    session = make(kind)
    handoff(session, "active")
    frames = session.handoff_append("handoff_7", "hello from codex").frames
    if kind is SessionKind.V1:
        assert frames == (
            {
                "type": "conversation.handoff.append",
                "handoff_id": "handoff_7",
                "output_text": PREFIX + "hello from codex",
            },
        )
    else:
        assert frames == (
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "function_call_output",
                    "call_id": "handoff_7",
                    "output": PREFIX + "hello from codex",
                },
            },
        )
    assert session.active_handoff == "active"


# --- steering (steer_input + needs_follow_up |= has_pending_input) ---------------------------


def test_steered_text_joins_the_next_request_and_forces_a_follow_up(monkeypatch):
    seen: list[list[dict[str, Any]]] = []
    client = SteerableResponsesClient(
        base_url="http://127.0.0.1:9/v1", config={"api_key": "k"}, emit=lambda e: None
    )

    async def fake_sample(self: ResponsesClient, turn: TurnContext) -> None:
        seen.append(list(self._history))
        if len(seen) == 1:
            self.steer("user: steer via realtime")  # arrives while the first request streams
        return None

    monkeypatch.setattr(ResponsesClient, "_sample_with_retries", fake_sample)
    turn = TurnContext(turn_id="t", metadata="{}")
    client._history.append(
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "first"}]}
    )
    assert asyncio.run(client._sample_with_retries(turn)) is None
    assert len(seen) == 2
    assert [item["content"][0]["text"] for item in seen[1]] == ["first", "user: steer via realtime"]
    assert client._pending_input == []


# --- CodexSession routing --------------------------------------------------------------------


def test_route_starts_a_turn_when_idle_and_steers_when_one_is_active():
    async def scenario() -> None:
        events: list[dict[str, Any]] = []
        session = CodexSession(base_url="http://127.0.0.1:9/v1", realtime_base_url=None,
                               config={"realtime": {"api_key": "k", "delegate": "responses"}, "responses": {"api_key": "k"}},
                               emit=events.append)  # fmt: skip
        started: list[Any] = []
        release = asyncio.Event()

        async def fake_handle(op: str, args: Any) -> None:
            started.append(args["input"])
            await release.wait()

        session.responses.handle = fake_handle  # type: ignore[method-assign]
        session._route({"input_transcript": "", "active_transcript": []})
        assert session._turns == set()  # nothing to route: no turn
        session._route({"input_transcript": "go", "active_transcript": []})
        session._route({"input_transcript": "also", "active_transcript": []})
        await asyncio.sleep(0)
        assert started == ["go"]
        assert session.responses._pending_input[0]["content"][0]["text"] == "also"
        release.set()
        async with asyncio.timeout(2):
            await asyncio.gather(*session._turns)
        await session.aclose()

    asyncio.run(scenario())


def test_turn_events_are_reported_and_mirrored_in_order():
    events: list[dict[str, Any]] = []
    mirrored: list[Any] = []
    session = CodexSession(base_url="http://127.0.0.1:9/v1", realtime_base_url=None,
                           config={"realtime": {"api_key": "k"}}, emit=events.append)  # fmt: skip
    session.realtime.handoff_out = lambda text: mirrored.append(("out", text))  # type: ignore[method-assign]
    session.realtime.handoff_complete = lambda: mirrored.append(("complete",))  # type: ignore[method-assign]
    session._turn_active = True
    message = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "hi"}],
    }
    session._on_turn_event({"type": "responses.output_item_done", "item": message})
    session._on_turn_event(
        {"type": "responses.output_item_done", "item": {"type": "function_call", "name": "f"}}
    )
    session._on_turn_event({"type": "turn.completed", "status": "completed"})
    assert [e["type"] for e in events] == [
        "responses.output_item_done",
        "responses.output_item_done",
        "turn.completed",
    ]
    assert mirrored == [("out", "hi"), ("complete",)]
    assert session._turn_active is False


# --- the realtime key (realtime_api_key, R-C) ------------------------------------------------


def key_of(
    config: dict[str, Any], env: dict[str, str] | None = None
) -> tuple[str | None, str | None]:
    client = RealtimeClient(
        base_url="http://127.0.0.1:9/v1", config=config, emit=lambda e: None, env=env
    )
    return client._realtime_api_key()


def test_the_provider_env_key_wins_and_must_be_set():
    assert key_of(
        {"env_key": "WP_KEY", "api_key": "sk-login", "bearer_token": "tok"}, {"WP_KEY": "sk-env"}
    ) == ("sk-env", None)
    assert key_of({"env_key": "WP_KEY", "api_key": "sk-login"}, {}) == (
        None,
        "Missing environment variable: `WP_KEY`.",
    )


def test_openai_api_key_from_the_environment_is_the_last_fallback_for_the_openai_provider_only():
    env = {"OPENAI_API_KEY": " sk-env-fallback "}
    assert key_of({"api_key": "sk-login"}, env) == ("sk-login", None)
    assert key_of({}, env) == ("sk-env-fallback", None)
    assert key_of({"provider_is_openai": False}, env) == (None, None)
    assert key_of({}, {}) == (None, None)


def test_chatgpt_tokens_are_never_the_realtime_key_but_the_environment_fallback_is():
    auth = {
        "mode": "chatgpt",
        "tags": False,
        "tokens": {"access_token": "at-chatgpt", "account_id": "acct"},
    }
    assert key_of({"auth": auth}, {}) == (None, None)
    assert key_of({"auth": auth}, {"OPENAI_API_KEY": "sk-env"}) == ("sk-env", None)


# --- the first revision (R-A-0) ---------------------------------------------------------------


def test_pre_split_handshake_prompt_change_audio_and_text():
    r_a_0 = PRESETS["r-a-0"]
    session = RealtimeSession(kind=SessionKind.V1, mode=SessionMode.CONVERSATIONAL, instructions="backend prompt",
                              profile=r_a_0, conversation_id="conv_1")  # fmt: skip
    assert session.open().frames == (
        {
            "type": "session.create",
            "session": {"backend_prompt": "backend prompt", "conversation_id": "conv_1"},
        },
    )
    assert session.update_prompt("new prompt").frames == (
        {
            "type": "session.update",
            "session": {"backend_prompt": "new prompt", "conversation_id": "conv_1"},
        },
    )
    assert session.send_audio(
        "AQID", sample_rate=48000, num_channels=1, samples_per_channel=960
    ).frames == (
        {
            "type": "response.input_audio.delta",
            "delta": "AQID",
            "sample_rate": 48000,
            "num_channels": 1,
            "samples_per_channel": 960,
        },
    )
    assert session.send_text("hello agent").frames == (
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "text", "text": "hello agent"}],
            },
        },
    )
    anonymous = RealtimeSession(
        kind=SessionKind.V2, mode=SessionMode.CONVERSATIONAL, instructions="p", profile=r_a_0
    )
    assert anonymous.open().frames == (
        {"type": "session.create", "session": {"backend_prompt": "p"}},
    )
    with pytest.raises(ValueError):
        make(SessionKind.V1).update_prompt("no such message in R-C")


def test_pre_split_inbound_events():
    session = RealtimeSession(
        kind=SessionKind.V1,
        mode=SessionMode.CONVERSATIONAL,
        instructions="p",
        profile=PRESETS["r-a-0"],
    )
    assert session.receive_text(
        json.dumps({"type": "session.created", "session": {"id": "sess_mock"}})
    ).events == ({"type": "realtime.session_created", "session_id": "sess_mock"},)
    assert session.receive_text(
        json.dumps(
            {
                "type": "response.output_audio.delta",
                "delta": "AQID",
                "sample_rate": 48000,
                "num_channels": 1,
            }
        )
    ).events == (
        {"type": "realtime.audio_out", "data": "AQID", "sample_rate": 48000, "num_channels": 1},
    )
    assert session.receive_text(
        json.dumps(
            {"type": "conversation.item.added", "item": {"type": "spawn_transcript", "seq": 2}}
        )
    ).events == ({"type": "realtime.item_added", "item": {"type": "spawn_transcript", "seq": 2}},)
    assert (
        session.receive_text(
            json.dumps(
                {
                    "type": "conversation.handoff.requested",
                    "handoff_id": "h",
                    "item_id": "i",
                    "input_transcript": "x",
                }
            )
        ).events
        == ()
    )


# --- later vocabulary ------------------------------------------------------------------------


def test_later_transcript_done_events_and_the_silence_tool():
    later = RealtimeSession(
        kind=SessionKind.V2,
        mode=SessionMode.CONVERSATIONAL,
        instructions="p",
        profile=PRESETS["later"],
    )
    assert later.receive_text(
        json.dumps(
            {"type": "conversation.item.input_audio_transcription.completed", "transcript": "hello"}
        )
    ).events == ({"type": "realtime.input_transcript_done", "text": "hello"},)
    assert later.receive_text(
        json.dumps({"type": "response.output_text.done", "text": "hi"})
    ).events == ({"type": "realtime.output_transcript_done", "text": "hi"},)
    assert later.receive_text(
        json.dumps({"type": "response.output_audio_transcript.done", "transcript": "said"})
    ).events == ({"type": "realtime.output_transcript_done", "text": "said"},)
    step = later.receive_text(json.dumps({"type": "conversation.item.done", "item": {
        "id": "item_silent", "type": "function_call", "name": "remain_silent", "call_id": "call_silent", "arguments": "{}"}}))  # fmt: skip
    assert step.events == (
        {"type": "realtime.noop_requested", "call_id": "call_silent", "item_id": "item_silent"},
    )
    assert step.frames == (
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": "call_silent", "output": ""},
        },
    )
    r_c = make(SessionKind.V2)  # R-C: an ordinary item, nothing answered
    step = r_c.receive_text(json.dumps({"type": "conversation.item.done", "item": {
        "id": "item_silent", "type": "function_call", "name": "remain_silent", "call_id": "call_silent", "arguments": "{}"}}))  # fmt: skip
    assert step.events == ({"type": "realtime.item_done", "item_id": "item_silent"},)
    assert step.frames == ()
    assert r_c.receive_text(
        json.dumps(
            {"type": "conversation.item.input_audio_transcription.completed", "transcript": "hello"}
        )
    ).events == ({"type": "realtime.input_transcript_delta", "delta": "hello"},)


def test_later_v1_done_aliases():
    later_v1 = RealtimeSession(
        kind=SessionKind.V1,
        mode=SessionMode.CONVERSATIONAL,
        instructions="p",
        profile=PRESETS["later"],
    )
    for frame in ({"type": "conversation.item.input_audio_transcription.completed", "transcript": "t"},
                  {"type": "conversation.input_transcript.turn_marked", "transcript": "t"}):  # fmt: skip
        assert later_v1.receive_text(json.dumps(frame)).events == (
            {"type": "realtime.input_transcript_done", "text": "t"},
        )
    assert later_v1.receive_text(
        json.dumps({"type": "response.output_audio_transcript.done", "transcript": "o"})
    ).events == ({"type": "realtime.output_transcript_done", "text": "o"},)


def test_pre_split_url_keeps_a_path_and_appends_only_provider_params():
    from harness.client.realtime.url import realtime_url

    assert (
        realtime_url("http://127.0.0.1:8011", version=SessionKind.V1, pre_split=True)
        == "ws://127.0.0.1:8011/ws"
    )
    assert (
        realtime_url("wss://example.com", version=SessionKind.V2, model="m", pre_split=True)
        == "wss://example.com/ws"
    )
    assert (realtime_url("https://example.com/ws", version=SessionKind.V1, query_params={"api-version": "2024-10-01-preview"}, pre_split=True)
            == "wss://example.com/ws?api-version=2024-10-01-preview")  # fmt: skip
