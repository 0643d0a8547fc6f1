"""Serving a case: the one lifecycle the runner, ``wireplay serve`` and the fixtures share.

``CaseServer`` is an async context manager around a case's fake server. Entering it
builds what the case's ``server`` asks for and what its client is given:

- TLS (``server.tls``): the run's CA and the server certificate and versions the case
  names (``fake_server.tls``); the client gets the CA file in ``Endpoint.ca_file``;
- the listeners (``server.listeners``) and the CONNECT proxy (``server.proxy``);
- the client's endpoint and config, with ``${server:origin}``, ``${<listener>:ws_origin}``,
  ``${proxy:origin}`` and ``${tls:<bundle>}`` resolved and the profile merged in.

Leaving it lets the last bytes reach the transcript (bounded), then ends every
connection and task. ``wire_verdict()`` judges what the server saw, in the layers the
client claims. So a TLS case is served over TLS by all three, the same way.
"""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from fake_server.proxy import proxy_options
from fake_server.script import MAIN_LISTENER
from fake_server.server import FakeServer
from fake_server.transcript import Record
from harness.adapters.base import Endpoint
from harness.case.model import Case
from harness.layer import ALL_LAYERS, Layer
from harness.verdict.events import EventScope
from harness.verdict.wire import WireVerdict, judge_wire


__all__ = ["NO_EVENTS", "CaseServer", "find_case", "merged_config", "resolve_placeholders"]

NO_EVENTS = EventScope(reported=frozenset({"(none)"}))
"""The scope of a client run by hand or by a test: it reports no events, so checks that
need events (a timing check from an event) are not judged, rather than failed."""
SETTLE = 1.0  # seconds the transcript may take to receive the last bytes after the client is done

_PLACEHOLDER = re.compile(r"\$\{([a-z][a-z0-9_-]*):([a-z_-]+)\}")


def merged_config(case: Case) -> dict[str, Any]:
    """The case's client config with its profile settings merged into each area."""
    config = copy.deepcopy(dict(case.config))
    for area, setting in case.profile.items():
        section = config.setdefault(area, {})
        if isinstance(setting, str):
            section["profile"] = setting
        else:
            base = section.get("profile")
            merged = {"preset": base} if isinstance(base, str) else dict(base or {})
            merged.update(setting)
            section["profile"] = merged
    return config


def resolve_placeholders(value: Any, *, origins: Mapping[str, str], bundle: Callable[[str], Any] | None) -> Any:
    """Replace ``${server:origin}`` / ``${server:ws_origin}`` (the main listener),
    ``${<listener>:origin}`` / ``${<listener>:ws_origin}`` and ``${tls:<bundle>}`` in strings.

    They let a case configure base URLs and CA files that exist only once its server runs.
    """

    def one(m: re.Match[str]) -> str:
        kind, name = m.groups()
        if kind == "tls":
            if bundle is None:
                raise ValueError(f"${{tls:{name}}} needs server.tls: true in the case")
            return str(bundle(name))
        listener = MAIN_LISTENER if kind == "server" else kind
        if listener not in origins:
            raise ValueError(f"unknown placeholder ${{{kind}:{name}}}; expected server, tls or a listener of server.listeners ({', '.join(sorted(origins))})")
        origin = origins[listener]
        values = {"origin": origin, "ws_origin": origin.replace("http", "ws", 1)}
        if name not in values:
            raise ValueError(f"unknown placeholder ${{{kind}:{name}}}; expected origin or ws_origin")
        return values[name]

    if isinstance(value, dict):
        return {k: resolve_placeholders(v, origins=origins, bundle=bundle) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_placeholders(v, origins=origins, bundle=bundle) for v in value]
    if isinstance(value, str):
        return _PLACEHOLDER.sub(one, value)
    return value


