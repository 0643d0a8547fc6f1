"""The subprocess driver seam: a correct driver, and every hostile one, reported per case.

No hostile driver may stop the run, hang it, or leave a process behind.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

import pytest

from harness.adapters.driver import DriverAdapter
from harness.case.loader import parse_case_text
from harness.errors import AdapterError
from harness.layer import Layer
from harness.runner import judge, run_case
from harness.verdict.finding import Plane
from harness.verdict.outcome import Outcome


HOSTILE = Path(__file__).resolve().parent.parent / "drivers" / "hostile.py"
CASE_TEXT = """
id: foundation.driver.sample
title: one request through a driver
seed: foundation
requires: [responses.sse]
timeout: 4
client:
  steps:
    - responses.turn: {input: hi}
server:
  exchanges:
    - http: {method: POST, path: /v1/responses}
      respond: {status: 200}
expect:
  events:
    - sequence: [{type: turn.completed, status: 200}]
    - count: {type: responses.output_text_delta}
      n: 0
"""
CASE = parse_case_text(CASE_TEXT, file=Path("cases/foundation/driver.yaml"))


TOKEN = f"wireplay-test-{uuid.uuid4().hex}"  # per test run: parallel workers don't see each other


def adapter(mode: str) -> DriverAdapter:
    return DriverAdapter(command=[sys.executable, str(HOSTILE), mode, TOKEN], hello_timeout=2)


def children_of_hostile() -> list[str]:
    """This test run's hostile drivers (and their grandchildren) still running."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = (Path("/proc") / pid / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if TOKEN in cmdline:
            found.append(f"{pid}: {cmdline}")
    return found


@pytest.fixture(autouse=True)
def nothing_left_behind():
    yield
    deadline = time.monotonic() + 3
    while children_of_hostile() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert children_of_hostile() == []


def test_a_correct_driver_passes_and_says_who_it_is():
    a = adapter("ok")
    assert (a.name, a.capabilities, a.layers) == ("hostile-ok", frozenset({"responses.sse"}), frozenset({Layer.PROTOCOL}))
    result = judge(run_case(CASE, adapter=a))
    assert result.outcome is Outcome.PASS, result.detail
    assert result.implementation == "hostile-ok"


def test_hang_is_a_timeout():
    result = judge(run_case(CASE, adapter=adapter("hang"), timeout=1))
    assert result.outcome is Outcome.TIMEOUT


def test_crash_is_an_error_with_exit_code_and_stderr_tail():
    result = judge(run_case(CASE, adapter=adapter("crash")))
    assert result.outcome is Outcome.ERROR
    assert "the driver crashed (exit code 3) during responses.turn" in result.detail
    assert "fatal: the client fell over" in result.detail


def test_stderr_flood_is_drained_and_only_its_tail_kept():
    result = judge(run_case(CASE, adapter=adapter("flood")))
    assert result.outcome is Outcome.PASS, result.detail


def test_garbage_on_stdout_is_an_error_naming_the_line():
    result = judge(run_case(CASE, adapter=adapter("garbage")))
    assert result.outcome is Outcome.ERROR
    assert "the driver wrote a line that is not JSON: 'this is not json'" in result.detail


def test_a_driver_that_never_ends_is_killed():
    started = time.monotonic()
    result = judge(run_case(CASE, adapter=adapter("immortal")))
    assert result.outcome is Outcome.PASS, result.detail
    assert time.monotonic() - started < 8


def test_grandchildren_are_killed_with_the_group():
    result = judge(run_case(CASE, adapter=adapter("spawn")))
    assert result.outcome is Outcome.PASS, result.detail


def test_a_driver_that_never_says_hello_is_reported():
    with pytest.raises(AdapterError, match="did not say hello"):
        _ = adapter("silent").capabilities


def test_an_event_flood_is_recorded_not_fatal():
    # 50 000 events take a few seconds on a loaded machine: the bound is generous on purpose.
    run = run_case(CASE, adapter=adapter("event-flood"), timeout=60)
    result = judge(run)
    assert result.outcome is Outcome.FAIL  # the flood breaks the count assertion, and the run went on
    assert len(run.events) == 50_001
    assert [f.message for f in result.findings] == [
        'expect.events[1].count: expected exactly 0 event(s) matching {"type": "responses.output_text_delta"}, got 50000']


def test_garbage_on_the_wire_is_a_clear_wire_failure_and_no_port_is_left():
    import socket

    run = run_case(CASE, adapter=adapter("wire-garbage"))
    result = judge(run)
    assert result.outcome is Outcome.FAIL
    wire = [f.message for f in result.findings if f.plane is Plane.WIRE]
    assert any("client sent invalid HTTP" in f for f in wire)
    assert "server.exchanges[0].expect" not in " ".join(wire)
    port = next(r["port"] for r in run.wire_log if r["kind"] == "listen")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)


def test_a_driver_that_serves_many_cases_keeps_one_process_until_it_fails():
    many = adapter("many")
    many.keep_processes = True
    crash = parse_case_text(CASE_TEXT.replace("input: hi", "input: crash"), file=Path("cases/foundation/driver.yaml"))

    def pid(run) -> str:
        return next(e["message"] for _, e in run.events if e["type"] == "warning")

    with asyncio.Runner() as loop:
        first = [pid(run_case(CASE, adapter=many, loop=loop)) for _ in range(3)]
        assert len(set(first)) == 1  # one process served the three cases
        assert judge(run_case(crash, adapter=many, loop=loop)).outcome is Outcome.ERROR
        after = run_case(CASE, adapter=many, loop=loop)
        assert judge(after).outcome is Outcome.PASS
        assert pid(after) != first[0]  # the crash cost its process; the next case got a fresh one
        loop.run(many.aclose())
