"""The CONNECT proxy a case starts (fake_server/proxy.py), proven at the socket level.

Clients here are raw asyncio sockets and ssl contexts (and httpx for one end-to-end
request); no wireplay client code is involved. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import ssl

import httpx
import pytest

from fake_server.proxy import PROXY_LISTENER, ProxyOptions, proxy_options
from fake_server.script import script_from_mapping
from fake_server.server import FakeServer
from fake_server.tls import server_options, tls_material


MODELS = {"http": {"method": "GET", "path": "/v1/models"}, "respond": {"json": {"object": "list", "data": []}},
          "times": {"min": 0, "max": 3}}  # fmt: skip


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


def server(*, proxy: str | None, tls: bool = True) -> FakeServer:
    material = tls_material()
    options = proxy_options({"kind": proxy}, material if tls else None) if proxy else None
    return FakeServer(script_from_mapping({"exchanges": [MODELS]}), ssl=material.server_context() if tls else None,
                      proxy=options)  # fmt: skip


def ca_context(name: str = "ca") -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=str(tls_material().bundle(name)))
    return ctx


async def connect_through(srv: FakeServer, target: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    """Open a TCP connection to the proxy, send CONNECT, return the reply head."""
    assert srv.proxy is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.proxy.port)
    writer.write(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    return reader, writer, head


async def get_over(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, ctx: ssl.SSLContext,
                   host: str = "127.0.0.1") -> bytes:  # fmt: skip
    """TLS over an established tunnel, then one GET /v1/models; the raw answer."""
    await asyncio.wait_for(writer.start_tls(ctx, server_hostname=host), 5)
    writer.write(b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    await writer.drain()
    return await asyncio.wait_for(reader.read(), 5)


def records(srv: FakeServer, kind: str) -> list[dict]:
    return [r.data for r in srv.transcript.records if r.kind == kind]


def test_options_from_the_case() -> None:
    assert proxy_options(None) is None
    assert proxy_options({"kind": "connect"}) == ProxyOptions(kind="connect")
    intercept = proxy_options({"kind": "intercept"}, tls_material())
    assert intercept is not None and intercept.upstream_context is not None
    with pytest.raises(ValueError, match=r"needs server\.tls"):
        proxy_options({"kind": "intercept"})
    with pytest.raises(ValueError, match="kind must be one of"):
        proxy_options({"kind": "socks"})


def test_connect_tunnels_tls_end_to_end() -> None:
    async def body() -> None:
        async with server(proxy="connect") as srv:
            assert srv.proxy is not None and srv.proxy.origin == f"http://127.0.0.1:{srv.proxy.port}"
            reader, writer, head = await connect_through(srv, f"127.0.0.1:{srv.port}")
            assert head.startswith(b"HTTP/1.1 200 ")
            answer = await get_over(reader, writer, ctx=ca_context("ca"))
            assert answer.startswith(b"HTTP/1.1 200") and b'"object":"list"' in answer
            writer.close()
            await srv.settle(timeout=1)
            (connect,) = [r for r in records(srv, "request") if r["listener"] == PROXY_LISTENER]
            assert connect["method"] == "CONNECT" and connect["target"] == f"127.0.0.1:{srv.port}"
            assert [r["path"] for r in records(srv, "request") if r["listener"] == "main"] == ["/v1/models"]
            await asyncio.sleep(0.05)
            (tunnel,) = records(srv, "proxy_tunnel")
            assert tunnel["established"] and tunnel["proxy"] == "connect" and tunnel["bytes_up"] > 0
            assert "tls_version" not in tunnel  # a plain tunnel never sees the TLS inside

    run(body())


def test_connect_tunnel_is_not_trusted_with_the_proxy_ca() -> None:
    async def body() -> None:
        async with server(proxy="connect") as srv:
            reader, writer, _ = await connect_through(srv, f"127.0.0.1:{srv.port}")
            with pytest.raises(ssl.SSLCertVerificationError):
                await get_over(reader, writer, ctx=ca_context("proxy-ca"))  # the server's own leaf arrives
            writer.close()

    run(body())


def test_intercept_answers_with_its_own_ca_and_relays_to_the_server() -> None:
    async def body() -> None:
        async with server(proxy="intercept") as srv:
            reader, writer, head = await connect_through(srv, f"127.0.0.1:{srv.port}")
            assert head.startswith(b"HTTP/1.1 200 ")
            answer = await get_over(reader, writer, ctx=ca_context("proxy-ca"))
            assert answer.startswith(b"HTTP/1.1 200")
            writer.close()
            await srv.settle(timeout=1)
            assert [r["path"] for r in records(srv, "request") if r["listener"] == "main"] == ["/v1/models"]
            await asyncio.sleep(0.05)
            (tunnel,) = records(srv, "proxy_tunnel")
            assert tunnel["established"] and tunnel["proxy"] == "intercept"
            assert tunnel["tls_version"].startswith("TLSv1.")

    run(body())


def test_intercept_refused_by_a_client_that_trusts_only_the_server_ca() -> None:
    async def body() -> None:
        async with server(proxy="intercept") as srv:
            reader, writer, _ = await connect_through(srv, f"127.0.0.1:{srv.port}")
            with pytest.raises(ssl.SSLCertVerificationError) as info:
                await get_over(reader, writer, ctx=ca_context("ca"))
            assert info.value.verify_code == 20  # unable to get local issuer certificate
            writer.close()
            await srv.settle(timeout=1)
            await asyncio.sleep(0.1)
            assert [r for r in records(srv, "request") if r["listener"] == "main"] == []
            (tunnel,) = records(srv, "proxy_tunnel")
            assert not tunnel["established"] and "refused the proxy's certificate" in tunnel["error"]

    run(body())


@pytest.mark.parametrize(
    ("request_line", "status", "why"),
    [
        (b"GET http://127.0.0.1:1/v1/models HTTP/1.1\r\nHost: x\r\n\r\n", b"405", "is not CONNECT"),
        (b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n", b"403", "not a loopback address"),
        (b"CONNECT nonsense HTTP/1.1\r\n\r\n", b"403", "not host:port"),
    ],
)
def test_refused_requests(request_line: bytes, status: bytes, why: str) -> None:
    async def body() -> None:
        async with server(proxy="connect", tls=False) as srv:
            assert srv.proxy is not None
            reader, writer = await asyncio.open_connection("127.0.0.1", srv.proxy.port)
            writer.write(request_line)
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), 5)
            assert answer.split(b" ")[1] == status
            writer.close()
            await asyncio.sleep(0.05)
            (tunnel,) = records(srv, "proxy_tunnel")
            assert not tunnel["established"] and why in tunnel["error"]

    run(body())


def test_upstream_down_is_a_502() -> None:
    async def body() -> None:
        async with server(proxy="connect", tls=False) as srv:
            probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
            port = probe.sockets[0].getsockname()[1]
            probe.close()
            await probe.wait_closed()  # nothing listens on that port any more
            _, writer, head = await connect_through(srv, f"127.0.0.1:{port}")
            assert head.startswith(b"HTTP/1.1 502")
            writer.close()

    run(body())


def test_not_http_is_a_finding() -> None:
    async def body() -> None:
        async with server(proxy="connect", tls=False) as srv:
            assert srv.proxy is not None
            reader, writer = await asyncio.open_connection("127.0.0.1", srv.proxy.port)
            writer.write(b"\x16\x03\x01garbage\r\n\r\n")
            await writer.drain()
            assert (await asyncio.wait_for(reader.read(), 5)).startswith(b"HTTP/1.1 400")
            writer.close()
            assert any("not an HTTP/1.x request" in f.message for f in srv.findings())

    run(body())


def test_httpx_through_the_proxy_end_to_end() -> None:
    async def body() -> None:
        async with server(proxy="intercept") as srv:
            assert srv.proxy is not None
            async with httpx.AsyncClient(verify=ca_context("proxy-ca"), proxy=srv.proxy.origin, trust_env=False) as client:
                response = await client.get(f"{srv.origin}/v1/models")
            assert response.status_code == 200

    run(body())


def test_aclose_ends_an_idle_tunnel() -> None:
    async def body() -> None:
        srv = server(proxy="connect")
        await srv.start()
        reader, writer, _ = await connect_through(srv, f"127.0.0.1:{srv.port}")
        await asyncio.wait_for(srv.aclose(), 5)  # a tunnel nobody uses must not hold the server open
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()

    run(body())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, {}), ({"cert": "expired"}, {"cert": "expired"}),
     ({"min_version": "1.3", "max_version": "1.3"}, {"min_version": "1.3", "max_version": "1.3"})],
)  # fmt: skip
def test_server_tls_options(raw, expected) -> None:
    assert server_options(raw) == expected


@pytest.mark.parametrize("raw", [{"cert": "self-signed"}, {"min_version": "1.4"}, {"ciphers": "x"}, "yes"])
def test_server_tls_options_refused(raw) -> None:
    with pytest.raises(ValueError):
        server_options(raw)


@pytest.mark.parametrize(("cert", "code"), [("expired", 10), ("wrong-host", 64)])
def test_server_certificates_fail_only_for_their_reason(cert: str, code: int) -> None:
    async def body() -> None:
        material = tls_material()
        srv = FakeServer(script_from_mapping({"exchanges": [MODELS]}), ssl=material.server_context(cert=cert))
        async with srv:
            with pytest.raises(ssl.SSLCertVerificationError) as info:
                await asyncio.open_connection("127.0.0.1", srv.port, ssl=ca_context("ca"))
            assert info.value.verify_code == code

    run(body())


@pytest.mark.parametrize(("server_tls", "client_min", "ok"), [
    ({"max_version": "1.2"}, ssl.TLSVersion.TLSv1_2, "TLSv1.2"),
    ({"min_version": "1.3"}, ssl.TLSVersion.TLSv1_2, "TLSv1.3"),
    ({"max_version": "1.2"}, ssl.TLSVersion.TLSv1_3, None),
    ({"min_version": "1.1", "max_version": "1.1"}, ssl.TLSVersion.TLSv1_2, None),
])  # fmt: skip
def test_server_versions(server_tls, client_min, ok) -> None:
    async def body() -> None:
        material = tls_material()
        srv = FakeServer(script_from_mapping({"exchanges": [MODELS]}), ssl=material.server_context(**server_options(server_tls)))
        async with srv:
            ctx = ca_context("ca")
            ctx.minimum_version = client_min
            if ok is None:
                with pytest.raises((ssl.SSLError, ConnectionError)):
                    await asyncio.open_connection("127.0.0.1", srv.port, ssl=ctx)
                return
            _, writer = await asyncio.open_connection("127.0.0.1", srv.port, ssl=ctx)
            assert writer.get_extra_info("ssl_object").version() == ok
            writer.close()

    run(body())
