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
developer's shell cannot decide the outcome. The probe never uses a proxy.
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

from harness.client.custom_ca import CustomCaError, build_client_ssl_context, select_ca_bundle


__all__ = ["describe_error", "main", "probe"]

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


if __name__ == "__main__":
    sys.exit(main())
