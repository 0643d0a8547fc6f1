"""The HTML report: merged matrix, details per cell, redaction, and a real browser render."""

from __future__ import annotations

import json
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
    {"implementation": "reference", "cases": [
        record("realtime.a.one", "PASS", layers={"codex": "PASS", "protocol": "PASS"}),
        record("responses.b.two", "PASS"),
    ]},
    {"implementation": "other-client", "cases": [
        record("realtime.a.one", "FAIL", layers={"codex": "FAIL", "protocol": "PASS"},
               findings=[{"layer": "codex", "message": "server.exchanges[0].expect.headers.x: expected \"1\", got absent"}],
               snapshot={"implementation": "other-client", "ok": False, "diff": '--- a\n+++ received\n-{"type": "a"}\n+{"type": "b"}\n'}),
        record("responses.b.two", "FAIL", known={"outcome": "FAIL", "class": "deviation", "why": "reports errors differently"},
               event_findings=[{"layer": "protocol", "message": "expect.events[0].sequence[0]: no event matching"}]),
    ]},
]


def test_matrix_groups_by_area_links_details_and_totals():
    page = render_report(REPORTS)
    assert page.count('<tr class="area">') == 2
    assert '<th>reference</th><th>other-client</th>' in page
    assert 'href="#d-other-client-realtime-a-one"' in page and 'id="d-other-client-realtime-a-one"' in page
    assert "<li><b>[codex]</b> server.exchanges[0].expect.headers.x: expected &quot;1&quot;, got absent</li>" in page
    assert "<li><b>[protocol]</b> expect.events[0].sequence[0]: no event matching</li>" in page
    assert '<span class="diff-del">-{&quot;type&quot;: &quot;a&quot;}</span>' in page  # the client's own snapshot changed
    assert "12.5 ms  {&quot;type&quot;: &quot;b&quot;}" in page
    assert "known FAIL (deviation): reports errors differently" in page
    assert "<td>totals</td><td>2 PASS</td><td>2 FAIL</td>" in page
    assert "<td>layer protocol</td><td>2 PASS</td><td>1 PASS, 1 FAIL</td>" in page
    assert "<td>layer codex</td><td>1 PASS</td><td>1 FAIL</td>" in page
    assert "codex: FAIL, protocol: PASS" in page


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


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (CI installs Debian's chromium)")
def test_a_headless_browser_renders_the_matrix(tmp_path: Path):
    out = tmp_path / "report.html"
    out.write_text(render_report(REPORTS))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", out.as_uri()], capture_output=True, text=True, timeout=60, check=True).stdout
    assert '<table id="matrix">' in dom
    assert dom.count('class="o PASS"') == 2 and dom.count('class="o FAIL') == 2
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1000,700", out.as_uri()], capture_output=True, timeout=60, check=True)
    assert shot.stat().st_size > 5000  # a real rendering, not a blank page
