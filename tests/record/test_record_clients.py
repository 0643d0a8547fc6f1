"""Record real clients through ``wireplay record``'s proxy, then replay what was recorded.

The upstream is the fake server serving a bundled case; the client is driven through
its adapter with that case's steps and config, pointed at the proxy. The recorded case
must validate, hold no secret (the client's key is a canary), and PASS on replay with the
same client. openai-python is the real SDK (skipped, with the reason, when it is not
installed); the reference client covers the websocket and realtime paths on every run.
"""

from __future__ import annotations

import asyncio
import copy
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_server.matchers import match
from fake_server.server import FakeServer
from harness.adapters.base import Adapter, Endpoint
from harness.case.loader import analyse_case_text, load_case
from harness.implementations import adapter_for
from harness.impls import openai_python
from harness.paths import CASES_DIR
from harness.record.proxy import RecordingProxy
from harness.record.writer import case_from_recording, case_yaml, recorded_secrets
from harness.runner import judge, run_case_async
from harness.verdict.outcome import Outcome


CANARY = "sk-canary-7f3a9c1e5b2d4f60"
needs_sdk = pytest.mark.skipif(
    openai_python.sdk_python() is None,
    reason=f"openai-python {openai_python.VERSION} is not installed: run `wireplay install openai-python`",
)


def _with_canary(config: Any) -> Any:
    if isinstance(config, dict):
        return {k: (CANARY if k == "api_key" else _with_canary(v)) for k, v in config.items()}
    return copy.deepcopy(config)


async def _drive(case_file: Path, adapter: Adapter, tmp_path: Path) -> tuple[str, Any]:
    """Run the case's client through a recording proxy in front of its fake server; return
    the recorded case text and its loaded form."""
    case = load_case(case_file).for_revision(getattr(adapter, "revision", "seed"))
    server = FakeServer(case.script)
    await server.start()
    proxy = RecordingProxy(server.origin)
    await proxy.start()
    events: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(60):
            session = await adapter.start(endpoint=Endpoint(origin=proxy.origin, base_url=proxy.base_url),
                                          config=_with_canary(dict(case.config)), emit=events.append, case_id=case.id)
            try:
                for step in case.steps:
                    if step.op == "sleep":
                        await asyncio.sleep(float(step.args["seconds"]))
                    elif step.op == "wait":
                        while not any(match(step.args["event"], e) is None for e in events):
                            await asyncio.sleep(0.01)
                    else:
                        await session.handle(step.op, dict(step.args))
            finally:
                await session.aclose()
    finally:
        recording = await proxy.stop()
        await server.aclose()
    assert server.findings() == [], "the client did not pass the case through the proxy"
    text = case_yaml(case_from_recording(recording), secrets=recorded_secrets(recording))
    area = case.area
    out = tmp_path / area / "recorded.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    recorded, problems = analyse_case_text(text, file=out, cases_root=tmp_path)
    assert problems == [], "\n".join(map(str, problems))
    return text, recorded


async def _replay(recorded: Any, adapter: Adapter) -> Any:
    result = judge(await run_case_async(recorded, adapter=adapter))
    assert result.outcome is Outcome.PASS, result.detail
    return result


@needs_sdk
def test_openai_python_recorded_through_the_proxy_passes_its_recording(tmp_path):
    adapter = adapter_for(impl="openai-python")
    text, recorded = asyncio.run(_drive(CASES_DIR / "responses" / "events-sse-mapping.yaml", adapter, tmp_path))
    assert CANARY not in text and "sk-canary" not in text
    assert recorded.requires == {"responses.sse"}
    asyncio.run(_replay(recorded, adapter_for(impl="openai-python")))


@needs_sdk
def test_openai_python_realtime_recorded_and_replayed(tmp_path):
    text, recorded = asyncio.run(_drive(CASES_DIR / "realtime" / "inbound-v2-response-lifecycle.yaml", adapter_for(impl="openai-python"), tmp_path))
    assert CANARY not in text
    asyncio.run(_replay(recorded, adapter_for(impl="openai-python")))


@pytest.mark.parametrize("case", ["responses/events-ws-mapping.yaml", "responses/events-sse-function-call.yaml",
                                  "realtime/inbound-v2-response-lifecycle.yaml", "realtime/inbound-v1-items.yaml"])
def test_the_reference_client_recorded_and_replayed(tmp_path, case):
    text, recorded = asyncio.run(_drive(CASES_DIR / case, adapter_for(impl="reference"), tmp_path))
    assert CANARY not in text
    asyncio.run(_replay(recorded, adapter_for(impl="reference")))


