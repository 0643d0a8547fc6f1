"""The I/O half against loopback servers: auth.json, the token-endpoint refresh, the clients."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

from auth_fakes import (
    ACCOUNT,
    AT1,
    AT2,
    AT3,
    RT1,
    RT2,
    SECRETS,
    FakeServer,
    Reply,
    run,
    sse_completed,
)

from harness.client.auth import AuthConfig, AuthManager, StepFailure
from harness.client.auth.recovery import ACCOUNT_MISMATCH_MESSAGE
from harness.client.auth.refresh import REFRESH_TOKEN_EXPIRED_MESSAGE
from harness.client.responses import ResponsesClient


TOKEN_PATH = "/oauth/token"
EXPIRED = {"error": {"code": "refresh_token_expired", "message": "expired"}}


def chatgpt(origin: str | None = None, **extra: Any) -> dict[str, Any]:
    auth: dict[str, Any] = {"mode": "chatgpt",
                            "tokens": {"access_token": AT1, "refresh_token": RT1,
                                       "account_id": ACCOUNT}}  # fmt: skip
    if origin is not None:
        auth["refresh_url"] = origin + TOKEN_PATH
    return {**auth, **extra}


def manager(raw: dict[str, Any], events: list[dict[str, Any]] | None = None) -> AuthManager:
    emit = events.append if events is not None else None
    return AuthManager(AuthConfig.from_mapping(raw), emit=emit)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# -- the manager -----------------------------------------------------------------------------


def test_auth_json_is_written_read_and_removed() -> None:
    auth = manager(chatgpt())
    path = auth.auth_file
    assert path is not None and path.is_file()
    stored = json.loads(path.read_text())
    assert stored["tokens"] == {"id_token": None, "access_token": AT1, "refresh_token": RT1,
                                "account_id": ACCOUNT}  # fmt: skip
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert auth.headers() == [("Authorization", f"Bearer {AT1}"), ("ChatGPT-Account-ID", ACCOUNT)]
    assert_no_secret(repr(auth) + repr(auth.request_context()))
    del auth
    gc.collect()
    assert not Path(path).exists()


def test_reload_applies_what_another_process_wrote() -> None:
    async def body() -> None:
        events: list[dict[str, Any]] = []
        auth = manager(chatgpt(tokens_on_reload={"access_token": AT2, "refresh_token": RT2,
                                                  "account_id": ACCOUNT}), events)  # fmt: skip
        attempts = auth.attempts("api_request")
        decision = await attempts.unauthorized({"x-request-id": "req_1"})
        assert decision.retry and auth.bearer_token() == AT2
        assert events[-1]["auth_recovery_phase"] == "reload" and events[-1]["state_changed"]
        context = attempts.context()
        assert context.retry.retry_after_unauthorized and context.retry.recovery_phase == "reload"

    run(body)


def test_reload_of_another_account_is_permanent_without_a_refresh() -> None:
    async def body() -> None:
        async with FakeServer({}) as server:
            auth = manager(chatgpt(server.origin, tokens_on_reload={"access_token": AT2,
                                                                    "account_id": "acct_other"}))  # fmt: skip
            decision = await auth.attempts("api_request").unauthorized(None)
            assert decision.failure == StepFailure(True, ACCOUNT_MISMATCH_MESSAGE, "other")
            assert auth.bearer_token() == AT1 and server.requests == []

    run(body)


def test_refresh_posts_the_refresh_token_and_persists_the_answer() -> None:
    async def body() -> None:
        answer = {"access_token": AT3, "refresh_token": RT2, "id_token": "idt"}
        async with FakeServer({TOKEN_PATH: [Reply(200, answer)]}) as server:
            events: list[dict[str, Any]] = []
            auth = manager(chatgpt(server.origin), events)
            attempts = auth.attempts("api_request")
            assert (await attempts.unauthorized(None)).retry  # reload, unchanged
            assert (await attempts.unauthorized(None)).retry  # refresh_token
            (seen,) = server.seen(TOKEN_PATH)
            assert seen.method == "POST" and seen.headers["content-type"] == "application/json"
            assert seen.json() == {"client_id": "app_EMoamEEZ73f0CkXaXp7hrann",
                                   "grant_type": "refresh_token", "refresh_token": RT1}  # fmt: skip
            assert auth.headers()[0] == ("Authorization", f"Bearer {AT3}")
            assert auth.auth_file is not None
            stored = json.loads(auth.auth_file.read_text())["tokens"]
            assert stored == {"id_token": "idt", "access_token": AT3, "refresh_token": RT2,
                              "account_id": ACCOUNT}  # fmt: skip
            exhausted = await attempts.unauthorized(None)
            assert not exhausted.retry and exhausted.failure is None
            phases = [(e["auth_recovery_phase"], e["auth_recovery_outcome"]) for e in events]
            assert phases == [("reload", "recovery_succeeded"), ("refresh_token", "recovery_succeeded"),
                              ("done", "recovery_not_run")]  # fmt: skip
            assert events[-1]["recovery_reason"] == "recovery_exhausted"
            assert_no_secret(json.dumps(events))

    run(body)


def test_permanent_failure_is_remembered_until_the_auth_changes() -> None:
    async def body() -> None:
        async with FakeServer({TOKEN_PATH: [Reply(401, EXPIRED)]}) as server:
            auth = manager(chatgpt(server.origin))
            for _ in range(2):
                attempts = auth.attempts("api_request")
                await attempts.unauthorized(None)
                decision = await attempts.unauthorized(None)
                assert decision.failure == StepFailure(
                    True, REFRESH_TOKEN_EXPIRED_MESSAGE, "expired"
                )
            assert len(server.seen(TOKEN_PATH)) == 1

    run(body)


def test_transient_failures_of_the_token_endpoint() -> None:
    async def body() -> None:
        replies = [Reply(500, {"error": {"message": "boom"}}), Reply(200, b"<html>")]
        async with FakeServer({TOKEN_PATH: replies}) as server:
            auth = manager(chatgpt(server.origin))
            for message in ("Failed to refresh token: 500 Internal Server Error: boom",
                            "error decoding response body"):  # fmt: skip
                attempts = auth.attempts("api_request")
                await attempts.unauthorized(None)
                assert (await attempts.unauthorized(None)).failure == StepFailure(False, message)
            origin = server.origin
        attempts = manager(chatgpt(origin)).attempts("api_request")  # server gone: refused
        await attempts.unauthorized(None)
        assert (await attempts.unauthorized(None)).failure == StepFailure(
            False, "connection failed"
        )
        unset = manager(chatgpt()).attempts("api_request")
        await unset.unauthorized(None)
        failure = (await unset.unauthorized(None)).failure
        assert (
            failure is not None and not failure.permanent and "no token endpoint" in failure.message
        )

    run(body)


def test_tags_are_off_without_an_auth_key() -> None:
    async def body() -> None:
        events: list[dict[str, Any]] = []
        auth = AuthManager(AuthConfig.from_mapping(None, api_key="sk-x"), emit=events.append)
        attempts = auth.attempts("api_request")
        attempts.observe(ok=False, status=401)
        assert not (await attempts.unauthorized(None)).retry
        assert events == []

    run(body)


# -- through the Responses client ------------------------------------------------------------


def test_responses_client_refreshes_and_retries_with_the_new_token() -> None:
    async def body() -> None:
        unauthorized = Reply(401, {"error": {"message": "expired", "code": "token_expired"}},
                             headers=[("x-request-id", "req_401"), ("cf-ray", "ray-1")])  # fmt: skip
        replies = {"/v1/responses": [unauthorized, unauthorized, sse_completed("resp_1")],
                   TOKEN_PATH: [Reply(200, {"access_token": AT3, "refresh_token": RT2})]}  # fmt: skip
        async with FakeServer(replies) as server:
            events: list[dict[str, Any]] = []
            config = {"model": "gpt-test", "stream_max_retries": 0, "retry_base_delay_ms": 1,
                      "auth": chatgpt(server.origin)}  # fmt: skip
            client = ResponsesClient(base_url=server.origin + "/v1", config=config,
                                     emit=events.append)  # fmt: skip
            try:
                await client.handle("responses.turn", {"input": "hi"})
            finally:
                await client.aclose()
        (token_request,) = server.seen(TOKEN_PATH)
        assert token_request.headers["originator"] == "codex_cli_rs"
        assert token_request.headers["user-agent"].startswith("codex_cli_rs/")
        posts = server.seen("/v1/responses")
        assert [p.headers["authorization"] for p in posts] == [
            f"Bearer {t}" for t in (AT1, AT1, AT3)
        ]
        assert {p.headers["chatgpt-account-id"] for p in posts} == {ACCOUNT}
        kinds = [e["type"] for e in events if e["type"].startswith("auth.")]
        assert kinds == ["auth.request", "auth.recovery", "auth.request", "auth.recovery",
                         "auth.request"]  # fmt: skip
        last = [e for e in events if e["type"] == "auth.request"][-1]
        assert last["auth_recovery_followup_success"] is True
        assert last["auth_recovery_followup_status"] == 200
        assert events[-1] == {"type": "turn.completed", "status": "completed"}
        assert_no_secret(json.dumps(events))

    run(body)


def test_responses_client_permanent_failure_is_fatal_unauthorized() -> None:
    async def body() -> None:
        unauthorized = Reply(401, {"error": {"message": "expired"}})
        replies = {"/v1/responses": [unauthorized, unauthorized], TOKEN_PATH: [Reply(401, EXPIRED)]}
        async with FakeServer(replies) as server:
            events: list[dict[str, Any]] = []
            config = {"model": "gpt-test", "stream_max_retries": 3, "retry_base_delay_ms": 1,
                      "auth": chatgpt(server.origin)}  # fmt: skip
            client = ResponsesClient(base_url=server.origin + "/v1", config=config,
                                     emit=events.append)  # fmt: skip
            try:
                await client.handle("responses.turn", {"input": "hi"})
            finally:
                await client.aclose()
        errors = [e for e in events if e["type"] == "error"]
        assert errors == [{"type": "error", "message": REFRESH_TOKEN_EXPIRED_MESSAGE,
                           "code": "unauthorized"}]  # fmt: skip
        assert len(server.seen("/v1/responses")) == 2
        assert not [e for e in events if e["type"] == "turn.stream_error"]

    run(body)


# -- the realtime upgrade: API keys only (codex core realtime_conversation.rs) -------------


def test_realtime_manager_uses_the_api_key_never_the_access_token() -> None:
    async def body() -> None:
        events: list[dict[str, Any]] = []
        raw = chatgpt("http://127.0.0.1:9")
        keyed = AuthManager(AuthConfig.from_mapping(raw, api_key="sk-rt"), emit=events.append,
                            endpoint="/realtime")  # fmt: skip
        assert keyed.headers() == [("Authorization", "Bearer sk-rt")]
        keyless = AuthManager(AuthConfig.from_mapping(raw), emit=events.append, endpoint="/realtime")
        assert keyless.bearer_token() is None and keyless.headers() == []
        attempts = keyed.attempts("websocket_connect")
        attempts.observe(ok=False, status=401)
        decision = await attempts.unauthorized([("x-request-id", "req_1")])
        assert not decision.retry and decision.failure is None
        assert events == []  # no feedback tags for the realtime connect
        # the Responses endpoint keeps the access token, its tags and its recovery
        responses = AuthManager(AuthConfig.from_mapping(raw, api_key="sk-rt"), emit=events.append)
        assert responses.bearer_token() == AT1
        assert ("ChatGPT-Account-ID", ACCOUNT) in responses.headers()

    run(body)


def _realtime_client(origin: str, auth: dict[str, Any], events: list[dict[str, Any]], **config: Any) -> Any:
    from harness.client.realtime import RealtimeClient

    return RealtimeClient(base_url=origin + "/v1", emit=events.append,
                          config={"version": "v2", "auth": auth, **config})  # fmt: skip


def test_realtime_start_with_chatgpt_tokens_only_is_refused_without_an_upgrade() -> None:
    async def body() -> None:
        async with FakeServer({}) as server:
            events: list[dict[str, Any]] = []
            client = _realtime_client(server.origin, chatgpt(server.origin), events)
            try:
                await client.handle("realtime.start", {"prompt": "hi", "session_id": "s-1"})
            finally:
                await client.aclose()
        assert server.requests == []
        assert events == [{"type": "realtime.error", "message": "realtime conversation requires API key auth"}]

    run(body)


def test_realtime_401_with_an_api_key_beside_chatgpt_tokens_runs_no_recovery() -> None:
    async def body() -> None:
        rejected = Reply(401, {"error": {"message": "bad key"}}, headers=[("x-request-id", "req_rt")])
        async with FakeServer({"/v1/realtime": [rejected, rejected]}) as server:
            events: list[dict[str, Any]] = []
            client = _realtime_client(server.origin, chatgpt(server.origin), events, api_key="sk-rt-key")
            try:
                await client.handle("realtime.start", {"prompt": "hi", "session_id": "s-1"})
            finally:
                await client.aclose()
        (upgrade,) = server.requests  # one upgrade, no token request, no second handshake
        assert upgrade.headers["authorization"] == "Bearer sk-rt-key"
        assert "chatgpt-account-id" not in upgrade.headers
        assert [e["type"] for e in events] == ["realtime.error"]
        assert events[0]["http_status"] == 401 and events[0]["request_id"] == "req_rt"

    run(body)
