"""A recording to a case: a pure function from recorded exchanges to a case mapping / YAML.

- **Server script**, from what the upstream answered: each HTTP request an ``http``
  exchange (status, headers, a JSON or text body, or the SSE events as steps with
  ``sleep`` steps keeping the upstream's pacing, ``end: drop`` when the body broke off),
  each websocket upgrade a ``websocket`` exchange (the refusal, or the accept headers and
  a script: the client's messages as ``expect`` steps and the upstream's frames as
  ``send`` / ``send_text`` / ``send_binary`` steps in the order relayed, paced the same
  way, and the upstream's close or drop).
- **Wire expectations**, from what the client sent: the method, path and query, the
  headers (minus transport details and the client library's self-description), the JSON
  body (its ``input`` as ``$contains``), each websocket message; Codex-only headers go
  to a ``codex``-layer wire check.
- **Secrets and volatile values** as matchers (:mod:`harness.record.scrub`); what the
  upstream sent goes through ``redact_text`` too. :func:`case_yaml` refuses to return a
  text that still holds any credential the recording saw.
- **Client steps and config**, inferred from the requests (Responses turns and their tool
  outputs, a realtime conversation's start / audio / text / close), with the upstream's
  timing as ``sleep`` steps; what cannot be inferred is said in the notes.
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fake_server.redact import SECRET_HEADERS, SECRET_KEYS, redact_text
from harness.record.model import HttpRecord, Recording, WsFrame, WsRecord
from harness.record.scrub import Scrubbed, header_expectation, is_codex_header, scrub_json
from harness.record.sse import SseBlock


__all__ = ["PLACEHOLDER_KEY", "RecordError", "case_from_recording", "case_yaml", "recorded_at", "recorded_secrets"]

PLACEHOLDER_KEY = "sk-test-recorded"  # the replay's API key: never the recorded one
PACING_MIN = 0.005  # gaps shorter than this are not kept as sleep steps
_MAX_TIMEOUT = 120.0
_RESPONSE_HEADERS_DROPPED = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "date", "content-encoding",
     "upgrade", "sec-websocket-accept", "sec-websocket-extensions", "sec-websocket-protocol"}
)
_SERVER_SECRET_KEYS = SECRET_KEYS - {"token"}  # "token" is also a logprobs field of ordinary text
_RESPONSES_OPTIONS = ("instructions", "tools", "tool_choice", "parallel_tool_calls", "reasoning", "store", "service_tier", "text")
_RESPONSES_DEFAULTS: Mapping[str, Any] = {"tools": [], "tool_choice": "auto", "parallel_tool_calls": True, "reasoning": None,
                                          "store": False, "service_tier": None, "text": None, "instructions": None}
_TOOL_OUTPUTS = frozenset({"function_call_output", "custom_tool_call_output"})


class RecordError(ValueError):
    """The recording cannot become a case (e.g. a credential would reach the file)."""


# --- what the upstream sent: redacted, never matched ------------------------------------------


def _server_json(value: Any, counts: dict[str, int]) -> Any:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if str(k).lower() in _SERVER_SECRET_KEYS and isinstance(v, str) and v:
                counts["server secret fields"] = counts.get("server secret fields", 0) + 1
                out[str(k)] = redact_text(v) if redact_text(v) != v else "<redacted>"
            else:
                out[str(k)] = _server_json(v, counts)
        return out
    if isinstance(value, list):
        return [_server_json(v, counts) for v in value]
    if isinstance(value, str):
        red = redact_text(value)
        if red != value:
            counts["server key-like strings"] = counts.get("server key-like strings", 0) + 1
        return red
    return value


def _server_text(text: str, counts: dict[str, int]) -> str:
    red = redact_text(text)
    if red != text:
        counts["server key-like strings"] = counts.get("server key-like strings", 0) + 1
    return red


def _response_headers(headers: Iterable[tuple[str, str]], counts: dict[str, int]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers:
        if name in _RESPONSE_HEADERS_DROPPED:
            continue
        if name in SECRET_HEADERS or redact_text(value) != value:
            counts["server secret headers (dropped)"] = counts.get("server secret headers (dropped)", 0) + 1
            continue
        out[name] = value
    return out


def _json_or_none(data: bytes | str) -> Any:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    try:
        return json.loads(text)
    except ValueError:
        return None


def _body_reply(body: bytes, counts: dict[str, int]) -> dict[str, Any]:
    if not body:
        return {}
    parsed = _json_or_none(body)
    if parsed is not None or body.strip() == b"null":
        return {"json": _server_json(parsed, counts)}
    return {"text": _server_text(body.decode("utf-8", "replace"), counts)}


def _sleep(gap: float) -> list[dict[str, Any]]:
    return [{"sleep": round(gap, 3)}] if gap >= PACING_MIN else []


def _sse_steps(blocks: Sequence[SseBlock], *, start: float, rest: bytes, counts: dict[str, int]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    last = start
    for block in blocks:
        steps += _sleep(block.t - last)
        last = block.t
        if not block.simple:
            steps.append({"raw": _server_text(block.raw.decode("utf-8", "replace"), counts)})
            continue
        if block.data is None:
            steps += [{"comment": _server_text(c, counts)} for c in block.comments] or [{"raw": "\n"}]
            continue
        steps += [{"comment": _server_text(c, counts)} for c in block.comments]
        parsed = _json_or_none(block.data)
        if isinstance(parsed, dict) and block.event is not None and parsed.get("type") == block.event:
            steps.append({"event": _server_json(parsed, counts)})
        elif block.event is None:
            steps.append({"data": _server_text(block.data, counts)})
        else:  # an event name of its own: keep the block's text as it came
            text = f"event: {block.event}\n" + "".join(f"data: {line}\n" for line in block.data.split("\n")) + "\n"
            steps.append({"raw": _server_text(text, counts)})
    if rest:
        steps.append({"raw": _server_text(rest.decode("utf-8", "replace"), counts)})
    return steps


# --- what the client sent: expectations -------------------------------------------------------


def _request_headers(headers: Iterable[tuple[str, str]], report: Scrubbed) -> tuple[dict[str, Any], dict[str, Any]]:
    """(protocol, codex) header expectations."""
    protocol: dict[str, Any] = {}
    codex: dict[str, Any] = {}
    for name, value in headers:
        expected = header_expectation(name, value, report=report)
        if expected is None or name in protocol or name in codex:
            continue
        (codex if is_codex_header(name) else protocol)[name] = expected
    return protocol, codex


def _body_expectation(value: Any, *, where: str, report: Scrubbed) -> Any:
    scrubbed = scrub_json(value, where=where, report=report)
    if isinstance(scrubbed, dict) and isinstance(scrubbed.get("input"), list) and scrubbed["input"]:
        # Every recorded item, in order, others allowed around them (a client may add its own).
        scrubbed["input"] = {"$contains": scrubbed["input"]}
    elif isinstance(scrubbed, dict) and isinstance(scrubbed.get("input"), str):
        # The Responses API reads a string input as one user message: either form is the same request.
        text = scrubbed["input"]
        scrubbed["input"] = {"$any_of": [text, {"$contains": [{"role": "user", "content": [{"text": text}]}]}]}
    return scrubbed


def _route(target: str) -> tuple[str, dict[str, str]]:
    split = urlsplit(target)
    return split.path or "/", dict(parse_qsl(split.query, keep_blank_values=True))


@dataclass(slots=True)
class _Built:
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    codex_checks: list[dict[str, Any]] = field(default_factory=list)
    report: Scrubbed = field(default_factory=Scrubbed)
    server_counts: dict[str, int] = field(default_factory=dict)
    prewarm_script: bool = False
    notes: list[str] = field(default_factory=list)


def _http_exchange(rec: HttpRecord, built: _Built, n: int) -> dict[str, Any]:
    path, query = _route(rec.target)
    where = f"request {n + 1}"
    protocol, codex = _request_headers(rec.headers, built.report)
    expect: dict[str, Any] = {}
    if protocol:
        expect["headers"] = protocol
    if query:
        expect["query"] = {k: scrub_json(v, where=f"{where} query {k}", report=built.report, key=k) for k, v in query.items()}
    if rec.body:
        parsed = _json_or_none(rec.body)
        if parsed is not None:
            expect["body"] = _body_expectation(parsed, where=f"{where} body", report=built.report)
        else:
            expect["body"] = scrub_json(rec.body.decode("utf-8", "replace"), where=f"{where} body", report=built.report)
    headers = _response_headers(rec.response_headers, built.server_counts)
    respond: dict[str, Any] = {"status": rec.status}
    if rec.sse is not None:
        if headers:
            respond["headers"] = headers
        respond["sse"] = _sse_steps(rec.sse, start=rec.t_response, rest=rec.rest, counts=built.server_counts)
    else:
        if headers:
            respond["headers"] = headers
        respond.update(_body_reply(rec.response_body, built.server_counts))
    if rec.end == "drop":
        respond["end"] = "drop"
        built.notes.append(f"{where}: the upstream's body broke off ({rec.error or 'connection lost'}); replayed as end: drop")
    exchange: dict[str, Any] = {"http": {"method": rec.method, "path": path}}
    if expect:
        exchange["expect"] = expect
    exchange["respond"] = respond
    if codex:
        built.codex_checks.append({"kind": "http", "method": rec.method, "path": path, "headers": codex})
    else:
        built.codex_checks.append({"kind": "http", "method": rec.method, "path": path, "headers": None})
    return exchange


def _is_prewarm(message: Any) -> bool:
    return isinstance(message, dict) and message.get("type") == "response.create" and message.get("generate") is False


def _ws_exchange(rec: WsRecord, built: _Built, n: int) -> dict[str, Any]:
    path, query = _route(rec.target)
    where = f"websocket {n + 1}"
    protocol, codex = _request_headers(rec.headers, built.report)
    expect: dict[str, Any] = {}
    if protocol:
        expect["headers"] = protocol
    if query:
        expect["query"] = {k: scrub_json(v, where=f"{where} query {k}", report=built.report, key=k) for k, v in query.items()}
    exchange: dict[str, Any] = {"websocket": {"path": path}}
    if expect:
        exchange["expect"] = expect
    built.codex_checks.append({"kind": "websocket", "path": path, "headers": codex or None})
    headers = _response_headers(rec.response_headers, built.server_counts)
    if rec.status != 101:
        reject: dict[str, Any] = {"status": rec.status}
        if headers:
            reject["headers"] = headers
        reject.update(_body_reply(rec.response_body, built.server_counts))
        exchange["reject"] = reject
        return exchange
    if headers:
        exchange["accept"] = {"headers": headers}
    script: list[dict[str, Any]] = []
    last = rec.t
    extra = False
    first_client = True
    for i, frame in enumerate(rec.frames):
        if frame.sender == "client":
            last = frame.t
            message = _json_or_none(frame.data) if frame.kind == "text" else None
            if frame.kind != "text" or (message is None and frame.data.strip() != b"null"):
                extra = True  # a binary or non-JSON message: tolerated, not asserted
                continue
            if first_client and _is_prewarm(message):
                built.prewarm_script = True
            first_client = False
            script.append({"expect": _body_expectation(message, where=f"{where} message {i + 1}", report=built.report)})
            continue
        script += _sleep(frame.t - last)
        last = frame.t
        script.append(_ws_send(frame, built.server_counts))
    if rec.close is not None and rec.close.by == "server":
        script += _sleep(rec.close.t - last)
        code = rec.close.code
        if code is None or code in (1005, 1006, 1015) or not 1000 <= code <= 4999:
            script.append({"drop": None})
        else:
            script.append({"close": {"code": code, "reason": rec.close.reason[:123]}})
    if extra:
        exchange["extra_messages"] = "allow"
    exchange["script"] = script
    return exchange


def _ws_send(frame: WsFrame, counts: dict[str, int]) -> dict[str, Any]:
    if frame.kind == "binary":
        return {"send_binary": base64.b64encode(frame.data).decode()}
    text = frame.data.decode("utf-8", "replace")
    parsed = _json_or_none(text)
    if isinstance(parsed, dict):
        return {"send": _server_json(parsed, counts)}
    return {"send_text": _server_text(text, counts)}


# --- the client's side: steps and config, inferred -------------------------------------------


@dataclass(slots=True)
class _Turn:
    t: float
    input: Any
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Client:
    config: dict[str, Any] = field(default_factory=dict)
    timeline: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    requires: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def _text_of(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [c.get("text") for c in content if isinstance(c, dict) and isinstance(c.get("text"), str)]
        return "".join(str(p) for p in parts) if parts else None
    return None


def _turn_input(items: Any) -> Any:
    """What a ``responses.turn`` step is given: the last user message's text, else the items."""
    if isinstance(items, str):
        return items
    if isinstance(items, list):
        for item in reversed(items):
            if isinstance(item, dict) and item.get("role") == "user" and item.get("type", "message") == "message":
                text = _text_of(item.get("content"))
                if text is not None:
                    return text
        return [i for i in items if isinstance(i, dict)] or "hello"
    return "hello"


