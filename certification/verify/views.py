"""Verification pages and the public JSON answers: read the code or file, call one service,
show what it found.

What a verifier sees comes only from the certificate's stored snapshot (name, award,
credits, dates, issuers), never from the live candidate or programme, and never anything
else about the person. An unknown code and a malformed one get the same answer, so that
nobody learns anything from the shape of a guess.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response
from wtforms import Field

from certification.auth.sessions import logged_in
from certification.certificates.codes import MalformedCode, normalise_code
from certification.certificates.models import Certificate, CertificateStatus
from certification.certificates.public import (
    PublicCertificate,
    earlier_periods,
    public_certificate,
)
from certification.certificates.services import (
    PdfVerdict,
    public_record,
    record_verification,
    verify_pdf,
)
from certification.certificates.signing import SealCheck, changed_after_sealing
from certification.credentials.services import Unauthentic, verify_credential
from certification.dates import format_long_date
from certification.errors import InvalidInput, NotFound
from certification.extensions import csrf
from certification.i18n import format_number, list_in_words
from certification.verify import throttle
from certification.verify.blueprint import bp
from certification.verify.forms import CodeForm, CredentialForm, PdfForm
from certification.web import today

Page = str | tuple[str, int] | Response
Json = dict[str, Any] | tuple[dict[str, Any], int]


# ---------------------------------------------------------------- what a status says


@dataclass(frozen=True)
class StatusBanner:
    """A certificate's status in words, with the colour the banner takes."""

    status: CertificateStatus
    tone: str  # "ok" (green), "bad" (red) or "warn" (amber); the words say the same
    headline: str
    explanation: str
    reason: str | None = None
    replacement: str | None = None  # the code of the certificate that superseded this one
    renewed: bool = False  # superseded by its renewal, not by a reissue


def describe_status(
    certificate: Certificate | PublicCertificate, status: CertificateStatus, on: dt.date
) -> StatusBanner:
    if status is CertificateStatus.REVOKED:
        return StatusBanner(
            status,
            "bad",
            gettext("Revoked on %(day)s", day=format_long_date(_revoked_on(certificate))),
            gettext("The issuing bodies withdrew this certificate. It is no longer valid."),
            reason=certificate.revocation_reason,
        )
    if status is CertificateStatus.SUSPENDED:
        zone = ZoneInfo(current_app.config["APP_TIMEZONE"])
        suspended_on = certificate.suspended_on(zone)
        assert suspended_on is not None  # noqa: S101 - that is what suspended means
        return StatusBanner(
            status,
            "bad",
            gettext(
                "Suspended — revocation requested by %(body)s on %(day)s",
                body=certificate.suspended_by_body,
                day=format_long_date(suspended_on),
            ),
            gettext(
                "One of the issuing bodies asked for this certificate to be revoked; the other"
                " decides. Until then it is not in force."
            ),
            reason=certificate.suspension_reason,
        )
    if status is CertificateStatus.SUPERSEDED:
        replacement = certificate.replacement_code
        assert replacement is not None  # noqa: S101 - that is what superseded means
        if certificate.renewed:
            return StatusBanner(
                status,
                "warn",
                # Translators: followed by the code of the certificate that renewed this one.
                gettext("Renewed as"),
                gettext(
                    "Its holder renewed the award on %(day)s: the new certificate continues it"
                    " for a new period. Open the new certificate to see its status.",
                    day=_superseded_on(certificate),
                ),
                replacement=replacement,
                renewed=True,
            )
        return StatusBanner(
            status,
            "warn",
            # Translators: followed by the code of the certificate that replaced this one.
            gettext("Superseded by"),
            gettext(
                "A new certificate replaced this one on %(day)s (for example to correct a"
                " name). This one is no longer in force: open the new certificate to see its"
                " status.",
                day=_superseded_on(certificate),
            ),
            replacement=replacement,
        )
    if status is CertificateStatus.EXPIRED:
        expires_on, lapsed = certificate.expires_on, certificate.lapsed_on
        assert expires_on and lapsed  # noqa: S101 - only a certificate with an expiry expires
        return StatusBanner(
            status,
            "warn",
            gettext("Expired on %(day)s", day=format_long_date(lapsed)),
            gettext("It was valid until %(day)s.", day=format_long_date(expires_on)),
        )
    if certificate.renews_id is not None and certificate.expires_on is not None:
        return StatusBanner(
            status,
            "ok",
            gettext("Renewed — valid until %(day)s", day=format_long_date(certificate.expires_on)),
            gettext(
                "This certificate was issued jointly by %(issuers)s and is in force today,"
                " %(day)s. It renews the award for a new period; the earlier periods are"
                " listed below.",
                issuers=_issuer_names(certificate),
                day=format_long_date(on),
            ),
        )
    return StatusBanner(
        status,
        "ok",
        gettext("Valid"),
        gettext(
            "This certificate was issued jointly by %(issuers)s and is in force today, %(day)s.",
            issuers=_issuer_names(certificate),
            day=format_long_date(on),
        ),
    )


