"""Known outcomes per implementation, WPT-style: CI stays green while gaps stay visible.

An expectations file maps case ids to the outcome an implementation is known to get
and why::

    implementation: codex-cli
    version: 0.169.0
    expectations:
      responses.sse.reroute.header-warning:
        outcome: FAIL
        class: revision
        why: "0.169.0 warns with its later text (codex-rs core/src/client.rs at rust-v0.169.0)"

``class`` says why the outcome is not PASS: ``revision`` (the client is a later revision
than the case models), ``adapter`` (the adapter cannot drive or observe it yet) or
``deviation`` (the evidence shows the client is wrong). ``why`` is one line that cites
the evidence. A case that ends with its known outcome is reported as an expected failure (xfail)
with that reason; one that now does better is reported as an unexpected pass, so the
file gets updated instead of hiding a fixed gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml

from harness.errors import CaseError
from harness.verdict.outcome import Outcome


__all__ = ["Known", "KnownClass", "load_expectations"]


class KnownClass(StrEnum):
    """Why a known outcome is not PASS."""

    REVISION = "revision"  # the client is a later revision than the case models
    ADAPTER = "adapter"  # the adapter cannot drive or observe it yet
    DEVIATION = "deviation"  # the evidence shows the client is wrong


_TOP_KEYS = frozenset({"implementation", "version", "expectations"})  # the first two name what the outcomes were observed with
_ENTRY_KEYS = frozenset({"outcome", "class", "why"})


@dataclass(frozen=True, slots=True)
class Known:
    """A known outcome, its class and its one-line reason."""

    outcome: Outcome
    cls: KnownClass
    why: str

    def to_json(self) -> dict[str, str]:
        return {"outcome": self.outcome.value, "class": self.cls.value, "why": self.why}


def load_expectations(paths: list[Path]) -> Mapping[str, Known]:
    """Merge expectation files (later files win); errors name the file and the entry."""
    known: dict[str, Known] = {}
    for path in paths:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise CaseError(file=path, line=None, field="", message=f"cannot read expectations: {exc}") from None
        if not isinstance(data, dict) or (data and "expectations" not in data):
            # A mapping of case ids at the top level would otherwise be silently ignored.
            raise CaseError(file=path, line=None, field="expectations", message="expected a top-level 'expectations:' mapping of case id → {outcome, class, why} (docs/case-format.md#known-outcomes)")
        unknown = sorted(set(data) - _TOP_KEYS)
        if unknown:
            raise CaseError(file=path, line=None, field=str(unknown[0]), message=f"unknown key; expected {', '.join(sorted(_TOP_KEYS))} (docs/case-format.md#known-outcomes)")
        entries = data.get("expectations") or {}
        if not isinstance(entries, dict):
            raise CaseError(file=path, line=None, field="expectations", message="expected a mapping of case id → {outcome, class, why}")
        for case_id, entry in entries.items():
            field = f"expectations.{case_id}"
            if not isinstance(entry, dict) or "outcome" not in entry or not entry.get("why") or "class" not in entry or set(entry) - _ENTRY_KEYS:
                raise CaseError(file=path, line=None, field=field, message="expected {outcome: FAIL|TIMEOUT|ERROR|NON-STRICT|UNSUPPORTED, class: revision|adapter|deviation, why: <one line citing the evidence>}")
            try:
                outcome = Outcome(entry["outcome"])
            except ValueError:
                raise CaseError(file=path, line=None, field=f"{field}.outcome", message=f"unknown outcome {entry['outcome']!r}; expected one of {', '.join(o.value for o in Outcome)}") from None
            try:
                cls = KnownClass(entry["class"])
            except ValueError:
                raise CaseError(file=path, line=None, field=f"{field}.class", message=f"unknown class {entry['class']!r}; expected one of {', '.join(c.value for c in KnownClass)}") from None
            known[str(case_id)] = Known(outcome=outcome, cls=cls, why=str(entry["why"]))
    return known
