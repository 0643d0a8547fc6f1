"""The fuzzing loop: hypothesis draws (base, plan) examples, each one runs the client under
test through :func:`harness.runner.run_case_async`, findings are shrunk and written.

- One event loop (``asyncio.Runner``) runs every example, so a driver that serves many
  cases keeps one process (``DriverAdapter.keep_processes``).
- Results are memoised by example: hypothesis sees a deterministic property (a client
  that fails once and passes on the replay would otherwise make it give up as flaky).
- Each distinct finding (by :class:`~harness.fuzz.classify.Finding` signature) raises an
  exception class of its own, so hypothesis shrinks each one separately
  (``report_multiple_bugs``). After a round, the shrunk examples are written as case
  files and replayed once; known signatures then count as passing and the next round
  (next seed) looks for others, until the example budget or the time is spent.
- Budgets: ``examples`` (client runs), ``max_seconds`` (wall clock), ``shrink_seconds``
  (after a round's first new finding): once spent, examples not run before are skipped
  (they count as passing), so hypothesis winds down at once.
- Every example is bounded by the case's own bound plus the runner's teardown; a run that
  outlives that, or raises, is a **harness fault** (never a finding about the client).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import random
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from harness.adapters.base import Adapter
from harness.case.loader import analyse_case_text
from harness.fuzz.case import Base, example_case, finding_mapping, plan_key
from harness.fuzz.classify import Finding, classify
from harness.fuzz.mutate import Mutation, describe
from harness.fuzz.strategies import plans
from harness.runner import judge, run_case_async


__all__ = ["FindingError", "FuzzOptions", "FuzzSummary", "Fuzzer", "WrittenFinding"]

_HARNESS_MARGIN = 30.0  # beyond the case's bound: the runner's teardown and settle, a driver's grace
_PROGRESS_EVERY = 10.0


class FindingError(Exception):
    """Raised inside the property for a new finding; one subclass per signature."""

    def __init__(self, finding: Finding, base: int, plan: Sequence[Mutation]) -> None:
        super().__init__(finding.signature)
        self.finding = finding
        self.base = base
        self.plan = list(plan)


@dataclass(slots=True)
class FuzzOptions:
    examples: int = 100
    seed: int | None = None
    max_seconds: float | None = None
    shrink_seconds: float = 120.0
    out_dir: Path = Path("wireplay-fuzz")
    max_mutations: int = 4


@dataclass(slots=True)
class WrittenFinding:
    finding: Finding
    base_id: str
    plan: list[Mutation]
    path: Path
    replay: str  # the replayed case's outcome (ERROR, TIMEOUT, FAIL, ...)
    reproduced: bool
    exact: bool  # the file holds exactly the example that ran


@dataclass(slots=True)
class FuzzSummary:
    implementation: str
    seed: int
    bases: list[str]
    examples: int = 0  # distinct examples run against the client
    drawn: int = 0  # examples hypothesis drew (repeats answered from memory, skipped ones included)
    after_finding: int = 0
    skipped: int = 0
    seconds: float = 0.0
    findings: list[WrittenFinding] = field(default_factory=list)
    harness_faults: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def rate(self) -> float:
        return self.examples / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        if self.harness_faults:
            return 3
        return 1 if self.findings else 0

    def lines(self) -> list[str]:
        out = [
            f"fuzz summary: {self.implementation}, seed {self.seed}",
            f"  bases: {', '.join(self.bases)}",
            f"  examples run: {self.examples} in {self.seconds:.1f} s ({self.rate:.2f} examples/s; {self.drawn} drawn by hypothesis)"
            + (f"; {self.after_finding} of them after a finding (shrinking)" if self.after_finding else "")
            + (f"; {self.skipped} skipped once a budget was spent" if self.skipped else ""),
            f"  findings: {len(self.findings)}",
        ]
        for w in self.findings:
            shrunk = "; ".join(describe(m) for m in w.plan) or "the base case itself"
            replay = f"replays as {w.replay}" + ("" if w.reproduced else " (did NOT reproduce the finding)")
            out.append(f"  - {w.finding.signature} [{w.base_id}] -> {w.path} ({replay})")
            out.append(f"      shrunk to: {shrunk}")
        out.append(f"  harness faults: {len(self.harness_faults)}")
        out += [f"  - {fault.splitlines()[0]}" for fault in self.harness_faults]
        if self.interrupted:
            out.append("  (interrupted: the figures are what ran before)")
        return out


def _yaml_text(data: dict[str, Any]) -> str:
    yaml = importlib.import_module("yaml")

    class Dumper(yaml.SafeDumper):  # type: ignore[misc,name-defined]
        pass

    def text(dumper: Any, value: str) -> Any:
        style = "|" if "\n" in value and all(c.isprintable() or c == "\n" for c in value) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    result: str = yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=False, width=140, default_flow_style=None)
    return result


class Fuzzer:
    """Fuzz one implementation on some bases; :meth:`run` returns the summary."""

    def __init__(self, adapter: Adapter, bases: Sequence[Base], options: FuzzOptions, *, out: Callable[[str], None] = print) -> None:
        if not bases:
            raise ValueError("no base case to fuzz")
        self.adapter = adapter
        self.bases = list(bases)
        self.options = options
        self.out = out
        self.seed = options.seed if options.seed is not None else random.randrange(2**32)
        self.summary = FuzzSummary(implementation=f"{adapter.name} {getattr(adapter, 'version', '')}".strip(), seed=self.seed,
                                   bases=[b.case.id for b in self.bases])
        self._memo: dict[str, Finding | None] = {}
        self._known: set[str] = set()
        self._classes: dict[str, type[FindingError]] = {}
        self._runner: asyncio.Runner | None = None
        self._started = 0.0
        self._deadline: float | None = None
        self._shrink_deadline: float | None = None
        self._last_progress = 0.0

    # -- one example -------------------------------------------------------------------------
    def _spent(self) -> bool:
        now = time.monotonic()
        if self._deadline is not None and now >= self._deadline:
            return True
        return self._shrink_deadline is not None and now >= self._shrink_deadline

    def _example(self, base: int, plan: Sequence[Mutation]) -> Finding | None:
        key = plan_key(base, plan)
        if key in self._memo:
            return self._memo[key]
        if self._spent() or self.summary.examples >= self.options.examples + self._extra():
            self.summary.skipped += 1
            return None
        finding = self._run(base, plan)
        self._memo[key] = finding
        return finding

    def _extra(self) -> int:
        """Runs allowed beyond the budget: shrinking a finding (bounded by shrink_seconds)."""
        return 10**9 if self._shrink_deadline is not None else 0

    def _run(self, base: int, plan: Sequence[Mutation]) -> Finding | None:
        assert self._runner is not None
        self.summary.examples += 1
        if self._shrink_deadline is not None:
            self.summary.after_finding += 1
        try:
            case = example_case(self.bases[base], plan)
        except Exception:
            self._fault(f"the mutation broke the harness: {'; '.join(describe(m) for m in plan)}\n{traceback.format_exc()}")
            return None
        bound = case.timeout + _HARNESS_MARGIN
        try:
            run = self._runner.run(asyncio.wait_for(run_case_async(case, adapter=self.adapter), bound))
        except TimeoutError:
            self._fault(f"the harness hung on an example of {case.id} (more than {bound:g} s): {'; '.join(describe(m) for m in plan)}")
            return None
        except Exception:
            self._fault(f"the harness raised on an example of {case.id}: {'; '.join(describe(m) for m in plan)}\n{traceback.format_exc()}")
            return None
        self._progress()
        return classify(run.status, run.error, run.events)

    def _fault(self, text: str) -> None:
        self.summary.harness_faults.append(text)
        self.out(f"HARNESS FAULT: {text.splitlines()[0]}")

    def _progress(self) -> None:
        now = time.monotonic()
        if now - self._last_progress >= _PROGRESS_EVERY:
            self._last_progress = now
            seconds = now - self._started
            self.out(f"... {self.summary.examples} examples, {len(self.summary.findings) + len(self._pending_signatures())} finding(s), "
                     f"{self.summary.examples / seconds if seconds else 0:.2f} examples/s")

    def _pending_signatures(self) -> set[str]:
        return {f.signature for f in self._memo.values() if f is not None} - self._known

    # -- the property ------------------------------------------------------------------------
    def _error_class(self, signature: str) -> type[FindingError]:
        if signature not in self._classes:
            self._classes[signature] = type(f"Finding{len(self._classes)}", (FindingError,), {})
        return self._classes[signature]

    def _property(self, base: int, plan: list[Mutation]) -> None:
        self.summary.drawn += 1
        finding = self._example(base, plan)
        if finding is None or finding.signature in self._known:
            return
        if self._shrink_deadline is None:
            self._shrink_deadline = time.monotonic() + self.options.shrink_seconds
            self.out(f"finding: {finding.signature}; shrinking (up to {self.options.shrink_seconds:g} s)")
        raise self._error_class(finding.signature)(finding, base, plan)

    def _round(self, seed: int, budget: int) -> list[FindingError]:
        @settings(max_examples=max(1, budget), database=None, deadline=None, suppress_health_check=list(HealthCheck),
                  phases=[Phase.generate, Phase.shrink], report_multiple_bugs=True, print_blob=False, verbosity=Verbosity.quiet)
        @hypothesis_seed(seed)
        @given(base=st.integers(min_value=0, max_value=len(self.bases) - 1), plan=plans(self.options.max_mutations))
        def prop(base: int, plan: list[Mutation]) -> None:
            self._property(base, plan)

        try:
            prop()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # a FindingError, or a group of them
            found = _leaves(exc)
            others = [e for e in _all_leaves(exc) if not isinstance(e, FindingError)]
            for other in others:
                self._fault(f"hypothesis ended with {type(other).__name__}: {other}")
            return found
        return []

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> FuzzSummary:
        self._started = self._last_progress = time.monotonic()
        if self.options.max_seconds is not None:
            self._deadline = self._started + self.options.max_seconds
        keep = hasattr(self.adapter, "keep_processes")
        if keep:
            self.adapter.keep_processes = True  # type: ignore[attr-defined]
        with asyncio.Runner() as runner:
            self._runner = runner
            try:
                self._loop()
            except KeyboardInterrupt:
                self.summary.interrupted = True
            finally:
                closer = getattr(self.adapter, "aclose", None)
                if closer is not None:
                    with contextlib.suppress(Exception):
                        runner.run(asyncio.wait_for(closer(), 10))
                self._runner = None
        self.summary.seconds = time.monotonic() - self._started
        return self.summary

    def _loop(self) -> None:
        round_seed = self.seed
        while True:
            budget = self.options.examples - self.summary.examples
            if budget <= 0 or (self._deadline is not None and time.monotonic() >= self._deadline):
                return
            self._shrink_deadline = None
            found = self._round(round_seed, budget)
            self._shrink_deadline = None
            new = [f for f in found if f.finding.signature not in self._known]
            for error in new:
                self._known.add(error.finding.signature)
                self.summary.findings.append(self._write(error))
            if not new:
                return  # hypothesis ran its examples and found nothing new
            round_seed = (round_seed * 6364136223846793005 + 1442695040888963407) % 2**64  # the next round's seed

    # -- findings ----------------------------------------------------------------------------
    def _write(self, error: FindingError) -> WrittenFinding:
        assert self._runner is not None
        base = self.bases[error.base]
        finding = error.finding
        key = plan_key(error.base, error.plan)
        data = finding_mapping(base, error.plan, kind=finding.kind, signature=finding.signature, detail=finding.detail,
                               seed=self.seed, implementation=self.summary.implementation, key=key)
        path = self.options.out_dir / base.case.area / f"fuzz-{finding.kind}-{key[:10]}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = _yaml_text(data)
        path.write_text(text, encoding="utf-8")
        loaded, problems = analyse_case_text(text, file=path, cases_root=self.options.out_dir)
        if loaded is None or problems:
            self._fault(f"the finding's case file {path} does not validate: " + "; ".join(str(p) for p in problems))
            return WrittenFinding(finding, base.case.id, error.plan, path, "INVALID", reproduced=False, exact=False)
        exact = json.dumps(loaded.server, sort_keys=True, default=repr) == json.dumps(data["server"], sort_keys=True, default=repr)
        try:
            run = self._runner.run(asyncio.wait_for(run_case_async(loaded, adapter=self.adapter), loaded.timeout + _HARNESS_MARGIN))
        except Exception:
            self._fault(f"replaying {path} broke the harness:\n{traceback.format_exc()}")
            return WrittenFinding(finding, base.case.id, error.plan, path, "HARNESS FAULT", reproduced=False, exact=exact)
        again = classify(run.status, run.error, run.events)
        outcome = judge(run).outcome.value
        written = WrittenFinding(finding, base.case.id, error.plan, path, outcome,
                                 reproduced=again is not None and again.signature == finding.signature, exact=exact)
        self.out(f"wrote {path}: {finding.signature}, {len(error.plan)} mutation(s) after shrinking; replays as {outcome}")
        return written


def _all_leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for sub in exc.exceptions for leaf in _all_leaves(sub)]
    return [exc]


def _leaves(exc: BaseException) -> list[FindingError]:
    seen: dict[str, FindingError] = {}
    for leaf in _all_leaves(exc):
        if isinstance(leaf, FindingError):
            seen.setdefault(leaf.finding.signature, leaf)
    return list(seen.values())
