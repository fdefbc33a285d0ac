"""Digital seals on certificate PDFs (PAdES, with pyHanko), and checking them.

Each partner body seals the rendered PDF with its own key, one incremental update after
the other, so both signatures stay valid and a verifier can check each separately. The
demo makes a small local certificate authority and one seal certificate per body; a
deployment configures each body's PKCS#12 file and passphrase instead, or keeps a body's key
in a hardware security module reached through PKCS#11: the app then holds a session with the
token and asks it to sign, and never sees that key.

Seals outlive their certificates (PAdES B-LTA) when a time-stamping authority is set: each
seal carries an RFC 3161 timestamp, and after the last one an incremental update adds the
chains and revocation data (the document security store, DSS) and a document timestamp over
everything. A verifier years later, offline, checks the document timestamp today and each
seal as of the time it proves, with the revocation data in the file.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import logging
import os
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import cms, core
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask_babel import gettext
from pkcs11.exceptions import PinIncorrect, PinLocked, PKCS11Error
from pyhanko.config.pkcs11 import TokenCriteria
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import SigningError, as_signing_certificate, simple_cms_attribute
from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session
from pyhanko.sign.signers.pdf_signer import TimestampDSSContentSettings
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    EmbeddedPdfSignature,
    validate_pdf_signature,
    validate_pdf_timestamp,
)
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy
from pyhanko_certvalidator.registry import SimpleCertificateStore, SimpleTrustManager
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from certification.errors import ServiceError

log = logging.getLogger(__name__)
# pyHanko reports a file changed after sealing (which anyone may upload) as warnings with a
# traceback each; check_seals logs one line with the finding instead.
logging.getLogger("pyhanko.sign.diff_analysis").setLevel(logging.ERROR)
# Checking a seal as of its timestamp first checks it today, which fails with a traceback
# once its certificate has expired; that is the expected path, not a problem to report.
for _noisy in ("pyhanko.sign.validation.ades", "pyhanko.sign.validation.generic_cms"):
    logging.getLogger(_noisy).setLevel(logging.ERROR)

#: The signature field of the document timestamp added after the seals.
DOCUMENT_TIMESTAMP_FIELD = "Document-timestamp"
# The demo CA's CRL is published nowhere: the address only tells validators that revocation
# data exists (so that it is required and embedded); ".invalid" never resolves.
DEMO_CRL_URL = "http://crl.demo.invalid/demo-ca.crl"
# Revocation is checked wherever a certificate names where to find it, and then required: a
# seal certificate that names a CRL cannot count as valid without one.
_REVOCATION_IF_DECLARED = "hard-fail"


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
    # "seal" (a body's signature) or "timestamp" (the document timestamp after the seals).
    kind: str = "seal"
    # When it was made: a timestamp's time, a seal's own timestamp, or else the time the
    # sealing software wrote into it (``time_attested`` False: the signer's claim only).
    signed_at: dt.datetime | None = None
    time_attested: bool = False

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted

    @property
    def is_timestamp(self) -> bool:
        return self.kind == "timestamp"


@dataclass(frozen=True)
class TimestampAuthority:
    """Where timestamps come from: an RFC 3161 authority over HTTP(S) (``url``), or a local
    one whose RSA key and certificate are a PKCS#12 file (``pkcs12_path``; demo and tests)."""

    url: str | None = None
    pkcs12_path: Path | None = None


@dataclass(frozen=True)
class LongTermSetup:
    """What makes sealed files verifiable after their certificates expire: the timestamp
    authority, the roots the chains end in, CRL files to embed, and whether revocation data
    may be fetched while sealing. Paths and settings, never opened keys, so that it can be
    sent to other processes."""

    authority: TimestampAuthority
    trust_root_paths: tuple[Path, ...]
    crl_paths: tuple[Path, ...] = ()
    fetch_revocation: bool = False


