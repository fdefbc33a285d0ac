"""What API v1 reads and answers, declared once as typed models.

The OpenAPI document, the request validation and the refusals' messages are all derived from
these (``certification.api.document``). A request model decides only the shape of a body;
the rules its values must meet (a code of up to 20 characters, credits in halves, a date not
in the future) belong to the services the admin pages share, and are told here in words.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from spectree.model_adapter.pydantic_adapter import BaseFile

from certification.api.fields import Figure, IsoDate, Number, Text, WholeNumber
from certification.certificates.models import CertificateStatus

CODE = "1 to 20 letters, digits, dots, hyphens or underscores; stored upper-case."
NAME = "1 to 200 characters."
PAST_DATE = "Not in the future."
NUMBER = 'A JSON number or a numeric string ("2.5"), read exactly, never as a float.'
Level = Literal["certificate", "diploma"]
Approval = Literal["both_bodies", "office"]
Body = Literal["EFRS", "EuSoMII"]


class Request(BaseModel):
    """A request body: unknown fields are ignored, never assigned."""

    model_config = ConfigDict(extra="ignore")


class Answer(BaseModel):
    """An answer's body, built from the domain's objects by ``representations``."""


# ---------------------------------------------------------------- refusals


class Refusal(Answer):
    """Every refusal: ``{"error": slug, "message": sentence, "fields"?: {field: message}}``."""

    error: str = Field(
        description="A stable slug: malformed, unauthorized, not_found, duplicate, invalid,"
        " attempts_exhausted, rule_violated, requirements_not_met, already_issued,"
        " already_revoked, superseded, not_current, already_withdrawn, idempotency_key_reused,"
        " method_not_allowed, too_many_requests, ..."
    )
    message: str = Field(description="A sentence a person can act on.")
    field: str | None = Field(
        default=None,
        description="The input at fault, where a refusal is about one (course_code for a course"
        " outside a provider's scope or accreditation); left out otherwise.",
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="For each field at fault, what is wrong with it (left out when none is).",
    )


class RequirementsNotMetRefusal(Refusal):
    """Issuing refused: the candidate does not meet every requirement yet."""

    missing: list[str] = Field(
        description="What is still missing, in words (as in the progress report)."
    )


class AlreadyIssuedRefusal(Refusal):
    """Issuing refused: the candidate holds a current certificate for this award, or the
    award is on hold for them since a certificate of it was revoked."""

    code: str = Field(
        description="already_issued: the current certificate's code; award_on_hold: the"
        " revoked certificate's."
    )


class AwardOnHoldRefusal(AlreadyIssuedRefusal):
    """Issuing refused: the award is on hold for this candidate since ``code`` was revoked;
    lift the hold (``POST /candidates/{candidate_id}/holds/{programme}/lift``) first."""

    on_hold_since: dt.date = Field(description="The day the certificate was revoked.")
    reason: str = Field(description="Why it was revoked.")


# ---------------------------------------------------------------- the catalogue


class ProgrammeInput(Request):
    code: Text = Field(description=CODE)
    title: Text = Field(description=NAME)
    level: Text = Field(description="certificate or diploma.")
    eqf_level: WholeNumber | None = Field(None, description="1 to 8, or null.")
    min_total_credits: Number = Field(description=NUMBER)
    domain_minimums: dict[Text, Number] = Field(
        description='Minimum ECTS credits per domain, e.g. {"AI & Data Science": 5}.'
    )
    required_assessments: list[Text] = Field(description="Codes of assessments to pass.")
    prerequisite: Text | None = Field(
        description="The code of a programme to hold first; send null for none."
    )
    validity_months: WholeNumber | None = Field(
        description="1 to 600; send null for a certificate that does not expire."
    )
    credit_window_months: WholeNumber | None = Field(
        None, description="1 to 600: only credits this recent count. Null: all count."
    )
    approval: Approval = Field(
        "both_bodies",
        description="both_bodies (the default): an officer of each partner body approves"
        " every certificate before its seal; office: the programme office issues alone.",
    )
    # Its length is the service's to check, as a form's is (422, in the reader's words).
    description: str = Field(
        "", description="What the award is for, in a paragraph candidates read (English)."
    )
    renewal_cpd_points: Number | None = Field(
        None,
        description="The renewal rule: CPD points to earn between a certificate's issue and"
        " its expiry (needs validity_months). Null: certificates are not renewed through CPD. "
        + NUMBER,
    )
    renewal_domain_minimums: dict[Text, Number] = Field(
        default_factory=dict,
        description='Of those points, the minimum per domain, e.g. {"Informatics Governance": 5}.',
    )
    renewal_grace_months: WholeNumber | None = Field(
        None,
        description="0 to 60: how long after expiry a certificate can still be renewed; CPD"
        " points earned in that time count too. Null: no grace period.",
    )
    renewal_assessment: Text | None = Field(
        None,
        description="The code of an assessment to pass between a certificate's issue and its"
        " expiry as well (needs renewal_cpd_points). Null: none.",
    )


class Programme(Answer):
    code: str
    title: str
    level: Level
    eqf_level: int | None
    min_total_credits: Figure
    domain_minimums: dict[str, Figure]
    required_assessments: list[str]
    prerequisite: str | None
    validity_months: int | None
    credit_window_months: int | None
    approval: Approval
    description: str
    renewal_cpd_points: Figure | None = None
    renewal_domain_minimums: dict[str, Figure] = {}
    renewal_grace_months: int | None = None
    renewal_assessment: str | None = None


class CourseInput(Request):
    code: Text = Field(description=CODE)
    title: Text = Field(description=NAME)
    credits: Number = Field(description="ECTS credits, a multiple of 0.5. " + NUMBER)
    domain: Text = Field(description="1 to 100 characters.")
    provider: Text = Field(
        description="The name of a provider in the catalogue, in any case. An unknown name is"
        " refused (422 naming `provider`): providers are added by the programme office, never"
        " created by this call."
    )


class Course(Answer):
    code: str
    title: str
    credits: Figure
    domain: str
    provider: str = Field(description='The provider\'s name; "" for a course without one.')
    provider_id: int | None = Field(description="The provider's id; null for none.")


class AssessmentInput(Request):
    code: Text = Field(description=CODE)
    title: Text = Field(description=NAME)
    pass_mark: Number = Field(description=NUMBER)
    max_score: Number = Field(description=NUMBER)
    max_attempts: WholeNumber = Field(description="1 to 20.")


class Assessment(Answer):
    code: str
    title: str
    pass_mark: Figure
    max_score: Figure
    max_attempts: int


# ---------------------------------------------------------------- candidates and records


class CandidateInput(Request):
    email: Text = Field(description="At most 254 characters; stored in lower case.")
    full_name: Text = Field(description=NAME + " Stored in Unicode NFC.")
    country: Text | None = Field(None, description="ISO 3166 alpha-2, e.g. PL, or null.")
    language: Text | None = Field(
        None,
        description="The language of the candidate's e-mails and, beside English, of their"
        " certificates: one of the languages offered (ISO 639-1, e.g. pl), or null for none"
        " (English).",
    )


class Candidate(Answer):
    id: int
    email: str
    full_name: str = Field(description="Unicode NFC.")
    country: str | None
    language: str | None = Field(
        description="ISO 639-1 code of the language the candidate reads, or null if none is"
        " chosen (e-mails and certificates in English)."
    )


class CreditInput(Request):
    course: Text = Field(description="The code of a course in the catalogue.")
    completed_on: IsoDate = Field(description=PAST_DATE)


class Withdrawn(Answer):
    """What a record as answered says of its withdrawal, if it was withdrawn."""

    withdrawn_at: dt.datetime | None = Field(
        description="When it was withdrawn (UTC); null while it counts. A withdrawn record is"
        " kept, but counts towards nothing."
    )
    withdrawal_reason: str | None = Field(description="Why it was withdrawn; null while it counts.")


class Credit(Withdrawn):
    id: int = Field(description="The record's id, for withdrawing it.")
    course: str
    credits: Figure
    domain: str
    completed_on: dt.date


class ResultInput(Request):
    assessment: Text = Field(description="The code of an assessment in the catalogue.")
    score: Number = Field(description="At most the assessment's max_score. " + NUMBER)
    taken_on: IsoDate = Field(description=PAST_DATE)


class Result(Withdrawn):
    id: int = Field(description="The record's id, for withdrawing it.")
    assessment: str
    attempt: int = Field(description="1 for the first attempt, and so on.")
    counted_attempt: int | None = Field(
        description="Its place among the candidate's attempts at this assessment that still"
        " count (not withdrawn): 1 for the first, and so on, as the limit of attempts counts"
        " them (``attempt`` keeps the number given when it was recorded); null once it is"
        " withdrawn (it no longer uses up an attempt)."
    )
    score: Figure
    passed: bool
    taken_on: dt.date


class WithdrawalInput(Request):
    reason: Text = Field(
        description="Why the record is withdrawn (e.g. recorded against the wrong candidate),"
        " in one line of up to 500 characters; kept with it and in the audit trail."
    )


class PageQuery(Request):
    """Which page of a list: ``?page=1&per_page=50``."""

    page: WholeNumber = Field(1, ge=1, description="From 1; past the last page, no items.")
    per_page: WholeNumber = Field(50, ge=1, le=100, description="1 to 100.")


class CandidateQuery(PageQuery):
    email: Text | None = Field(
        None,
        description="Only the candidate registered with this e-mail (compared as stored: in"
        " lower case, spaces trimmed). Left out: every candidate, in the order of names.",
    )


class Page(Answer):
    """One page of a list, with what it takes to ask for the next."""

    page: int
    per_page: int
    total: int = Field(description="Items on every page together.")
    pages: int = Field(description="How many pages there are (0 when there are no items).")


class CandidatePage(Page):
    items: list[Candidate]


class CreditPage(Page):
    items: list[Credit] = Field(description="Oldest recorded first, withdrawn ones included.")


class ResultPage(Page):
    items: list[Result] = Field(description="Oldest recorded first, withdrawn ones included.")


class IdempotencyKeyHeader(Request):
    idempotency_key: str | SkipJsonSchema[None] = Field(
        None,
        alias="Idempotency-Key",
        description="Any unique string per intended write (1 to 255 visible ASCII"
        " characters), e.g. a UUID. A retry with the same key and the same body gets the"
        " first answer again (header Idempotent-Replayed: true) and records nothing; the"
        " same key with a different body is refused (422 idempotency_key_reused). Keys are"
        " kept for 30 days.",
    )


class Requirement(Answer):
    description: str
    required: Figure | str = Field(
        description="Credits or a pass mark; for a prerequisite, the programme code."
    )
    achieved: Figure | str | None = Field(
        description="Credits or the best score; for a prerequisite its code once met. Null"
        " while nothing counts (no attempt, prerequisite not met)."
    )
    met: bool
    attempts_used: int | None = Field(
        description="For an assessment, the attempts taken; null for any other requirement."
    )
    attempts_left: int | None = Field(
        description="For an assessment, the attempts still open (0 once all are used); null"
        " for any other requirement."
    )
    blocked: bool = Field(
        description="Not met, and the candidate cannot meet it by themselves: every attempt"
        " at the assessment is used (the programme office decides what happens next)."
    )


class ProgrammeProgress(Answer):
    """How far the candidate is towards one award, counted in requirements: there is no
    percentage, so that credits gained never make a failed assessment look nearly done."""

    code: str
    title: str
    eligible: bool
    requirements: list[Requirement]
    missing: list[str] = Field(description="What is still missing, in words; empty when eligible.")
    requirements_met: int = Field(description="How many of ``requirements`` are met.")
    requirements_total: int = Field(description="How many requirements the award has.")
    blocked: bool = Field(
        description="Some requirement is blocked (see ``requirements[].blocked``): the award"
        " cannot be reached as things stand."
    )


class Progress(Answer):
    programmes: list[ProgrammeProgress] = Field(
        description="One entry for every programme in the catalogue. A valid certificate the"
        " candidate holds meets a prerequisite on that award."
    )


# ---------------------------------------------------------------- certificates


class CertificateInput(Request):
    candidate_id: WholeNumber
    programme: Text = Field(description="The code of the programme (the award).")


class HoldLiftInput(Request):
    reason: Text = Field(
        description="Why the award may be issued to the candidate again, in one line of up to"
        " 500 characters (kept in the audit trail)."
    )


class AwardHold(Answer):
    """An award on hold for a candidate since one of its certificates was revoked."""

    candidate_id: int
    programme: str = Field(description="The code of the programme (the award).")
    certificate_code: str = Field(description="The revoked certificate that put it on hold.")
    reason: str = Field(description="The revocation's reason.")
    placed_on: dt.date
    lifted_on: dt.date | None = Field(description="Null while the hold is in force.")
    lift_reason: str | None


class RevocationInput(Request):
    reason: Text = Field(
        description="Why, in one line of up to 500 characters; shown to anyone who verifies"
        " the certificate."
    )
    body: Body | None = Field(
        None,
        description="An officer acts for their own body; if sent, it must be that body (403"
        " otherwise).",
    )


class ApprovalInput(Request):
    body: Body | None = Field(
        None,
        description="An officer approves for their own body; if sent, it must be that body"
        " (403 otherwise).",
    )


class DecisionInput(Request):
    reason: Text = Field(
        description="Why, in one line of 5 to 500 characters (kept in the audit trail)."
    )
    body: Body | None = Field(
        None, description="If sent, it must be the officer's own body (403 otherwise)."
    )


class BodyApproval(Answer):
    body: str
    approved_on: dt.date | None
    by: str | None = Field(description="The officer who approved (their name), or null.")


class AwardRequest(Answer):
    """A request for a jointly approved award and where it stands: pending until each body
    approves, then ``valid`` (the certificate is issued under ``code``), or rejected."""

    code: str = Field(description="Reserved for the certificate; not valid until approved.")
    status: Literal["pending_approval", "valid", "rejected"]
    candidate_id: int
    programme: str
    replaces: str | None = Field(
        description="For a reissue or a renewal: the certificate it replaces."
    )
    approvals: list[BodyApproval]
    rejected_by: str | None = None
    rejection_reason: str | None = None


class ReissueInput(Request):
    full_name: Text | None = Field(
        None,
        description="The corrected name to print; it also becomes the candidate's name. Left"
        " out or null: the name stays as printed.",
    )
    language: Text | None = Field(
        None,
        description="A copy in another language: the language printed beside English, one of"
        " the languages offered (ISO 639-1, e.g. pl), or en for English alone. Left out or"
        " null: the certificate's own.",
    )


class RenewalInput(Request):
    """No fields: the renewal takes the holder's name as it stands, and the award, language
    and credits as printed."""


class Issuer(Answer):
    name: str
    short_name: str


class Verification(Answer):
    """What anyone may learn of a certificate: the printed snapshot and what became of it."""

    code: str = Field(description="e.g. EIC-7KQ2-M9XD-4TRA-C1WZ-8")
    status: CertificateStatus
    holder_name: str = Field(description="As printed.")
    award: str = Field(description="The programme's title as printed.")
    level: Level
    eqf_level: int | None
    credits: Figure = Field(description="The ECTS credits that counted.")
    issued_on: dt.date
    expires_on: dt.date | None
    issuers: list[Issuer]
    pdf_sha256: str = Field(
        pattern="^[0-9a-f]{64}$", description="SHA-256 of the sealed PDF, in hex."
    )
    revoked_on: dt.date | None
    revocation_reason: str | None
    superseded_by: str | None = Field(
        description="The code of the certificate that replaced this one."
    )
    renewed: bool = Field(
        description="Superseded by its renewal (the award continues for a new period under"
        " `superseded_by`), not by a reissue."
    )
    renews: str | None = Field(
        description="The code of the certificate of the period before, which this one renews."
    )
    approvals: list[PublicApproval] = Field(
        description="Each partner body's approval and its day (never the officer's name);"
        " empty for an award the programme office issues alone."
    )
    suspended_on: dt.date | None = Field(
        description="The day one body asked for the revocation (status suspended)."
    )
    suspended_by: str | None = Field(description="The body that asked for the revocation.")
    suspension_reason: str | None


class PublicApproval(Answer):
    body: str
    approved_on: dt.date


class Certificate(Verification):
    """A certificate as its administrators see it: the public record, and more."""

    credits_by_domain: dict[str, Figure]
    verify_url: str = Field(description="Printed on it and in its QR code.")


class PdfUpload(Request):
    file: BaseFile = Field(description="The certificate PDF, at most 5 MB.")


class Seal(Answer):
    signer: str
    valid: bool
    field: str = Field(description="The PDF signature field that holds the seal.")
    signed_at: dt.datetime | None = Field(
        description="When the seal was made: the time its timestamp proves, or (when"
        " `time_attested` is false) the time the sealing software wrote into it."
    )
    time_attested: bool = Field(
        description="`signed_at` is proven by a valid timestamp from a time-stamping authority."
    )
    changed_after: bool = Field(
        description="The file was changed after this seal in a way the seal does not allow"
        " (anything but the other seal, validation data or a timestamp)."
    )


class DocumentTimestamp(Answer):
    authority: str = Field(description="The time-stamping authority that signed it.")
    valid: bool = Field(
        description="Intact, and made by an authority whose certificate chains to a trusted"
        " root; nothing but validation data or further timestamps was added after it."
    )
    time: dt.datetime | None = Field(description="The time the authority attests.")


class PdfVerification(Answer):
    authentic: bool = Field(
        description="The file is a certificate issued here, unchanged, with both bodies'"
        " seals intact and trusted. Says nothing about its status: see `status`."
    )
    code: str | None = Field(description="The certificate the file is, if it is one issued here.")
    status: CertificateStatus | None
    signatures: list[Seal] = Field(description="Each digital seal found in the file.")
    timestamps: list[DocumentTimestamp] = Field(
        description="Each RFC 3161 document timestamp added after the seals (PAdES B-LTA):"
        " it proves when the seals existed, so that they still validate after their"
        " certificates expire. Empty for a file sealed without one."
    )
    changed_after_sealing: bool = Field(
        description="Bytes were appended, or an incremental update changed the document,"
        " after it was sealed (validation data and timestamps added after the seals are"
        " allowed)."
    )


class CredentialUpload(BaseModel):
    """The credential itself (Open Badges 3.0 JSON-LD), as the holder shared it."""

    model_config = ConfigDict(extra="allow")


class ProofVerdict(Answer):
    body: str | None = Field(description="The body whose key the proof names; null: not ours.")
    valid: bool


class CredentialVerification(Answer):
    authentic: bool = Field(
        description="Issued here and unchanged: each proof holds against the keys in the"
        " issuer's DID document, and a certificate here has its id. A credential with one"
        " body's proof alone is authentic too (`problems` says so)."
    )
    code: str | None = Field(description="The certificate it is, when authentic.")
    status: CertificateStatus | None = Field(
        description="The certificate's status today, as the status lists publish it."
    )
    proofs: list[ProofVerdict] = Field(description="Each proof on the credential.")
    problems: list[str] = Field(description="What does not hold, in English, for integrators.")
