"""One "serve a case" lifecycle (harness.serving.CaseServer) for the runner, ``serve`` and the fixture.

Listeners, TLS, the proxy, placeholders, teardown and the wire verdict live in one place,
so the three agree: a TLS case is served over TLS with the same CA by each of them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
from pathlib import Path

import httpx
import pytest

from harness.adapters.mock import MockAdapter
from harness.case.loader import parse_case_text
from harness.layer import Layer
from harness.pytest_plugin.served import ServedCase
from harness.runner import judge, run_case
from harness.serve import request_line
from harness.serving import NO_EVENTS, CaseServer, find_case
from harness.verdict.outcome import Outcome


TLS_CASE = """
id: foundation.serving.tls
title: one HTTPS request, with the client's config pointing at listeners and the CA
client:
  endpoint: {realtime_base_url: "${realtime:ws_origin}"}
  config:
    tls: {env: {CODEX_CA_CERTIFICATE: "${tls:ca}"}}
    x: {proxy: "${proxy:origin}", main: "${server:ws_origin}"}
  steps:
    - x.go: {}
server:
  tls: true
  listeners: [realtime]
  proxy: {kind: connect}
  exchanges:
    - http: {method: POST, path: /v1/responses}
      respond: {status: 200, json: {ok: true}}
expect:
  snapshot: false
  timing:
    - {from_event: {type: turn.started}, to_event: {type: turn.completed}, within: 1}
"""

PLAIN_CASE = """
id: foundation.serving.plain
title: one HTTP request
client:
  endpoint: {realtime_base_url: "${realtime:ws_origin}"}
  config:
    x: {main: "${server:ws_origin}"}
  steps:
    - x.go: {}
server:
  listeners: [realtime]
  exchanges:
    - http: {method: POST, path: /v1/responses}
      respond: {status: 200, json: {ok: true}}
expect:
  snapshot: false
"""


def load(text: str):
    return parse_case_text(text, file=Path("cases/foundation/serving.yaml"))


def _post(base_url: str, ca_file: str | None) -> int:
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
    with httpx.Client(verify=verify) as client:
        return client.post(f"{base_url}/responses", json={}).status_code


def test_a_tls_case_is_served_over_tls_with_everything_the_client_is_given():
    async def main() -> None:
        async with CaseServer(load(TLS_CASE)) as served:
            assert served.tls and served.endpoint is not None
            assert served.endpoint.origin.startswith("https://127.0.0.1:")
            assert served.endpoint.base_url == served.endpoint.origin + "/v1"
            assert served.endpoint.ca_file == served.ca_file and Path(served.ca_file or "").is_file()
            assert served.endpoint.realtime_base_url == served.origins["realtime"].replace("https", "wss")
            assert served.config["tls"]["env"]["CODEX_CA_CERTIFICATE"] == served.ca_file
            assert served.config["x"] == {"proxy": served.origins["proxy"], "main": served.origin.replace("https", "wss")}
            assert served.origins["proxy"].startswith("http://127.0.0.1:")
            status = await asyncio.to_thread(_post, served.base_url, served.ca_file)
            assert status == 200
        verdict = served.wire_verdict()
        assert verdict.ok, verdict.findings
        # a client run by hand reports no events: the timing check on events is not judged
        assert any("expect.timing[0]" in n for n in verdict.not_judged)

    asyncio.run(main())


def test_teardown_is_idempotent_and_a_failed_start_closes_the_server():
    bad = dataclasses.replace(load(PLAIN_CASE), config={"x": {"u": "${tls:ca}"}})  # a CA file without server.tls

    async def main() -> None:
        served = CaseServer(bad)
        with pytest.raises(ValueError, match=r"needs server.tls"):
            async with served:
                pass
        assert served.server._closed
        await served.aclose()  # again: nothing to do

    asyncio.run(main())


def test_arrivals_are_the_requests_as_they_come():
    async def main() -> list[str]:
        async with CaseServer(load(PLAIN_CASE)) as served:
            seen: list[str] = []

            async def watch() -> None:
                async for record in served.arrivals():
                    seen.append(request_line(record))

            task = asyncio.create_task(watch())
            await asyncio.to_thread(_post, served.base_url, None)
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            assert len(seen) == 1  # printed while serving, not at the end
        await asyncio.wait_for(task, 1)
        return seen

    (line,) = asyncio.run(main())
    assert line.endswith("[main] conn 1  POST /v1/responses")


@pytest.mark.parametrize("tls", [True, False], ids=["tls", "plain"])
def test_the_runner_and_the_fixture_agree_about_tls(tls: bool):
    case = load(TLS_CASE if tls else PLAIN_CASE)
    given = {}

    async def client(op, args, ctx):
        given.update(origin=ctx.endpoint.origin, ca_file=ctx.endpoint.ca_file, config=ctx.config)
        ctx.emit({"type": "turn.started", "turn_id": "t1"})
        await asyncio.to_thread(_post, ctx.endpoint.base_url, ctx.endpoint.ca_file)
        ctx.emit({"type": "turn.completed", "status": "completed"})

    result = judge(run_case(case, adapter=MockAdapter(client, layers=frozenset({Layer.PROTOCOL}))))
    assert result.outcome is Outcome.PASS, result.detail
    served = ServedCase(case)
    try:
        assert _post(served.base_url, served.ca_file) == 200
    finally:
        verdict = served.stop()
    assert verdict.ok, verdict.findings
    scheme = "https://" if tls else "http://"
    assert given["origin"].startswith(scheme) and served.origin.startswith(scheme) and served.tls is tls
    assert (given["ca_file"] is not None) is tls and (served.ca_file is not None) is tls
    assert given["ca_file"] == served.ca_file  # the run's CA, one per process
    assert served.config.keys() == given["config"].keys()  # the same config, each with its own ports


def test_find_case_by_id_or_path(tmp_path: Path):
    assert find_case("tls.https.codex-ca-sse").tls
    file = tmp_path / "foundation" / "c.yaml"
    file.parent.mkdir()
    file.write_text(PLAIN_CASE.replace("foundation.serving.plain", "foundation.serving.file"))
    assert find_case(str(file)).id == "foundation.serving.file"
    with pytest.raises(LookupError, match=r"no case with id 'foundation\.nope'"):
        find_case("foundation.nope")
    file.write_text("id: foundation.x\n")
    with pytest.raises(ValueError, match=r"c\.yaml:\d+: .*title"):
        find_case(str(file))


def test_no_events_keeps_no_event_type():
    assert not NO_EVENTS.keeps("turn.completed") and not NO_EVENTS.keeps("error")