def _stable(body: Mapping[str, Any]) -> str:
    return json.dumps(scrub_json(dict(body), where="", report=Scrubbed()), sort_keys=True)


def _responses_requests(rec: Recording) -> tuple[list[tuple[float, dict[str, Any]]], str | None]:
    requests: list[tuple[float, dict[str, Any]]] = []
    transport: str | None = None
    for ex in sorted(rec.exchanges, key=lambda ex: ex.t):
        path, _ = _route(ex.target)
        if not path.endswith("/responses"):
            continue
        if isinstance(ex, HttpRecord) and ex.method == "POST":
            body = _json_or_none(ex.body)
            if isinstance(body, dict):
                requests.append((ex.t, body))
                transport = transport or "sse"
        elif isinstance(ex, WsRecord) and ex.status == 101:
            transport = transport or "websocket"
            for frame in ex.frames:
                message = _json_or_none(frame.data) if frame.sender == "client" and frame.kind == "text" else None
                if isinstance(message, dict) and message.get("type") == "response.create" and message.get("generate") is not False:
                    requests.append((frame.t, {k: v for k, v in message.items() if k != "type"}))
    return sorted(requests, key=lambda item: item[0]), transport


def _infer_responses(rec: Recording, client: _Client) -> None:
    requests, transport = _responses_requests(rec)
    if not requests:
        return
    first = requests[0][1]
    config: dict[str, Any] = {"model": first.get("model", "gpt-test") if isinstance(first.get("model"), str) else "gpt-test",
                              "api_key": PLACEHOLDER_KEY}
    if transport == "websocket":
        config["transport"] = "websocket"
        client.requires.add("responses.ws")
    else:
        client.requires.add("responses.sse")
    options = {k: first[k] for k in _RESPONSES_OPTIONS if k in first and first[k] != _RESPONSES_DEFAULTS.get(k)}
    if options:
        config.update(options)
        client.requires.add("responses.request_options")
    client.config["responses"] = config
    turns: list[_Turn] = []
    previous: str | None = None
    for t, body in requests:
        items = body.get("input")
        last = items[-1] if isinstance(items, list) and items else None
        stable = _stable(body)
        if turns and stable == previous:
            continue  # the same request again: a retry of the turn's request
        previous = stable
        if turns and isinstance(last, dict) and last.get("type") in _TOOL_OUTPUTS:
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and item.get("type") in _TOOL_OUTPUTS and isinstance(item.get("call_id"), str):
                    turns[-1].outputs[item["call_id"]] = item.get("output", "")
            continue
        turns.append(_Turn(t=t, input=_turn_input(items)))
    for turn in turns:
        args: dict[str, Any] = {"input": turn.input}
        if turn.outputs:
            args["tool_outputs"] = turn.outputs
            client.requires.add("responses.tool_outputs")
        client.timeline.append((turn.t, {"responses.turn": args}))
    client.notes.append(
        f"Client steps inferred: {len(turns)} responses.turn step(s) from {len(requests)} request(s) "
        f"({transport or 'sse'}); a request ending in a tool output continues its turn (tool_outputs), "
        "an identical request is a retry."
    )


