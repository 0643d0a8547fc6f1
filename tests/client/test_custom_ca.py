"""The reference custom-CA policy (harness.client.custom_ca) and its probe.

Unit tests cover env selection, PEM reading and the exact reference messages;
subprocess tests run ``python -m harness.client.ca_probe`` against a real TLS fake
server on loopback, with CA and proxy variables scrubbed from the child's env, as
codex's ``ca_env.rs`` runs ``custom_ca_probe``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import ssl
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from fake_server.script import script_from_mapping
from fake_server.server import FakeServer
from fake_server.tls import BUNDLES, tls_material
from harness.adapters.base import Endpoint
from harness.adapters.reference import ReferenceAdapter, _client_trust
from harness.client import custom_ca
from harness.client.custom_ca import (
    CaBundle,
    CustomCaError,
    PemError,
    build_client_ssl_context,
    load_ca_certificates,
    pem_sections,
    select_ca_bundle,
)


REPO = Path(__file__).resolve().parents[2]
HINT = (
    "If you set CODEX_CA_CERTIFICATE or SSL_CERT_FILE, ensure it points to a PEM file containing "
    "one or more CERTIFICATE blocks, or unset it to use system roots."
)
CODEX, SSL_FILE = "CODEX_CA_CERTIFICATE", "SSL_CERT_FILE"


@pytest.fixture(scope="module")
def material():
    return tls_material()


def bundle(material, name: str) -> str:
    return str(material.bundle(name))


def der_of(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


def pem_block(label: str, der: bytes) -> str:
    body = base64.b64encode(der).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"


def write(tmp_path: Path, text: str | bytes, name: str = "bundle.pem") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return str(path)


def error_of(env) -> CustomCaError:
    with pytest.raises(CustomCaError) as info:
        build_client_ssl_context(env, system_roots=False)
    return info.value


# -- env selection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({CODEX: "/c.pem", SSL_FILE: "/s.pem"}, CaBundle(CODEX, "/c.pem")),
        ({SSL_FILE: "/s.pem"}, CaBundle(SSL_FILE, "/s.pem")),
        ({CODEX: "/c.pem"}, CaBundle(CODEX, "/c.pem")),
        ({CODEX: "", SSL_FILE: "/s.pem"}, CaBundle(SSL_FILE, "/s.pem")),
        ({CODEX: "/c.pem", SSL_FILE: ""}, CaBundle(CODEX, "/c.pem")),
        ({CODEX: "", SSL_FILE: ""}, None),
        ({SSL_FILE: ""}, None),
        ({}, None),
        ({"SSL_CERT_DIR": "/etc/ssl/certs", "REQUESTS_CA_BUNDLE": "/x.pem"}, None),
    ],
)
def test_env_precedence_and_empty_values(env, expected):
    assert select_ca_bundle(env) == expected


def test_values_are_not_trimmed():
    # Only the empty string counts as unset; codex does not trim (" " is a path).
    assert select_ca_bundle({CODEX: " ", SSL_FILE: "/s.pem"}) == CaBundle(CODEX, " ")


def test_never_reads_os_environ(monkeypatch, material):
    monkeypatch.setenv(CODEX, "/definitely/missing.pem")
    monkeypatch.setenv(SSL_FILE, "/definitely/missing.pem")
    build_client_ssl_context({})  # system roots, no error: the process env was not consulted
    ctx = build_client_ssl_context({CODEX: bundle(material, "ca")}, system_roots=False)
    assert len(ctx.get_ca_certs()) == 1


def test_custom_bundle_adds_to_the_system_roots(material):
    system = build_client_ssl_context({})
    custom = build_client_ssl_context({CODEX: bundle(material, "ca")})
    without = build_client_ssl_context({CODEX: bundle(material, "ca")}, system_roots=False)
    assert len(without.get_ca_certs()) == 1
    assert len(custom.get_ca_certs()) == len(system.get_ca_certs()) + 1
    assert custom.verify_mode == ssl.CERT_REQUIRED and custom.check_hostname


# -- the fake server's bundles ----------------------------------------------------------------


@pytest.mark.parametrize("var", [CODEX, SSL_FILE])
@pytest.mark.parametrize(
    ("name", "count"),
    [("ca", 1), ("ca-trusted", 1), ("ca-with-crl", 1), ("bundle-multi", 2), ("other-ca", 1)],
)
def test_good_bundles_load(material, var, name, count):
    certs = load_ca_certificates(CaBundle(var, bundle(material, name)))
    assert len(certs) == count
    ctx = build_client_ssl_context({var: bundle(material, name)}, system_roots=False)
    assert len(ctx.get_ca_certs()) == count


def test_trusted_certificate_keeps_only_the_certificate(material):
    ca_der = der_of(material.ca.cert_pem.bytes())
    assert (
        Path(bundle(material, "ca-trusted"))
        .read_text()
        .startswith("-----BEGIN TRUSTED CERTIFICATE-----")
    )
    assert load_ca_certificates(CaBundle(CODEX, bundle(material, "ca-trusted"))) == [ca_der]


def test_multi_bundle_keeps_every_certificate_in_order(material):
    ca_der = der_of(material.ca.cert_pem.bytes())
    certs = load_ca_certificates(CaBundle(CODEX, bundle(material, "bundle-multi")))
    assert certs[1] == ca_der and certs[0] != ca_der


@pytest.mark.parametrize("var", [CODEX, SSL_FILE])
def test_reference_messages_for_the_bad_bundles(material, var):
    expected = {
        "empty": f"Failed to load CA certificates from {bundle(material, 'empty')} selected by {var}: no certificates found in PEM file. {HINT}",
        "malformed": f"Failed to load CA certificates from {bundle(material, 'malformed')} selected by {var}: failed to parse PEM file: base64 decode error: InvalidTrailingPadding. {HINT}",
        "unreadable": f"Failed to read CA certificate file {bundle(material, 'unreadable')} selected by {var}: Is a directory (os error 21). {HINT}",
        "missing": f"Failed to read CA certificate file {bundle(material, 'missing')} selected by {var}: No such file or directory (os error 2). {HINT}",
    }
    for name, message in expected.items():
        err = error_of({var: bundle(material, name)})
        assert str(err) == message
        assert err.source_env == var and err.path == bundle(material, name)
        assert err.kind == ("read" if name in ("unreadable", "missing") else "invalid")
    assert set(expected) | {"ca", "ca-trusted", "ca-with-crl", "bundle-multi", "other-ca", "proxy-ca"} == set(
        BUNDLES
    )


def test_codex_wins_over_a_bad_ssl_cert_file(material):
    ctx = build_client_ssl_context(
        {CODEX: bundle(material, "ca"), SSL_FILE: bundle(material, "empty")}, system_roots=False
    )
    assert len(ctx.get_ca_certs()) == 1


def test_empty_codex_falls_through_to_a_bad_ssl_cert_file(material):
    err = error_of({CODEX: "", SSL_FILE: bundle(material, "missing")})
    assert err.source_env == SSL_FILE
    assert "selected by SSL_CERT_FILE: No such file or directory (os error 2)." in str(err)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_permission_denied_keeps_the_io_error(tmp_path, material):
    path = write(tmp_path, material.ca.cert_pem.bytes().decode())
    os.chmod(path, 0)
    assert str(error_of({CODEX: path})) == (
        f"Failed to read CA certificate file {path} selected by {CODEX}: Permission denied (os error 13). {HINT}"
    )


# -- PEM reading: crafted bundles ---------------------------------------------------------------


def test_crl_sections_are_ignored(tmp_path, material):
    # codex's fixture: a certificate, then a short well-formed CRL section.
    text = (
        material.ca.cert_pem.bytes().decode()
        + "-----BEGIN X509 CRL-----\nMIIC\n-----END X509 CRL-----\n"
    )
    assert len(load_ca_certificates(CaBundle(CODEX, write(tmp_path, text)))) == 1


def test_a_crl_only_bundle_has_no_certificates(tmp_path):
    path = write(tmp_path, "-----BEGIN X509 CRL-----\nMIIC\n-----END X509 CRL-----\n")
    assert str(error_of({CODEX: path})) == (
        f"Failed to load CA certificates from {path} selected by {CODEX}: no certificates found in PEM file. {HINT}"
    )


def test_a_malformed_crl_still_fails_the_bundle(tmp_path, material):
    # The known limitation codex documents: the section is decoded before it is classified.
    text = (
        material.ca.cert_pem.bytes().decode()
        + "-----BEGIN X509 CRL-----\nMIIBroken\n-----END X509 CRL-----\n"
    )
    err = error_of({CODEX: write(tmp_path, text)})
    assert err.detail == "failed to parse PEM file: base64 decode error: InvalidTrailingPadding"


def test_other_kinds_and_unknown_labels_are_ignored(tmp_path, material):
    text = (
        "Subject: a leading comment is fine\n"
        + pem_block("PRIVATE KEY", b"\x30\x03\x02\x01\x00")
        + "-----BEGIN SOMETHING ELSE-----\nnot base64 at all: skipped undecoded\n-----END SOMETHING ELSE-----\n"
        + material.ca.cert_pem.bytes().decode()
        + pem_block("CERTIFICATE REQUEST", b"\x30\x00")
    )
    assert len(load_ca_certificates(CaBundle(CODEX, write(tmp_path, text)))) == 1


def test_crlf_line_endings(tmp_path, material):
    text = material.ca.cert_pem.bytes().decode().replace("\n", "\r\n")
    assert len(load_ca_certificates(CaBundle(CODEX, write(tmp_path, text)))) == 1


def test_text_without_pem_has_no_certificates(tmp_path):
    err = error_of({CODEX: write(tmp_path, "hello\nworld\n")})
    assert err.kind == "invalid" and err.detail == "no certificates found in PEM file"


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        (
            "-----BEGIN CERTIFICATE-----\nMIIB\n",
            "missing section end marker: [67, 69, 82, 84, 73, 70, 73, 67, 65, 84, 69]",
        ),
        (
            "-----BEGIN CERTIFICATE----\nMIIB\n-----END CERTIFICATE-----\n",
            "illegal section start: [45, 45, 45, 45, 45, 66, 69, 71, 73, 78, 32, 67, 69, 82, 84, 73, 70, 73, 67, 65, 84, 69, 45, 45, 45, 45]",
        ),
        (
            "-----BEGIN CERTIFICATE-----\nMI:B\n-----END CERTIFICATE-----\n",
            "base64 decode error: InvalidCharacter(58)",
        ),
        (
            "-----BEGIN CERTIFICATE-----\nMI==MIIB\n-----END CERTIFICATE-----\n",
            "base64 decode error: PrematurePadding",
        ),
        (
            "-----BEGIN CERTIFICATE-----\nMIIBroken\n-----END CERTIFICATE-----\n",
            "base64 decode error: InvalidTrailingPadding",
        ),
    ],
)
def test_pem_errors_use_the_rustls_texts(tmp_path, text, detail):
    path = write(tmp_path, text)
    assert str(error_of({CODEX: path})) == (
        f"Failed to load CA certificates from {path} selected by {CODEX}: failed to parse PEM file: {detail}. {HINT}"
    )


def test_non_utf8_bytes_are_read_lossily(tmp_path, material):
    # from_utf8_lossy: an invalid byte becomes U+FFFD, whose first UTF-8 byte (0xEF) is the bad character.
    text = b"-----BEGIN CERTIFICATE-----\nMII\xffB\n-----END CERTIFICATE-----\n"
    assert (
        error_of({CODEX: write(tmp_path, text)}).detail
        == "failed to parse PEM file: base64 decode error: InvalidCharacter(239)"
    )
    outside = b"\xff\xfe garbage before\n" + material.ca.cert_pem.bytes()
    assert len(load_ca_certificates(CaBundle(CODEX, write(tmp_path, outside, "lossy.pem")))) == 1


def test_sections_are_lazy_and_in_order(material):
    good = material.ca.cert_pem.bytes()
    sections = pem_sections(
        good + b"-----BEGIN CERTIFICATE-----\nMIIBroken\n-----END CERTIFICATE-----\n"
    )
    label, der = next(sections)
    assert (label, der) == ("CERTIFICATE", der_of(good))
    with pytest.raises(PemError, match="InvalidTrailingPadding"):
        next(sections)


def test_trusted_certificate_with_a_bad_der_length(tmp_path):
    path = write(tmp_path, pem_block("TRUSTED CERTIFICATE", b"\x30\x82\x05\x00\x01\x02"))
    assert str(error_of({CODEX: path})) == (
        f"Failed to load CA certificates from {path} selected by {CODEX}: "
        f"failed to extract certificate data from TRUSTED CERTIFICATE: invalid DER length. {HINT}"
    )


def test_trusted_label_anywhere_trims_every_certificate_section(tmp_path, material):
    ca_der = der_of(material.ca.cert_pem.bytes())
    other_der = der_of(material.bundle("other-ca").read_bytes())
    text = pem_block("CERTIFICATE", other_der + b"\x30\x00") + pem_block(
        "TRUSTED CERTIFICATE", ca_der + b"\x30\x00"
    )
    assert load_ca_certificates(CaBundle(CODEX, write(tmp_path, text))) == [other_der, ca_der]


def test_unparseable_certificate_is_reported_by_its_index(tmp_path, material):
    path = write(
        tmp_path,
        material.ca.cert_pem.bytes().decode() + pem_block("CERTIFICATE", b"\x30\x03\x02\x01\x00"),
    )
    err = error_of({SSL_FILE: path})
    assert err.kind == "register" and err.index == 2
    assert str(err).startswith(
        f"Failed to parse certificate #2 from {path} selected by {SSL_FILE}: "
    )
    assert str(err).endswith(f". {HINT}")


def test_base64_decoder_agrees_with_the_standard_library():
    rng = random.Random(7)
    for _ in range(300):
        data = rng.randbytes(rng.randrange(0, 120))
        encoded = base64.b64encode(data)
        assert custom_ca._b64_decode(encoded) == data
        assert custom_ca._b64_decode(encoded.rstrip(b"=")) == data
        wrapped = b"\n ".join(encoded[i : i + 7] for i in range(0, len(encoded), 7))
        assert custom_ca._b64_decode(wrapped) == data


def test_base64_fast_path_matches_the_port_on_odd_inputs():
    rng = random.Random(11)
    for alphabet in (
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \t:",
        b"AQgw/+==\t",
    ):
        for _ in range(20000):
            data = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 18)))
            outcomes = []
            for decode in (custom_ca._b64_decode, custom_ca._b64_decode_port):
                try:
                    outcomes.append(("ok", decode(data)))
                except PemError as exc:
                    outcomes.append(("error", str(exc)))
            assert outcomes[0] == outcomes[1], data


# -- the reference adapter's trust rule -----------------------------------------------------------


def endpoint(material, *, tls: bool = True) -> Endpoint:
    return Endpoint(
        origin="https://127.0.0.1:1",
        base_url="https://127.0.0.1:1/v1",
        ca_file=bundle(material, "ca") if tls else None,
    )


def test_adapter_default_is_the_run_ca_as_codex_ca_certificate(material):
    ctx, error = _client_trust(endpoint(material), {})
    assert error is None and ctx is not None
    same = build_client_ssl_context({CODEX: bundle(material, "ca")})
    assert ctx.get_ca_certs() == same.get_ca_certs()
    assert len(ctx.get_ca_certs()) == len(build_client_ssl_context({}).get_ca_certs()) + 1
    assert _client_trust(endpoint(material, tls=False), {}) == (None, None)


def test_adapter_uses_tls_env_whole(material):
    ctx, error = _client_trust(endpoint(material), {"tls": {"env": {}}})
    assert error is None
    system = build_client_ssl_context({})
    assert len(ctx.get_ca_certs()) == len(
        system.get_ca_certs()
    )  # {}: no override, the run CA is not added
    _, error = _client_trust(
        endpoint(material), {"tls": {"env": {CODEX: bundle(material, "empty")}}}
    )
    assert (
        error
        == f"Failed to load CA certificates from {bundle(material, 'empty')} selected by {CODEX}: no certificates found in PEM file. {HINT}"
    )
    with pytest.raises(ValueError, match=r"tls\.env must map"):
        _client_trust(endpoint(material), {"tls": {"env": {CODEX: 3}}})


def test_adapter_reports_a_ca_failure_on_every_step_without_crashing(material):
    events: list[dict] = []

    async def main():
        config = {
            "tls": {"env": {CODEX: bundle(material, "missing")}},
            "responses": {"model": "m", "api_key": "k"},
        }
        session = await ReferenceAdapter().start(
            endpoint=endpoint(material), config=config, emit=events.append
        )
        await session.handle("responses.turn", {"input": "hi"})
        await session.handle("realtime.start", {"prompt": "hi"})
        await session.aclose()

    asyncio.run(main())
    message = f"Failed to read CA certificate file {bundle(material, 'missing')} selected by {CODEX}: No such file or directory (os error 2). {HINT}"
    assert events == [{"type": "error", "message": message}] * 2


# -- subprocess probe against a real TLS fake server ----------------------------------------------

_SCRUB = ("CODEX_CA_CERTIFICATE", "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTP_PROXY", "http_proxy", "HTTPS_PROXY",
          "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "WS_PROXY", "wss_proxy", "WSS_PROXY", "ws_proxy")  # fmt: skip


def probe_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def run_probe(env: dict[str, str]) -> tuple[int, dict, str, FakeServer]:
    material = tls_material()

    async def main():
        srv = FakeServer(
            script_from_mapping(
                {
                    "ordered": False,
                    "exchanges": [
                        {
                            "http": {"method": "GET", "path": "/probe"},
                            "times": {"min": 0, "max": 1},
                            "respond": {"status": 200, "text": "ok"},
                        },
                        {
                            "websocket": {"path": "/probe"},
                            "times": {"min": 0, "max": 1},
                            "script": [],
                        },
                    ],
                }
            ),
            ssl=material.server_context(),
        )
        async with srv:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "harness.client.ca_probe",
                f"{srv.origin}/probe",
                "--timeout",
                "5",
                env=env,
                cwd=str(REPO),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 30)
            await srv.settle(timeout=1)
        return proc.returncode, out.decode(), err.decode(), srv

    code, out, err, srv = asyncio.run(main())
    lines = out.strip().splitlines()
    assert len(lines) == 1, (out, err)
    return code, json.loads(lines[0]), err, srv


def requests_seen(srv: FakeServer) -> list[bool]:
    return [
        r.get("websocket", False) for r in srv.transcript.to_json() if r.get("kind") == "request"
    ]


@pytest.mark.parametrize(
    ("env", "source"),
    [
        pytest.param({CODEX: "ca"}, CODEX, id="uses-codex-ca-certificate"),
        pytest.param({SSL_FILE: "ca"}, SSL_FILE, id="falls-back-to-ssl-cert-file"),
        pytest.param(
            {CODEX: "ca", SSL_FILE: "empty"}, CODEX, id="codex-wins-over-bad-ssl-cert-file"
        ),
        pytest.param({CODEX: "", SSL_FILE: "ca"}, SSL_FILE, id="empty-codex-counts-as-unset"),
        pytest.param({CODEX: "bundle-multi"}, CODEX, id="multi-certificate-bundle"),
        pytest.param({CODEX: "ca-trusted"}, CODEX, id="openssl-trusted-certificate"),
        pytest.param({CODEX: "ca-with-crl"}, CODEX, id="bundle-with-crl"),
    ],
)
def test_probe_succeeds_over_https_and_wss(material, env, source):
    resolved = {k: (bundle(material, v) if v else "") for k, v in env.items()}
    code, report, _err, srv = run_probe(probe_env(**resolved))
    assert code == 0, report
    assert report["ok"] is True
    assert report["ca"] == {"source_env": source, "path": resolved[source]}
    assert report["https"] == {"ok": True, "status": 200}
    assert report["wss"] == {"ok": True}
    assert sorted(requests_seen(srv)) == [False, True]  # one HTTPS request, one websocket upgrade


@pytest.mark.parametrize(
    ("env", "needles"),
    [
        pytest.param(
            {CODEX: "empty"},
            ["no certificates found in PEM file", CODEX, SSL_FILE],
            id="empty-file",
        ),
        pytest.param(
            {CODEX: "malformed"}, ["failed to parse PEM file", CODEX, SSL_FILE], id="malformed-file"
        ),
        pytest.param(
            {CODEX: "unreadable"},
            ["Failed to read CA certificate file", "Is a directory (os error 21)"],
            id="unreadable-path",
        ),
        pytest.param(
            {SSL_FILE: "missing"},
            ["selected by SSL_CERT_FILE", "No such file or directory (os error 2)"],
            id="missing-file",
        ),
    ],
)
def test_probe_reports_ca_errors_and_sends_nothing(material, env, needles):
    resolved = {k: bundle(material, v) for k, v in env.items()}
    code, report, err, srv = run_probe(probe_env(**resolved))
    assert code == 1
    assert report["ok"] is False and report["stage"] == "ca"
    assert report["error"].endswith(HINT)
    for needle in needles:
        assert needle in err
    assert err.strip() == report["error"]
    assert requests_seen(srv) == []


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({CODEX: "other-ca"}, id="unrelated-ca"),
        pytest.param({}, id="no-override-system-roots"),
    ],
)
def test_probe_reports_certificate_failures(material, env):
    resolved = {k: bundle(material, v) for k, v in env.items()}
    code, report, _err, srv = run_probe(probe_env(**resolved))
    assert code == 1
    assert report["ok"] is False and report["stage"] == "https"
    for step in ("https", "wss"):
        assert report[step]["ok"] is False
        assert report[step]["error"].startswith("certificate verify failed: "), report[step]
    assert requests_seen(srv) == []


def test_probe_reads_its_own_process_env(material):
    # On purpose: an SSL_CERT_FILE the probe inherits is a bundle choice, hence the scrubbing above.
    code, report, _err, _srv = run_probe(probe_env(SSL_CERT_FILE=bundle(material, "ca")))
    assert code == 0 and report["ca"]["source_env"] == SSL_FILE


# -- the proxy variables and the tls.probe step ------------------------------------------------


@pytest.mark.parametrize(
    ("url", "env", "proxy"),
    [
        ("https://127.0.0.1:1/v1", {"HTTPS_PROXY": "http://p:8080"}, "http://p:8080"),
        ("https://127.0.0.1:1/v1", {"https_proxy": "p:8080"}, "http://p:8080"),
        ("wss://127.0.0.1:1/v1", {"ALL_PROXY": "http://a:1"}, "http://a:1"),
        ("https://127.0.0.1:1/v1", {"HTTP_PROXY": "http://h:1"}, None),  # HTTP_PROXY is for http URLs
        ("http://127.0.0.1:1/v1", {"HTTP_PROXY": "http://h:1"}, "http://h:1"),
        ("https://127.0.0.1:1/v1", {"HTTPS_PROXY": ""}, None),  # empty counts as unset
        ("https://127.0.0.1:1/v1", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "localhost, 127.0.0.1"}, None),
        ("https://api.example.com/v1", {"HTTPS_PROXY": "http://p:1", "no_proxy": ".example.com"}, None),
        ("https://api.example.com/v1", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, None),
        ("https://api.example.net/v1", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "example.com"}, "http://p:1"),
        ("https://127.0.0.1:1/v1", {}, None),
    ],
)
def test_proxy_for_url(url, env, proxy):
    assert custom_ca.proxy_for_url(url, env) == proxy


def test_proxy_for_url_never_reads_the_process_environment(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://from-the-harness:1")
    assert custom_ca.proxy_for_url("https://127.0.0.1:1/", {}) is None


def _tls_probe(material, *, server_tls=True, ca_env=None, env=None, proxy=None, **args):
    from fake_server.proxy import proxy_options
    from fake_server.tls import server_options
    from harness.client.ca_probe import TlsSteps

    async def body():
        events = []
        script = script_from_mapping({"exchanges": [{"http": {"method": "GET", "path": "/v1/models"},
                                                     "times": {"min": 0, "max": 2}, "respond": {"json": {"ok": 1}}}]})  # fmt: skip
        srv = FakeServer(script, ssl=material.server_context(**server_options(server_tls)),
                         proxy=proxy_options({"kind": proxy}, material) if proxy else None)  # fmt: skip
        async with srv:
            environment = {k: v.replace("${proxy}", srv.proxy.origin if srv.proxy else "") for k, v in (env or {}).items()}
            steps = TlsSteps(origin=srv.origin, ca_env=ca_env if ca_env is not None else {CODEX: bundle(material, "ca")},
                             env=environment, emit=events.append)  # fmt: skip
            await steps.handle("tls.probe", {"path": "/v1/models", **args})
            await srv.settle(timeout=1)
            seen = [r.data["path"] for r in srv.transcript.records if r.kind == "request" and r.data["listener"] == "main"]
        return events, seen

    return asyncio.run(asyncio.wait_for(body(), 20))


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param({}, {"ok": True, "status": 200, "proxy": False, "tls_version": "TLSv1.3"}, id="trusted"),
        pytest.param({"server_tls": {"cert": "expired"}}, {"ok": False, "failure": "certificate", "certificate": "expired"}, id="expired"),
        pytest.param({"server_tls": {"cert": "wrong-host"}}, {"ok": False, "failure": "certificate", "certificate": "hostname_mismatch"}, id="wrong-host"),
        pytest.param({"ca_env": {CODEX: "other"}}, {"ok": False, "failure": "certificate", "certificate": "unknown_issuer"}, id="unknown-issuer"),
        pytest.param({"server_tls": {"max_version": "1.2"}}, {"ok": True, "tls_version": "TLSv1.2"}, id="tls12"),
        pytest.param({"server_tls": {"max_version": "1.2"}, "min_tls_version": "1.3"}, {"ok": False}, id="min13-vs-12"),
        pytest.param({"host": "localhost"}, {"ok": True, "status": 200}, id="by-name"),
        pytest.param({"websocket": True}, {"ok": False, "failure": "connection"}, id="ws-refused-upgrade-404"),
    ],
)  # fmt: skip
def test_tls_probe_step(material, options, expected):
    if options.get("ca_env") == {CODEX: "other"}:
        options = {**options, "ca_env": {CODEX: bundle(material, "other-ca")}}
    events, seen = _tls_probe(material, **options)
    (event,) = events
    assert event["type"] == "tls.probe"
    assert {k: event.get(k) for k in expected} == expected, event
    reached = event["ok"] or options.get("websocket")  # an upgrade answered 200 got there, and was refused
    assert seen == (["/v1/models"] if reached else [])


@pytest.mark.parametrize(
    ("proxy", "ca", "env", "expected", "connects"),
    [
        ("connect", "ca", {"HTTPS_PROXY": "${proxy}"}, {"ok": True, "proxy": True}, 1),
        ("intercept", "proxy-ca", {"HTTPS_PROXY": "${proxy}"}, {"ok": True, "proxy": True}, 1),
        ("intercept", "ca", {"HTTPS_PROXY": "${proxy}"}, {"ok": False, "certificate": "unknown_issuer"}, 1),
        ("connect", "ca", {"HTTPS_PROXY": "${proxy}", "NO_PROXY": "127.0.0.1"}, {"ok": True, "proxy": False}, 0),
    ],
)
def test_tls_probe_through_the_proxy(material, proxy, ca, env, expected, connects):
    from fake_server.proxy import proxy_options
    from fake_server.tls import server_options
    from harness.client.ca_probe import TlsSteps

    async def body():
        events = []
        script = script_from_mapping({"exchanges": [{"http": {"method": "GET", "path": "/v1/models"},
                                                     "times": {"min": 0, "max": 2}, "respond": {"json": {"ok": 1}}}]})  # fmt: skip
        srv = FakeServer(script, ssl=material.server_context(**server_options(True)), proxy=proxy_options({"kind": proxy}, material))
        async with srv:
            environment = {k: v.replace("${proxy}", srv.proxy.origin) for k, v in env.items()}
            steps = TlsSteps(origin=srv.origin, ca_env={CODEX: bundle(material, ca)}, env=environment, emit=events.append)
            await steps.handle("tls.probe", {"path": "/v1/models"})
            await srv.settle(timeout=1)
            n = len([r for r in srv.transcript.records if r.kind == "request" and r.data["method"] == "CONNECT"])
        return events, n

    (event,), n = asyncio.run(asyncio.wait_for(body(), 20))
    assert {k: event.get(k) for k in expected} == expected, event
    assert n == connects


def test_probe_failure_is_neutral():
    from harness.client.ca_probe import probe_failure

    assert probe_failure(TimeoutError()) == {"failure": "timeout"}
    assert probe_failure(ConnectionRefusedError()) == {"failure": "connection"}
    err = ssl.SSLError(1, "[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version")
    err.reason = "TLSV1_ALERT_PROTOCOL_VERSION"
    assert probe_failure(err) == {"failure": "tls_version"}
