"""Issuing, revoking, reissuing and verifying certificates.

Every function flushes and writes its audit event; none commits. Issuing is serialised per
candidate (a row lock on PostgreSQL, the write lock on SQLite) and guarded by a partial
unique index, so that two administrators clicking at once cannot issue twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import tempfile
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from blinker import Namespace
from flask_babel import force_locale, gettext, lazy_gettext
from sqlalchemy.exc import IntegrityError

from certification.audit import record_event
from certification.auth.models import User
from certification.auth.services import check_language, update_candidate
from certification.catalogue.models import ApprovalPolicy, Level, Programme
from certification.catalogue.services import programme_rules
from certification.catalogue.wording import translations_in
from certification.certificates import look_ups
from certification.certificates.branding import image_contents
from certification.certificates.codes import new_code
from certification.certificates.eligibility import eligible_not_holding, holders
from certification.certificates.holds import place_hold, refuse_if_on_hold
from certification.certificates.models import (
    AwardRequest,
    BrandingImage,
    Certificate,
    CertificateStatus,
    PartnerBody,
    RequestState,
    Verification,
)
from certification.certificates.pdf import (
    Attachment,
    CertificateSnapshot,
    Issuer,
    Wording,
    format_long_date,
    render_certificate_pdf,
    write_wording,
)
from certification.certificates.public import (
    NO_SUCH_CERTIFICATE,
    PublicCertificate,
    code_to_look_up,
)
from certification.certificates.settings import (
    CertificateSettings,
    archiver_for,
    current_settings,
    signer_for,
    trust_roots,
)
from certification.certificates.signing import (
    AnySealKey,
    LongTermSetup,
    SealCheck,
    SealKey,
    SigningNotConfigured,
    check_seals,
    make_demo_keys,
    seal_pdf,
)
from certification.errors import Conflict, InvalidInput, NotFound, RuleViolation, ServiceError
from certification.extensions import db
from certification.i18n import say
from certification.languages import offered
from certification.progress import (
    ProgressReport,
    Transcript,
    evaluate_progress,
    subtract_months,
)
from certification.records.services import (
    TranscriptView,
    Withdrawal,
    load_transcript,
    withdrawals,
    withdrawn_since_issue,
)
from certification.records.services import (
    candidate_progress as records_progress,
)
from certification.records.services import (
    search_candidates as records_search,
)
from certification.types import utcnow
from certification.validation import FieldErrors, check_text, clean_text

log = logging.getLogger(__name__)

_signals = Namespace()
#: Sent with the new certificate (and ``replaces``: the code a reissue supersedes, or None)
#: in the transaction that issues it. The mail area listens and writes the holder's e-mail
#: into its outbox in that same transaction, so a rolled-back issue sends nothing and a
#: committed one never loses its e-mail. A signal, because mail sits above this area.
certificate_issued = _signals.signal("certificate-issued")
#: Sent with the revoked certificate in the transaction that revokes it, once its award is
#: on hold. The mail area listens and writes the holder's e-mail, as for issuing.
certificate_revoked = _signals.signal("certificate-revoked")
#: Sent with a jointly approved certificate in the transaction in which one partner body's
#: revocation suspends it (:func:`certification.certificates.approvals.revoke_award`): the
#: mail area writes the holder's e-mail, as for revoking.
certificate_suspended = _signals.signal("certificate-suspended")
#: Sent with a certificate in the transaction that lifts its suspension (the other body
#: declined the revocation), and ``body``, ``reason``, ``suspended_by``, ``suspended_at``
#: and ``reinstated_at``: the suspension is gone from the certificate by then.
certificate_reinstated = _signals.signal("certificate-reinstated")
#: Sent with a certificate whose PDF is about to be rendered; each receiver answers with a
#: file for the PDF to carry (a :class:`pdf.Attachment`), or None. The credentials area,
#: above this one, answers with the certificate's signed credential, so that the seals
#: cover it. The one signal whose answers are used: a question to a higher area, asked
#: without importing it.
certificate_sealing = _signals.signal("certificate-sealing")

CODE_PREFIXES = {Level.CERTIFICATE: "EIC", Level.DIPLOMA: "EID"}


class RequirementsNotMet(ServiceError):
    slug = "requirements_not_met"
    http_status = 422

    def __init__(self, missing: list[str]) -> None:
        super().__init__(
            gettext("The candidate does not yet meet every requirement of this award.")
        )
        self.missing = [say(sentence) for sentence in missing]  # in the asker's language


class AlreadyIssued(ServiceError):
    slug = "already_issued"
    http_status = 409

    def __init__(self, code: str) -> None:
        super().__init__(
            gettext("A current certificate for this award already exists: %(code)s.", code=code)
        )
        self.code = code


class AlreadyRequested(AlreadyIssued):
    slug = "already_requested"

    def __init__(self, code: str) -> None:
        ServiceError.__init__(
            self,
            gettext(
                "This award was already requested for the candidate (%(code)s) and awaits"
                " approval by the partner bodies.",
                code=code,
            ),
        )
        self.code = code


class ApprovalRequired(Conflict):
    """A jointly approved award (``both_bodies``) sealed or stored without each body's yes:
    the code never applies a body's seal before that body's officer approved."""

    slug = "approval_required"

    def __init__(self, programme: Programme) -> None:
        super().__init__(
            gettext(
                "%(code)s is approved by both partner bodies: request it, and each"
                " body's officer approves before its seal is applied.",
                code=programme.code,
            )
        )


# ---------------------------------------------------------------- look-ups


def find_certificate(text: str) -> Certificate:
    """The certificate a typed code names (see :func:`code_to_look_up`)."""
    code = code_to_look_up(text)
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.code == code))
    if certificate is None:
        raise NotFound(str(NO_SUCH_CERTIFICATE))
    return certificate


def certificates_of(candidate: User) -> list[Certificate]:
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .where(Certificate.candidate_id == candidate.id)
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


def held_awards(candidate: User, today: dt.date) -> frozenset[str]:
    """Codes of the programmes whose certificate the candidate holds and is valid today."""
    # A suspended certificate still counts: one body asked for its revocation, and until
    # the other agrees it is not revoked (as the lists of holders count it, by is_current).
    return frozenset(
        c.programme.code
        for c in certificates_of(candidate)
        if c.status_on(today) in (CertificateStatus.VALID, CertificateStatus.SUSPENDED)
    )


def candidate_progress(candidate: User, today: dt.date) -> list[ProgressReport]:
    """Progress towards every programme, counting awards already held as prerequisites."""
    return records_progress(candidate, today, held_awards(candidate, today))


def can_download(certificate: Certificate, viewer: User | None) -> bool:
    """The office, the officers and the holder may download the PDF; nobody else."""
    return viewer is not None and (
        viewer.reads_all_records or viewer.id == certificate.candidate_id
    )


def partner_bodies() -> list[PartnerBody]:
    return list(db.session.scalars(sa.select(PartnerBody).order_by(PartnerBody.position)))


# ---------------------------------------------------------------- issuing


def issue_certificate(
    candidate: User,
    programme: Programme,
    actor: User | None,
    *,
    today: dt.date,
    now: dt.datetime | None = None,
) -> Certificate:
    """Issue ``programme``'s certificate to ``candidate`` if every requirement is met: for
    a programme the office issues alone (approval ``office``); a jointly approved one is
    requested (:func:`certification.certificates.approvals.request_award`)."""
    refuse_unless_delegated(programme)
    lock_candidate(candidate)
    certificate = prepare_certificate(candidate, programme, actor, today=today, now=now)
    _seal(certificate, sealing_setup())
    return store_certificate(certificate, actor, today=today)


@dataclass(frozen=True)
class SealingSetup:
    """What sealing needs besides the snapshot: the signature fields and where each body's
    key lives (a file and its passphrase, or a token and the name of its PIN's variable;
    never opened keys), so that it can be sent to other processes; and where the
    timestamps come from (None: sealed without, PAdES B-B)."""

    sealers: tuple[tuple[str, AnySealKey], ...]
    long_term: LongTermSetup | None = None


def sealing_setup(bodies: Collection[str] | None = None) -> SealingSetup:
    """The seals of the partner ``bodies`` named (by short name: those whose officers
    approved), or of both for an award the office issues alone; each checked to open.
    ``SigningNotConfigured`` if one does not."""
    settings = current_settings()
    sealers = []
    for body in two_bodies():
        if bodies is not None and body.short_name not in bodies:
            continue
        key = settings.seal_key(body.short_name)
        if key is None:
            raise SigningNotConfigured(
                gettext("No seal key is configured for %(body)s.", body=body.short_name)
            )
        signer_for(key)  # opens it: a missing file or a wrong passphrase is found before any work
        sealers.append((seal_field(body), key))
    if settings.long_term is not None:
        archiver_for(settings.long_term)  # a missing CRL or authority file, found now too
    elif not _warned_without_timestamps:
        _warn_without_timestamps()
    return SealingSetup(tuple(sealers), settings.long_term)


_warned_without_timestamps = False


def _warn_without_timestamps() -> None:
    global _warned_without_timestamps
    _warned_without_timestamps = True  # once per process: it is the configuration, not news
    log.warning(
        "No timestamp authority (TSA_URL, or the file TSA_LOCAL_KEY names): certificates are"
        " sealed without timestamps, and their seals stop validating when the seal"
        " certificates expire."
    )


def render_and_seal(snapshot: CertificateSnapshot, setup: SealingSetup) -> tuple[bytes, str]:
    """Render the PDF and seal it with both bodies' keys; the sealed PDF and its SHA-256.

    Pure (no database, no app): bulk issuing runs it in a pool of processes."""
    pdf = seal_pdf(
        render_certificate_pdf(snapshot),
        [(field, signer_for(key)) for field, key in setup.sealers],
        archiver_for(setup.long_term) if setup.long_term is not None else None,
    )
    return pdf, hashlib.sha256(pdf).hexdigest()


def prepare_certificate(
    candidate: User,
    programme: Programme,
    actor: User | None,
    *,
    today: dt.date,
    now: dt.datetime | None = None,
    transcript: Transcript | None = None,
    held: frozenset[str] | None = None,
    issuers: list[dict[str, Any]] | None = None,
) -> Certificate:
    """Check every requirement and build the certificate ``candidate`` would get: code,
    printed snapshot, issuers and verification address, but no PDF. Reads only; nothing
    is added to the session. ``AlreadyIssued`` or ``RequirementsNotMet`` if it cannot be.

    Bulk issuing passes the ``transcript``, ``held`` awards and ``issuers`` it loaded for
    many candidates at once."""
    now = now or utcnow()
    existing = _current_certificate(candidate, programme)
    if existing is not None and existing.status_on(today) is not CertificateStatus.EXPIRED:
        raise AlreadyIssued(existing.code)
    pending = pending_request(candidate, programme)
    if pending is not None:
        raise AlreadyRequested(pending.code)
    refuse_if_on_hold(candidate, programme)
    plain = refuse_unless_eligible(candidate, programme, today, transcript=transcript, held=held)

    # What is printed: the credits that counted (inside the programme's credit window).
    earliest = (
        subtract_months(today, programme.credit_window_months)
        if programme.credit_window_months
        else dt.date.min
    )
    by_domain: dict[str, Decimal] = defaultdict(Decimal)
    for entry in plain.credits:
        if entry.completed_on >= earliest:
            by_domain[entry.domain] += entry.credits
    certificate = Certificate(
        code=new_code(CODE_PREFIXES[programme.level]),
        candidate=candidate,
        candidate_id=candidate.id,
        programme=programme,
        programme_id=programme.id,
        holder_name=candidate.full_name,
        language=document_language(candidate),
        award_title=programme.title,
        level=programme.level.value,
        eqf_level=programme.eqf_level,
        credits_total=sum(by_domain.values(), Decimal(0)),
        credits_by_domain={d: str(c) for d, c in sorted(by_domain.items())},
        issued_at=now,
        issued_on=today,
        expires_on=_add_months(today, programme.validity_months),
        issued_by_id=actor.id if actor else None,
    )
    certificate.translated = translated_wording(certificate)
    certificate.issuers = issuers if issuers is not None else current_issuers()
    certificate.verify_url = current_settings().verify_url(certificate.code)
    return certificate


def refuse_unless_eligible(
    candidate: User,
    programme: Programme,
    today: dt.date,
    *,
    transcript: Transcript | None = None,
    held: frozenset[str] | None = None,
) -> Transcript:
    """``RequirementsNotMet`` unless ``candidate`` meets every requirement of ``programme``
    on ``today`` (awards held counting as prerequisites); the transcript as judged."""
    if held is None:
        held = held_awards(candidate, today)
    if transcript is None:
        transcript = load_transcript(candidate).for_engine()
    plain = dataclasses.replace(transcript, held_awards=held)
    report = evaluate_progress(programme_rules(programme), plain, today)
    if not report.eligible:
        raise RequirementsNotMet(report.missing)
    return plain


def current_issuers() -> list[dict[str, Any]]:
    """The two partner bodies as a certificate issued now prints them."""
    return [issuer_entry(b) for b in two_bodies()]


def issuer_entry(body: PartnerBody) -> dict[str, Any]:
    """``body`` as a certificate prints it now: names, signatory, logo and signature."""
    return {
        "name": body.name,
        "short_name": body.short_name,
        "signatory_name": body.signatory_name,
        "signatory_title": body.signatory_title,
        "signatory_titles": dict(body.signatory_titles or {}),
        # The images by hash: rows are never changed, so the hash names what is printed.
        "logo_sha256": body.logo_image.sha256 if body.logo_image else None,
        "signature_sha256": body.signature_image.sha256 if body.signature_image else None,
    }


def store_certificate(
    certificate: Certificate,
    actor: User | None,
    *,
    today: dt.date,
    approved: AwardRequest | None = None,
) -> Certificate:
    """Store a prepared and sealed certificate with its audit event: lock the candidate,
    check again that no current certificate exists (an expired one is renewed) and that the
    award was not put on hold meanwhile, insert. ``AlreadyIssued`` if someone was quicker,
    ``AwardOnHold`` if a revocation was. A jointly approved award is stored only from its
    ``approved`` request."""
    candidate, programme = certificate.candidate, certificate.programme
    if approved is None:
        refuse_unless_delegated(programme)
        lock_candidate(candidate)
    # else: approving the request locked the candidate already, in this transaction.
    refuse_if_on_hold(candidate, programme)
    existing = _current_certificate(candidate, programme)
    renews = None
    if existing is not None:
        if existing.status_on(today) is not CertificateStatus.EXPIRED:
            raise AlreadyIssued(existing.code)
        # An expired certificate stays on record as expired; the candidate who meets the
        # requirements again may be issued a new one.
        existing.is_current = False
        db.session.flush()
        renews = existing.code
    try:
        with db.session.begin_nested():
            db.session.add(certificate)
    except IntegrityError:
        # Lost a race the lock could not prevent (SQLite without the lock, say): the
        # partial unique index is the last line of defence.
        winner = _current_certificate(candidate, programme)
        if winner is None:
            raise
        raise AlreadyIssued(winner.code) from None
    record_event(
        actor,
        "certificate.issued",
        "certificate",
        certificate.code,
        after={**_summary(certificate), "renews": renews},
    )
    certificate_issued.send(certificate, replaces=None)
    return certificate


def refuse_unless_delegated(programme: Programme) -> None:
    """``ApprovalRequired`` unless the office issues ``programme`` alone."""
    if programme.approval is not ApprovalPolicy.OFFICE:
        raise ApprovalRequired(programme)


def pending_request(candidate: User, programme: Programme) -> AwardRequest | None:
    """The request for ``programme`` awaiting the bodies' approval for ``candidate``."""
    return db.session.scalar(
        sa.select(AwardRequest).where(
            AwardRequest.candidate_id == candidate.id,
            AwardRequest.programme_id == programme.id,
            AwardRequest.state == RequestState.PENDING,
        )
    )


