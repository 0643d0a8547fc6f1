"""What a finding is, from a run's status, error text and events (pure)."""

from __future__ import annotations

import pytest

from harness.fuzz.case import ESCAPED
from harness.fuzz.classify import classify


DRIVER_DIED = """while running client.steps[0] (responses.turn):
Traceback (most recent call last):
  File "/work/main/harness/adapters/driver.py", line 182, in handle
harness.errors.AdapterError: the driver crashed (exit code 1) during responses.turn
--- driver stderr ---
RuntimeError: unknown event type 'response._'"""
COMMAND_FAILED = """while running client.steps[1] (realtime.text):
harness.errors.AdapterError: the implementation failed on command 2: AttributeError: 'NoneType' object has no attribute 'send'
Traceback (most recent call last):"""
IN_PROCESS = """while running client.steps[0] (responses.turn):
Traceback (most recent call last):
  File "x.py", line 1, in f
KeyError: 'response'"""


@pytest.mark.parametrize(("error", "signature"), [
    (DRIVER_DIED, "crash: process died (exit code 1)"),
    (COMMAND_FAILED, "crash: command failed: AttributeError"),
    (IN_PROCESS, "crash: raised KeyError"),
    ("the implementation failed to shut down:\nTimeoutError", "crash: failed to shut down"),
    ("the driver wrote a line that is not JSON: 'x'", "crash: driver protocol violated"),
])
def test_crashes(error, signature):
    found = classify("error", error, [])
    assert found is not None and found.kind == "crash" and found.signature == signature


def test_a_hang_names_its_step():
    found = classify("timeout", "the case did not finish within its bound of 10s while running client.steps[0] (responses.turn)", [])
    assert found is not None and found.signature == "hang: during responses.turn"


@pytest.mark.parametrize("message", [
    "KeyError: 'type'",
    "TypeError: 'NoneType' object is not subscriptable",
    "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
    "JSONDecodeError: Unterminated string starting at: line 1 column 9 (char 8)",
    "failed to connect realtime websocket: AttributeError: x",
    "thread 'tokio-runtime-worker' panicked at core/src/codex.rs:12:5",
    "TypeError: Cannot read properties of undefined (reading 'id')",
    "Uncaught RangeError: Maximum call stack size exceeded",
])
def test_escaped_exceptions(message):
    assert ESCAPED.fullmatch(message)
    found = classify("completed", "", [(0.1, {"type": "turn.started"}), (0.2, {"type": "error", "message": message})])
    assert found is not None and found.kind == "escaped"


@pytest.mark.parametrize("message", [
    "stream disconnected before completion: error decoding response body",
    "APIConnectionError: Connection error. (RemoteProtocolError: peer closed connection)",
    "BadRequestError: Error code: 400 - {'error': {'message': 'bad'}}",
    "realtime websocket connection is closed",
    "unexpected status 500 Internal Server Error: boom",
    "the server sent invalid JSON",
    "APITimeoutError: Request timed out.",
])
def test_handled_errors_are_not_findings(message):
    assert not ESCAPED.fullmatch(message)
    assert classify("completed", "", [(0.1, {"type": "error", "message": message})]) is None


def test_a_clean_run_and_the_order_of_severity():
    assert classify("completed", "", [(0.1, {"type": "turn.completed", "status": "failed"})]) is None
    escaped = [(0.1, {"type": "realtime.error", "message": "KeyError: 'x'"})]
    assert classify("completed", "", escaped).kind == "escaped"  # type: ignore[union-attr]
    assert classify("timeout", "while running client.steps[0] (realtime.start)", escaped).kind == "hang"  # type: ignore[union-attr]
    assert classify("error", DRIVER_DIED, escaped).kind == "crash"  # type: ignore[union-attr]
