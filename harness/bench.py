"""``wireplay bench``: the harness measured against raw baselines, in the same run.

Every figure is a ratio against a baseline measured moments before on the same
machine and the same client, because this machine's speed drifts between runs. It
prints figures; it never fails on speed.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from fake_server.script import script_from_mapping
from fake_server.server import FakeServer


__all__ = ["GOALS", "main", "run_bench"]

N_EVENTS = 10_000
GOALS = {
    "case_median_ms": ("<=", 5.0),
    # the whole reference suite serially, against 1.3 x suite_floor_s + 1.5 s
    "suite_serial_over_floor": ("<=", 1.0),
    "case_overhead_ratio": ("<=", 5.0),
    "driver_case_ratio": ("<=", 2.0),
    "ws_stream_ratio": (">=", 1.0),
    "sse_stream_ratio": (">=", 1.0),
    "first_event_ms": ("<=", 2.0),
    "parallel_speedup": (">=", 1.7),
    "peak_rss_mb": ("<", 100.0),
    "error_latency_ms": ("same order as", None),
    "error_latency_stalled_close_ms": ("same order as error_latency_ms", None),
}


def _event(i: int) -> dict[str, Any]:
    return {"type": "response.output_text.delta", "sequence_number": i, "item_id": "msg_1", "output_index": 0,
            "content_index": 0, "delta": f"token {i} ", "logprobs": []}


async def _median(fn: Callable[[], Awaitable[float]], *, repeat: int) -> float:
    return statistics.median([await fn() for _ in range(repeat)])


# -- websocket streaming ----------------------------------------------------------

async def _ws_client(url: str, n: int) -> float:
    """Connect, ask, read n JSON frames; seconds from ask to last frame."""
    async with connect(url, compression=None, max_size=None, open_timeout=10, close_timeout=1) as ws:
        start = time.perf_counter()
        await ws.send('{"type":"response.create"}')
        for _ in range(n):
            json.loads(await ws.recv())
        return time.perf_counter() - start


async def _ws_baseline(n: int) -> float:
    frames = [json.dumps(_event(i), separators=(",", ":")) for i in range(n)]

    async def handler(ws: Any) -> None:
        await ws.recv()
        for frame in frames:
            await ws.send(frame)
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        return await _ws_client(f"ws://127.0.0.1:{port}/v1/responses", n)


def _ws_script(n: int) -> Any:
    steps = [{"expect": {"type": "response.create"}}] + [{"send": _event(i)} for i in range(n)]
    return script_from_mapping({"exchanges": [{"websocket": {"path": "/v1/responses"}, "script": steps}]})


async def _ws_wireplay(n: int) -> float:
    async with FakeServer(_ws_script(n)) as srv:
        return await _ws_client(srv.origin.replace("http", "ws", 1) + "/v1/responses", n)


# -- SSE streaming ------------------------------------------------------------------

async def _sse_client(url: str, n: int, *, first_only: bool = False) -> float:
    async with httpx.AsyncClient(timeout=30) as client:
        start = time.perf_counter()
        async with client.stream("POST", url, json={}) as r:
            seen = 0
            async for line in r.aiter_lines():
                if line.startswith("data: "):
                    json.loads(line[6:])
                    seen += 1
                    if first_only:
                        return time.perf_counter() - start
            assert seen == n, f"got {seen} events, expected {n}"
        return time.perf_counter() - start


async def _sse_baseline(n: int) -> float:
    from aiohttp import web

    chunks = [f"event: response.output_text.delta\ndata: {json.dumps(_event(i), separators=(',', ':'))}\n\n".encode() for i in range(n)]

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        for chunk in chunks:
            await resp.write(chunk)
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_post("/v1/responses", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        return await _sse_client(f"http://127.0.0.1:{port}/v1/responses", n)
    finally:
        await runner.cleanup()


def _sse_script(n: int) -> Any:
    return script_from_mapping({"exchanges": [{"http": {"path": "/v1/responses"}, "times": {"min": 0, "max": None},
                                               "respond": {"sse": [{"event": _event(i)} for i in range(n)]}}]})


async def _first_event_raw(n: int) -> float:
    """Seconds from writing the request to reading the first SSE data line, on a raw socket.

    A raw client measures the server alone (httpx adds about a millisecond of its own
    per request, reported beside it as ``first_event_httpx_ms``).
    """
    async with FakeServer(_sse_script(n)) as srv:
        reader, writer = await asyncio.open_connection(srv.host, srv.port)
        request = b"POST /v1/responses HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
        start = time.perf_counter()
        writer.write(request)
        buffer = b""
        while b"\ndata: " not in buffer:
            chunk = await reader.read(65536)
            if not chunk:
                raise RuntimeError("the server closed before the first event")
            buffer += chunk
        took = time.perf_counter() - start
        writer.close()
        return took


async def _sse_wireplay(n: int, *, first_only: bool = False) -> float:
    async with FakeServer(_sse_script(n)) as srv:
        return await _sse_client(srv.origin + "/v1/responses", n, first_only=first_only)


# -- a whole case vs a bare cycle ---------------------------------------------------

async def _bare_cycle(client: httpx.AsyncClient) -> float:
    """A minimal server answering one POST, and the same httpx client, start to finish."""
    start = time.perf_counter()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    await client.post(f"http://127.0.0.1:{port}/v1/responses", json={"input": "hi"})
    server.close()
    await server.wait_closed()
    return time.perf_counter() - start


TRIVIAL_CASE = """
id: foundation.bench.trivial
title: one request, one event
seed: foundation
client:
  steps:
    - x.post: {}
