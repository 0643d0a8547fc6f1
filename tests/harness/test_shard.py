"""Shards: a partition of the cases by id alone, stable when cases are added."""

from __future__ import annotations

import json

import pytest

from harness.report.merge import MergeError, merge_reports
from harness.shard import Shard, parse_shard


IDS = [f"area{i % 5}.case-{i}" for i in range(400)]


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_the_shards_partition_the_cases(count):
    shards = [Shard(i, count) for i in range(1, count + 1)]
    held = [[c for c in IDS if s.holds(c)] for s in shards]
    assert sorted(c for part in held for c in part) == sorted(IDS)  # every case once
    assert all(len(part) > len(IDS) / count / 2 for part in held)  # and roughly even


def test_adding_cases_moves_no_existing_case():
    before = {c: next(i for i in range(1, 5) if Shard(i, 4).holds(c)) for c in IDS}
    more = IDS + [f"new.case-{i}" for i in range(100)]
    after = {c: next(i for i in range(1, 5) if Shard(i, 4).holds(c)) for c in more}
    assert all(after[c] == before[c] for c in IDS)


@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "a/b", "1-2", ""])
def test_a_bad_shard_says_the_form(text):
    with pytest.raises(ValueError, match=r"expected i/n with 1 <= i <= n"):
        parse_shard(text)


def test_parse_shard():
    assert parse_shard(" 2/4 ") == Shard(2, 4) and str(Shard(2, 4)) == "2/4"


def _report(impl, ids, tmp_path, name):
    path = tmp_path / name
    path.write_text(json.dumps({"implementation": impl, "implementation_version": "1.0", "cases": [{"id": i, "outcome": "PASS"} for i in ids]}))
    return json.loads(path.read_text()), path


def test_merging_shards_gives_one_report_per_implementation(tmp_path):
    a, pa = _report("x", ["b.2", "a.1"], tmp_path, "a.json")
    b, pb = _report("x", ["c.3"], tmp_path, "b.json")
    c, pc = _report("y", ["a.1"], tmp_path, "c.json")
    merged = merge_reports([a, b, c], sources=[pa, pb, pc])
    assert [(r["implementation"], [x["id"] for x in r["cases"]]) for r in merged] == [("x", ["a.1", "b.2", "c.3"]), ("y", ["a.1"])]


def test_a_case_in_two_shards_is_an_error_naming_both_files(tmp_path):
    a, pa = _report("x", ["a.1"], tmp_path, "a.json")
    b, pb = _report("x", ["a.1"], tmp_path, "b.json")
    with pytest.raises(MergeError, match=r"b\.json: case a\.1 of x is also in .*a\.json"):
        merge_reports([a, b], sources=[pa, pb])