def lock_candidates(candidate_ids: list[int]) -> None:
    """Serialise issuing for many candidates until the transaction ends (in id order, so
    that two lockers cannot deadlock)."""
    ids = sorted(set(candidate_ids))
    if not ids:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            sa.select(User.id).where(User.id.in_(ids)).order_by(User.id).with_for_update()
        )
    else:
        db.session.execute(sa.update(User).where(User.id.in_(ids)).values(id=User.id))


def eligible_not_issued(programme: Programme, today: dt.date) -> sa.Select[int]:
    """The ids of the candidates who meet every requirement of ``programme`` and hold no
    valid certificate for it (an expired one may be renewed), sorted by name. Awards held
    count as prerequisites, exactly as when issuing."""
    return eligible_not_holding(programme, today)


def search_candidates(
    query: str = "", *, eligible_for: Programme | None = None, today: dt.date
) -> sa.Select[int]:
    """The candidate list's search (:func:`certification.records.services.search_candidates`)
    with eligibility judged as issuing judges it: awards held meet prerequisites."""
    return records_search(query, eligible_for=eligible_for, today=today, held=holders(today))


def held_awards_by_candidate(
    today: dt.date, candidate_ids: list[int] | None = None
) -> dict[int, frozenset[str]]:
    """Every candidate's (or the given candidates') valid awards (not revoked, not
    superseded, not expired), in one query."""
    statement = (
        sa.select(Certificate.candidate_id, Programme.code)
        .join(Programme, Programme.id == Certificate.programme_id)
        .where(
            Certificate.is_current,
            sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on >= today),
        )
    )
    if candidate_ids is not None:
        statement = statement.where(Certificate.candidate_id.in_(candidate_ids))
    rows = db.session.execute(statement)
    held: dict[int, set[str]] = defaultdict(set)
    for candidate_id, code in rows:
        held[candidate_id].add(code)
    return {candidate_id: frozenset(codes) for candidate_id, codes in held.items()}