class CaseServer:
    """One case's fake server, from start to verdict (see the module docstring).

    ``async with CaseServer(case) as served:`` gives ``served.endpoint`` and
    ``served.config`` for the client; after the block, ``served.wire_verdict()``.
    The transcript's clock starts at construction, so events can be stamped on it
    (``served.now``) from the first moment.
    """

    def __init__(
        self,
        case: Case,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_remote: bool = False,
        ssl_context: Any = None,
        ca_file: str | None = None,
        settle: float = SETTLE,
    ) -> None:
        self.case = case
        self.settle = settle
        self.material: Any = None
        self._bundle: Callable[[str], Any] | None = None
        if case.tls and ssl_context is None:
            from fake_server.tls import server_options, tls_material

            self.material = tls_material()
            # the certificate and versions the case asks for (docs/tls.md), signed by the run's CA
            ssl_context = self.material.server_context(**server_options(case.server.get("tls")))
            ca_file, self._bundle = str(self.material.bundle("ca")), self.material.bundle
        self.ca_file = ca_file
        self.server = FakeServer(
            case.script, host=host, port=port, allow_remote=allow_remote, ssl=ssl_context,
            proxy=proxy_options(case.server.get("proxy"), self.material),
        )  # fmt: skip
        self.origins: dict[str, str] = {}
        self.endpoint: Endpoint | None = None
        self.config: dict[str, Any] = {}
        self._started = False
        self._closed = False

    # -- what the client is given -------------------------------------------
    @property
    def now(self) -> Callable[[], float]:
        """The transcript's clock (seconds since construction), for stamping events."""
        return self.server.transcript.now

    @property
    def tls(self) -> bool:
        return self.server.ssl is not None

    @property
    def origin(self) -> str:
        return self.server.origin

    @property
    def base_url(self) -> str:
        assert self.endpoint is not None, "the case is not being served"
        return self.endpoint.base_url

    # -- lifecycle -------------------------------------------------------------
    async def start(self) -> CaseServer:
        """Listen (every listener, the proxy) and resolve the client's endpoint and config."""
        self._started = True
        await self.server.start()
        self.origins = {name: self.server.origin_of(name) for name in self.server.ports}
        if self.server.proxy is not None:
            self.origins["proxy"] = self.server.proxy.origin  # ${proxy:origin}: the client's HTTPS_PROXY
        given = resolve_placeholders(dict(self.case.endpoint), origins=self.origins, bundle=self._bundle)
        self.endpoint = Endpoint(
            origin=self.server.origin,
            base_url=given.get("base_url", f"{self.server.origin}/v1"),
            ca_file=self.ca_file,
            realtime_base_url=given.get("realtime_base_url"),
        )
        self.config = resolve_placeholders(merged_config(self.case), origins=self.origins, bundle=self._bundle)
        return self

    async def aclose(self) -> None:
        """Let in-flight bytes reach the transcript (bounded by ``settle``), then end everything.

        Idempotent; safe after a failed start.
        """
        if self._closed:
            return
        self._closed = True
        try:
            if self._started:
                await self.server.settle(timeout=self.settle)
        finally:
            await self.server.aclose()

    async def __aenter__(self) -> CaseServer:
        try:
            return await self.start()
        except BaseException:
            await self.aclose()
            raise

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    # -- what happened -----------------------------------------------------------
    @property
    def records(self) -> list[Record]:
        return self.server.transcript.records

    def wire_log(self) -> list[dict[str, Any]]:
        """The redacted transcript."""
        return self.server.transcript.to_json()

    def findings(self) -> list[Any]:
        """What the server found while serving (mismatches, unmatched requests, unmet minimums)."""
        return self.server.findings()

    def wire_verdict(
        self,
        *,
        layers: frozenset[Layer] = ALL_LAYERS,
        scope: EventScope | None = None,
        events: Sequence[tuple[float, Mapping[str, Any]]] = (),
        implementation: str = "the client",
    ) -> WireVerdict:
        """The wire plane of what the server saw, judged in ``layers``. Without events (a
        client run by hand) and without a scope, checks that need events are not judged."""
        if scope is None:
            scope = EventScope() if events else NO_EVENTS
        return judge_wire(
            self.case, records=self.records, server_findings=self.findings(), events=events,
            layers=layers, scope=scope, implementation=implementation,
        )  # fmt: skip

    async def arrivals(self, *, kinds: Iterable[str] = ("request",), poll: float = 0.02) -> AsyncIterator[Record]:
        """The transcript's records of ``kinds`` as they arrive (until the server closes)."""
        wanted = frozenset(kinds)
        seen = 0
        while True:
            records = self.server.transcript.records
            while seen < len(records):
                record = records[seen]
                seen += 1
                if record.kind in wanted:
                    yield record
            if self._closed:
                return
            await asyncio.sleep(poll)


def find_case(case_id_or_path: str, *, entries: Iterable[Any] | None = None, specs: Sequence[str] | None = None) -> Case:
    """A case by file path, or by id in ``entries`` (else the suite of ``specs``, else the bundled one).

    Raises LookupError when no case has that id, ValueError (with its ``file:line``
    errors) when the case file is invalid.
    """
    from harness.case.catalog import load_catalog
    from harness.case.loader import load_case
    from harness.errors import CaseError

    path = Path(case_id_or_path)
    if case_id_or_path.endswith((".yaml", ".yml")) or path.is_file():
        try:
            return load_case(path)
        except CaseError as exc:
            raise ValueError(str(exc)) from None
    for entry in entries if entries is not None else load_catalog(list(specs) if specs else None):
        if entry.id == case_id_or_path:
            if entry.case is None:
                raise ValueError("\n".join(str(e) for e in entry.errors))
            return entry.case
    raise LookupError(f"no case with id '{case_id_or_path}' in the selected suite")
