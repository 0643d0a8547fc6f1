"""pytest hooks: options, case parametrization, result gathering, summary and report."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from harness.case.catalog import is_under, load_catalog
from harness.paths import CASES_DIR
from harness.pytest_plugin.state import STATE, PluginState
from harness.shard import Shard, parse_shard


__all__ = [
    "pytest_addoption",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_load_initial_conftests",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
]

_PROPERTY = "wireplay"
_OUTCOMES = ("PASS", "NON-STRICT", "FAIL", "TIMEOUT", "ERROR", "UNSUPPORTED")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register wireplay's command-line and ini options."""
    group = parser.getgroup("wireplay", "wireplay conformance suite")
    group.addoption("--wireplay-cases", action="append", default=[], metavar="PATH|GLOB", help="case files or folders to run (default: the bundled suite plus wireplay_cases from the ini file)")
    group.addoption("--wireplay-impl", default=None, metavar="NAME", help="implementation to test: reference (default)")
    group.addoption("--wireplay-driver", default=None, metavar="CMD", help="run the suite against this subprocess driver command")
    group.addoption("--wireplay-report-json", default=None, metavar="FILE", help="write the JSON report here")
    group.addoption("--wireplay-expectations", action="append", default=[], metavar="FILE", help="known outcomes of this implementation (WPT-style), reported as expected failures")
    group.addoption("--wireplay-snapshots", action="store_true", default=False, help="lock this implementation's own event logs in snapshots too (the reference's always are); update them with --snapshot-update")
    group.addoption("--wireplay-profile-cases", action="store_true", default=False, help="after the run, split the cases' time into serve, drive, settle and judge (totals, medians, the slowest cases)")
    group.addoption("--wireplay-shard", default=None, metavar="I/N", help="run only shard I of N (1-based; a case's shard depends on its id alone, so CI jobs 1/N..N/N run every case once)")
    group.addoption("--wireplay-snapshot-dir", default=None, metavar="DIR", help="keep snapshots under DIR/<implementation>/<area>/ instead of beside the cases")
    parser.addini("wireplay_cases", type="paths", default=[], help="extra case folders of this project")
    parser.addini("wireplay_impl", default="reference", help="default implementation name")
    parser.addini("wireplay_expectations", type="paths", default=[], help="expectation files of this project (known outcomes per case)")


_SUITE_FLAGS = ("--wireplay-driver", "--wireplay-impl")


def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """In another project, ``pytest --wireplay-driver CMD`` collects the bundled suite module.

    The suite is one parametrized test in wireplay's package; naming a wireplay option
    adds that module to what pytest collects (the project's own tests still run when
    their paths are given too).
    """
    from harness.paths import SUITE_MODULE

    wanted = any(a == f or a.startswith(f + "=") for a in args for f in _SUITE_FLAGS)
    if wanted and str(SUITE_MODULE) not in args:
        args.append(str(SUITE_MODULE))


def pytest_configure(config: pytest.Config) -> None:
    """Read options once into the stash; an implementation that cannot run is a usage error."""
    specs = [str(p) for p in config.getoption("--wireplay-cases")]
    extra = [str(p) for p in config.getini("wireplay_cases")]
    config.stash[STATE] = PluginState(
        case_specs=specs or ([*_bundled(), *extra] if extra else []),
        impl=config.getoption("--wireplay-impl") or config.getini("wireplay_impl"),
        driver=config.getoption("--wireplay-driver"),
        report_json=config.getoption("--wireplay-report-json"),
        expectation_files=[Path(p) for p in config.getoption("--wireplay-expectations")] + [Path(p) for p in config.getini("wireplay_expectations")],
        snapshots=bool(config.getoption("--wireplay-snapshots")),
        snapshot_dir=Path(d) if (d := config.getoption("--wireplay-snapshot-dir")) else None,
        shard=_shard(config.getoption("--wireplay-shard")),
    )
    config.pluginmanager.register(_Collector(config.stash[STATE]), "wireplay-collector")
    state = config.stash[STATE]
    if state.driver is None and state.impl != "reference" and not hasattr(config, "workerinput"):
        from harness.implementations import IMPLEMENTATIONS, UnavailableAdapter, adapter_for

        if state.impl not in IMPLEMENTATIONS:
            raise pytest.UsageError(f"unknown implementation '{state.impl}'; expected one of: {', '.join(IMPLEMENTATIONS)} (or --wireplay-driver CMD)")
        adapter = adapter_for(impl=state.impl)
        if isinstance(adapter, UnavailableAdapter):
            raise pytest.UsageError(adapter.reason)


