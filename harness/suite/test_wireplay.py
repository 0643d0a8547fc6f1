"""Every case of the selected suite is one parametrized item of this test."""

from __future__ import annotations

import pytest

from harness.verdict.outcome import Outcome


def test_case(wireplay_entry, wireplay_entry_result, wireplay_known):
    entry = wireplay_entry_result(wireplay_entry)
    result = entry.result
    known = wireplay_known.get(wireplay_entry.id)
    # The implementation's own event log changed: a regression lock, never the verdict.
    changed = f"\n\nits snapshot changed:\n{entry.snapshot_problem}" if entry.snapshot_problem else ""
    if known is not None and result.outcome is known.outcome:
        if changed:
            pytest.fail(f"known {known.outcome.value}, but{changed}", pytrace=False)
        pytest.xfail(f"known {known.outcome.value} ({known.cls.value}): {known.why}")
    if known is not None and result.outcome is Outcome.PASS:
        pytest.fail(f"unexpected PASS: {wireplay_entry.id} was known to be {known.outcome.value} ({known.why}); remove its expectation", pytrace=False)
    if result.outcome is Outcome.UNSUPPORTED:
        pytest.skip(f"UNSUPPORTED: {result.detail}")
    if not result.outcome.ok:
        pytest.fail(f"{result.outcome.value}: {wireplay_entry.id}\n{result.detail}{changed}", pytrace=False)
    if changed:
        pytest.fail(f"{result.outcome.value}, but{changed}", pytrace=False)
