"""The cases/auth suite: naming, seeds, and no token value in any snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml


ROOT = Path(__file__).resolve().parents[3]
CASES = sorted((ROOT / "cases" / "auth").glob("*.yaml"))
SNAPSHOTS = ROOT / "cases" / "auth" / "__snapshots__" / "reference"
EVENTS = json.loads((ROOT / "schemas/events/auth.schema.json").read_text())


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 20


def test_ids_seeds_and_requires() -> None:
    for path in CASES:
        case = _load(path)
        assert case["id"] == "auth." + path.stem.replace("-", ".", 1), path
        assert case["seed"] == "auth-401-observability", path  # the recovery machine and its tags
        assert any(r.startswith("auth.") for r in case["requires"]), path
        assert (SNAPSHOTS / f"{case['id']}.jsonl").is_file(), path


def test_no_token_value_reaches_a_snapshot() -> None:
    tokens = set()
    for path in CASES:
        tokens |= {v.removeprefix("Bearer ") for v in _load(path).get("x-tokens", {}).values()}
    assert len(tokens) >= 5
    for snapshot in SNAPSHOTS.glob("*.jsonl"):
        text = snapshot.read_text()
        leaked = [t[:12] for t in tokens if t in text]
        assert not leaked, (snapshot.name, leaked)


def test_every_auth_event_of_the_snapshots_is_in_the_auth_vocabulary() -> None:
    validator = jsonschema.Draft202012Validator(EVENTS)
    seen = set()
    for snapshot in SNAPSHOTS.glob("*.jsonl"):
        for line in snapshot.read_text().splitlines():
            event = json.loads(line)
            if event["type"].startswith("auth."):
                seen.add(event["type"])
                assert list(validator.iter_errors(event)) == [], (snapshot.name, line)
    assert {"auth.request", "auth.recovery", "auth.loaded", "auth.refresh", "auth.current",
            "auth.recovery_state", "auth.recovery_step"} <= seen
