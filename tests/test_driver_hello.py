"""Every bundled driver's hello is what schemas/driver.schema.json describes: who it is, that it
serves many cases, and (for the SDK drivers) the policy it runs, in one shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from harness.impls import openai_node, openai_python


ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "driver.schema.json").read_text())
HELLO = Draft202012Validator({"$defs": SCHEMA["$defs"], "$ref": "#/$defs/hello"})
POLICY_KEYS = {"chaining", "after_failure", "parse_failure", "realtime_error", "retries"}


def hello_of(argv: list[str], env: dict[str, str] | None = None) -> dict:
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True, stdin=subprocess.DEVNULL, env=env)
    lines = out.stdout.splitlines()
    assert len(lines) == 1, out.stdout
    return json.loads(lines[0])


def test_the_reference_driver_answers_hello_alone():
    hello = hello_of([sys.executable, "-m", "harness.cli", "driver", "--hello"])
    assert list(HELLO.iter_errors(hello)) == []
    assert hello["cases"] == "many" and "sdk" in hello["capabilities"]


@pytest.mark.skipif(openai_python.sdk_python() is None, reason="openai-python is not installed: run `wireplay install openai-python`")
def test_openai_python_hello():
    hello = hello_of([str(openai_python.sdk_python()), "-I", str(openai_python.DRIVER), "--hello"])
    assert list(HELLO.iter_errors(hello)) == []
    assert hello["cases"] == "many" and set(hello["policy"]) == POLICY_KEYS


def test_openai_node_hello():
    prefix = openai_node.prefix_dir()
    node = openai_node.node_binary(prefix) if (prefix / "node_modules" / "openai").exists() else None
    if node is None:
        pytest.skip("openai-node is not installed: run `wireplay install openai-node`")
    hello = hello_of([node, str(openai_node.DRIVER), "--hello"], env={"WIREPLAY_OPENAI_NODE_PREFIX": str(prefix), "PATH": "/usr/bin:/bin"})
    assert list(HELLO.iter_errors(hello)) == []
    assert hello["cases"] == "many" and set(hello["policy"]) == POLICY_KEYS