def _local_date(moment: dt.datetime) -> dt.date:
    """The day ``moment`` fell on in the programme's own calendar."""
    return moment.astimezone(ZoneInfo(current_app.config["APP_TIMEZONE"])).date()


def _revoked_on(certificate: Certificate | PublicCertificate) -> dt.date:
    revoked_on = certificate.revoked_on(ZoneInfo(current_app.config["APP_TIMEZONE"]))
    assert revoked_on is not None  # noqa: S101 - only asked of a revoked one
    return revoked_on


def _superseded_on(certificate: Certificate | PublicCertificate) -> str:
    moment = certificate.superseded_at or certificate.issued_at
    return format_long_date(_local_date(moment))


def _issuer_names(certificate: Certificate | PublicCertificate) -> str:
    """The bodies' short names, listed in the page's language: "EFRS and EuSoMII"."""
    return list_in_words([issuer["short_name"] for issuer in certificate.issuers])


def _ects(value: Decimal | str) -> str:
    """A certificate's credits (kept as text in its JSON) as the reader writes numbers:
    12.5 in English, 12,5 in German."""
    return format_number(Decimal(str(value)))


@bp.context_processor
def presentation_helpers() -> dict[str, Any]:
    return {"ects": _ects}


# ---------------------------------------------------------------- pages


@dataclass
class Forms:
    """The page's three forms: by code, by PDF, by credential."""

    code: CodeForm
    pdf: PdfForm
    credential: CredentialForm

    def page(self, status: int = 200) -> tuple[str, int]:
        return render_template("verify/index.html", forms=self), status


def _forms(*, read_request: bool = True) -> Forms:
    data = {} if read_request else {"formdata": None}
    forms = Forms(CodeForm(**data), PdfForm(**data), CredentialForm(**data))
    limit = current_app.config["VERIFY_MAX_PDF_BYTES"]
    forms.pdf.file.description = gettext(
        "The PDF file the holder received, up to %(limit)s. It is checked, not kept.",
        limit=_megabytes(limit),
    )
    return forms


@bp.route("/verify", methods=["GET", "POST"])
def index() -> Page:
    forms = _forms()
    if request.method == "POST":
        if forms.credential.check_credential.data or "credential_file" in request.files:
            return _check_credential(forms)
        if "file" in request.files or forms.pdf.check_pdf.data:
            return _check_uploaded_pdf(forms)
        return _check_typed_code(forms)
    return forms.page()


def _check_typed_code(forms: Forms) -> Page:
    typed = (forms.code.code.data or "").strip()
    if not typed:
        _refuse(forms.code.code, gettext("Type the code printed on the certificate."))
    else:
        try:
            code = normalise_code(typed)
        except MalformedCode as problem:
            _refuse(forms.code.code, str(problem))
        else:
            return redirect(url_for("verify.certificate_page", code=code), 303)
    return forms.page(422)


