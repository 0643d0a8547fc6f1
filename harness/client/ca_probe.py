"""``python -m harness.client.ca_probe URL``: one HTTPS request and one WSS handshake.

The counterpart of codex's ``custom_ca_probe``: it builds its trust from its *own
process environment* with the reference policy (:mod:`harness.client.custom_ca`),
then makes one HTTPS request (httpx) and one websocket handshake (websockets) to the
URL, and prints one JSON line::

    {"ok": true, "ca": {"source_env": "CODEX_CA_CERTIFICATE", "path": "..."},
     "https": {"ok": true, "status": 200}, "wss": {"ok": true}}

On a CA bundle failure nothing is sent: ``{"ok": false, "stage": "ca", "error":
"<the reference message>"}``, and the message also goes to stderr (codex's tests read
it there). A failed request or handshake gives that step ``{"ok": false, "error":
...}``; a certificate verification failure reads ``certificate verify failed: <why>``.
Exit code 0 when everything asked for succeeded, else 1; 2 for bad arguments.

Tests run it in a subprocess whose environment they control: scrub
``CODEX_CA_CERTIFICATE``, ``SSL_CERT_FILE`` and the proxy variables first, so the
developer's shell cannot decide the outcome. The command-line probe never uses a proxy.

The client step ``tls.probe`` (:class:`TlsSteps`, docs/tls.md) is the same operation
inside a case: one plain HTTPS request (or one websocket handshake) to the case's
server, with the session's trust, the client environment's proxy variables and an
optional minimum TLS version, reported as one ``tls.probe`` event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from harness.client.custom_ca import (
    CustomCaError,
    build_client_ssl_context,
    proxy_for_url,
    select_ca_bundle,
)


__all__ = ["TlsSteps", "describe_error", "main", "probe", "probe_failure"]

_CLOSE_TIMEOUT = 0.5


def describe_error(exc: BaseException) -> str:
    """A short, library-neutral text for a failed request; certificate failures named as such."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    for e in seen:
        if isinstance(e, ssl.SSLCertVerificationError):
            return f"certificate verify failed: {e.verify_message}"
    for e in seen:
        if isinstance(e, ssl.SSLError):
            return f"TLS error: {e.reason or e}"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _https(url: str, ctx: ssl.SSLContext, timeout: float) -> dict[str, Any]:
    import httpx

    try:
        async with httpx.AsyncClient(verify=ctx, trust_env=False, timeout=timeout) as client:
            response = await client.get(url)
            await response.aread()
        return {"ok": True, "status": response.status_code}
    except Exception as exc:
        return {"ok": False, "error": describe_error(exc)}


async def _wss(url: str, ctx: ssl.SSLContext, timeout: float) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    try:
        async with asyncio.timeout(timeout):
            ws = await connect(
                url,
                ssl=ctx if url.startswith("wss:") else None,
                proxy=None,
                open_timeout=None,
                close_timeout=_CLOSE_TIMEOUT,
            )
            await ws.close()  # the handshake is the result; a slow closing handshake is not
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": describe_error(exc)}


async def probe(
    url: str,
    env: Mapping[str, str],
    *,
    ws_url: str | None = None,
    https: bool = True,
    wss: bool = True,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """The probe's report for ``url`` with the trust ``env`` selects (no process side effects)."""
    bundle = select_ca_bundle(env)
    report: dict[str, Any] = {
        "ca": {"source_env": bundle.source_env, "path": bundle.path} if bundle else None
    }
    try:
        ctx = build_client_ssl_context(env)
    except CustomCaError as exc:
        return {"ok": False, "stage": "ca", "error": str(exc), **report}
    if https:
        report["https"] = await _https(url, ctx, timeout)
    if wss:
        target = ws_url or (
            "wss" + url[len("https") :] if url.startswith("https") else "ws" + url[len("http") :]
        )
        report["wss"] = await _wss(target, ctx, timeout)
    failed = [step for step in ("https", "wss") if step in report and not report[step]["ok"]]
    if failed:
        return {"ok": False, "stage": failed[0], "error": report[failed[0]]["error"], **report}
    return {"ok": True, **report}


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.client.ca_probe", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "url", help="an https:// URL to GET (the websocket URL is the same with wss://)"
    )
    parser.add_argument("--ws-url", help="the websocket URL (default: URL with wss://)")
    parser.add_argument("--no-https", action="store_true", help="skip the HTTPS request")
    parser.add_argument("--no-wss", action="store_true", help="skip the websocket handshake")
    parser.add_argument("--timeout", type=float, default=10.0, help="bound per step, seconds")
    args = parser.parse_args(argv)
    report = asyncio.run(
        probe(
            args.url,
            os.environ if env is None else env,
            ws_url=args.ws_url,
            https=not args.no_https,
            wss=not args.no_wss,
            timeout=args.timeout,
        )
    )
    sys.stdout.write(json.dumps(report) + "\n")
    if not report["ok"]:
        sys.stderr.write(report["error"] + "\n")
    return 0 if report["ok"] else 1


# -- the tls.probe client step ---------------------------------------------------------------

