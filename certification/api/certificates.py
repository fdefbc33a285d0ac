"""The API's certificate routes: request or issue, approve, reject, read, revoke, reinstate,
reissue and download.

Like every handler here: take the validated body, call one service as ``g.actor``, answer
with a model of ``contract``. The request commits once on success
(``certification.database``); a refusal rolls back.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Response, current_app, g, request, url_for
from flask_babel import gettext
from flask_login import current_user

from certification.api.blueprint import (
    Unauthenticated,
    actor_for_bearer_token,
    bp,
    sends_authorization,
)
from certification.api.contract import (
    AlreadyIssuedRefusal,
    ApprovalInput,
    AwardHold,
    AwardRequest,
    Certificate,
    CertificateInput,
    DecisionInput,
    HoldLiftInput,
    Refusal,
    ReissueInput,
    RenewalInput,
    RequirementsNotMetRefusal,
    RevocationInput,
)
from certification.api.document import CERTIFICATES, reads, writes
from certification.api.representations import certificate_answer, request_answer
from certification.auth.models import User
from certification.auth.services import get_candidate
from certification.catalogue.services import get_programme
from certification.certificates import models
from certification.certificates.approvals import (
    approve_request,
    find_request,
    reinstate_certificate,
    reissue_award,
    reject_request,
    renew_award,
    request_award,
    revoke_award,
)
from certification.certificates.holds import lift_hold
from certification.certificates.services import can_download, find_certificate
from certification.credentials.elm import elm_of
from certification.credentials.services import (
    credential_document,
    credential_of,
    current_issuer,
)
from certification.errors import InvalidInput, NotFound
from certification.web import credential_response, sealed_pdf_download, today

Created = tuple[Certificate | AwardRequest, int, dict[str, str]]
CREATED = "{}; its URL is in the Location header."
PENDING = (
    "Requested, for a programme both bodies approve: `status` pending_approval, the code"
    " reserved (not valid yet), and each body's approval (null until an officer of that body"
    " approves with POST /certificates/{code}/approve). Its Location is that list."
)
# The refusals every certificate write may give; each adds its own 409 or 422, which say more.
CERTIFICATE_REFUSALS = (400, 401, 403, 404)


def _answer(certificate: models.Certificate) -> Certificate:
    return certificate_answer(certificate, today(), ZoneInfo(current_app.config["APP_TIMEZONE"]))


def _created(done: models.Certificate | models.AwardRequest) -> Created:
    if isinstance(done, models.AwardRequest):
        location = url_for("api.get_approvals", code=done.code)
        return request_answer(done), 202, {"Location": location}
    location = url_for("api.get_certificate", code=done.code)
    return _answer(done), 201, {"Location": location}


@bp.post("/certificates")
@writes(
    Certificate,
    "issueCertificate",
    CERTIFICATES,
    description=CREATED.format("Issued"),
    refused=CERTIFICATE_REFUSALS,
    HTTP_409=(
        AlreadyIssuedRefusal,
        "already_issued: the candidate holds a current certificate for this award; `code`"
        " names it. Or award_on_hold: a certificate of this award was revoked (`code`), and"
        " the award stays on hold for the candidate (`on_hold_since`, `reason`) until it is"
        " lifted with POST /candidates/{candidate_id}/holds/{programme}/lift.",
    ),
    HTTP_422=(RequirementsNotMetRefusal, "requirements_not_met: `missing` says what is missing."),
    HTTP_202=(AwardRequest, PENDING),
)
def post_certificate(json: CertificateInput) -> Created:
    """Request a programme's certificate for a candidate who meets every requirement.

    A programme both bodies approve (`approval` both_bodies, the default) answers 202: the
    request waits for an officer of each body. A programme the office issues alone answers
    201 with the certificate, rendered, sealed by both bodies and stored. `already_requested`
    (409) names the code of a request still pending."""
    candidate, programme = get_candidate(json.candidate_id), get_programme(json.programme)
    return _created(request_award(candidate, programme, g.actor, today=today()))


@bp.get("/certificates/<code>/approvals")
@reads(AwardRequest, "The request and each body's approval.", "getApprovals", CERTIFICATES)
def get_approvals(code: str) -> AwardRequest:
    """A request for a jointly approved award: pending, valid (issued) or rejected, and each
    body's approval (its day and officer, or null)."""
    return request_answer(find_request(code))


