"""The reference client's SDK-level surface (harness/client/sdk.py) end to end against the fake
server: what it reports for each kind of frame, close and failure, and what it sends."""

from __future__ import annotations

from pathlib import Path

from harness.adapters.reference import ReferenceAdapter
from harness.case.loader import parse_case_text
from harness.runner import judge, run_case
from harness.verdict.outcome import Outcome


def run(text: str):
    c = parse_case_text(text, file=Path("cases/sdk/inline.yaml"))
    result = run_case(c, adapter=ReferenceAdapter())
    return result, [event for _, event in result.events]


def test_frames_that_are_no_events_are_errors_of_their_kind_and_reading_goes_on():
    result, events = run("""
id: sdk.inline.frames
title: junk frames on the surface's socket
layer: protocol
notes: the reference surface reports each junk frame with its neutral kind and keeps reading.
client:
  config:
    responses: {api_key: sk-test}
  steps:
    - sdk.send: {transport: websocket, body: {type: response.create, model: m}}
    - wait: {event: {type: server.unrecognized_event}}
server:
  exchanges:
    - websocket: {path: /v1/responses}
      script:
        - expect: {type: response.create}
        - send_text: "not json"
        - send_text: "[1, 2]"
        - send_binary: AAEC
        - send: {type: later.thing, n: 1}
          malformed: true
        - close: {code: 1000}
""")
    assert judge(result).outcome is Outcome.PASS, judge(result).detail
    assert [(e["type"], e.get("failure")) for e in events] == [
        ("error", "invalid_json"), ("error", "not_an_event"), ("error", "binary_frame"), ("server.unrecognized_event", None)]


def test_a_normal_close_is_no_error():
    result, events = run("""
id: sdk.inline.normal-close
title: a normal close
layer: protocol
notes: a close with 1000 ends the surface's socket quietly.
client:
  config:
    realtime: {api_key: sk-test, model: gpt-test}
  steps:
    - sdk.send: {api: realtime, transport: websocket, body: {type: session.update, session: {type: realtime}}}
    - sleep: 0.3
server:
  exchanges:
    - websocket: {path: /v1/realtime}
      script:
        - expect: {type: session.update}
        - close: {code: 1000, reason: bye}
""")
    assert judge(result).outcome is Outcome.PASS, judge(result).detail
    assert events == []


def test_the_handshake_carries_the_key_the_model_and_the_configured_headers_and_query():
    result, _ = run("""
id: sdk.inline.handshake
title: what the surface's handshake carries
layer: protocol
notes: the area config's key, model, headers and query parameters go on the surface's handshake.
client:
  config:
    realtime: {auth: {mode: api_key, api_key: sk-from-auth}, model: gpt-test, headers: {x-extra: "1"}, query_params: {tenant: t1}}
  steps:
    - sdk.send: {api: realtime, transport: websocket, body: {type: session.update, session: {type: realtime}}}
    - sleep: 0.2
server:
  exchanges:
    - websocket: {path: /v1/realtime}
      expect:
        headers: {authorization: Bearer sk-from-auth, x-extra: "1"}
        query: {model: gpt-test, tenant: t1}
      script:
        - expect: {type: session.update}
""")
    assert judge(result).outcome is Outcome.PASS, judge(result).detail


def test_a_stream_that_ends_without_a_terminal_event_is_an_error():
    result, events = run("""
id: sdk.inline.eof
title: an SSE body that ends early
layer: protocol
notes: the reference surface reports a stream that ended before response.completed.
client:
  config:
    responses: {api_key: sk-test}
  steps:
    - sdk.send: {transport: http, body: {model: m, input: hi, stream: true}}
server:
  exchanges:
    - http: {method: POST, path: /v1/responses}
      respond:
        sse:
          - event: {type: response.in_progress, sequence_number: 0, response: {id: r1}}
            malformed: true
""")
    assert judge(result).outcome is Outcome.PASS, judge(result).detail
    assert [(e["type"], e.get("failure")) for e in events] == [("error", "dropped")]
