"""The wire log a report keeps: head and tail of a flood, long strings cut with their length."""

from __future__ import annotations

import json

from harness.report.json_report import write_report
from harness.report.wire_log import MAX_RECORDS, MAX_TEXT, bounded_wire_log


def test_a_short_log_is_kept_whole():
    log = [{"kind": "ws_recv", "conn": 1, "text": "x" * 10}, {"kind": "disconnect", "conn": 1}]
    assert bounded_wire_log(log) == log


def test_a_flood_keeps_its_head_and_tail_and_says_how_much_was_left_out():
    log = [{"kind": "ws_recv", "n": i} for i in range(3000)]
    kept = bounded_wire_log(log)
    assert len(kept) == MAX_RECORDS + 1
    assert kept[0] == {"kind": "ws_recv", "n": 0} and kept[-1] == {"kind": "ws_recv", "n": 2999}
    (elided,) = [r for r in kept if r["kind"] == "elided"]
    assert elided["records"] == 3000 - MAX_RECORDS
    assert [r["n"] for r in kept if "n" in r] == [*range(300), *range(3000 - (MAX_RECORDS - 300), 3000)]


def test_long_strings_are_cut_with_their_length_nested_too():
    (record,) = bounded_wire_log([{"kind": "ws_recv", "text": "a" * 5000, "json": {"audio": "b" * 4096, "type": "x"}}])
    assert record["text"] == "a" * MAX_TEXT + "… (5000 chars)"
    assert record["json"] == {"audio": "b" * MAX_TEXT + "… (4096 chars)", "type": "x"}


def test_the_json_report_holds_the_bounded_log(tmp_path):
    results = [{"id": "x.y", "outcome": "PASS", "wire_log": [{"kind": "ws_recv", "text": "z" * 9000}] * 2000}]
    write_report(tmp_path / "r.json", results=results, implementation="reference")
    (case,) = json.loads((tmp_path / "r.json").read_text())["cases"]
    assert len(case["wire_log"]) == MAX_RECORDS + 1
    assert (tmp_path / "r.json").stat().st_size < 2_000_000
