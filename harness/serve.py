"""``wireplay serve``: one case's fake server for a client run by hand."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from fake_server.server import FakeServer, is_loopback
from harness.case.model import Case
from harness.layer import ALL_LAYERS
from harness.revision import SEED
from harness.verdict.events import EventScope
from harness.verdict.wire import judge_wire


__all__ = ["serve_case"]


async def serve_case(
    case: Case,
    *,
    host: str,
    port: int,
    allow_remote: bool,
    stop: asyncio.Event,
    out: Callable[[str], None],
    transcript_path: str | None = None,
) -> int:
    """Serve until ``stop`` is set, then print the transcript and the wire verdict.

    A client run by hand gets the seed revision's script and checks.
    """
    case = case.for_revision(SEED)
    server = FakeServer(case.script, host=host, port=port, allow_remote=allow_remote)
    await server.start()
    if not is_loopback(server.host):
        out(f"WARNING: serving on {server.host}, reachable beyond this machine (--allow-remote)")
    out(f"serving {case.id} at {server.origin} (base URL {server.origin}/v1); Ctrl-C to stop")
    try:
        await stop.wait()
    finally:
        await server.settle(timeout=1.0)
        await server.aclose()
    log = server.transcript.to_json()
    # A client run by hand reports no events: the wire plane, in both layers.
    verdict = judge_wire(
        case, records=server.transcript.records, server_findings=server.findings(), events=[],
        layers=ALL_LAYERS, scope=EventScope(), implementation="the client",
    )
    out(json.dumps(log, indent=1))
    if transcript_path:
        Path(transcript_path).write_text(json.dumps(log, indent=1) + "\n")
    if not verdict.findings:
        out("wire verdict: PASS")
        return 0
    out("wire verdict: FAIL")
    for finding in verdict.findings:
        out(f"  - {finding}")
    return 1