@bp.post("/certificates/<code>/approve")
@writes(
    AwardRequest,
    "approveCertificate",
    CERTIFICATES,
    status=200,
    description="Approved for the officer's body; `status` is valid once both bodies have"
    " approved (the certificate is then sealed, stored and e-mailed to its holder).",
    refused=CERTIFICATE_REFUSALS,
    HTTP_409=(
        Refusal,
        "already_approved: this body approved it already; not_pending: the request was"
        " issued or rejected.",
    ),
    HTTP_503=(Refusal, "signing_not_configured: a body's seal key cannot be used now."),
)
def approve_certificate(code: str, json: ApprovalInput) -> AwardRequest:
    """Approve a requested certificate for your own partner body (officers only). The body
    may be left out; if sent, `body` must be your own (403 otherwise)."""
    request = find_request(code)
    return request_answer(approve_request(request, g.actor, today=today(), body=json.body))


@bp.post("/certificates/<code>/reject")
@writes(
    AwardRequest,
    "rejectCertificate",
    CERTIFICATES,
    status=200,
    description="Rejected: nothing is issued; the award may be requested again later.",
    refused=CERTIFICATE_REFUSALS,
    HTTP_409=(Refusal, "not_pending: the request was already issued or rejected."),
    HTTP_422=(Refusal, "invalid: the reason is missing, too short or too long."),
)
def reject_certificate(code: str, json: DecisionInput) -> AwardRequest:
    """Reject a requested certificate for your own partner body (officers only), with a
    reason."""
    request = find_request(code)
    return request_answer(reject_request(request, g.actor, json.reason, body=json.body))


@bp.get("/certificates/<code>")
@reads(Certificate, "The certificate.", "getCertificate", CERTIFICATES)
def get_certificate(code: str) -> Certificate:
    """A certificate: what was printed, and its status today.

    The code's case, spaces and hyphens do not matter.
    """
    return _answer(find_certificate(code))


@bp.post("/certificates/<code>/revoke")
@writes(
    Certificate,
    "revokeCertificate",
    CERTIFICATES,
    status=200,
    description="Suspended (the first body) or revoked (the other body, or the office for an"
    " award it issues alone).",
    refused=CERTIFICATE_REFUSALS,
    HTTP_409=(
        Refusal,
        "already_suspended: your body already asked for this revocation; the other body decides.",
    ),
    HTTP_422=(
        Refusal,
        "invalid (an empty, too short or over-long reason), already_revoked, or superseded"
        " (revoke the certificate that replaced it).",
    ),
)
def revoke(code: str, json: RevocationInput) -> Certificate:
    """Revoke a certificate. For an award both bodies approve, an officer's revocation
    suspends it at once (status suspended; verifiers see which body asked, when and why) and
    the other body's revokes it; for one the office issues alone, the office revokes. The
    record stays; verifiers see the date and the reason."""
    certificate = find_certificate(code)
    return _answer(revoke_award(certificate, json.reason, g.actor, body=json.body))


@bp.post("/certificates/<code>/reinstate")
@writes(
    Certificate,
    "reinstateCertificate",
    CERTIFICATES,
    status=200,
    description="Reinstated: the suspension is lifted and the certificate is valid again.",
    refused=CERTIFICATE_REFUSALS,
    HTTP_409=(
        Refusal,
        "not_suspended: it is not suspended; own_suspension: your body asked for the"
        " revocation, the other body decides.",
    ),
    HTTP_422=(Refusal, "invalid: the reason is missing, too short or too long."),
)
def reinstate(code: str, json: DecisionInput) -> Certificate:
    """Decline the other body's request to revoke a suspended certificate (officers of the
    body that did not ask), with a reason."""
    certificate = find_certificate(code)
    return _answer(reinstate_certificate(certificate, json.reason, g.actor, body=json.body))


