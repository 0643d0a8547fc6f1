"""The responses schemas are valid and agree with the code (events, config keys, steps)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.client.responses import config as config_module
from harness.client.responses.profile import ResponsesProfile


ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "schemas" / "events" / "responses.schema.json"
CONFIG = ROOT / "schemas" / "config" / "responses.schema.json"
STEPS = ROOT / "schemas" / "steps" / "responses.schema.json"
EVENTS_SOURCE = ROOT / "harness" / "client" / "responses" / "events.py"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


@pytest.mark.parametrize("path", [EVENTS, CONFIG, STEPS], ids=lambda p: p.parent.name)
def test_schema_is_valid_2020_12(path: Path) -> None:
    jsonschema.Draft202012Validator.check_schema(load(path))


def test_every_event_def_is_listed_described_and_well_named() -> None:
    schema = load(EVENTS)
    listed = [ref["$ref"].removeprefix("#/$defs/") for ref in schema["oneOf"]]
    for name in listed:
        definition = schema["$defs"][name]
        assert definition["description"].strip(), name
        assert definition["properties"]["type"] == {"const": name}
        assert re.fullmatch(r"(turn|responses|telemetry)\.[a-z_]+", name), name
        assert definition["additionalProperties"] is False


def test_schema_events_match_the_events_the_code_builds() -> None:
    built = set(re.findall(r'"type": "((?:turn|responses|telemetry)\.[a-z_]+)"',
                           EVENTS_SOURCE.read_text()))  # fmt: skip
    listed = {ref["$ref"].removeprefix("#/$defs/") for ref in load(EVENTS)["oneOf"]}
    assert built == listed


def test_config_schema_keys_match_the_parser() -> None:
    properties = load(CONFIG)["properties"]
    assert set(properties) == set(config_module._KNOWN)
    profile_object = properties["profile"]["oneOf"][1]["properties"]
    fields = {f.name for f in dataclasses.fields(ResponsesProfile)} - {"name"}
    assert set(profile_object) == fields | {"preset"}


def test_config_schema_accepts_what_the_parser_accepts() -> None:
    validator = jsonschema.Draft202012Validator(load(CONFIG))
    good = {"model": "gpt-5.3-codex", "api_key": "sk", "transport": "websocket",
            "ws_version": "v1", "stream_max_retries": 0, "headers": {"x": "y"},
            "features": {"view_image_original_resolution": True},
            "profile": {"preset": "later", "ws_await_close_on_error": True}}  # fmt: skip
    assert list(validator.iter_errors(good)) == []
    config_module.ClientConfig.from_mapping(good)
    assert list(validator.iter_errors({"transport": "grpc"}))
    assert list(validator.iter_errors({"profile": {"bogus": 1}}))


STEP_CASES = [
    ({"op": "responses.turn", "args": {"input": "hi"}}, True),
    ({"op": "responses.turn", "args": {"input": [{"type": "message"}],
                                        "tool_outputs": {"c1": "x", "view_image": []}}}, True),
    ({"op": "responses.prewarm", "args": {}}, True),
    ({"op": "responses.new_session", "args": {}}, True),
    ({"op": "responses.turn", "args": {}}, False),
    ({"op": "responses.turn", "args": {"input": 5}}, False),
    ({"op": "responses.prewarm", "args": {"x": 1}}, False),
    ({"op": "responses.unknown", "args": {}}, False),
]  # fmt: skip


@pytest.mark.parametrize(("step", "ok"), STEP_CASES)
def test_steps_schema(step: dict[str, Any], ok: bool) -> None:
    errors = list(jsonschema.Draft202012Validator(load(STEPS)).iter_errors(step))
    assert (errors == []) is ok
