"""``wireplay fuzz --driver CMD | --impl NAME [--cases PATTERN] [--examples N] [--seed S]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


__all__ = ["add_fuzz_parser"]


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def add_fuzz_parser(sub: Any) -> None:
    """Register ``wireplay fuzz`` on the CLI's subparsers."""
    fz = sub.add_parser("fuzz", help="a hostile server for any client: mutate cases' server scripts (hypothesis), report crashes, hangs and escaped exceptions")
    who = fz.add_mutually_exclusive_group(required=True)
    who.add_argument("--impl", default=None, metavar="NAME", help="an implementation (reference, codex-cli, openai-python, openai-node)")
    who.add_argument("--driver", default=None, metavar="CMD", help="a subprocess driver command (JSON lines)")
    fz.add_argument("--cases", action="append", metavar="PATTERN", help="base cases: ids (wildcards allowed), files or folders (default: a few covering each protocol)")
    fz.add_argument("--examples", type=int, default=100, metavar="N", help="client runs to spend (default 100; shrinking a finding may add more)")
    fz.add_argument("--seed", type=int, default=None, metavar="S", help="hypothesis seed (default: random, printed)")
    fz.add_argument("--max-seconds", type=float, default=None, metavar="S", help="stop starting examples after this long")
    fz.add_argument("--shrink-seconds", type=float, default=120.0, metavar="S", help="time to shrink the findings of one round (default 120)")
    fz.add_argument("--max-mutations", type=int, default=4, metavar="N", help="mutations per example at most (default 4)")
    fz.add_argument("-o", "--output", default="wireplay-fuzz", metavar="DIR", help="where finding cases are written, as DIR/<area>/fuzz-*.yaml")
    fz.set_defaults(func=_cmd_fuzz)


def _cmd_fuzz(args: argparse.Namespace) -> int:
    from harness.fuzz.bases import select_bases
    from harness.fuzz.engine import Fuzzer, FuzzOptions
    from harness.implementations import IMPLEMENTATIONS, UnavailableAdapter, adapter_for

    if args.impl and args.impl not in IMPLEMENTATIONS:
        _err(f"wireplay fuzz: unknown implementation '{args.impl}'; expected one of: {', '.join(IMPLEMENTATIONS)} (or --driver CMD)")
        return 2
    if args.examples < 1 or args.max_mutations < 1:
        _err("wireplay fuzz: --examples and --max-mutations must be at least 1")
        return 2
    adapter = adapter_for(impl=args.impl, driver=args.driver)
    if isinstance(adapter, UnavailableAdapter):
        _err(f"wireplay fuzz: {adapter.reason}")
        return 2
    bases, skipped = select_bases(args.cases or [], adapter)
    for why in skipped:
        _out(f"not fuzzed: {why}")
    if not bases:
        _err("wireplay fuzz: no base case this implementation can run; name some with --cases")
        return 2
    options = FuzzOptions(examples=args.examples, seed=args.seed, max_seconds=args.max_seconds, shrink_seconds=args.shrink_seconds,
                          out_dir=Path(args.output), max_mutations=args.max_mutations)
    fuzzer = Fuzzer(adapter, bases, options, out=_out)
    _out(f"fuzzing {fuzzer.summary.implementation} on {len(bases)} base case(s), {args.examples} examples, seed {fuzzer.seed}")
    summary = fuzzer.run()
    for line in summary.lines():
        _out(line)
    return 130 if summary.interrupted and not summary.findings else summary.exit_code
