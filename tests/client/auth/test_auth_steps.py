"""The auth manager's own operations (reload, refresh_token, auth(), recovery one step at a
time), the client's environment (a provider env_key) and the auth.* step events, against
loopback token endpoints. Each mirrors a codex test of core/tests/suite/auth_refresh.rs
at the seeds' revision (docs/auth.md)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from auth_fakes import ACCOUNT, AT1, AT2, AT3, RT1, RT2, SECRETS, FakeServer, Reply, run

from harness.client.auth import AuthConfig, AuthManager, StepFailure
from harness.client.auth.env import (
    EnvVarError,
    openai_api_key,
    provider_api_key,
    realtime_api_key,
)
from harness.client.auth.manager import NO_MORE_STEPS, RefreshResult
from harness.client.auth.recovery import ACCOUNT_MISMATCH_MESSAGE
from harness.client.auth.refresh import REFRESH_TOKEN_EXPIRED_MESSAGE
from harness.client.auth.steps import AuthSteps, auth_file_from_step
from harness.client.auth.tokens import AuthFile, TokenData, auth_file_text, parse_auth_file


EVENTS = json.loads((Path(__file__).resolve().parents[3] / "schemas/events/auth.schema.json").read_text())
TOKEN_PATH = "/oauth/token"
OTHER = {"access_token": AT2, "refresh_token": RT2, "account_id": "acct_other"}
SAME = {"access_token": AT2, "refresh_token": RT2, "account_id": ACCOUNT}
NEW = {"access_token": AT3, "refresh_token": "rt_new_token_value_for_tests_only"}


def chatgpt(origin: str | None = None, **extra: Any) -> dict[str, Any]:
    auth: dict[str, Any] = {"mode": "chatgpt",
                            "tokens": {"access_token": AT1, "refresh_token": RT1, "account_id": ACCOUNT}}  # fmt: skip
    if origin is not None:
        auth["refresh_url"] = origin + TOKEN_PATH
    return {**auth, **extra}


def manager(raw: dict[str, Any]) -> AuthManager:
    return AuthManager(AuthConfig.from_mapping(raw))


def stored(auth: AuthManager) -> dict[str, Any]:
    assert auth.auth_file is not None
    return json.loads(auth.auth_file.read_text())


# -- auth.json -------------------------------------------------------------------------------


def test_auth_file_round_trip_and_api_key_preference() -> None:
    stamp = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    tokens = TokenData(access_token=AT1, refresh_token=RT1, account_id=ACCOUNT)
    assert parse_auth_file(auth_file_text(AuthFile(tokens=tokens, last_refresh=stamp))) == AuthFile(tokens=tokens, last_refresh=stamp)
    text = json.dumps({"OPENAI_API_KEY": "sk-x", "tokens": {"access_token": AT1}, "last_refresh": None})
    assert parse_auth_file(text) == AuthFile(api_key="sk-x")  # codex prefers the API key
    assert parse_auth_file("{}") is None and parse_auth_file("nope") is None


def test_last_refresh_age_is_written_into_auth_json() -> None:
    auth = manager(chatgpt(last_refresh_age_days=9))
    written = dt.datetime.fromisoformat(stored(auth)["last_refresh"].replace("Z", "+00:00"))
    age = dt.datetime.now(dt.UTC) - written
    assert dt.timedelta(days=9) - dt.timedelta(minutes=1) < age < dt.timedelta(days=9, minutes=1)
    assert auth.is_stale()
    assert not manager(chatgpt(last_refresh_age_days=7.9)).is_stale()
    assert not manager(chatgpt()).is_stale()


# -- reload (AuthManager::reload) -----------------------------------------------------------


def test_reload_is_not_guarded_and_reports_change() -> None:
    auth = manager(chatgpt())
    assert auth.reload() is False
    assert auth.reload(auth_file_from_step({"tokens": OTHER})) is True
    assert auth.bearer_token() == AT2 and auth.account_id() == "acct_other"  # another account is taken


def test_reload_of_an_api_key_switches_to_api_key_auth() -> None:
    auth = manager(chatgpt())
    assert auth.reload(auth_file_from_step({"api_key": "sk-from-login"})) is True
    assert auth.headers() == [("Authorization", "Bearer sk-from-login")]
    assert auth.auth_mode == "ApiKey" and not auth.facts().chatgpt_auth


def test_reload_needs_an_auth_json() -> None:
    with pytest.raises(ValueError, match="only managed ChatGPT auth"):
        manager({"mode": "api_key", "api_key": "sk-x"}).reload()


@pytest.mark.parametrize("raw", [{}, {"tokens": SAME, "api_key": "sk"}, {"api_key": ""}, {"tokens": SAME, "x": 1},
                                 {"tokens": SAME, "last_refresh_age_days": -1}])  # fmt: skip
def test_auth_json_step_argument_is_checked(raw) -> None:
    with pytest.raises(ValueError):
        auth_file_from_step(raw)


# -- refresh_token (guarded) and refresh_token_from_authority ---------------------------------


def test_refresh_now_unchanged_posts_the_cached_refresh_token() -> None:
    async def body() -> None:
        async with FakeServer({TOKEN_PATH: [Reply(200, NEW)]}) as server:
            auth = manager(chatgpt(server.origin))
            assert await auth.refresh_token() == RefreshResult(requested=True, changed=True)
            (seen,) = server.seen(TOKEN_PATH)
            assert seen.json()["refresh_token"] == RT1
            assert auth.bearer_token() == AT3 and auth.token_requests == 1
            assert not auth.is_stale()  # last_refresh is now

    run(body)


def test_refresh_now_adopts_tokens_another_process_wrote() -> None:
    async def body() -> None:
        async with FakeServer({}) as server:
            auth = manager(chatgpt(server.origin, tokens_on_reload=SAME))
            assert await auth.refresh_token() == RefreshResult(requested=False, changed=True)
            assert server.requests == [] and auth.bearer_token() == AT2

    run(body)


def test_refresh_now_another_account_fails_for_good_without_a_request() -> None:
    async def body() -> None:
        async with FakeServer({}) as server:
            auth = manager(chatgpt(server.origin, tokens_on_reload=OTHER))
            assert await auth.refresh_token() == StepFailure(True, ACCOUNT_MISMATCH_MESSAGE, "other")
            assert server.requests == [] and auth.bearer_token() == AT1  # the cached auth stays

    run(body)


def test_earlier_revision_refreshes_with_the_cached_token_over_the_other_account() -> None:
    async def body() -> None:
        async with FakeServer({TOKEN_PATH: [Reply(200, NEW)]}) as server:
            auth = manager(chatgpt(server.origin, tokens_on_reload=OTHER, account_mismatch="refresh_cached"))
            assert await auth.refresh_token() == RefreshResult(requested=True, changed=True)
            assert server.seen(TOKEN_PATH)[0].json()["refresh_token"] == RT1
            assert stored(auth)["tokens"]["account_id"] == "acct_other"  # persisted into what was stored
            assert auth.bearer_token() == AT3 and auth.account_id() == "acct_other"

    run(body)


def test_unguarded_refresh_skips_the_reload() -> None:
    async def body() -> None:
        async with FakeServer({TOKEN_PATH: [Reply(200, NEW)]}) as server:
            auth = manager(chatgpt(server.origin, tokens_on_reload=OTHER))
            assert await auth.refresh_token(guarded=False) == RefreshResult(requested=True, changed=True)
            assert len(server.seen(TOKEN_PATH)) == 1

    run(body)


def test_refresh_persists_into_what_auth_json_holds() -> None:
    async def body() -> None:
        async with FakeServer({TOKEN_PATH: [Reply(200, {"access_token": AT3})]}) as server:
            auth = manager(chatgpt(server.origin))
            assert auth.auth_file is not None
            data = stored(auth)
            data["tokens"]["id_token"] = "idt-written-meanwhile"
            auth.auth_file.write_text(json.dumps(data))
            assert await auth.refresh_token(guarded=False) == RefreshResult(requested=True, changed=True)
            tokens = stored(auth)["tokens"]
            assert tokens["id_token"] == "idt-written-meanwhile"  # codex persist_tokens loads the stored auth
            assert tokens["access_token"] == AT3 and tokens["refresh_token"] == RT1

    run(body)


def test_refresh_failures_leave_the_auth_as_it_was() -> None:
    async def body() -> None:
        expired = Reply(401, {"error": {"code": "refresh_token_expired"}})
        async with FakeServer({TOKEN_PATH: [expired, Reply(500, {"error": "temporary-failure"})]}) as server:
            auth = manager(chatgpt(server.origin))
            before = stored(auth)
            assert await auth.refresh_token() == StepFailure(True, REFRESH_TOKEN_EXPIRED_MESSAGE, "expired")
            again = manager(chatgpt(server.origin))
            failure = await again.refresh_token()
            assert isinstance(failure, StepFailure) and not failure.permanent
            assert failure.message.startswith("Failed to refresh token: 500 Internal Server Error: ")
            assert stored(auth) == before and auth.bearer_token() == AT1

    run(body)


def test_api_key_auth_has_nothing_to_refresh() -> None:
    async def body() -> None:
        auth = manager({"mode": "api_key", "api_key": "sk-x"})
        assert await auth.refresh_token() == RefreshResult(requested=False, changed=False)
        assert await auth.auth() == (False, None)

    run(body)


# -- auth(): stale tokens ---------------------------------------------------------------------


def test_stale_tokens_are_refreshed_before_they_are_handed_out() -> None:
    async def body() -> None:
        async with FakeServer({TOKEN_PATH: [Reply(200, NEW)]}) as server:
            auth = manager(chatgpt(server.origin, last_refresh_age_days=9))
            stale, result = await auth.auth()
            assert stale and result == RefreshResult(requested=True, changed=True)
            assert auth.bearer_token() == AT3 and not auth.is_stale()
            assert await auth.auth() == (False, None)  # fresh now: no second request
            assert len(server.seen(TOKEN_PATH)) == 1

    run(body)


def test_a_failed_stale_refresh_still_hands_out_the_cached_auth() -> None:
    async def body() -> None:
        async with FakeServer({TOKEN_PATH: [Reply(503, {"error": {"message": "down"}})]}) as server:
            auth = manager(chatgpt(server.origin, last_refresh_age_days=30))
            stale, result = await auth.auth()
            assert stale and isinstance(result, StepFailure) and not result.permanent
            assert auth.bearer_token() == AT1

    run(body)


# -- the steps and their events ---------------------------------------------------------------


def _validate(event: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(EVENTS).validate(event)


def test_recovery_one_step_at_a_time() -> None:
    async def body() -> None:
        async with FakeServer({TOKEN_PATH: [Reply(200, NEW)]}) as server:
            events: list[dict[str, Any]] = []
            auth = manager(chatgpt(server.origin, tokens_on_reload=SAME))
            steps = AuthSteps(lambda: auth, events.append)
            await steps.handle("auth.recovery_start", {})
            for _ in range(3):
                await steps.handle("auth.recovery_next", {})
            assert server.seen(TOKEN_PATH)[0].json()["refresh_token"] == RT2  # the reloaded refresh token
            shapes = [(e["type"], e.get("step") or e.get("phase"), e.get("outcome"), e.get("has_next")) for e in events]
            assert shapes == [
                ("auth.recovery_state", "reload", None, True),
                ("auth.recovery_step", "reload", "recovery_succeeded", None),
                ("auth.recovery_state", "refresh_token", None, True),
                ("auth.recovery_step", "refresh_token", "recovery_succeeded", None),
                ("auth.recovery_state", "done", None, False),
                ("auth.recovery_step", "done", "recovery_failed_permanent", None),
                ("auth.recovery_state", "done", None, False),
            ]
            assert events[-2]["message"] == NO_MORE_STEPS and events[-1]["reason"] == "recovery_exhausted"
            for event in events:
                _validate(event)
            assert not any(secret in json.dumps(events) for secret in SECRETS)

    run(body)


def test_recovery_without_a_manager_and_with_an_api_key() -> None:
    async def body() -> None:
        events: list[dict[str, Any]] = []
        steps = AuthSteps(lambda: manager({"mode": "api_key", "api_key": "sk-x", "key_source": "no_auth_manager"}), events.append)
        await steps.handle("auth.recovery_next", {})
        assert events[-1] == {"type": "auth.recovery_state", "mode": "none", "step": "none", "has_next": False,
                              "reason": "auth_manager_missing"}  # fmt: skip
        events.clear()
        api = manager({"mode": "api_key", "api_key": "sk-x"})
        steps = AuthSteps(lambda: api, events.append)
        await steps.handle("auth.recovery_start", {})
        await steps.handle("auth.recovery_next", {})
        assert events[0]["reason"] == "not_chatgpt_auth" and events[1]["message"] == NO_MORE_STEPS
        for event in events:
            _validate(event)

    run(body)


def test_load_refresh_and_get_events() -> None:
    async def body() -> None:
        async with FakeServer({TOKEN_PATH: [Reply(200, NEW), Reply(401, {"error": {"code": "refresh_token_expired"}})]}) as server:
            events: list[dict[str, Any]] = []
            auth = manager(chatgpt(server.origin, last_refresh_age_days=9))
            steps = AuthSteps(lambda: auth, events.append)
            await steps.handle("auth.get", {})
            await steps.handle("auth.load", {"auth_json": {"tokens": SAME}})
            await steps.handle("auth.refresh_now", {})
            assert events == [
                {"type": "auth.refresh", "trigger": "stale", "token_request": True, "outcome": "refreshed"},
                {"type": "auth.current", "stale": True, "auth_mode": "Chatgpt", "account_id": ACCOUNT},
                {"type": "auth.loaded", "changed": True, "auth_mode": "Chatgpt", "account_id": ACCOUNT},
                {"type": "auth.refresh", "trigger": "manual", "token_request": True, "outcome": "failed_permanent",
                 "message": REFRESH_TOKEN_EXPIRED_MESSAGE, "reason": "expired"},
            ]  # fmt: skip
            for event in events:
                _validate(event)
            with pytest.raises(ValueError, match="unknown auth step"):
                await steps.handle("auth.logout", {})

    run(body)


# -- the client's environment -----------------------------------------------------------------


def test_provider_env_key_reads_the_given_environment_only(monkeypatch) -> None:
    monkeypatch.setenv("WIREPLAY_KEY", "sk-from-the-harness-process")
    assert provider_api_key({"WIREPLAY_KEY": " sk-k "}, "WIREPLAY_KEY") == " sk-k "  # untrimmed, as codex sends it
    for env in ({}, {"WIREPLAY_KEY": ""}, {"WIREPLAY_KEY": "  "}):
        with pytest.raises(EnvVarError) as info:
            provider_api_key(env, "WIREPLAY_KEY")
        assert str(info.value) == "Missing environment variable: `WIREPLAY_KEY`."
    assert str(EnvVarError("K", "Create one at x.")) == "Missing environment variable: `K`. Create one at x."
    assert provider_api_key({}, None) is None


def test_openai_api_key_and_the_realtime_order() -> None:
    assert openai_api_key({"OPENAI_API_KEY": " sk-o "}) == "sk-o" and openai_api_key({"OPENAI_API_KEY": " "}) is None
    env = {"P": "sk-p", "OPENAI_API_KEY": "sk-o"}
    assert realtime_api_key(env=env, env_key="P", bearer_token="b", auth_api_key="a") == "sk-p"
    assert realtime_api_key(env=env, bearer_token="b", auth_api_key="a") == "b"
    assert realtime_api_key(env=env, auth_api_key="a") == "a"
    assert realtime_api_key(env=env) == "sk-o"
    assert realtime_api_key(env=env, openai_provider=False) is None
    with pytest.raises(EnvVarError):
        realtime_api_key(env={}, env_key="P", bearer_token="b")


def test_auth_config_env_key() -> None:
    auth = manager({"mode": "api_key", "key_source": "provider_env", "env_key": "WIREPLAY_KEY",
                    "env": {"WIREPLAY_KEY": "sk-env"}})  # fmt: skip
    assert auth.headers() == [("Authorization", "Bearer sk-env")] and auth.key_error() is None
    assert auth.request_context().auth_mode is None  # a provider key is no CodexAuth
    missing = manager({"mode": "api_key", "env_key": "WIREPLAY_KEY"})
    assert missing.headers() == [] and missing.key_error() == "Missing environment variable: `WIREPLAY_KEY`."
    for raw in ({"env_key": "K", "key_source": "auth_json"}, {"env_key": "K", "api_key": "sk"}, {"env": {"K": 1}}):
        with pytest.raises(ValueError):
            AuthConfig.from_mapping(raw)


def test_the_refresh_honours_the_environment_proxy_only() -> None:
    async def body() -> None:
        async with FakeServer({"/oauth/token": [Reply(200, NEW)]}) as proxy:
            # A plain-HTTP token URL through an HTTP proxy: the request line is absolute-form.
            raw = chatgpt("http://token.invalid:9", env={"HTTP_PROXY": proxy.origin})
            auth = manager(raw)
            result = await auth.refresh_token(guarded=False)
            assert proxy.requests and proxy.requests[0].method == "POST"
            assert isinstance(result, StepFailure) or result.requested

    run(body)
