"""An HTTP CONNECT proxy on loopback, started by a case (``server.proxy``).

The enterprise setup of the seed custom-ca (codex PRs #14178/#14239): the client is
told ``HTTPS_PROXY=http://127.0.0.1:<port>`` and reaches the fake server only through
this proxy. Two kinds:

- ``connect``: a plain tunnel. The client's ``CONNECT host:port`` opens a TCP
  connection to the target and the proxy relays bytes both ways; TLS stays end to
  end between the client and the fake server, which the client verifies as usual.
- ``intercept``: a TLS-intercepting gateway, as codex's ``ca_env.rs`` test proxy and
  mitmproxy are. After ``200 Connection Established`` the proxy answers the client's
  TLS handshake itself with a leaf for the requested host signed by its own CA (the
  ``proxy-ca`` bundle, :mod:`fake_server.tls`), opens its own TLS connection to the
  fake server (trusting the run's CA) and relays the decrypted bytes. A client that
  does not trust ``proxy-ca`` fails the handshake with an unknown issuer.

Everything lands in the fake server's transcript, so wire checks see it: the CONNECT
itself is a ``request`` record on the listener ``proxy`` (``of: {kind: http, method:
CONNECT, listener: proxy}``), and each tunnel ends with a ``proxy_tunnel`` record
(target, whether it was established, the client-side TLS version when intercepting,
the byte counts, and the error that ended it, if any). Targets must be loopback
addresses: the proxy never reaches out of the machine. Every wait is bounded and
``aclose`` ends every tunnel.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import ssl as ssl_module
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fake_server.transcript import Transcript


__all__ = ["PROXY_KINDS", "PROXY_LISTENER", "ConnectProxy", "ProxyOptions", "proxy_options"]

PROXY_KINDS = ("connect", "intercept")
PROXY_LISTENER = "proxy"
_HEAD_LIMIT = 16 * 1024
_HEAD_TIMEOUT = 5.0
_CONNECT_TIMEOUT = 5.0
_HANDSHAKE_TIMEOUT = 5.0
_CHUNK = 65536


@dataclass(frozen=True, slots=True)
class ProxyOptions:
    """How the proxy behaves: its kind and, when it intercepts, its two TLS sides."""

    kind: str = "connect"
    intercept_context: Callable[[str], ssl_module.SSLContext] | None = None  # host → server side
    upstream_context: ssl_module.SSLContext | None = None  # the proxy's own client side


def proxy_options(raw: Mapping[str, Any] | None, material: Any = None) -> ProxyOptions | None:
    """``server.proxy`` of a case (``{kind: connect | intercept}``); None without one.

    ``material`` is the run's :class:`fake_server.tls.TlsMaterial`; an intercepting
    proxy needs it (and a TLS server: it speaks TLS to the fake server).
    """
    if raw is None:
        return None
    kind = raw.get("kind", "connect")
    if kind not in PROXY_KINDS:
        raise ValueError(f"server.proxy.kind must be one of {', '.join(PROXY_KINDS)}; got {kind!r}")
    if kind == "connect":
        return ProxyOptions(kind=kind)
    if material is None:
        raise ValueError("server.proxy kind intercept needs server.tls (it speaks TLS to the fake server)")
    return ProxyOptions(kind=kind, intercept_context=material.intercept_context, upstream_context=material.upstream_context())


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _split_authority(authority: str) -> tuple[str, int] | None:
    """``host:port`` / ``[v6]:port`` → (host, port); None when it is not one."""
    host, sep, port = authority.rpartition(":")
    if not sep or not port.isdigit() or not host:
        return None
    return host.strip("[]"), int(port)


def _parse_head(raw: bytes) -> tuple[str, str, list[list[str]]] | None:
    """Request line and headers of a proxy request; None when it is not HTTP/1.x."""
    try:
        text = raw.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        return None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return None
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            return None
        headers.append([name.strip().lower(), value.strip()])
    return parts[0], parts[1], headers


class ConnectProxy:
    """One case's proxy; see the module docstring."""

    def __init__(
        self,
        options: ProxyOptions,
        *,
        transcript: Transcript,
        ids: Iterator[int] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.options = options
        self.transcript = transcript
        self.host = host
        self.port = 0
        self._ids = ids if ids is not None else itertools.count(10_000)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._closed = False

    @property
    def kind(self) -> str:
        return self.options.kind

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``: the value of ``HTTPS_PROXY`` for the client."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_connection, self.host, 0, limit=_HEAD_LIMIT)
        self.port = self._server.sockets[0].getsockname()[1]
        self.transcript.add("listen", host=self.host, port=self.port, tls=False, listener=PROXY_LISTENER, proxy=self.kind)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2.0)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=1.0)

    # -- one client connection -----------------------------------------------------

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._track(task)
        self._writers.add(writer)
        conn = next(self._ids)
        peer = writer.get_extra_info("peername")
        self.transcript.add("connect", conn=conn, peer=f"{peer[0]}:{peer[1]}" if peer else "", listener=PROXY_LISTENER)
        upstream: asyncio.StreamWriter | None = None
        try:
            upstream = await self._serve(conn, reader, writer)
        except asyncio.CancelledError:
            self.transcript.add("disconnect", conn=conn, by="server", reason="case ended")
        except (ConnectionError, asyncio.IncompleteReadError, ssl_module.SSLError, TimeoutError) as exc:
            self.transcript.add("disconnect", conn=conn, error=type(exc).__name__)
        finally:
            self._writers.discard(writer)
            for w in (writer, upstream):
                if w is not None and not w.transport.is_closing():
                    w.transport.close()

    async def _reply(self, writer: asyncio.StreamWriter, status: int, reason: str) -> None:
        writer.write(f"HTTP/1.1 {status} {reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
        with contextlib.suppress(ConnectionError):
            await writer.drain()

    async def _serve(self, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> asyncio.StreamWriter | None:
        try:
            raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _HEAD_TIMEOUT)
        except asyncio.LimitOverrunError:
            await self._reply(writer, 431, "Request Header Fields Too Large")
            return None
        except asyncio.IncompleteReadError:
            self.transcript.add("disconnect", conn=conn, by="client", during="proxy request")
            return None
        head = _parse_head(raw[:-4])
        if head is None:
            self.transcript.finding("the client sent the proxy something that is not an HTTP/1.x request", layer="protocol", conn=conn)
            await self._reply(writer, 400, "Bad Request")
            return None
        method, target, headers = head
        self.transcript.add("request", conn=conn, method=method, target=target, path=target, query={}, headers=headers,
                            body=None, websocket=False, listener=PROXY_LISTENER)  # fmt: skip
        if method != "CONNECT":
            # An absolute-form request (plain-HTTP proxying) is not what an HTTPS client sends.
            self._tunnel(conn, target, established=False, error=f"{method} is not CONNECT (answered 405)")
            await self._reply(writer, 405, "Method Not Allowed")
            return None
        authority = _split_authority(target)
        if authority is None or not _loopback(authority[0]):
            why = "not host:port" if authority is None else "not a loopback address"
            self._tunnel(conn, target, established=False, error=f"target {why} (answered 403)")
            await self._reply(writer, 403, "Forbidden")
            return None
        host, port = authority
        if self.kind == "connect":
            return await self._connect_tunnel(conn, target, host, port, reader, writer)
        return await self._intercept_tunnel(conn, target, host, port, reader, writer)

    async def _open_upstream(self, host: str, port: int, *, tls: bool) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        ssl = self.options.upstream_context if tls else None
        return await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=ssl, server_hostname=host if ssl else None, limit=_CHUNK),
            _CONNECT_TIMEOUT,
        )

    async def _connect_tunnel(self, conn: int, target: str, host: str, port: int,
                              reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> asyncio.StreamWriter | None:  # fmt: skip
        try:
            up_reader, up_writer = await self._open_upstream(host, port, tls=False)
        except (OSError, TimeoutError) as exc:
            self._tunnel(conn, target, established=False, error=f"upstream: {type(exc).__name__} (answered 502)")
            await self._reply(writer, 502, "Bad Gateway")
            return None
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await writer.drain()
        up, down, error = await self._relay(reader, writer, up_reader, up_writer)
        self._tunnel(conn, target, established=True, bytes_up=up, bytes_down=down, error=error)
        return up_writer

    async def _intercept_tunnel(self, conn: int, target: str, host: str, port: int,
                                reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> asyncio.StreamWriter | None:  # fmt: skip
        assert self.options.intercept_context is not None
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await writer.drain()
        try:
            await asyncio.wait_for(
                writer.start_tls(self.options.intercept_context(host), ssl_handshake_timeout=_HANDSHAKE_TIMEOUT),
                _HANDSHAKE_TIMEOUT + 1,
            )
        except (ssl_module.SSLError, ConnectionError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", None) or type(exc).__name__
            self._tunnel(conn, target, established=False, error=f"the client refused the proxy's certificate: {reason}")
            return None
        ssl_object = writer.get_extra_info("ssl_object")
        version = ssl_object.version() if ssl_object is not None else None
        try:
            up_reader, up_writer = await self._open_upstream(host, port, tls=True)
        except (OSError, TimeoutError, ssl_module.SSLError) as exc:
            self._tunnel(conn, target, established=False, tls_version=version, error=f"upstream: {type(exc).__name__}")
            return None
        up, down, error = await self._relay(reader, writer, up_reader, up_writer)
        self._tunnel(conn, target, established=True, tls_version=version, bytes_up=up, bytes_down=down, error=error)
        return up_writer

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter) -> tuple[int, int, str | None]:  # fmt: skip
        """Copy both ways until either side ends; the other side is then closed too."""
        counts = [0, 0]
        errors: list[str] = []

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, slot: int) -> None:
            try:
                while data := await src.read(_CHUNK):
                    counts[slot] += len(data)
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, ssl_module.SSLError, OSError) as exc:
                errors.append(type(exc).__name__)

        tasks = [asyncio.create_task(pump(reader, up_writer, 0)), asyncio.create_task(pump(up_reader, writer, 1))]
        for t in tasks:
            self._track(t)
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in (writer, up_writer):
                if not w.transport.is_closing():
                    w.transport.close()
            await asyncio.wait(tasks, timeout=1.0)
            for t in tasks:
                t.cancel()
        return counts[0], counts[1], (errors[0] if errors else None)

    def _tunnel(self, conn: int, target: str, *, established: bool, error: str | None = None,
                tls_version: str | None = None, bytes_up: int = 0, bytes_down: int = 0) -> None:  # fmt: skip
        data: dict[str, Any] = {"target": target, "proxy": self.kind, "established": established,
                                "bytes_up": bytes_up, "bytes_down": bytes_down}  # fmt: skip
        if tls_version is not None:
            data["tls_version"] = tls_version
        if error is not None:
            data["error"] = error
        self.transcript.add("proxy_tunnel", conn=conn, **data)