def sample_certificate(
    holder_name: str, now: dt.datetime | None = None, language: str = "en"
) -> Certificate:
    """A rendered and sealed certificate that is never stored: to look at the design.

    Sealed with throwaway keys made for it (a local CA of its own), never the bodies' keys:
    a file whose seals validate against the bodies' trust roots is an award only its bodies'
    officers approved, and a sample is nobody's."""
    now = now or utcnow()
    sample = Certificate(
        code=new_code("EIC"),
        holder_name=unicodedata.normalize("NFC", holder_name),
        language=language,
        award_title="European Certificate in Imaging Informatics",
        level=Level.CERTIFICATE.value,
        eqf_level=6,
        credits_total=Decimal(30),
        credits_by_domain={
            "AI & Data Science": "7.5",
            "Enterprise Imaging & Workflow": "7.5",
            "Information Security & Data Protection": "7.5",
            "Standards & Interoperability": "7.5",
        },
        issued_at=now,
        issued_on=now.date(),
        expires_on=_add_months(now.date(), 60),
    )
    sample.translated = translated_wording(sample)
    sample.issuers = current_issuers()
    sample.verify_url = current_settings().verify_url(sample.code)
    bodies = two_bodies()
    with tempfile.TemporaryDirectory(prefix="sample-seals-") as folder:
        make_demo_keys(Path(folder), {b.short_name: b.name for b in bodies}, time_stamping=False)
        throwaway = SealingSetup(
            tuple(
                (
                    seal_field(b),
                    SealKey(b.short_name, Path(folder) / f"{b.short_name.lower()}-seal.p12"),
                )
                for b in bodies
            )
        )
        # A sample carries no credential: one signed by the bodies' credential keys
        # would state an award nobody approved.
        _seal(sample, throwaway, carried=False)
    return sample


