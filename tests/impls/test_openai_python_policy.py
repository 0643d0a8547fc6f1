"""openai-python's driver: its policy (client.config.policy, announced in hello), its split by
concern, and what it may import inside the SDK's venv.

The unit tests need no SDK (the driver's modules import ``openai`` inside functions); the
end-to-end ones run the real SDK through its driver, skipped when the venv is absent.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness.case.loader import parse_case_text
from harness.impls import openai_python
from harness.impls.openai_python.sdkdriver.errors import Unsupported
from harness.impls.openai_python.sdkdriver.policy import CHOICES, DEFAULT, Policy
from harness.runner import judge, run_case
from harness.verdict.outcome import Outcome


needs_sdk = pytest.mark.skipif(
    openai_python.sdk_python() is None,
    reason=f"openai-python {openai_python.VERSION} is not installed: run `wireplay install openai-python`",
)
SDKDRIVER = Path(openai_python.__file__).parent / "sdkdriver"
POLICY_SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "config" / "policy.schema.json"
NODE_DRIVER = Path(__file__).resolve().parents[2] / "harness" / "impls" / "openai_node" / "driver.mjs"


def response(rid: str, status: str = "completed") -> str:
    return (f"{{id: {rid}, object: response, created_at: 1700000000, model: gpt-test, status: {status}, output: [], "
            "parallel_tool_calls: true, tool_choice: auto, tools: []}")


def case(text: str, name: str):
    return parse_case_text(text, file=Path(f"cases/foundation/{name}.yaml"))


# --- the policy itself ------------------------------------------------------------------


def test_the_defaults_are_the_sdks_own_behaviour():
    assert DEFAULT == Policy(chaining="none", after_failure="keep_connection", parse_failure="sdk", realtime_error="continue")
    assert DEFAULT.responses_parse() == "fail_turn"  # recv() raises: the response being read fails
    assert DEFAULT.realtime_parse() == "end_conversation"  # the SDK's `async for` ends on it


def test_the_config_overrides_one_key_at_a_time():
    policy = Policy.from_config({"policy": {"chaining": "previous_response_id", "parse_failure": "skip_frame"}})
    assert (policy.chaining, policy.after_failure, policy.parse_failure) == ("previous_response_id", "keep_connection", "skip_frame")
    assert policy.responses_parse() == policy.realtime_parse() == "skip_frame"
    assert Policy.from_config({}) is DEFAULT


@pytest.mark.parametrize(("section", "message"), [
    ({"chainng": "none"}, "no policy 'chainng'"),
    ({"after_failure": "reconnect"}, "cannot run policy after_failure: 'reconnect'"),
    ("drop", "must be an object"),
])  # fmt: skip
def test_a_policy_the_driver_cannot_run_is_unsupported(section, message):
    with pytest.raises(Unsupported, match=message):
        Policy.from_config({"policy": section})


def test_the_choices_are_the_config_schemas():
    schema = json.loads(POLICY_SCHEMA.read_text())
    assert {k: tuple(v["enum"]) for k, v in schema["properties"].items()} == CHOICES
    assert schema["additionalProperties"] is False


def test_the_hello_policy_has_the_node_drivers_keys():
    """Both SDK drivers announce one shape: the same keys (docs/contracts.md, Policies)."""
    text = NODE_DRIVER.read_text()
    start = text.index("const POLICY = {")
    body = text[start: text.index("};", start)]
    node_keys = {line.strip().split(":")[0] for line in body.splitlines()[1:] if ":" in line and not line.strip().startswith("//")}
    assert node_keys == set(DEFAULT.hello())


def test_the_driver_is_split_by_concern_and_each_part_is_small():
    parts = sorted(p.name for p in SDKDRIVER.glob("*.py"))
    assert parts == ["__init__.py", "app.py", "endpoint.py", "errors.py", "policy.py", "protocol.py", "realtime.py",
                     "responses.py", "sockets.py", "surface.py"]  # fmt: skip
    assert max(len(p.read_text().splitlines()) for p in SDKDRIVER.glob("*.py")) < 400
    assert len(openai_python.DRIVER.read_text().splitlines()) < 40


# --- inside the SDK's venv ----------------------------------------------------------------


@needs_sdk
def test_inside_the_venv_the_driver_imports_the_stdlib_openai_and_its_own_modules_only():
    probe = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(Path(openai_python.__file__).parents[3])!r})\n"
        "import harness.impls.openai_python.sdkdriver.protocol as p, harness.impls.openai_python.sdkdriver.surface\n"
        "import harness.impls.openai_python.sdkdriver.realtime, harness.impls.openai_python.sdkdriver.responses\n"
        "p.hello()\n"
        "mods = sorted({m for m in sys.modules if m.startswith('harness')})\n"
        "third = sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names) - {'harness', '__main__'})\n"
        "print(json.dumps(mods)); print(json.dumps(third))\n"
    )
    found = subprocess.run([str(openai_python.sdk_python()), "-I", "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    harness_modules, third_party = (json.loads(line) for line in found.stdout.splitlines())
    # Only the driver's own modules, the shared stdlib-only harness.sdk and the light package
    # __init__s on the way (harness.impls.openai_python's adapter helpers): no reference client,
    # no case loader, no verdict, and none of wireplay's own dependencies.
    assert not [m for m in harness_modules if m.startswith(("harness.client", "harness.case", "harness.verdict", "harness.runner"))]
    assert "harness.sdk.events" in harness_modules
    assert "openai" in third_party
    assert not {"jsonschema", "yaml", "referencing", "httpx", "syrupy", "pytest"} & set(third_party)


@needs_sdk
def test_hello_announces_the_policy():
    out = subprocess.run([str(openai_python.sdk_python()), "-I", str(openai_python.DRIVER), "--hello"],
                         capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    hello = json.loads(out.stdout)
    assert hello["policy"] == {"chaining": "none", "after_failure": "keep_connection", "parse_failure": "sdk",
                               "realtime_error": "continue", "retries": "request_max_retries"}  # fmt: skip
    assert hello["cases"] == "many" and "sdk" in hello["capabilities"]


# --- end to end: each policy decides what the SDK is asked to do --------------------------


def _two_ws_turns(policy: str) -> str:
    return f"""
