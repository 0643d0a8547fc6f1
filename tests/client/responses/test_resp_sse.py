"""WHATWG event-stream framing, table-driven, including every chunk split."""

from __future__ import annotations

import pytest

from harness.client.responses.sse import SseEvent, SseParser


def parse(*chunks: bytes, close: bool = True) -> list[SseEvent]:
    parser = SseParser()
    out: list[SseEvent] = []
    for chunk in chunks:
        out += parser.feed(chunk)
    if close:
        out += parser.close()
    return out


CASES = [
    ("lf", b"event: a\ndata: {}\n\n", [SseEvent("{}", "a")]),
    ("crlf", b"event: a\r\ndata: x\r\n\r\n", [SseEvent("x", "a")]),
    ("cr", b"data: x\r\rdata: y\r\r", [SseEvent("x"), SseEvent("y")]),
    ("no space after colon", b"data:x\n\n", [SseEvent("x")]),
    ("only one leading space stripped", b"data:  x\n\n", [SseEvent(" x")]),
    ("multi-line data", b"data: a\ndata: b\n\n", [SseEvent("a\nb")]),
    ("comment ignored", b": keepalive\ndata: x\n\n", [SseEvent("x")]),
    ("event without data is not dispatched", b"event: response.created\n\n", []),
    ("field without colon", b"data\n\n", [SseEvent("")]),
    ("unknown field ignored", b"foo: bar\ndata: x\n\n", [SseEvent("x")]),
    ("id kept", b"id: 7\ndata: x\n\n", [SseEvent("x", id="7")]),
    ("id with NUL ignored", b"id: a\x00b\ndata: x\n\n", [SseEvent("x")]),
    ("bom stripped", b"\xef\xbb\xbfdata: x\n\n", [SseEvent("x")]),
    ("unterminated event discarded at eof", b"data: x\n", []),
    ("event name resets per event", b"event: a\ndata: 1\n\ndata: 2\n\n",
     [SseEvent("1", "a"), SseEvent("2")]),
    ("empty data line still dispatches", b"data:\n\n", [SseEvent("")]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "raw", "expected"), CASES, ids=[c[0] for c in CASES])
def test_whole_body(name: str, raw: bytes, expected: list[SseEvent]) -> None:
    assert parse(raw) == expected


@pytest.mark.parametrize(("name", "raw", "expected"), CASES, ids=[c[0] for c in CASES])
def test_every_two_way_split(name: str, raw: bytes, expected: list[SseEvent]) -> None:
    for cut in range(len(raw) + 1):
        assert parse(raw[:cut], raw[cut:]) == expected, cut


def test_byte_by_byte_with_multibyte_utf8() -> None:
    raw = "data: héllo ✓\r\n\r\n".encode()
    assert parse(*(raw[i : i + 1] for i in range(len(raw)))) == [SseEvent("héllo ✓")]


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    assert parse(b"data: a\r", b"\ndata: b\r", b"\n\r\n") == [SseEvent("a\nb")]


def test_retry_field_parsed() -> None:
    parser = SseParser()
    parser.feed(b"retry: 1500\n\nretry: x\n\n")
    assert parser.retry_ms == 1500


def test_events_returned_as_soon_as_blank_line_arrives() -> None:
    parser = SseParser()
    assert parser.feed(b"data: one\n") == []
    assert parser.feed(b"\n") == [SseEvent("one")]
