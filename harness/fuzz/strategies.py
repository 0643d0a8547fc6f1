"""Hypothesis strategies for mutation plans (pure: they only build :class:`Mutation` data).

Indexes are small non-negative integers taken modulo what the script has, so plans do
not depend on the base case and shrink towards the first slot, the first cut, the
first field. JSON values cover every JSON type, nested, with text that may hold any
code point (lone surrogates included: they reach the wire through ``\\u`` escapes).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from harness.fuzz.mutate import Mutation


__all__ = ["HUGE_MAX", "HUGE_MIN", "json_values", "mutations", "plans"]

HUGE_MIN = 10_000
HUGE_MAX = 1_000_000
_INDEX = st.integers(min_value=0, max_value=63)

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)

_PREFIXES = ("response.", "response.output_item.", "conversation.", "conversation.item.", "session.", "input_audio_buffer.",
             "codex.", "rate_limits.", "error.", "")
type_names: st.SearchStrategy[str] = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(_PREFIXES),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_.", min_size=1, max_size=24),
)
_FIELDS = st.sampled_from(["delta", "item", "response", "session", "error", "id", "item_id", "call_id", "name", "arguments",
                           "message", "status", "output", "usage", "event_id", "sequence_number", "audio", "transcript"])


def mutations() -> st.SearchStrategy[Mutation]:
    """One mutation of any operation."""
    return st.one_of(
        st.builds(Mutation, op=st.just("unknown_type"), at=_INDEX,
                  value=st.tuples(type_names, st.dictionaries(_FIELDS, json_values, max_size=3))),
        st.builds(Mutation, op=st.just("duplicate"), at=_INDEX, arg=st.integers(0, 3)),
        st.builds(Mutation, op=st.just("reorder"), at=_INDEX, arg=_INDEX),
        st.builds(Mutation, op=st.just("truncate"), at=_INDEX, arg=st.integers(0, 4096)),
        st.builds(Mutation, op=st.just("wrong_type"), at=_INDEX, arg=st.integers(0, 255), value=json_values),
        st.builds(Mutation, op=st.just("arbitrary"), at=_INDEX, value=json_values),
        st.builds(Mutation, op=st.just("huge_string"), at=_INDEX, arg=st.integers(0, 255), value=st.integers(HUGE_MIN, HUGE_MAX)),
        st.builds(Mutation, op=st.just("drop"), at=_INDEX, arg=st.integers(0, 1)),
        st.builds(Mutation, op=st.just("close"), at=_INDEX, arg=st.integers(0, 12)),
        st.builds(Mutation, op=st.just("stall"), at=_INDEX),
    )


def plans(max_size: int = 4) -> st.SearchStrategy[list[Mutation]]:
    """A plan: 0 to ``max_size`` mutations, applied in order (0: the base case as it is)."""
    return st.lists(mutations(), min_size=0, max_size=max_size)
