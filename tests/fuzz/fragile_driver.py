"""A deliberately fragile driver for the fuzzing tests: ``fragile_driver.py [--escape]``.

A small but otherwise careful Responses client over SSE (stdlib only): it bounds every
read, reports HTTP errors, invalid JSON and dropped streams as ``error`` events and
always ends its turn. Its one planted bug: an event of a type it does not know crashes
the process (an uncaught exception, exit code 1), as a client with an exhaustive
``match`` and no default would. With ``--escape`` the same bug is caught at the top and
shown to the user as the raw exception (``KeyError: 'response._'``): an escaped exception.
"""

from __future__ import annotations

import http.client
import json
import sys
import uuid
from urllib.parse import urlsplit


ESCAPE = "--escape" in sys.argv
KNOWN = {
    "response.created", "response.in_progress", "response.completed", "response.failed", "response.incomplete",
    "response.output_item.added", "response.output_item.done", "response.content_part.added", "response.content_part.done",
    "response.output_text.delta", "response.output_text.done", "response.reasoning_summary_part.added",
    "response.reasoning_summary_part.done", "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done",
    "response.reasoning_text.delta", "response.reasoning_text.done", "error",
}


def say(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def event(body):
    say({"type": "event", "event": body})


def turn(base_url, config, text):
    event({"type": "turn.started", "turn_id": str(uuid.uuid4())})
    url = urlsplit(base_url)
    idle = min(float(config.get("stream_idle_timeout_ms", 1000)) / 1000, 5.0)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=idle)
    body = json.dumps({"model": config.get("model", "gpt-test"), "stream": True,
                       "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}]})
    status = "failed"
    try:
        conn.request("POST", url.path.rstrip("/") + "/responses", body=body,
                     headers={"authorization": f"Bearer {config.get('api_key', '')}", "content-type": "application/json"})
        response = conn.getresponse()
        if response.status != 200:
            event({"type": "error", "message": f"HTTP {response.status}", "http_status": response.status})
            return
        for raw in response:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line.startswith("data:"):
                continue
            try:
                data = json.loads(line[5:].strip())
            except ValueError:
                event({"type": "error", "message": "the server sent invalid JSON"})
                return
            kind = data.get("type") if isinstance(data, dict) else None
            if isinstance(kind, str) and kind not in KNOWN:
                if ESCAPE:
                    raise KeyError(kind)  # the planted bug, shown to the user as it is
                raise RuntimeError(f"unknown event type {kind!r}")  # the planted bug: nothing catches this
            if kind == "response.completed":
                response_id = data.get("response", {}).get("id") if isinstance(data.get("response"), dict) else None
                event({"type": "responses.completed", "response_id": response_id if isinstance(response_id, str) else ""})
                status = "completed"
                return
            if kind in ("response.failed", "response.incomplete", "error"):
                event({"type": "error", "message": kind})
                return
        event({"type": "error", "message": "stream closed before response.completed"})
    except (OSError, http.client.HTTPException) as exc:
        event({"type": "error", "message": f"stream error: {exc.__class__.__name__}"})
    except KeyError as exc:
        event({"type": "error", "message": f"KeyError: {exc}"})
    finally:
        conn.close()
        event({"type": "turn.completed", "status": status})


def main():
    say({"type": "hello", "protocol": 1, "name": "fragile", "version": "0", "capabilities": ["responses.sse"],
         "reported_events": ["error", "turn.started", "turn.completed", "responses.completed"]})
    base, config = "", {}
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["type"] == "start":
            base, config = msg["endpoint"]["base_url"], msg["config"].get("responses", {})
        elif msg["type"] == "command":
            if msg["op"] == "responses.turn":
                text = msg["args"].get("input")
                turn(base, config, text if isinstance(text, str) else "hello")
            say({"type": "done", "id": msg["id"]})
        elif msg["type"] == "end":
            say({"type": "ended"})
            return


if __name__ == "__main__":
    main()