def lock_candidate(candidate: User) -> None:
    """Serialise issuing for one candidate until the transaction ends."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(User.id).where(User.id == candidate.id).with_for_update())
    else:
        # SQLite has no row locks. A write as the first statement of the transaction
        # takes the database's write lock (a concurrent issuer waits for its busy
        # timeout), and every read after it sees the latest committed data.
        db.session.execute(sa.update(User).where(User.id == candidate.id).values(id=User.id))


def lock_fresh(certificate: Certificate) -> None:
    """Serialise changes to one holder's certificates, then re-read this one, so that two
    administrators revoking or reissuing at once cannot both act on the same state."""
    lock_candidate(certificate.candidate)
    db.session.refresh(certificate)


def _current_certificate(candidate: User, programme: Programme) -> Certificate | None:
    return db.session.scalar(
        sa.select(Certificate).where(
            Certificate.candidate_id == candidate.id,
            Certificate.programme_id == programme.id,
            Certificate.is_current,
        )
    )


def _add_months(day: dt.date, months: int | None) -> dt.date | None:
    if months is None:
        return None
    return subtract_months(day, -months)


def snapshot_of(
    certificate: Certificate,
    settings: CertificateSettings,
    images: Mapping[str, bytes] | None = None,
    *,
    carried: bool = True,
) -> CertificateSnapshot:
    """What the renderer needs, taken only from the certificate's own stored fields and the
    branding images they name, and (if ``carried``) the files its PDF carries: the signed
    credential. ``images`` (:func:`issuer_images`) spares a batch of certificates with the
    same issuers a query each."""
    if images is None:
        images = issuer_images(certificate.issuers)
    left, right = (
        Issuer(
            name=i["name"],
            short_name=i["short_name"],
            signatory_name=i["signatory_name"],
            signatory_title=i["signatory_title"],
            signatory_titles=i.get("signatory_titles") or {},  # issued before: English only
            logo=images.get(i.get("logo_sha256") or ""),
            signature=images.get(i.get("signature_sha256") or ""),
        )
        for i in certificate.issuers
    )
    snapshot = CertificateSnapshot(
        code=certificate.code,
        holder_name=certificate.holder_name,
        award_title=certificate.award_title,
        level=certificate.level,
        eqf_level=certificate.eqf_level,
        credits_total=certificate.credits_total,
        credits_by_domain=tuple(
            (domain, Decimal(value)) for domain, value in certificate.credits_by_domain.items()
        ),
        issued_at=certificate.issued_at,
        issued_on=certificate.issued_on,
        expires_on=certificate.expires_on,
        verify_url=certificate.verify_url,
        issuers=(left, right),
        attachments=attachments_of(certificate) if carried else (),
    )
    if certificate.language == "en":
        return dataclasses.replace(snapshot, wordings=(wording(snapshot, "en"),))
    wordings = (
        wording(snapshot, certificate.language, certificate.translated or {}),
        wording(snapshot, "en"),
    )
    return dataclasses.replace(snapshot, wordings=wordings)


def attachments_of(certificate: Certificate) -> tuple[Attachment, ...]:
    """The files ``certificate``'s PDF carries, as the areas above answer
    :data:`certificate_sealing`, in a fixed order (the PDF depends on the snapshot alone)."""
    answers = (answer for _, answer in certificate_sealing.send(certificate))
    return tuple(sorted((a for a in answers if a is not None), key=lambda a: a.filename))


def wording(
    snapshot: CertificateSnapshot, language: str, translated: Mapping[str, Any] | None = None
) -> Wording:
    """The certificate's words in ``language``, through that language's catalogue, with
    the catalogue's wording as it was ``translated`` when the certificate was drafted."""
    with force_locale(language):
        return write_wording(snapshot, language, gettext, translated or {})