server:
  exchanges:
    - http: {method: POST, path: /v1/responses}
      respond: {status: 200, json: {}}
expect: {snapshot: false}
"""


async def _case_cycle(client: httpx.AsyncClient) -> float:
    from harness.adapters.mock import MockAdapter
    from harness.case.loader import parse_case_text
    from harness.runner import judge, run_case_async

    case = parse_case_text(TRIVIAL_CASE, file=Path("cases/foundation/trivial.yaml"))

    async def post(op: str, args: Any, ctx: Any) -> None:
        await client.post(ctx.endpoint.base_url + "/responses", json={"input": "hi"})
        ctx.emit({"type": "turn.completed", "status": "completed"})

    start = time.perf_counter()
    run = await run_case_async(case, adapter=MockAdapter(post))
    result = judge(run)
    took = time.perf_counter() - start
    assert result.outcome.value == "PASS", result.detail
    return took


# -- error latency through the reference client ---------------------------------------

def _error_case(*, stall: bool) -> str:
    on_close = "      on_close: stall\n" if stall else ""
    return f"""
id: foundation.bench.error-latency
title: a terminal websocket error
seed: ws-drop-on-terminal-error
timeout: 20
client:
  config:
    responses: {{model: gpt-test, api_key: sk-test-bench, transport: websocket, stream_max_retries: 0, request_max_retries: 0}}
  steps:
    - responses.turn: {{input: hi}}
server:
  exchanges:
    - websocket: {{path: /v1/responses}}
{on_close}      extra_messages: allow
      script:
        - expect: {{type: response.create}}
        - mark: failed
        - send: {{type: response.failed, response: {{id: r1, error: {{code: invalid_prompt, message: boom}}}}}}
    - http: {{method: POST, path: /v1/responses}}
      times: {{min: 0, max: 5}}
      respond: {{status: 500}}
