"""Issuing, revoking and reissuing through the services, on both databases."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from certification.audit import AuditEvent
from certification.auth.services import get_candidate
from certification.catalogue.services import get_programme
from certification.certificates.holds import AwardOnHold, lift_hold
from certification.certificates.models import Certificate, CertificateStatus
from certification.certificates.services import (
    AlreadyIssued,
    RequirementsNotMet,
    candidate_progress,
    find_certificate,
    issue_certificate,
    reissue_certificate,
    revoke_certificate,
    verify_pdf,
)
from certification.errors import InvalidInput, NotFound, RuleViolation
from certification.extensions import db
from tests.conftest import change_rules


def issue(candidate_id: int, today: dt.date, programme: str = "EII-C") -> Certificate:
    certificate = issue_certificate(
        get_candidate(candidate_id), get_programme(programme), None, today=today
    )
    db.session.commit()
    return certificate


def test_issuing_is_refused_with_what_is_missing(ctx, make_candidate, eligible_candidate, today):
    eligible_candidate()  # sets up the programme
    newcomer = make_candidate(email="new@example.org")
    with pytest.raises(RequirementsNotMet) as refusal:
        issue(newcomer.id, today)
    assert refusal.value.missing == [
        "10 more ECTS credits in total",
        "pass the Certificate examination (not yet taken, pass mark 60)",
    ]
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0


def test_an_eligible_candidate_gets_a_sealed_snapshot(ctx, eligible_candidate, today):
    certificate = issue(eligible_candidate("Αικατερίνη Παπαδοπούλου"), today)
    assert certificate.code.startswith("EIC-")
    assert certificate.holder_name == "Αικατερίνη Παπαδοπούλου"
    assert certificate.award_title == "European Certificate in Imaging Informatics"
    assert (certificate.level, certificate.eqf_level) == ("certificate", 6)
    assert certificate.credits_total == Decimal(10)
    assert certificate.credits_by_domain == {
        "AI & Data Science": "5.0",
        "Standards & Interoperability": "5.0",
    }
    assert certificate.issued_on == today
    assert certificate.expires_on == today.replace(year=today.year + 5)
    assert [i["short_name"] for i in certificate.issuers] == ["EFRS", "EuSoMII"]
    assert certificate.pdf_sha256 == hashlib.sha256(certificate.pdf).hexdigest()
    assert certificate.verify_url == f"https://certificates.example.org/verify/{certificate.code}"
    reader = PdfReader(io.BytesIO(certificate.pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Αικατερίνη Παπαδοπούλου" in text
    assert certificate.code in text


def test_both_seals_validate_and_a_changed_byte_does_not(ctx, eligible_candidate, today):
    certificate = issue(eligible_candidate(), today)
    verdict = verify_pdf(certificate.pdf, today)
    assert verdict.authentic
    assert [(s.kind, s.signer, s.ok, s.time_attested) for s in verdict.seals] == [
        ("seal", "European Federation of Radiographer Societies", True, True),
        ("seal", "European Society of Medical Imaging Informatics", True, True),
        # After both seals, the timestamp over the whole file and the validation data.
        ("timestamp", "Imaging Informatics Certification (demo)", True, True),
    ]
    tampered = bytearray(certificate.pdf)
    tampered[len(tampered) // 3] ^= 0x01
    verdict = verify_pdf(bytes(tampered), today)
    assert not verdict.authentic
    assert not all(s.intact for s in verdict.seals)


def test_a_file_that_is_not_a_pdf_is_refused(ctx):
    with pytest.raises(InvalidInput):
        verify_pdf(b"GIF89a not a pdf", dt.date(2026, 1, 1))


def test_a_second_certificate_for_the_same_award_is_refused(ctx, eligible_candidate, today):
    candidate_id = eligible_candidate()
    first = issue(candidate_id, today)
    with pytest.raises(AlreadyIssued) as refusal:
        issue(candidate_id, today)
    assert refusal.value.code == first.code


def test_revoking_says_why_and_puts_the_award_on_hold_until_lifted_with_a_reason(
    ctx, eligible_candidate, today
):
    candidate_id = eligible_candidate()
    certificate = issue(candidate_id, today)
    revoke_certificate(certificate, "Issued in error", None)
    db.session.commit()
    found = find_certificate(certificate.code.lower().replace("-", ""))
    assert found.status_on(today) is CertificateStatus.REVOKED
    assert found.revocation_reason == "Issued in error"
    with pytest.raises(RuleViolation, match="already revoked"):
        revoke_certificate(found, "Again", None)

    # The candidate still meets the rules, but the award is on hold for them.
    with pytest.raises(AwardOnHold) as refusal:
        issue(candidate_id, today)
    assert (refusal.value.http_status, refusal.value.slug) == (409, "award_on_hold")
    assert certificate.code in refusal.value.message and "Issued in error" in refusal.value.message
    db.session.rollback()
    candidate, programme = get_candidate(candidate_id), get_programme("EII-C")
    with pytest.raises(InvalidInput) as no_reason:
        lift_hold(candidate, programme, "  ", None)
    assert "reason" in no_reason.value.fields
    lift_hold(candidate, programme, "The examination board confirmed the result", None)
    db.session.commit()
    assert issue(candidate_id, today).code != certificate.code
    actions = list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-4:] == [
        "certificate.revoked",
        "award_hold.placed",
        "award_hold.lifted",
        "certificate.issued",
    ]
    with pytest.raises(NotFound):
        lift_hold(candidate, programme, "Nothing to lift", None)


def test_a_reason_is_required_to_revoke(ctx, eligible_candidate, today):
    certificate = issue(eligible_candidate(), today)
    with pytest.raises(InvalidInput) as refusal:
        revoke_certificate(certificate, "   ", None)
    assert "reason" in refusal.value.fields


def test_reissue_with_a_corrected_name_supersedes_the_original(ctx, eligible_candidate, today):
    candidate_id = eligible_candidate("Lukasz Wisniewski")
    original = issue(candidate_id, today)
    replacement = reissue_certificate(original, None, full_name="Łukasz Wiśniewski")
    db.session.commit()
    assert replacement.code != original.code
    assert replacement.holder_name == "Łukasz Wiśniewski"
    assert "Łukasz Wiśniewski" in PdfReader(io.BytesIO(replacement.pdf)).pages[0].extract_text()
    assert (replacement.issued_on, replacement.expires_on) == (
        original.issued_on,
        original.expires_on,
    )
    assert original.status_on(today) is CertificateStatus.SUPERSEDED
    assert original.superseded_by.code == replacement.code
    assert get_candidate(candidate_id).full_name == "Łukasz Wiśniewski"
    with pytest.raises(RuleViolation):
        reissue_certificate(original, None)


def test_certificates_expire_after_their_validity(ctx, eligible_candidate, today):
    certificate = issue(eligible_candidate(), today)
    assert certificate.status_on(certificate.expires_on) is CertificateStatus.VALID
    later = certificate.expires_on + dt.timedelta(days=1)
    assert certificate.status_on(later) is CertificateStatus.EXPIRED


@pytest.fixture
def certificate_holder(ctx, eligible_candidate, make_programme, today) -> int:
    """A candidate who holds the Certificate (EII-C), then EII-D, which asks for nothing
    else; the holder's id."""
    candidate_id = eligible_candidate()
    make_programme(
        "EII-D",
        title="European Diploma",
        level="diploma",
        min_total_credits="0",
        prerequisite="EII-C",
    )
    issue(candidate_id, today)
    return candidate_id