@bp.post("/candidates/<int:candidate_id>/holds/<programme>/lift")
@writes(
    AwardHold,
    "liftAwardHold",
    CERTIFICATES,
    status=200,
    description="Lifted: the award may be issued to the candidate again.",
    refused=CERTIFICATE_REFUSALS,
    HTTP_422=(Refusal, "invalid: an empty or over-long reason."),
)
def lift(candidate_id: int, programme: str, json: HoldLiftInput) -> AwardHold:
    """Lift the hold a revocation put on an award for a candidate, with a reason (audited);
    404 when the award is not on hold for them."""
    candidate, award = get_candidate(candidate_id), get_programme(programme)
    hold = lift_hold(candidate, award, json.reason, g.actor)
    zone = ZoneInfo(current_app.config["APP_TIMEZONE"])
    return AwardHold(
        candidate_id=hold.candidate_id,
        programme=award.code,
        certificate_code=hold.certificate_code,
        reason=hold.reason,
        placed_on=hold.placed_at.astimezone(zone).date(),
        lifted_on=hold.lifted_at.astimezone(zone).date() if hold.lifted_at else None,
        lift_reason=hold.lift_reason,
    )


@bp.post("/certificates/<code>/reissue")
@writes(
    Certificate,
    "reissueCertificate",
    CERTIFICATES,
    description=CREATED.format("The new certificate"),
    refused=CERTIFICATE_REFUSALS,
    HTTP_202=(AwardRequest, PENDING),
    HTTP_422=(
        Refusal,
        "invalid (an empty or over-long name), or not_current: only a certificate that is"
        " neither revoked nor superseded is reissued.",
    ),
)
def reissue(code: str, json: ReissueInput) -> Created:
    """Replace a current certificate with a new one (new code, new PDF; same award, credits
    and dates), e.g. to correct the name. The old one becomes superseded. For an award both
    bodies approve, the replacement is requested (202) and each body approves it like an
    issue; the old certificate stays valid until then.

    The body may be left out.
    """
    certificate = find_certificate(code)
    return _created(
        reissue_award(certificate, g.actor, full_name=json.full_name, language=json.language)
    )


@bp.post("/certificates/<code>/renew")
@writes(
    Certificate,
    "renewCertificate",
    CERTIFICATES,
    description=CREATED.format("The renewed certificate"),
    refused=CERTIFICATE_REFUSALS,
    HTTP_202=(AwardRequest, PENDING),
    HTTP_409=(Refusal, "already_requested: a request for this award awaits approval."),
    HTTP_422=(
        RequirementsNotMetRefusal,
        "requirements_not_met (the CPD the renewal still needs, in `missing`),"
        " renewal_not_open (more than 180 days before expiry), not_renewable (not renewed"
        " through CPD, not current, or past its grace period) or not_current.",
    ),
)
def renew(code: str, json: RenewalInput) -> Created:
    """Renew a certificate whose holder met the programme's renewal rule (their CPD
    points), from 180 days before it expires or in the grace period after: a new certificate
    continues the award from the old expiry for the programme's validity, and the old one is
    superseded by renewal (not revoked). For an award both bodies approve, the renewal is
    requested (202) and each body approves it like an issue.

    The body may be left out.
    """
    certificate = find_certificate(code)
    return _created(renew_award(certificate, g.actor, today=today()))


