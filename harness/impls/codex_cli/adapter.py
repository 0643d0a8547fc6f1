"""The real Codex CLI behind the adapter seam: ``codex app-server`` for responses and realtime.

One case gets one throwaway CODEX_HOME and work dir (removed at ``aclose``), so no
state of this machine's user, nor of another case, reaches codex.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.adapters.base import Emit, Endpoint
from harness.impls.codex_cli.binary import CodexBinary
from harness.impls.codex_cli.process import LOG_ENV
from harness.impls.codex_cli.realtime import AppServerRealtime
from harness.impls.codex_cli.responses import ResponsesSettings, UnsupportedStep
from harness.impls.codex_cli.responses_app import AppServerResponses
from harness.layer import ALL_LAYERS


__all__ = ["CODEX_CLI_CAPABILITIES", "EXPECTATIONS_FILES", "REPORTED_EVENT_TYPES", "CodexCliAdapter", "CodexCliSession", "tls_env"]

# What 0.169.0 can be made to do against the fake server (docs/impl-codex-cli.md,
# Capabilities). Not declared: responses.ws.v1 (it speaks only the v2 websocket), profiles
# (one fixed revision), realtime.transcription, realtime.handoff_output, auth.chatgpt /
# auth.external (ChatGPT auth needs the ChatGPT backend). responses.tool_outputs: a tool
# the case configures is a dynamic tool whose calls the adapter answers (codex runs its own
# tools itself). tls.ca-env: CODEX_CA_CERTIFICATE and SSL_CERT_FILE are codex's own variables.
CODEX_CLI_CAPABILITIES = frozenset(
    {
        "responses",
        "responses.sse",
        "responses.ws",
        "responses.ws.v2",
        "responses.tool_outputs",
        "realtime",
        "realtime.v1",
        "realtime.v2",
        "realtime.transcription",
        "auth.api-key",
        "tls",
        "tls.ca-env",
    }
)
EXPECTATIONS_FILES = tuple(sorted((Path(__file__).resolve().parent / "expectations").glob("*.yaml")))
# The event types codex lets this adapter observe at all (docs/impl-codex-cli.md, Events):
# the app-server's notifications (responses_app.py, realtime.py) and codex's own log (logs.py).
# Declared as ``reported_events``: the events plane compares only these, so a case that
# differs only in events codex never prints is NON-STRICT, not FAIL.
REPORTED_EVENT_TYPES = frozenset(
    {
        "turn.started",
        "turn.completed",
        "turn.stream_error",
        "turn.retry_scheduled",
        "turn.model_reroute",
        "turn.tool_call",
        "responses.output_item_done",
        "responses.completed",
        "responses.output_text_delta",
        "responses.reasoning_summary_delta",
        "responses.reasoning_content_delta",
        "responses.reasoning_summary_part_added",
        "conversation.started",
        "conversation.closed",
        "realtime.error",
        "realtime.input_transcript_delta",
        "realtime.output_transcript_delta",
        "realtime.audio_out",
        "realtime.item_added",
        "realtime.handoff_requested",
        "realtime.speech_started",
        "realtime.response_cancelled",
        "realtime.session_updated",
        "realtime.item_done",
        "telemetry.request",
        "telemetry.ws_connect",
        "telemetry.events",
        "auth.request",
        "auth.recovery",
        "error",
        "warning",
    }
)


def tls_env(*, endpoint: Endpoint, config: Mapping[str, Any]) -> dict[str, str]:
    """The CA environment codex gets: ``tls.env`` whole, else the run's CA as CODEX_CA_CERTIFICATE.

    Codex reads CODEX_CA_CERTIFICATE, then SSL_CERT_FILE (responses-wire §7); both are
    scrubbed from this machine's environment, so only what the case says reaches it.
    """
    tls = config.get("tls") or {}
    env = tls.get("env") if isinstance(tls, Mapping) else None
    if env is None:
        return {"CODEX_CA_CERTIFICATE": endpoint.ca_file} if endpoint.ca_file else {}
    if not isinstance(env, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise ValueError(f"client.config.tls.env must map variable names to strings; got {env!r}")
    return dict(env)


class CodexCliSession:
    """Routes each step by its area to its app-server driver (responses, realtime)."""

    def __init__(self, *, binary: CodexBinary, endpoint: Endpoint, config: Mapping[str, Any], emit: Emit, case_id: str) -> None:
        self._binary = binary
        self._codex = binary.path
        self._endpoint = endpoint
        self._config = config
        self._emit = emit
        self._root = tempfile.mkdtemp(prefix=f"wireplay-codex-{case_id or 'case'}-")
        self._home = str(Path(self._root, "home"))
        self._workdir = str(Path(self._root, "work"))
        Path(self._home).mkdir()
        Path(self._workdir).mkdir()
        self._areas: dict[str, Any] = {}
        # The client's process environment the case gives (config.env), then its CA variables.
        self._tls_env = {**{str(k): str(v) for k, v in (config.get("env") or {}).items()}, **tls_env(endpoint=endpoint, config=config)}
        log_dir = os.environ.get(LOG_ENV)
        self._log_dir = Path(log_dir) if log_dir else None
        self._case_id = case_id or "case"
        self._log_numbers = itertools.count(1)

    def _log_for(self, kind: str) -> Path | None:
        """Where the next codex process of this case logs its I/O (``$WIREPLAY_CODEX_LOG``)."""
        if self._log_dir is None:
            return None
        return self._log_dir / f"{self._case_id}.{next(self._log_numbers)}.{kind}.log"

    def _area(self, area: str) -> Any:
        if area not in self._areas:
            section = dict(self._config.get(area) or {})
            if area == "responses":
                self._areas[area] = AppServerResponses(
                    codex=self._codex,
                    known_features=self._binary.features,
                    base_url=self._endpoint.base_url,
                    settings=ResponsesSettings.from_config(section),
                    tools=list(section.get("tools") or []),
                    home=self._home,
                    workdir=self._workdir,
                    emit=self._emit,
                    extra_env=self._tls_env,
                    log_for=self._log_for,
                )
            elif area == "realtime":
                self._areas[area] = AppServerRealtime(
                    codex=self._codex,
                    endpoint_origin=self._endpoint.origin,
                    base_url=self._endpoint.base_url,
                    realtime_base_url=self._endpoint.realtime_base_url,
                    config=section,
                    home=self._home,
                    workdir=self._workdir,
                    emit=self._emit,
                    extra_env=self._tls_env,
                    log_for=self._log_for,
                )
            else:
                raise UnsupportedStep(f"codex-cli has no '{area}' steps")
        return self._areas[area]

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        await self._area(op.split(".", 1)[0]).handle(op, args)

    async def aclose(self) -> None:
        try:
            for area in self._areas.values():
                await area.aclose()
        finally:
            shutil.rmtree(self._root, ignore_errors=True)


class CodexCliAdapter:
    """``@openai/codex`` 0.169.0, driven as an app-server client would: CLI processes on loopback."""

    name = "codex-cli"
    revision = "codex-0.169.0"  # the runner keeps a case's variants for this revision (docs/profiles.md)
    capabilities = CODEX_CLI_CAPABILITIES
    layers = ALL_LAYERS  # Codex is judged on the protocol and on its own application behaviour
    reported_events = REPORTED_EVENT_TYPES
    expectations_files = EXPECTATIONS_FILES

    def __init__(self, *, binary: CodexBinary) -> None:
        self.binary = binary
        self.version = binary.version

    async def start(self, *, endpoint: Endpoint, config: Mapping[str, Any], emit: Emit, case_id: str = "") -> CodexCliSession:
        return CodexCliSession(binary=self.binary, endpoint=endpoint, config=config, emit=emit, case_id=case_id)
