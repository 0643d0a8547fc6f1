"""What counts as a finding, from one example's run (pure).

- **crash**: the implementation crashed: the adapter raised, a driver answered a command
  ``failed``, its process died or spoke its protocol wrongly, or it failed to shut down
  (the runner's ``error`` status, outcome ERROR);
- **hang**: the case did not finish within its bound (``timeout``, outcome TIMEOUT);
- **escaped**: the client reported an ``error`` / ``realtime.error`` whose message is a
  language-level exception (:data:`harness.fuzz.case.ESCAPED`): what the server sent broke
  the client's code instead of being handled as a protocol error.

Everything else is not a finding: an error event that says what the server did wrong, a
closed conversation, a failed turn, wire findings. An example ends with at most one
finding, the most severe (crash, then hang, then escaped). Its *signature* is what makes
two findings the same bug, coarse on purpose: the kind and the exception's name, the
exit code, or the step that hung.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from harness.fuzz.case import ESCAPED, ESCAPED_EXCEPTIONS


__all__ = ["Finding", "classify"]

Kind = Literal["crash", "hang", "escaped"]
_EXIT = re.compile(r"exit code (-?\d+)")
_EXC_NAME = re.compile(r"\b((?:[A-Za-z_][\w]*\.)*[A-Z][A-Za-z0-9_]*(?:Error|Exception|Exit|Interrupt|Warning))\b")
_STEP = re.compile(r"while running \S+ \(([^)]+)\)")


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Kind
    signature: str
    detail: str


def _exception_name(text: str) -> str:
    names = [n.rsplit(".", 1)[-1] for n in _EXC_NAME.findall(text) if n.rsplit(".", 1)[-1] not in ("AdapterError", "WireplayError")]
    return names[-1] if names else ""


def _crash(error: str) -> str:
    """A crash's signature from the runner's error text (its first line may name the step)."""
    text = error.strip()
    if "failed to shut down" in text:
        return "failed to shut down"
    code = _EXIT.search(text)
    if re.search(r"driver crashed|closed its stdout|driver is gone", text):
        return f"process died (exit code {code.group(1)})" if code else "process died"
    failed = re.search(r"failed on command \d+: (.*)", text)
    if failed:
        name = _exception_name(failed.group(1))
        return f"command failed: {name}" if name else "command failed"
    if re.search(r"driver wrote|did not say hello|speaks protocol", text):
        return "driver protocol violated"
    raised = re.findall(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))\b", text, re.MULTILINE)
    if raised:
        return f"raised {raised[-1].rsplit('.', 1)[-1]}"
    first = text.splitlines()[0] if text else "no detail"
    return first[:80]


def _escaped(message: str) -> str:
    for name in ESCAPED_EXCEPTIONS:
        if re.search(rf"\b{name}\b", message):
            return name
    if "panicked at" in message:
        return "panic"
    if "Traceback" in message:
        return "traceback"
    return "uncaught exception"


def classify(status: str, error: str, events: list[tuple[float, dict[str, Any]]]) -> Finding | None:
    """The finding of one run (``CaseRun.status``, ``.error``, ``.events``), or None."""
    if status == "error":
        return Finding("crash", "crash: " + _crash(error), error)
    if status == "timeout":
        step = _STEP.search(error)
        return Finding("hang", "hang: " + (f"during {step.group(1)}" if step else "the case bound ran out"), error)
    for _, event in events:
        message = event.get("message")
        if event.get("type") in ("error", "realtime.error") and isinstance(message, str) and ESCAPED.fullmatch(message):
            return Finding("escaped", f"escaped: {_escaped(message)}", message)
    return None