id: foundation.oai.chaining
title: two websocket turns
layer: protocol
notes: the driver's chaining policy decides whether the second create carries previous_response_id.
client:
  config:
    responses: {{model: gpt-test, api_key: sk-test, transport: websocket}}
    {policy}
  steps:
    - responses.turn: {{input: one}}
    - responses.turn: {{input: two}}
server:
  exchanges:
    - websocket: {{path: /v1/responses}}
      script:
        - expect: {{type: response.create}}
        - send: {{type: response.completed, sequence_number: 0, response: {response("resp_1")}}}
        - expect: {{type: response.create}}
        - send: {{type: response.completed, sequence_number: 0, response: {response("resp_2")}}}
"""


def _creates(run) -> list[dict]:
    """The client's response.create frames, as the fake server received them."""
    return [r.data["json"] for r in run.records if r.kind == "ws_recv" and isinstance(r.data.get("json"), dict)
            and r.data["json"].get("type") == "response.create"]  # fmt: skip


def _events(run) -> list[dict]:
    return [event for _, event in run.events]


@needs_sdk
@pytest.mark.parametrize(("policy", "chained"), [("", False), ("policy: {chaining: previous_response_id}", True)])
def test_chaining_across_turns(policy, chained):
    sdk = openai_python.adapter()
    run = run_case(case(_two_ws_turns(policy), "oai-chaining"), adapter=sdk)
    assert judge(run).outcome is Outcome.PASS, judge(run).detail
    second = _creates(run)[1]
    if chained:
        assert second["previous_response_id"] == "resp_1"
        assert [i["content"][0]["text"] for i in second["input"]] == ["two"]
    else:
        assert "previous_response_id" not in second
        assert [i["content"][0]["text"] for i in second["input"] if i.get("role") == "user"] == ["one", "two"]