_UNKNOWN_ISSUER = {2, 18, 19, 20, 21}  # unable to get issuer (locally), self-signed (in chain), leaf not verifiable
_EXPIRED = {10, 9}  # certificate has expired / is not yet valid
_HOSTNAME = {62, 63, 64}  # host name, email, IP address mismatch
_VERSION_REASONS = ("UNSUPPORTED_PROTOCOL", "PROTOCOL_VERSION", "NO_PROTOCOLS_AVAILABLE", "WRONG_SSL_VERSION",
                    "VERSION_TOO_LOW", "VERSION_TOO_HIGH", "NO_SUITABLE")  # fmt: skip
TLS_MIN_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def probe_failure(exc: BaseException) -> dict[str, Any]:
    """A failed probe as neutral fields: ``failure`` and, for certificates, ``certificate``.

    ``failure``: ``certificate`` (the chain did not verify), ``tls_version`` (no TLS
    version both sides accept), ``tls`` (another handshake failure), ``proxy`` (the
    proxy refused the CONNECT), ``timeout``, ``connection``. ``certificate``:
    ``unknown_issuer``, ``expired``, ``hostname_mismatch`` or ``other``. Decided from
    exception classes and OpenSSL's codes, never from a library's message.
    """
    import httpx

    chain = _chain(exc)
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            code = e.verify_code
            kind = ("unknown_issuer" if code in _UNKNOWN_ISSUER else "expired" if code in _EXPIRED
                    else "hostname_mismatch" if code in _HOSTNAME else "other")  # fmt: skip
            return {"failure": "certificate", "certificate": kind}
    for e in chain:
        if isinstance(e, ssl.SSLError):
            reason = str(e.reason or e).upper()
            if any(marker in reason for marker in _VERSION_REASONS):
                return {"failure": "tls_version"}
            return {"failure": "tls"}
    if any(isinstance(e, httpx.ProxyError) for e in chain):
        return {"failure": "proxy"}
    if any(isinstance(e, TimeoutError | httpx.TimeoutException) for e in chain):
        return {"failure": "timeout"}
    return {"failure": "connection"}


def _negotiated(obj: Any) -> str | None:
    ssl_object = obj.get_extra_info("ssl_object") if obj is not None else None
    return ssl_object.version() if ssl_object is not None else None


class TlsSteps:
    """``tls.probe`` for one session: the case's server origin, its trust, its environment.

    ``ca_env`` is the client's CA environment (the variables the custom-CA policy
    reads; None: plain trust of the system roots, as a session without TLS); ``env``
    the client's whole environment, whose proxy variables the probe honours as
    codex's HTTPS clients do (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``).
    """

    def __init__(self, *, origin: str, ca_env: Mapping[str, str] | None, env: Mapping[str, str] | None,
                 emit: Any, timeout: float = 5.0) -> None:  # fmt: skip
        self._origin = origin
        self._ca_env = dict(ca_env or {})
        self._env = dict(env or {})
        self._emit = emit
        self._timeout = timeout

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        if op != "tls.probe":
            raise ValueError(f"unknown tls step '{op}'; expected tls.probe")
        self._emit(await self.probe(dict(args)))

    def _url(self, args: Mapping[str, Any]) -> str:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(self._origin)
        host = args.get("host")
        netloc = f"{host}:{parts.port}" if host else parts.netloc
        scheme = parts.scheme
        if args.get("websocket"):
            scheme = "wss" if scheme == "https" else "ws"
        return urlunsplit((scheme, netloc, str(args.get("path", "/")), "", ""))

    async def probe(self, args: Mapping[str, Any]) -> dict[str, Any]:
        url = self._url(args)
        proxy = proxy_for_url(url, self._env)
        event: dict[str, Any] = {"type": "tls.probe", "ok": False, "proxy": proxy is not None}
        try:
            ctx = build_client_ssl_context(self._ca_env)
        except CustomCaError as exc:
            return {**event, "failure": "ca", "error": str(exc)}
        minimum = args.get("min_tls_version")
        if minimum is not None:
            ctx.minimum_version = TLS_MIN_VERSIONS[str(minimum)]
        try:
            async with asyncio.timeout(self._timeout):
                if args.get("websocket"):
                    version = await self._websocket(url, ctx, proxy)
                    return {**event, "ok": True, **({"tls_version": version} if version else {})}
                status, version = await self._http(url, ctx, proxy, args)
        except Exception as exc:
            return {**event, **probe_failure(exc)}
        return {**event, "ok": True, "status": status, **({"tls_version": version} if version else {})}

    async def _http(self, url: str, ctx: ssl.SSLContext, proxy: str | None, args: Mapping[str, Any]) -> tuple[int, str | None]:
        import httpx

        method = str(args.get("method", "GET")).upper()
        body = args.get("body")
        content = body.encode() if isinstance(body, str) else None
        async with httpx.AsyncClient(verify=ctx, trust_env=False, proxy=proxy, timeout=self._timeout) as client:
            async with client.stream(method, url, content=content,
                                     headers={"content-type": "application/json"} if content else None) as response:  # fmt: skip
                version = _negotiated(response.extensions.get("network_stream"))
                await response.aread()
                return response.status_code, version

    async def _websocket(self, url: str, ctx: ssl.SSLContext, proxy: str | None) -> str | None:
        from websockets.asyncio.client import connect

        ws = await connect(url, ssl=ctx if url.startswith("wss:") else None, proxy=proxy,
                           open_timeout=None, close_timeout=_CLOSE_TIMEOUT)  # fmt: skip
        try:
            return _negotiated(ws.transport)
        finally:
            await ws.close()


if __name__ == "__main__":
    sys.exit(main())