def _refuse(field: Field, message: str) -> None:
    """Show ``message`` next to ``field`` and put the cursor there."""
    field.errors = [message]
    # A new dict: render_kw is shared by every instance of the form class.
    field.render_kw = {**(field.render_kw or {}), "autofocus": True}


def _check_uploaded_pdf(forms: Forms) -> Page:
    try:
        pdf = _read_upload()
    except UploadRefused as refusal:
        _refuse(forms.pdf.file, refusal.message)
        return forms.page(422)
    on = today()
    verdict = _verdict(pdf, on)
    certificate = verdict.certificate
    banner = (
        describe_status(certificate, certificate.status_on(on), on)
        if certificate is not None
        else None
    )
    return render_template(
        "verify/pdf_result.html",
        verdict=verdict,
        certificate=certificate,
        banner=banner,
        seals=[seal for seal in verdict.seals if not seal.is_timestamp],
        timestamps=[seal for seal in verdict.seals if seal.is_timestamp],
        changed_after_sealing=changed_after_sealing(verdict.seals),
        seal_problems={seal.field: _seal_problem(seal) for seal in verdict.seals},
        seals_broken=not verdict.seals and _carries_signatures(pdf),
    )


def _check_credential(forms: Forms) -> Page:
    """A pasted or uploaded credential: authentic or not, then its status in the words a
    code gets."""
    try:
        document = _read_credential(forms.credential)
    except UploadRefused as refusal:
        # Shown at the text box, which keeps what was pasted; a file too large, at the file.
        at_file = refusal.slug == "file_too_large" and "credential_file" in request.files
        form = forms.credential
        _refuse(form.credential_file if at_file else form.credential, refusal.message)
        return forms.page(422)
    on = today()
    verdict = verify_credential(document, on)
    certificate = verdict.certificate
    if certificate is not None:
        record_verification(certificate, "api", on)
    return render_template(
        "verify/credential_result.html",
        verdict=verdict,
        certificate=certificate,
        banner=describe_status(certificate, verdict.status, on)
        if certificate is not None and verdict.status is not None
        else None,
        reason=_unauthentic_reason(verdict.unauthentic),
    )


def _read_credential(form: CredentialForm) -> object:
    """The JSON the person pasted, or else the file they chose."""
    limit = current_app.config["VERIFY_MAX_CREDENTIAL_BYTES"]
    upload = request.files.get("credential_file")
    data = upload.stream.read(limit + 1) if upload is not None else b""
    if not data:
        data = (form.credential.data or "").strip().encode()
    if not data:
        raise UploadRefused(
            "credential_required",
            gettext("Paste the credential, or choose its file, to check it."),
        )
    if len(data) > limit:
        raise UploadRefused("file_too_large", credential_too_large_message(limit))
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise UploadRefused(
            "not_json",
            gettext(
                "This is not a credential: a credential is JSON, starting with {. Paste all"
                " of it, or choose the file the holder shared."
            ),
        ) from None


def _unauthentic_reason(reason: Unauthentic | None) -> str | None:
    if reason is Unauthentic.NOT_OURS:
        return gettext(
            "This credential was not issued here: it names another issuer, or it is not an"
            " Open Badges credential at all."
        )
    if reason is Unauthentic.UNSIGNED:
        return gettext("This credential carries no digital proof, so nothing shows who issued it.")
    if reason is Unauthentic.CHANGED:
        return gettext(
            "The digital proofs on this credential do not hold: it was changed after it was"
            " signed, or it was not signed with either body's key."
        )
    if reason is Unauthentic.UNKNOWN:
        return gettext("No certificate issued here matches this credential.")
    return None


@bp.get("/verify/<code>")
def certificate_page(code: str) -> Page:
    """What the certificate's QR code opens: its status in large words, then what it says."""
    try:
        canonical = normalise_code(code)
    except MalformedCode:
        return _no_such_certificate(code)
    if canonical != code:
        return redirect(url_for("verify.certificate_page", code=canonical), 301)
    try:
        certificate = public_certificate(canonical)
    except NotFound:
        return _no_such_certificate(code)
    on = today()
    if _is_own_look(certificate):
        status = certificate.status_on(on)
    else:
        status = record_verification(certificate, "page", on)
    return render_template(
        "verify/certificate.html",
        certificate=certificate,
        banner=describe_status(certificate, status, on),
        earlier=earlier_periods(certificate),
    )


