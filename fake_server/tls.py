"""Real TLS for the fake server: a CA and a leaf certificate generated for the run.

trustme makes a CA and a leaf for 127.0.0.1, ::1 and localhost; nothing is
fetched. Besides the server's context, the material is written as the CA bundle
variants the custom-CA cases need (OpenSSL ``TRUSTED CERTIFICATE`` labels, a CRL
section, several certificates in one bundle, an unrelated CA, empty and malformed
files), so a case can point ``CODEX_CA_CERTIFICATE`` or ``SSL_CERT_FILE`` at any
of them by name.
"""

from __future__ import annotations

import base64
import datetime
import ssl
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization


__all__ = ["BUNDLES", "TlsMaterial", "tls_material"]

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
)


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

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server_cert.configure_cert(ctx)
        return ctx

    def bundle(self, name: str) -> Path:
        if name not in BUNDLES:
            raise KeyError(f"unknown CA bundle '{name}'; expected one of: {', '.join(BUNDLES)}")
        return self.folder / (name if name in ("unreadable", "missing") else f"{name}.pem")


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
    return TlsMaterial(ca=ca, server_cert=leaf, folder=folder)