def translated_wording(certificate: Certificate) -> dict[str, Any]:
    """The award's title and the domains' names in the certificate's language, where the
    programme office has translated them (else left out: English is printed). Kept with
    the certificate, so that it prints the same words however the catalogue changes."""
    language = certificate.language
    if language == "en":
        return {}
    # From the database, not a page's cache: what a certificate prints is for good.
    translations = translations_in(language)
    found: dict[str, Any] = {}
    title = translations.get(certificate.award_title)
    if title:
        found["award_title"] = title
    domains = {
        domain: translations[domain]
        for domain in certificate.credits_by_domain
        if translations.get(domain)
    }
    if domains:
        found["domains"] = domains
    return found


def document_language(candidate: User) -> str:
    """The language a candidate's certificate is printed in beside English: theirs, if the
    product is offered in it."""
    return offered(candidate.language) or "en"


def _render_and_seal(certificate: Certificate) -> None:
    """Fill in the issuers, render the PDF, seal it with both bodies' keys, and hash it."""
    certificate.issuers = current_issuers()
    certificate.verify_url = current_settings().verify_url(certificate.code)
    _seal(certificate, sealing_setup())


def _seal(certificate: Certificate, setup: SealingSetup, *, carried: bool = True) -> None:
    snapshot = snapshot_of(certificate, current_settings(), carried=carried)
    certificate.pdf, certificate.pdf_sha256 = render_and_seal(snapshot, setup)


def two_bodies() -> list[PartnerBody]:
    bodies = partner_bodies()
    if len(bodies) != 2:
        raise SigningNotConfigured(
            gettext(
                "Two partner bodies must be set up (flask --app certification seed-demo does it)."
            )
        )
    return bodies


def issuer_images(issuers: list[dict[str, Any]]) -> dict[str, bytes]:
    """The logos and signatures that ``issuers`` (as :func:`current_issuers` gives them)
    print, by SHA-256."""
    return image_contents(
        i.get(key) for i in issuers for key in ("logo_sha256", "signature_sha256")
    )


def _summary(certificate: Certificate) -> dict[str, object]:
    return {
        "code": certificate.code,
        "candidate_id": certificate.candidate_id,
        "programme": certificate.programme.code,
        "holder_name": certificate.holder_name,
        "credits_total": str(certificate.credits_total),
        "issued_on": certificate.issued_on.isoformat(),
        "expires_on": certificate.expires_on.isoformat() if certificate.expires_on else None,
        "pdf_sha256": certificate.pdf_sha256,
    }


# ---------------------------------------------------------------- revoking and reissuing


# Verifiers read the reason: shorter than this it cannot tell them anything ("x", "typo").
REVOCATION_REASON_MIN = 5
# Lazy: a form's validator shows it too; ``str()`` it where a plain string is needed.
REASON_TOO_SHORT = lazy_gettext(
    "Too short for a verifier to understand: say why, in at least %(num)d characters.",
    num=REVOCATION_REASON_MIN,
)


def revoke_certificate(
    certificate: Certificate, reason: str, actor: User | None, *, now: dt.datetime | None = None
) -> Certificate:
    """Revoke a current certificate of an award the office issues alone. The record stays;
    verification says why. (A jointly approved award is revoked by both bodies:
    :func:`certification.certificates.approvals.revoke_for_body`.)"""
    refuse_unless_delegated(certificate.programme)
    reason = revocation_reason(reason)
    lock_fresh(certificate)
    refuse_unless_revocable(certificate)
    return record_revocation(certificate, reason, actor, now=now)


def revocation_reason(reason: str) -> str:
    """The reason as verifiers will read it; ``InvalidInput`` naming ``reason`` if it is
    empty, too long, or too short to tell them anything."""
    errors = FieldErrors()
    reason = check_text(errors, "reason", clean_text(reason), 500)
    if reason and len(reason) < REVOCATION_REASON_MIN:
        errors.add("reason", str(REASON_TOO_SHORT))
    errors.raise_if_any()
    return reason


def refuse_unless_revocable(certificate: Certificate) -> None:
    if certificate.revoked_at is not None:
        raise RuleViolation(gettext("This certificate is already revoked."), slug="already_revoked")
    if certificate.superseded_by_id is not None:
        raise RuleViolation(
            gettext("This certificate was superseded; revoke the certificate that replaced it."),
            slug="superseded",
        )


