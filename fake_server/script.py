"""The server half of a case: what the fake server expects and answers, as data.

A script is an ordered list of *exchanges*. Each exchange is either an HTTP
request/response or one websocket connection, and says how requests are routed
to it (method/path), what is asserted about them (``expect``: checked, never used
for routing, so a wrong header is reported while the client still gets its scripted
answer) and what the server does, including the faults it injects.

Every assertion carries a ``layer``: an opaque tag (the harness uses ``protocol`` and
``codex``) that the server copies onto each finding, so the verdict can judge each
layer on its own. A step or an ``expect`` block without one takes its exchange's, an
exchange without one the script's.

These are frozen models built from already-validated mappings (the case loader
validates against ``schemas/case.schema.json`` first), so the builders here only
convert; they do not re-check.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal


__all__ = [
    "MAIN_LISTENER",
    "Exchange",
    "HttpReply",
    "Script",
    "SseStep",
    "Times",
    "WsStep",
    "describe_await",
    "for_revision",
    "script_from_mapping",
    "text_bytes",
    "times_from",
]

HttpEnd = Literal["complete", "drop", "reset", "hang"]
OnClose = Literal["answer", "stall"]


@dataclass(frozen=True, slots=True)
class Times:
    """How many requests an exchange must (min) and may (max) serve."""

    min: int = 1
    max: int | None = 1

    def describe(self) -> str:
        if self.max == self.min:
            return f"exactly {self.min}"
        if self.max is None:
            return f"at least {self.min}"
        return f"between {self.min} and {self.max}"


@dataclass(frozen=True, slots=True)
class SseStep:
    """One step of an SSE body: an event, a raw data line, raw bytes, a pause or a mark."""

    op: Literal["event", "data", "raw", "comment", "sleep", "mark", "await"]
    payload: Any = None
    repeat: int = 1
    path: str = ""
    malformed: bool = False
    data: bytes = b""  # the encoded bytes, computed once when the script is built

    def encode(self) -> bytes:
        """Bytes this step writes to the stream (empty for sleep/mark)."""
        if self.op == "event":
            name = self.payload.get("type") if isinstance(self.payload, Mapping) else None
            head = f"event: {name}\n" if isinstance(name, str) else ""
            body = json.dumps(self.payload, separators=(",", ":"), ensure_ascii=False)
            return text_bytes(head + f"data: {body}\n\n") * self.repeat
        if self.op == "data":
            lines = "".join(f"data: {line}\n" for line in str(self.payload).split("\n"))
            return text_bytes(lines + "\n") * self.repeat
        if self.op == "raw":
            return text_bytes(str(self.payload)) * self.repeat
        if self.op == "comment":
            return text_bytes(f": {self.payload}\n\n") * self.repeat
        return b""


@dataclass(frozen=True, slots=True)
class HttpReply:
    """An HTTP response, possibly a stream, and how the stream ends."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    body: bytes | None = None
    sse: tuple[SseStep, ...] | None = None
    end: HttpEnd = "complete"
    pace: float = 0.0
    abort: Literal["drop", "reset"] | None = None  # no response at all: close TCP after the request


@dataclass(frozen=True, slots=True)
class WsStep:
    """One step of a websocket script.

    ops: ``expect`` (next client message matches), ``send`` (a JSON text frame),
    ``send_text`` (raw text, e.g. invalid JSON), ``send_binary`` (base64 payload),
    ``sleep``, ``mark``, ``expect_close`` (the client sends a close frame),
    ``expect_eof`` (the client ends TCP without a close frame),
    ``close`` (server close frame with code/reason), ``drop`` (TCP FIN without a
    close frame), ``reset`` (TCP RST), ``stall`` (stop answering anything, keep TCP
    open), ``expect_eventually`` (a client message matches, after any others, which
    count as extra messages), ``pause_reading`` (read nothing for N seconds, so the client's socket
    buffers fill and its writes back up).
    """

    op: Literal[
        "expect",
        "send",
        "send_text",
        "send_binary",
        "sleep",
        "mark",
        "await",
        "expect_close",
        "expect_eof",
        "close",
        "drop",
        "reset",
        "stall",
        "pause_reading",
        "expect_eventually",
    ]
    payload: Any = None
    repeat: int = 1
    timeout: float | None = None
    path: str = ""
    malformed: bool = False
    data: bytes = b""  # a ``send`` step's JSON text, encoded once when the script is built
    layer: str = "protocol"  # of an expect / expect_eventually / expect_close / expect_eof step


