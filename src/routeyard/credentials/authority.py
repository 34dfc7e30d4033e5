"""`routeyard credentials init`: a local CA and a signer for development and tests.

C2PA validators refuse a self-signed signing certificate: the signer must be
an end-entity certificate (not a CA, key usage digitalSignature, an extended
key usage C2PA accepts: emailProtection or documentSigning) issued by a CA.
So this makes both, labelled in their names as a development CA that nobody
else trusts. Content signed with them validates (signature, hash binding)
everywhere, and is "trusted" only where someone adds this CA as an anchor.
For production a team brings a certificate from a CA on the C2PA trust list.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from routeyard.errors import ConfigError

ORGANISATION = "routeyard local development (UNTRUSTED)"
ALGORITHMS = ("es256", "es384", "ps256", "ed25519")
_DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")


@dataclass(frozen=True)
class Issued:
    folder: Path
    ca: Path
    signer_cert: Path
    signer_key: Path
    alg: str
    not_after: dt.datetime


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        ]
    )


def _key(alg: str):
    if alg == "es256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "es384":
        return ec.generate_private_key(ec.SECP384R1())
    if alg == "ps256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ed25519.Ed25519PrivateKey.generate()


def _hash(alg: str):
    return None if alg == "ed25519" else hashes.SHA384() if alg == "es384" else hashes.SHA256()


def _usage(*, sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not sign,
        crl_sign=not sign,
        encipher_only=False,
        decipher_only=False,
    )


def init(folder: Path, *, alg: str = "es256", force: bool = False, days: int = 365) -> Issued:
    """Write ``ca.pem``, ``ca.key``, ``signer.pem`` (the signer's chain: its
    certificate, then the CA's) and ``signer.key`` into ``folder``; keys 0600.
    An existing set is kept unless ``force``."""
    if alg not in ALGORITHMS:
        raise ConfigError(
            f"unknown signing algorithm '{alg}'", hint=f"one of: {', '.join(ALGORITHMS)}"
        )
    paths = {n: folder / n for n in ("ca.pem", "ca.key", "signer.pem", "signer.key")}
    present = [p for p in paths.values() if p.exists()]
    if present and not force:
        raise ConfigError(
            f"{present[0]} already exists: a signer is set up there",
            hint="pass --force to replace it (files it signed stay valid, "
            "but verify will no longer trust them through this CA)",
        )
    now = dt.datetime.now(dt.UTC)
    ca_key, key = _key(alg), _key(alg)
    ca_name = _name("routeyard development CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days * 10))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign=False), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, _hash(alg))
    )
    not_after = now + dt.timedelta(days=days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("routeyard development signer"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, _DOCUMENT_SIGNING]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, _hash(alg))
    )
    pem = serialization.Encoding.PEM
    folder.mkdir(parents=True, exist_ok=True)
    _write(paths["ca.pem"], ca.public_bytes(pem), 0o644)
    _write(paths["signer.pem"], cert.public_bytes(pem) + ca.public_bytes(pem), 0o644)
    for name, k in (("ca.key", ca_key), ("signer.key", key)):
        raw = k.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        _write(paths[name], raw, 0o600)
    return Issued(folder, paths["ca.pem"], paths["signer.pem"], paths["signer.key"], alg, not_after)


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def key_algorithm(key_pem: bytes) -> str:
    """The C2PA algorithm a private key signs with (es256/es384/es512, ps256, ed25519)."""
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"the C2PA signing key is not a readable, unencrypted PEM private key ({type(exc).__name__})",
            hint="give a PKCS#8 or traditional PEM key without a passphrase",
        ) from None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}.get(
            key.curve.name, "es256"
        )
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise ConfigError(
        "the C2PA signing key's type is not one C2PA signs with",
        hint="use an EC P-256/P-384, RSA or Ed25519 key",
    )
