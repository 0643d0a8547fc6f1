"""Real TLS for the fake server: a CA and a leaf certificate generated for the run.

trustme makes a CA and a leaf for 127.0.0.1, ::1 and localhost; nothing is
fetched. Besides the server's context, the material is written as the CA bundle
variants the custom-CA cases need (OpenSSL ``TRUSTED CERTIFICATE`` labels, a CRL
section, several certificates in one bundle, an unrelated CA, empty and malformed
files), so a case can point ``CODEX_CA_CERTIFICATE`` or ``SSL_CERT_FILE`` at any
of them by name.

A case may also ask the server for another certificate or other TLS versions
(``server.tls: {cert, min_version, max_version}``, :func:`server_options`): an
expired leaf, a leaf for another host name, both signed by the run's CA, so that
only the property under test makes the handshake fail. The TLS-intercepting
proxy (``fake_server.proxy``) signs its per-host leaves with a CA of its own, the
``proxy-ca`` bundle, as an enterprise gateway does.
"""

from __future__ import annotations

import base64
import datetime
import ssl
import tempfile
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization


__all__ = ["BUNDLES", "SERVER_CERTS", "TLS_VERSIONS", "TlsMaterial", "server_options", "tls_material"]

BUNDLES = (
    "ca",  # the CA that signed the server certificate
    "ca-trusted",  # the same CA as an OpenSSL TRUSTED CERTIFICATE (with an X509_AUX trailer)
    "ca-with-crl",  # the CA followed by a well-formed X509 CRL section
    "bundle-multi",  # an unrelated CA, then the right CA
    "other-ca",  # only an unrelated CA: the server certificate does not verify
    "empty",  # an empty file
    "malformed",  # a CERTIFICATE block with broken base64
    "unreadable",  # a directory: reading it fails
    "missing",  # a path that does not exist
    "proxy-ca",  # the TLS-intercepting proxy's own CA (fake_server.proxy, kind intercept)
)
SERVER_CERTS = (
    "default",  # the run's leaf for 127.0.0.1, ::1 and localhost
    "expired",  # the same names, signed by the run's CA, valid until yesterday
    "wrong-host",  # signed by the run's CA for wrong-host.invalid only: no name the client dials
)
TLS_VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


def server_options(raw: object) -> dict[str, str]:
    """``server.tls`` of a case as keyword arguments of :meth:`TlsMaterial.server_context`.

    ``true`` is the default certificate and OpenSSL's default versions; an object may
    name ``cert`` (one of :data:`SERVER_CERTS`), ``min_version`` and ``max_version``
    (``"1.0"`` to ``"1.3"``).
    """
    if raw is True or raw is None or raw is False:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"server.tls must be true or an object; got {raw!r}")
    unknown = sorted(set(raw) - {"cert", "min_version", "max_version"})
    if unknown:
        raise ValueError(f"server.tls: unknown keys {', '.join(unknown)}")
    options = {k: str(v) for k, v in raw.items()}
    if options.get("cert", "default") not in SERVER_CERTS:
        raise ValueError(f"server.tls.cert must be one of {', '.join(SERVER_CERTS)}")
    for key in ("min_version", "max_version"):
        if key in options and options[key] not in TLS_VERSIONS:
            raise ValueError(f"server.tls.{key} must be one of {', '.join(TLS_VERSIONS)}")
    return options


def _pem(label: str, der: bytes) -> str:
    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"