@needs_sdk
@pytest.mark.parametrize(("policy", "connections"), [("", 1), ("policy: {after_failure: drop_connection}", 2)])
def test_after_a_failed_response_the_socket_is_kept_or_dropped(policy, connections):
    text = f"""
id: foundation.oai.after-failure
title: a failed response, then another turn
layer: protocol
notes: the driver's after_failure policy decides whether the next turn reuses the socket.
client:
  config:
    responses: {{model: gpt-test, api_key: sk-test, transport: websocket}}
    {policy}
  steps:
    - responses.turn: {{input: one}}
    - responses.turn: {{input: two}}
server:
  exchanges:
    - websocket: {{path: /v1/responses}}
      script:
        - expect: {{type: response.create}}
        - send: {{type: response.failed, sequence_number: 0, response: {response("resp_1", "failed")}}}
{"        - expect: {type: response.create}" if connections == 1 else ""}
{"        - send: {type: response.completed, sequence_number: 0, response: " + response("resp_2") + "}" if connections == 1 else ""}
    - websocket: {{path: /v1/responses}}
      times: {{min: {connections - 1}, max: {connections - 1}}}
      script:
        - expect: {{type: response.create}}
        - send: {{type: response.completed, sequence_number: 0, response: {response("resp_2")}}}
"""
    run = run_case(case(text, "oai-after-failure"), adapter=openai_python.adapter())
    assert judge(run).outcome is Outcome.PASS, judge(run).detail
    statuses = [e["status"] for e in _events(run) if e["type"] == "turn.completed"]
    assert statuses == ["failed", "completed"]


@needs_sdk
@pytest.mark.parametrize(("policy", "statuses"), [("", ["failed"]), ("policy: {parse_failure: skip_frame}", ["completed"])])
def test_a_frame_the_sdk_cannot_parse_fails_the_turn_or_is_skipped(policy, statuses):
    text = f"""
id: foundation.oai.parse-failure
title: a frame that is not JSON mid-response
layer: protocol
notes: the driver's parse_failure policy decides what a JSONDecodeError from parse_event does.
client:
  config:
    responses: {{model: gpt-test, api_key: sk-test, transport: websocket}}
    {policy}
  steps:
    - responses.turn: {{input: one}}
server:
  exchanges:
    - websocket: {{path: /v1/responses}}
      extra_messages: allow
      script:
        - expect: {{type: response.create}}
        - send_text: "not json"
        - send: {{type: response.completed, sequence_number: 1, response: {response("resp_1")}}}
"""
    run = run_case(case(text, "oai-parse-failure"), adapter=openai_python.adapter())
    assert [e["status"] for e in _events(run) if e["type"] == "turn.completed"] == statuses
    assert [e.get("failure") for e in _events(run) if e["type"] == "error"] == ["JSONDecodeError"]


@needs_sdk
@pytest.mark.parametrize(("policy", "closed"), [("", False), ("policy: {realtime_error: end_conversation}", True)])
def test_a_realtime_error_event_continues_or_ends_the_conversation(policy, closed):
    text = f"""
id: foundation.oai.realtime-error
title: a realtime server error event
layer: protocol
notes: the driver's realtime_error policy decides whether the conversation goes on.
client:
  config:
    realtime: {{version: v2, api_key: sk-test, model: gpt-realtime}}
    {policy}
  steps:
    - realtime.start: {{prompt: hi}}
    - wait: {{event: {{type: realtime.error}}}}
    - sleep: 0.2
server:
  exchanges:
    - websocket: {{path: /v1/realtime}}
      script:
        - expect: {{type: session.update}}
        - send: {{type: error, event_id: evt_1, error: {{type: invalid_request_error, code: bad, message: nope}}}}
"""
    run = run_case(case(text, "oai-realtime-error"), adapter=openai_python.adapter())
    assert [e for e in _events(run) if e["type"] == "realtime.error"] == [
        {"type": "realtime.error", "message": "nope", "failure": "RealtimeErrorEvent"}]
    assert any(e["type"] == "conversation.closed" for e in _events(run)) is closed
