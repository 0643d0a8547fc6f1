"""Every event in every snapshot belongs to the documented neutral vocabulary.

Snapshots are what every implementation is compared with, so each of their events
must validate against schemas/events.schema.json (placeholders put back as values).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.paths import CASES_DIR
from harness.vocabulary import vocabulary_problems


def _unplaceholder(value):
    if isinstance(value, dict):
        return {k: _unplaceholder(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unplaceholder(v) for v in value]
    if value == "<duration>":
        return 0
    return value


SNAPSHOTS = sorted(CASES_DIR.glob("*/__snapshots__/*/*.jsonl"))
LINES = [(snap, i, line) for snap in SNAPSHOTS for i, line in enumerate(snap.read_text().splitlines(), 1)]


def test_there_are_snapshots():
    assert len(SNAPSHOTS) > 10


@pytest.mark.parametrize(("snap", "lineno", "line"), LINES, ids=[f"{s.stem}:{i}" for s, i, _ in LINES])
def test_snapshot_event_is_in_the_vocabulary(snap: Path, lineno: int, line: str):
    event = _unplaceholder(json.loads(line))
    assert vocabulary_problems(event) == [], f"{snap}:{lineno}"


def test_unknown_and_malformed_events_are_named():
    assert vocabulary_problems({"type": "turn.exploded"}) == ["event type 'turn.exploded' is not in the vocabulary (schemas/events.schema.json)"]
    problems = vocabulary_problems({"type": "conversation.closed", "reason": 5})
    assert problems and problems[0].startswith("event 'conversation.closed' field reason:")


def _event_types() -> set[str]:
    types: set[str] = set()
    for schema in sorted((CASES_DIR.parent / "schemas" / "events").glob("*.schema.json")):
        for definition in json.loads(schema.read_text())["$defs"].values():
            declared = definition.get("properties", {}).get("type", {})
            types.update([declared["const"]] if "const" in declared else declared.get("enum", []))
    return types


def test_every_event_type_is_in_the_readme_table():
    readme = (CASES_DIR.parent / "README.md").read_text()
    table = readme[readme.index("## The event vocabulary"):]
    table = table[: table.index("\n## ")]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    missing = sorted(t for t in _event_types() if not any(f"`{t}`" in row for row in rows))
    assert len(_event_types()) > 40
    assert missing == [], "event types missing from the README's event table"