def test_holding_the_certificate_meets_the_diploma_prerequisite(ctx, certificate_holder, today):
    progress = candidate_progress(get_candidate(certificate_holder), today)
    reports = {r.programme_code: r for r in progress}
    assert reports["EII-D"].eligible


@pytest.mark.parametrize("text", ["", "EIC-0000", "not a code at all", "EIC-" + "Z" * 17])
def test_unknown_and_malformed_codes_are_not_found(ctx, text):
    with pytest.raises(NotFound):
        find_certificate(text)


def test_twelve_concurrent_issues_give_exactly_one_certificate(app, eligible_candidate, today):
    candidate_id = eligible_candidate()
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def attempt() -> None:
        with app.app_context():
            barrier.wait()
            try:
                issue(candidate_id, today)
                outcomes.append("issued")
            except AlreadyIssued as refusal:
                outcomes.append(refusal.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        codes = db.session.scalars(sa.select(Certificate.code)).all()
    assert len(codes) == 1
    assert sorted(outcomes) == sorted(["issued"] + [codes[0]] * 11)


def test_an_expired_certificate_can_be_renewed(ctx, eligible_candidate, today):
    six_years_ago = today.replace(year=today.year - 6)
    candidate_id = eligible_candidate(on=six_years_ago)
    old = issue(candidate_id, six_years_ago)
    assert old.status_on(today) is CertificateStatus.EXPIRED
    renewed = issue(candidate_id, today)
    assert renewed.code != old.code
    assert renewed.status_on(today) is CertificateStatus.VALID
    db.session.refresh(old)
    assert old.status_on(today) is CertificateStatus.EXPIRED  # its record is unchanged
    with pytest.raises(AlreadyIssued):
        issue(candidate_id, today)


def test_a_revoke_acting_on_stale_state_is_refused(app, eligible_candidate, today):
    """Two administrators open the same certificate; the second to revoke is told."""
    with app.app_context():
        code = issue(eligible_candidate(), today).code
    with app.app_context():
        seen_by_first = find_certificate(code)
        assert seen_by_first.revoked_at is None
        with app.app_context():  # the second administrator, in another session
            revoke_certificate(find_certificate(code), "Issued in error", None)
            db.session.commit()
        with pytest.raises(RuleViolation, match="already revoked"):
            revoke_certificate(seen_by_first, "Issued in error too", None)
        with pytest.raises(RuleViolation):
            reissue_certificate(seen_by_first, None)


def test_the_ready_list_counts_awards_already_held(ctx, certificate_holder, today):
    from certification.certificates.services import eligible_not_issued

    # The Certificate's rules tighten after it was issued: the holder still holds it.
    change_rules("EII-C", today, min_total_credits=Decimal(100))
    db.session.commit()
    ready = eligible_not_issued(get_programme("EII-D"), today)
    assert list(db.session.scalars(ready)) == [certificate_holder]
    assert list(db.session.scalars(eligible_not_issued(get_programme("EII-C"), today))) == []


def test_missing_seal_keys_are_a_clear_refusal(app, eligible_candidate, today, tmp_path):
    from certification.certificates.signing import SigningNotConfigured

    candidate_id = eligible_candidate()
    app.config["SEAL_KEYS"] = {
        "EFRS": {"pkcs12": str(tmp_path / "missing.p12")},
        "EuSoMII": {"pkcs12": str(tmp_path / "missing.p12")},
    }
    with app.app_context(), pytest.raises(SigningNotConfigured) as refusal:
        issue(candidate_id, today)
    assert refusal.value.http_status == 503
    assert "missing.p12 does not exist" in refusal.value.message
