"""The reference custom-CA policy: which roots a client trusts, from an env mapping.

Mirrors codex's ``codex-client/src/custom_ca.rs`` (responses-wire.md §7):

- ``CODEX_CA_CERTIFICATE`` wins, else ``SSL_CERT_FILE``; an empty value counts as
  unset; with neither, the system roots alone.
- The selected file is read whole, decoded as UTF-8 (lossy), and when it contains
  ``TRUSTED CERTIFICATE`` the OpenSSL labels are rewritten to ``CERTIFICATE`` and
  every certificate section is cut to its first DER item (drops the ``X509_AUX``
  trust trailer).
- PEM sections are read the way ``rustls-pki-types`` reads them (same line rules,
  same errors, same texts): ``CERTIFICATE`` sections are collected, ``X509 CRL``
  and every other kind are ignored, unknown labels are skipped undecoded.
- A custom bundle adds to the system roots; it never replaces them.
- Every failure is a :class:`CustomCaError` whose ``str()`` is the reference text,
  hint included.

Nothing here reads ``os.environ``: callers pass the environment they mean (a case's
``client.config.tls.env``, or a probe's own process env). The system roots are the
OpenSSL compiled-in default locations, read without OpenSSL's own ``SSL_CERT_FILE``
/ ``SSL_CERT_DIR`` lookup, so the harness's environment cannot leak into a case.
The PEM reader and the base64 decoder are written here because ``cryptography``
has no labelled, mixed-section PEM reader and its errors are not the reference's.
Certificates are registered with OpenSSL (lenient, like rustls' root store);
``cryptography`` explains a certificate OpenSSL refuses.
"""

from __future__ import annotations

import binascii
import logging
import os
import re
import ssl
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from cryptography import x509


__all__ = [
    "CA_CERT_HINT",
    "CODEX_CA_CERT_ENV",
    "SSL_CERT_FILE_ENV",
    "CaBundle",
    "CustomCaError",
    "PemError",
    "build_client_ssl_context",
    "load_ca_certificates",
    "pem_sections",
    "proxy_for_url",
    "select_ca_bundle",
    "shared_client_ssl_context",
    "system_root_context",
]

log = logging.getLogger(__name__)

CODEX_CA_CERT_ENV = "CODEX_CA_CERTIFICATE"
SSL_CERT_FILE_ENV = "SSL_CERT_FILE"
CA_CERT_HINT = (
    "If you set CODEX_CA_CERTIFICATE or SSL_CERT_FILE, ensure it points to a PEM file "
    "containing one or more CERTIFICATE blocks, or unset it to use system roots."
)
NO_CERTIFICATES = "no certificates found in PEM file"
TRUSTED_DER_LENGTH = (
    "failed to extract certificate data from TRUSTED CERTIFICATE: invalid DER length"
)

ErrorKind = Literal["read", "invalid", "register"]


class CustomCaError(Exception):
    """A CA bundle that cannot be used; ``str()`` is the reference message.

    ``kind`` is ``read`` (the file could not be read; codex keeps the io error kind),
    ``invalid`` (read, but no usable certificate material) or ``register`` (one
    certificate could not be added to the root store; ``index`` is 1-based).
    """

    def __init__(
        self, kind: ErrorKind, *, source_env: str, path: str, detail: str, index: int | None = None
    ) -> None:
        self.kind = kind
        self.source_env = source_env
        self.path = path
        self.detail = detail
        self.index = index
        if kind == "read":
            text = f"Failed to read CA certificate file {path} selected by {source_env}: {detail}. {CA_CERT_HINT}"
        elif kind == "invalid":
            text = f"Failed to load CA certificates from {path} selected by {source_env}: {detail}. {CA_CERT_HINT}"
        else:
            text = f"Failed to parse certificate #{index} from {path} selected by {source_env}: {detail}. {CA_CERT_HINT}"
        super().__init__(text)


@dataclass(frozen=True, slots=True)
class CaBundle:
    """The selected bundle and the variable that selected it."""

    source_env: str
    path: str

    def error(self, kind: ErrorKind, detail: str, index: int | None = None) -> CustomCaError:
        return CustomCaError(
            kind, source_env=self.source_env, path=self.path, detail=detail, index=index
        )


