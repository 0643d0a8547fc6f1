"""A case's floor: the least time its scripted waits impose, never an estimate."""

from __future__ import annotations

from pathlib import Path

from harness.case.floor import case_floor
from harness.case.loader import load_case


HEAD = """id: responses.floor.{name}
title: a case whose floor is known
layer: protocol
notes: a floor test
"""


def _floor(tmp_path: Path, name: str, body: str) -> float:
    path = tmp_path / "cases" / "responses" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEAD.format(name=name) + body)
    return case_floor(load_case(path))


def test_sleeps_and_pace_before_the_last_interaction_count_a_trailing_sleep_does_not(tmp_path: Path):
    body = """client:
  config: {responses: {model: m, api_key: sk-floor-1, transport: websocket}}
  steps:
    - responses.turn: {input: hi}
server:
  exchanges:
    - websocket: {path: /v1/responses}
      pace: 0.1
      script:
        - expect: {type: response.create}
        - sleep: 0.5
        - send: {type: response.created, response: {id: r}}
        - send: {type: response.completed, response: {id: r, status: completed}}
        - sleep: 9
"""
    assert abs(_floor(tmp_path, "pace", body) - 0.7) < 1e-9  # 0.5 + two paced sends; the last sleep bounds nothing


def test_a_stalled_close_counts_the_idle_timeout_only_for_a_client_that_awaits_it(tmp_path: Path):
    body = """profile: {{responses: {{ws_await_close_on_error: {flag}}}}}
client:
  config: {{responses: {{model: m, api_key: sk-floor-2, transport: websocket, stream_idle_timeout_ms: 1000}}}}
  steps:
    - responses.turn: {{input: hi}}
server:
  exchanges:
    - websocket: {{path: /v1/responses}}
      on_close: stall
      script:
        - expect: {{type: response.create}}
        - send: {{type: response.failed, response: {{id: r, status: failed}}}}
        - expect_close: {{code: 1000}}
"""
    assert _floor(tmp_path, "awaits", body.format(flag="true")) == 1.0
    assert _floor(tmp_path, "fixed", body.format(flag="false")) == 0.0
