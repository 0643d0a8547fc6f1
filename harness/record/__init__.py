"""``wireplay record``: a recording reverse proxy, and the pure writer that turns what it
recorded into a case (docs/record.md).

- :mod:`harness.record.model` — the recorded exchanges, as plain data;
- :mod:`harness.record.sse` — a Sans-I/O server-sent-events splitter;
- :mod:`harness.record.scrub` — secrets and volatile values to matchers;
- :mod:`harness.record.writer` — a recording to a case (mapping, YAML), a pure function;
- :mod:`harness.record.proxy` — the asyncio proxy (h11 + websockets' Sans-I/O server on the
  client side, httpx and websockets' asyncio client on the upstream side);
- :mod:`harness.record.cli` — the command.
"""
