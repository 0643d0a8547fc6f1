"""``wireplay``: run, list, validate and serve cases.

``run`` is pytest underneath (the bundled suite module, parametrized by case), so
``-k``, ``-n``, JUnit XML and syrupy's ``--snapshot-update`` behave as pytest users
expect; this module only translates options.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.case.catalog import load_catalog
from harness.errors import CaseError
from harness.paths import SUITE_MODULE
from harness.report.merge import MergeError


__all__ = ["main"]



def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wireplay")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


_INI_FILES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")


def _project_ini(folder: Path) -> Path | None:
    """The ini file pytest would read in ``folder`` (the one rule: the current folder's)."""
    for name in _INI_FILES:
        path = folder / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if name == "pyproject.toml" and "[tool.pytest.ini_options]" not in text:
            continue
        if name in ("tox.ini", "setup.cfg") and "[pytest]" not in text and "[tool:pytest]" not in text:
            continue
        return path
    return None


def _ini_cases(ini: Path | None) -> list[str]:
    """``wireplay_cases`` of the current folder's ini (paths relative to it), as ``run`` reads them."""
    if ini is None:
        return []
    if ini.name == "pyproject.toml":
        import tomllib

        section = tomllib.loads(ini.read_text(encoding="utf-8")).get("tool", {}).get("pytest", {}).get("ini_options", {})
        value = section.get("wireplay_cases", [])
        items = value if isinstance(value, list) else str(value).split()
    else:
        import iniconfig

        parsed = iniconfig.IniConfig(str(ini))
        name = "tool:pytest" if ini.name == "setup.cfg" else "pytest"
        items = str(parsed[name].get("wireplay_cases", "")).split() if name in parsed else []
    return [str((ini.parent / item).resolve()) for item in items]


def _unavailable(impl: str) -> str | None:
    """Why ``--impl`` cannot run (unknown, or not installed here), in one line; None if it can."""
    from harness.implementations import IMPLEMENTATIONS, UnavailableAdapter, adapter_for

    if impl not in IMPLEMENTATIONS:
        return f"unknown implementation '{impl}'; expected one of: {', '.join(IMPLEMENTATIONS)} (or --driver CMD)"
    adapter = adapter_for(impl=impl)
    return adapter.reason if isinstance(adapter, UnavailableAdapter) else None


def _cmd_run(args: argparse.Namespace) -> int:
    if args.impl and not args.driver:
        problem = _unavailable(args.impl)
        if problem is not None:
            _err(f"wireplay: {problem}")
            return 3
    # pytest runs in a fresh interpreter: this process has imported the plugin already,
    # and pytest must import (and assertion-rewrite) it itself. -P keeps the current
    # folder off sys.path, so a wireplay checkout in it never shadows the installed one.
    # The ini read is the current folder's, as for `wireplay list` (never the ini of the
    # project that holds wireplay's own venv).
    cwd = Path.cwd()
    ini = _project_ini(cwd)
    pytest_args = [sys.executable, "-P", "-m", "pytest", str(SUITE_MODULE), "--rootdir", str(cwd), "-c", str(ini) if ini else os.devnull,
                   "-o", "addopts=", "-o", "testpaths=", "-q",
                   # The suite module asserts nothing itself (verdicts come from the runner), so
                   # rewriting every module of wireplay's distribution at import buys nothing;
                   # hypothesis' plugin (installed with the test extras) is a second of imports.
                   "--assert=plain", "-p", "no:hypothesispytest"]
    if not (args.lf or args.ff):
        pytest_args += ["-p", "no:cacheprovider"]
    for flag in ("lf", "ff"):
        if getattr(args, flag):
            pytest_args.append(f"--{flag}")
    for spec in args.cases or []:
        pytest_args += ["--wireplay-cases", spec]
    if args.impl:
        pytest_args += ["--wireplay-impl", args.impl]
    if args.driver:
        pytest_args += ["--wireplay-driver", args.driver]
    if args.k:
        pytest_args += ["-k", args.k]
    if args.n:
        pytest_args += ["-n", str(args.n)]
    if args.report_json:
        pytest_args += ["--wireplay-report-json", args.report_json]
    if args.junitxml:
        pytest_args += ["--junitxml", args.junitxml]
    if args.snapshot_update:
        pytest_args += ["--snapshot-update"]
    if args.snapshots:
        pytest_args += ["--wireplay-snapshots"]
    if args.snapshot_dir:
        pytest_args += ["--wireplay-snapshot-dir", args.snapshot_dir]
    if args.shard:
        pytest_args += ["--wireplay-shard", args.shard]
    if args.profile_cases:
        pytest_args += ["--wireplay-profile-cases"]
    pytest_args += list(args.pytest_args or [])
    proc = subprocess.Popen(pytest_args)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        # Ctrl-C reached pytest too (same process group): it prints the summary of what
        # ran and writes the report; wait for it instead of dying with a traceback.
        try:
            return proc.wait(timeout=30)
        except (KeyboardInterrupt, subprocess.TimeoutExpired):
            proc.kill()
            return 130


def _cmd_list(args: argparse.Namespace) -> int:
    from harness.paths import CASES_DIR

    extra = _ini_cases(_project_ini(Path.cwd()))
    entries = load_catalog(args.cases or ([str(CASES_DIR), *extra] if extra else None))
    rows = []
    for e in entries:
        if e.case is None:
            rows.append({"id": e.id, "file": str(e.file), "errors": [str(x) for x in e.errors]})
        else:
            rows.append({"id": e.id, "title": e.case.title, "seed": list(e.case.seed), "requires": sorted(e.case.requires), "file": str(e.file)})
    if args.json:
        _out(json.dumps(rows, indent=1))
        return 0
    for row in rows:
        if "errors" in row:
            _out(f"{row['id']:<60} INVALID  {row['file']}")
        else:
            _out(f"{row['id']:<60} {row['title']}  [{', '.join(row['requires'])}]")
    _out(f"{len(rows)} case(s)")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    specs = args.paths or None
    if specs:
        missing = [p for p in specs if not Path(p).exists() and not any(ch in p for ch in "*?[")]
        for p in missing:
            _err(f"{p}: no such file or folder")
        if missing:
            return 1
    entries = load_catalog(specs, check_snapshots=not args.no_snapshots)
    errors: list[CaseError] = [err for e in entries for err in e.errors]
    for err in errors:
        _err(str(err))
    bad = sum(1 for e in entries if e.errors)
    _out(f"{len(entries)} case file(s), {bad} invalid")
    return 1 if errors or not entries else 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from harness.paths import CASES_DIR
    from harness.serve import serve_case
    from harness.serving import find_case

    # A path, or an id in the bundled suite, the current folder's ini cases and --cases.
    extra = [*_ini_cases(_project_ini(Path.cwd())), *(args.cases or [])]
    try:
        case = find_case(args.case, specs=[str(CASES_DIR), *extra] if extra else None)
    except (LookupError, ValueError) as exc:
        _err(f"wireplay: {exc.args[0] if exc.args else exc}")
        return 1
    stop = asyncio.Event()

    async def main() -> int:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGINT, stop.set)
            loop.add_signal_handler(signal.SIGTERM, stop.set)
        return await serve_case(case, host=args.host, port=args.port, allow_remote=args.allow_remote, stop=stop, out=_out_now, transcript_path=args.transcript)

    return asyncio.run(main())


