from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, current_app, render_template
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from certification.auth.qr_svg import qr_svg
from certification.catalogue.models import ApprovalPolicy
from certification.catalogue.services import list_programmes
from certification.certificates.approvals import pending_requests_of, still_to_approve
from certification.certificates.holds import holds_of
from certification.certificates.renewal import renewal_overview
from certification.certificates.services import (
    can_download,
    candidate_progress,
    certificate_standings,
    find_certificate,
)
from certification.credentials.services import credential_offers
from certification.credentials.wallet import make_offer, wallets_enabled
from certification.errors import Conflict, NotFound
from certification.portal.blueprint import bp
from certification.privacy import export_personal_data
from certification.records.services import load_transcript
from certification.types import utcnow
from certification.web import sealed_pdf_download, today


@bp.route("/")
def index() -> str:
    zone = ZoneInfo(current_app.config["APP_TIMEZONE"])
    programmes = list_programmes()
    standings = certificate_standings(current_user, today(), zone)
    return render_template(
        "portal/index.html",
        candidate=current_user,
        reports=candidate_progress(current_user, today()),
        transcript=load_transcript(current_user),
        standings=standings,
        renewals=renewal_overview(current_user, today()),
        credentials=credential_offers(standings),
        wallets=wallets_enabled(),
        holds=holds_of(current_user),
        requests=(requests := pending_requests_of(current_user)),
        still_to_approve={r.code: still_to_approve(r) for r in requests},
        # Whether an award is approved by both bodies: then the office only requests it.
        joint_awards=any(p.approval is ApprovalPolicy.BOTH_BODIES for p in programmes),
        descriptions={p.code: p.description for p in programmes},
        zone=zone,
    )


@bp.route("/certificates/<code>.pdf")
def certificate_pdf(code: str) -> Response:
    """The holder's own PDF, exactly as issued. Anyone else's code is simply not found."""
    certificate = find_certificate(code)
    if not can_download(certificate, current_user):
        raise NotFound(gettext("No certificate has this code."))
    return sealed_pdf_download(certificate.code, certificate.pdf)


@bp.post("/certificates/<code>/wallet")
def wallet_offer(code: str) -> tuple[str, int, dict[str, str]]:
    """A new one-time offer of the holder's credential to a wallet, shown once (the page is
    not kept: the code in it is a secret until a wallet redeems it)."""
    if not wallets_enabled():
        abort(404)
    certificate = find_certificate(code)
    try:
        offer = make_offer(certificate, current_user._get_current_object(), utcnow())
    except Conflict as refusal:
        abort(409, description=refusal.message)
    page = render_template(
        "portal/wallet_offer.html",
        certificate=certificate,
        offer=offer,
        qr=qr_svg(offer.uri, label=gettext("QR code to scan with your digital wallet")),
    )
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/my-data.zip")
def personal_data() -> Response:
    """Everything held about the candidate, as one ZIP (GDPR articles 15 and 20). A POST:
    it is audited, and a link followed by someone else's page must not start it."""
    now = utcnow()
    archive = export_personal_data(current_user._get_current_object(), now)
    return Response(
        archive,
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="my-data-{now:%Y-%m-%d}.zip"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
