"""``wireplay serve`` as a user runs it: a real subprocess, a real client, a real signal.

It takes a case id or a path, serves a TLS case over TLS (printing the https URL and the
CA file it wrote), prints one line per request as it arrives, and on SIGINT / SIGTERM
prints the wire verdict and writes the transcript to a file whose path it prints —
never the transcript itself on the console, and no secret anywhere.
"""

from __future__ import annotations

import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect


CANARY = "sk-proj-CANARYserve7f3a9c1e55d0b2"

WSS_CASE = """id: foundation.serve.wss
title: a websocket case over TLS, served by hand
client:
  steps:
    - sleep: 0
server:
  tls: true
  exchanges:
    - websocket: {path: /v1/responses}
      expect: {headers: {authorization: "Bearer sk-test-other-key"}}
      script:
        - expect: {type: response.create}
        - send: {type: response.completed, response: {id: resp_1}}
    - http: {method: GET, path: /v1/models}
expect:
  snapshot: false
"""


class Serve:
    """``wireplay serve ARGS`` in its own process, read line by line."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "harness.cli", "serve", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        self.lines: list[str] = []

    def until(self, pattern: str, *, timeout: float = 20) -> re.Match[str]:
        """Read lines until one matches ``pattern`` (the server prints as things happen)."""
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
            m = re.search(pattern, line)
            if m:
                return m
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.lines) + (self.proc.stderr.read() if self.proc.poll() is not None and self.proc.stderr else ""))

    def stop(self, sig: signal.Signals) -> tuple[int, list[str]]:
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=20)
        self.lines += out.splitlines()
        assert not err, err
        return self.proc.returncode, self.lines

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def serve(tmp_path: Path):
    started: list[Serve] = []

    def start(*args: str) -> Serve:
        s = Serve(*args, cwd=tmp_path)
        started.append(s)
        return s

    yield start
    for s in started:
        s.kill()


def test_a_tls_case_by_id_over_https_with_a_request_line_and_the_transcript_in_a_file(serve, tmp_path: Path):
    s = serve("tls.https.codex-ca-sse")
    url = s.until(r"^serving tls\.https\.codex-ca-sse at (https://127\.0\.0\.1:\d+) \(base URL (https://\S+/v1)\)").group(2)
    ca_file = s.until(r"^TLS: trust the CA file (\S+)").group(1)
    assert Path(ca_file).is_file()
    with httpx.Client(verify=ssl.create_default_context(cafile=ca_file)) as client:  # a real client, trusting only the printed CA file
        r = client.post(f"{url}/responses", json={"model": "gpt-test", "input": "hello", "stream": True},
                        headers={"authorization": f"Bearer {CANARY}"})  # fmt: skip
        assert r.status_code == 200 and "response.completed" in r.text
    s.until(r"\[main\] conn \d+  POST /v1/responses$")  # printed as it arrived, before the stop
    code, lines = s.stop(signal.SIGINT)
    assert code == 0
    transcript = Path(_line(lines, r"^1 request\(s\); transcript written to (\S+)$"))
    assert lines[-1] == "wire verdict: PASS"
    text = transcript.read_text()
    log = json.loads(text)
    request = next(r for r in log if r["kind"] == "request")
    assert (request["method"], request["path"], request["listener"]) == ("POST", "/v1/responses", "main")
    assert any(k == "authorization" and v.startswith("Bearer sk-…") for k, v in request["headers"])  # redacted, fingerprinted
    assert CANARY not in text and CANARY not in "\n".join(lines)
    assert not any('"kind"' in line for line in lines), "the transcript goes to its file, not the console"


def test_a_path_over_wss_on_sigterm_names_what_failed(serve, tmp_path: Path):
    area = tmp_path / "foundation"
    area.mkdir()
    (area / "wss.yaml").write_text(WSS_CASE)
    target = tmp_path / "out" / "transcript.json"
    target.parent.mkdir()
    s = serve(str(area / "wss.yaml"), "--transcript", str(target))
    origin = s.until(r"^serving foundation\.serve\.wss at (https://127\.0\.0\.1:\d+)").group(1)
    ca_file = s.until(r"^TLS: trust the CA file (\S+)").group(1)
    context = ssl.create_default_context(cafile=ca_file)
    with connect(origin.replace("https", "wss") + "/v1/responses", ssl=context,
                 additional_headers={"authorization": f"Bearer {CANARY}"}) as ws:  # fmt: skip
        ws.send(json.dumps({"type": "response.create"}))
        assert json.loads(ws.recv(timeout=5))["type"] == "response.completed"
    s.until(r"\[main\] conn \d+  websocket handshake /v1/responses$")
    code, lines = s.stop(signal.SIGTERM)
    assert code == 1
    assert f"1 request(s); transcript written to {target}" in lines
    assert "wire verdict: FAIL" in lines
    failures = "\n".join(lines[lines.index("wire verdict: FAIL") + 1 :])
    assert "GET /v1/models" in failures  # the request that never came
    assert "authorization" in failures and "sk-…" in failures and CANARY not in failures
    assert json.loads(target.read_text())[0]["kind"] == "listen"


def test_an_unknown_id_is_one_line(tmp_path: Path):
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "serve", "foundation.no-such-case"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr == "wireplay: no case with id 'foundation.no-such-case' in the selected suite\n"


def _line(lines: list[str], pattern: str) -> str:
    for line in lines:
        m = re.search(pattern, line)
        if m:
            return m.group(1)
    raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(lines))
