"""Fixtures: the adapter under test, and running one suite entry to its verdict."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from fake_server.redact import redact_text
from harness.adapters.base import Adapter
from harness.case.catalog import Entry
from harness.expectations import Known, load_expectations
from harness.implementations import adapter_for
from harness.pytest_plugin.served import ServedCase
from harness.pytest_plugin.state import STATE
from harness.runner import CaseResult, judge, run_case
from harness.snapshots import CaseSnapshotExtension
from harness.verdict.outcome import Outcome


__all__ = ["wireplay_adapter", "wireplay_entry_result", "wireplay_known", "wireplay_server", "wireplay_verdict"]


@pytest.fixture(scope="session")
def wireplay_adapter(pytestconfig: pytest.Config) -> Adapter:
    """The adapter selected by --wireplay-impl / --wireplay-driver."""
    state = pytestconfig.stash[STATE]
    return adapter_for(impl=state.impl, driver=state.driver)


@pytest.fixture(scope="session")
def wireplay_known(pytestconfig: pytest.Config, wireplay_adapter: Adapter) -> Mapping[str, Known]:
    """Known outcomes: the adapter's own expectations file, then the project's files."""
    files = [Path(f) for f in [getattr(wireplay_adapter, "expectations_file", None)] if f]
    return load_expectations(files + pytestconfig.stash[STATE].expectation_files)


@pytest.fixture
def wireplay_entry_result(request: pytest.FixtureRequest, wireplay_adapter: Adapter, wireplay_known: Mapping[str, Known], snapshot: Any) -> Callable[[Entry], CaseResult]:
    """Run a suite entry, judge it (syrupy decides the events plane) and record the result."""

    def run(entry: Entry) -> CaseResult:
        if entry.case is None:
            record = {
                "id": entry.id,
                "implementation": wireplay_adapter.name,
                "outcome": Outcome.ERROR.value,
                "duration": 0.0,
                "detail": redact_text("\n".join(str(e) for e in entry.errors)),
                "wire": {"ok": False, "findings": []},
                "events": {"ok": False, "problems": [str(e) for e in entry.errors]},
                "wire_log": [],
            }
            request.node.user_properties.append(("wireplay", json.dumps(record)))
            pytest.fail("ERROR: invalid case file\n" + record["detail"], pytrace=False)
        case = entry.case
        run_ = run_case(case, adapter=wireplay_adapter)
        expected = case.snapshot_path.read_text(encoding="utf-8") if case.snapshot_path.is_file() else None
        snapshot_ok: bool | None = None
        if case.snapshot and run_.status in ("completed",):
            snapshot_ok = snapshot.use_extension(CaseSnapshotExtension) == run_.snapshot_text()
        result = judge(run_, expected=expected, snapshot_ok=snapshot_ok)
        record = result.to_json()
        known = wireplay_known.get(case.id)
        if known is not None:
            record["known"] = {"outcome": known.outcome.value, "why": known.why}
        request.node.user_properties.append(("wireplay", json.dumps(record)))
        return result

    return run


def _find_case(state_entries: list[Entry] | None, specs: list[str], case_id_or_path: str) -> Any:
    from harness.case.catalog import load_catalog
    from harness.case.loader import load_case

    if case_id_or_path.endswith((".yaml", ".yml")):
        return load_case(Path(case_id_or_path))
    entries = state_entries if state_entries is not None else load_catalog(specs or None)
    for entry in entries:
        if entry.id == case_id_or_path:
            if entry.case is None:
                raise ValueError("\n".join(str(e) for e in entry.errors))
            return entry.case
    raise LookupError(f"no case with id '{case_id_or_path}' in the selected suite")


@pytest.fixture
def wireplay_server(pytestconfig: pytest.Config) -> Iterator[Callable[[str], ServedCase]]:
    """Serve a case (by id or file) for a hand-written client test; stopped at teardown.

    ``served = wireplay_server("foundation.ws.stalled-close")`` gives ``served.base_url``;
    after driving your client, ``served.stop()`` returns the wire verdict.
    """
    state = pytestconfig.stash[STATE]
    started: list[ServedCase] = []

    def serve(case_id_or_path: str) -> ServedCase:
        served = ServedCase(_find_case(state.entries, state.case_specs, case_id_or_path))
        started.append(served)
        return served

    yield serve
    for served in started:
        served.stop()


@pytest.fixture
def wireplay_verdict(pytestconfig: pytest.Config, wireplay_adapter: Adapter) -> Callable[[str], CaseResult]:
    """Run a case (by id or file) against the selected implementation and judge both planes."""
    state = pytestconfig.stash[STATE]

    def verdict(case_id_or_path: str) -> CaseResult:
        case = _find_case(state.entries, state.case_specs, case_id_or_path)
        expected = case.snapshot_path.read_text(encoding="utf-8") if case.snapshot_path.is_file() else None
        return judge(run_case(case, adapter=wireplay_adapter), expected=expected)

    return verdict
