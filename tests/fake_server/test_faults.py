"""Every fault the fake server injects, proven on the wire with a plain client.

Clients here are httpx, the websockets asyncio client and raw asyncio sockets; no
wireplay client code is involved. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from fake_server.script import script_from_mapping
from fake_server.server import FakeServer, LoopbackOnlyError


def messages(srv):
    """The server's findings as their messages (each also carries its assertion's layer)."""
    return [f.message for f in srv.findings()]


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


def server(*exchanges, **options):
    return FakeServer(script_from_mapping({"exchanges": list(exchanges), **options}))


def ws_url(srv, path="/v1/realtime"):
    return srv.origin.replace("http", "ws", 1) + path


async def raw_request(srv, request: bytes, *, read_timeout=3.0) -> tuple[bytes, str]:
    """Send raw bytes; return what came back and how the connection ended (eof/reset/open)."""
    reader, writer = await asyncio.open_connection(srv.host, srv.port)
    writer.write(request)
    await writer.drain()
    data = b""
    how = "open"
    try:
        async with asyncio.timeout(read_timeout):
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    how = "eof"
                    break
                data += chunk
    except TimeoutError:
        how = "open"
    except ConnectionResetError:
        how = "reset"
    writer.close()
    return data, how


POST = b"POST /v1/responses HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}"


# -- HTTP status, headers, bodies -------------------------------------------------

def test_401_with_request_id_and_cf_ray():
    async def main():
        async with server({"http": {"method": "POST", "path": "/v1/responses"}, "respond": {
            "status": 401, "headers": {"x-request-id": "req_abc123", "cf-ray": "8f00ba11-SJC"},
            "json": {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}}}) as srv:
            async with httpx.AsyncClient() as client:
                r = await client.post(srv.origin + "/v1/responses", json={})
            assert r.status_code == 401
            assert r.headers["x-request-id"] == "req_abc123"
            assert r.headers["cf-ray"] == "8f00ba11-SJC"
            assert r.json()["error"]["code"] == "invalid_api_key"
            assert messages(srv) == []
    run(main())


def test_429_rate_limit_headers_and_5xx_sequence():
    async def main():
        async with server(
            {"http": {"path": "/v1/responses"}, "respond": {"status": 429, "headers": {"retry-after": "1", "x-codex-primary-used-percent": "100.0"}, "json": {"error": {"type": "usage_limit_reached"}}}},
            {"http": {"path": "/v1/responses"}, "respond": {"status": 503, "text": "overloaded"}},
        ) as srv:
            async with httpx.AsyncClient() as client:
                first = await client.post(srv.origin + "/v1/responses", json={})
                second = await client.post(srv.origin + "/v1/responses", json={})
            assert (first.status_code, first.headers["retry-after"], first.headers["x-codex-primary-used-percent"]) == (429, "1", "100.0")
            assert (second.status_code, second.text) == (503, "overloaded")
    run(main())


def test_unmatched_request_gets_404_and_is_a_finding():
    async def main():
        async with server() as srv:
            async with httpx.AsyncClient() as client:
                r = await client.get(srv.origin + "/v1/models")
            assert r.status_code == 404
            assert r.json()["error"]["type"] == "wireplay_unmatched"
            assert messages(srv) == ["no scripted exchange matches GET /v1/models (answered 404)"]
    run(main())


def test_expect_mismatch_is_recorded_but_reply_still_served():
    async def main():
        async with server({"http": {"path": "/v1/responses"}, "expect": {"headers": {"x-codex-turn-state": "ts-1", "authorization": {"$regex": "Bearer .+"}}}, "respond": {"status": 204}}) as srv:
            async with httpx.AsyncClient() as client:
                r = await client.post(srv.origin + "/v1/responses", headers={"authorization": "Bearer sk-secret-canary-1"})
            assert r.status_code == 204
            assert messages(srv) == ['server.exchanges[0].expect.headers.x-codex-turn-state: expected "ts-1", got absent']
            assert "sk-secret-canary-1" not in json.dumps(srv.transcript.to_json())
    run(main())


def test_delay_before_headers():
    async def main():
        async with server({"http": {"path": "/v1/responses"}, "respond": {"delay": 0.3, "status": 200, "text": "ok"}}) as srv:
            async with httpx.AsyncClient() as client:
                start = time.monotonic()
                r = await client.post(srv.origin + "/v1/responses")
                took = time.monotonic() - start
            assert r.text == "ok" and 0.3 <= took < 2.0
    run(main())


# -- SSE --------------------------------------------------------------------------

def test_sse_events_duplicates_malformed_and_no_terminal_event():
    async def main():
        async with server({"http": {"path": "/v1/responses"}, "respond": {"sse": [
            {"event": {"type": "response.created", "response": {"id": "r1"}}},
            {"event": {"type": "response.output_text.delta", "delta": "hi"}, "repeat": 2},
            {"data": "{not json"},
            {"comment": "keepalive"},
        ]}}) as srv:
            async with httpx.AsyncClient() as client:
                r = await client.post(srv.origin + "/v1/responses")
            assert r.headers["content-type"] == "text/event-stream"
            assert r.text == (
                'event: response.created\ndata: {"type":"response.created","response":{"id":"r1"}}\n\n'
                + 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"hi"}\n\n' * 2
                + "data: {not json\n\n: keepalive\n\n"
            )
            assert "response.completed" not in r.text  # ends cleanly without a terminal event
    run(main())


def test_sse_pace_delays_between_events():
    async def main():
        async with server({"http": {"path": "/v1/responses"}, "respond": {"pace": 0.1, "sse": [
            {"event": {"type": "a"}}, {"event": {"type": "b"}}, {"sleep": 0.2}, {"event": {"type": "c"}}]}}) as srv:
            arrivals = []
            async with httpx.AsyncClient() as client, client.stream("POST", srv.origin + "/v1/responses") as r:
                start = time.monotonic()
                async for line in r.aiter_lines():
                    if line.startswith("data:"):
                        arrivals.append(time.monotonic() - start)
            assert len(arrivals) == 3
            assert arrivals[2] - arrivals[1] >= 0.28  # pace 0.1 + sleep 0.2
    run(main())


def test_sse_drop_mid_stream_is_a_fin_without_chunk_terminator():
    async def main():
        async with server({"http": {"path": "/v1/responses"}, "times": 2, "respond": {"end": "drop", "sse": [{"event": {"type": "response.created"}}]}}) as srv:
            data, how = await raw_request(srv, POST)
            assert how == "eof"
            assert b"response.created" in data
            assert not data.endswith(b"0\r\n\r\n")  # no final chunk: the body never completed
            async with httpx.AsyncClient() as client:
                with pytest.raises(httpx.RemoteProtocolError):
                    await client.post(srv.origin + "/v1/responses")
    run(main())


def test_sse_reset_mid_stream_is_a_tcp_rst():
    async def main():
        async with server({"http": {"path": "/v1/responses"}, "respond": {"end": "reset", "sse": [{"sleep": 0.05}]}}) as srv:
            _, how = await raw_request(srv, POST)
            assert how == "reset"
    run(main())


def test_sse_hang_keeps_the_connection_open_without_data():
    async def main():
        async with server({"http": {"path": "/v1/responses"}, "respond": {"end": "hang", "sse": [{"event": {"type": "response.created"}}]}}) as srv:
            data, how = await raw_request(srv, POST, read_timeout=0.5)
            assert how == "open" and b"response.created" in data
    run(main())


# -- websocket ----------------------------------------------------------------------

def test_websocket_expect_send_duplicate_malformed_and_binary():
    async def main():
        async with server({"websocket": {"path": "/v1/realtime"}, "script": [
            {"expect": {"type": "session.update", "session": {"type": "quicksilver"}}},
            {"send": {"type": "session.updated", "session": {"id": "s1"}}, "repeat": 2},
            {"send_text": "{not json"},
            {"send_binary": "AAEC"},
            {"send": {"type": "b"}},
            {"send": {"type": "a"}},
        ]}) as srv:
            async with connect(ws_url(srv), open_timeout=3, close_timeout=1) as ws:
                await ws.send(json.dumps({"type": "session.update", "session": {"type": "quicksilver", "x": 1}}))
                got = [await asyncio.wait_for(ws.recv(), 3) for _ in range(6)]
            assert got[:2] == ['{"type":"session.updated","session":{"id":"s1"}}'] * 2
            assert got[2] == "{not json"
            assert got[3] == b"\x00\x01\x02"
            assert [json.loads(g)["type"] for g in got[4:]] == ["b", "a"]  # reordered as scripted
            await srv.settle(timeout=1)
            assert messages(srv) == []
    run(main())


def test_websocket_expect_mismatch_and_unexpected_extra_message():
    async def main():
        async with server({"websocket": {"path": "/v1/realtime"}, "script": [{"expect": {"type": "session.update", "session": {"tools": {"$absent": True}}}}]}) as srv:
            async with connect(ws_url(srv), open_timeout=3, close_timeout=1) as ws:
                await ws.send(json.dumps({"type": "session.update", "session": {"tools": []}}))
                await ws.send(json.dumps({"type": "input_audio_buffer.append"}))
                await asyncio.sleep(0.1)
            await srv.settle(timeout=1)
            findings = messages(srv)
            assert findings[0] == "server.exchanges[0].script[0].expect.session.tools: expected absent, got []"
            assert "unexpected client text message" in findings[1]
    run(main())


def test_websocket_stalled_close_never_answers_and_keeps_tcp_open():
    async def main():
        async with server({"websocket": {"path": "/v1/responses"}, "on_close": "stall", "script": [{"send": {"type": "response.failed"}}]}) as srv:
            ws = await connect(ws_url(srv, "/v1/responses"), open_timeout=3, close_timeout=0.5)
            await ws.recv()
            start = time.monotonic()
            await ws.close()  # waits close_timeout for the echo that never comes
            took = time.monotonic() - start
            assert took >= 0.45
            assert ws.protocol.close_rcvd is None  # the server never sent a close frame
            kinds = [r.kind for r in srv.transcript]
            assert "ws_close_recv" in kinds and "ws_close_send" not in kinds
            assert any(r.kind == "fault" and r.data["fault"] == "stall_close" for r in srv.transcript)
    run(main())


def test_websocket_pause_reading_backs_up_the_clients_writes_then_reads_everything():
    frame, frames = "x" * 262_144, 100  # 25 MiB: more than loopback's socket buffers hold

    async def main():
        script = [{"send": {"type": "ready"}}, {"pause_reading": 1.5}, {"mark": "resumed"}]
        async with server({"websocket": {"path": "/v1/realtime"}, "extra_messages": "allow", "script": script}) as srv:
            async with connect(ws_url(srv), open_timeout=3, close_timeout=1, max_size=None) as ws:
                assert json.loads(await ws.recv()) == {"type": "ready"}
                sent = 0

                async def flood():
                    nonlocal sent
                    for _ in range(frames):
                        await ws.send(frame)
                        sent += 1

                task = asyncio.create_task(flood())
                while not any(r.kind == "fault" and r.data.get("fault") == "pause_reading" for r in srv.transcript):
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.75)  # well inside the pause
                during = (sent, sum(r.kind == "ws_recv" for r in srv.transcript))
                await asyncio.wait_for(task, 15)
                while sum(r.kind == "ws_recv" for r in srv.transcript) < frames:
                    await asyncio.sleep(0.01)
            assert during[1] == 0  # nothing read while paused
            assert 0 < during[0] < frames  # the client's sends blocked part way
            assert any(r.kind == "mark" and r.data.get("name") == "resumed" for r in srv.transcript)

    run(main())


def test_websocket_close_with_code_and_reason():
    async def main():
        async with server({"websocket": {"path": "/v1/realtime"}, "script": [{"close": {"code": 4001, "reason": "go away"}}]}) as srv:
            async with connect(ws_url(srv), open_timeout=3, close_timeout=1) as ws:
                with pytest.raises(ConnectionClosed) as info:
                    await asyncio.wait_for(ws.recv(), 3)
            assert (info.value.rcvd.code, info.value.rcvd.reason) == (4001, "go away")
    run(main())


@pytest.mark.parametrize(("op", "how"), [("drop", "eof"), ("reset", "reset")])
def test_websocket_abrupt_drop_and_reset(op, how):
    async def main():
        async with server({"websocket": {"path": "/v1/realtime"}, "script": [{"send": {"type": "x"}}, {op: None}]}) as srv:
            async with connect(ws_url(srv), open_timeout=3, close_timeout=1) as ws:
                assert json.loads(await ws.recv()) == {"type": "x"}
                with pytest.raises(ConnectionClosed) as info:
                    await asyncio.wait_for(ws.recv(), 3)
            assert info.value.rcvd is None  # no close frame: abnormal closure (1006)
            assert any(r.kind == "fault" and r.data["fault"] == op for r in srv.transcript)
    run(main())


def test_websocket_upgrade_rejected_with_426_and_401():
    async def main():
        async with server(
            {"websocket": {"path": "/v1/responses"}, "reject": {"status": 426, "text": "upgrade required"}},
            {"websocket": {"path": "/v1/realtime"}, "reject": {"status": 401, "headers": {"x-request-id": "req_9"}, "json": {"error": {"message": "bad key"}}}},
        ) as srv:
            with pytest.raises(InvalidStatus) as first:
                await connect(ws_url(srv, "/v1/responses"), open_timeout=3)
            with pytest.raises(InvalidStatus) as second:
                await connect(ws_url(srv), open_timeout=3)
            assert first.value.response.status_code == 426
            assert second.value.response.status_code == 401
            assert second.value.response.headers["x-request-id"] == "req_9"
            assert json.loads(second.value.response.body)["error"]["message"] == "bad key"
    run(main())


def test_websocket_accept_headers_and_no_compression_by_default():
    async def main():
        async with server({"websocket": {"path": "/v1/responses"}, "accept": {"headers": {"openai-model": "gpt-5.2", "x-codex-turn-state": "ts-1"}}}) as srv:
            async with connect(ws_url(srv, "/v1/responses"), open_timeout=3, close_timeout=1) as ws:
                assert ws.response.headers["openai-model"] == "gpt-5.2"
                assert ws.response.headers["x-codex-turn-state"] == "ts-1"
                assert "sec-websocket-extensions" not in ws.response.headers  # client offered deflate
    run(main())


def test_websocket_compression_when_asked():
    async def main():
        async with server({"websocket": {"path": "/v1/responses"}, "compression": "deflate", "script": [{"send": {"type": "x"}}]}) as srv:
            async with connect(ws_url(srv, "/v1/responses"), open_timeout=3, close_timeout=1) as ws:
                assert "permessage-deflate" in ws.response.headers["sec-websocket-extensions"]
                assert json.loads(await ws.recv()) == {"type": "x"}
    run(main())


def test_websocket_pace_between_frames():
    async def main():
        async with server({"websocket": {"path": "/v1/realtime"}, "pace": 0.15, "script": [{"send": {"type": "a"}}, {"send": {"type": "b"}}]}) as srv:
            async with connect(ws_url(srv), open_timeout=3, close_timeout=1) as ws:
                await ws.recv()
                start = time.monotonic()
                await ws.recv()
                assert time.monotonic() - start >= 0.12
    run(main())


def test_unreached_expect_is_a_finding_when_the_client_leaves():
    async def main():
        async with server({"websocket": {"path": "/v1/realtime"}, "script": [{"expect": {"type": "a"}}, {"expect": {"type": "b"}}]}) as srv:
            async with connect(ws_url(srv), open_timeout=3, close_timeout=1) as ws:
                await ws.send(json.dumps({"type": "a"}))
            await srv.settle(timeout=1)
            findings = messages(srv)
            assert findings == ['server.exchanges[0].script[1]: client sent a close frame instead of a message matching {"type": "b"}']
    run(main())


def test_case_end_reports_steps_never_reached_and_unused_exchanges():
    async def main():
        srv = server({"websocket": {"path": "/v1/realtime"}, "script": [{"expect": {"type": "a"}}]}, {"http": {"path": "/v1/responses"}, "respond": {}})
        await srv.start()
        ws = await connect(ws_url(srv), open_timeout=3, close_timeout=0.2)
        await srv.aclose()  # the case ends while the server waits for "a"
        await ws.close()
        assert messages(srv) == [
            'server.exchanges[0].script[0]: not reached, the case ended first (expected {"type": "a"})',
            "server.exchanges[1] (http * /v1/responses): expected exactly 1 request(s), got 0",
        ]
    run(main())


def test_binds_loopback_only_unless_allowed():
    with pytest.raises(LoopbackOnlyError, match="binds loopback only"):
        FakeServer(script_from_mapping({"exchanges": []}), host="0.0.0.0")
    FakeServer(script_from_mapping({"exchanges": []}), host="0.0.0.0", allow_remote=True)  # no error


# -- TLS ----------------------------------------------------------------------------

def test_tls_serves_https_and_wss_with_the_generated_ca_only():
    import ssl

    from fake_server.tls import tls_material

    material = tls_material()

    async def main():
        srv = FakeServer(
            script_from_mapping({"exchanges": [
                {"http": {"path": "/v1/responses"}, "respond": {"sse": [{"event": {"type": "response.completed"}}]}},
                {"websocket": {"path": "/v1/realtime"}, "script": [{"send": {"type": "hello"}}]},
            ]}),
            ssl=material.server_context(),
        )
        async with srv:
            assert srv.origin.startswith("https://127.0.0.1:")
            trusted = ssl.create_default_context(cafile=str(material.bundle("ca")))
            async with httpx.AsyncClient(verify=trusted) as client:
                r = await client.post(srv.origin + "/v1/responses")
            assert "response.completed" in r.text
            async with connect(srv.origin.replace("https", "wss", 1) + "/v1/realtime", ssl=trusted, open_timeout=3, close_timeout=1) as ws:
                assert json.loads(await ws.recv()) == {"type": "hello"}
            untrusted = ssl.create_default_context(cafile=str(material.bundle("other-ca")))
            async with httpx.AsyncClient(verify=untrusted) as client:
                with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                    await client.post(srv.origin + "/v1/responses")
    run(main())


def test_expect_eof_tells_a_dropped_socket_from_a_close_frame():
    async def main():
        async with server(
            {"websocket": {"path": "/v1/a"}, "script": [{"expect_eof": None}]},
            {"websocket": {"path": "/v1/b"}, "script": [{"expect_eof": None}]},
        ) as srv:
            dropped = await connect(ws_url(srv, "/v1/a"), open_timeout=3)
            dropped.transport.abort()  # TCP gone, no close frame
            async with connect(ws_url(srv, "/v1/b"), open_timeout=3, close_timeout=1):
                pass  # a clean close frame
            await srv.settle(timeout=1)
            assert messages(srv) == ["server.exchanges[1].script[0]: client sent a close frame (code 1000), expected it to drop TCP without one"]
    run(main())


def test_slow_upgrade_and_raw_target_in_order():
    async def main():
        async with server({"websocket": {"path": "/v1/realtime"}, "accept": {"delay": 0.3},
                           "expect": {"target": "/v1/realtime?intent=quicksilver&model=m"}}) as srv:
            start = time.monotonic()
            async with connect(ws_url(srv, "/v1/realtime?model=m&intent=quicksilver"), open_timeout=3, close_timeout=1):
                assert time.monotonic() - start >= 0.3
            await srv.settle(timeout=1)
            assert messages(srv) == ['server.exchanges[0].expect.target: expected "/v1/realtime?intent=quicksilver&model=m", got "/v1/realtime?model=m&intent=quicksilver"']
    run(main())


@pytest.mark.parametrize(("abort", "how"), [("drop", "eof"), ("reset", "reset")])
def test_abort_before_the_status_line(abort, how):
    async def main():
        async with server({"http": {"path": "/v1/responses"}, "respond": {"abort": abort}}) as srv:
            data, ended = await raw_request(srv, POST)
            assert (data, ended) == (b"", how)
    run(main())


def test_an_invalid_scripted_reply_is_a_finding_not_a_silent_drop():
    async def main():
        async with server({"http": {"path": "/v1/responses"}, "respond": {"headers": {"x-bad": " padded "}}}) as srv:
            await raw_request(srv, POST, read_timeout=1)
            await srv.settle(timeout=1)
            (finding,) = messages(srv)
            assert finding.startswith("the case's scripted reply is not valid HTTP/1.1:")
    run(main())


def test_tls_close_handshake_completes_promptly():
    import ssl

    from fake_server.tls import tls_material

    material = tls_material()

    async def main():
        srv = FakeServer(script_from_mapping({"exchanges": [{"websocket": {"path": "/v1/realtime"}}]}), ssl=material.server_context())
        async with srv:
            trusted = ssl.create_default_context(cafile=str(material.bundle("ca")))
            ws = await connect(srv.origin.replace("https", "wss", 1) + "/v1/realtime", ssl=trusted, open_timeout=3, close_timeout=2)
            start = time.monotonic()
            await ws.close()
            assert time.monotonic() - start < 1.0  # the server closes TCP after the handshake
            assert ws.protocol.close_rcvd is not None
    run(main())


def test_a_leading_prewarm_create_is_answered_by_the_server_unless_the_script_takes_it():
    exchange = {"websocket": {"path": "/v1/responses"}, "script": [
        {"expect": {"type": "response.create", "input": "turn"}},
        {"send": {"type": "response.completed", "response": {"id": "resp_1"}}},
    ]}

    async def client(srv) -> list[dict]:
        async with connect(ws_url(srv, "/v1/responses")) as ws:
            await ws.send(json.dumps({"type": "response.create", "generate": False, "input": []}))
            got = [json.loads(await ws.recv()) for _ in range(2)]
            await ws.send(json.dumps({"type": "response.create", "input": "turn", "previous_response_id": got[1]["response"]["id"]}))
            got.append(json.loads(await ws.recv()))
        return got

    async def main():
        async with server(exchange) as srv:
            got = await client(srv)
            await srv.settle(timeout=1)
            assert [g["type"] for g in got] == ["response.created", "response.completed", "response.completed"]
            assert got[1]["response"] == {"id": "resp_prewarm_1", "object": "response", "output": [], "status": "completed"}
            assert messages(srv) == []
            recv = [r.data for r in srv.transcript.records if r.kind == "ws_recv"]
            assert [bool(d.get("prewarm")) for d in recv] == [True, False]
        async with server(exchange, prewarm="script") as srv:
            async with connect(ws_url(srv, "/v1/responses")) as ws:
                await ws.send(json.dumps({"type": "response.create", "generate": False, "input": []}))
                await ws.recv()
            await srv.settle(timeout=1)
            assert messages(srv) == ['server.exchanges[0].script[0].expect.input: expected "turn", got []']

    run(main())


def test_a_step_awaits_a_mark_or_a_request_on_another_listener():
    script = script_from_mapping({"listeners": ["realtime"], "exchanges": [
        {"name": "turn", "http": {"path": "/v1/responses"}, "respond": {"sse": [
            {"await": {"mark": "handoff_sent"}},
            {"event": {"type": "response.completed", "response": {"id": "resp_1"}}},
        ]}},
        {"websocket": {"path": "/v1/realtime"}, "listener": "realtime", "script": [
            {"send": {"type": "handoff"}},
            {"mark": "handoff_sent"},
            {"await": {"exchange": "turn"}},
            {"send": {"type": "after-turn"}},
        ]},
    ]})

    async def main():
        async with FakeServer(script) as srv:
            ws_origin = srv.origin_of("realtime").replace("http", "ws", 1)
            async with connect(ws_origin + "/v1/realtime") as ws:
                assert json.loads(await ws.recv()) == {"type": "handoff"}
                async with httpx.AsyncClient() as client:
                    r = await client.post(srv.origin + "/v1/responses", json={})
                assert "response.completed" in r.text
                assert json.loads(await ws.recv()) == {"type": "after-turn"}
            await srv.settle(timeout=1)
            assert messages(srv) == []
        lonely = script_from_mapping({"expect_timeout": 0.2, "exchanges": [
            {"websocket": {"path": "/v1/realtime"}, "script": [{"await": {"mark": "never"}}, {"send": {"type": "x"}}]},
        ]})
        async with FakeServer(lonely) as srv:
            async with connect(ws_url(srv)):
                await srv.quiet(idle=0.3, timeout=3)  # the await gives up after 0.2 s, then nothing more happens
            await srv.settle(timeout=1)
            assert messages(srv) == ["server.exchanges[0].script[0]: mark 'never' did not come within 0.2s"]

    run(main())