def _out_now(text: str) -> None:
    """A line the user watches for (a request as it arrives): flushed at once, even into a pipe."""
    _out(text)
    sys.stdout.flush()


def _cmd_report(args: argparse.Namespace) -> int:
    from harness.report.page import write_html_report

    missing = [p for p in args.reports if not Path(p).is_file()]
    for p in missing:
        _err(f"{p}: no such report file (write one with wireplay run --report-json FILE)")
    if missing:
        return 1
    inputs = [Path(p) for p in args.reports]
    try:
        write_html_report(Path(args.output), inputs=inputs)
        if args.json:
            _write_merged_json(Path(args.json), inputs=inputs)
    except MergeError as exc:
        _err(str(exc))
        return 1
    _out(f"wrote {args.output}" + (f" and {args.json}" if args.json else ""))
    return 0


def _write_merged_json(out: Path, *, inputs: Sequence[Path]) -> None:
    """The shards of one implementation's run as one JSON report (totals recounted)."""
    from harness.report.json_report import write_report
    from harness.report.merge import merge_reports

    merged = merge_reports([json.loads(p.read_text()) for p in inputs], sources=inputs)
    if len(merged) != 1:
        names = ", ".join(str(r["implementation"]) for r in merged)
        raise MergeError(f"--json merges the shards of one implementation's run; these reports hold {len(merged)} ({names}): give each implementation its own wireplay report --json")
    (report,) = merged
    write_report(out, results=report["cases"], implementation=str(report["implementation"]), version=str(report.get("implementation_version") or ""))


