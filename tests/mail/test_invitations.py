"""The invitation, as an administrator makes it: registering a candidate, or a new
set-password link, queues an e-mail with the link the page shows; only a worker sends it."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from certification.audit import AuditEvent
from certification.extensions import db
from certification.mail.models import EmailKind, EmailStatus, OutgoingEmail


@pytest.fixture
def admin(client, auth, make_admin):
    make_admin("office@efrs.example", "EFRS Programme Office")
    auth.login("office@efrs.example")
    return client


def _shown_link(response) -> str:
    page = html.unescape(response.get_data(as_text=True))
    return re.search(r"http://localhost/set-password/[\w-]+", page).group(0)


def test_registering_a_candidate_queues_the_invitation_and_a_worker_sends_it(
    app, admin, smtp, run_queue
):
    smtp.start()
    response = admin.post(
        "/admin/candidates/new",
        data={"email": "aik@example.gr", "full_name": "Αικατερίνη Παπαδοπούλου", "country": "GR"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "An invitation was queued to aik@example.gr." in page
    link = _shown_link(response)  # the link is still shown to the administrator
    assert smtp.inbox.envelopes == []  # nothing is sent inside the request

    assert run_queue() == 1
    (message,) = smtp.inbox.messages
    assert message["To"].addresses[0].display_name == "Αικατερίνη Παπαδοπούλου"
    assert message["To"].addresses[0].addr_spec == "aik@example.gr"
    text = message.get_content()
    assert text.startswith("Dear Αικατερίνη Παπαδοπούλου,")
    assert "EFRS Programme Office has registered you" in text
    assert link in text.splitlines()  # on a line of its own, exactly as shown
    assert re.search(r"valid until \d{1,2} \w+ \d{4} at \d\d:\d\d \(Brussels time\)", text)
    with app.app_context():
        outgoing = db.session.scalars(sa.select(OutgoingEmail)).one()
        assert (outgoing.kind, outgoing.status) == (EmailKind.INVITATION, EmailStatus.SENT)
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "email.queued"))
        assert event.actor.email == "office@efrs.example"
        assert event.after == {"kind": "invitation", "recipient": "aik@example.gr"}

    # The link in the e-mail is the one that works.
    admin.post("/logout")
    assert admin.get(link).status_code == 200


def test_a_new_link_queues_a_new_invitation(app, admin, smtp, run_queue, candidate):
    smtp.start()
    candidate_id = candidate("Ярослава Ковальчук", "jk@example.ua")
    response = admin.post(f"/admin/candidates/{candidate_id}/password-link", follow_redirects=True)
    assert "An invitation was queued to jk@example.ua." in html.unescape(
        response.get_data(as_text=True)
    )
    link = _shown_link(response)
    run_queue()
    (message,) = smtp.inbox.messages
    assert message["To"].addresses[0].display_name == "Ярослава Ковальчук"
    assert link in message.get_content().splitlines()
