"""``wireplay record --upstream URL [--ca-file F] -o case.yaml``: record a client into a case.

Starts :class:`~harness.record.proxy.RecordingProxy` on loopback, prints the URL to point
the client at, and on SIGINT / SIGTERM (or ``stop`` set by a caller) writes the case
(:mod:`harness.record.writer`) and says whether it validates.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


__all__ = ["add_record_parser", "record_to_file", "upstream_ssl_context"]


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def add_record_parser(sub: Any) -> None:
    """Register ``wireplay record`` on the CLI's subparsers."""
    rec = sub.add_parser("record", help="record a client through a proxy to an upstream and write the traffic as a case")
    rec.add_argument("--upstream", required=True, metavar="URL", help="where requests go, e.g. https://api.openai.com or http://127.0.0.1:PORT (a wireplay serve)")
    rec.add_argument("--ca-file", default=None, metavar="F", help="trust this CA bundle for an https/wss upstream (as CODEX_CA_CERTIFICATE; default: CODEX_CA_CERTIFICATE / SSL_CERT_FILE, then the system roots)")
    rec.add_argument("-o", "--output", required=True, metavar="case.yaml", help="the case file to write on stop")
    rec.add_argument("--id", default=None, help="the case id (default <area>.recorded-<date>-<time>)")
    rec.add_argument("--title", default=None, help="the case title")
    rec.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    rec.add_argument("--port", type=int, default=0, help="port (default: one the OS picks)")
    rec.add_argument("--upstream-timeout", type=float, default=300.0, metavar="S", help="read timeout towards the upstream (default 300)")
    rec.set_defaults(func=_cmd_record)


def upstream_ssl_context(ca_file: str | None, env: dict[str, str] | None = None) -> Any:
    """The TLS context towards the upstream, by the reference custom-CA rules
    (harness/client/custom_ca.py): ``--ca-file`` as ``CODEX_CA_CERTIFICATE``, else the
    user's ``CODEX_CA_CERTIFICATE`` / ``SSL_CERT_FILE``, added to the system roots."""
    from harness.client.custom_ca import (
        CODEX_CA_CERT_ENV,
        SSL_CERT_FILE_ENV,
        build_client_ssl_context,
    )

    source = os.environ if env is None else env
    chosen = {CODEX_CA_CERT_ENV: ca_file} if ca_file else {k: source[k] for k in (CODEX_CA_CERT_ENV, SSL_CERT_FILE_ENV) if source.get(k)}
    return build_client_ssl_context(chosen)


async def record_to_file(
    *,
    upstream: str,
    output: Path,
    stop: asyncio.Event,
    ssl: Any = None,
    case_id: str | None = None,
    title: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    upstream_timeout: float = 300.0,
    out: Callable[[str], None] = _out,
    ready: Callable[[Any], None] | None = None,
) -> int:
    """Record until ``stop`` is set, then write the case; 0 when it was written and validates."""
    from harness import cli as _cli
    from harness.case.loader import analyse_case_text
    from harness.record.proxy import RecordingProxy
    from harness.record.writer import RecordError, case_from_recording, case_yaml, recorded_secrets

    proxy = RecordingProxy(upstream, ssl=ssl, host=host, port=port, upstream_timeout=upstream_timeout, log=_err)
    await proxy.start()
    ws_base = proxy.base_url.replace("http://", "ws://", 1)
    out(f"recording {upstream} through {proxy.origin}")
    out(f"point the client at {proxy.base_url} (websocket: {ws_base}); Ctrl-C to stop and write {output}")
    if ready is not None:
        ready(proxy)
    try:
        await stop.wait()
    finally:
        recording = await proxy.stop()
    try:
        case = case_from_recording(recording, case_id=case_id, title=title, version=_cli._version())
        text = case_yaml(case, secrets=recorded_secrets(recording))
    except RecordError as exc:
        _err(f"wireplay record: {exc}")
        return 1
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    steps = len(case["client"]["steps"])
    out(f"wrote {output}: {case['id']}, {len(recording.exchanges)} exchange(s), {steps} client step(s)")
    _, problems = analyse_case_text(text, file=output)
    for problem in problems:
        _err(str(problem))
    if problems:
        _err(f"wireplay record: {output} does not validate; edit it (the problems above)")
        return 1
    out(f"valid; replay it with: wireplay run --cases {output} --impl <client>")
    return 0


def _cmd_record(args: argparse.Namespace) -> int:
    from harness.client.custom_ca import CustomCaError

    try:
        context = upstream_ssl_context(args.ca_file) if args.upstream.startswith(("https://", "wss://")) else None
    except CustomCaError as exc:
        _err(f"wireplay record: {exc}")
        return 2

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGINT, stop.set)
            loop.add_signal_handler(signal.SIGTERM, stop.set)
        return await record_to_file(
            upstream=args.upstream, output=Path(args.output), stop=stop, ssl=context, case_id=args.id, title=args.title,
            host=args.host, port=args.port, upstream_timeout=args.upstream_timeout,
        )

    try:
        return asyncio.run(main())
    except ValueError as exc:
        _err(f"wireplay record: {exc}")
        return 2
