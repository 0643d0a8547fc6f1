"""The docs and the code agree: the examples in README.md and docs/case-format.md load.

Expectations files as the README and the case format show them load (and the form a
reader might guess, case ids at the top level, is refused instead of silently ignored);
the ``x-`` anchor example validates; ``x-`` keys are for the top level only.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from harness.case.loader import case_problems, parse_case_text
from harness.errors import CaseError
from harness.expectations import KnownClass, load_expectations
from harness.verdict.outcome import Outcome


ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
CASE_FORMAT = (ROOT / "docs" / "case-format.md").read_text()


def _yaml_blocks(text: str, containing: str) -> list[str]:
    return [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if containing in b]


@pytest.mark.parametrize(("doc", "text"), [("README.md", README), ("docs/case-format.md", CASE_FORMAT)])
def test_the_expectations_examples_load(doc: str, text: str, tmp_path: Path):
    (block,) = _yaml_blocks(text, "expectations:")
    path = tmp_path / "expectations.yaml"
    path.write_text(block)
    known = load_expectations([path])
    assert len(known) == 1, doc
    (entry,) = known.values()
    assert entry.outcome is Outcome.FAIL and isinstance(entry.cls, KnownClass) and entry.why
    declared = yaml.safe_load(block)["expectations"]
    assert set(known) == set(declared)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("foundation.sse.status-429: {outcome: FAIL, class: deviation, why: x}\n", "expected a top-level 'expectations:' mapping"),
        ("expectation:\n  a.b: {outcome: FAIL, class: deviation, why: x}\n", "expected a top-level 'expectations:' mapping"),
        ("expectations: {}\nimplementaton: x\n", "unknown key"),
        ("expectations:\n  a.b: {outcome: FAIL, class: deviation, why: x, reason: y}\n", "expected {outcome"),
    ],
    ids=["ids-at-top-level", "misspelt-key", "unknown-top-key", "unknown-entry-key"],
)
def test_a_misshapen_expectations_file_is_refused_not_ignored(body: str, message: str, tmp_path: Path):
    path = tmp_path / "e.yaml"
    path.write_text(body)
    with pytest.raises(CaseError, match=re.escape(message)):
        load_expectations([path])


def test_an_empty_expectations_file_is_no_entries(tmp_path: Path):
    path = tmp_path / "e.yaml"
    path.write_text("")
    assert load_expectations([path]) == {}


def test_the_x_anchor_example_validates():
    (block,) = _yaml_blocks(CASE_FORMAT.split("## Shared values: `x-` keys", 1)[1], "x-base")
    text = "id: foundation.docs.anchors\ntitle: the anchor example\nclient:\n  steps:\n    - sleep: 0\n" + block
    case = parse_case_text(text, file=Path("cases/foundation/anchors.yaml"))
    (exchange,) = case.server["exchanges"]
    created, completed = (step["event"]["response"] for step in exchange["respond"]["sse"])
    assert created["model"] == completed["model"] == "gpt-test"
    assert (created["status"], completed["status"]) == ("in_progress", "completed")


def test_x_keys_are_for_the_top_level_only():
    text = "id: foundation.docs.nested\ntitle: t\nclient:\n  steps:\n    - sleep: 0\nserver:\n  x-base: {a: 1}\n  exchanges: []\n"
    problems = [str(p) for p in case_problems(text, file=Path("cases/foundation/nested.yaml"))]
    assert problems and "server.x-base" in problems[0], problems