def select_ca_bundle(env: Mapping[str, str]) -> CaBundle | None:
    """``CODEX_CA_CERTIFICATE`` > ``SSL_CERT_FILE``; empty or absent = unset; None = system roots."""
    for name in (CODEX_CA_CERT_ENV, SSL_CERT_FILE_ENV):
        value = env.get(name)
        if value:
            return CaBundle(source_env=name, path=value)
    return None


# --- PEM sections, as rustls-pki-types reads them -----------------------------------------

_KNOWN_KINDS = frozenset(
    {
        b"CERTIFICATE",
        b"PUBLIC KEY",
        b"RSA PRIVATE KEY",
        b"PRIVATE KEY",
        b"EC PRIVATE KEY",
        b"X509 CRL",
        b"CERTIFICATE REQUEST",
        b"ECHCONFIG",
    }
)


class PemError(ValueError):
    """A PEM syntax or base64 error; ``str()`` is the rustls-pki-types Display text."""


def _rust_bytes(data: bytes) -> str:
    """``{:?}`` of a Rust ``Vec<u8>``: ``[45, 45, 66]``."""
    return "[" + ", ".join(str(b) for b in data) + "]"


_WS, _PAD, _INVALID = -1, -2, -3


def _b64_table() -> tuple[int, ...]:
    table = [_INVALID] * 256
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    for i, c in enumerate(alphabet):
        table[c] = i
    for c in (0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20):
        table[c] = _WS
    table[ord("=")] = _PAD
    return tuple(table)


_B64 = _b64_table()
_U64 = (1 << 64) - 1


_B64_SPACE = bytes.maketrans(b"", b"")


def _b64_decode(data: bytes) -> bytes:
    """rustls-pki-types' base64 decoder: same acceptance, same error names (Debug form).

    Canonical base64 (whitespace removed, padding only at the end of the last quad) is a
    subset the Rust decoder accepts with the same output, so it takes the C fast path;
    anything else goes through the port, which gives the exact error.
    """
    clean = data.translate(_B64_SPACE, b"\t\n\x0b\x0c\r ")
    if len(clean) % 4 == 0 and b"=" not in clean[:-2]:
        try:
            return binascii.a2b_base64(clean, strict_mode=True)
        except binascii.Error:
            pass
    return _b64_decode_port(data)


