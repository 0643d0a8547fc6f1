"""The Sans-I/O core: evidence, the recovery state machine, refresh answers, tags, config."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import jsonschema
import pytest
from websockets.datastructures import Headers as WsHeaders

from harness.client.auth import AuthConfig, TokenData
from harness.client.auth.evidence import DebugContext, debug_context, error_json_code
from harness.client.auth.recovery import (
    ACCOUNT_MISMATCH_MESSAGE,
    AuthFacts,
    RecoveryStep,
    ReloadOutcome,
    StepFailure,
    StepSuccess,
    UnauthorizedRecovery,
)
from harness.client.auth.refresh import (
    DECODE_ERROR,
    REFRESH_TOKEN_EXPIRED_MESSAGE,
    REFRESH_TOKEN_INVALIDATED_MESSAGE,
    REFRESH_TOKEN_REUSED_MESSAGE,
    REFRESH_TOKEN_UNKNOWN_MESSAGE,
    RefreshedTokens,
    classify_refresh_response,
    refresh_request_body,
)
from harness.client.auth.tags import (
    PendingRetry,
    RequestAuthContext,
    recovery_event,
    request_event,
)
from harness.client.auth.tokens import auth_json_text, parse_auth_json
from harness.client.responses.headers import Headers


ROOT = Path(__file__).resolve().parents[3]
EVENTS = json.loads((ROOT / "schemas/events/auth.schema.json").read_text())
CHATGPT = AuthFacts(chatgpt_auth=True, has_external_auth=False)


def b64(value: object) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


# -- evidence (§3.5) -----------------------------------------------------------------------


def test_request_id_prefers_x_request_id_then_oai() -> None:
    both = {"X-Request-Id": "req_1", "x-oai-request-id": "oai_1"}
    assert debug_context(both).request_id == "req_1"
    assert debug_context({"x-oai-request-id": "oai_1"}).request_id == "oai_1"
    assert debug_context({}).request_id is None


def test_every_evidence_header_from_every_header_type() -> None:
    raw = [("x-request-id", "r"), ("CF-Ray", "ray"), ("x-openai-authorization-error", "bad"),
           ("x-error-json", b64({"error": {"code": "token_expired"}}))]  # fmt: skip
    expected = DebugContext("r", "ray", "bad", "token_expired")
    assert debug_context(raw) == expected
    assert debug_context(Headers(tuple(raw))) == expected
    assert debug_context(WsHeaders(raw)) == expected
    assert debug_context(None) == DebugContext()


@pytest.mark.parametrize(
    ("encoded", "code"),
    [(b64({"error": {"code": "x"}}), "x"), (b64({"error": {"message": "m"}}), None),
     (b64({"error": "s"}), None), (b64([1]), None), ("not-base64!", None),
     (base64.b64encode(b"{not json").decode(), None), (b64({"error": {"code": 5}}), None),
     (None, None)],
)  # fmt: skip
def test_error_json_code(encoded: str | None, code: str | None) -> None:
    assert error_json_code(encoded) == code


# -- the recovery machine (§5.1) -------------------------------------------------------------


def test_managed_walks_reload_refresh_done() -> None:
    rec = UnauthorizedRecovery.start(external=False, account_id="a")
    assert (rec.mode_name, rec.step_name, rec.has_next(CHATGPT)) == ("managed", "reload", True)
    assert rec.after_reload(ReloadOutcome.NO_CHANGE) == StepSuccess(state_changed=False)
    assert rec.step is RecoveryStep.REFRESH_TOKEN
    assert rec.after_refresh(None) == StepSuccess(state_changed=True)
    assert rec.step_name == "done"
    assert not rec.has_next(CHATGPT) and rec.unavailable_reason(CHATGPT) == "recovery_exhausted"


def test_reload_changed_reports_state_change() -> None:
    rec = UnauthorizedRecovery.start(external=False, account_id="a")
    assert rec.after_reload(ReloadOutcome.CHANGED) == StepSuccess(state_changed=True)


def test_reload_skipped_is_permanent_and_ends_recovery() -> None:
    rec = UnauthorizedRecovery.start(external=False, account_id="a")
    outcome = rec.after_reload(ReloadOutcome.SKIPPED)
    assert outcome == StepFailure(permanent=True, message=ACCOUNT_MISMATCH_MESSAGE, reason="other")
    assert rec.step is RecoveryStep.DONE


def test_failed_refresh_keeps_the_step() -> None:
    rec = UnauthorizedRecovery.start(external=False, account_id="a")
    rec.after_reload(ReloadOutcome.NO_CHANGE)
    failure = StepFailure(permanent=False, message="x")
    assert rec.after_refresh(failure) is failure
    assert rec.step is RecoveryStep.REFRESH_TOKEN


def test_external_has_one_step() -> None:
    rec = UnauthorizedRecovery.start(external=True, account_id="a")
    facts = AuthFacts(chatgpt_auth=True, has_external_auth=True)
    assert (rec.mode_name, rec.step_name, rec.has_next(facts)) == (
        "external",
        "external_refresh",
        True,
    )
    rec.after_refresh(None)
    assert rec.unavailable_reason(facts) == "recovery_exhausted"


@pytest.mark.parametrize(
    ("external", "facts", "reason"),
    [(False, AuthFacts(chatgpt_auth=False, has_external_auth=False), "not_chatgpt_auth"),
     (True, AuthFacts(chatgpt_auth=True, has_external_auth=False), "no_external_auth"),
     (True, AuthFacts(chatgpt_auth=False, has_external_auth=True), "not_chatgpt_auth"),
     (False, CHATGPT, "ready")],
)  # fmt: skip
def test_unavailable_reasons(external: bool, facts: AuthFacts, reason: str) -> None:
    rec = UnauthorizedRecovery.start(external=external, account_id="a")
    assert rec.unavailable_reason(facts) == reason
    assert rec.has_next(facts) is (reason == "ready")


# -- the refresh exchange (§5.1, auth_refresh.rs) --------------------------------------------


def test_refresh_request_body_is_codex_refresh_request() -> None:
    body = refresh_request_body("rt_x")
    assert body == (b'{"client_id":"app_EMoamEEZ73f0CkXaXp7hrann","grant_type":"refresh_token",'
                    b'"refresh_token":"rt_x"}')  # fmt: skip


def test_refresh_success_and_partial_answers() -> None:
    full = classify_refresh_response(200, json.dumps({"access_token": "a", "refresh_token": "r",
                                                      "id_token": "i"}))  # fmt: skip
    assert full == RefreshedTokens(access_token="a", refresh_token="r", id_token="i")
    assert classify_refresh_response(200, b'{"access_token": "a"}') == RefreshedTokens("a")
    assert "a" not in repr(full)


@pytest.mark.parametrize("body", [b"not json", b"[1]", b'{"access_token": 5}'])
def test_refresh_undecodable_success_is_transient(body: bytes) -> None:
    assert classify_refresh_response(200, body) == StepFailure(
        permanent=False, message=DECODE_ERROR
    )


@pytest.mark.parametrize(
    ("body", "reason", "message"),
    [('{"error":{"code":"refresh_token_expired"}}', "expired", REFRESH_TOKEN_EXPIRED_MESSAGE),
     ('{"error":{"code":"REFRESH_TOKEN_REUSED"}}', "exhausted", REFRESH_TOKEN_REUSED_MESSAGE),
     ('{"error":"refresh_token_invalidated"}', "revoked", REFRESH_TOKEN_INVALIDATED_MESSAGE),
     ('{"code":"refresh_token_expired"}', "expired", REFRESH_TOKEN_EXPIRED_MESSAGE),
     ('{"error":{"code":"something_else"}}', "other", REFRESH_TOKEN_UNKNOWN_MESSAGE),
     ("", "other", REFRESH_TOKEN_UNKNOWN_MESSAGE)],
)  # fmt: skip
def test_refresh_401_is_permanent(body: str, reason: str, message: str) -> None:
    assert classify_refresh_response(401, body) == StepFailure(True, message, reason)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [(500, '{"error":{"message":"boom"}}', "Failed to refresh token: 500 Internal Server Error: boom"),
     (503, "upstream down", "Failed to refresh token: 503 Service Unavailable: upstream down"),
     (502, "", "Failed to refresh token: 502 Bad Gateway: Unknown error"),
     (400, '{"error":"invalid_grant"}', 'Failed to refresh token: 400 Bad Request: {"error":"invalid_grant"}'),
     (403, '{"error":{"code":"refresh_token_expired"}}',
      'Failed to refresh token: 403 Forbidden: {"error":{"code":"refresh_token_expired"}}')],
)  # fmt: skip
def test_refresh_other_statuses_are_transient(status: int, body: str, message: str) -> None:
    assert classify_refresh_response(status, body) == StepFailure(False, message)


# -- tokens and auth.json --------------------------------------------------------------------


def test_auth_json_round_trip_and_hidden_repr() -> None:
    tokens = TokenData(access_token="secret-a", refresh_token="secret-r", id_token="secret-i",
                       account_id="acct")  # fmt: skip
    text = auth_json_text(tokens, last_refresh="2026-01-01T00:00:00Z")
    assert json.loads(text)["OPENAI_API_KEY"] is None
    assert parse_auth_json(text) == tokens
    assert "secret" not in repr(tokens) and "acct" in repr(tokens)
    assert parse_auth_json("{}") is None and parse_auth_json("nope") is None


def test_refreshed_fields_replace_only_what_came_back() -> None:
    tokens = TokenData(access_token="a", refresh_token="r", id_token="i", account_id="acct")
    new = tokens.with_refreshed(access_token="a2", refresh_token=None, id_token=None)
    assert new == TokenData(access_token="a2", refresh_token="r", id_token="i", account_id="acct")


# -- tags (§5.2) -----------------------------------------------------------------------------


def _validate(event: dict[str, object]) -> None:
    validator = jsonschema.Draft202012Validator(EVENTS)
    assert list(validator.iter_errors(event)) == []


def test_request_tags_first_attempt() -> None:
    context = RequestAuthContext(auth_mode="Chatgpt", header_attached=True,
                                 header_name="authorization")  # fmt: skip
    event = request_event(endpoint="/responses", request_kind="api_request", context=context,
                          ok=False, status=401, debug=DebugContext("req", "ray", None, None))  # fmt: skip
    assert event == {
        "type": "auth.request", "request_kind": "api_request", "endpoint": "/responses",
        "auth_header_attached": True, "auth_header_name": "authorization",
        "auth_mode": "Chatgpt", "auth_retry_after_unauthorized": False,
        "auth_recovery_mode": "", "auth_recovery_phase": "", "auth_request_id": "req",
        "auth_cf_ray": "ray", "auth_error": "", "auth_error_code": "",
    }  # fmt: skip
    _validate(event)


def test_request_tags_follow_up_and_reuse() -> None:
    context = RequestAuthContext(auth_mode=None, header_attached=False, header_name=None,
                                 retry=PendingRetry.after("managed", "refresh_token"))  # fmt: skip
    ok = request_event(endpoint="/responses", request_kind="websocket_connect", context=context,
                       ok=True, status=None, debug=DebugContext(), connection_reused=False)  # fmt: skip
    assert ok["auth_recovery_followup_success"] is True
    assert "auth_recovery_followup_status" not in ok  # a successful handshake has no status
    assert ok["auth_connection_reused"] is False and ok["auth_header_name"] == ""
    assert (ok["auth_recovery_mode"], ok["auth_recovery_phase"]) == ("managed", "refresh_token")
    bad = request_event(endpoint="/realtime", request_kind="websocket_connect", context=context,
                        ok=False, status=401, debug=DebugContext())  # fmt: skip
    assert bad["auth_recovery_followup_success"] is False
    assert bad["auth_recovery_followup_status"] == 401
    for event in (ok, bad):
        _validate(event)
    with pytest.raises(ValueError, match="unknown request kind"):
        request_event(endpoint="/responses", request_kind="grpc", context=context, ok=True,
                      status=None, debug=DebugContext())  # fmt: skip


def test_recovery_tags_keep_the_401_evidence() -> None:
    event = recovery_event(mode="managed", phase="done", outcome="recovery_not_run",
                           debug=DebugContext("r", None, "e", "c"), reason="recovery_exhausted")  # fmt: skip
    assert event == {
        "type": "auth.recovery", "auth_recovery_mode": "managed", "auth_recovery_phase": "done",
        "auth_recovery_outcome": "recovery_not_run", "auth_401_request_id": "r",
        "auth_401_cf_ray": "", "auth_401_error": "e", "auth_401_error_code": "c",
        "recovery_reason": "recovery_exhausted",
    }  # fmt: skip
    _validate(event)
    _validate(recovery_event(mode="none", phase="recovery_not_run", outcome="skipped",
                             debug=DebugContext(), reason="byok_auth_has_no_token_refresh"))  # fmt: skip


def test_events_schema_shape() -> None:
    jsonschema.Draft202012Validator.check_schema(EVENTS)
    listed = [ref["$ref"].removeprefix("#/$defs/") for ref in EVENTS["oneOf"]]
    assert listed == list(EVENTS["$defs"]) == ["auth.request", "auth.recovery", "auth.loaded", "auth.refresh",
                                               "auth.current", "auth.recovery_state", "auth.recovery_step",
                                               "tls.probe"]  # fmt: skip
    for name, definition in EVENTS["$defs"].items():
        assert definition["properties"]["type"] == {"const": name}
        assert definition["additionalProperties"] is False and definition["description"]


# -- config ----------------------------------------------------------------------------------


def test_no_auth_key_is_the_area_key_without_tags() -> None:
    assert AuthConfig.from_mapping(None, api_key="sk-x") == AuthConfig(api_key="sk-x", tags=False)
    assert AuthConfig.from_mapping({}, api_key="sk-x").tags is True


def test_chatgpt_and_external_configs() -> None:
    cfg = AuthConfig.from_mapping({"mode": "chatgpt", "tokens": {"access_token": "a",
                                   "refresh_token": "r", "account_id": "acct"},
                                   "refresh_url": "http://x/oauth/token"})  # fmt: skip
    assert cfg.tokens == TokenData(access_token="a", refresh_token="r", account_id="acct")
    ext = AuthConfig.from_mapping({"mode": "external", "tokens": {"access_token": "a"},
                                   "refresh": {"error": "nope"}})  # fmt: skip
    assert ext.refresh is not None and ext.refresh.error == "nope"


@pytest.mark.parametrize(
    "raw",
    [{"mode": "oauth"}, {"mode": "chatgpt"}, {"mode": "chatgpt", "tokens": {"refresh_token": "r"}},
     {"mode": "api_key", "tokens": {"access_token": "a"}}, {"tags": "yes"},
     {"key_source": "env"}, {"mode": "external", "tokens": {"access_token": "a"},
                             "refresh": {"tokens": {"access_token": "b"}, "error": "x"}},
     {"mode": "chatgpt", "tokens": {"access_token": "super-secret", "extra": 1}}, "text"],
)  # fmt: skip
def test_bad_configs_are_rejected_without_echoing_values(raw: object) -> None:
    with pytest.raises(ValueError) as err:
        AuthConfig.from_mapping(raw)  # type: ignore[arg-type]
    assert "super-secret" not in str(err.value)


@pytest.mark.parametrize("area", ["responses", "realtime"])
def test_config_schemas_carry_the_same_auth_schema(area: str) -> None:
    from harness.case.loader import SCHEMA_BASE, schema_registry

    schemas = {name: json.loads((ROOT / f"schemas/config/{name}.schema.json").read_text())
               for name in ("responses", "realtime")}  # fmt: skip
    assert schemas["responses"]["properties"]["auth"]["$ref"] == schemas["realtime"]["properties"]["auth"]["$ref"] == "auth.schema.json"
    registry = schema_registry()
    validator = jsonschema.Draft202012Validator(registry.contents(f"{SCHEMA_BASE}config/{area}.schema.json"), registry=registry)
    good = [{"mode": "api_key", "api_key": "sk", "key_source": "provider_byok", "tags": False},
            {"mode": "chatgpt", "tokens": {"access_token": "a", "refresh_token": "r",
             "account_id": "x"}, "tokens_on_reload": {"access_token": "b"},
             "refresh_url": "http://h/oauth/token", "client_id": "app_x"},
            {"mode": "external", "tokens": {"access_token": "a", "account_id": "x"},
             "refresh": {"tokens": {"access_token": "b", "account_id": "x"}}}]  # fmt: skip
    for auth in good:
        assert list(validator.iter_errors({"auth": auth})) == []
        AuthConfig.from_mapping(auth)
    bad = [{"mode": "chatgpt"}, {"mode": "api_key", "refresh_url": "u"},
           {"mode": "external", "tokens": {"access_token": "a"}, "refresh_url": "u"},
           {"mode": "chatgpt", "tokens": {}}, {"key_source": "x"}]  # fmt: skip
    for auth in bad:
        assert list(validator.iter_errors({"auth": auth})), auth
        with pytest.raises(ValueError):
            AuthConfig.from_mapping(auth)