def record_revocation(
    certificate: Certificate,
    reason: str,
    actor: User | None,
    *,
    now: dt.datetime | None = None,
    detail: dict[str, Any] | None = None,
) -> Certificate:
    """Revoke ``certificate`` (locked, checked): its award goes on hold for the holder,
    who is told by e-mail. ``detail`` adds to the audit event (the bodies)."""
    certificate.revoked_at = now or utcnow()
    certificate.revocation_reason = reason
    certificate.revoked_by_id = actor.id if actor else None
    certificate.is_current = False
    db.session.flush()
    record_event(
        actor,
        "certificate.revoked",
        "certificate",
        certificate.code,
        after={"reason": reason, **(detail or {})},
    )
    place_hold(certificate, reason, actor)
    certificate_revoked.send(certificate)
    return certificate


def reissue_certificate(
    certificate: Certificate,
    actor: User | None,
    *,
    full_name: str | None = None,
    language: str | None = None,
    now: dt.datetime | None = None,
) -> Certificate:
    """Replace a current certificate with a new one (new code, new PDF), e.g. for a corrected
    name or a copy in another language. The award, credits and dates stay those of the
    original; it becomes superseded."""
    now = now or utcnow()
    refuse_unless_delegated(certificate.programme)
    replacement = reissue_draft(certificate, actor, full_name=full_name, language=language, now=now)
    _render_and_seal(replacement)
    return supersede(certificate, replacement, actor, now=now)


def reissue_draft(
    certificate: Certificate,
    actor: User | None,
    *,
    full_name: str | None = None,
    language: str | None = None,
    now: dt.datetime | None = None,
) -> Certificate:
    """The certificate that would replace ``certificate`` (a new code; the name corrected
    on the candidate's record too; printed beside English in ``language``, one of the
    offered languages or "en" for English alone, else in the certificate's own), not yet
    rendered nor stored. ``not_current`` if the certificate is revoked, suspended or
    superseded."""
    now = now or utcnow()
    lock_fresh(certificate)
    refuse_unless_current(certificate)
    candidate = certificate.candidate
    name = certificate.holder_name
    errors = FieldErrors()
    printed_in = certificate.language
    if language:
        printed_in = check_language(errors, language) or certificate.language
    if full_name is not None:
        name = check_text(errors, "full_name", clean_text(full_name), 200)
    errors.raise_if_any()
    if full_name is not None and name != candidate.full_name:
        update_candidate(
            candidate,
            email=candidate.email,
            full_name=name,
            country=candidate.country,
            actor=actor,
        )
    replacement = Certificate(
        code=new_code(CODE_PREFIXES[Level(certificate.level)]),
        candidate=candidate,
        programme=certificate.programme,
        holder_name=name,
        language=printed_in,
        award_title=certificate.award_title,
        level=certificate.level,
        eqf_level=certificate.eqf_level,
        credits_total=certificate.credits_total,
        credits_by_domain=dict(certificate.credits_by_domain),
        issued_at=now,
        issued_on=certificate.issued_on,
        expires_on=certificate.expires_on,
        issued_by_id=actor.id if actor else None,
        renews_id=certificate.renews_id,  # a reissued renewal still continues its award
    )
    # The catalogue's wording as it is translated now, in the copy's language.
    replacement.translated = translated_wording(replacement)
    return replacement


def refuse_unless_current(certificate: Certificate) -> None:
    if (
        certificate.revoked_at is not None
        or certificate.suspended_at is not None
        or certificate.superseded_by_id is not None
    ):
        raise RuleViolation(
            gettext(
                "Only a current certificate (not revoked, suspended or superseded) can be reissued."
            ),
            slug="not_current",
        )


def supersede(
    certificate: Certificate, replacement: Certificate, actor: User | None, *, now: dt.datetime
) -> Certificate:
    """Store the sealed ``replacement`` of ``certificate``, which becomes superseded, with
    the audit event and the holder's e-mail. A renewal (``replacement.renews`` is it)
    continues the award for a new period; a reissue replaces it within its own."""
    renewal = replacement.renews_id is not None and replacement.renews_id == certificate.id
    certificate.is_current = False
    db.session.flush()  # free the award's "current" slot for the replacement
    db.session.add(replacement)
    db.session.flush()
    certificate.superseded_by = replacement
    certificate.superseded_at = now
    db.session.flush()
    record_event(
        actor,
        "certificate.renewed" if renewal else "certificate.reissued",
        "certificate",
        certificate.code,
        before=_summary(certificate),
        after=_summary(replacement),
    )
    certificate_issued.send(replacement, replaces=certificate.code, renews=renewal)
    return replacement


def renewal_draft(
    certificate: Certificate, actor: User | None, *, today: dt.date, now: dt.datetime
) -> Certificate:
    """The certificate that would renew ``certificate`` for another period, not yet
    rendered nor stored: a new code, issued ``today``, valid for the programme's validity
    from the end of the renewed period (the cycle is kept whether renewed early or in the
    grace period after it lapsed); the holder's name as it stands, the award, language and
    credits as printed. ``not_current`` if it is revoked, suspended or superseded;
    ``not_renewable`` if the award does not expire."""
    lock_fresh(certificate)
    refuse_unless_current(certificate)
    months = certificate.programme.validity_months
    if certificate.expires_on is None or not months:
        raise RuleViolation(
            gettext("This award does not expire, so it is not renewed."), slug="not_renewable"
        )
    renewal = Certificate(
        code=new_code(CODE_PREFIXES[Level(certificate.level)]),
        candidate=certificate.candidate,
        programme=certificate.programme,
        holder_name=certificate.candidate.full_name,
        language=certificate.language,
        award_title=certificate.award_title,
        level=certificate.level,
        eqf_level=certificate.eqf_level,
        credits_total=certificate.credits_total,
        credits_by_domain=dict(certificate.credits_by_domain),
        issued_at=now,
        issued_on=today,
        expires_on=_add_months(certificate.expires_on, months),
        issued_by_id=actor.id if actor else None,
        renews_id=certificate.id,
    )
    renewal.translated = translated_wording(renewal)
    return renewal


