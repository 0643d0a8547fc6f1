"""The HTML report: merged matrix, details per cell, redaction, and a real browser render."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.report.page import render_report, write_html_report


def record(case_id: str, outcome: str, layers: dict | None = None, **extra) -> dict:
    return {
        "id": case_id, "title": f"the title of {case_id}", "implementation": "x", "outcome": outcome,
        "layers": layers or {"codex": None, "protocol": outcome}, "duration": 0.1, "detail": extra.pop("detail", ""),
        "wire": {"ok": outcome == "PASS", "findings": extra.pop("findings", [])},
        "events": {"ok": outcome == "PASS", "findings": extra.pop("event_findings", []), "non_strict": [],
                   "received": [{"t_ms": 12.5, "type": "b"}]},
        "wire_log": [{"t": 0.0, "conn": 1, "kind": "request", "headers": [["authorization", "Bearer sk-canary-1234567"]]}],
        **extra,
    }


REPORTS = [
    {"implementation": "reference", "implementation_version": "0.1.0", "cases": [
        record("realtime.a.one", "PASS", layers={"codex": "PASS", "protocol": "PASS"}),
        record("responses.b.two", "PASS"),
    ]},
    {"implementation": "other-client", "implementation_version": "9.9.9", "cases": [
        record("realtime.a.one", "FAIL", layers={"codex": "FAIL", "protocol": "PASS"},
               findings=[{"layer": "codex", "message": "server.exchanges[0].expect.headers.x: expected \"1\", got absent"}],
               snapshot={"implementation": "other-client", "ok": False, "diff": '--- a\n+++ received\n-{"type": "a"}\n+{"type": "b"}\n'}),
        record("responses.b.two", "FAIL", known={"outcome": "FAIL", "class": "deviation", "why": "reports errors differently"},
               event_findings=[{"layer": "protocol", "message": "expect.events[0].sequence[0]: no event matching"}]),
    ]},
]


def test_summary_first_then_failures_first_with_titles_versions_and_one_marked_diff():
    page = render_report(REPORTS)
    summary, matrix = page.index('<table class="summary">'), page.index('<table id="matrix">')
    assert summary < matrix  # the totals and the per-layer summary are read first
    assert "<b>other-client</b> <small>9.9.9</small>" in page and '<th data-impl="reference">reference <small>0.1.0</small></th>' in page
    rows = re.findall(r'<tr data-id="([^"]+)"', page)
    assert rows == ["realtime.a.one", "responses.b.two"]  # the unknown FAIL first, the known one after
    assert "<small>the title of realtime.a.one</small>" in page and "0.10 s" in page
    assert 'href="#d-other-client-realtime-a-one"' in page and 'id="d-other-client-realtime-a-one"' in page
    assert "<li><b>[codex]</b> server.exchanges[0].expect.headers.x: expected &quot;1&quot;, got absent</li>" in page
    assert "<li><b>[protocol]</b> expect.events[0].sequence[0]: no event matching</li>" in page
    # the snapshot diff is shown once, its changed characters marked within the line
    assert page.count("snapshot of other-client changed") == 1
    assert '-<span class="del">{&quot;type&quot;: &quot;<b>a</b>&quot;}</span>' in page
    assert '+<span class="add">{&quot;type&quot;: &quot;<b>b</b>&quot;}</span>' in page
    assert "12.5 ms  {&quot;type&quot;: &quot;b&quot;}" in page
    assert "known FAIL (deviation): reports errors differently" in page
    other = page[page.index("<b>other-client</b>"):]
    assert re.search(r'<td>overall</td><td class="n ">0</td><td class="n ">0</td><td class="n FAIL">2</td>', other)
    assert re.search(r'<td>layer protocol</td><td class="n PASS">1</td><td class="n ">0</td><td class="n FAIL">1</td>', other)
    assert '<select id="outcome">' in page and '<input id="q" type="search">' in page


def test_written_report_never_contains_a_secret(tmp_path: Path):
    inputs = []
    for i, report in enumerate(REPORTS):
        path = tmp_path / f"r{i}.json"
        path.write_text(json.dumps(report))
        inputs.append(path)
    out = tmp_path / "report.html"
    write_html_report(out, inputs=inputs)
    assert "sk-canary-1234567" not in out.read_text()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTEFACTS = Path(__file__).resolve().parents[2] / "reports" / "artefacts"


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (CI installs Debian's chromium)")
def test_a_headless_browser_renders_the_matrix(tmp_path: Path):
    out = tmp_path / "report.html"
    out.write_text(render_report(REPORTS))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", out.as_uri()], capture_output=True, text=True, timeout=60, check=True).stdout
    assert '<table id="matrix">' in dom and dom.index('class="summary"') < dom.index('id="matrix"')
    assert dom.count('class="o PASS"') == 2 and dom.count('class="o FAIL') == 2
    # The screenshot is kept as an artefact of the run (reports/ is git-ignored, CI can upload it).
    shot = ARTEFACTS / "report-screenshot.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    shot.unlink(missing_ok=True)
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1200,800", out.as_uri()], capture_output=True, timeout=60, check=True)
    assert shot.stat().st_size > 5000  # a real rendering, not a blank page
