"""Rules every bundled case keeps, beyond its schema: a stated layer, its evidence, focus.

A case asserts what its title claims, in the right layer, and nothing else. Three of
those rules can be checked mechanically: the case states its default layer, it says
where its facts come from, and bookkeeping events (telemetry, rate limits) appear only
in cases about them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from harness.case.catalog import load_catalog
from harness.case.loader import SCHEMA_BASE, schema_registry
from harness.paths import CASES_DIR
from harness.verdict.events import event_types


ENTRIES = load_catalog([CASES_DIR])
CASES = [e.case for e in ENTRIES if e.case is not None]
BOOKKEEPING = {
    "telemetry": (re.compile(r"^telemetry\."), re.compile(r"telemetry")),
    "rate limits": (re.compile(r"^responses\.rate_limits$"), re.compile(r"rate[-_ ]limit")),
}


def _vocabulary() -> set[str]:
    names: set[str] = set()
    for area in ("common", "realtime", "responses", "auth"):
        names |= set(schema_registry().contents(f"{SCHEMA_BASE}events/{area}.schema.json").get("$defs", {}))
    return names


def _named_types(case: Any) -> Iterator[str]:
    """Every event type a case's assertions and waits name."""
    for a in case.events:
        for m in (*a.matchers, *(a.after or {}).values()):
            yield from event_types(m)
        for alt in a.non_strict:
            for m in alt.matchers:
                yield from event_types(m)
        yield from a.of
    for t in case.timing:
        yield from event_types(t.from_event) | event_types(t.to_event)
    for step in case.steps:
        if step.op == "wait":
            yield from event_types(step.args["event"])


def test_every_bundled_case_loads():
    assert [str(err) for e in ENTRIES for err in e.errors] == []
    assert len(CASES) >= 280


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_states_its_layer_and_its_evidence(case):
    raw = yaml.safe_load(case.file.read_text(encoding="utf-8"))
    assert raw.get("layer") in ("protocol", "codex"), f"{case.file}: state the case's default layer (layer: protocol | codex)"
    assert len(case.notes.strip()) >= 40, f"{case.file}: notes must give the evidence (codex-rs path at the modelled revision, seeds, or an observed run)"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bookkeeping_events_only_in_cases_about_them(case):
    for what, (event_type, subject) in BOOKKEEPING.items():
        named = sorted({t for t in _named_types(case) if event_type.match(t)})
        if named:
            assert subject.search(case.id) or subject.search(case.title), (
                f"{case.file}: asserts {', '.join(named)} but is not a case about {what} (its id or title says so)"
            )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_asserted_event_types_are_in_the_vocabulary(case):
    unknown = sorted(set(_named_types(case)) - _vocabulary())
    assert unknown == [], f"{case.file}: {json.dumps(unknown)} are not in schemas/events.schema.json"
