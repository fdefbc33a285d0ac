"""Revoking in bulk: a list of codes (typed or a CSV file) and one reason, previewed with
each holder, status and effect, then confirmed in one request that applies the approval
rules to each certificate (the first body suspends, the other revokes), all or nothing."""

from __future__ import annotations

import datetime as dt
import html
import io
import itertools
import time
from decimal import Decimal

import pytest
import sqlalchemy as sa

from certification.audit import AuditEvent
from certification.auth.models import Role, User
from certification.catalogue.services import get_programme
from certification.certificates.codes import new_code
from certification.certificates.models import Certificate
from certification.credentials.models import IssuedCredential
from certification.extensions import db
from certification.imports.csvfile import read_codes
from tests.certificates.test_approvals import REASON, issued_jointly
from tests.conftest import log_in
from tests.credentials.test_credentials import bits

EFRS = "sofia@efrs.example"
EUSOMII = "tomasz@eusomii.example"
NAMES = ("Αικατερίνη Παπαδοπούλου", "Łukasz Wiśniewski", "Zofia Żółkiewska-Brzęczyszczykiewicz")
_numbers = itertools.count(1)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def certificates_of_eii_c(app, count: int) -> dict[str, int]:
    """``count`` current EII-C certificates, each of its own holder and with a credential,
    inserted directly (issuing 500 for real takes minutes): code -> status list index."""
    made: dict[str, int] = {}
    with app.app_context():
        programme = get_programme("EII-C")
        for place in range(count):
            number = next(_numbers)
            name = NAMES[place % len(NAMES)]
            holder_id = db.session.execute(
                sa.insert(User.__table__).returning(User.__table__.c.id),
                {
                    "email": f"holder{number}@example.org",
                    "full_name": name,
                    "name_key": name.casefold(),
                    "role": Role.CANDIDATE,
                },
            ).scalar_one()
            code = new_code("EII")
            certificate_id = db.session.execute(
                sa.insert(Certificate.__table__).returning(Certificate.__table__.c.id),
                {
                    "code": code,
                    "candidate_id": holder_id,
                    "programme_id": programme.id,
                    "is_current": True,
                    "holder_name": name,
                    "award_title": programme.title,
                    "level": "certificate",
                    "credits_total": Decimal(30),
                    "credits_by_domain": {},
                    "issuers": [],
                    "approvals": [],
                    "issued_at": dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
                    "issued_on": dt.date(2026, 1, 5),
                    "expires_on": None,
                    "verify_url": f"https://example.org/verify/{code}",
                    "pdf_sha256": "0" * 64,
                },
            ).scalar_one()
            index = 50_000 + 7 * number
            db.session.execute(
                sa.insert(IssuedCredential.__table__),
                {
                    "certificate_id": certificate_id,
                    "status_index": index,
                    "document": "{}",
                    "jwts": {},
                    "issued_at": dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
                },
            )
            made[code] = index
        db.session.commit()
    return made


def states(app, codes) -> dict[str, str]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Certificate).where(Certificate.code.in_(list(codes))))
        return {
            c.code: "revoked" if c.revoked_at else "suspended" if c.suspended_at else "valid"
            for c in rows
        }


def preview(client, codes, reason: str = REASON, **data):
    return client.post(
        "/admin/certificates/revoke-many",
        data={"codes": "\n".join(codes), "reason": reason, **data},
    )


def confirm_from(client, page) -> object:
    """Press the preview's confirm button: post back its hidden fields."""
    body = page.get_data(as_text=True)
    form = body[body.index('action="/admin/certificates/revoke-many/confirm"') :]
    fields = {}
    for name in ("reason", "codes", "planned"):
        start = form.index(f'name="{name}" value="') + len(f'name="{name}" value="')
        fields[name] = html.unescape(form[start : form.index('"', start)])
    return client.post("/admin/certificates/revoke-many/confirm", data=fields)


