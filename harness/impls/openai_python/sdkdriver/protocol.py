"""The driver protocol (schemas/driver.schema.json): JSON lines on stdin/stdout.

One process serves case after case (hello ``"cases": "many"``): ``start`` ... ``end`` →
``ended``, then the next ``start``; each case starts from the driver's clean environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import traceback
from collections.abc import Mapping
from typing import Any

from harness.impls.openai_python.sdkdriver.endpoint import Endpoint
from harness.impls.openai_python.sdkdriver.errors import Unsupported, describe
from harness.impls.openai_python.sdkdriver.policy import DEFAULT, Policy


__all__ = ["CAPABILITIES", "NAME", "REPORTED_EVENTS", "hello", "main"]

NAME = "openai-python"
# Not claimed: realtime.v1 (Codex's quicksilver protocol), responses.ws.v1 (response.append is
# no SDK client event), profiles (Codex revision presets), auth.* (Codex's auth manager and its
# 401 tags), and tls.ca-env: the SDK does not implement Codex's CA policy (CODEX_CA_CERTIFICATE
# first, then SSL_CERT_FILE, Codex's error texts). A case's tls.env is still applied as given
# (httpx2 and websockets read SSL_CERT_FILE / SSL_CERT_DIR themselves) for cases that set it
# without requiring the policy; a TLS run without it trusts the run's CA (endpoint.ca_file).
CAPABILITIES = (
    "auth.api-key",  # an API key as the bearer credential (its Codex-only tags and recovery are the codex layer)
    "realtime",
    "realtime.v2",
    "realtime.transcription",
    "responses",
    "responses.sse",
    "responses.ws",
    "responses.ws.v2",
    "responses.tool_outputs",
    "responses.builtin_tool_outputs",  # the app answers every function call, whatever its name
    "responses.request_options",  # the app builds the request body (instructions, tools, ...) from the case
    "realtime.handoff_output",
    "sdk",  # sdk.send and server.unrecognized_event: the SDK's own surface (surface.py)
    "tls",
)

# The event types this driver can report at all: what the SDK surfaces (parsed events,
# exceptions, the ``openai-model`` header on SSE, events of types it does not know) and the
# app-level turn and conversation events the steps define. Everything else in the vocabulary
# is Codex-only and never reported: telemetry.*, auth.*, responses.rate_limits / models_etag /
# server_reasoning_included, turn.stream_error / model_reroute, warning.
REPORTED_EVENTS = (
    "error",
    "conversation.started",
    "conversation.closed",
    "realtime.*",
    "responses.created",
    "responses.output_item_added",
    "responses.output_item_done",
    "responses.output_text_delta",
    "responses.reasoning_summary_delta",
    "responses.reasoning_summary_part_added",
    "responses.reasoning_content_delta",
    "responses.completed",
    "responses.server_model",
    "server.unrecognized_event",
    "turn.started",
    "turn.tool_call",
    "turn.completed",
)

_OPENAI_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_ADMIN_KEY",
               "OPENAI_WEBHOOK_SECRET", "OPENAI_LOG")  # fmt: skip


def _write(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _emit(event: dict[str, Any]) -> None:
    _write({"type": "event", "event": event})


def hello() -> dict[str, Any]:
    import openai  # type: ignore[import-not-found,unused-ignore]  # the SDK venv only

    return {"type": "hello", "protocol": 1, "name": NAME, "version": openai.__version__,
            "capabilities": sorted(CAPABILITIES), "layers": ["protocol"], "reported_events": sorted(REPORTED_EVENTS),
            "cases": "many", "policy": DEFAULT.hello()}  # fmt: skip


class _Session:
    """One case: each area's driver, created on first use."""

    def __init__(self, *, endpoint: Endpoint, config: Mapping[str, Any]) -> None:
        self.endpoint = endpoint
        self.config = config
        self.areas: dict[str, Any] = {}
        self.policy_error: Unsupported | None = None
        self.policy = DEFAULT
        try:
            self.policy = Policy.from_config(config)
        except Unsupported as exc:
            self.policy_error = exc  # answered at the first command: start has no reply

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        if self.policy_error is not None:
            raise self.policy_error
        area = op.split(".", 1)[0]
        if area not in self.areas:
            section = self.config.get(area, {})
            if area == "realtime":
                from harness.impls.openai_python.sdkdriver.realtime import RealtimeDriver

                self.areas[area] = RealtimeDriver(endpoint=self.endpoint, config=section, emit=_emit, policy=self.policy)
            elif area == "responses":
                from harness.impls.openai_python.sdkdriver.responses import ResponsesDriver

                self.areas[area] = ResponsesDriver(endpoint=self.endpoint, config=section, emit=_emit, policy=self.policy)
            elif area == "sdk":
                from harness.impls.openai_python.sdkdriver.surface import SdkSurface

                self.areas[area] = SdkSurface(endpoint=self.endpoint, config=self.config, emit=_emit)
            else:
                raise Unsupported(f"openai-python has no '{area}' steps")
        await self.areas[area].handle(op, args)

    async def aclose(self) -> None:
        for driver in self.areas.values():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(driver.aclose(), 5.0)


def _start(msg: Mapping[str, Any], clean_env: Mapping[str, str]) -> _Session:
    os.environ.clear()
    os.environ.update(clean_env)
    endpoint, config = msg["endpoint"], msg.get("config", {})
    if isinstance(config.get("env"), Mapping):
        # The client's process environment the case gives (OPENAI_API_KEY, ...); the
        # harness's own OPENAI_* never reached this process.
        os.environ.update({str(k): str(v) for k, v in config["env"].items()})
    tls = config.get("tls") if isinstance(config.get("tls"), Mapping) else {}
    tls_env = tls.get("env") if isinstance(tls.get("env"), Mapping) else None
    return _Session(endpoint=Endpoint(base_url=endpoint["base_url"], ca_file=endpoint.get("ca_file"), tls_env=tls_env,
                                      realtime_base_url=endpoint.get("realtime_base_url")), config=config)  # fmt: skip


async def _serve() -> int:
    _write(hello())
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=16 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    session: _Session | None = None
    # Each case starts from this environment, so what one case's env or CA settings put
    # there never reaches the next.
    clean_env = dict(os.environ)
    try:
        while line := await reader.readline():
            msg = json.loads(line)
            kind = msg.get("type")
            if kind == "start":
                session = _start(msg, clean_env)
            elif kind == "command":
                try:
                    if session is None:
                        raise RuntimeError("command before start")
                    await session.handle(msg["op"], msg.get("args", {}))
                except Unsupported as exc:
                    _write({"type": "failed", "id": msg["id"], "message": str(exc), "unsupported": True})
                except Exception as exc:
                    _write({"type": "failed", "id": msg["id"], "message": describe(exc), "traceback": traceback.format_exc()})
                else:
                    _write({"type": "done", "id": msg["id"]})
            elif kind == "end":
                if session is not None:
                    await session.aclose()
                    session = None
                _write({"type": "ended"})
    finally:
        if session is not None:
            await session.aclose()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``driver.py [--hello]``; the SDK must never read the harness's own OpenAI settings."""
    argv = sys.argv[1:] if argv is None else argv
    for name in _OPENAI_ENV:
        os.environ.pop(name, None)
    if "--hello" in argv:
        _write(hello())
        return 0
    return asyncio.run(_serve())
