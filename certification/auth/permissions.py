"""Who may open which page of /admin: one table, read by the admin blueprint's one access
check and by its templates (``can``), so that a button is shown only to whom its form
answers.

An endpoint missing from the table is open to nobody (404, the office included), and
tests/test_roles.py fails until it has a row: a new page is decided, never forgotten.
Course-provider staff open their own page (their courses), record credits and import them
from CSV; the records service keeps them to their provider's courses.
"""

from __future__ import annotations

from collections.abc import Mapping

from certification.auth.models import Role, User

OFFICE = frozenset({Role.OFFICE})
# Reading: the office, and the officers of both bodies, who see everything read-only.
STAFF = frozenset({Role.OFFICE, Role.OFFICER})
# Deciding for a partner body: approving, rejecting, reinstating.
OFFICERS = frozenset({Role.OFFICER})
# A course provider's staff: their own courses and the credits on them, nothing else.
PROVIDER = frozenset({Role.PROVIDER})
# Recording a credit: the office for any course, provider staff for their own courses
# (the service refuses another provider's course: records.refuse_outside_provider_scope).
RECORDS_CREDITS = frozenset({Role.OFFICE, Role.PROVIDER})
# Reviewing candidates' own claims and opening their evidence: the office all of them,
# provider staff those naming their own courses (claims.services.reviews_for). Officers
# are no reviewers: the evidence is personal data, shown to the candidate and reviewers only.
REVIEWS_CLAIMS = frozenset({Role.OFFICE, Role.PROVIDER})

# Each admin endpoint (all its methods) and the roles that may use it. An endpoint that
# both shows and takes a form (new, edit, upload) is the office's: an officer would only
# see a form refused. Branding is the exception: an officer edits their own body's (the
# view checks which body); the office reads both and edits neither.
ADMIN_PERMISSIONS: Mapping[str, frozenset[Role]] = {
    # Candidates and their records
    "admin.index": STAFF | PROVIDER,
    "admin.candidates": STAFF,
    "admin.candidate": STAFF,
    "admin.candidate_new": OFFICE,
    "admin.candidate_edit": OFFICE,
    "admin.candidate_credits": OFFICE,
    "admin.candidate_results": OFFICE,
    "admin.candidate_credit_withdraw": OFFICE,
    "admin.candidate_result_withdraw": OFFICE,
    "admin.candidate_password_link": OFFICE,
    # Certificates
    "admin.candidate_issue": OFFICE,
    "admin.certificate_pdf": STAFF,
    # Revoking: the office for an award it issues alone, each body's officers for a joint
    # one (the service decides which by the programme's approval policy).
    "admin.certificate_revoke": STAFF,
    "admin.certificate_reinstate": OFFICERS,
    # In bulk: the same rules per certificate (certificates/bulk_revocation.py).
    "admin.revoke_many": STAFF,
    "admin.revoke_many_confirm": STAFF,
    "admin.approvals_queue": STAFF,
    "admin.request_approve": OFFICERS,
    "admin.request_reject": OFFICERS,
    "admin.approvals_job_start": OFFICERS,
    "admin.hold_lift": OFFICE,
    "admin.certificate_reissue": OFFICE,
    "admin.ready": STAFF,
    "admin.eligible": STAFF,
    "admin.issue_job_start": OFFICE,
    "admin.issue_jobs": STAFF,
    "admin.issue_job": STAFF,
    "admin.issue_job_progress": STAFF,
    # Catalogue
    "admin.programmes": STAFF,
    "admin.programme_new": OFFICE,
    "admin.programme_edit": OFFICE,
    "admin.courses": STAFF,
    "admin.course_new": OFFICE,
    "admin.course_edit": OFFICE,
    "admin.course_delete": OFFICE,
    "admin.providers": STAFF,
    "admin.provider_new": OFFICE,
    "admin.provider_edit": OFFICE,
    "admin.assessments": STAFF,
    "admin.assessment_new": OFFICE,
    "admin.assessment_edit": OFFICE,
    "admin.assessment_delete": OFFICE,
    "admin.translations": STAFF,
    "admin.translations_edit": OFFICE,
    # Imports: provider staff import credits only, and open only their provider's uploads
    # (imports.services: import_kinds, get_upload; rows checked by the records' scope).
    "admin.import_upload": RECORDS_CREDITS,
    "admin.import_preview": RECORDS_CREDITS,
    "admin.import_commit": RECORDS_CREDITS,
    # E-mail
    "admin.emails": STAFF,
    "admin.email": STAFF,
    "admin.email_retry": OFFICE,
    # Reports and exports (the PDF and ZIP exports are forms, but they only read)
    "admin.reports_dashboard": STAFF,
    "admin.reports_refresh": OFFICE,
    "admin.reports_figures_json": STAFF,
    "admin.reports_certificates_csv": STAFF,
    "admin.reports_expiring": STAFF,
    "admin.exports_page": STAFF,
    "admin.export_candidates": STAFF,
    "admin.export_certificates": STAFF,
    "admin.export_expiring": STAFF,
    "admin.export_certificates_pdf": STAFF,
    "admin.export_certificates_zip": STAFF,
    "admin.audit": STAFF,
    # Candidates' own claims: the review queue, each claim, its evidence, the decisions
    "admin.claims_queue": REVIEWS_CLAIMS,
    "admin.claim": REVIEWS_CLAIMS,
    "admin.claim_evidence": REVIEWS_CLAIMS,
    "admin.claim_approve": REVIEWS_CLAIMS,
    "admin.claim_reject": REVIEWS_CLAIMS,
    # A provider's staff: their courses and credits
    "admin.our_courses": PROVIDER,
    "admin.our_credit_new": PROVIDER,
    # Branding: an officer only their own body's (checked in the view, ``may_edit_body``)
    "admin.branding": STAFF,
    "admin.branding_image": STAFF,
    # Holders' requests to erase their data: the office decides and carries them out (the
    # officers see personal data only as it concerns their bodies' decisions).
    "admin.erasure_queue": OFFICE,
    "admin.erasure_carry_out": OFFICE,
    "admin.erasure_refuse": OFFICE,
    # API tokens: the API serves the office only, for now
    "admin.api_tokens_page": OFFICE,
    "admin.api_token_create": OFFICE,
    "admin.api_token_revoke": OFFICE,
}