@dataclass(frozen=True, slots=True)
class Exchange:
    """One scripted HTTP request or websocket connection."""

    index: int
    kind: Literal["http", "websocket"]
    route: Mapping[str, Any]
    expect: Mapping[str, Any] = field(default_factory=dict)
    times: Times = Times()
    name: str = ""
    reply: HttpReply | None = None
    accept_headers: tuple[tuple[str, str], ...] = ()
    accept_delay: float = 0.0
    script: tuple[WsStep, ...] = ()
    on_close: OnClose = "answer"
    extra_messages: Literal["fail", "allow"] = "fail"
    compression: bool = False
    pace: float = 0.0
    path: str = ""
    layer: str = "protocol"  # of the exchange's own findings: times, order, extra messages
    expect_layer: str = "protocol"  # of the ``expect`` block
    listener: str = "main"  # the listener (port) whose requests it serves

    @property
    def label(self) -> str:
        what = f"{self.route.get('method', 'GET' if self.kind == 'websocket' else '*')} "
        what += str(self.route.get("path", "*"))
        named = f" '{self.name}'" if self.name else ""
        return f"{self.path}{named} ({self.kind} {what})"


@dataclass(frozen=True, slots=True)
class Script:
    """Everything the fake server does for one case."""

    exchanges: tuple[Exchange, ...]
    ordered: bool = True
    expect_timeout: float = 5.0
    layer: str = "protocol"  # of findings that belong to no exchange (an unmatched request)
    prewarm: Literal["answer", "script"] = "answer"  # a leading generate:false response.create
    listeners: tuple[str, ...] = ()  # extra listeners beside "main", each on a port of its own


# Step keys that modify a step rather than name it. ``malformed`` marks a frame the
# case sends on purpose in a shape no schema accepts (the wire-schema test skips it).
MAIN_LISTENER = "main"

_MODIFIERS = frozenset({"repeat", "timeout", "malformed", "layer", "revision"})


def describe_await(what: Mapping[str, Any]) -> str:
    """How an ``await`` step names what it waits for, in findings."""
    return f"mark '{what['mark']}'" if "mark" in what else f"a request to exchange '{what['exchange']}'"


def for_revision(item: Mapping[str, Any], revision: str | None) -> bool:
    """Whether an item of a case (exchange, step, check) holds for ``revision``.

    An item tagged ``revision: x`` or ``revision: [x, y]`` holds only for those; an
    untagged one for every revision. ``revision`` None keeps every item (validation).
    """
    tag = item.get("revision") if isinstance(item, Mapping) else None
    if tag is None or revision is None:
        return True
    return revision in ([tag] if isinstance(tag, str) else tag)


def text_bytes(text: str) -> bytes:
    """UTF-8 for what a case wrote, surrogate pairs joined (YAML/JSON ``\\ud800\\udc00``
    escapes) and lone surrogates sent as they are: a fault injector sends what it is told."""
    joined = text.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")
    return joined.encode("utf-8", "surrogatepass")


