"""A planted secret never reaches an artefact of a full run.

The whole bundled suite is copied with every fake API key replaced by a canary, plus
cases that fail on purpose (so wire logs, findings and diffs land in the report), then
run in a subprocess with -n 2, a JSON report, JUnit XML and the HTML page. Every file
written and everything printed is scanned for the canary.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from harness.paths import CASES_DIR


CANARY_KEY = "sk-canary-7f3a9c1e5b2d4f60"
CANARY_TOKEN = "canarytoken.9f8e7d6c5b4a"

LEAKY = f"""
id: foundation.canary.leaky
title: a failing case that puts the secret everywhere it could leak
seed: auth-401-observability
client:
  config:
    responses: {{model: gpt-test, api_key: {CANARY_KEY}, request_max_retries: 0, stream_max_retries: 0,
                 headers: {{x-api-key: {CANARY_TOKEN}, cookie: session={CANARY_TOKEN}}}}}
  steps:
    - responses.turn: {{input: hello}}
server:
  exchanges:
    - http: {{method: POST, path: /v1/responses}}
      expect:
        headers: {{authorization: Bearer wrong-{CANARY_TOKEN}}}
      respond:
        status: 401
        headers: {{x-request-id: req_canary}}
        json: {{error: {{message: "Incorrect API key provided: {CANARY_KEY}", access_token: {CANARY_TOKEN}}}}}
expect:
  wire:
    - of: {{kind: http}}
      each: {{headers: {{authorization: Bearer other-key-1234567, x-api-key: wrong}}}}
"""


def test_no_artefact_of_a_full_run_contains_the_secret(tmp_path: Path):
    cases = tmp_path / "cases"
    shutil.copytree(CASES_DIR, cases)
    for file in cases.rglob("*.yaml"):
        file.write_text(re.sub(r"sk-test[A-Za-z0-9_-]*", CANARY_KEY, file.read_text()))
    (cases / "foundation" / "canary-leaky.yaml").write_text(LEAKY)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "--cases", str(cases), "-n", "2",
         "--report-json", str(out / "report.json"), "--junitxml", str(out / "junit.xml")],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert proc.returncode == 1  # the leaky case fails on purpose
    assert "foundation.canary.leaky" in proc.stdout
    # the failing header checks print readable, fingerprinted forms instead of the values
    assert 'got "Bearer sk-…' in proc.stdout and "expect.wire[0].each" in proc.stdout
    page = subprocess.run([sys.executable, "-m", "harness.cli", "report", str(out / "report.json"), "-o", str(out / "report.html")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert page.returncode == 0
    artefacts = [p for p in out.rglob("*") if p.is_file()] + [p for p in cases.rglob("__snapshots__/**/*") if p.is_file()]
    assert (out / "report.json").stat().st_size > 10_000
    for text, where in [(proc.stdout, "stdout"), (proc.stderr, "stderr"), (page.stdout + page.stderr, "report stdout")] + [
        (p.read_text(errors="replace"), str(p)) for p in artefacts
    ]:
        for secret in (CANARY_KEY, CANARY_TOKEN):
            assert secret not in text, f"{secret} leaked into {where}"