def _crl_pem(ca: trustme.CA) -> str:
    key = serialization.load_pem_private_key(ca.private_key_pem.bytes(), password=None)
    issuer = x509.load_pem_x509_certificate(ca.cert_pem.bytes()).subject
    now = datetime.datetime.now(datetime.UTC)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer)
        .last_update(now)
        .next_update(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return crl.public_bytes(serialization.Encoding.PEM).decode()


@dataclass(frozen=True, slots=True)
class TlsMaterial:
    """The run's CA, server context factory, and bundle files by name."""

    ca: trustme.CA
    server_cert: trustme.LeafCert
    folder: Path
    proxy_ca: trustme.CA
    other_certs: dict[str, trustme.LeafCert]

    def server_context(
        self, *, cert: str = "default", min_version: str | None = None, max_version: str | None = None
    ) -> ssl.SSLContext:
        """The server side: the run's leaf (or another of :data:`SERVER_CERTS`), and versions.

        Versions below TLS 1.2 need OpenSSL's security level 0 to be offered at all; a
        server that offers only them is what a client must refuse.
        """
        ctx = _server_side()
        (self.server_cert if cert == "default" else self.other_certs[cert]).configure_cert(ctx)
        low = min_version in ("1.0", "1.1") or max_version in ("1.0", "1.1")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1 / TLSv1_1 are deprecated names
            if low:
                ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            if min_version is not None:
                ctx.minimum_version = TLS_VERSIONS[min_version]
            elif low:
                ctx.minimum_version = ssl.TLSVersion.TLSv1
            if max_version is not None:
                ctx.maximum_version = TLS_VERSIONS[max_version]
        return ctx

    def upstream_context(self) -> ssl.SSLContext:
        """A client context trusting the run's CA only (the intercepting proxy's upstream side)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, check_hostname; no system roots
        ctx.load_verify_locations(cadata=self.ca.cert_pem.bytes().decode())
        return ctx

    def intercept_context(self, host: str) -> ssl.SSLContext:
        """The intercepting proxy's server side for ``host``: a leaf signed by the proxy CA."""
        ctx = _server_side()
        _proxy_leaf(self.proxy_ca, host).configure_cert(ctx)
        return ctx

    def bundle(self, name: str) -> Path:
        if name not in BUNDLES:
            raise KeyError(f"unknown CA bundle '{name}'; expected one of: {', '.join(BUNDLES)}")
        return self.folder / (name if name in ("unreadable", "missing") else f"{name}.pem")


def _server_side() -> ssl.SSLContext:
    """A server context: what ``create_default_context(Purpose.CLIENT_AUTH)`` sets, without
    loading the system's roots (it asks no client certificate, so they would only cost the
    15 ms of reading the bundle, per case)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.options |= ssl.OP_NO_COMPRESSION
    return ctx


@cache
def _proxy_leaf(proxy_ca: trustme.CA, host: str) -> trustme.LeafCert:
    return proxy_ca.issue_cert(host)


@cache
def tls_material() -> TlsMaterial:
    """Generate once per process (trustme keys take a moment), then reuse."""
    ca = trustme.CA()
    other = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "::1", "localhost")
    folder = Path(tempfile.mkdtemp(prefix="wireplay-tls-"))
    ca_pem = ca.cert_pem.bytes().decode()
    ca_der = x509.load_pem_x509_certificate(ca.cert_pem.bytes()).public_bytes(serialization.Encoding.DER)
    aux = bytes.fromhex("3000")  # an empty X509_AUX SEQUENCE after the certificate, as OpenSSL writes it
    (folder / "ca.pem").write_text(ca_pem)
    (folder / "ca-trusted.pem").write_text(_pem("TRUSTED CERTIFICATE", ca_der + aux))
    (folder / "ca-with-crl.pem").write_text(ca_pem + _crl_pem(ca))
    (folder / "bundle-multi.pem").write_text(other.cert_pem.bytes().decode() + ca_pem)
    (folder / "other-ca.pem").write_text(other.cert_pem.bytes().decode())
    (folder / "empty.pem").write_text("")
    (folder / "malformed.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIBroken\n-----END CERTIFICATE-----\n")
    (folder / "unreadable").mkdir()
    proxy_ca = trustme.CA(organization_name="wireplay intercepting proxy")
    (folder / "proxy-ca.pem").write_text(proxy_ca.cert_pem.bytes().decode())
    now = datetime.datetime.now(datetime.UTC)
    expired = ca.issue_cert(
        "127.0.0.1", "::1", "localhost",
        not_before=now - datetime.timedelta(days=30), not_after=now - datetime.timedelta(days=1),
    )  # fmt: skip
    others = {"expired": expired, "wrong-host": ca.issue_cert("wrong-host.invalid")}
    return TlsMaterial(ca=ca, server_cert=leaf, folder=folder, proxy_ca=proxy_ca, other_certs=others)