def _shard(text: str | None) -> Shard | None:
    if text is None:
        return None
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def _bundled() -> list[str]:
    from harness.paths import CASES_DIR

    return [str(CASES_DIR)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize the suite's test function with every case (broken ones included)."""
    if "wireplay_entry" not in metafunc.fixturenames:
        return
    state = metafunc.config.stash[STATE]
    if state.entries is None:
        entries = load_catalog(state.case_specs or None)
        state.entries = entries if state.shard is None else [e for e in entries if state.shard.holds(e.id)]
    metafunc.parametrize("wireplay_entry", state.entries, ids=[e.id for e in state.entries])


class _Collector:
    """Gathers each case's result record, also from xdist workers, on the controller."""

    def __init__(self, state: PluginState) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == _PROPERTY and report.when == "call":
                self.state.results.append(json.loads(value))


def _results(config: pytest.Config) -> list[dict]:
    return config.stash[STATE].results


@pytest.hookimpl(tryfirst=True)  # before syrupy's, which may remove unused snapshots itself
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the JSON report, and find (on update: remove) kept snapshots of no case (controller only)."""
    config = session.config
    if hasattr(config, "workerinput") or STATE not in config.stash:
        return
    state = config.stash[STATE]
    results = sorted(_results(config), key=lambda r: r["id"])
    if state.report_json:
        from harness.report.json_report import write_report

        named = Counter(r.get("implementation") for r in results if r.get("implementation"))
        implementation = named.most_common(1)[0][0] if named else (state.driver or state.impl)
        versions = Counter(r.get("implementation_version") for r in results if r.get("implementation_version"))
        version = versions.most_common(1)[0][0] if versions else ""
        write_report(Path(state.report_json), results=results, implementation=implementation, version=version)
    state.orphans = _orphan_snapshots(config, results)


def _orphan_snapshots(config: pytest.Config, results: list[dict]) -> list[Path]:
    """Kept snapshots of no case, in the folders of a run that covered whole folders.

    With --snapshot-update they are removed, as syrupy removes a module's unused
    snapshots: only when nothing was deselected, so a -k run never deletes what it did
    not run.
    """
    from harness.case.model import Case

    impls = {r["snapshot"]["implementation"] for r in results if r.get("snapshot")}
    state = config.stash[STATE]
    if not impls or config.getoption("keyword", "") or config.getoption("markexpr", ""):
        return []
    entries = load_catalog(state.case_specs or None)
    if len(results) != len(entries):
        return []
    # Only the folders the run named whole: a case file named alone says nothing about the
    # other snapshots beside it (the catalog's rule for `wireplay validate`, too).
    folders_named = [Path(s) for s in (state.case_specs or [CASES_DIR]) if Path(s).is_dir()]
    cases: list[Case] = [e.case for e in entries if e.case is not None and any(is_under(e.file, f) for f in folders_named)]
    ids = {e.id for e in entries}
    folders = {c.snapshot_path(impl, root=state.snapshot_dir).parent for c in cases for impl in impls}
    orphans = sorted(f for folder in folders for f in folder.glob("*.jsonl") if f.stem not in ids)
    if orphans and config.getoption("--snapshot-update", default=False):
        for f in orphans:
            f.unlink()
    return orphans


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """A table of outcomes by area, then the same per layer (cases judged in that layer)."""
    if STATE not in config.stash:
        return
    results = _results(config)
    tr = terminalreporter
    if not results:
        deselected = sum(1 for item in tr.stats.get("deselected", []) if "wireplay_entry" in getattr(getattr(item, "callspec", None), "params", {}))
        if deselected:
            expr = config.getoption("keyword", "") or ""
            tr.write_line(f"wireplay: no case matched{f' -k {expr!r}' if expr else ''} ({deselected} deselected)")
        return
    tr.section("wireplay summary")
    _table(tr, "area", [(r["id"].split(".", 1)[0], r["outcome"]) for r in results])
    for layer in ("protocol", "codex"):
        rows = [(r["id"].split(".", 1)[0], o) for r in results if (o := (r.get("layers") or {}).get(layer))]
        tr.write_line("")
        tr.write_line(f"layer {layer}: {len(rows)} case(s) judged")
        if rows:
            _table(tr, "area", rows)
    if config.getoption("--wireplay-profile-cases"):
        _profile_table(tr, results)
    changed = [r["id"] for r in results if (r.get("snapshot") or {}).get("ok") is False]
    if changed:
        tr.write_line("")
        tr.write_line(f"snapshots changed ({len(changed)}): " + ", ".join(changed[:10]) + (" ..." if len(changed) > 10 else ""))
    orphans = config.stash[STATE].orphans
    if orphans:
        removed = config.getoption("--snapshot-update", default=False)
        tr.write_line("")
        tr.write_line(f"snapshots of no case ({len(orphans)}){': removed' if removed else ' (--snapshot-update removes them)'}: " + ", ".join(str(f) for f in orphans[:5]) + (" ..." if len(orphans) > 5 else ""))


_PHASES = ("serve", "drive", "settle", "judge")


def _profile_table(tr: pytest.TerminalReporter, results: list[dict]) -> None:
    """Where the cases' time went: serve (the case's server up), drive (the adapter started
    and the steps run), settle (the session released, the server torn down), judge."""
    timed = [r for r in results if r.get("phases_ms")]
    if not timed:
        return
    tr.write_line("")
    tr.write_line(f"time per phase over {len(timed)} case(s), ms:")
    tr.write_line(f"  {'phase':<8}{'total':>12}{'median':>10}{'max':>10}")
    for phase in _PHASES:
        values = sorted(float(r["phases_ms"].get(phase, 0.0)) for r in timed)
        tr.write_line(f"  {phase:<8}{sum(values):>12.1f}{values[len(values) // 2]:>10.2f}{values[-1]:>10.1f}")
    tr.write_line("slowest cases (serve / drive / settle / judge, ms):")
    for r in sorted(timed, key=lambda r: -sum(r["phases_ms"].values()))[:10]:
        split = " / ".join(f"{float(r['phases_ms'].get(p, 0.0)):.1f}" for p in _PHASES)
        tr.write_line(f"  {sum(r['phases_ms'].values()):>9.1f}  {r['id']}  ({split})")


def _table(tr: pytest.TerminalReporter, label: str, rows: list[tuple[str, str]]) -> None:
    table: dict[str, Counter[str]] = {}
    for area, outcome in rows:
        table.setdefault(area, Counter())[outcome] += 1
    tr.write_line(f"{label:<14}" + "".join(f"{o:>12}" for o in _OUTCOMES) + f"{'total':>8}")
    totals: Counter[str] = Counter()
    for area in sorted(table):
        counts = table[area]
        totals.update(counts)
        tr.write_line(f"{area:<14}" + "".join(f"{counts.get(o, 0):>12}" for o in _OUTCOMES) + f"{sum(counts.values()):>8}")
    tr.write_line(f"{'all':<14}" + "".join(f"{totals.get(o, 0):>12}" for o in _OUTCOMES) + f"{sum(totals.values()):>8}")