@bp.get("/certificates/<code>/pdf")
@reads(
    None,
    "The PDF exactly as issued (application/pdf, as an attachment); its SHA-256 is the"
    " certificate's `pdf_sha256`.",
    "downloadCertificatePdf",
    CERTIFICATES,
    security=[{"bearerAuth": []}, {"sessionCookie": []}],
    skip_validation=True,  # it reads no body, and its answer is the stored PDF
)
def get_certificate_pdf(code: str) -> Response:
    """The sealed PDF, for an administrator (token or logged-in session) or its holder
    (logged-in session).

    Like the credential and its ELM export, it also accepts the browser session of the
    web pages. A token, when sent, must be valid. To a logged-in person who may not
    download it, the certificate does not exist (404), as for an unknown code, so that
    codes cannot be probed.
    """
    certificate = _downloadable(code)
    return sealed_pdf_download(certificate.code, certificate.pdf)


@bp.get("/certificates/<code>/credential")
@reads(
    None,
    "The certificate as an Open Badges 3.0 credential (application/ld+json), signed by each"
    " body that issued it (a proof set). With `?proof=EFRS` or `?proof=EuSoMII`: the same"
    " credential with that body's proof alone, for verifiers that read a single proof. With"
    " `?format=jwt&proof=EFRS`: that body's VC-JWT of it (application/jwt; EdDSA, its `kid`"
    " a key of the issuer's DID document).",
    "getCertificateCredential",
    CERTIFICATES,
    security=[{"bearerAuth": []}, {"sessionCookie": []}],
    skip_validation=True,  # it reads no body, and its answer is the stored credential
)
def get_certificate_credential(code: str) -> Response:
    """The signed credential, for an administrator (token or logged-in session) or its
    holder (logged-in session); to anyone else it does not exist (404), like the PDF."""
    certificate = _downloadable(code)
    credential = credential_of(certificate)
    if credential is None:
        raise NotFound(gettext("This certificate has no credential yet."))
    body = request.args.get("proof")
    if request.args.get("format") == "jwt":
        token = credential.jwts.get(body or "")
        if token is None:
            refusal = gettext("Name the body whose VC-JWT you want: proof=EFRS or proof=EuSoMII.")
            raise InvalidInput(refusal, {"proof": refusal}, field="proof")
        return Response(token, mimetype="application/jwt", headers={"Cache-Control": "no-store"})
    try:
        document = credential_document(credential, body)
    except ValueError:
        refusal = gettext("%(body)s did not sign this credential.", body=body)
        raise InvalidInput(refusal, {"proof": refusal}, field="proof") from None
    return credential_response(document, f"{certificate.code}.json")


@bp.get("/certificates/<code>/elm")
@reads(
    None,
    "The same award in the European Learning Model (ELM 3) as JSON-LD, unsigned, for a"
    ' European Digital Credentials deployment to import and seal (README, "European'
    ' Learning Model").',
    "getCertificateElm",
    CERTIFICATES,
    security=[{"bearerAuth": []}, {"sessionCookie": []}],
    skip_validation=True,  # it reads no body, and its answer is a document
)
def get_certificate_elm(code: str) -> Response:
    """For an administrator (token or logged-in session) or its holder (logged-in
    session); to anyone else it does not exist (404), like the PDF."""
    certificate = _downloadable(code)
    return credential_response(
        elm_of(certificate, current_issuer()), f"{certificate.code}.elm.json"
    )


def _downloadable(code: str) -> models.Certificate:
    """The certificate, if the token's or the session's user may download it (the office,
    the officers, its holder); to anyone else it does not exist."""
    viewer = _token_or_session_user()  # first: no login, no answer about the code
    certificate = find_certificate(code)
    if not can_download(certificate, viewer):
        raise NotFound(gettext("No certificate has this code."))
    return certificate


def _token_or_session_user() -> User:
    """A token if one is sent (and then it must be valid), else the logged-in user."""
    if sends_authorization():
        return actor_for_bearer_token()
    if current_user.is_authenticated:
        return current_user._get_current_object()
    raise Unauthenticated(
        gettext("Send an API token in the header Authorization: Bearer <token>, or log in first.")
    )