def _b64_decode_port(data: bytes) -> bytes:
    capacity = ((len(data) + 3) // 4) * 3
    out = bytearray()

    def put(*parts: int) -> None:
        if len(out) + len(parts) > capacity:
            raise PemError("base64 decode error: InsufficientOutputSpace")
        out.extend(p & 0xFF for p in parts)

    buffer = used = pad_mask = 0
    shift = 42
    for byte in data:
        code = _B64[byte]
        if code == _WS:
            continue
        if code == _INVALID:
            raise PemError(f"base64 decode error: InvalidCharacter({byte})")
        item, pad = (0, 1) if code == _PAD else (code, 0)
        if used == 8:
            if pad_mask:
                raise PemError("base64 decode error: PrematurePadding")
            put(*(buffer >> s for s in (40, 32, 24, 16, 8, 0)))
            buffer = used = pad_mask = 0
            shift = 42
        buffer |= item << shift
        shift -= 6
        pad_mask |= pad << used
        used += 1
    if used > 4:
        if pad_mask & 0b1111:
            raise PemError("base64 decode error: PrematurePadding")
        put(buffer >> 40, buffer >> 32, buffer >> 24)
        buffer = (buffer << 24) & _U64
        pad_mask >>= 4
        used -= 4
    if (used, pad_mask) == (0, 0):
        pass
    elif (used, pad_mask) == (4, 0):
        put(buffer >> 40, buffer >> 32, buffer >> 24)
    elif (used, pad_mask) in ((4, 0b1000), (3, 0)):
        put(buffer >> 40, buffer >> 32)
    elif (used, pad_mask) in ((4, 0b1100), (2, 0)):
        put(buffer >> 40)
    else:
        raise PemError("base64 decode error: InvalidTrailingPadding")
    return bytes(out)


_NEWLINE = re.compile(rb"[\r\n]")


def _lines(data: bytes) -> Iterator[bytes]:
    """Lines split at each ``\n`` or ``\r`` (so CRLF gives an empty line); no final empty line."""
    pos = 0
    while pos < len(data):
        m = _NEWLINE.search(data, pos)
        end = m.start() if m else len(data)
        yield data[pos:end]
        pos = end + 1


def _section_start(line: bytes) -> bytes:
    trailer, pos = 0, len(line)
    for i in range(len(line) - 1, -1, -1):
        b = line[i]
        if b == 0x2D:  # '-'
            trailer += 1
            pos = i
        elif b in (0x0A, 0x0D, 0x20):
            continue
        else:
            break
    if trailer != 5:
        raise PemError(f"illegal section start: {_rust_bytes(line)}")
    return line[11:pos]


def _is_end(line: bytes, label: bytes) -> bool:
    return (
        line.startswith(b"-----END ")
        and line[9:].startswith(label)
        and line[9 + len(label) :].startswith(b"-----")
    )


def pem_sections(data: bytes) -> Iterator[tuple[str, bytes]]:
    """Every recognised PEM section as ``(label, der)``, in order; raises :class:`PemError`.

    Lazy, like the Rust iterator: sections before a broken one are yielded first.
    Sections with labels rustls does not know are skipped without decoding.
    """
    lines = _lines(data)
    while True:
        b64 = bytearray()
        label: bytes | None = None
        while True:
            line = next(lines, None)
            if line is None:
                if label is not None:
                    raise PemError(f"missing section end marker: {_rust_bytes(label)}")
                return
            if line.startswith(b"-----BEGIN "):
                label = _section_start(line)
                continue
            if label is not None and _is_end(line, label):
                if label not in _KNOWN_KINDS:
                    label = None
                    b64.clear()
                    continue
                yield label.decode("ascii"), _b64_decode(bytes(b64))
                break
            if label is not None:
                b64.extend(line)


# --- loading -------------------------------------------------------------------------------


def _der_item_length(der: bytes) -> int | None:
    """The byte length of the first DER item (outer length only), or None if malformed."""
    if len(der) < 2:
        return None
    first = der[1]
    if not first & 0x80:
        length = 2 + first
        return length if length <= len(der) else None
    count = first & 0x7F
    if count == 0 or len(der) < 2 + count:
        return None
    content = int.from_bytes(der[2 : 2 + count], "big")
    length = 2 + count + content
    return length if length <= len(der) else None


def _io_detail(exc: OSError | ValueError) -> str:
    """A Rust ``io::Error`` Display: ``No such file or directory (os error 2)``."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"{os.strerror(exc.errno)} (os error {exc.errno})"
    if isinstance(exc, ValueError):  # a NUL in the path: Rust's InvalidInput message
        return "file name contained an unexpected NUL byte"
    return str(exc)


def load_ca_certificates(bundle: CaBundle) -> list[bytes]:
    """The DER certificates of ``bundle``, or :class:`CustomCaError` with the reference text."""
    try:
        with open(bundle.path, "rb") as fh:
            raw = fh.read()
    except (OSError, ValueError) as exc:
        raise bundle.error("read", _io_detail(exc)) from exc
    text = raw.decode("utf-8", errors="replace")
    trusted = "TRUSTED CERTIFICATE" in text
    if trusted:
        log.info(
            "normalizing OpenSSL TRUSTED CERTIFICATE labels in custom CA bundle %s", bundle.path
        )
        text = text.replace("BEGIN TRUSTED CERTIFICATE", "BEGIN CERTIFICATE").replace(
            "END TRUSTED CERTIFICATE", "END CERTIFICATE"
        )
    certificates: list[bytes] = []
    logged_crl = False
    try:
        for label, der in pem_sections(text.encode("utf-8")):
            if label == "CERTIFICATE":
                if trusted:
                    length = _der_item_length(der)
                    if length is None:
                        raise bundle.error("invalid", TRUSTED_DER_LENGTH)
                    der = der[:length]
                certificates.append(der)
            elif label == "X509 CRL" and not logged_crl:
                log.info("ignoring X509 CRL entries found in custom CA bundle %s", bundle.path)
                logged_crl = True
    except PemError as exc:
        raise bundle.error("invalid", f"failed to parse PEM file: {exc}") from exc
    if not certificates:
        raise bundle.error("invalid", NO_CERTIFICATES)
    log.info(
        "loaded %d certificates from custom CA bundle %s (%s)",
        len(certificates),
        bundle.path,
        bundle.source_env,
    )
    return certificates


def system_root_context() -> ssl.SSLContext:
    """A client context trusting the OpenSSL compiled-in default roots (no env lookup)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED + check_hostname
    paths = ssl.get_default_verify_paths()
    cafile = (
        paths.openssl_cafile
        if paths.openssl_cafile and os.path.isfile(paths.openssl_cafile)
        else None
    )
    capath = (
        paths.openssl_capath
        if paths.openssl_capath and os.path.isdir(paths.openssl_capath)
        else None
    )
    if cafile or capath:
        try:
            ctx.load_verify_locations(cafile=cafile, capath=capath)
        except (OSError, ssl.SSLError) as exc:  # a broken system store: trust nothing extra
            log.warning("could not load the system root certificates: %s", exc)
    return ctx


def build_client_ssl_context(
    env: Mapping[str, str], *, system_roots: bool = True
) -> ssl.SSLContext:
    """The client context the reference policy gives for ``env`` (never ``os.environ``).

    The system roots, plus every certificate of the bundle ``CODEX_CA_CERTIFICATE`` or
    ``SSL_CERT_FILE`` selects. ``system_roots=False`` leaves the system store out
    (tests that must not depend on the host). Raises :class:`CustomCaError`.
    """
    bundle = select_ca_bundle(env)
    if bundle is None:
        log.info(
            "using system root certificates because no CA override environment variable was selected"
        )
        return system_root_context() if system_roots else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    certificates = load_ca_certificates(bundle)
    ctx = system_root_context() if system_roots else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for index, der in enumerate(certificates, start=1):
        try:
            ctx.load_verify_locations(cadata=der)
        except ssl.SSLError as exc:
            raise bundle.error("register", _certificate_problem(der, exc), index) from exc
    return ctx


_SHARED: dict[tuple[tuple[bytes, ...], bool], ssl.SSLContext] = {}


def shared_client_ssl_context(
    env: Mapping[str, str], *, system_roots: bool = True
) -> ssl.SSLContext:
    """:func:`build_client_ssl_context`, made once per distinct set of trusted certificates
    and shared: the system roots take ~7 ms to load, once per case otherwise. The bundle is
    still read (and its errors raised, its lines logged) on every call; the context must
    not be changed by its users (use :func:`build_client_ssl_context` for one to change)."""
    bundle = select_ca_bundle(env)
    certificates = () if bundle is None else tuple(load_ca_certificates(bundle))
    key = (certificates, system_roots)
    shared = _SHARED.get(key)
    if shared is None:
        shared = _SHARED[key] = build_client_ssl_context(env, system_roots=system_roots)
    return shared


def _certificate_problem(der: bytes, exc: ssl.SSLError) -> str:
    """Why OpenSSL refused a certificate: cryptography's parse error when it has one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x509.load_der_x509_certificate(der)
    except ValueError as parse_error:
        return str(parse_error)
    return str(exc.reason or exc)


_PROXY_VARS = {
    "https": ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"),
    "wss": ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"),
    "http": ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"),
    "ws": ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"),
}


def proxy_for_url(url: str, env: Mapping[str, str]) -> str | None:
    """The proxy a client honouring the proxy variables uses for ``url``; None: direct.

    reqwest's system-proxy rules, which codex's HTTPS clients keep (``custom_ca.rs``
    builds on ``reqwest::Client::builder()`` without ``no_proxy()``; only its
    subprocess tests disable it): ``HTTPS_PROXY`` (then ``https_proxy``, ``ALL_PROXY``)
    for https URLs, ``HTTP_PROXY`` for http ones; ``NO_PROXY`` (or ``no_proxy``) lists
    hosts, domain suffixes or ``*`` that go direct. Empty values count as unset. Like
    the CA variables, they come from ``env`` (the client's environment), never from
    ``os.environ``.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    names = _PROXY_VARS.get(parts.scheme.lower())
    if not names:
        return None
    proxy = next((env[n] for n in names if env.get(n)), None)
    if not proxy:
        return None
    host = (parts.hostname or "").lower()
    no_proxy = env.get("NO_PROXY") or env.get("no_proxy") or ""
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return None
        entry = entry.lstrip(".")
        if host == entry or host.endswith("." + entry):
            return None
    return proxy if "://" in proxy else f"http://{proxy}"
