"""Tests for harness.wire_schemas and the schema tree under schemas/wire.

Valid frames below are the verbatim codex frames from the reference notes (realtime-wire,
responses-wire) plus the SDK-required fields, so they double as fixture templates.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness import wire_schemas
from harness.wire_schemas import known_types, schema_file, schemas_root, validate_frame


REPO = Path(__file__).resolve().parent.parent
WIRE = schemas_root() / "wire"
HEADER = "generated from openai==3.57.0 by scripts/gen_wire_schemas.py; do not edit"
GENERATED = ["realtime/v2/client", "realtime/v2/server", "responses/sse",
             "responses/ws/client", "responses/ws/server"]
HAND_WRITTEN = ["realtime/v1/client", "realtime/v1/server", "realtime/v2/codex/server",
                "responses/codex/client", "responses/codex/server"]

RT2_FC_DONE = {
    "type": "response.function_call_arguments.done", "event_id": "evt_1", "response_id": "resp_1",
    "item_id": "item_1", "output_index": 0, "call_id": "call_1", "name": "codex",
    "arguments": '{"prompt":"ls"}',
}
RESPONSE = {
    "id": "resp-1", "object": "response", "created_at": 1700000000, "model": "gpt-5",
    "output": [], "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
    "status": "in_progress",
}
USAGE = {
    "input_tokens": 10, "input_tokens_details": {"cached_tokens": 2, "cache_write_tokens": 0},
    "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 1}, "total_tokens": 15,
}


def rt2(direction: str, frame: Any) -> list[str]:
    return validate_frame(protocol="realtime.v2", direction=direction, frame=frame)


def without(frame: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in frame.items() if k != key}


# --------------------------------------------------------------------------- realtime v2


def test_v2_function_call_arguments_done_validates() -> None:
    assert rt2("server", RT2_FC_DONE) == []


def test_v2_missing_arguments_names_the_field() -> None:
    assert rt2("server", without(RT2_FC_DONE, "arguments")) == [
        "$: 'arguments' is a required property"
    ]


def test_v2_server_events_require_event_id() -> None:
    errors = rt2("server", without(RT2_FC_DONE, "event_id"))
    assert errors == ["$: 'event_id' is a required property"]


def test_unknown_type_is_reported() -> None:
    assert rt2("server", {"type": "x"}) == ["unknown type 'x' for realtime.v2 server"]


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "session.update", "session": {
            "type": "realtime", "instructions": "backend prompt", "output_modalities": ["audio"],
            "audio": {
                "input": {"format": {"type": "audio/pcm", "rate": 24000},
                          "noise_reduction": {"type": "near_field"},
                          "turn_detection": {"type": "server_vad", "interrupt_response": True,
                                             "create_response": True}},
                "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"}},
            "tools": [{"type": "function", "name": "codex", "description": "Delegate",
                       "parameters": {"type": "object", "required": ["prompt"],
                                      "properties": {"prompt": {"type": "string"}},
                                      "additionalProperties": False}}],
            "tool_choice": "auto"}},
        {"type": "session.update", "session": {
            "type": "transcription",
            "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}}}}},
        {"type": "input_audio_buffer.append", "audio": "AAAA"},
        {"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]}},
        {"type": "conversation.item.create", "item": {
            "type": "function_call_output", "call_id": "call_1",
            "output": '"Agent Final Message":\n\ndelegated result'}},
        {"type": "response.create"},
        {"type": "conversation.item.truncate", "item_id": "item_1", "content_index": 0,
         "audio_end_ms": 120},
    ],
    ids=lambda f: f["type"],
)
def test_v2_codex_client_frames_validate(frame: dict[str, Any]) -> None:
    assert rt2("client", frame) == []


def test_v2_nested_union_errors_point_into_the_right_branch() -> None:
    missing_call_id = {"type": "conversation.item.create",
                       "item": {"type": "function_call_output", "output": "x"}}
    assert rt2("client", missing_call_id) == ["$.item: 'call_id' is a required property"]
    v1_style_text = {"type": "conversation.item.create", "item": {
        "type": "message", "role": "user", "content": [{"type": "text", "text": "hello"}]}}
    (error,) = rt2("client", v1_style_text)
    assert error.startswith("$.item.content[0].type: 'text' is not one of")
    (error,) = rt2("client", {"type": "session.update", "session": {"type": "bogus"}})
    assert error.startswith("$.session: object (type 'bogus') matches none of")


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "session.updated", "event_id": "e1",
         "session": {"id": "sess_1", "type": "realtime", "instructions": "backend prompt"}},
        {"type": "response.output_audio.delta", "event_id": "e2", "response_id": "r",
         "item_id": "i", "output_index": 0, "content_index": 0, "delta": "AAAA"},
        {"type": "conversation.item.done", "event_id": "e3", "item": {
            "id": "item_1", "type": "function_call", "name": "codex", "call_id": "call_1",
            "arguments": '{"prompt":"delegate now"}'}},
        {"type": "input_audio_buffer.speech_started", "event_id": "e4", "item_id": "i",
         "audio_start_ms": 100},
        {"type": "error", "event_id": "e5", "error": {
            "type": "invalid_request_error",
            "message": "Conversation already has an active response in progress: resp_1"}},
        # codex additions (hand-written): beta alias and codex-only cancel
        {"type": "response.audio.delta", "event_id": "e6", "response_id": "r", "item_id": "i",
         "output_index": 0, "content_index": 0, "delta": "AAAA"},
        {"type": "response.cancelled", "response": {"id": "resp_1"}},
    ],
    ids=lambda f: f["type"],
)
def test_v2_server_frames_validate(frame: dict[str, Any]) -> None:
    assert rt2("server", frame) == []


def test_v2_missing_discriminator_is_named() -> None:
    frame = {"type": "session.updated", "event_id": "e1", "session": {"id": "sess_1"}}
    assert rt2("server", frame) == ["$.session: 'type' is a required property"]


# --------------------------------------------------------------------------- realtime v1


def rt1(direction: str, frame: Any) -> list[str]:
    return validate_frame(protocol="realtime.v1", direction=direction, frame=frame)


def test_v1_handoff_requested_validates() -> None:
    frame = {"type": "conversation.handoff.requested", "handoff_id": "handoff_1",
             "item_id": "item_2", "input_transcript": "delegate now"}
    assert rt1("server", frame) == []
    assert rt1("server", without(frame, "input_transcript")) == [
        "$: 'input_transcript' is a required property"
    ]


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "session.update", "session": {
            "type": "quicksilver", "instructions": "backend prompt",
            "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}},
                      "output": {"voice": "fathom"}}}},
        {"type": "input_audio_buffer.append", "audio": "AAAA"},
        {"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "text", "text": "hello"}]}},
        {"type": "conversation.handoff.append", "handoff_id": "handoff_1",
         "output_text": '"Agent Final Message":\n\nassistant says hi'},
        {"type": "response.create"},
    ],
    ids=lambda f: f["type"],
)
def test_v1_client_frames_validate(frame: dict[str, Any]) -> None:
    assert rt1("client", frame) == []


def test_v1_rejects_v2_shapes() -> None:
    (error,) = rt1("client", {"type": "session.update", "session": {"type": "realtime"}})
    assert error.startswith("$.session.type: 'quicksilver' was expected")
    (error,) = rt1("client", {"type": "conversation.item.create", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": "x"}]}})
    assert error.startswith("$.item.content[0].type: 'text' was expected")
    assert rt1("client", {"type": "conversation.item.truncate"}) == [
        "unknown type 'conversation.item.truncate' for realtime.v1 client"
    ]


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "session.updated", "session": {"id": "sess_1", "instructions": "backend prompt"}},
        {"type": "conversation.output_audio.delta", "delta": "AAAA", "sample_rate": 24000,
         "channels": 1, "samples_per_channel": 2},
        {"type": "conversation.output_audio.delta", "data": "AAAA", "sample_rate": 24000,
         "num_channels": 1},
        {"type": "conversation.input_transcript.delta", "delta": "delegate "},
        {"type": "conversation.output_transcript.delta", "delta": "working"},
        {"type": "conversation.item.added", "item": {"id": "item_1", "type": "message"}},
        {"type": "conversation.item.done", "item": {"id": "item_1"}},
        {"type": "error", "message": "boom"},
        {"type": "error", "error": {"message": "boom"}},
    ],
    ids=lambda f: f["type"],
)
def test_v1_server_frames_validate(frame: dict[str, Any]) -> None:
    assert rt1("server", frame) == []


def test_v1_alternatives_are_explained() -> None:
    audio = {"type": "conversation.output_audio.delta", "delta": "AAAA", "sample_rate": 24000}
    assert rt1("server", audio) == ["$: needs 'channels' or 'num_channels'"]
    assert rt1("server", {"type": "error"}) == ["$: needs 'message' or 'error'"]
    assert rt1("server", {"type": "session.updated", "session": {}}) == [
        "$.session: 'id' is a required property"
    ]


# --------------------------------------------------------------------------- responses


def sse(frame: Any) -> list[str]:
    return validate_frame(protocol="responses.sse", direction="server", frame=frame)


def ws(direction: str, frame: Any, **kw: Any) -> list[str]:
    return validate_frame(protocol="responses.ws", direction=direction, frame=frame, **kw)


MESSAGE_ITEM = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": "Hello", "annotations": []}]}
TEXT_DELTA = {"type": "response.output_text.delta", "sequence_number": 4, "output_index": 0,
              "item_id": "msg_1", "content_index": 0, "delta": "Hel", "logprobs": []}
SSE_STREAM = [
    {"type": "response.created", "sequence_number": 0, "response": RESPONSE},
    {"type": "response.in_progress", "sequence_number": 1, "response": RESPONSE},
    {"type": "response.output_item.added", "sequence_number": 2, "output_index": 0,
     "item": {**MESSAGE_ITEM, "status": "in_progress", "content": []}},
    {"type": "response.content_part.added", "sequence_number": 3, "output_index": 0,
     "item_id": "msg_1", "content_index": 0,
     "part": {"type": "output_text", "text": "", "annotations": []}},
    TEXT_DELTA,
    {"type": "response.output_text.done", "sequence_number": 5, "output_index": 0,
     "item_id": "msg_1", "content_index": 0, "text": "Hello", "logprobs": []},
    {"type": "response.output_item.done", "sequence_number": 6, "output_index": 0,
     "item": MESSAGE_ITEM},
    {"type": "response.output_item.done", "sequence_number": 7, "output_index": 1,
     "item": {"type": "function_call", "call_id": "call_1", "name": "shell", "arguments": "{}"}},
    {"type": "response.output_item.done", "sequence_number": 8, "output_index": 2,
     "item": {"type": "reasoning", "id": "rs_1", "encrypted_content": "abc",
              "summary": [{"type": "summary_text", "text": "x"}]}},
    {"type": "response.reasoning_summary_text.delta", "sequence_number": 9, "output_index": 2,
     "item_id": "rs_1", "summary_index": 0, "delta": "x"},
    {"type": "response.completed", "sequence_number": 10,
     "response": {**RESPONSE, "status": "completed", "usage": USAGE}},
    {"type": "response.failed", "sequence_number": 11, "response": {
        **RESPONSE, "status": "failed",
        "error": {"code": "rate_limit_exceeded", "message": "Please try again in 11.054s"}}},
    {"type": "error", "sequence_number": 12, "code": "server_error", "message": "boom"},
]


@pytest.mark.parametrize("frame", SSE_STREAM, ids=lambda f: f"{f['sequence_number']}-{f['type']}")
def test_sse_stream_validates(frame: dict[str, Any]) -> None:
    assert sse(frame) == []


def test_sse_gotchas_are_reported() -> None:
    assert sse(without(TEXT_DELTA, "logprobs")) == ["$: 'logprobs' is a required property"]
    assert sse(without(TEXT_DELTA, "sequence_number")) == [
        "$: 'sequence_number' is a required property"
    ]
    bare = sse({"type": "response.completed", "sequence_number": 1, "response": {"id": "r"}})
    assert "$.response: 'created_at' is a required property" in bare
    assert "$.response: 'tools' is a required property" in bare
    old_usage = {**USAGE, "input_tokens_details": {"cached_tokens": 2}}
    assert sse({"type": "response.completed", "sequence_number": 1,
                "response": {**RESPONSE, "usage": old_usage}}) == [
        "$.response.usage.input_tokens_details: 'cache_write_tokens' is a required property"
    ]


def test_codex_rate_limits_validate_on_sse_and_ws() -> None:
    frame = {"type": "codex.rate_limits", "plan_type": "plus",
             "rate_limits": {"allowed": True, "limit_reached": False,
                             "primary": {"used_percent": 42, "window_minutes": 60,
                                         "reset_at": 1700000000},
                             "secondary": None},
             "code_review_rate_limits": None,
             "credits": {"has_credits": True, "unlimited": False, "balance": "123"},
             "metered_limit_name": "codex", "promo": None}
    assert sse(frame) == []
    assert ws("server", frame) == []
    bad = {**frame, "credits": {"has_credits": "yes"}}
    (error,) = ws("server", bad)
    assert error.startswith("$.credits.has_credits: 'yes' is not of type 'boolean'")


def test_ws_codex_response_create_validates() -> None:
    frame = {
        "type": "response.create", "model": "gpt-5.2-codex", "instructions": "...",
        "previous_response_id": "resp-1",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
            {"type": "function_call", "call_id": "call_1", "name": "shell", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "ok"},
        ],
        "tools": [{"type": "function", "name": "shell", "description": "run", "strict": False,
                   "parameters": {"type": "object", "properties": {}}}],
        "tool_choice": "auto", "parallel_tool_calls": True, "reasoning": None, "store": False,
        "stream": True, "include": [], "service_tier": "priority", "prompt_cache_key": "k",
        "text": None, "generate": False,
        "client_metadata": {"x-codex-turn-metadata": "{}"},
    }
    assert ws("client", frame) == []


def test_ws_codex_client_additions() -> None:
    append = {"type": "response.append",
              "input": [{"type": "function_call_output", "call_id": "c", "output": "x"}]}
    assert ws("client", append) == []
    assert ws("client", without(append, "input")) == ["$: 'input' is a required property"]
    assert ws("client", append, source="generated") == [
        "unknown type 'response.append' for responses.ws client (generated schemas)"
    ]


def test_ws_wrapped_error_against_sdk_and_codex_schemas() -> None:
    frame = {"type": "error", "status": 429,
             "error": {"type": "usage_limit_reached", "message": "limit",
                       "plan_type": "pro", "resets_at": 1704067242},
             "headers": {"x-codex-primary-used-percent": "100.0",
                         "x-codex-primary-window-minutes": "15"}}
    assert ws("server", frame) == []
    assert ws("server", frame, source="codex") == []
    status_code_only = {"type": "error", "status_code": 500, "error": {"code": None}}
    assert ws("server", status_code_only, source="codex") == []
    assert ws("server", status_code_only) == [
        "$.error: 'message' is a required property",
        "$.error: 'type' is a required property",
    ]
    assert schema_file(protocol="responses.ws", direction="server",
                       message_type="error").parent.name == "server"


def test_ws_metadata_and_test_only_done() -> None:
    assert ws("server", {"type": "codex.response.metadata",
                         "headers": {"x-codex-turn-state": "ts-1"}}) == []
    assert ws("server", {"type": "response.metadata", "headers": {"openai-model": ["gpt-5"]}}) == []
    assert ws("server", {"type": "response.done", "response": {"id": "resp-1"}}) == []


# --------------------------------------------------------------------------- API edges


def test_frame_inputs_and_bad_arguments() -> None:
    text = json.dumps(RT2_FC_DONE)
    assert rt2("server", text) == []
    assert rt2("server", text.encode()) == []
    assert rt2("server", b"{").pop().startswith("$: not valid JSON")
    assert rt2("server", [1]) == ["$: frame must be a JSON object, not array"]
    assert rt2("server", {"event_id": "e"}) == ["$: frame has no string 'type'"]
    assert validate_frame(protocol="responses.sse", direction="client",
                          frame={"type": "response.create"}) == [
        "unknown type 'response.create' for responses.sse client"
    ]
    with pytest.raises(ValueError, match="protocol"):
        validate_frame(protocol="realtime.v3", direction="server", frame={})
    with pytest.raises(ValueError, match="source"):
        validate_frame(protocol="realtime.v2", direction="server", frame={}, source="sdk")  # type: ignore[arg-type]


def test_validators_are_compiled_once() -> None:
    rt2("server", RT2_FC_DONE)
    before = wire_schemas._validator.cache_info()
    rt2("server", RT2_FC_DONE)
    after = wire_schemas._validator.cache_info()
    assert after.misses == before.misses
    assert after.hits == before.hits + 1


def test_known_types_merge_generated_and_codex() -> None:
    types = known_types(protocol="realtime.v2", direction="server")
    assert {"response.output_audio.delta", "response.audio.delta", "response.cancelled"} <= types
    assert len(known_types(protocol="realtime.v2", direction="client")) == 11
    assert "codex.rate_limits" in known_types(protocol="responses.sse", direction="server")


def test_schemas_root_falls_back_to_bundled_copy(tmp_path: Path) -> None:
    package = tmp_path / "site" / "harness"
    package.mkdir(parents=True)
    assert wire_schemas._root_for(package) == package / "_bundled" / "schemas"
    (tmp_path / "site" / "schemas" / "wire").mkdir(parents=True)
    assert wire_schemas._root_for(package) == tmp_path / "site" / "schemas"
    assert schemas_root() == REPO / "schemas"


# --------------------------------------------------------------------------- the schema tree


def _index(folder: str) -> dict[str, Any]:
    return json.loads((WIRE / folder / "index.json").read_text(encoding="utf-8"))


def _indexed_files() -> list[tuple[str, str, str]]:
    return [(folder, wire_type, filename)
            for folder in GENERATED + HAND_WRITTEN
            for wire_type, filename in sorted(_index(folder)["types"].items())]


@pytest.mark.parametrize("folder", GENERATED + HAND_WRITTEN)
def test_index_matches_folder(folder: str) -> None:
    index = _index(folder)
    on_disk = {p.name for p in (WIRE / folder).glob("*.json")} - {"index.json"}
    assert set(index["types"].values()) == on_disk
    if folder in GENERATED:
        assert index["$comment"] == HEADER
    else:
        assert index["$comment"].startswith("hand-written from ")


@pytest.mark.parametrize(("folder", "wire_type", "filename"), _indexed_files(),
                         ids=lambda v: str(v))
def test_indexed_schema_is_valid_2020_12(folder: str, wire_type: str, filename: str) -> None:
    path = WIRE / folder / filename
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["type"]["const"] == wire_type
    assert "type" in schema["required"]
    if folder in GENERATED:
        assert schema["$comment"] == HEADER
        assert schema["x-sdk-model"].startswith("openai.types.")
    else:
        assert schema["$comment"].startswith("hand-written from ")
        assert "generated from" not in schema["$comment"]
    # canonical text, so a regeneration or a hand edit does not churn key order
    assert path.read_text(encoding="utf-8") == (
        json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )


def test_generated_counts_match_the_sdk_unions() -> None:
    counts = {folder: len(_index(folder)["types"]) for folder in GENERATED}
    assert counts == {"realtime/v2/client": 11, "realtime/v2/server": 46, "responses/sse": 59,
                      "responses/ws/client": 2, "responses/ws/server": 62}


# --------------------------------------------------------------------------- the generator


def _load_generator() -> Any:
    path = REPO / "scripts" / "gen_wire_schemas.py"
    spec = importlib.util.spec_from_file_location("gen_wire_schemas", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_wire_schemas", module)
    spec.loader.exec_module(module)
    return module


def test_generator_folders_match_the_validator() -> None:
    gen = _load_generator()
    assert list(gen.UNIONS) == GENERATED
    assert gen.HEADER == HEADER
    folders = {f for pairs in wire_schemas._FOLDERS.values() for src, f in pairs if src == "generated"}
    assert folders == set(GENERATED)
    pins = (REPO / "scripts" / "requirements-schemas.txt").read_text(encoding="utf-8")
    assert gen.SDK_PIN in pins.splitlines()


def test_generator_check_diff_reports_drift(tmp_path: Path) -> None:
    gen = _load_generator()
    fresh, checked_in = tmp_path / "fresh", tmp_path / "checked"
    for root in (fresh, checked_in):
        for folder in gen.UNIONS:
            (root / folder).mkdir(parents=True)
            (root / folder / "index.json").write_text("{}\n")
    assert gen._diff(fresh=fresh, checked_in=checked_in) == []
    (fresh / "responses/sse/new.json").write_text("{}\n")
    (checked_in / "responses/sse/old.json").write_text("{}\n")
    (checked_in / "realtime/v2/client/index.json").write_text('{"x": 1}\n')
    (checked_in / "realtime/v1").mkdir(parents=True)  # hand-written folders are ignored
    (checked_in / "realtime/v1/extra.json").write_text("{}\n")
    problems = gen._diff(fresh=fresh, checked_in=checked_in)
    assert problems[0] == "missing (would be added): responses/sse/new.json"
    assert problems[1] == "stale (would be removed): responses/sse/old.json"
    assert problems[2].startswith("changed: realtime/v2/client/index.json")
    assert len(problems) == 3
