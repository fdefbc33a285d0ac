"""The contract of the two public verification routes of API v1.

The verification area serves them, so that one rate limit covers its pages and these alike;
their contract is declared here with the rest of the API's, from the same models, and the
document describes them at the verification area's own URL rules. Nothing here runs when
they are called.
"""

from __future__ import annotations

from certification.api.contract import (
    CredentialUpload,
    CredentialVerification,
    PdfUpload,
    PdfVerification,
    Refusal,
    Verification,
)
from certification.api.document import VERIFICATION, answers, api_spec, served_elsewhere


@served_elsewhere("verify.certificate_json")
@api_spec.validate(
    resp=answers(
        200,
        Verification,
        "What the certificate says and its status.",
        429,
        HTTP_404=(
            Refusal,
            "not_found: no certificate has this code (a malformed code gets the same answer).",
        ),
    ),
    security={},
    operation_id="verifyCode",
    tags=[VERIFICATION],
)
def verify_code(code: str) -> None:
    """Public: is the certificate with this code genuine, and is it valid today?

    No token needed; rate-limited per client.
    """


@served_elsewhere("verify.pdf_json")
@api_spec.validate(
    form=PdfUpload,
    resp=answers(
        200,
        PdfVerification,
        "The verdict on the file. A damaged PDF, or one that matches no certificate, is"
        " `authentic: false` with `code` and `status` null.",
        429,
        HTTP_400=(
            Refusal,
            "`file_required` (no file), `not_a_pdf` (the content is not a PDF) or"
            " `file_too_large` (over 5 MB).",
        ),
        HTTP_413=(Refusal, "The whole request is over the server's 6 MB limit."),
    ),
    security={},
    operation_id="verifyPdf",
    tags=[VERIFICATION],
)
def verify_pdf() -> None:
    """Public: is this PDF a certificate issued here, unchanged and sealed by both bodies?

    Each seal and each document timestamp is reported: valid, who, when. A file sealed with
    timestamps and its validation data (PAdES B-LTA) is checked as of the time the
    timestamps prove, with nothing fetched, so its seals hold after their certificates
    expire. No token needed; rate-limited per client. The file is checked, not kept.
    """


@served_elsewhere("verify.credential_json")
@api_spec.validate(
    json=CredentialUpload,
    resp=answers(
        200,
        CredentialVerification,
        "The verdict on the credential. Another issuer's, a changed or an unsigned credential"
        " is `authentic: false`, with the reasons in `problems`.",
        429,
        HTTP_400=(
            Refusal,
            "`not_json` (the body is not JSON) or `too_large` (over 256 KB).",
        ),
    ),
    security={},
    operation_id="verifyCredential",
    tags=[VERIFICATION],
)
def verify_credential() -> None:
    """Public: is this Open Badges 3.0 credential one issued here, unchanged, and what is
    its status today?

    The body is the credential itself. Each proof is checked against the keys published in
    the issuer's DID document (`/.well-known/did.json`); nothing is fetched elsewhere. No
    token needed; rate-limited per client.
    """