# Each API endpoint that needs a token, and the roles whose tokens may call it. Like the
# admin table: an endpoint missing here answers 403 to every token. Where the answer also
# depends on the programme (who revokes an award the office issues alone), the service
# decides the rest.
API_PERMISSIONS: Mapping[str, frozenset[Role]] = {
    # Catalogue and records: the office writes, the officers read.
    "api.post_programme": OFFICE,
    "api.post_course": OFFICE,
    "api.post_assessment": OFFICE,
    "api.post_candidate": OFFICE,
    "api.list_candidates": STAFF | PROVIDER,  # provider staff: by e-mail only
    "api.get_candidate_by_id": STAFF,
    "api.post_credit": RECORDS_CREDITS,
    "api.post_result": OFFICE,
    "api.get_progress": STAFF,
    "api.list_credits": STAFF,
    "api.list_results": STAFF,
    "api.withdraw_credit": OFFICE,
    "api.withdraw_result": OFFICE,
    # Certificates: the office requests and corrects, each body's officers decide.
    "api.post_certificate": OFFICE,
    "api.get_certificate": STAFF,
    "api.get_approvals": STAFF,
    "api.approve_certificate": OFFICERS,
    "api.reject_certificate": OFFICERS,
    "api.revoke": STAFF,
    "api.reinstate": OFFICERS,
    "api.reissue": OFFICE,
    "api.renew": OFFICE,
    "api.lift": OFFICE,
}


def may_call(user: User, endpoint: str | None) -> bool:
    """Whether ``user``'s token may call the API ``endpoint`` (unknown endpoints: nobody)."""
    return user.role in API_PERMISSIONS.get(endpoint or "", frozenset())


def may_open(user: User, endpoint: str | None) -> bool:
    """Whether ``user`` may use the admin ``endpoint`` (unknown endpoints: nobody)."""
    return user.role in ADMIN_PERMISSIONS.get(endpoint or "", frozenset())


def may_edit_body(user: User, body: str) -> bool:
    """Whether ``user`` may change how the partner body ``body`` appears on certificates:
    that body's officers only (the office and the other body read it)."""
    return user.is_officer_of(body)