def renew_certificate(
    certificate: Certificate, actor: User | None, *, today: dt.date, now: dt.datetime
) -> Certificate:
    """Renew a certificate of an award the office issues alone: sealed and stored now,
    superseding ``certificate``. The renewal rule is checked by the caller
    (:func:`certification.certificates.approvals.renew_award`)."""
    refuse_unless_delegated(certificate.programme)
    renewal = renewal_draft(certificate, actor, today=today, now=now)
    _render_and_seal(renewal)
    return supersede(certificate, renewal, actor, now=now)


# ---------------------------------------------------------------- verification


@dataclass(frozen=True)
class PdfVerdict:
    authentic: bool
    certificate: Certificate | None
    seals: list[SealCheck]
    reason: str


def record_verification(
    certificate: Certificate | PublicCertificate,
    channel: str,
    today: dt.date,
    now: dt.datetime | None = None,
) -> CertificateStatus:
    """Count a look-up (date and outcome, never who asked) and return the status. The count
    is written a moment later, outside the request (:mod:`certification.certificates.look_ups`)."""
    status = certificate.status_on(today)
    look_ups.counter().count(certificate.id, status.value, channel, now or utcnow())
    return status


def verification_counts(
    certificates: list[Certificate],
) -> dict[int, tuple[int, dt.datetime | None]]:
    """How often each certificate was verified, and when last: what the database has, and
    the look-ups this process has counted but not yet written."""
    ids = [c.id for c in certificates]

    def written() -> look_ups.Counts:
        counts: look_ups.Counts = {i: (0, None) for i in ids}
        for certificate_id, count, last in db.session.execute(
            sa.select(
                Verification.certificate_id,
                sa.func.count(),
                sa.func.max(Verification.verified_at),
            )
            .where(Verification.certificate_id.in_(ids))
            .group_by(Verification.certificate_id)
        ):
            counts[certificate_id] = (count, _as_utc(last))
        return counts

    return look_ups.counter().add_waiting(ids, written) if ids else {}


def _as_utc(value: dt.datetime | str | None) -> dt.datetime | None:
    # Aggregates bypass the column type, so SQLite hands back text or a naive value.
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def seal_field(body: PartnerBody) -> str:
    """The name of the signature field that holds ``body``'s seal."""
    return f"{body.short_name}-seal"


def expected_seal_fields() -> set[str]:
    return {seal_field(b) for b in partner_bodies()}


def seals_hold(seals: list[SealCheck], expected_fields: set[str]) -> bool:
    """Every seal in the file validates, and each partner body's seal is among them."""
    return bool(seals) and all(s.ok for s in seals) and expected_fields <= {s.field for s in seals}


def verify_pdf(pdf: bytes, today: dt.date) -> PdfVerdict:
    """Is this file a certificate we issued, unchanged, with both bodies' seals intact?"""
    if not pdf.startswith(b"%PDF-"):
        raise InvalidInput(gettext("This file is not a PDF."), {"file": gettext("Not a PDF.")})
    settings = current_settings()
    try:
        roots = trust_roots(settings.trust_root_paths)
    except OSError:
        log.error("The signing trust roots cannot be read: %s", settings.trust_root_paths)
        roots = []
    try:
        seals = check_seals(pdf, roots)
    except ValueError:
        raise InvalidInput(
            gettext("This file is not a readable PDF."), {"file": gettext("Not a PDF.")}
        ) from None
    digest = hashlib.sha256(pdf).hexdigest()
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.pdf_sha256 == digest))
    seals_ok = seals_hold(seals, expected_seal_fields())
    if certificate is None:
        reason = gettext("This file is not a certificate we issued, or it was changed after issue.")
    elif not seals_ok:
        reason = gettext("The file's digital seals do not check out.")
    else:
        record_verification(certificate, "pdf", today)
        reason = gettext("This is the certificate as issued, sealed by both bodies.")
    return PdfVerdict(certificate is not None and seals_ok, certificate, seals, reason)


# ---------------------------------------------------------------- lists for people's pages


@dataclass(frozen=True)
class CertificateStanding:
    """A certificate as its holder's page and the administrators' pages list it."""

    certificate: Certificate
    status: CertificateStatus
    status_words: str  # as the verification page says it: "Revoked on 3 March 2025"
    times_verified: int
    last_verified_on: dt.date | None  # in the programme's calendar