def _infer_realtime(rec: Recording, client: _Client) -> None:
    sockets = [ex for ex in sorted(rec.exchanges, key=lambda ex: ex.t) if isinstance(ex, WsRecord) and _route(ex.target)[0].endswith("/realtime")]
    if not sockets:
        return
    config: dict[str, Any] = {"api_key": PLACEHOLDER_KEY}
    unmapped: list[str] = []
    last_t = 0.0
    for ex in sockets:
        _, query = _route(ex.target)
        if query.get("model") and "model" not in config:
            config["model"] = query["model"]
        messages = [(f.t, _json_or_none(f.data)) for f in ex.frames if f.sender == "client" and f.kind == "text"]
        messages = [(t, m) for t, m in messages if isinstance(m, dict)]
        start: dict[str, Any] = {}
        rest = messages
        if messages and messages[0][1].get("type") == "session.update":
            session = messages[0][1].get("session")
            session = session if isinstance(session, dict) else {}
            v1 = session.get("type") == "quicksilver" or query.get("intent") == "quicksilver"  # R-C's v1 session
            config.setdefault("version", "v1" if v1 else "v2")
            if session.get("type") == "transcription":
                config["type"] = "transcription"
            if isinstance(session.get("instructions"), str):
                start["prompt"] = session["instructions"]
            rest = messages[1:]
        session_id = dict(ex.headers).get("x-session-id")
        if session_id:
            start["session_id"] = session_id  # the conversation id the client was given
        client.timeline.append((ex.t, {"realtime.start": start}))
        last_t = ex.t
        skip_create = False
        for t, message in rest:
            kind = message.get("type")
            step: dict[str, Any] | None = None
            if kind == "response.create" and skip_create:
                skip_create = False
                continue
            if kind == "input_audio_buffer.append" and isinstance(message.get("audio"), str):
                step = {"realtime.audio": {"data": message["audio"]}}
            elif kind == "conversation.item.create" and isinstance(message.get("item"), dict):
                item = message["item"]
                text = _text_of(item.get("content"))
                if item.get("type", "message") == "message" and item.get("role") == "user" and text is not None:
                    step, skip_create = {"realtime.text": {"text": text}}, config.get("version", "v2") == "v2"
                elif item.get("type") == "function_call_output" and isinstance(item.get("output"), str):
                    client.timeline.append((t, {"realtime.handoff_output": {"text": item["output"]}}))
                    step, skip_create = {"realtime.turn_complete": {}}, True
            elif kind in ("conversation.item.truncate", "session.update"):
                continue  # the client's own reaction (barge-in) or settings: no step asks for it
            if step is None:
                unmapped.append(str(kind))
                continue
            client.timeline.append((t, step))
            last_t = max(last_t, t)
        end = ex.close.t if ex.close is not None else (ex.frames[-1].t if ex.frames else ex.t)
        last_t = max(last_t, end)
    config.setdefault("version", "v2")
    client.requires.add(f"realtime.{config['version']}")
    client.config["realtime"] = config
    client.timeline.append((last_t, {"realtime.close": {}}))
    client.notes.append(
        f"Client steps inferred: {len(sockets)} realtime conversation(s) (start, each user text / audio / "
        "handoff reply the client sent, close), with the recorded gaps as sleep steps."
        + (f" Messages no step asks for (edit the steps): {', '.join(sorted(set(unmapped)))}." if unmapped else "")
    )


