"""Digital seals on certificate PDFs (PAdES, with pyHanko), and checking them.

Each partner body seals the rendered PDF with its own key, one incremental update after
the other, so both signatures stay valid and a verifier can check each separately. The
demo makes a small local certificate authority and one seal certificate per body; a
deployment configures each body's PKCS#12 file and passphrase instead, or keeps a body's key
in a hardware security module reached through PKCS#11: the app then holds a session with the
token and asks it to sign, and never sees that key.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from flask_babel import gettext
from pkcs11.exceptions import PinIncorrect, PinLocked, PKCS11Error
from pyhanko.config.pkcs11 import TokenCriteria
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from certification.errors import ServiceError

log = logging.getLogger(__name__)
# pyHanko reports a file changed after sealing (which anyone may upload) as warnings with a
# traceback each; check_seals logs one line with the finding instead.
logging.getLogger("pyhanko.sign.diff_analysis").setLevel(logging.ERROR)


class SigningNotConfigured(ServiceError):
    """A seal key is missing or cannot be opened: nothing can be issued until it is fixed."""

    slug = "signing_not_configured"
    http_status = 503


class PinRefused(SigningNotConfigured):
    """A token refused the PIN: trying the same PIN again would only bring the token closer
    to locking it."""


@dataclass(frozen=True)
class SealKey:
    """Where one body's seal lives: a PKCS#12 file and its passphrase (None if unencrypted)."""

    body: str  # short name, e.g. "EFRS"; also names the signature field
    pkcs12_path: Path
    passphrase: bytes | None = None


@dataclass(frozen=True)
class Pkcs11SealKey:
    """Where one body's seal lives in a hardware security module: the PKCS#11 module, the
    token's label, the key's label, and the name of the environment variable holding the
    PIN (read when the token is opened, never kept in the configuration). ``cert_path`` is
    the signing certificate (PEM) when the token does not hold it under the key's label."""

    body: str
    module: Path
    token: str
    key_label: str
    pin_env: str
    cert_path: Path | None = None


AnySealKey = SealKey | Pkcs11SealKey

# One PKCS#11 session is shared by the threads of a process: one signature at a time on it.
_HSM_LOCK = threading.Lock()


@dataclass(frozen=True)
class SealCheck:
    """One signature found in a PDF, and what validation made of it."""

    field: str
    signer: str
    intact: bool  # the signed bytes are unchanged
    valid: bool  # the cryptographic signature is correct
    trusted: bool  # the signing certificate chains to a configured trust root
    covers_whole_file: bool  # nothing was appended after this signature (or later ones)
    # Changed after this seal in a way the seal does not allow (anything but the next
    # body's seal): the seal itself is intact, but it vouches only for an earlier revision,
    # ``revision`` of ``revisions`` (1 = the file as first written).
    changed_after: bool = False
    revision: int | None = None
    revisions: int | None = None

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted


def load_signer(key: AnySealKey) -> signers.Signer:
    if isinstance(key, Pkcs11SealKey):
        return _open_token(key)
    if not key.pkcs12_path.is_file():
        raise SigningNotConfigured(
            gettext(
                "The %(body)s seal file %(path)s does not exist.",
                body=key.body,
                path=key.pkcs12_path,
            )
        )
    signer = signers.SimpleSigner.load_pkcs12(str(key.pkcs12_path), passphrase=key.passphrase)
    if signer is None:  # pyHanko answers None, not an exception, for a bad file or passphrase
        raise SigningNotConfigured(
            gettext(
                "The %(body)s seal %(path)s cannot be opened.", body=key.body, path=key.pkcs12_path
            )
        )
    return signer


def _open_token(key: Pkcs11SealKey) -> PKCS11Signer:
    """Log in to the body's token and find its key and certificate, or say what is wrong."""
    pin = os.environ.get(key.pin_env)
    if not pin:
        raise SigningNotConfigured(
            gettext(
                "The %(body)s seal PIN is not set: the environment variable %(variable)s is empty.",
                body=key.body,
                variable=key.pin_env,
            )
        )
    if not key.module.is_file():
        raise SigningNotConfigured(
            gettext(
                "The %(body)s seal's PKCS#11 module %(module)s does not exist.",
                body=key.body,
                module=key.module,
            )
        )
    certificate = None
    if key.cert_path is not None:
        if not key.cert_path.is_file():
            raise SigningNotConfigured(
                gettext(
                    "The %(body)s seal certificate %(path)s does not exist.",
                    body=key.body,
                    path=key.cert_path,
                )
            )
        certificate = load_cert_from_pemder(str(key.cert_path))
    try:
        session = open_pkcs11_session(
            str(key.module), token_criteria=TokenCriteria(label=key.token), user_pin=pin
        )
    except (PinIncorrect, PinLocked) as error:
        raise PinRefused(
            gettext(
                "The %(body)s seal token '%(token)s' refused the PIN in %(variable)s (%(error)s).",
                body=key.body,
                token=key.token,
                variable=key.pin_env,
                error=type(error).__name__,
            )
        ) from error
    except PKCS11Error as error:
        raise SigningNotConfigured(
            gettext(
                "The %(body)s seal token '%(token)s' cannot be opened through %(module)s:"
                " %(error)s",
                body=key.body,
                token=key.token,
                module=key.module,
                error=str(error) or type(error).__name__,
            )
        ) from error
    signer = PKCS11Signer(session, key_label=key.key_label, signing_cert=certificate)
    try:  # find the key (and the certificate) now, not while sealing
        if signer.signing_cert is None:
            raise PKCS11Error("no signing certificate")
    except PKCS11Error as error:
        session.close()
        message = (
            gettext(
                "The %(body)s seal token '%(token)s' has no usable key '%(key)s': %(error)s",
                body=key.body,
                token=key.token,
                key=key.key_label,
                error=error,
            )
            if certificate
            else gettext(
                "The %(body)s seal token '%(token)s' has no usable key '%(key)s' with its"
                " certificate: %(error)s",
                body=key.body,
                token=key.token,
                key=key.key_label,
                error=error,
            )
        )
        raise SigningNotConfigured(message) from error
    # ECDSA: the token signs the digest made here (CKM_ECDSA), the one mechanism every token
    # has; SoftHSM 2.6, for one, lacks CKM_ECDSA_SHA256.
    signer.use_raw_mechanism = signer.signing_cert.public_key.algorithm == "ec"
    return signer


