"""A deliberately hostile driver for the harness's own tests: ``hostile.py MODE TOKEN``.

Modes: ok (a correct minimal driver), hang (never answers a command), crash (exits 3
mid-command), flood (megabytes on stderr), event-flood (50 000 events on stdout),
garbage (non-JSON on stdout), wire-garbage (invalid JSON and binary frames to the
server), immortal (ignores end and SIGTERM), spawn (leaves a grandchild sleeping),
silent (never says hello), many (serves case after case in one process, says its pid in a
warning, and crashes on a turn whose input is "crash").
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request


MODE = sys.argv[1]


def say(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


if MODE == "silent":
    time.sleep(60)
hello = {"type": "hello", "protocol": 1, "name": f"hostile-{MODE}", "version": "0", "capabilities": ["responses.sse"]}
if MODE == "many":
    hello["cases"] = "many"
say(hello)
if MODE == "immortal":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
base = None
for line in sys.stdin:
    msg = json.loads(line)
    if msg["type"] == "start":
        base = msg["endpoint"]["base_url"]
    elif msg["type"] == "command":
        if MODE == "hang":
            time.sleep(60)
        if MODE == "crash":
            sys.stderr.write("fatal: the client fell over\n")
            sys.stderr.flush()
            os._exit(3)
        if MODE == "flood":
            for _ in range(2000):
                sys.stderr.write("x" * 1023 + "\n")
            sys.stderr.write("last words\n")
            sys.stderr.flush()
        if MODE == "garbage":
            sys.stdout.write("this is not json\n")
            sys.stdout.flush()
        if MODE == "event-flood":
            for i in range(50_000):
                say({"type": "event", "event": {"type": "responses.output_text_delta", "delta": str(i)}})
        if MODE == "wire-garbage":
            import socket
            host, port = base.split("//")[1].split("/")[0].split(":")
            sock = socket.create_connection((host, int(port)), timeout=5)
            sock.sendall(b"POST /v1/responses HTTP/1.1\r\nhost: x\r\ncontent-length: 9\r\n\r\n{garbage!")
            sock.recv(65536)
            sock.close()
            sock = socket.create_connection((host, int(port)), timeout=5)
            sock.sendall(b"\x16\x03\x01 this is not http at all\r\n\r\n")
            sock.recv(65536)
            sock.close()
            say({"type": "event", "event": {"type": "turn.completed", "status": 0}})
            say({"type": "done", "id": msg["id"]})
            continue
        if MODE == "many":
            if msg["args"].get("input") == "crash":
                os._exit(3)
            say({"type": "event", "event": {"type": "warning", "message": f"pid {os.getpid()}"}})
        if MODE == "spawn":
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", sys.argv[2]])
        req = urllib.request.Request(base + "/responses", data=b"{}", method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            say({"type": "event", "event": {"type": "turn.completed", "status": r.status}})
        say({"type": "done", "id": msg["id"]})
    elif msg["type"] == "end":
        if MODE == "immortal":
            time.sleep(60)
        if MODE == "many":
            say({"type": "ended"})
            continue
        break
say({"type": "ended"})