expect: {{snapshot: false}}
"""


async def _error_latency(*, stall: bool) -> float:
    from harness.adapters.reference import ReferenceAdapter
    from harness.case.loader import parse_case_text
    from harness.runner import run_case_async

    case = parse_case_text(_error_case(stall=stall), file=Path("cases/foundation/error.yaml"))
    run = await run_case_async(case, adapter=ReferenceAdapter())
    marks = [r.t for r in run.records if r.kind == "mark"]
    errors = [t for t, e in run.events if e.get("type") == "error"]
    assert marks and errors, (run.status, run.error, [e for _, e in run.events])
    return float(errors[0] - marks[0])


# -- whole-process figures ----------------------------------------------------------

def _peak_rss_mb() -> float:
    """Peak RSS of a fresh process serving and reading the 10 000-event websocket scenario.

    Linux carries the forking parent's peak into the child's ``ru_maxrss`` across exec
    (signal->maxrss), so a bench process grown by the suite would be measured instead: the
    child reads its own address space's high-water mark (VmHWM) where /proc has it.
    """
    code = (
        "import asyncio, resource, pathlib; from harness.bench import _ws_wireplay, N_EVENTS; "
        "asyncio.run(_ws_wireplay(N_EVENTS)); "
        "status = pathlib.Path('/proc/self/status'); "
        "hwm = [l.split()[1] for l in status.read_text().splitlines() if l.startswith('VmHWM:')] if status.exists() else []; "
        "print(hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return int(out.stdout.strip()) / 1024


def _suite_seconds(*, workers: int | None, select: str = "not bench", durations: list[float] | None = None) -> float:
    """The wall time of ``wireplay run`` (a fresh process, as a user runs it); ``durations``
    receives each case's own duration from its JSON report."""
    cmd = [sys.executable, "-P", "-m", "harness.cli", "run", "-k", select, "--report-json", "report.json"]
    if workers:
        cmd += ["-n", str(workers)]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=tmp, check=False)
        took = time.perf_counter() - start
        report = Path(tmp) / "report.json"
        if durations is not None and report.is_file():
            durations.extend(float(c["duration"]) for c in json.loads(report.read_text())["cases"])
        return took


def _suite_floor_s() -> float:
    """The sum of the bundled cases' floors: what their scripted waits alone take, serially."""
    from harness.case.catalog import load_catalog
    from harness.case.floor import case_floor

    return sum(case_floor(e.case) for e in load_catalog(None) if e.case is not None)


async def _measure(*, quick: bool) -> dict[str, Any]:
    repeat = 3 if quick else 5
    n = 2_000 if quick else N_EVENTS
    figures: dict[str, Any] = {}
    ws_base = await _median(lambda: _ws_baseline(n), repeat=repeat)
    ws_ours = await _median(lambda: _ws_wireplay(n), repeat=repeat)
    sse_base = await _median(lambda: _sse_baseline(n), repeat=repeat)
    sse_ours = await _median(lambda: _sse_wireplay(n), repeat=repeat)
    first = await _median(lambda: _first_event_raw(n), repeat=repeat)
    first_httpx = await _median(lambda: _sse_wireplay(n, first_only=True), repeat=repeat)
    async with httpx.AsyncClient() as client:  # the same client for both, made once: it is not what is measured
        bare = await _median(lambda: _bare_cycle(client), repeat=repeat * 6)
        case = await _median(lambda: _case_cycle(client), repeat=repeat * 6)
    err = await _median(lambda: _error_latency(stall=False), repeat=repeat)
    err_stall = await _median(lambda: _error_latency(stall=True), repeat=repeat)
    figures.update(
        events=n,
        ws_baseline_events_per_s=round(n / ws_base),
        ws_wireplay_events_per_s=round(n / ws_ours),
        ws_stream_ratio=round(ws_base / ws_ours, 3),
        sse_baseline_events_per_s=round(n / sse_base),
        sse_wireplay_events_per_s=round(n / sse_ours),
        sse_stream_ratio=round(sse_base / sse_ours, 3),
        first_event_ms=round(first * 1000, 3),
        first_event_httpx_ms=round(first_httpx * 1000, 3),
        bare_cycle_ms=round(bare * 1000, 3),
        case_ms=round(case * 1000, 3),
        case_overhead_ratio=round(case / bare, 3),
        error_latency_ms=round(err * 1000, 3),
        error_latency_stalled_close_ms=round(err_stall * 1000, 3),
    )
    return figures


def _per_case_seconds(adapter: Any, cases: list[Any], *, rounds: int) -> float:
    """Mean wall time per case on one event loop (as the pytest plugin runs them), after one warm-up case."""
    from harness.runner import run_case

    with asyncio.Runner() as loop:
        run_case(cases[0], adapter=adapter, loop=loop)  # a driver process starts once per worker, not per case
        started = time.perf_counter()
        for _ in range(rounds):
            for case in cases:
                run_case(case, adapter=adapter, loop=loop)
        took = (time.perf_counter() - started) / (rounds * len(cases))
        if hasattr(adapter, "aclose"):
            loop.run(adapter.aclose())
    return took