def _headers(mapping: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    return tuple((str(k).lower(), str(v)) for k, v in (mapping or {}).items())


def _sse_steps(raw: Sequence[Mapping[str, Any]], *, path: str) -> tuple[SseStep, ...]:
    steps = []
    for i, step in enumerate(raw):
        repeat = int(step.get("repeat", 1))
        (op,) = [k for k in step if k not in _MODIFIERS]
        sse = SseStep(op=op, payload=step[op], repeat=repeat, path=f"{path}[{i}]", malformed=bool(step.get("malformed")))
        steps.append(dataclasses.replace(sse, data=sse.encode()))
    return tuple(steps)


def _reply(raw: Mapping[str, Any], *, path: str) -> HttpReply:
    headers = dict(_headers(raw.get("headers")))
    body: bytes | None = None
    sse = None
    if "json" in raw:
        body = json.dumps(raw["json"], separators=(",", ":")).encode()
        headers.setdefault("content-type", "application/json")
    elif "text" in raw:
        body = str(raw["text"]).encode()
        headers.setdefault("content-type", "text/plain; charset=utf-8")
    elif "sse" in raw:
        sse = _sse_steps(raw["sse"], path=f"{path}.sse")
        headers.setdefault("content-type", "text/event-stream")
        headers.setdefault("cache-control", "no-cache")
    return HttpReply(
        status=int(raw.get("status", 200)),
        headers=tuple(headers.items()),
        delay=float(raw.get("delay", 0.0)),
        body=body,
        sse=sse,
        end=raw.get("end", "complete"),
        pace=float(raw.get("pace", 0.0)),
        abort=raw.get("abort"),
    )


def _ws_steps(raw: Sequence[Mapping[str, Any]], *, path: str, layer: str, revision: str | None) -> tuple[WsStep, ...]:
    steps = []
    for i, step in enumerate(raw):
        if not for_revision(step, revision):
            continue
        repeat = int(step.get("repeat", 1))
        timeout = step.get("timeout")
        (op,) = [k for k in step if k not in _MODIFIERS]
        payload = step[op]
        if op == "send_binary":
            payload = base64.b64decode(payload)
        steps.append(
            WsStep(
                op=op,
                payload=payload,
                repeat=repeat,
                timeout=None if timeout is None else float(timeout),
                path=f"{path}[{i}]",
                malformed=bool(step.get("malformed")),
                layer=str(step.get("layer", layer)),
                data=(
                    json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")
                    if op == "send"
                    else text_bytes(payload) if op == "send_text" else b""
                ),
            )
        )
    return tuple(steps)


def times_from(raw: Any) -> Times:
    """Read an exchange or wire-check count: N (exactly) or {min, max}."""
    if raw is None:
        return Times()
    if isinstance(raw, int):
        return Times(min=raw, max=raw)
    return Times(min=int(raw.get("min", 0)), max=raw.get("max"))


def script_from_mapping(raw: Mapping[str, Any], *, path: str = "server", layer: str = "protocol", revision: str | None = None) -> Script:
    """Build a Script from the validated ``server`` section of a case.

    ``layer`` is the case's default layer; ``revision`` keeps only the exchanges and steps
    that hold for that revision (paths keep naming the case file's own indexes).
    """
    exchanges = []
    for i, ex in enumerate(raw.get("exchanges", [])):
        if not for_revision(ex, revision):
            continue
        where = f"{path}.exchanges[{i}]"
        ex_layer = str(ex.get("layer", layer))
        expect = dict(ex.get("expect", {}))
        common = {
            "index": i,
            "expect": {k: v for k, v in expect.items() if k != "layer"},
            "layer": ex_layer,
            "expect_layer": str(expect.get("layer", ex_layer)),
            "listener": str(ex.get("listener", MAIN_LISTENER)),
            "times": times_from(ex.get("times")),
            "name": ex.get("name", ""),
            "path": where,
        }
        if "http" in ex:
            exchanges.append(
                Exchange(
                    kind="http",
                    route=ex["http"],
                    reply=_reply(ex.get("respond", {}), path=f"{where}.respond"),
                    **common,
                )
            )
        else:
            exchanges.append(
                Exchange(
                    kind="websocket",
                    route=ex["websocket"],
                    reply=_reply(ex["reject"], path=f"{where}.reject") if "reject" in ex else None,
                    accept_headers=_headers(ex.get("accept", {}).get("headers")),
                    accept_delay=float(ex.get("accept", {}).get("delay", 0.0)),
                    script=_ws_steps(ex.get("script", []), path=f"{where}.script", layer=ex_layer, revision=revision),
                    on_close=ex.get("on_close", "answer"),
                    extra_messages=ex.get("extra_messages", "fail"),
                    compression=ex.get("compression", "none") == "deflate",
                    pace=float(ex.get("pace", 0.0)),
                    **common,
                )
            )
    return Script(
        exchanges=tuple(exchanges),
        ordered=bool(raw.get("ordered", True)),
        expect_timeout=float(raw.get("expect_timeout", 5.0)),
        layer=layer,
        prewarm=raw.get("prewarm", "answer"),
        listeners=tuple(raw.get("listeners", ())),
    )