def _cmd_bench(args: argparse.Namespace) -> int:
    from harness.bench import main as bench_main

    return bench_main(as_json=args.json, quick=args.quick, suite=not args.no_suite)


def _cmd_soak(args: argparse.Namespace) -> int:
    from harness.soak import run_soak

    # Runs happen in a scratch folder: name the cases absolutely.
    extra = [x for spec in (args.cases or []) for x in ("--cases", str(Path(spec).resolve()))]
    result = run_soak(runs=args.runs, max_seconds=args.max_seconds, extra=extra)
    if args.json:
        _out(json.dumps(result, indent=1))
    else:
        _out(f"{result['runs']} serial and {result['parallel_runs']} parallel run(s) of {result['cases']} case(s)")
        _out("flakes: " + (", ".join(result["flakes"]) if result["flakes"] else "none"))
    return 1 if result["flakes"] else 0


_INSTALLERS = {
    "codex-cli": ("install-codex-cli.sh", "WIREPLAY_CODEX_PREFIX", "codex-cli"),
    "openai-python": ("install-openai-python.sh", "WIREPLAY_OPENAI_PYTHON_VENV", "openai-python/venv"),
    "openai-node": ("install-openai-node.sh", "WIREPLAY_OPENAI_NODE_PREFIX", "openai-node"),
}


def _cmd_install(args: argparse.Namespace) -> int:
    """Install a real client, pinned, where its adapter looks for it (``impls_dir()``)."""
    from harness.paths import SCRIPTS_DIR, impls_dir

    script, variable, place = _INSTALLERS[args.name]
    target = impls_dir() / place
    env = {**os.environ, variable: str(target)}
    _out(f"installing {args.name} into {target}")
    code = subprocess.call(["bash", str(SCRIPTS_DIR / script)], env=env)
    if code != 0:
        _err(f"wireplay: installing {args.name} failed (exit code {code}); see the lines above")
    return code


