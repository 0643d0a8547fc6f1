"""Websocket chaining: full create, v1 append, v2 `previous_response_id` (§1.4, §10)."""

from __future__ import annotations

from typing import Any

from harness.client.responses.config import ClientConfig
from harness.client.responses.incremental import LastResponse, WsIncrementalState
from harness.client.responses.request import build_body


def msg(text: str, role: str = "user") -> dict[str, Any]:
    return {"type": "message", "role": role, "content": [{"type": "input_text", "text": text}]}


CFG = ClientConfig.from_mapping({"model": "m"})
A, B, C = msg("a"), msg("b", "assistant"), msg("c")
META = {"x-codex-turn-metadata": "{}"}


def body(items: list[Any], config: ClientConfig = CFG) -> dict[str, Any]:
    return build_body(config, items, prompt_cache_key="k")


def chained(version: str, *, second: list[Any], items_added: tuple[Any, ...] = (B,)) -> dict:
    state = WsIncrementalState()
    first = state.prepare(body([A]), version=version, client_metadata=META)
    assert first["type"] == "response.create" and first["input"] == [A]
    state.record_request(body([A]))
    state.record_response(LastResponse("resp-1", items_added))
    return state.prepare(body(second), version=version, client_metadata=META)


def test_v1_appends_only_new_items_after_completed() -> None:
    assert chained("v1", second=[A, B, C]) == {
        "type": "response.append", "input": [C], "client_metadata": META
    }  # fmt: skip


def test_v2_creates_with_previous_response_id() -> None:
    frame = chained("v2", second=[A, B, C])
    assert frame["type"] == "response.create"
    assert frame["previous_response_id"] == "resp-1"
    assert frame["input"] == [C]
    assert frame["client_metadata"] == META


def test_not_a_prefix_gives_full_create() -> None:
    frame = chained("v2", second=[C, B, A])
    assert "previous_response_id" not in frame and frame["input"] == [C, B, A]


def test_same_input_is_not_strictly_longer() -> None:
    frame = chained("v1", second=[A, B])
    assert frame["type"] == "response.create" and frame["input"] == [A, B]


def test_changed_non_input_field_gives_full_create() -> None:
    state = WsIncrementalState()
    state.record_request(body([A]))
    state.record_response(LastResponse("resp-1", ()))
    other = ClientConfig.from_mapping({"model": "m", "instructions": "new"})
    frame = state.prepare(body([A, C], other), version="v2", client_metadata=None)
    assert "previous_response_id" not in frame and frame["input"] == [A, C]


def test_no_completed_response_gives_full_create() -> None:
    state = WsIncrementalState()
    state.record_request(body([A]))
    frame = state.prepare(body([A, C]), version="v2", client_metadata=None)
    assert "previous_response_id" not in frame


def test_last_response_is_consumed_once() -> None:
    state = WsIncrementalState()
    state.record_request(body([A]))
    state.record_response(LastResponse("resp-1", ()))
    state.prepare(body([A, C]), version="v2", client_metadata=None)
    again = state.prepare(body([A, C, B]), version="v2", client_metadata=None)
    assert "previous_response_id" not in again


def test_empty_response_id_in_v2_gives_full_create() -> None:
    state = WsIncrementalState()
    state.record_request(body([A]))
    state.record_response(LastResponse("", ()))
    assert "previous_response_id" not in state.prepare(body([A, C]), version="v2",
                                                       client_metadata=None)  # fmt: skip


def test_after_prewarm_empty_baseline_chains() -> None:
    state = WsIncrementalState()
    warm = state.prepare(body([]), version="v2", client_metadata=None, generate=False)
    assert warm["generate"] is False and warm["input"] == []
    state.record_request(body([]), prewarm=True)
    state.record_response(LastResponse("resp_warm_1", ()))
    frame = state.prepare(body([A]), version="v2", client_metadata=None)
    assert frame["previous_response_id"] == "resp_warm_1" and frame["input"] == [A]
    assert "generate" not in frame


def test_empty_baseline_without_prewarm_gives_full_create() -> None:
    state = WsIncrementalState()
    state.record_request(body([]))
    state.record_response(LastResponse("r", ()))
    assert "previous_response_id" not in state.prepare(body([A]), version="v2",
                                                       client_metadata=None)  # fmt: skip


def test_reset_forgets_everything() -> None:
    state = WsIncrementalState()
    state.record_request(body([A]))
    state.record_response(LastResponse("r", ()))
    state.reset()
    assert state.prepare(body([A, C]), version="v1", client_metadata=None)["type"] == (
        "response.create"
    )