@dataclass(frozen=True)
class Archiver:
    """A :class:`LongTermSetup` opened: the timestamp client, trust roots and CRLs read."""

    timestamper: timestamps.TimeStamper
    trust_roots: tuple[asn1_x509.Certificate, ...]
    crls: tuple[bytes, ...]
    fetch_revocation: bool

    def validation_context(self) -> ValidationContext:
        # A context caches what it found, so each sealing gets a fresh one.
        return ValidationContext(
            trust_roots=list(self.trust_roots),
            crls=list(self.crls),
            allow_fetching=self.fetch_revocation,
            revocation_mode=_REVOCATION_IF_DECLARED,
        )


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


def open_archiver(setup: LongTermSetup) -> Archiver:
    """Read the local timestamp key (or set up the HTTP client), the trust roots and the
    CRLs, or say which file is wrong (``SigningNotConfigured``)."""
    authority = setup.authority
    if authority.url:
        timestamper: timestamps.TimeStamper = timestamps.HTTPTimeStamper(authority.url)
    elif authority.pkcs12_path is not None:
        timestamper = _local_timestamper(authority.pkcs12_path)
    else:
        raise SigningNotConfigured(gettext("No timestamp authority is configured."))
    for path in (*setup.trust_root_paths, *setup.crl_paths):
        if not path.is_file():
            raise SigningNotConfigured(
                gettext("The signing file %(path)s does not exist.", path=path)
            )
    try:
        roots = tuple(load_cert_from_pemder(str(path)) for path in setup.trust_root_paths)
        crls = tuple(_crl_der(path.read_bytes()) for path in setup.crl_paths)
    except ValueError as error:
        raise SigningNotConfigured(
            gettext("A trust root or CRL file cannot be read: %(error)s", error=error)
        ) from error
    return Archiver(timestamper, roots, crls, setup.fetch_revocation)


def _local_timestamper(path: Path) -> LocalTimeStamper:
    if not path.is_file():
        raise SigningNotConfigured(
            gettext("The local timestamp authority's file %(path)s does not exist.", path=path)
        )
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(path.read_bytes(), None)
    except ValueError as error:
        raise SigningNotConfigured(
            gettext("The local timestamp authority's file %(path)s cannot be opened.", path=path)
        ) from error
    if not isinstance(key, rsa.RSAPrivateKey) or certificate is None:
        # pyHanko's local time stamper signs with RSA only.
        raise SigningNotConfigured(
            gettext(
                "The local timestamp authority's file %(path)s needs an RSA key and its"
                " certificate.",
                path=path,
            )
        )
    der = serialization.Encoding.DER
    return LocalTimeStamper(
        key,
        tsa_cert=asn1_x509.Certificate.load(certificate.public_bytes(der)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        ),
        certs_to_embed=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(c.public_bytes(der)) for c in chain]
        ),
    )


class LocalTimeStamper(DummyTimeStamper):
    """pyHanko's local time stamper, with its RSA key loaded once: the original loads it
    again for every timestamp, and checking an RSA key costs ~40 ms (three per certificate).
    The response is built as pyHanko builds it."""

    def __init__(self, private_key: rsa.RSAPrivateKey, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._private_key = private_key

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, moment: dt.datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        md_spec = get_pyca_cryptography_hash(md_algorithm)
        digest = hashes.Hash(md_spec)
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(moment)})),
                simple_cms_attribute("signing_certificate", as_signing_certificate(self.tsa_cert)),
                simple_cms_attribute("message_digest", digest.finalize()),
            ]
        )
        signature = self._private_key.sign(
            signed_attrs.dump(), PKCS1v15(), get_pyca_cryptography_hash(md_algorithm.upper())
        )
        return signature, signed_attrs


def _crl_der(data: bytes) -> bytes:
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_crl(data).public_bytes(serialization.Encoding.DER)
    x509.load_der_x509_crl(data)  # a ValueError here names a damaged file at start
    return data