def _is_own_look(certificate: PublicCertificate) -> bool:
    """The holder or an administrator opening the page is not a verifier's check, so it
    does not count towards "verified N times"."""
    return logged_in() and (
        current_user.reads_all_records or current_user.id == certificate.candidate_id
    )


def _no_such_certificate(code: str) -> tuple[str, int]:
    # The form comes back with what was asked, to correct a typo in place.
    code_form = CodeForm(formdata=None, code=code)
    page = render_template(
        "verify/not_found.html", message=_no_such_certificate_message(), code_form=code_form
    )
    return page, 404


def _no_such_certificate_message() -> str:
    # The words of certificates.public.NO_SUCH_CERTIFICATE, in the reader's language.
    return gettext("No certificate has this code.")


# ---------------------------------------------------------------- JSON


@bp.get("/api/v1/verify/<code>")
def certificate_json(code: str) -> Json:
    try:
        certificate = public_certificate(code)
    except NotFound:
        # The same answer for a malformed code as for an unknown one.
        return {"error": "not_found", "message": _no_such_certificate_message()}, 404
    status = record_verification(certificate, "api", today())
    return certificate_representation(certificate, status)


@bp.post("/api/v1/verify/pdf")
@csrf.exempt  # no session, no cookie: nothing a cross-site request could borrow
def pdf_json() -> Json:
    try:
        pdf = _read_upload()
    except UploadRefused as refusal:
        return {"error": refusal.slug, "message": refusal.message}, 400
    on = today()
    verdict = _verdict(pdf, on)
    certificate = verdict.certificate
    return {
        "authentic": verdict.authentic,
        "code": certificate.code if certificate else None,
        "status": certificate.status_on(on).value if certificate else None,
        "signatures": [
            {
                "signer": s.signer,
                "valid": s.ok,
                "field": s.field,
                "signed_at": _iso(s.signed_at),
                "time_attested": s.time_attested,
                "changed_after": s.changed_after,
            }
            for s in verdict.seals
            if not s.is_timestamp
        ],
        "timestamps": [
            {
                "authority": s.signer,
                "valid": s.ok and not s.changed_after,
                "time": _iso(s.signed_at),
            }
            for s in verdict.seals
            if s.is_timestamp
        ],
        "changed_after_sealing": changed_after_sealing(verdict.seals),
    }


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def certificate_representation(
    certificate: Certificate | PublicCertificate, status: CertificateStatus
) -> dict[str, Any]:
    zone = ZoneInfo(current_app.config["APP_TIMEZONE"])
    return public_record(certificate, status, zone)


# ---------------------------------------------------------------- the uploaded file


class UploadRefused(Exception):
    def __init__(self, slug: str, message: str) -> None:
        super().__init__(message)
        self.slug = slug
        self.message = message


def _read_upload() -> bytes:
    """The uploaded file's bytes, if it is there, small enough and a PDF by its content."""
    limit = current_app.config["VERIFY_MAX_PDF_BYTES"]
    upload = request.files.get("file")
    data = upload.stream.read(limit + 1) if upload is not None else b""
    if not data:
        raise UploadRefused("file_required", gettext("Choose the certificate's PDF file to check."))
    if len(data) > limit:
        raise UploadRefused("file_too_large", _too_large_message(limit))
    if not data.startswith(b"%PDF-"):
        raise UploadRefused(
            "not_a_pdf", gettext("This file is not a PDF. Choose the certificate's PDF.")
        )
    return data


