"""The reference's list of the APIs' server event types agrees with both official SDKs' own unions
(openai-python's pydantic unions, openai-node's shipped declarations), so "recognised" means the
same thing for the three implementations of the SDK-level surface."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness.impls import openai_node, openai_python
from harness.sdk.known import REALTIME_SERVER_EVENTS, RESPONSES_STREAM_EVENTS, RESPONSES_WS_EVENTS


PY_PROBE = """
import json, typing
from openai.types.realtime import RealtimeServerEvent
from openai.types.responses import ResponseStreamEvent, ResponsesServerEvent
def lits(u):
    out = set()
    if typing.get_origin(u) is typing.Annotated:
        u = typing.get_args(u)[0]
    for a in typing.get_args(u):
        if typing.get_origin(a) is typing.Annotated:
            a = typing.get_args(a)[0]
        if typing.get_origin(a) is typing.Union:
            out |= lits(a)
            continue
        out |= set(typing.get_args(a.model_fields["type"].annotation))
    return out
print(json.dumps({k: sorted(lits(v)) for k, v in
      {"realtime": RealtimeServerEvent, "sse": ResponseStreamEvent, "websocket": ResponsesServerEvent}.items()}))
"""

NODE_PROBE = """
import path from 'node:path';
const { declaredTypes } = await import(process.argv[1]);
const dir = path.join(process.env.WIREPLAY_OPENAI_NODE_PREFIX, 'node_modules', 'openai', 'resources');
const get = (f, u) => [...declaredTypes(path.join(dir, f), u)].sort();
process.stdout.write(JSON.stringify({
  realtime: get('realtime/realtime.d.ts', 'RealtimeServerEvent'),
  sse: get('responses/responses.d.ts', 'ResponseStreamEvent'),
  websocket: get('responses/responses.d.ts', 'ResponsesServerEvent'),
}));
"""

EXPECTED = {"realtime": sorted(REALTIME_SERVER_EVENTS), "sse": sorted(RESPONSES_STREAM_EVENTS), "websocket": sorted(RESPONSES_WS_EVENTS)}


@pytest.mark.skipif(openai_python.sdk_python() is None, reason="openai-python is not installed: run `wireplay install openai-python`")
def test_openai_python_unions_are_the_reference_list():
    out = subprocess.run([str(openai_python.sdk_python()), "-I", "-c", PY_PROBE], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout) == EXPECTED


def test_openai_node_declarations_are_the_reference_list():
    prefix = openai_node.prefix_dir()
    node = openai_node.node_binary(prefix) if (prefix / "node_modules" / "openai").exists() else None
    if node is None:
        pytest.skip("openai-node is not installed: run `wireplay install openai-node`")
    known = Path(openai_node.__file__).parent / "known.mjs"
    out = subprocess.run([node, "--input-type=module", "-e", NODE_PROBE, known.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True, env={"WIREPLAY_OPENAI_NODE_PREFIX": str(prefix), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert json.loads(out.stdout) == EXPECTED