def seal_pdf(
    pdf: bytes, sealers: list[tuple[str, signers.Signer]], archiver: Archiver | None = None
) -> bytes:
    """Sign ``pdf`` once per (field name, signer), each as an incremental update; with an
    ``archiver``, each seal timestamped and then the validation data and a document
    timestamp added (PAdES B-LTA)."""
    timestamper = archiver.timestamper if archiver is not None else None
    for field, signer in sealers:
        if isinstance(signer, PKCS11Signer):
            with _HSM_LOCK:
                try:
                    pdf = _sign(pdf, field, signer, timestamper)
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
            pdf = _sign(pdf, field, signer, timestamper)
    if archiver is not None:
        pdf = _archive(pdf, archiver, [signer for _, signer in sealers])
    return pdf


def _sign(
    pdf: bytes, field: str, signer: signers.Signer, timestamper: timestamps.TimeStamper | None
) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    metadata = signers.PdfSignatureMetadata(
        field_name=field,
        reason="Issued jointly by EFRS and EuSoMII",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    try:
        return signers.sign_pdf(writer, metadata, signer=signer, timestamper=timestamper).getvalue()
    except timestamps.TimestampRequestError as error:
        raise _authority_silent(error) from error


def _archive(pdf: bytes, archiver: Archiver, sealed_by: list[signers.Signer]) -> bytes:
    """Add the seals' and the authority's chains and revocation data (DSS) and a document
    timestamp over all of it, in one incremental update after the seals."""
    context = archiver.validation_context()
    try:
        # The signers' own certificates, not the ones read back from the file: the same,
        # and reading the signatures back costs more than the rest of this step.
        paths = asyncio.run(_validation_paths(sealed_by, context))
    except (PathBuildingError, PathValidationError) as error:
        raise SigningNotConfigured(
            gettext(
                "The seals' certificates cannot be validated for embedding (%(error)s): check"
                " SIGNING_TRUST_ROOTS, SIGNING_CRLS and SIGNING_FETCH_REVOCATION.",
                error=error,
            )
        ) from error
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    DocumentSecurityStore.supply_dss_in_writer(
        writer, None, paths=paths, validation_context=context
    )
    stamper = signers.PdfTimeStamper(archiver.timestamper, field_name=DOCUMENT_TIMESTAMP_FIELD)
    try:
        return stamper.timestamp_pdf(
            writer,
            "sha256",
            validation_context=context,
            # The DSS goes into the timestamped revision, so the timestamp covers it.
            dss_settings=TimestampDSSContentSettings(update_before_ts=True, include_vri=False),
        ).getvalue()
    except timestamps.TimestampRequestError as error:
        raise _authority_silent(error) from error
    except (PathBuildingError, PathValidationError, SigningError) as error:
        raise SigningNotConfigured(
            gettext(
                "The timestamp authority's certificate cannot be validated (%(error)s): its"
                " root must be among SIGNING_TRUST_ROOTS.",
                error=error,
            )
        ) from error


async def _validation_paths(
    sealed_by: list[signers.Signer], context: ValidationContext
) -> list[ValidationPath]:
    """Each seal certificate's path to a trust root, checked (revocation data included, so
    that the context holds it for the DSS). The timestamps' authority is the document
    timestamp's, whose path the time stamper adds."""
    paths = []
    for signer in sealed_by:
        if signer.signing_cert is None:
            raise PathBuildingError("a seal without its certificate")
        validator = CertificateValidator(
            signer.signing_cert,
            intermediate_certs=list(signer.cert_registry),
            validation_context=context,
        )
        paths.append(await validator.async_validate_usage(key_usage=set()))
    return paths


def _authority_silent(error: Exception) -> SigningNotConfigured:
    return SigningNotConfigured(
        gettext(
            "The timestamp authority did not answer (%(error)s); nothing was issued.",
            error=str(error) or type(error).__name__,
        )
    )


def load_trust_roots(paths: list[Path]) -> list[object]:
    return [load_cert_from_pemder(str(path)) for path in paths]


def check_seals(
    pdf: bytes, trust_roots: list[object], *, at: dt.datetime | None = None
) -> list[SealCheck]:
    """Validate every signature in ``pdf``: the seals, then any document timestamp, in the
    file's order. Raises ``ValueError`` if it is not a PDF.

    A file with a document timestamp is checked as PAdES B-LTA: the timestamp as of ``at``
    (default: now), each seal as of the time the timestamps prove, with the revocation data
    the file carries and nothing fetched, so that it holds after the seal certificates
    expire. A file without one is checked as of ``at``, as it always was."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception as error:  # pyHanko raises several types for damaged files
        raise ValueError("This file is not a readable PDF.") from error
    archived = any(_is_document_timestamp(signature) for signature in signatures)
    checks = []
    for signature in signatures:
        try:
            if _is_document_timestamp(signature):
                check = _check_timestamp(signature, trust_roots, at)
            elif archived:
                check = _check_archived_seal(signature, trust_roots, at)
            else:
                context = ValidationContext(trust_roots=trust_roots, moment=at)
                check = _seal_check(signature, validate_pdf_signature(signature, context))
        except Exception as error:
            # Anyone may upload anything: one line on what failed, never a traceback.
            log.info(
                "Seal %s could not be validated: %s", signature.field_name, type(error).__name__
            )
            kind = "timestamp" if _is_document_timestamp(signature) else "seal"
            check = SealCheck(signature.field_name, "", False, False, False, False, kind=kind)
        checks.append(
            dataclasses.replace(
                check,
                revision=signature.signed_revision + 1,
                revisions=reader.xrefs.total_revisions,
            )
        )
    seals = sum(1 for check in checks if not check.is_timestamp)
    log.info(
        "PDF checked: %s seals, %s timestamps, %s",
        seals,
        len(checks) - seals,
        _finding(checks),
    )
    return checks


def _is_document_timestamp(signature: EmbeddedPdfSignature) -> bool:
    return signature.sig_object_type == "/DocTimeStamp"


def _seal_check(
    signature: EmbeddedPdfSignature, status: PdfSignatureStatus, *, trusted: bool | None = None
) -> SealCheck:
    stamp = status.timestamp_validity
    attested = stamp is not None and stamp.intact and stamp.valid and stamp.trusted
    return SealCheck(
        field=signature.field_name,
        signer=_name(status.signing_cert),
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted) if trusted is None else trusted,
        covers_whole_file=status.coverage is not None and status.coverage.name == "ENTIRE_FILE",
        changed_after=status.docmdp_ok is False,
        signed_at=stamp.timestamp if attested and stamp else status.signer_reported_dt,
        time_attested=attested,
    )


def _check_archived_seal(
    signature: EmbeddedPdfSignature, trust_roots: list[object], at: dt.datetime | None
) -> SealCheck:
    """A seal of a B-LTA file, validated as of the time its timestamps prove (ETSI EN 319
    102-1 long-term validation), with only the revocation data the file and the
    configuration hold."""
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=trust_roots),
        revinfo_policy=CertRevTrustPolicy(
            RevocationCheckingPolicy.from_legacy(_REVOCATION_IF_DECLARED)
        ),
    )
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=policy,
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )
    moment = at or dt.datetime.now(dt.UTC)
    timing = ValidationTimingInfo(
        validation_time=moment, best_signature_time=moment, point_in_time_validation=False
    )
    result = asyncio.run(ades_lta_validation(signature, spec, timing_info=timing))
    status = result.api_status
    if status is None:
        raise ValueError(result.failure_msg or "no status")
    return _seal_check(signature, status, trusted=result.ades_subindic is AdESPassed.OK)


def _check_timestamp(
    signature: EmbeddedPdfSignature, trust_roots: list[object], at: dt.datetime | None
) -> SealCheck:
    """The document timestamp: valid as of ``at``, and nothing but validation data or
    further timestamps added after it."""
    context = ValidationContext(trust_roots=trust_roots, moment=at)
    status = validate_pdf_timestamp(signature, context)
    level = status.modification_level
    return SealCheck(
        field=signature.field_name,
        signer=_name(status.signing_cert),
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        covers_whole_file=status.coverage is not None and status.coverage.name == "ENTIRE_FILE",
        changed_after=level is not None
        and level not in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES),
        kind="timestamp",
        signed_at=status.timestamp,
        time_attested=bool(status.intact and status.valid and status.trusted),
    )


def _name(certificate: asn1_x509.Certificate | None) -> str:
    subject = certificate.subject.native if certificate is not None else {}
    return str(subject.get("organization_name") or subject.get("common_name") or "")


def changed_after_sealing(checks: list[SealCheck]) -> bool:
    """Whether anything but the next seal, validation data or a timestamp was added after
    the seals: an incremental update that edits the file, or bytes appended to it."""
    if not checks:
        return False
    return any(check.changed_after for check in checks) or not checks[-1].covers_whole_file


def _finding(checks: list[SealCheck]) -> str:
    if not checks:
        return "none to check"
    if not all(check.intact and check.valid for check in checks):
        return "at least one broken or not valid"
    if changed_after_sealing(checks):
        return "intact, but the file was changed after sealing"
    return "intact and valid over the whole file"


# ------------------------------------------------------------------ the demo authority


def make_demo_keys(
    directory: Path,
    bodies: dict[str, str],
    *,
    now: dt.datetime | None = None,
    seal_validity: dt.timedelta = dt.timedelta(days=3650),
    time_stamping: bool = True,
) -> None:
    """Create a local CA, one seal certificate per body and a time-stamping authority in
    ``directory``.

    ``bodies`` maps a short name to the full organisation name. Files: ``demo-ca.pem``
    (the trust root), ``<short>-seal.p12`` per body, ``demo-tsa.p12`` (the local
    time-stamping authority: RSA, as pyHanko's local time stamper needs) and
    ``demo-ca.crl`` (the CA's revocation list, empty, which the seal certificates name), all
    unencrypted, readable by the owner only. ``seal_validity`` is how long the seal
    certificates last (tests shorten it to see seals outlive them). ``time_stamping=False``
    leaves out the authority (its RSA key takes ~100 ms to make), for throwaway keys that
    seal without timestamps. For demonstrations and tests; never for a real deployment.
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
    ca_until = now + dt.timedelta(days=3650)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(ca_until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(directory / "demo-ca.pem", ca_cert.public_bytes(serialization.Encoding.PEM))
    issued_by_ca = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    # The demo CA revokes nothing, and its list is good for as long as the CA lasts: a demo
    # that runs for months still seals with it (a real CA's lists last days, and are fetched).
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_name)
        .last_update(now - dt.timedelta(days=1))
        .next_update(ca_until)
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(issued_by_ca, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(directory / "demo-ca.crl", crl.public_bytes(serialization.Encoding.DER))

    def leaf(subject: x509.Name, public_key: Any, until: dt.datetime) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(until)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            # Validators expect non-repudiation (content commitment) on a document seal.
            .add_extension(
                _key_usage(digital_signature=True, content_commitment=True), critical=True
            )
            .add_extension(issued_by_ca, critical=False)
        )

    for short_name, organisation in bodies.items():
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{short_name} certificate seal (demo)"),
            ]
        )
        cert = (
            leaf(subject, key.public_key(), now + seal_validity)
            # Naming the CRL makes validators require revocation data for the seal, which
            # the sealed file then carries.
            .add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier(DEMO_CRL_URL)], None, None, None
                        )
                    ]
                ),
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
    if not time_stamping:
        return
    # The authority outlives the seals, as a real one's certificate does: a verifier years
    # later checks the document timestamp today. It names no CRL (nothing to look up).
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa_subject = x509.Name(
        [
            x509.NameAttribute(
                NameOID.ORGANIZATION_NAME, "Imaging Informatics Certification (demo)"
            ),
            x509.NameAttribute(NameOID.COMMON_NAME, "Demo Time-Stamping Authority"),
        ]
    )
    tsa_cert = (
        leaf(tsa_subject, tsa_key.public_key(), ca_until)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    bundle = pkcs12.serialize_key_and_certificates(
        b"demo time-stamping authority",
        tsa_key,
        tsa_cert,
        [ca_cert],
        serialization.NoEncryption(),
    )
    _write_private(directory / "demo-tsa.p12", bundle)


def _key_usage(**usages: bool) -> x509.KeyUsage:
    every = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{usage: usages.get(usage, False) for usage in every})


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)