def close_session(signer: signers.Signer) -> None:
    """Log out of the token a PKCS#11 signer holds a session with (nothing for PKCS#12)."""
    if isinstance(signer, PKCS11Signer):
        try:
            signer.pkcs11_session.close()
        except PKCS11Error as error:  # the token may be gone already
            log.info("Closing a PKCS#11 session failed: %s", type(error).__name__)


# Signers whose token session failed while sealing (the HSM restarted, the network to it
# broke): the settings open a new session for the next certificate instead of reusing it.
_lost_sessions: weakref.WeakSet[PKCS11Signer] = weakref.WeakSet()


def session_lost(signer: signers.Signer) -> bool:
    return isinstance(signer, PKCS11Signer) and signer in _lost_sessions


def seal_pdf(pdf: bytes, sealers: list[tuple[str, signers.Signer]]) -> bytes:
    """Sign ``pdf`` once per (field name, signer), each as an incremental update."""
    for field, signer in sealers:
        if isinstance(signer, PKCS11Signer):
            with _HSM_LOCK:
                try:
                    pdf = _sign(pdf, field, signer)
                except PKCS11Error as error:
                    _lost_sessions.add(signer)
                    raise SigningNotConfigured(
                        gettext(
                            "The token behind the %(field)s signature stopped answering"
                            " (%(error)s); the next attempt logs in to it again.",
                            field=field,
                            error=str(error) or type(error).__name__,
                        )
                    ) from error
        else:
            pdf = _sign(pdf, field, signer)
    return pdf


def _sign(pdf: bytes, field: str, signer: signers.Signer) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    metadata = signers.PdfSignatureMetadata(
        field_name=field,
        reason="Issued jointly by EFRS and EuSoMII",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    return signers.sign_pdf(writer, metadata, signer=signer).getvalue()


def load_trust_roots(paths: list[Path]) -> list[object]:
    return [load_cert_from_pemder(str(path)) for path in paths]


def check_seals(pdf: bytes, trust_roots: list[object]) -> list[SealCheck]:
    """Validate every signature in ``pdf``. Raises ``ValueError`` if it is not a PDF."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception as error:  # pyHanko raises several types for damaged files
        raise ValueError("This file is not a readable PDF.") from error
    context = ValidationContext(trust_roots=trust_roots)
    checks = []
    for signature in signatures:
        try:
            status = validate_pdf_signature(signature, context)
        except Exception as error:
            # Anyone may upload anything: one line on what failed, never a traceback.
            log.info(
                "Seal %s could not be validated: %s", signature.field_name, type(error).__name__
            )
            checks.append(SealCheck(signature.field_name, "", False, False, False, False))
            continue
        subject = status.signing_cert.subject.native if status.signing_cert else {}
        checks.append(
            SealCheck(
                field=signature.field_name,
                signer=str(subject.get("organization_name") or subject.get("common_name") or ""),
                intact=bool(status.intact),
                valid=bool(status.valid),
                trusted=bool(status.trusted),
                covers_whole_file=status.coverage is not None
                and status.coverage.name == "ENTIRE_FILE",
                changed_after=status.docmdp_ok is False,
                revision=signature.signed_revision + 1,
                revisions=reader.xrefs.total_revisions,
            )
        )
    log.info("PDF checked: %s seals, %s", len(checks), _finding(checks))
    return checks


def _finding(checks: list[SealCheck]) -> str:
    if not checks:
        return "none to check"
    if not all(check.intact and check.valid for check in checks):
        return "at least one broken or not valid"
    if not all(check.covers_whole_file for check in checks):
        return "intact, but the file was changed after sealing"
    return "intact and valid over the whole file"


# ------------------------------------------------------------------ the demo authority


def make_demo_keys(
    directory: Path, bodies: dict[str, str], *, now: dt.datetime | None = None
) -> None:
    """Create a local CA and one seal certificate per body in ``directory``.

    ``bodies`` maps a short name to the full organisation name. Files: ``demo-ca.pem``
    (the trust root) and ``<short>-seal.p12`` per body, unencrypted, readable by the owner
    only. For demonstrations and tests; never for a real deployment.
    """
    now = now or dt.datetime.now(dt.UTC)
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(
                NameOID.ORGANIZATION_NAME, "Imaging Informatics Certification (demo)"
            ),
            x509.NameAttribute(
                NameOID.COMMON_NAME, "Demo Certificate Authority — not for real use"
            ),
        ]
    )
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(directory / "demo-ca.pem", ca_cert.public_bytes(serialization.Encoding.PEM))
    for short_name, organisation in bodies.items():
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{short_name} certificate seal (demo)"),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            # Validators expect non-repudiation (content commitment) on a document seal.
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        bundle = pkcs12.serialize_key_and_certificates(
            f"{short_name} seal".encode(),
            key,
            cert,
            [ca_cert],
            serialization.NoEncryption(),
        )
        _write_private(directory / f"{short_name.lower()}-seal.p12", bundle)


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)