@pytest.mark.slow
def test_500_certificates_suspended_by_one_body_then_revoked_by_the_other(
    app, client, bodies, today
):
    made = certificates_of_eii_c(app, 500)
    codes = list(made)
    log_in(client, EFRS)
    started = time.perf_counter()
    page = preview(client, codes)
    assert page.status_code == 200
    words = text(page)
    assert "500 to be suspended, 0 to be revoked, 0 refused." in words
    assert all(name in words for name in NAMES)
    done = confirm_from(client, page)
    assert done.status_code == 200, text(done)
    assert "500 suspended, 0 revoked" in text(done)
    assert set(states(app, codes).values()) == {"suspended"}
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent.object_id).where(AuditEvent.action == "certificate.suspended")
        ).all()
        assert sorted(events) == sorted(codes)
    assert set(made.values()) <= bits(client, "suspension")
    assert not set(made.values()) & bits(client, "revocation")
    client.post("/logout")

    # The other body, from a CSV file as European Excel saves it: BOM, semicolons.
    log_in(client, EUSOMII)
    csv_file = ("\ufeffholder;code\n" + "".join(f"x;{c}\n" for c in codes)).encode("utf-8-sig")
    page = client.post(
        "/admin/certificates/revoke-many",
        data={"reason": REASON, "file": (io.BytesIO(csv_file), "codes.csv")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 200, text(page)
    assert "0 to be suspended, 500 to be revoked, 0 refused." in text(page)
    done = confirm_from(client, page)
    assert done.status_code == 200
    assert set(states(app, codes).values()) == {"revoked"}
    assert set(made.values()) <= bits(client, "revocation")
    assert not set(made.values()) & bits(client, "suspension")
    elapsed = time.perf_counter() - started
    assert elapsed < 60, elapsed


def test_the_preview_names_each_holder_and_reports_what_cannot_be_revoked(
    app, client, bodies, eligible_candidate
):
    made = certificates_of_eii_c(app, 3)
    good, other, _ = list(made)
    revoked = issued_jointly(bodies, eligible_candidate("Αικατερίνη Παπαδοπούλου"))
    bodies["EFRS"].post(f"/certificates/{revoked}/revoke", {"reason": REASON})
    bodies["EuSoMII"].post(f"/certificates/{revoked}/revoke", {"reason": REASON})
    log_in(client, EFRS)
    # Lower case and without hyphens, as people type them; one listed twice; one unknown.
    typed = [good.lower().replace("-", ""), other, good, "EII-NOPE", revoked]
    page = preview(client, typed)
    assert page.status_code == 200
    words = text(page)
    assert "2 to be suspended, 0 to be revoked, 3 refused." in words
    assert "No certificate has this code." in words
    assert "Listed twice" in words
    assert "This certificate is already revoked." in words
    assert "Αικατερίνη Παπαδοπούλου" in words and "Łukasz Wiśniewski" in words
    assert "EII-NOPE" in words
    before = states(app, [revoked])
    assert states(app, [good, other]) == {good: "valid", other: "valid"}  # a preview only
    done = confirm_from(client, page)
    assert done.status_code == 200
    assert states(app, [good, other]) == {good: "suspended", other: "suspended"}
    assert states(app, [revoked]) == before

    # Their body asked already: refused, and nothing else happens.
    page = preview(client, [good])
    assert "already asked for this certificate's revocation" in text(page)
    assert "Confirm for" not in text(page)


def test_a_certificate_changed_between_preview_and_confirm_refuses_the_whole_batch(
    app, client, bodies
):
    first, second = list(certificates_of_eii_c(app, 2))
    log_in(client, EFRS)
    page = preview(client, [first, second])
    assert "2 to be suspended" in text(page)
    # Meanwhile the other body suspends one: EFRS's revocation of it would now revoke it.
    meanwhile = bodies["EuSoMII"].post(f"/certificates/{second}/revoke", {"reason": REASON})
    assert meanwhile.status_code == 200
    refused = confirm_from(client, page)
    assert refused.status_code == 409
    words = text(refused)
    assert "Nothing was revoked" in words and second in words
    assert states(app, [first, second]) == {first: "valid", second: "suspended"}
    # The preview shown again is the list as it stands: confirming it now does that.
    assert "1 to be suspended, 1 to be revoked, 0 refused." in words
    done = confirm_from(client, refused)
    assert done.status_code == 200
    assert states(app, [first, second]) == {first: "suspended", second: "revoked"}


@pytest.mark.parametrize(
    ("codes", "reason", "message"),
    [
        (None, "no", "at least"),  # too short a reason
        ([], REASON, "Enter at least one certificate code."),
        (["EII-X"] * 1001, REASON, "At most 1000 codes at once; this list has 1001."),
    ],
)
def test_bad_input_comes_back_as_typed_with_the_reason(app, client, bodies, codes, reason, message):
    if codes is None:
        codes = list(certificates_of_eii_c(app, 1))
    log_in(client, EFRS)
    page = preview(client, codes, reason)
    assert page.status_code == 422
    words = text(page)
    assert message in words
    assert f"{reason}</textarea>" in words
    if codes:
        assert codes[0] in words
        assert set(states(app, codes).values()) <= {"valid"}


def test_the_office_may_not_revoke_a_joint_award_and_a_candidate_finds_no_page(
    app, client, bodies, eligible_candidate, make_admin
):
    (code,) = certificates_of_eii_c(app, 1)
    make_admin("office@example.org")
    log_in(client, "office@example.org")
    page = preview(client, [code])
    assert page.status_code == 200
    assert "Only an officer of a partner body may revoke, for their own body." in text(page)
    assert "Confirm for" not in text(page)
    refused = client.post(
        "/admin/certificates/revoke-many/confirm",
        data={"reason": REASON, "codes": code, "planned": f"{code} revoke"},
    )
    assert refused.status_code == 409
    assert states(app, [code]) == {code: "valid"}
    client.post("/logout")

    eligible_candidate()
    log_in(client, "eligible1@example.org")
    assert client.get("/admin/certificates/revoke-many").status_code == 404
    assert client.post("/admin/certificates/revoke-many/confirm").status_code == 404


def test_the_certificates_list_sends_the_ticked_codes_to_the_form(app, client, bodies):
    first, second = list(certificates_of_eii_c(app, 2))
    log_in(client, EFRS)
    listed = text(client.get("/admin/exports"))
    assert "Revoke the ticked" in listed
    page = client.post(
        "/admin/certificates/revoke-many", data={"code": [first, second], "scope": "selected"}
    )
    assert page.status_code == 200
    assert f"{first}\n{second}</textarea>" in text(page)


@pytest.mark.parametrize(
    "data",
    [
        b"code\nEII-1\nEII-2\n",
        b"\xef\xbb\xbfName;Code\nZofia;EII-1\nJan;EII-2\n",
        "Łukasz,Code\nŁ,EII-1\nŻ,EII-2\n".encode("cp1252", errors="replace"),
        b"EII-1\n\nEII-2\n",
    ],
)
def test_codes_are_read_from_a_column_or_one_a_line(app, data):
    with app.test_request_context():
        assert read_codes(data) == (["EII-1", "EII-2"], [])


def test_a_file_that_is_not_text_is_explained(app):
    with app.test_request_context():
        codes, problems = read_codes(b"PK\x03\x04 a workbook")
    assert codes == [] and "spreadsheet workbook" in problems[0].message


def test_the_office_revokes_alone_an_award_it_issues_alone(app, client, bodies, make_admin):
    import dataclasses

    from certification.catalogue.services import programme_as_input, update_programme
    from certification.web import today

    with app.app_context():
        programme = get_programme("EII-C")
        data = dataclasses.replace(programme_as_input(programme), approval="office")
        update_programme(programme, data, None, today=today())
        db.session.commit()
    made = certificates_of_eii_c(app, 2)
    log_in(client, EFRS)
    assert "Only the programme office may revoke" in text(preview(client, list(made)))
    client.post("/logout")
    make_admin("office@example.org")
    log_in(client, "office@example.org")
    page = preview(client, list(made))
    assert "0 to be suspended, 2 to be revoked, 0 refused." in text(page)
    assert confirm_from(client, page).status_code == 200
    assert set(states(app, made).values()) == {"revoked"}
    assert set(made.values()) <= bits(client, "revocation")