def _steps(timeline: list[tuple[float, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The inferred steps in time order; a gap before a realtime step is kept as a sleep
    (a Responses turn waits for its own answer)."""
    steps: list[dict[str, Any]] = []
    last: float | None = None
    for t, step in sorted(timeline, key=lambda item: item[0]):
        op = next(iter(step))
        if last is not None and op.startswith("realtime.") and op != "realtime.start":
            steps += _sleep(max(t - last, 0.0))
        steps.append(step)
        last = t
    return steps


# --- the case --------------------------------------------------------------------------------


def _area(rec: Recording) -> str:
    paths = [_route(ex.target)[0] for ex in rec.exchanges]
    if any(p.endswith("/responses") for p in paths):
        return "responses"
    if any(p.endswith("/realtime") for p in paths):
        return "realtime"
    return "recorded"


def _slug(started_at: str) -> str:
    digits = re.sub(r"[^0-9]", "", started_at)[:14]
    return f"recorded-{digits[:8]}-{digits[8:14]}" if len(digits) >= 14 else "recorded"


def _upstream_shown(upstream: str) -> str:
    split = urlsplit(upstream)
    host = split.hostname or ""
    port = f":{split.port}" if split.port else ""
    return f"{split.scheme}://{host}{port}{split.path}"


def _summary(rec: Recording) -> str:
    counts: dict[str, int] = {}
    for ex in rec.exchanges:
        path = _route(ex.target)[0]
        key = f"{ex.method} {path}" if isinstance(ex, HttpRecord) else f"websocket {path}"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{k} x{n}" if n > 1 else k for k, n in counts.items()) or "no requests"


def _codex_wire_checks(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One codex-layer wire check per route whose requests carried Codex-only headers."""
    routes: dict[tuple[str, str, str], list[dict[str, Any] | None]] = {}
    for c in checks:
        routes.setdefault((c["kind"], c.get("method", ""), c["path"]), []).append(c["headers"])
    out = []
    for (kind, method, path), headers in routes.items():
        if not any(headers):
            continue
        selector: dict[str, Any] = {"kind": kind, "path": path}
        if method:
            selector["method"] = method
        out.append({
            "of": selector,
            "count": len(headers),
            "items": [{"headers": h} if h else {} for h in headers],
            "layer": "codex",
            "why": "the Codex-only headers the client sent (recorded)",
        })
    return out


def case_from_recording(
    rec: Recording,
    *,
    case_id: str | None = None,
    title: str | None = None,
    version: str = "",
) -> dict[str, Any]:
    """The case (a mapping in the case format) for ``rec``; pure."""
    if not rec.exchanges:
        raise RecordError("nothing was recorded: no request reached the upstream")
    built = _Built()
    exchanges = sorted(rec.exchanges, key=lambda ex: ex.t)
    for n, ex in enumerate(exchanges):
        built.exchanges.append(_http_exchange(ex, built, n) if isinstance(ex, HttpRecord) else _ws_exchange(ex, built, n))
    client = _Client()
    _infer_responses(rec, client)
    _infer_realtime(rec, client)
    steps = _steps(client.timeline)
    if not steps:
        client.notes.append("No client step could be inferred (no Responses or realtime traffic): add the steps your client needs.")
    area = _area(rec)
    cid = case_id or f"{area}.{_slug(rec.started_at)}"
    upstream = _upstream_shown(rec.upstream)
    summary = _summary(rec)
    notes = [
        f"Recorded by `wireplay record`{f' (wireplay {version})' if version else ''} from {upstream}"
        + (f" at {rec.started_at}" if rec.started_at else "")
        + f": {summary}, {rec.duration:.1f} s.",
        "Server script: what the upstream answered (status, headers, bodies, SSE events and websocket frames "
        f"in order), with gaps of {PACING_MIN * 1000:g} ms or more kept as sleep steps.",
        "Wire expectations: what the client sent (method, path, query, headers without transport details and "
        "the client library's self-description, JSON bodies with input as $contains, websocket messages); "
        "Codex-only headers in a codex-layer check. Events are not recorded: add expect.events by hand.",
    ]
    redacted = built.report.note()
    if redacted:
        notes.append("Redacted: " + redacted + ".")
    if built.server_counts:
        notes.append("Redacted in what the upstream sent: " + ", ".join(f"{k} ({n})" for k, n in sorted(built.server_counts.items())) + ".")
    notes += client.notes + built.notes
    notes += [f"Not recorded: {why}" for why in rec.unrecorded]
    notes.append(f"The client's API key is a placeholder ({PLACEHOLDER_KEY}); the recorded one is not in this file.")
    server: dict[str, Any] = {}
    if built.prewarm_script:
        server["prewarm"] = "script"
    server["exchanges"] = built.exchanges
    case: dict[str, Any] = {
        "id": cid,
        "title": title or f"recorded: {summary} from {urlsplit(rec.upstream).hostname or 'the upstream'}",
        "seed": "recorded",
        "requires": sorted(client.requires),
        "layer": "protocol",
        "timeout": min(_MAX_TIMEOUT, max(10.0, float(math.ceil(rec.duration * 2 + 5)))),
        "notes": "\n".join(notes) + "\n",
        "client": {"config": client.config, "steps": steps},
        "server": server,
    }
    expect: dict[str, Any] = {}
    wire = _codex_wire_checks(built.codex_checks)
    if wire:
        expect["wire"] = wire
    expect["snapshot"] = False
    case["expect"] = expect
    return case


# --- YAML, and the last line of defence --------------------------------------------------------


def recorded_secrets(rec: Recording) -> set[str]:
    """Every credential the recording saw (header values and their credential part, secret
    body fields, key-shaped strings): none may appear in the written case."""
    found: set[str] = set()

    def headers(pairs: Iterable[tuple[str, str]]) -> None:
        for name, value in pairs:
            if name in SECRET_HEADERS and value.strip():
                found.add(value.strip())
                credential = value.strip().rpartition(" ")[2]
                if len(credential) >= 6:
                    found.add(credential)

    def body(value: Any) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                if str(k).lower() in _SERVER_SECRET_KEYS and isinstance(v, str) and len(v) >= 6:
                    found.add(v)
                body(v)
        elif isinstance(value, list):
            for v in value:
                body(v)

    key_like = re.compile(r"\b(?:sk|rk)-[A-Za-z0-9_\-]{6,}|\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
    for ex in rec.exchanges:
        headers(ex.headers)
        headers(ex.response_headers)
        chunks = [ex.body] if isinstance(ex, HttpRecord) else [f.data for f in ex.frames]
        chunks.append(ex.response_body)
        if isinstance(ex, HttpRecord):
            chunks += [b.raw for b in ex.sse or ()]
        for chunk in chunks:
            text = chunk.decode("utf-8", "replace")
            body(_json_or_none(text))
            found.update(m.group(0) for m in key_like.finditer(text))
    found.discard(PLACEHOLDER_KEY)
    return found


def _dumper() -> Any:
    """A SafeDumper writing multi-line strings (notes) as literal blocks (PyYAML has no
    type stubs here: it is loaded as a plain module)."""
    yaml = importlib.import_module("yaml")

    class Dumper(yaml.SafeDumper):  # type: ignore[misc,name-defined]
        pass

    def text(dumper: Any, value: str) -> Any:
        style = "|" if "\n" in value and all(c.isprintable() or c == "\n" for c in value) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return Dumper


def case_yaml(case: Mapping[str, Any], *, secrets: Iterable[str] = ()) -> str:
    """The case as YAML; raises :class:`RecordError` if any of ``secrets`` is in the text."""
    yaml = importlib.import_module("yaml")
    text: str = yaml.dump(dict(case), Dumper=_dumper(), sort_keys=False, allow_unicode=True, width=140, default_flow_style=None)
    leaked = sorted(s for s in secrets if s and s in text)
    if leaked:
        raise RecordError(f"refusing to write the case: {len(leaked)} recorded credential(s) would reach it")
    return text


def recorded_at(now: dt.datetime | None = None) -> str:
    """An ISO 8601 UTC stamp for a recording."""
    return (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
