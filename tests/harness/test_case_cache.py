"""The case cache: a hit only for the same file, root, bytes and loader; never stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.case import cache as cache_module
from harness.case.catalog import load_catalog


CASE = """id: foundation.cache.{name}
title: {title}
client:
  steps:
    - sleep: 0
server:
  exchanges: []
expect:
  snapshot: false
"""


@pytest.fixture(autouse=True)
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WIREPLAY_CACHE_DIR", str(tmp_path / "store"))
    monkeypatch.delenv("WIREPLAY_NO_CACHE", raising=False)
    return tmp_path / "store"


def _suite(tmp_path: Path, **titles: str) -> Path:
    area = tmp_path / "cases" / "foundation"
    area.mkdir(parents=True, exist_ok=True)
    for name, title in titles.items():
        (area / f"{name}.yaml").write_text(CASE.format(name=name, title=title))
    return tmp_path / "cases"


def test_a_second_load_is_served_from_the_store_and_equal(tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch):
    suite = _suite(tmp_path, a="first", b="second")
    first = load_catalog([str(suite)])
    assert list(store.glob("cases-*.pickle"))
    calls = []
    monkeypatch.setattr("harness.case.catalog.analyse_case_text", lambda *a, **k: calls.append(1))
    again = load_catalog([str(suite)])
    assert calls == []  # nothing parsed again
    assert [(e.id, e.case.title) for e in again] == [(e.id, e.case.title) for e in first] == [("foundation.cache.a", "first"), ("foundation.cache.b", "second")]


def test_a_changed_file_is_parsed_again(tmp_path: Path):
    suite = _suite(tmp_path, a="first")
    load_catalog([str(suite)])
    (suite / "foundation" / "a.yaml").write_text(CASE.format(name="a", title="changed"))
    (entry,) = load_catalog([str(suite)])
    assert entry.case.title == "changed"


def test_errors_are_kept_too_and_a_fixed_file_is_not_served_stale(tmp_path: Path):
    suite = _suite(tmp_path, a="first")
    (suite / "foundation" / "a.yaml").write_text("id: foundation.cache.a\ntitle: [unclosed\n")
    (broken,) = load_catalog([str(suite)])
    assert broken.case is None and broken.errors
    (again,) = load_catalog([str(suite)])
    assert [str(e) for e in again.errors] == [str(e) for e in broken.errors]
    (suite / "foundation" / "a.yaml").write_text(CASE.format(name="a", title="fixed"))
    (fixed,) = load_catalog([str(suite)])
    assert fixed.case is not None and fixed.case.title == "fixed"


def test_another_loader_or_schema_is_another_store(tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch):
    suite = _suite(tmp_path, a="first")
    load_catalog([str(suite)])
    monkeypatch.setattr(cache_module, "_fingerprint", lambda: "other-code")
    load_catalog([str(suite)])
    assert len(list(store.glob("cases-*.pickle"))) == 2  # the old code's analyses are never read


def test_a_corrupt_or_unwritable_store_only_costs_time(tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch):
    suite = _suite(tmp_path, a="first")
    load_catalog([str(suite)])
    for f in store.glob("cases-*.pickle"):
        f.write_bytes(b"not a pickle")
    (entry,) = load_catalog([str(suite)])
    assert entry.case.title == "first"
    monkeypatch.setenv("WIREPLAY_CACHE_DIR", str(tmp_path / "a-file"))
    (tmp_path / "a-file").write_text("not a folder")
    (entry,) = load_catalog([str(suite)])
    assert entry.case.title == "first"


def test_no_cache_when_turned_off(tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WIREPLAY_NO_CACHE", "1")
    load_catalog([str(_suite(tmp_path, a="first"))])
    assert not store.exists()
