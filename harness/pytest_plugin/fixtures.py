"""Fixtures: the adapter under test, and running one suite entry to its verdict."""

from __future__ import annotations

import asyncio
import difflib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fake_server.redact import redact_text
from harness.adapters.base import Adapter
from harness.case.catalog import REFERENCE, Entry
from harness.case.model import Case
from harness.expectations import Known, load_expectations
from harness.implementations import adapter_for
from harness.layer import ALL_LAYERS
from harness.pytest_plugin.respx_served import RespxServedCase
from harness.pytest_plugin.served import ServedCase
from harness.pytest_plugin.state import STATE
from harness.runner import CaseResult, judge, run_case
from harness.serving import find_case
from harness.snapshots import CaseSnapshotExtension
from harness.verdict.outcome import Outcome


__all__ = ["EntryResult", "wireplay_adapter", "wireplay_entry_result", "wireplay_known", "wireplay_loop", "wireplay_respx", "wireplay_server", "wireplay_verdict"]


@pytest.fixture(scope="session")
def wireplay_adapter(pytestconfig: pytest.Config) -> Adapter:
    """The adapter selected by --wireplay-impl / --wireplay-driver."""
    state = pytestconfig.stash[STATE]
    return adapter_for(impl=state.impl, driver=state.driver)


@pytest.fixture(scope="session")
def wireplay_loop(wireplay_adapter: Adapter) -> Iterator[asyncio.Runner]:
    """One event loop for every case of this worker, so a driver that serves many cases
    keeps its process from one case to the next (the adapter starts a fresh one after a
    crash, a timeout or a protocol error)."""
    runner = asyncio.Runner()
    if hasattr(wireplay_adapter, "keep_processes"):
        wireplay_adapter.keep_processes = True
    try:
        yield runner
    finally:
        try:
            if hasattr(wireplay_adapter, "aclose"):
                runner.run(asyncio.wait_for(wireplay_adapter.aclose(), 10))
        finally:
            runner.close()


@pytest.fixture(scope="session")
def wireplay_known(pytestconfig: pytest.Config, wireplay_adapter: Adapter) -> Mapping[str, Known]:
    """Known outcomes: the adapter's own expectations file, then the project's files."""
    files = [Path(f) for f in getattr(wireplay_adapter, "expectations_files", ())]
    return load_expectations(files + pytestconfig.stash[STATE].expectation_files)


@dataclass(frozen=True, slots=True)
class EntryResult:
    """A judged case, and whether the implementation's own snapshot still holds.

    The snapshot is a regression lock of one implementation's event log, never part of
    the conformance verdict: ``snapshot_problem`` fails the test item, not the outcome.
    """

    result: CaseResult
    snapshot_problem: str | None = None


def _snapshot_diff(expected: str | None, actual: str, *, path: Path) -> str:
    if expected is None:
        return f"no snapshot at {path}: run with --snapshot-update and review it line by line"
    return "".join(difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True), fromfile=f"{path}", tofile="received"))


@pytest.fixture
def wireplay_entry_result(request: pytest.FixtureRequest, wireplay_adapter: Adapter, wireplay_known: Mapping[str, Known], wireplay_loop: asyncio.Runner, snapshot: Any) -> Callable[[Entry], EntryResult]:
    """Run a suite entry, judge it, check its snapshot (when kept) and record the result.

    The reference client's own snapshots are always asserted (they lock its event log
    against regressions); another implementation's only with --wireplay-snapshots.
    """
    state = request.config.stash[STATE]
    if state.snapshots or wireplay_adapter.name == REFERENCE:
        state.snapshot_impl = wireplay_adapter.name

    def run(entry: Entry) -> EntryResult:
        if entry.case is None:
            invalid: dict[str, Any] = {
                "id": entry.id,
                "implementation": wireplay_adapter.name,
                "outcome": Outcome.ERROR.value,
                "layers": {layer.value: None for layer in sorted(ALL_LAYERS)},
                "duration": 0.0,
                "detail": redact_text("\n".join(str(e) for e in entry.errors)),
                "wire": {"ok": True, "findings": []},
                "events": {"ok": True, "findings": [], "non_strict": [], "received": []},
                "wire_log": [],
            }
            request.node.user_properties.append(("wireplay", json.dumps(invalid)))
            pytest.fail("ERROR: invalid case file\n" + invalid["detail"], pytrace=False)
        case = entry.case
        run_ = run_case(case, adapter=wireplay_adapter, loop=wireplay_loop)
        result = judge(run_)
        record: dict[str, Any] = result.to_json()
        problem: str | None = None
        if state.snapshot_impl is not None and case.snapshot and run_.status == "completed":
            path = case.snapshot_path(state.snapshot_impl, root=state.snapshot_dir)
            actual = run_.snapshot_text()
            ok = bool(snapshot.use_extension(CaseSnapshotExtension) == actual)
            record["snapshot"] = {"implementation": state.snapshot_impl, "path": str(path), "ok": ok}
            if not ok:
                expected = path.read_text(encoding="utf-8") if path.is_file() else None
                problem = _snapshot_diff(expected, actual, path=path)
                record["snapshot"]["diff"] = redact_text(problem)
        record["implementation_version"] = str(getattr(wireplay_adapter, "version", "") or "")
        known = wireplay_known.get(case.id)
        if known is not None:
            record["known"] = known.to_json()
        request.node.user_properties.append(("wireplay", json.dumps(record)))
        return EntryResult(result, problem)

    return run


def _find_case(state_entries: list[Entry] | None, specs: list[str], case_id_or_path: str) -> Case:
    """A case by file, or by id in the selected suite (harness.serving.find_case)."""
    return find_case(case_id_or_path, entries=state_entries, specs=specs or None)


@pytest.fixture
def wireplay_server(pytestconfig: pytest.Config) -> Iterator[Callable[[str], ServedCase]]:
    """Serve a case (by id or file) for a hand-written client test; stopped at teardown.

    ``served = wireplay_server("foundation.ws.stalled-close")`` gives ``served.base_url``
    (and, on a TLS case, ``served.ca_file`` to trust; ``served.config`` is the case's
    client config); after driving your client, ``served.stop()`` returns the wire verdict.
    The server is the runner's own (harness.serving): same TLS, listeners and proxy.
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
def wireplay_respx(pytestconfig: pytest.Config) -> Callable[[str], RespxServedCase]:
    """Serve a case's HTTP/SSE exchanges in process through respx, for an httpx-based client.

    ``served = wireplay_respx("foundation.sse.status-429")``; ``with served.mock():`` route
    the client's requests to ``served.base_url``; ``served.stop()`` gives the wire verdict.
    What needs a socket (websockets, TCP faults, pauses) is listed in ``served.unavailable``.
    """
    state = pytestconfig.stash[STATE]

    def serve(case_id_or_path: str) -> RespxServedCase:
        return RespxServedCase(_find_case(state.entries, state.case_specs, case_id_or_path))

    return serve


@pytest.fixture
def wireplay_verdict(pytestconfig: pytest.Config, wireplay_adapter: Adapter) -> Callable[[str], CaseResult]:
    """Run a case (by id or file) against the selected implementation and judge both planes."""
    state = pytestconfig.stash[STATE]

    def verdict(case_id_or_path: str) -> CaseResult:
        case = _find_case(state.entries, state.case_specs, case_id_or_path)
        return judge(run_case(case, adapter=wireplay_adapter))

    return verdict
