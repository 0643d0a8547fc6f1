"""Matcher semantics: literals, partial objects, arrays, and the five named matchers."""

from __future__ import annotations

import pytest

from fake_server.matchers import check_matcher_syntax, match


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ({"a": 1}, {"a": 1, "b": 2}),  # objects match partially
        ({"a": {"b": [1, 2]}}, {"a": {"b": [1, 2], "c": 0}}),
        ({"a": {"$any": "string"}}, {"a": "x"}),
        ({"a": {"$any": "value"}}, {"a": None}),
        ({"a": {"$any": "integer"}}, {"a": 3}),
        ({"a": {"$any": "number"}}, {"a": 3.5}),
        ({"a": {"$regex": "Bearer .+"}}, {"a": "Bearer k"}),
        ({"a": {"$absent": True}}, {"b": 1}),
        ({"a": {"$any_of": [1, {"$regex": "x+"}]}}, {"a": "xxx"}),
        ({"$exact": {"a": 1}}, {"a": 1}),
        (1, 1.0),
        ([{"t": 1}], [{"t": 1, "u": 2}]),
    ],
)
def test_matches(expected, actual):
    assert match(expected, actual) is None


@pytest.mark.parametrize(
    ("expected", "actual", "path", "snippet"),
    [
        ({"a": 1}, {"a": 2}, "a", "expected 1, got 2"),
        ({"a": 1}, {}, "a", "got absent"),
        ({"a": {"$absent": True}}, {"a": 0}, "a", "expected absent"),
        ({"a": {"$any": "string"}}, {"a": 1}, "a", "expected any string"),
        ({"a": {"$any": "integer"}}, {"a": True}, "a", "expected any integer"),
        ({"a": {"$regex": "ab"}}, {"a": "abc"}, "a", "matching /ab/"),  # full match, not search
        ({"a": {"$any_of": [1, 2]}}, {"a": 3}, "a", "one of 1, 2"),
        ({"$exact": {"a": 1}}, {"a": 1, "b": 2}, "", "extra key(s) b"),
        ([1, 2], [1], "", "2 item(s)"),
        ({"x": [{"t": 1}]}, {"x": [{"t": 2}]}, "x[0].t", "expected 1"),
        (True, 1, "", "expected true"),
    ],
)
def test_mismatches_name_path_and_reason(expected, actual, path, snippet):
    found = match(expected, actual)
    assert found is not None
    assert found.path == path
    assert snippet in str(found)


def test_syntax_errors_are_reported_with_paths():
    problems = check_matcher_syntax({"h": {"$regx": "a"}, "b": {"$any": "str"}, "c": {"$regex": "("}, "d": {"$any_of": []}})
    text = "\n".join(problems)
    assert "h: unknown matcher ['$regx']" in text
    assert "b.$any: expected one of" in text
    assert "c.$regex: invalid regular expression" in text
    assert "d.$any_of: expected a non-empty list" in text
    assert check_matcher_syntax({"a": {"$absent": True}, "b": [{"$any": "value"}]}) == []


def test_prefix_and_substring():
    assert match({"$prefix": "failed to configure websocket TLS: "}, "failed to configure websocket TLS: bad CA") is None
    assert str(match({"$prefix": "x"}, "yx")) == '<root>: expected a string starting with "x", got "yx"'
    assert match({"$contains": "verify failed"}, "certificate verify failed: unknown issuer") is None
    assert str(match({"$contains": "boom"}, 3)) == '<root>: expected a string containing "boom", got 3'


def test_contains_items_in_order_with_others_around():
    seen = [{"role": "developer"}, {"role": "user", "content": "env"}, {"role": "user", "content": "hi"}, {"type": "x"}]
    assert match({"$contains": [{"role": "user", "content": "hi"}]}, seen) is None
    assert match({"$contains": [{"role": "developer"}, {"content": "hi"}]}, seen) is None
    miss = match({"$contains": [{"content": "hi"}, {"role": "developer"}]}, seen)
    assert str(miss) == '[$contains 1]: expected an item matching {"role": "developer"} after the earlier ones, got [{"type": "x"}]'
    assert str(match({"$contains": [{"a": 1}]}, {"a": 1})) == '<root>: expected an array, got {"a": 1}'


def test_new_matchers_are_syntax_checked():
    assert check_matcher_syntax({"$prefix": 3}) == ["$prefix: expected a string, got 3"]
    assert check_matcher_syntax({"$contains": []}) == ["$contains: expected a string or a non-empty list, got []"]
    assert check_matcher_syntax({"$contains": [{"$regex": "("}]})[0].startswith("$contains[0].$regex: invalid regular expression")
