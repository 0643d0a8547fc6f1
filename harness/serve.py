"""``wireplay serve``: one case's fake server for a client run by hand.

It serves the case as the runner does (``harness.serving``: TLS, listeners, proxy,
placeholders), prints where to point the client (the https URL and the CA file to trust
on a TLS case), then one line per request as it arrives. On Ctrl-C or SIGTERM it prints
the wire verdict and writes the (redacted) transcript to a file whose path it prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from fake_server.redact import redact_text
from fake_server.server import is_loopback
from fake_server.transcript import Record
from harness.case.model import Case
from harness.revision import SEED
from harness.serving import CaseServer


__all__ = ["default_transcript_path", "request_line", "serve_case"]


def default_transcript_path(case: Case) -> Path:
    """Where the transcript goes unless ``--transcript`` says: the temp folder, one file per run."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", case.id)
    fd, name = tempfile.mkstemp(prefix=f"wireplay-serve-{safe}-", suffix=".json")
    os.close(fd)
    return Path(name)


def request_line(record: Record) -> str:
    """One request as it arrived: time, listener, connection, method and target (or the
    websocket handshake), redacted."""
    data = record.data
    what = f"websocket handshake {data.get('target', data.get('path', ''))}" if data.get("websocket") else f"{data.get('method', '?')} {data.get('target', data.get('path', ''))}"
    return redact_text(f"{record.t:8.3f}s  [{data.get('listener', 'main')}] conn {record.conn}  {what}")


async def serve_case(
    case: Case,
    *,
    host: str,
    port: int,
    allow_remote: bool,
    stop: asyncio.Event,
    out: Callable[[str], None],
    transcript_path: str | Path | None = None,
) -> int:
    """Serve until ``stop`` is set, then print the wire verdict; exit code 0 on PASS.

    A client run by hand gets the seed revision's script and checks, judged in both
    layers on the wire plane (it reports no events).
    """
    case = case.for_revision(SEED)
    target = Path(transcript_path) if transcript_path else default_transcript_path(case)
    served = CaseServer(case, host=host, port=port, allow_remote=allow_remote)
    async with served:
        endpoint = served.endpoint
        assert endpoint is not None
        if not is_loopback(served.server.host):
            out(f"WARNING: serving on {served.server.host}, reachable beyond this machine (--allow-remote)")
        out(f"serving {case.id} at {served.origin} (base URL {endpoint.base_url}); Ctrl-C to stop")
        if endpoint.realtime_base_url:
            out(f"realtime base URL: {endpoint.realtime_base_url}")
        for name, origin in sorted(served.origins.items()):
            if name != "main":
                out(f"listener {name}: {origin}")
        if served.tls:
            out(f"TLS: trust the CA file {served.ca_file} (e.g. SSL_CERT_FILE or CODEX_CA_CERTIFICATE)")
        if served.config:
            out("client config: " + redact_text(json.dumps(served.config, ensure_ascii=False)))
        printer = asyncio.create_task(_print_arrivals(served, out))
        try:
            await stop.wait()
        finally:
            out("stopping")
    # Leaving the block let the last bytes in and closed the server: the printer ends.
    with contextlib.suppress(TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(printer, 1.0)
    target.write_text(json.dumps(served.wire_log(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    verdict = served.wire_verdict()
    requests = sum(1 for r in served.records if r.kind == "request")
    out(f"{requests} request(s); transcript written to {target}")
    for note in verdict.not_judged:
        out(redact_text(f"  not judged: {note}"))
    if verdict.ok:
        out("wire verdict: PASS")
        return 0
    out("wire verdict: FAIL")
    for finding in verdict.findings:
        out(redact_text(f"  - {finding}"))
    return 1


async def _print_arrivals(served: CaseServer, out: Callable[[str], None]) -> None:
    async for record in served.arrivals(kinds=("request",)):
        out(request_line(record))
