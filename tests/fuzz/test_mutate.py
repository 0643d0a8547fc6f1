"""The mutation strategies and their application: pure, no socket.

Each operation on a small server script, then a property over the default bases: any
plan applies, leaves its input untouched, and the finding file it would become
validates and holds exactly the mutated script.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.case.loader import analyse_case_text
from harness.fuzz.bases import select_bases
from harness.fuzz.case import (
    ESCAPED_ASSERTION,
    example_case,
    finding_mapping,
    fuzz_config,
    plan_key,
)
from harness.fuzz.engine import _yaml_text
from harness.fuzz.mutate import STALL_SECONDS, Cut, Mutation, Slot, apply, cuts, slots
from harness.fuzz.strategies import HUGE_MAX, HUGE_MIN, mutations, plans
from harness.implementations import adapter_for


CREATED = {"type": "response.created", "response": {"id": "resp_1", "status": "in_progress"}}
DELTA = {"type": "response.output_text.delta", "delta": "Hel", "output_index": 0}
DONE = {"type": "response.completed", "response": {"id": "resp_1", "usage": {"total_tokens": 3}}}
SERVER = {
    "ordered": False,
    "exchanges": [
        {"http": {"method": "POST", "path": "/v1/responses"}, "respond": {"sse": [{"event": CREATED}, {"sleep": 0.1}, {"event": DELTA}, {"event": DONE}]}},
        {"websocket": {"path": "/v1/responses"}, "script": [{"expect": {"$any": "value"}}, {"send": CREATED}, {"send_text": "not json"}, {"send_binary": "AAE="}]},
        {"http": {"method": "GET", "path": "/v1/models"}, "respond": {"status": 200, "json": {"data": []}}},
        {"websocket": {"path": "/v1/realtime"}, "reject": {"status": 401, "json": {"error": {"message": "no"}}}},
    ],
}


def test_slots_and_cuts():
    assert slots(SERVER) == [Slot(0, "sse", 0), Slot(0, "sse", 2), Slot(0, "sse", 3), Slot(1, "ws", 1), Slot(1, "ws", 2),
                             Slot(1, "ws", 3), Slot(2, "body", -1), Slot(3, "body", -1)]
    found = cuts(SERVER)
    assert found[:5] == [Cut(0, "sse", 0), Cut(0, "sse", 1), Cut(0, "sse", 2), Cut(0, "sse", 3), Cut(0, "sse", 4)]
    assert Cut(0, "http", 0) in found and Cut(1, "upgrade", 0) in found and Cut(2, "http", 0) in found
    assert [c for c in found if c.exchange == 3] == []  # a refused upgrade has nothing to cut


def test_apply_is_pure():
    before = copy.deepcopy(SERVER)
    apply(SERVER, [Mutation("drop", 1), Mutation("arbitrary", 0, value=[1]), Mutation("duplicate", 3, arg=2)])
    assert before == SERVER


def sse_of(server):
    return server["exchanges"][0]["respond"]["sse"]


def test_value_operations():
    assert sse_of(apply(SERVER, [Mutation("arbitrary", 0, value=[1, "x"])]))[0] == {"data": '[1,"x"]'}
    assert sse_of(apply(SERVER, [Mutation("arbitrary", 0, value={"type": "x"})]))[0] == {"event": {"type": "x"}}
    assert sse_of(apply(SERVER, [Mutation("arbitrary", 8, value="\ud800")]))[0] == {"data": '"\\ud800"'}  # escaped, not raw
    truncated = sse_of(apply(SERVER, [Mutation("truncate", 1, arg=12)]))[2]
    assert truncated == {"data": json.dumps(DELTA, separators=(",", ":"))[:12]}
    wrong = sse_of(apply(SERVER, [Mutation("wrong_type", 1, arg=1, value="abc")]))[2]  # path 1: "delta" (a string)
    assert wrong == {"event": {**DELTA, "delta": 0}}  # same type given: another type is used
    wrong = sse_of(apply(SERVER, [Mutation("wrong_type", 2, arg=4, value=None)]))[3]  # a nested field
    assert wrong["event"]["response"]["usage"]["total_tokens"] is None
    huge = sse_of(apply(SERVER, [Mutation("huge_string", 1, arg=0, value=HUGE_MIN)]))[2]["event"]
    assert huge["type"] == DELTA["type"] and huge["delta"] == "x" * HUGE_MIN  # never the type: that is unknown_type
    body = apply(SERVER, [Mutation("truncate", 6, arg=5)])["exchanges"][2]["respond"]
    assert body == {"status": 200, "text": '{"dat'}
    body = apply(SERVER, [Mutation("arbitrary", 7, value=["é"])])["exchanges"][3]["reject"]
    assert body == {"status": 401, "text": '["\\u00e9"]', "headers": {"content-type": "application/json"}}


def test_sequence_operations():
    unknown = sse_of(apply(SERVER, [Mutation("unknown_type", 1, value=("future.thing", {"x": 1}))]))
    assert unknown[2] == {"event": {"x": 1, "type": "future.thing"}} and unknown[3] == {"event": DELTA}
    dup = sse_of(apply(SERVER, [Mutation("duplicate", 0, arg=2)]))
    assert dup[:4] == [{"event": CREATED}] * 4
    swapped = sse_of(apply(SERVER, [Mutation("reorder", 0, arg=2)]))
    assert swapped[0] == {"event": DONE} and swapped[3] == {"event": CREATED}
    script = apply(SERVER, [Mutation("reorder", 3, arg=1)])["exchanges"][1]["script"]
    assert script[1] == {"send_text": "not json"} and script[2] == {"send": CREATED}  # peers within one exchange only


def test_cut_operations():
    sse = apply(SERVER, [Mutation("drop", 2, arg=1)])["exchanges"][0]["respond"]
    assert sse["sse"] == [{"event": CREATED}, {"sleep": 0.1}] and sse["end"] == "reset"
    assert apply(SERVER, [Mutation("stall", 1)])["exchanges"][0]["respond"]["end"] == "hang"
    http = apply(SERVER, [Mutation("drop", 5)])["exchanges"][0]["respond"]
    assert http["abort"] == "drop"
    assert apply(SERVER, [Mutation("stall", 5)])["exchanges"][0]["respond"]["delay"] == STALL_SECONDS
    ws = apply(SERVER, [Mutation("close", 2, arg=7)])["exchanges"][1]
    assert ws["script"] == [{"expect": {"$any": "value"}}, {"send": CREATED}, {"close": {"code": 1011, "reason": ""}}]
    ws = apply(SERVER, [Mutation("stall", 7)])["exchanges"][1]
    assert ws["script"][-1] == {"stall": None} and len(ws["script"]) == 2
    upgrade = apply(SERVER, [Mutation("drop", 11)])["exchanges"][1]
    assert upgrade["reject"] == {"abort": "drop"} and "script" not in upgrade
    upgrade = apply(SERVER, [Mutation("stall", 11)])["exchanges"][1]
    assert upgrade["accept"] == {"delay": STALL_SECONDS} and upgrade["script"] == []


def test_a_mutation_with_nothing_to_apply_to_changes_nothing():
    empty = {"exchanges": [{"http": {"method": "GET", "path": "/x"}, "respond": {"status": 204}}]}
    assert apply(empty, [Mutation(op) for op in ("arbitrary", "truncate", "duplicate", "reorder", "close")]) == empty
    with pytest.raises(ValueError, match="unknown mutation"):
        apply(empty, [Mutation("explode")])


def test_the_client_config_is_bounded():
    config = fuzz_config({"responses": {"stream_idle_timeout_ms": 200, "request_max_retries": 3}, "realtime": {}, "env": {"A": "b"}})
    assert config["responses"] == {"stream_idle_timeout_ms": 200, "request_max_retries": 1, "stream_max_retries": 1, "retry_base_delay_ms": 10}
    assert config["realtime"] == {"close_timeout_ms": 500, "open_timeout_ms": 2000} and config["env"] == {"A": "b"}


@settings(max_examples=200, deadline=None)
@given(mutations())
def test_strategies_build_known_operations(m):
    assert m.op in ("arbitrary", "truncate", "wrong_type", "unknown_type", "huge_string", "duplicate", "reorder", "drop", "stall", "close")
    assert 0 <= m.at and 0 <= m.arg
    if m.op == "huge_string":
        assert HUGE_MIN <= m.value <= HUGE_MAX


BASES, _ = select_bases([], adapter_for(impl="reference"))


def test_the_default_bases_are_relaxed():
    assert [b.case.id for b in BASES] == ["responses.events.sse-mapping", "responses.events.sse-function-call", "responses.events.ws-mapping",
                                         "realtime.inbound-v2.response-lifecycle", "realtime.inbound-v1.items"]
    for base in BASES:
        case = example_case(base, [])
        assert case.events == (ESCAPED_ASSERTION,) and case.wire == () and case.timing == ()
        for ex in base.server["exchanges"]:
            assert "expect" not in ex and ex["times"]["min"] == 0
            assert all(set(step) - {"timeout"} != {"expect"} or step["expect"] == {"$any": "value"} for step in ex.get("script", []))
        for step in case.steps:
            if step.op == "wait":
                assert step.args["timeout"] <= 1.0 and "$any_of" in step.args["event"]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(0, len(BASES) - 1), plans())
def test_any_plan_becomes_a_valid_case_file_holding_exactly_that_script(tmp_path_factory, base_index, plan):
    base = BASES[base_index]
    key = plan_key(base_index, plan)
    data = finding_mapping(base, plan, kind="crash", signature="crash: test", detail="x", seed=1, implementation="t", key=key)
    root = tmp_path_factory.mktemp("cases")
    file = Path(root) / base.case.area / "finding.yaml"
    file.parent.mkdir()
    text = _yaml_text(data)
    loaded, problems = analyse_case_text(text, file=file, cases_root=Path(root))
    assert problems == [], "\n".join(map(str, problems))
    assert loaded is not None
    assert json.dumps(loaded.server, sort_keys=True) == json.dumps(data["server"], sort_keys=True)
    assert loaded.server == example_case(base, plan).server