def test_the_command_prints_the_url_and_writes_the_case_on_sigint(tmp_path):
    """``wireplay record`` end to end: a request through the printed URL, SIGINT, the case."""
    case = load_case(CASES_DIR / "responses" / "events-sse-mapping.yaml").for_revision("seed")

    async def main() -> tuple[int, str, str]:
        async with FakeServer(case.script) as server:
            out = tmp_path / "responses" / "rec.yaml"
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "harness.cli", "record", "--upstream", server.origin, "-o", str(out),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=str(Path(__file__).resolve().parents[2]),
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            try:
                assert proc.stdout is not None and proc.stderr is not None
                first = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
                second = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
                base = second.split("point the client at ", 1)[1].split(" ", 1)[0]
                async with httpx.AsyncClient(timeout=10) as client:
                    reply = await client.post(base + "/responses", json={"model": "gpt-test", "input": "hello", "stream": True},
                                              headers={"authorization": f"Bearer {CANARY}"})
                assert reply.status_code == 200 and "response.completed" in reply.text
                proc.send_signal(signal.SIGINT)
                rest, err = await asyncio.wait_for(proc.communicate(), 30)
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            return proc.returncode or 0, first + second + rest.decode(), err.decode()

    code, stdout, stderr = asyncio.run(main())
    assert code == 0, stdout + stderr
    assert "recording http://127.0.0.1:" in stdout and "wrote " in stdout and "valid" in stdout
    text = (tmp_path / "responses" / "rec.yaml").read_text()
    assert CANARY not in text and CANARY not in stdout + stderr
    _, problems = analyse_case_text(text, file=tmp_path / "responses" / "rec.yaml", cases_root=tmp_path)
    assert problems == []
    check = subprocess.run([sys.executable, "-m", "harness.cli", "validate", str(tmp_path / "responses" / "rec.yaml")],
                           capture_output=True, text=True, timeout=120, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_tls_to_the_upstream_by_the_custom_ca_rules(tmp_path):
    """An https / wss upstream signed by the run's CA: trusted through --ca-file (as
    CODEX_CA_CERTIFICATE), refused without it (the system roots alone)."""
    from fake_server.tls import tls_material
    from harness.record.cli import upstream_ssl_context

    material = tls_material()
    http_case = load_case(CASES_DIR / "responses" / "events-sse-mapping.yaml").for_revision("seed")
    ws_case = load_case(CASES_DIR / "responses" / "events-ws-mapping.yaml").for_revision("seed")

    async def main() -> tuple[Any, list[str]]:
        failures: list[str] = []
        async with FakeServer(http_case.script, ssl=material.server_context()) as https, FakeServer(ws_case.script, ssl=material.server_context()) as wss:
            assert https.origin.startswith("https://")
            recordings = []
            for upstream, ws in ((https.origin, False), (wss.origin, True)):
                proxy = RecordingProxy(upstream, ssl=upstream_ssl_context(str(material.bundle("ca")), env={}))
                await proxy.start()
                try:
                    if ws:
                        from websockets.asyncio.client import connect

                        async with connect(proxy.base_url.replace("http", "ws", 1) + "/responses", additional_headers={"authorization": f"Bearer {CANARY}"}) as conn:
                            await conn.send('{"type": "response.create", "model": "gpt-test", "input": []}')
                            while '"response.completed"' not in str(await asyncio.wait_for(conn.recv(), 10)):
                                pass
                    else:
                        async with httpx.AsyncClient(timeout=10) as client:
                            reply = await client.post(proxy.base_url + "/responses", json={"input": "hello"})
                            assert reply.status_code == 200 and "response.completed" in reply.text
                finally:
                    recordings.append(await proxy.stop())
            untrusted = RecordingProxy(https.origin, ssl=upstream_ssl_context(None, env={}))
            await untrusted.start()
            try:
                async with httpx.AsyncClient(timeout=10) as client:
                    reply = await client.post(untrusted.base_url + "/responses", json={"input": "hello"})
                assert reply.status_code == 502 and "CERTIFICATE_VERIFY_FAILED" in reply.text
            finally:
                failures += (await untrusted.stop()).unrecorded
        return recordings, failures

    (http_rec, ws_rec), failures = asyncio.run(main())
    assert [type(ex).__name__ for ex in http_rec.exchanges] == ["HttpRecord"] and http_rec.exchanges[0].status == 200
    (ws,) = ws_rec.exchanges
    assert ws.status == 101 and [f.sender for f in ws.frames][:2] == ["client", "server"]
    assert CANARY not in case_yaml(case_from_recording(ws_rec), secrets=recorded_secrets(ws_rec))
    assert len(failures) == 1 and "could not be reached" in failures[0]
