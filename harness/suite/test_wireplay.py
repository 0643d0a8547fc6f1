"""Every case of the selected suite is one parametrized item of this test."""

from __future__ import annotations

import pytest

from harness.verdict.outcome import Outcome


def test_case(wireplay_entry, wireplay_entry_result):
    result = wireplay_entry_result(wireplay_entry)
    if result.outcome is Outcome.UNSUPPORTED:
        pytest.skip(f"UNSUPPORTED: {result.detail}")
    if not result.outcome.ok:
        pytest.fail(f"{result.outcome.value}: {wireplay_entry.id}\n{result.detail}", pytrace=False)
