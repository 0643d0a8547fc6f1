"""Error classification and display strings (§2.4, §4.2), table-driven."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from harness.client.responses.errors import ApiError, TurnError, map_api_error, status_text
from harness.client.responses.headers import Headers
from harness.client.responses.models import RateLimitSnapshot, RateLimitWindow
from harness.client.responses.usage_limit import (
    UsageLimit,
    format_retry_timestamp,
    usage_limit_message,
)


NOW = dt.datetime(2024, 1, 1, 9, 0, tzinfo=dt.UTC).timestamp()
URL = "http://127.0.0.1:9/v1/responses"


def http(status: int, body: object = "", **headers: str) -> ApiError:
    text = body if isinstance(body, str) else json.dumps(body)
    pairs = tuple((k.replace("_", "-"), v) for k, v in headers.items())
    return ApiError(kind="http", status=status, url=URL, body=text, headers=Headers(pairs))


def mapped(err: ApiError) -> TurnError:
    return map_api_error(err, now_s=NOW)


SIMPLE = [
    (ApiError(kind="stream", message="idle timeout waiting for SSE"),
     "stream disconnected before completion: idle timeout waiting for SSE", True,
     "response_stream_disconnected"),
    (ApiError(kind="retryable", message="The model failed."),
     "stream disconnected before completion: The model failed.", True,
     "response_stream_disconnected"),
    (ApiError(kind="network", message="error sending request for url (x)"),
     "stream disconnected before completion: error sending request for url (x)", True,
     "response_stream_disconnected"),
    (ApiError(kind="timeout"), "request timed out", True, "other"),
    (ApiError(kind="context_window_exceeded"),
     "Codex ran out of room in the model's context window. Start a new thread or clear "
     "earlier history before retrying.", False, "context_window_exceeded"),
    (ApiError(kind="quota_exceeded"), "Quota exceeded. Check your plan and billing details.",
     False, "usage_limit_exceeded"),
    (ApiError(kind="usage_not_included"),
     "To use Codex with your ChatGPT plan, upgrade to Plus: https://chatgpt.com/explore/plus.",
     False, "usage_limit_exceeded"),
    (ApiError(kind="server_overloaded"),
     "Selected model is at capacity. Please try a different model.", False, "server_overloaded"),
    (ApiError(kind="cyber_policy"),
     "This request has been flagged for possible cybersecurity risk.", False, "cyber_policy"),
    (http(500, "boom"),
     "We're currently experiencing high demand, which may cause temporary errors.", True,
     "internal_server_error"),
    (http(503, {"error": {"code": "slow_down"}}),
     "Selected model is at capacity. Please try a different model.", False, "server_overloaded"),
    (http(400, '{"error": {"message": "Invalid value for \'input\'."}}'),
     '{"error": {"message": "Invalid value for \'input\'."}}', False, "other"),
    (http(400, {"error": {"code": "cyber_policy", "message": "  "}}),
     "This request has been flagged for possible cybersecurity risk.", False, "cyber_policy"),
    (http(400, "The image data you provided does not represent a valid image"),
     "Image poisoning", False, "other"),
    (http(429, {"error": {"type": "rate_limit_exceeded"}}),
     "exceeded retry limit, last status: 429 Too Many Requests", False,
     "response_too_many_failed_attempts"),
    (http(429, {"error": {"type": "x"}}, x_request_id="req_1"),
     "exceeded retry limit, last status: 429 Too Many Requests, request id: req_1", False,
     "response_too_many_failed_attempts"),
    (http(429, "", cf_ray="ray-1"),
     "exceeded retry limit, last status: 429 Too Many Requests, request id: ray-1", False,
     "response_too_many_failed_attempts"),
    (http(429, {"error": {"type": "insufficient_quota"}}),
     "Quota exceeded. Check your plan and billing details.", False, "usage_limit_exceeded"),
    (http(429, {"error": {"type": "usage_not_included"}}),
     "To use Codex with your ChatGPT plan, upgrade to Plus: https://chatgpt.com/explore/plus.",
     False, "usage_limit_exceeded"),
    (http(401, {"error": {"message": "Incorrect API key provided: sk-fake."}},
          x_request_id="req_abc123", cf_ray="8f00ba11-SJC"),
     "unexpected status 401 Unauthorized: Incorrect API key provided: sk-fake., url: "
     f"{URL}, cf-ray: 8f00ba11-SJC, request id: req_abc123", True, "other"),
    (http(404, "  plain body  ", x_oai_request_id="oai-1"),
     f"unexpected status 404 Not Found: plain body, url: {URL}, request id: oai-1", True, "other"),
    (http(502, ""), f"unexpected status 502 Bad Gateway: Unknown error, url: {URL}", True, "other"),
    (http(413, {"error": {"message": "too big"}}),
     f"unexpected status 413 Payload Too Large: too big, url: {URL}", True, "other"),
    (http(403, "Cloudflare: you have been blocked"),
     "Access blocked by Cloudflare. This usually happens when connecting from a restricted "
     f"region (status 403 Forbidden), url: {URL}", True, "other"),
]  # fmt: skip


@pytest.mark.parametrize(("err", "message", "retryable", "code"), SIMPLE)
def test_classification(err: ApiError, message: str, retryable: bool, code: str) -> None:
    result = mapped(err)
    assert (result.message, result.retryable, result.code) == (message, retryable, code)


def test_retryable_keeps_delay() -> None:
    assert mapped(ApiError(kind="retryable", message="m", delay_s=1.5)).delay_s == 1.5


def test_long_body_truncated_to_1000_bytes() -> None:
    message = mapped(http(418, "x" * 1500)).message
    assert message == f"unexpected status 418 I'm a teapot: {'x' * 1000}..., url: {URL}"


def test_identity_headers_in_display() -> None:
    error_json = base64.b64encode(json.dumps({"error": {"code": "token_expired"}}).encode())
    err = http(401, "", x_openai_authorization_error="bad token", x_error_json=error_json.decode())
    assert mapped(err).message == (
        f"unexpected status 401 Unauthorized: Unknown error, url: {URL}, auth error: bad token, "
        "auth error code: token_expired"
    )


def test_wrapped_ws_error_has_no_url() -> None:
    err = ApiError(kind="http", status=404, body='{"error":{"message":"nope"}}')
    assert mapped(err).message == "unexpected status 404 Not Found: nope"


def test_usage_limit_from_429_carries_active_family_snapshot() -> None:
    err = http(
        429,
        {"error": {"type": "usage_limit_reached", "plan_type": "pro"}},
        x_codex_active_limit="codex_other",
        x_codex_other_primary_used_percent="100.0",
        x_codex_other_primary_window_minutes="15",
    )
    result = mapped(err)
    assert result.kind == "usage_limit_reached" and not result.retryable
    assert result.rate_limits == RateLimitSnapshot(
        limit_id="codex_other", primary=RateLimitWindow(used_percent=100.0, window_minutes=15)
    )
    assert result.message == (
        "You've hit your usage limit. Visit https://chatgpt.com/codex/settings/usage to "
        "purchase more credits or try again later."
    )


def test_status_text() -> None:
    assert status_text(401) == "401 Unauthorized"
    assert status_text(599) == "599 <unknown status code>"


RESET_SAME_DAY = int(dt.datetime(2024, 1, 1, 15, 7, tzinfo=dt.UTC).timestamp())
RESET_LATER = int(dt.datetime(2024, 1, 2, 0, 5, tzinfo=dt.UTC).timestamp())

USAGE = [
    (UsageLimit(), "You've hit your usage limit. Try again later."),
    (UsageLimit(resets_at=RESET_SAME_DAY), "You've hit your usage limit. Try again at 3:07 PM."),
    (UsageLimit(resets_at=RESET_LATER),
     "You've hit your usage limit. Try again at Jan 2nd, 2024 12:05 AM."),
    (UsageLimit(plan_type="plus"),
     "You've hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), visit "
     "https://chatgpt.com/codex/settings/usage to purchase more credits or try again later."),
    (UsageLimit(plan_type="team"), "You've hit your usage limit. To get more access now, send a "
     "request to your admin or try again later."),
    (UsageLimit(plan_type="free"), "You've hit your usage limit. Upgrade to Plus to continue "
     "using Codex (https://chatgpt.com/explore/plus), or try again later."),
    (UsageLimit(plan_type="enterprise"), "You've hit your usage limit. Try again later."),
    (UsageLimit(plan_type="plus", limit_name="gpt-5.2-codex-sonic"),
     "You've hit your usage limit for gpt-5.2-codex-sonic. Switch to another model now, or "
     "try again later."),
    (UsageLimit(plan_type="plus", limit_name="Codex", promo_message="Get 2x usage"),
     "You've hit your usage limit. Get 2x usage, or try again later."),
]  # fmt: skip


@pytest.mark.parametrize(("limit", "text"), USAGE)
def test_usage_limit_text(limit: UsageLimit, text: str) -> None:
    assert usage_limit_message(limit, now_s=NOW) == text


@pytest.mark.parametrize(
    ("day", "suffix"), [(1, "st"), (2, "nd"), (3, "rd"), (4, "th"), (11, "th"), (12, "th"),
                        (13, "th"), (21, "st"), (22, "nd"), (23, "rd")]
)  # fmt: skip
def test_day_suffix(day: int, suffix: str) -> None:
    reset = int(dt.datetime(2024, 3, day, 12, 0, tzinfo=dt.UTC).timestamp())
    assert format_retry_timestamp(reset, NOW) == f"Mar {day}{suffix}, 2024 12:00 PM"


@pytest.mark.parametrize(
    ("err", "request_id"),
    [
        (http(401, {"error": {"message": "bad key"}}, x_request_id="req_abc123", cf_ray="ray-1"), "req_abc123"),
        (http(404, "nope", x_oai_request_id="oai-1"), "oai-1"),
        (http(429, {"error": {"type": "x"}}, cf_ray="ray-2"), None),
        (http(503, {"error": {"message": "down"}}), None),
    ],
)
def test_http_errors_carry_the_request_id_for_the_error_event(err: ApiError, request_id: str | None) -> None:
    """Surfacing a server error includes its request id: x-request-id, else x-oai-request-id
    (never cf-ray, which codex only shows in the text)."""
    assert mapped(err).request_id == request_id


def test_error_event_reports_request_id_only_when_known() -> None:
    from harness.client.responses import events

    assert events.error("m", "other", 401, "req_1") == {
        "type": "error", "message": "m", "code": "other", "http_status": 401, "request_id": "req_1"
    }  # fmt: skip
    assert "request_id" not in events.error("m", "other", 500)
