"""The malformed-case corpus: each file names the exact error it must produce.

``tests/malformed/foundation/<name>.yaml`` starts with ``# error: <line>: <field>: <message>``;
loading it must fail with exactly ``<file>:<line>: <field>: <message>`` — file, line,
field path and what was expected, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.case.catalog import load_catalog
from harness.case.loader import case_problems


CORPUS = Path(__file__).resolve().parent.parent / "malformed"
FILES = sorted((CORPUS / "foundation").glob("*.yaml"))


def test_corpus_is_big_enough():
    assert len(FILES) >= 30


@pytest.mark.parametrize("file", FILES, ids=[f.stem for f in FILES])
def test_malformed_case_gives_its_exact_error(file: Path):
    text = file.read_text()
    expected = text.splitlines()[0].removeprefix("# error: ")
    problems = case_problems(text, file=file, cases_root=CORPUS)
    assert problems, "the malformed case was accepted"
    assert str(problems[0]) == f"{file}:{expected}"


def test_duplicate_ids_and_missing_snapshots_are_catalog_errors(tmp_path: Path):
    area = tmp_path / "cases" / "foundation"
    area.mkdir(parents=True)
    body = "id: foundation.same\ntitle: a case\nseed: foundation\nclient:\n  steps:\n    - sleep: 0\nserver:\n  exchanges: []\n"
    (area / "a.yaml").write_text(body)
    (area / "b.yaml").write_text(body)
    entries = load_catalog([tmp_path / "cases"], check_snapshots=True)
    messages = [str(e) for entry in entries for e in entry.errors]
    assert f"{area / 'a.yaml'}: expect.snapshot: missing snapshot {area / '__snapshots__' / 'reference' / 'foundation.same.jsonl'}; run `wireplay run --snapshot-update` (or pytest --snapshot-update) and review it" in messages
    assert f"{area / 'b.yaml'}:1: id: duplicate id 'foundation.same', also used by {area / 'a.yaml'}; ids must be unique" in messages
