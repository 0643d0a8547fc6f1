"""The reference client, in process: realtime and responses clients behind one session."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

from harness.adapters.base import Emit, Endpoint
from harness.layer import ALL_LAYERS
from harness.revision import SEED


__all__ = ["REFERENCE_CAPABILITIES", "ReferenceAdapter"]

REFERENCE_CAPABILITIES = frozenset(
    {
        "realtime",
        "realtime.v1",
        "realtime.v2",
        "realtime.transcription",
        "responses",
        "responses.sse",
        "responses.ws",
        "responses.ws.v1",
        "responses.ws.v2",
        "auth.api-key",
        "auth.chatgpt",
        "auth.external",
        "tls",
        "tls.ca-env",
        "profiles",
        "responses.tool_outputs",
        "responses.builtin_tool_outputs",
        "responses.request_options",
        "realtime.handoff_output",
        "realtime.handoff_append",
        "realtime.update_prompt",
        "auth.manager",  # auth.* steps: the auth manager's own operations (docs/auth.md)
        "tls.probe",  # tls.probe: one plain HTTPS request / websocket handshake (docs/tls.md)
        "responses.session_requests",  # responses.request: one model request on the client session (docs/responses.md)
        "sdk",  # sdk.* steps and server.unrecognized_event: the SDK-level surface (harness/client/sdk.py, docs/contracts.md)
    }
)


def _client_trust(
    endpoint: Endpoint, config: Mapping[str, Any]
) -> tuple[ssl.SSLContext | None, str | None]:
    """The session's TLS context by the reference custom-CA policy (docs/tls.md).

    ``client.config.tls.env`` is the client's CA environment, whole (``{}``: none set,
    system roots only); without it, a TLS run's CA is given the way the codex_cli
    driver gives it, as ``CODEX_CA_CERTIFICATE``. ``os.environ`` is never read. A
    bundle that cannot be loaded is returned as its reference message, not raised.
    """
    from harness.client.custom_ca import CustomCaError, shared_client_ssl_context

    env = _ca_env(endpoint, config)
    if env is None:
        return None, None
    try:
        return shared_client_ssl_context(env), None
    except CustomCaError as exc:
        return None, str(exc)


def _ca_env(endpoint: Endpoint, config: Mapping[str, Any]) -> Mapping[str, str] | None:
    """The client's CA environment: ``tls.env`` whole, else the run's CA as CODEX_CA_CERTIFICATE; None without TLS."""
    from harness.client.custom_ca import CODEX_CA_CERT_ENV

    tls = config.get("tls") or {}
    env = tls.get("env") if isinstance(tls, Mapping) else None
    if env is None:
        return {CODEX_CA_CERT_ENV: endpoint.ca_file} if endpoint.ca_file else None
    if not isinstance(env, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise ValueError(f"client.config.tls.env must map variable names to strings; got {env!r}")
    return env


def _delegates(config: Mapping[str, Any]) -> bool:
    """`realtime.delegate: responses`: handoffs run the agent's own Responses turn."""
    realtime = config.get("realtime")
    return isinstance(realtime, Mapping) and realtime.get("delegate") == "responses"


class _ReferenceSession:
    """Routes each step by its area prefix to that area's client, created on first use."""

    def __init__(self, *, endpoint: Endpoint, config: Mapping[str, Any], emit: Emit) -> None:
        self._endpoint = endpoint
        self._config = config
        self._emit = emit
        self._clients: dict[str, Any] = {}
        self._ssl, self._ca_error = _client_trust(endpoint, config)

    def _client(self, area: str) -> Any:
        if area in ("realtime", "responses") and _delegates(self._config):
            # The session layer (harness/client/session): one object runs both areas.
            if "session" not in self._clients:
                from harness.client.session import CodexSession

                self._clients["session"] = CodexSession(
                    base_url=self._endpoint.base_url, realtime_base_url=self._endpoint.realtime_base_url,
                    config=self._config, emit=self._emit, ssl=self._ssl)  # fmt: skip
            return self._clients["session"]
        if area not in self._clients:
            section = dict(self._config.get(area, {}))
            if isinstance(section.get("auth"), Mapping) and "env" in self._config:
                section["auth"] = {**section["auth"], "env": self._config["env"]}  # client.env: a provider env_key, a proxy
            if area == "auth":
                from harness.client.auth.steps import AuthSteps

                # The session's one auth manager: the Responses client's (codex has one per process).
                self._clients[area] = AuthSteps(lambda: self._client("responses")._auth, self._emit)
            elif area == "tls":
                from harness.client.ca_probe import TlsSteps

                self._clients[area] = TlsSteps(origin=self._endpoint.origin, ca_env=_ca_env(self._endpoint, self._config),
                                               env=self._config.get("env"), emit=self._emit)  # fmt: skip
            elif area == "realtime":
                from harness.client.realtime import RealtimeClient

                base_url = self._endpoint.realtime_base_url or self._endpoint.base_url
                self._clients[area] = RealtimeClient(base_url=base_url, config=section, emit=self._emit, ssl=self._ssl,
                                                     env=self._config.get("env") or {})  # fmt: skip
            elif area == "sdk":
                from harness.client.sdk import SdkClient

                self._clients[area] = SdkClient(base_url=self._endpoint.base_url, realtime_base_url=self._endpoint.realtime_base_url,
                                                config=self._config, emit=self._emit, ssl=self._ssl)  # fmt: skip
            elif area == "responses":
                from harness.client.responses import ResponsesClient

                self._clients[area] = ResponsesClient(base_url=self._endpoint.base_url, config=section, emit=self._emit, ssl=self._ssl)
            else:
                raise ValueError(f"the reference client has no '{area}' steps")
        return self._clients[area]

    async def handle(self, op: str, args: Mapping[str, Any]) -> None:
        if self._ca_error is not None:
            # No client can be built with this trust: every step reports it (docs/tls.md).
            self._emit({"type": "error", "message": self._ca_error})
            return
        await self._client(op.split(".", 1)[0]).handle(op, args)

    async def aclose(self) -> None:
        for client in self._clients.values():
            if hasattr(client, "aclose"):  # auth / tls steps hold no connection
                await client.aclose()


class ReferenceAdapter:
    """wireplay's own client, implementing ../shared/seeds."""

    name = "reference"
    version = "0.1.0"
    capabilities = REFERENCE_CAPABILITIES
    layers = ALL_LAYERS
    revision = SEED  # the revision the seeds describe (docs/profiles.md)

    async def start(self, *, endpoint: Endpoint, config: Mapping[str, Any], emit: Emit, case_id: str = "") -> _ReferenceSession:
        return _ReferenceSession(endpoint=endpoint, config=config, emit=emit)