def status_in_words(certificate: Certificate, today: dt.date, zone: dt.tzinfo) -> str:
    """The status as the verification page words it: ``Valid``, ``Revoked on <day>``,
    ``Expired on <day>`` or ``Superseded by <code>``, in the calendar of ``zone``."""
    status = certificate.status_on(today)
    revoked_on, lapsed_on = certificate.revoked_on(zone), certificate.lapsed_on
    suspended_on = certificate.suspended_on(zone)
    if status is CertificateStatus.REVOKED and revoked_on is not None:
        return gettext("Revoked on %(day)s", day=format_long_date(revoked_on))
    if status is CertificateStatus.SUSPENDED and suspended_on is not None:
        return gettext(
            "Suspended — revocation requested by %(body)s on %(day)s",
            body=certificate.suspended_by_body,
            day=format_long_date(suspended_on),
        )
    if status is CertificateStatus.SUPERSEDED and certificate.replacement_code is not None:
        return gettext("Superseded by %(code)s", code=certificate.replacement_code)
    if status is CertificateStatus.EXPIRED and lapsed_on is not None:
        return gettext("Expired on %(day)s", day=format_long_date(lapsed_on))
    return status_label(status)


def status_label(status: CertificateStatus) -> str:
    """The status in one word, as a badge shows it: ``Valid``, ``Revoked``..."""
    labels = {
        CertificateStatus.VALID: gettext("Valid"),
        CertificateStatus.SUSPENDED: gettext("Suspended"),
        CertificateStatus.REVOKED: gettext("Revoked"),
        CertificateStatus.EXPIRED: gettext("Expired"),
        CertificateStatus.SUPERSEDED: gettext("Superseded"),
    }
    return labels.get(status, status.value.capitalize())


def public_record(
    certificate: Certificate | PublicCertificate, status: CertificateStatus, zone: dt.tzinfo
) -> dict[str, Any]:
    """What anyone may learn of a certificate: the printed snapshot and what became of it.
    Credits stay ``Decimal``; dates are ISO strings."""
    revoked_on, suspended_on = certificate.revoked_on(zone), certificate.suspended_on(zone)
    return {
        "code": certificate.code,
        "status": status.value,
        "holder_name": certificate.holder_name,
        "language": certificate.language,
        "award": certificate.award_title,
        "level": certificate.level,
        "eqf_level": certificate.eqf_level,
        "credits": certificate.credits_total,
        "issued_on": certificate.issued_on.isoformat(),
        "expires_on": certificate.expires_on.isoformat() if certificate.expires_on else None,
        "issuers": [
            {"name": issuer["name"], "short_name": issuer["short_name"]}
            for issuer in certificate.issuers
        ],
        "pdf_sha256": certificate.pdf_sha256,
        "revoked_on": revoked_on.isoformat() if revoked_on else None,
        "revocation_reason": certificate.revocation_reason,
        "superseded_by": certificate.replacement_code,
        "renewed": certificate.renewed,
        "renews": certificate.renews_code,
        # Each body's yes by its day: never the officer's name or e-mail.
        "approvals": [
            {"body": a["body"], "approved_on": a["approved_on"]} for a in certificate.approvals
        ],
        "suspended_on": suspended_on.isoformat() if suspended_on else None,
        "suspended_by": certificate.suspended_by_body,
        "suspension_reason": certificate.suspension_reason,
    }


def certificate_standings(
    candidate: User, today: dt.date, zone: dt.tzinfo
) -> list[CertificateStanding]:
    """Every certificate of ``candidate``, newest first, with its status and how often it
    was verified."""
    certificates = certificates_of(candidate)
    counts = verification_counts(certificates)
    standings = []
    for certificate in certificates:
        times, last = counts[certificate.id]
        standings.append(
            CertificateStanding(
                certificate=certificate,
                status=certificate.status_on(today),
                status_words=status_in_words(certificate, today, zone),
                times_verified=times,
                last_verified_on=last.astimezone(zone).date() if last else None,
            )
        )
    return standings


def resting_on_withdrawn(
    certificates: list[Certificate], transcript: TranscriptView
) -> dict[str, list[Withdrawal]]:
    """By code, those of ``certificates`` (one candidate's, with ``transcript``) that are
    valid yet may rest on a record since withdrawn: one on file when the award was first
    issued and withdrawn after. A reissue (a corrected name) keeps the original award's
    basis, so it is the first certificate of the supersede chain that counts, not the
    reissue's own time. The office decides whether to revoke; nothing is revoked here."""
    found = withdrawals(transcript)
    valid = [c for c in certificates if c.is_current and c.revoked_at is None]
    if not found or not valid:
        return {}
    awarded = _first_issued_at([c.id for c in valid])
    return {
        c.code: resting
        for c in valid
        if (resting := withdrawn_since_issue(found, awarded.get(c.id, c.issued_at)))
    }


def _first_issued_at(certificate_ids: list[int]) -> dict[int, dt.datetime]:
    """For each certificate, when the first certificate of its chain of reissues (the one
    each later one superseded in turn) was issued: in one query, walking the chain back."""
    chain = (
        sa.select(
            Certificate.id.label("start"),
            Certificate.id.label("id"),
            Certificate.issued_at.label("issued_at"),
        )
        .where(Certificate.id.in_(certificate_ids))
        .cte("chain", recursive=True)
    )
    earlier = sa.orm.aliased(Certificate)
    chain = chain.union_all(
        sa.select(chain.c.start, earlier.id, earlier.issued_at).where(
            earlier.superseded_by_id == chain.c.id
        )
    )
    first: dict[int, dt.datetime] = {}
    for start, issued_at in db.session.execute(sa.select(chain.c.start, chain.c.issued_at)):
        first[start] = min(issued_at, first.get(start, issued_at))
    return first


def current_branding_image(file_name: str) -> BrandingImage:
    """A logo or signature a partner body uses now, by its file name. Earlier uploads are
    not found: the branding page shows only what certificates issued now print."""
    for body in partner_bodies():
        for image in (body.logo_image, body.signature_image):
            if image is not None and image.file_name == file_name:
                return image
    raise NotFound(gettext("There is no such image."))
