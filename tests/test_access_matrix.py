"""Who may open what: every route of the application, asked by an anonymous visitor, a
candidate (the holder of the records in the URL), another candidate, an API token, an
officer of each partner body and the programme office ("admin"), against the answer each
should get.

A route added without a row here fails the first test, so nobody can add a page and forget
to decide who may see it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pikepdf
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from certification.api.blueprint import OWN_CHECK_ENDPOINTS
from certification.auth.models import ApiToken, User
from certification.auth.services import create_api_token, get_candidate, get_user_by_email
from certification.catalogue.models import Provider
from certification.catalogue.services import CourseInput, create_course, get_programme
from certification.certificates import bulk
from certification.certificates.approvals import request_award
from certification.certificates.services import issue_certificate
from certification.claims.models import Claim
from certification.claims.services import ClaimInput, EvidenceUpload, submit_claim
from certification.extensions import db
from certification.imports.models import ImportKind
from certification.imports.services import store_upload
from certification.mail.models import OutgoingEmail
from certification.records.models import AssessmentAttempt, CreditRecord
from tests.certificates.test_admin_certificates import png
from tests.conftest import change_logo, log_in

# The tokens and the officers go before the programme office, whose rows revoke the token
# and delete a course. "token" is the office's API token, "officer_token" the EFRS
# officer's: each may call what its user's role may.
ROLES = (
    "anonymous",
    "candidate",
    "other",
    "token",
    "efrs_officer",
    "eusomii_officer",
    "officer_token",
    "provider",
    "provider_token",
    "admin",
)
PROVIDER_STAFF = "staff@provider.example"
OFFICERS = {"efrs_officer": "officer@efrs.example", "eusomii_officer": "officer@eusomii.example"}

# What an answer means, for the matrix: a page, a refusal, or the way to the login page.
OK = "ok"  # the route did its work, or refused the (empty) input as invalid: access granted
LOGIN = "login"  # 302 to the login page
NOT_FOUND = 404  # no such page, as far as this visitor may know
NO_TOKEN = 401  # the API: no valid bearer token
FORBIDDEN = 403  # the API: a valid token whose user's role may not do this


@dataclass(frozen=True)
class World:
    holder_id: int  # "candidate": the records in the URLs are theirs
    other_id: int
    certificate: str
    record_id: int
    result_id: int
    token_id: int
    email_id: int
    upload_id: int
    job_id: int
    logo: str
    admin_email: str
    token: str
    officer_token: str
    provider_token: str
    provider_id: int
    request: str  # a request for the jointly approved EII-J, pending
    claim_id: int  # the holder's claim of the credits of a course of the provider's, pending
    evidence_id: int


@pytest.fixture
def world(
    app: Flask,
    make_admin,
    make_officer,
    make_candidate,
    make_programme,
    make_provider_staff,
    eligible_candidate,
    today,
) -> World:
    admin = make_admin("office@efrs.example")
    for email in OFFICERS.values():
        make_officer("EuSoMII" if "eusomii" in email else "EFRS", email)
    holder_id = eligible_candidate("Αικατερίνη Παπαδοπούλου")
    make_programme(
        "EII-J", required_assessments=("CERT-EXAM",), approval="both_bodies", title="Joint award"
    )
    waiting_id = eligible_candidate("Jürgen Schäfer")  # eligible, so a job has someone to do
    other = make_candidate("Łukasz Wiśniewski", email="other@example.org")
    with app.app_context():
        provider_id = db.session.scalar(sa.select(Provider.id).limit(1))
    make_provider_staff(provider_id, PROVIDER_STAFF)
    with app.app_context():
        admin_user = db.session.get(User, admin.id)
        certificate = issue_certificate(
            get_candidate(holder_id), get_programme("EII-C"), admin_user, today=today
        )
        token = create_api_token(admin_user, "matrix")
        officer_token = create_api_token(get_user_by_email(OFFICERS["efrs_officer"]), "matrix")
        provider_token = create_api_token(get_user_by_email(PROVIDER_STAFF), "matrix")
        joint = request_award(
            get_candidate(holder_id), get_programme("EII-J"), admin_user, today=today
        )
        body = change_logo("EFRS", png("navy", (40, 40)), admin_user)
        upload = store_upload(
            ImportKind.CREDITS,
            "credits.csv",
            b"email,course_code,completed_on\n",
            admin_user,
            today=today,
        )
        job = bulk.start_issue_job(get_programme("EII-C"), admin_user, today=today, queue=False)
        claim = _pending_claim(get_candidate(holder_id), today)
        db.session.commit()
        assert waiting_id
        return World(
            holder_id=holder_id,
            other_id=other.id,
            certificate=certificate.code,
            record_id=db.session.scalar(
                sa.select(CreditRecord.id).where(CreditRecord.candidate_id == holder_id).limit(1)
            ),
            result_id=db.session.scalar(
                sa.select(AssessmentAttempt.id)
                .where(AssessmentAttempt.candidate_id == holder_id)
                .limit(1)
            ),
            token_id=db.session.scalar(sa.select(ApiToken.id)),
            email_id=db.session.scalar(sa.select(OutgoingEmail.id).limit(1)),
            upload_id=upload.id,
            job_id=job.id,
            logo=body.logo_image.file_name,
            admin_email=admin.email,
            token=token,
            officer_token=officer_token,
            provider_token=provider_token,
            request=joint.code,
            provider_id=provider_id,
            claim_id=claim.id,
            evidence_id=claim.evidence[0].id,
        )


def _pending_claim(candidate: User, today: Any) -> Claim:
    """A credit claim on a course of the provider whose staff log in here, with a PDF."""
    create_course(
        CourseInput("EII-CLAIMED", "Claimed course", Decimal(5), "AI & Data Science", "EuSoMII"),
        None,
    )
    document = pikepdf.new()
    document.add_blank_page()
    pdf = io.BytesIO()
    document.save(pdf)
    return submit_claim(
        candidate,
        ClaimInput(kind="credit", course_code="EII-CLAIMED", activity_on=today),
        EvidenceUpload("attendance.pdf", pdf.getvalue()),
        today=today,
    )


def _params(world: World) -> dict[str, Any]:
    return {
        "candidate_id": world.holder_id,
        "programme": "EII-C",
        "record_id": world.record_id,
        "credit_id": world.record_id,
        "result_id": world.result_id,
        "code": world.certificate,
        "token_id": world.token_id,
        "email_id": world.email_id,
        "upload_id": world.upload_id,
        "job_id": world.job_id,
        "filename": None,  # set per route below
        "token": "not-a-real-token",
        "path": "css/app.css",
        "provider_id": world.provider_id,
        "language": "de",
        "purpose": "revocation",
        "programme_code": "EII-C",
        "claim_id": world.claim_id,
        "evidence_id": world.evidence_id,
    }


# Routes that take the code of a request awaiting approval, not of a certificate.
REQUEST_ROUTES = {
    "api.get_approvals",
    "api.approve_certificate",
    "api.reject_certificate",
    "admin.request_approve",
    "admin.request_reject",
}

# Catalogue routes take a course, assessment or programme code where others take a
# certificate's.
CATALOGUE_CODES = {
    "admin.course_edit": "EII-101",
    "admin.course_delete": "EII-101",
    "admin.assessment_edit": "CERT-EXAM",
    "admin.assessment_delete": "CERT-EXAM",
    "admin.hold_lift": "EII-C",
    "admin.programme_edit": "EII-C",
    "admin.eligible": "EII-C",
    "admin.issue_job_start": "EII-C",
}

NO_OFFICER = dict.fromkeys(OFFICERS, NOT_FOUND)
ANY_OFFICER = dict.fromkeys(OFFICERS, OK)
# The programme office only: to officers these pages do not exist, as /admin does not for
# candidates. STAFF: the office, and the officers, who read everything.
ADMIN_ONLY = {
    "anonymous": LOGIN,
    "candidate": NOT_FOUND,
    "other": NOT_FOUND,
    **NO_OFFICER,
    "admin": OK,
}
STAFF = {**ADMIN_ONLY, **ANY_OFFICER}
TOKEN_ONLY = dict.fromkeys(ROLES, NO_TOKEN)
EVERYONE = dict.fromkeys(ROLES, OK)
LOGGED_IN = {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN}

# Each route and method, and what each visitor should get. "token" is the administrator's
# API token sent as a bearer token, without a session.
EXPECTED: dict[tuple[str, str], dict[str, Any]] = {
    **{
        (endpoint, method): {
            **ADMIN_ONLY,
            "token": LOGIN,
            **dict.fromkeys(OFFICERS, 302),
            "admin": 302,
        }
        for endpoint, method in [
            ("admin.index", "GET"),  # to the candidates
            ("admin.ready", "GET"),  # to the first programme's list
        ]
    },
    # What the officers read (the PDF and ZIP exports are forms that only read). Branding:
    # the empty form names no body (400); a body's own officer may save it, the other body's
    # may not (test_an_officer_edits_only_their_own_body_s_branding).
    **{
        (endpoint, method): {**STAFF, "token": LOGIN}
        for endpoint, method in [
            ("admin.candidates", "GET"),
            ("admin.candidate", "GET"),
            ("admin.certificate_pdf", "GET"),
            ("admin.courses", "GET"),
            ("admin.providers", "GET"),
            ("admin.assessments", "GET"),
            ("admin.programmes", "GET"),
            ("admin.translations", "GET"),
            ("admin.eligible", "GET"),
            ("admin.issue_jobs", "GET"),
            ("admin.issue_job", "GET"),
            ("admin.issue_job_progress", "GET"),
            ("admin.branding", "GET"),
            ("admin.branding", "POST"),
            ("admin.branding_image", "GET"),
            ("admin.emails", "GET"),
            ("admin.email", "GET"),
            ("admin.reports_dashboard", "GET"),
            ("admin.reports_expiring", "GET"),
            ("admin.exports_page", "GET"),
            ("admin.export_candidates", "GET"),
            ("admin.export_certificates", "GET"),
            ("admin.export_expiring", "GET"),
            ("admin.reports_figures_json", "GET"),
            ("admin.reports_certificates_csv", "GET"),
            ("admin.export_certificates_pdf", "POST"),
            ("admin.export_certificates_zip", "POST"),
            ("admin.audit", "GET"),
            ("admin.approvals_queue", "GET"),
            # Revoking: the office for an award it issues alone, officers for a joint one.
            ("admin.certificate_revoke", "POST"),
            # In bulk, by the same rules (the empty list is refused as invalid).
            ("admin.revoke_many", "GET"),
            ("admin.revoke_many", "POST"),
            ("admin.revoke_many_confirm", "POST"),
        ]
    },
    # A course provider's staff: their courses (the rows below give them OK).
    **{
        (endpoint, method): {**ADMIN_ONLY, "admin": NOT_FOUND, "token": LOGIN}
        for endpoint, method in [("admin.our_courses", "GET"), ("admin.our_credit_new", "POST")]
    },
    # Deciding for a body: its officers only (the empty reject and reinstate forms are
    # refused as invalid; approving approves, and the second body's issues the award).
    **{
        (endpoint, "POST"): {**ADMIN_ONLY, **ANY_OFFICER, "admin": NOT_FOUND, "token": LOGIN}
        for endpoint in (
            "admin.request_approve",
            "admin.request_reject",
            "admin.certificate_reinstate",
            "admin.approvals_job_start",  # nothing ticked: nothing to approve
        )
    },
    # The office's work: changing records, the catalogue, certificates, imports, tokens.
    **{
        (endpoint, method): {**ADMIN_ONLY, "token": LOGIN}
        for endpoint, method in [
            ("admin.candidate_new", "GET"),
            ("admin.candidate_new", "POST"),
            ("admin.candidate_edit", "GET"),
            ("admin.candidate_edit", "POST"),
            ("admin.candidate_credits", "POST"),
            ("admin.candidate_credit_withdraw", "POST"),  # no reason sent: nothing withdrawn
            ("admin.candidate_result_withdraw", "POST"),
            ("admin.candidate_results", "POST"),
            ("admin.candidate_issue", "POST"),
            ("admin.candidate_password_link", "POST"),
            ("admin.hold_lift", "POST"),
            ("admin.certificate_reissue", "POST"),
            ("admin.course_new", "GET"),
            ("admin.course_new", "POST"),
            ("admin.course_edit", "GET"),
            ("admin.course_edit", "POST"),
            ("admin.provider_new", "GET"),
            ("admin.provider_new", "POST"),
            ("admin.provider_edit", "GET"),
            ("admin.provider_edit", "POST"),
            ("admin.assessment_new", "GET"),
            ("admin.assessment_new", "POST"),
            ("admin.assessment_edit", "GET"),
            ("admin.assessment_edit", "POST"),
            ("admin.programme_new", "GET"),
            ("admin.programme_new", "POST"),
            ("admin.programme_edit", "GET"),
            ("admin.programme_edit", "POST"),
            ("admin.translations_edit", "GET"),
            ("admin.translations_edit", "POST"),
            ("admin.issue_job_start", "POST"),
            ("admin.email_retry", "POST"),
            ("admin.import_upload", "GET"),
            ("admin.import_upload", "POST"),
            ("admin.import_preview", "GET"),
            ("admin.import_commit", "POST"),
            ("admin.reports_refresh", "POST"),
            ("admin.api_tokens_page", "GET"),
            ("admin.api_token_create", "POST"),
            ("admin.api_token_revoke", "POST"),
            # Holders' requests for erasure (the holder has none pending: 409; the empty
            # refusal is refused as invalid).
            ("admin.erasure_queue", "GET"),
            ("admin.erasure_carry_out", "POST"),
            ("admin.erasure_refuse", "POST"),
            # Last: these change what the rows above look at.
            ("admin.course_delete", "POST"),
            ("admin.assessment_delete", "POST"),
        ]
    },
    # Candidates' own claims: the office reviews them (provider staff those on their
    # courses: PROVIDER_ROUTES); the officers are no reviewers. Provider staff approve the
    # world's claim, so the office's approval finds it decided (409) and its rejection too.
    **{
        (endpoint, method): {**ADMIN_ONLY, "token": LOGIN}
        for endpoint, method in [
            ("admin.claims_queue", "GET"),
            ("admin.claim", "GET"),
            ("admin.claim_evidence", "GET"),
            ("admin.claim_approve", "POST"),
            ("admin.claim_reject", "POST"),  # no reason sent: refused as invalid
        ]
    },
    # The API by token: the office's writes and reads; the officers' reads and decisions.
    **{
        (endpoint, method): {**TOKEN_ONLY, "token": OK, "officer_token": FORBIDDEN}
        for endpoint, method in [
            ("api.post_programme", "POST"),
            ("api.post_course", "POST"),
            ("api.post_assessment", "POST"),
            ("api.post_candidate", "POST"),
            ("api.post_credit", "POST"),
            ("api.post_result", "POST"),
            ("api.withdraw_credit", "POST"),  # no reason sent: nothing withdrawn
            ("api.withdraw_result", "POST"),
            ("api.post_certificate", "POST"),
            ("api.reissue", "POST"),
            ("api.renew", "POST"),  # not renewable (no rule): refused as a rule, not access
            ("api.lift", "POST"),
        ]
    },
    **{
        (endpoint, method): {**TOKEN_ONLY, "token": OK, "officer_token": OK}
        for endpoint, method in [
            ("api.list_candidates", "GET"),
            ("api.get_candidate_by_id", "GET"),
            ("api.list_credits", "GET"),
            ("api.list_results", "GET"),
            ("api.get_progress", "GET"),
            ("api.get_certificate", "GET"),
            ("api.get_approvals", "GET"),
            ("api.revoke", "POST"),  # the empty reason is refused, whoever sends it
        ]
    },
    **{
        (endpoint, method): {**TOKEN_ONLY, "token": FORBIDDEN, "officer_token": OK}
        for endpoint, method in [
            ("api.approve_certificate", "POST"),
            ("api.reject_certificate", "POST"),
            ("api.reinstate", "POST"),
        ]
    },
    # The signed PDF: its holder, the office and the officers (by session or token); to
    # anyone else it does not exist.
    ("api.get_certificate_pdf", "GET"): {
        "anonymous": NO_TOKEN,
        "candidate": OK,
        "other": NOT_FOUND,
        **ANY_OFFICER,
        "admin": OK,
        "token": OK,
    },
    # Its credential (Open Badges 3.0) and its European Learning Model export: as the PDF.
    **{
        (endpoint, "GET"): {
            "anonymous": NO_TOKEN,
            "candidate": OK,
            "other": NOT_FOUND,
            **ANY_OFFICER,
            "admin": OK,
            "token": OK,
        }
        for endpoint in ("api.get_certificate_credential", "api.get_certificate_elm")
    },
    # The candidates' portal: to the office and officers it does not exist (they have /admin).
    ("portal.index", "GET"): {**LOGGED_IN, **NO_OFFICER, "admin": NOT_FOUND, "token": LOGIN},
    ("portal.certificate_pdf", "GET"): {
        "anonymous": LOGIN,
        "candidate": OK,
        "other": NOT_FOUND,
        **NO_OFFICER,
        "admin": NOT_FOUND,
        "token": LOGIN,
    },
    # A one-time offer of the holder's credential to their wallet: as the PDF.
    ("portal.wallet_offer", "POST"): {
        "anonymous": LOGIN,
        "candidate": OK,
        "other": NOT_FOUND,
        **NO_OFFICER,
        "admin": NOT_FOUND,
        "token": LOGIN,
    },
    # Asking to renew one's own certificate (a refusal is told on the page, by a redirect).
    ("portal.renew", "POST"): {
        "anonymous": LOGIN,
        "candidate": OK,
        "other": NOT_FOUND,
        **NO_OFFICER,
        "admin": NOT_FOUND,
        "token": LOGIN,
    },
    # A candidate's claims and the form for a new one: every candidate their own (the empty
    # form is refused as invalid). The evidence: its sender's, to anyone else not found.
    **{
        (endpoint, method): {**LOGGED_IN, **NO_OFFICER, "admin": NOT_FOUND, "token": LOGIN}
        for endpoint, method in [
            ("portal.claims_list", "GET"),
            ("portal.claim_new", "GET"),
            ("portal.claim_new", "POST"),
        ]
    },
    ("portal.claim_evidence", "GET"): {
        "anonymous": LOGIN,
        "candidate": OK,
        "other": NOT_FOUND,
        **NO_OFFICER,
        "admin": NOT_FOUND,
        "token": LOGIN,
    },
    # Everything held about the candidate who asks, as a ZIP: every candidate gets their own.
    ("portal.personal_data", "POST"): {
        **LOGGED_IN,
        **NO_OFFICER,
        "admin": NOT_FOUND,
        "token": LOGIN,
    },
    # Asking for one's own data to be erased, and withdrawing the request: every candidate
    # for themselves (the empty form is refused as invalid; nothing pending to withdraw: 409).
    **{
        (endpoint, method): {**LOGGED_IN, **NO_OFFICER, "admin": NOT_FOUND, "token": LOGIN}
        for endpoint, method in [
            ("portal.erasure", "GET"),
            ("portal.erasure", "POST"),
            ("portal.erasure_withdraw", "POST"),
        ]
    },
    # The privacy notice: what is held and what erasure keeps, for anyone.
    ("privacy.notice", "GET"): EVERYONE,
    # Public: verification, the API's description and its reference, and logging in.
    ("api.openapi", "GET"): EVERYONE,
    ("api_reference.docs", "GET"): EVERYONE,
    ("verify.index", "GET"): EVERYONE,
    ("verify.index", "POST"): EVERYONE,
    ("verify.certificate_page", "GET"): EVERYONE,
    ("verify.certificate_json", "GET"): EVERYONE,
    ("verify.pdf_json", "POST"): EVERYONE,
    # Credentials: a credential by its URL (a browser is sent to its page), the check of a
    # pasted one, and what verifiers fetch to check one themselves (nobody's data).
    ("verify.credential", "GET"): EVERYONE,
    ("verify.credential_json", "POST"): EVERYONE,
    ("credentials.did_document", "GET"): EVERYONE,
    ("credentials.key_set", "GET"): EVERYONE,
    ("credentials.status_list_credential", "GET"): EVERYONE,
    ("credentials.achievement", "GET"): EVERYONE,
    # Wallets (OpenID4VCI): what a wallet reads, and the endpoints it calls, which no login
    # opens: the empty token request is refused as invalid, a nonce is anyone's, and the
    # credential wants the access token a one-time code bought (an API token is none).
    ("credentials.wallet_issuer_metadata", "GET"): EVERYONE,
    ("credentials.wallet_authorization_server", "GET"): EVERYONE,
    ("credentials.wallet_token", "POST"): EVERYONE,
    ("credentials.wallet_nonce", "POST"): EVERYONE,
    ("credentials.wallet_credential", "POST"): dict.fromkeys(ROLES, NO_TOKEN),
    ("static", "GET"): EVERYONE,
    ("auth.index", "GET"): {**dict.fromkeys(ROLES, 302), "anonymous": LOGIN, "token": LOGIN},
    ("auth.login", "GET"): {**dict.fromkeys(ROLES, 302), "anonymous": OK, "token": OK},
    ("auth.login", "POST"): {**dict.fromkeys(ROLES, 302), "anonymous": OK, "token": OK},
    ("auth.forgot_password", "GET"): EVERYONE,
    ("auth.forgot_password", "POST"): EVERYONE,
    ("auth.set_password", "GET"): dict.fromkeys(ROLES, NOT_FOUND),  # a token nobody was given
    ("auth.set_password", "POST"): dict.fromkeys(ROLES, NOT_FOUND),
    ("auth.logout", "POST"): dict.fromkeys(ROLES, LOGIN),
    # The second step of logging in needs a password just given; otherwise: log in again.
    ("auth.second_factor", "GET"): dict.fromkeys(ROLES, LOGIN),
    ("auth.second_factor", "POST"): dict.fromkeys(ROLES, LOGIN),
    ("auth.enrol", "GET"): dict.fromkeys(ROLES, LOGIN),
    ("auth.enrol", "POST"): dict.fromkeys(ROLES, LOGIN),
    ("auth.confirm_identity", "GET"): {**LOGGED_IN, "token": LOGIN},
    ("auth.confirm_identity", "POST"): {**LOGGED_IN, "token": LOGIN},
    ("auth.account_security", "GET"): {**LOGGED_IN, "token": LOGIN},
    ("auth.account_password", "GET"): {**LOGGED_IN, "token": LOGIN},
    ("auth.account_password", "POST"): {**LOGGED_IN, "token": LOGIN},
    ("auth.account_language", "POST"): {**LOGGED_IN, "token": LOGIN},
    # Candidates have no second factor to manage. Last (the dict keeps this order): a new
    # phone logs the office or officer out.
    ("auth.new_recovery_codes", "POST"): {**STAFF, "token": LOGIN},
    ("auth.replace_authenticator", "POST"): {**STAFF, "token": LOGIN},
}


# Outside the API's token routes, a bearer token is no login, whoever's it is: the officer's
# and the provider's tokens get what the office's gets. Through the API, a provider's token
# records credits (on its own courses: tests/test_provider_staff.py) and looks a candidate
# up by e-mail, and nothing else. Provider staff, logged in, find /admin closed but for
# their courses and the imports of credits, and the candidates' portal closed, like the
# officers.
PROVIDER_ROUTES = {
    ("admin.our_courses", "GET"): OK,
    ("admin.our_credit_new", "POST"): OK,  # the empty form is refused as invalid
    ("admin.index", "GET"): 302,  # to their courses
    # Imports: credits from a CSV file (the empty form is refused as invalid); the world's
    # upload is the office's, which to them does not exist
    # (tests/imports/test_provider_imports.py).
    ("admin.import_upload", "GET"): OK,
    ("admin.import_upload", "POST"): OK,
    ("admin.import_preview", "GET"): NOT_FOUND,
    ("admin.import_commit", "POST"): NOT_FOUND,
    # Claims on their provider's courses: the world's is one; they approve it.
    ("admin.claims_queue", "GET"): OK,
    ("admin.claim", "GET"): OK,
    ("admin.claim_evidence", "GET"): OK,
    ("admin.claim_approve", "POST"): OK,
    ("admin.claim_reject", "POST"): OK,  # decided already (409), or no reason (422)
}
PROVIDER_TOKEN_ROUTES = {
    ("api.post_credit", "POST"): OK,  # the empty body is refused as malformed
    ("api.list_candidates", "GET"): FORBIDDEN,  # everyone: only by ?email=
}
for _route, _row in EXPECTED.items():
    endpoint = _route[0]
    own_check = endpoint in OWN_CHECK_ENDPOINTS  # a token, or else the browser's session
    token_route = endpoint.startswith("api.") and endpoint != "api.openapi" and not own_check
    if "officer_token" not in _row or not token_route:
        _row["officer_token"] = _row["token"]
    if token_route:
        _row["provider_token"] = PROVIDER_TOKEN_ROUTES.get(_route, FORBIDDEN)
    elif own_check:
        _row["provider_token"] = NOT_FOUND  # a certificate they may not see does not exist
    else:
        _row["provider_token"] = _row["token"]
    if endpoint.startswith("admin."):
        _row["provider"] = PROVIDER_ROUTES.get(_route, NOT_FOUND)
    elif own_check:
        _row["provider"] = NOT_FOUND
    else:
        _row["provider"] = _row["efrs_officer"]


def _routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def test_every_route_has_a_row_in_the_matrix(app):
    missing = _routes(app) - set(EXPECTED)
    assert not missing, f"decide who may open these, in EXPECTED: {sorted(missing)}"
    assert not set(EXPECTED) - _routes(app), "rows for routes that no longer exist"


def _url(app: Flask, endpoint: str, world: World) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    params = _params(world)
    values = {name: params[name] for name in rule.arguments}
    if "code" in values and endpoint in CATALOGUE_CODES:
        values["code"] = CATALOGUE_CODES[endpoint]
    if "code" in values and endpoint in REQUEST_ROUTES:
        values["code"] = world.request
    if "filename" in values:
        values["filename"] = "css/app.css" if endpoint == "static" else world.logo
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


def _meaning(status: int, location: str) -> Any:
    if status == 302 and "/login" in location and "/login/" not in location.split("?")[0]:
        return LOGIN
    if status in (401, 403, 404, 405, 302) or status >= 500:
        return status
    return OK  # 2xx, 303 after a change, or 400/409/422 for the empty input sent


def _client_for(app: Flask, role: str, world: World) -> tuple[FlaskClient, dict[str, str]]:
    client = app.test_client()
    emails = {"candidate": "eligible1@example.org", "other": "other@example.org"}
    if role in emails:
        assert log_in(client, emails[role]).status_code == 302
    elif role == "admin":
        assert log_in(client, world.admin_email).status_code == 302
    elif role in OFFICERS:
        assert log_in(client, OFFICERS[role]).status_code == 302
    elif role == "provider":
        assert log_in(client, PROVIDER_STAFF).status_code == 302
    tokens = {
        "token": world.token,
        "officer_token": world.officer_token,
        "provider_token": world.provider_token,
    }
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role in tokens else {}
    return client, headers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_visitor_gets_what_the_matrix_says(app, world):
    actual: dict[tuple[str, str], dict[str, Any]] = {}
    for role in ROLES:
        client, headers = _client_for(app, role, world)
        for endpoint, method in EXPECTED:
            if endpoint == "auth.logout":
                continue  # asked last: it would end the session the other rows use
            response = client.open(_url(app, endpoint, world), method=method, headers=headers)
            response.close()
            actual.setdefault((endpoint, method), {})[role] = _meaning(
                response.status_code, response.headers.get("Location", "")
            )
        response = client.post("/logout", headers=headers)
        actual[("auth.logout", "POST")] = {
            **actual.get(("auth.logout", "POST"), {}),
            role: _meaning(response.status_code, response.headers.get("Location", "")),
        }
    wrong = {
        route: {
            role: (actual[route][role], expected[role])
            for role in ROLES
            if actual[route][role] != expected[role]
        }
        for route, expected in EXPECTED.items()
    }
    wrong = {route: cells for route, cells in wrong.items() if cells}
    assert not wrong, "\n".join(
        f"{route}: (got, expected) {cells}" for route, cells in wrong.items()
    )
