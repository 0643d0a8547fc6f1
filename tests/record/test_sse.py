"""The SSE splitter: one block per event, whatever the chunking and line ends."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.record.sse import SseSplitter


STREAM = (
    b"event: response.created\ndata: {\"type\":\"response.created\"}\n\n"
    b": keepalive\n\n"
    b"data: line one\r\ndata: line two\r\n\r\n"
    b"id: 7\nretry: 100\nevent: x\ndata: {}\n\n"
)


def test_blocks_and_fields():
    blocks = SseSplitter().feed(STREAM, 1.5)
    assert [b.event for b in blocks] == ["response.created", None, None, "x"]
    assert blocks[0].data == '{"type":"response.created"}' and blocks[0].simple
    assert blocks[1].comments == ("keepalive",) and blocks[1].data is None
    assert blocks[2].data == "line one\nline two"
    assert blocks[3].other == (("id", "7"), ("retry", "100")) and not blocks[3].simple
    assert b"".join(b.raw for b in blocks) == STREAM
    assert {b.t for b in blocks} == {1.5}


def test_unfinished_block_is_the_rest():
    splitter = SseSplitter()
    assert splitter.feed(b"data: {\"a\":1}\n\ndata: {\"b\"", 0.0)[0].data == '{"a":1}'
    assert splitter.rest() == b'data: {"b"'


def test_a_carriage_return_at_a_chunk_end_waits_for_its_line_feed():
    splitter = SseSplitter()
    assert splitter.feed(b"data: x\r\n\r", 0.0) == []
    first, second = splitter.feed(b"\ndata: y\r\n\r\n", 1.0)
    assert first.raw == b"data: x\r\n\r\n" and first.t == 1.0 and first.data == "x"
    assert second.data == "y"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(STREAM)), max_size=8))
def test_chunking_does_not_change_the_blocks(cuts):
    whole = SseSplitter().feed(STREAM, 0.0)
    splitter = SseSplitter()
    got = []
    last = 0
    for cut in sorted(set(cuts)):
        got += splitter.feed(STREAM[last:cut], 0.0)
        last = cut
    got += splitter.feed(STREAM[last:], 0.0)
    assert [b.raw for b in got] == [b.raw for b in whole]
    assert splitter.rest() == b""