def _cmd_driver(args: argparse.Namespace) -> int:
    from harness.driver import main as driver_main

    return driver_main(["--hello"] if args.hello else [])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wireplay", description="Protocol conformance harness for OpenAI Realtime and Responses API clients.")
    parser.add_argument("--version", action="version", version=f"wireplay {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the suite against an implementation")
    run.add_argument("--impl", default=None, help="implementation name (default: reference)")
    run.add_argument("--driver", default=None, metavar="CMD", help="a subprocess driver command (JSON lines)")
    run.add_argument("--cases", action="extend", nargs="+", metavar="PATH|GLOB", help="case files/folders, one or more (default: the bundled suite)")
    run.add_argument("-k", default=None, metavar="EXPR", help="select cases by id expression (pytest -k)")
    run.add_argument("-n", default=None, metavar="N", help="parallel workers (pytest-xdist), e.g. 2 or auto")
    run.add_argument("--report-json", default=None, metavar="FILE", help="write the JSON report")
    run.add_argument("--profile-cases", action="store_true", help="split the cases' time into serve, drive, settle and judge after the run")
    run.add_argument("--shard", default=None, metavar="I/N", help="run only shard I of N (a case's shard depends on its id alone; merge the shards' reports with wireplay report --json)")
    run.add_argument("--junitxml", default=None, metavar="FILE", help="write JUnit XML")
    run.add_argument("--snapshot-update", action="store_true", help="rewrite event snapshots (review them!)")
    run.add_argument("--snapshots", action="store_true", help="lock this implementation's own event logs in snapshots too (the reference's always are)")
    run.add_argument("--snapshot-dir", default=None, metavar="DIR", help="keep snapshots under DIR/<implementation>/<area>/ instead of beside the cases")
    run.add_argument("--lf", action="store_true", help="rerun only the cases that failed last time (pytest --lf)")
    run.add_argument("--ff", action="store_true", help="run the cases that failed last time first (pytest --ff)")
    run.add_argument("pytest_args", nargs="*", help="extra pytest arguments after --")
    run.set_defaults(func=_cmd_run)

    lst = sub.add_parser("list", help="list cases")
    lst.add_argument("--cases", action="extend", nargs="+", metavar="PATH|GLOB")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=_cmd_list)

    val = sub.add_parser("validate", help="schema-check case files")
    val.add_argument("paths", nargs="*", help="case files or folders (default: the bundled suite)")
    val.add_argument("--no-snapshots", action="store_true", help="do not require each case's snapshot file")
    val.set_defaults(func=_cmd_validate)

    srv = sub.add_parser("serve", help="serve one case for a client run by hand (Ctrl-C: the wire verdict)")
    srv.add_argument("case", metavar="CASE", help="a case id (bundled suite, the ini's wireplay_cases, --cases) or a case file")
    srv.add_argument("--cases", action="append", metavar="PATH|GLOB", help="also look the id up in these case files/folders")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=0)
    srv.add_argument("--allow-remote", action="store_true", help="allow binding a non-loopback address")
    srv.add_argument("--transcript", default=None, metavar="FILE", help="write the transcript (JSON, redacted) here (default: a new file in the temp folder)")
    srv.set_defaults(func=_cmd_serve)
    bench = sub.add_parser("bench", help="measure the harness against raw baselines (prints figures)")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--quick", action="store_true", help="fewer events and repeats (a smoke run)")
    bench.add_argument("--no-suite", action="store_true", help="skip the serial vs -n 2 suite runs")
    bench.set_defaults(func=_cmd_bench)

    soak = sub.add_parser("soak", help="run the suite repeatedly, serial and -n 2, and report flaky cases")
    soak.add_argument("--runs", type=int, default=3, help="runs of each kind (default 3)")
    soak.add_argument("--max-seconds", type=float, default=1800, help="start no run after this (default 1800)")
    soak.add_argument("--cases", action="extend", nargs="+", metavar="PATH|GLOB")
    soak.add_argument("--json", action="store_true")
    soak.set_defaults(func=_cmd_soak)

    ins = sub.add_parser("install", help="install a real client under test, pinned (codex-cli, openai-python, openai-node)")
    ins.add_argument("name", choices=sorted(_INSTALLERS))
    ins.set_defaults(func=_cmd_install)

    drv = sub.add_parser("driver", help="serve the reference client over the driver protocol (JSON lines on stdin/stdout)")
    drv.add_argument("--hello", action="store_true", help="write only the hello line (schemas/driver.schema.json) and exit")
    drv.set_defaults(func=_cmd_driver)

    rep = sub.add_parser("report", help="merge JSON reports (implementations, or the shards of one run) into one HTML matrix")
    rep.add_argument("reports", nargs="+", metavar="REPORT.json")
    rep.add_argument("-o", "--output", default="wireplay-report.html", metavar="FILE")
    rep.add_argument("--json", default=None, metavar="FILE", help="also write the merged JSON report (the shards of one implementation's run)")
    rep.set_defaults(func=_cmd_report)

    from harness.fuzz.cli import add_fuzz_parser  # wireplay fuzz (docs/fuzz.md)
    from harness.record.cli import add_record_parser  # wireplay record (docs/record.md)

    add_record_parser(sub)
    add_fuzz_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wireplay`` console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
