"""``wireplay fuzz``: a hostile server for any client (docs/fuzz.md).

- :mod:`harness.fuzz.mutate` — mutations of a case's server script, as data, applied purely;
- :mod:`harness.fuzz.strategies` — hypothesis strategies for mutation plans;
- :mod:`harness.fuzz.case` — a base case made fuzzable, one example's in-memory case, a finding's case file;
- :mod:`harness.fuzz.classify` — crash, hang, escaped exception: what a finding is;
- :mod:`harness.fuzz.bases` — which cases a run starts from;
- :mod:`harness.fuzz.engine` — the loop: examples, shrinking, findings written and replayed;
- :mod:`harness.fuzz.cli` — the command.
"""