def _verdict(pdf: bytes, on: dt.date) -> PdfVerdict:
    try:
        return verify_pdf(pdf, on)
    except InvalidInput:
        # It starts like a PDF but cannot be read: it is certainly not a file we issued.
        if _carries_signatures(pdf):
            reason = gettext(
                "This file carries digital seals, but they are broken: they cannot be read,"
                " so the file was changed after it was sealed."
            )
        else:
            reason = gettext(
                "This file cannot be read as a PDF: it is damaged, or not a certificate we issued."
            )
        return PdfVerdict(authentic=False, certificate=None, seals=[], reason=reason)


def _carries_signatures(pdf: bytes) -> bool:
    """Whether the bytes hold a PDF signature's byte range, readable or not: a file whose
    seal was damaged carries a broken seal, not none."""
    return b"/ByteRange" in pdf


def _seal_problem(seal: SealCheck) -> str | None:
    # Each is shown as a sentence of its own, its first letter made a capital.
    if seal.is_timestamp:
        return _timestamp_problem(seal)
    if not seal.intact:
        return gettext("the bytes this seal covers were changed")
    if not seal.valid:
        return gettext("the seal's signature does not check out")
    if not seal.trusted:
        return gettext("the seal was not made with either body's key")
    if seal.changed_after:
        return gettext(
            "the seal is intact, but it covers only revision %(revision)s of the file's"
            " %(revisions)s: the file was changed after this seal was applied",
            revision=seal.revision,
            revisions=seal.revisions,
        )
    return None


def _timestamp_problem(stamp: SealCheck) -> str | None:
    if not stamp.intact:
        return gettext("the bytes this timestamp covers were changed")
    if not stamp.valid:
        return gettext("the timestamp's signature does not check out")
    if not stamp.trusted:
        return gettext("the timestamp was not made by a trusted time-stamping authority")
    if stamp.changed_after:
        return gettext("the file was changed after this timestamp was applied")
    return None


def _megabytes(size: int) -> str:
    megabytes = f"{size / (1024 * 1024):g}"
    return gettext("%(megabytes)s MB", megabytes=megabytes)


def credential_too_large_message(limit: int) -> str:
    return gettext(
        "The credential is larger than %(limit)s KB; a credential is far smaller.",
        limit=limit // 1024,
    )


def _too_large_message(limit: int) -> str:
    return gettext(
        "The file is larger than %(limit)s; a certificate PDF is far smaller. Choose the"
        " certificate's PDF.",
        limit=_megabytes(limit),
    )


# ---------------------------------------------------------------- refusals and headers


def _wants_json() -> bool:
    return request.path.startswith("/api/")


@bp.errorhandler(413)
def upload_too_large(_error: HTTPException) -> Page | Json:
    message = _too_large_message(current_app.config["VERIFY_MAX_PDF_BYTES"])
    if _wants_json():
        return {"error": "file_too_large", "message": message}, 413
    # The body was refused unread, so the forms must not look at it either.
    forms = _forms(read_request=False)
    _refuse(forms.pdf.file, message)
    return forms.page(413)


@bp.errorhandler(429)
def too_many_look_ups(_error: HTTPException) -> tuple[Any, int, dict[str, str]]:
    limit = current_app.config["VERIFY_RATE_LIMIT"]
    wait = throttle.seconds_until_allowed()
    headers = {"Retry-After": str(wait)}
    message = ngettext(
        "Too many look-ups from your address (at most %(limit)s). Please try again in"
        " %(num)d second.",
        "Too many look-ups from your address (at most %(limit)s). Please try again in"
        " %(num)d seconds.",
        wait,
        limit=limit,
    )
    if _wants_json():
        return {"error": "too_many_requests", "message": message}, 429, headers
    page = render_template("verify/too_many.html", limit=limit, wait=wait)
    return page, 429, headers


@bp.after_request
def never_cache_or_index(response: Response) -> Response:
    # A status can change at any moment (a revocation must show at once), and every look-up
    # is counted: no cache may answer in our place. Certificate pages name people, so search
    # engines are asked not to keep them; the form itself may be found.
    response.headers["Cache-Control"] = "no-store"
    if not (request.endpoint == "verify.index" and request.method == "GET"):
        response.headers["X-Robots-Tag"] = "noindex"
    return response
