"""Redacted forms keep a mismatch readable without showing any part of the secret."""

from __future__ import annotations

import hashlib

from fake_server.redact import fingerprint, redact_header, redact_json, redact_text


KEY = "sk-live-4c9e2a7b1d3f5e60"
OTHER = "sk-live-0000aaaa1111bbbb"


def _fp(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:4]


def test_fingerprint_is_the_kind_prefix_and_a_hash_never_a_part_of_the_secret():
    assert fingerprint(KEY) == f"sk-…{_fp(KEY)}"
    assert fingerprint("opaque-token-value") == f"…{_fp('opaque-token-value')}"
    assert fingerprint(KEY) != fingerprint(OTHER)


def test_a_header_mismatch_stays_readable():
    got = redact_text(f'expected "Bearer {OTHER}", got "Bearer {KEY}"')
    assert KEY not in got and OTHER not in got
    assert got == f'expected "Bearer sk-…{_fp(OTHER)}", got "Bearer sk-…{_fp(KEY)}"'


def test_secret_headers_json_fields_and_jwts():
    assert redact_header("Authorization", f"Bearer {KEY}") == f"Bearer sk-…{_fp(KEY)}"
    assert redact_header("x-api-key", "abc") == f"…{_fp('abc')}"
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    assert redact_text(f"token {jwt} end") == f"token eyJ…{_fp(jwt)} end"
    assert redact_json({"access_token": "t0k", "nested": [{"api_key": KEY}], "empty": {"token": ""}}) == {
        "access_token": f"…{_fp('t0k')}", "nested": [{"api_key": f"sk-…{_fp(KEY)}"}], "empty": {"token": ""}}
    assert redact_text('{"refresh_token": "r3fr3sh"}') == f'{{"refresh_token": "…{_fp("r3fr3sh")}"}}'


def test_redaction_is_idempotent_and_spares_prose():
    once = redact_text(f"Bearer {KEY} and {OTHER}")
    assert redact_text(once) == once
    assert redact_text("use bearer or basic authentication") == "use bearer or basic authentication"