def _driver_ratio(*, quick: bool) -> dict[str, Any]:
    """The reference client through the subprocess driver (one process serving case after
    case) against in-process, on the same cases in the same run: what the driver seam costs."""
    from harness.adapters.driver import DriverAdapter
    from harness.adapters.reference import ReferenceAdapter
    from harness.case.catalog import load_catalog
    from harness.paths import CASES_DIR

    # Quick cases (event mapping over SSE and the websocket), so the seam's own cost shows.
    cases = [e.case for e in load_catalog([str(CASES_DIR / "responses" / "events-*.yaml")]) if e.case is not None and not e.case.timing][:10]
    rounds = 1 if quick else 3
    inproc = _per_case_seconds(ReferenceAdapter(), cases, rounds=rounds)
    driver = DriverAdapter(command=[sys.executable, "-m", "harness.driver"])
    driver.keep_processes = True
    through = _per_case_seconds(driver, cases, rounds=rounds)
    return {"driver_cases": len(cases), "inprocess_case_ms": round(inproc * 1000, 2), "driver_case_ms": round(through * 1000, 2),
            "driver_case_ratio": round(through / inproc, 3)}


def run_bench(*, quick: bool = False, suite: bool = True) -> dict[str, Any]:
    """All figures, as one JSON-able dict."""
    figures = asyncio.run(_measure(quick=quick))
    figures.update(_driver_ratio(quick=quick))
    figures["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    if suite:
        durations: list[float] = []
        serial = _suite_seconds(workers=None, durations=durations)
        floor = _suite_floor_s()
        parallel = _suite_seconds(workers=2)
        # The same runs selecting no case: the fixed start-up that bounds the whole-suite
        # figure (pytest, and with -n 2 the xdist workers), to report the cases' own speed-up.
        serial_fixed = _suite_seconds(workers=None, select="no_case_has_this_id")
        parallel_fixed = _suite_seconds(workers=2, select="no_case_has_this_id")
        figures.update(
            case_median_ms=round(statistics.median(durations) * 1000, 2) if durations else None,
            suite_floor_s=round(floor, 2),
            suite_serial_over_floor=round(serial / (1.3 * floor + 1.5), 3),
            suite_serial_s=round(serial, 2),
            suite_parallel_s=round(parallel, 2),
            parallel_speedup=round(serial / parallel, 3),
            startup_serial_s=round(serial_fixed, 2),
            startup_parallel_s=round(parallel_fixed, 2),
            parallel_case_speedup=round((serial - serial_fixed) / max(parallel - parallel_fixed, 1e-6), 3),
        )
    figures["cpu_count"] = os.cpu_count()
    figures["self_maxrss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return figures


def _table(figures: dict[str, Any]) -> str:
    lines = [f"{'figure':<34}{'value':>14}   goal"]
    for key, (op, goal) in GOALS.items():
        value = figures.get(key, "-")
        target = f"{op} {goal}" if goal is not None else op
        lines.append(f"{key:<34}{value!s:>14}   {target}")
    lines.append("")
    for key in sorted(set(figures) - set(GOALS)):
        lines.append(f"{key:<34}{figures[key]!s:>14}")
    return "\n".join(lines)


def goals_met(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each figure that has a goal, beside it: ``{value, goal, met}`` (``met`` None when the
    goal is a comparison left to the reader, or the figure was not measured)."""
    out: dict[str, dict[str, Any]] = {}
    for key, (op, goal) in GOALS.items():
        value = figures.get(key)
        met: bool | None = None
        if isinstance(value, (int, float)) and goal is not None:
            met = {"<=": value <= goal, ">=": value >= goal, "<": value < goal}[op]
        out[key] = {"value": value, "goal": f"{op} {goal}" if goal is not None else op, "met": met}
    return out


def main(*, as_json: bool, quick: bool, suite: bool) -> int:
    figures = run_bench(quick=quick, suite=suite)
    text = json.dumps({**figures, "goals": goals_met(figures)}, indent=1) if as_json else _table(figures)
    sys.stdout.write(text + "\n")
    return 0
