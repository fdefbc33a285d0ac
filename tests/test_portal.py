"""The candidate portal: own progress, own transcript, nobody else's."""

from __future__ import annotations

from certification.auth.services import get_candidate
from certification.extensions import db
from certification.records.services import record_credit, record_result


def _record(app, candidate_id, today, courses=(), results=()):
    from decimal import Decimal

    with app.app_context():
        candidate = get_candidate(candidate_id)
        for code in courses:
            record_credit(candidate, code, today, actor=None, today=today)
        for code, score in results:
            record_result(candidate, code, Decimal(score), today, actor=None, today=today)
        db.session.commit()


def test_progress_bar_moves_when_a_credit_is_recorded(
    app, client, auth, make_candidate, make_course, make_programme, today
):
    make_course("EII-101", credits="5", domain="AI & Data Science")
    make_programme(min_total_credits="10", domain_minimums={"AI & Data Science": "5"})
    candidate = make_candidate("Łukasz Wiśniewski", email="l@example.pl")
    auth.login("l@example.pl")

    page = client.get("/me/").get_data(as_text=True)
    assert "0 / 10 ECTS" in page
    assert 'value="0"' in page
    assert "10 more ECTS credits in total" in page

    _record(app, candidate.id, today, courses=["EII-101"])
    page = client.get("/me/").get_data(as_text=True)
    assert "5 / 10 ECTS" in page
    assert 'value="50"' in page
    assert "5 more ECTS credits in total" in page
    assert "Foundations of AI in imaging" in page  # the transcript


def test_eligible_candidate_sees_every_requirement_met(
    app, client, auth, make_candidate, make_course, make_assessment, make_programme, today
):
    make_course("EII-101", credits="10")
    make_assessment("CERT-EXAM", pass_mark="60")
    make_programme(min_total_credits="10", required_assessments=("CERT-EXAM",))
    candidate = make_candidate(email="c@example.org")
    _record(app, candidate.id, today, courses=["EII-101"], results=[("CERT-EXAM", "41")])
    auth.login("c@example.org")
    page = client.get("/me/").get_data(as_text=True)
    assert (
        "Pass the Certificate examination (failed: best score 41, pass mark 60; 2 of 3"
        " attempts left)"
    ) in page
    assert "1 of 2 requirements met" in page and "Failed — 2 of 3 attempts left" in page
    _record(app, candidate.id, today, results=[("CERT-EXAM", "75")])
    page = client.get("/me/").get_data(as_text=True)
    assert "All requirements met" in page
    assert "Still needed" not in page


def test_a_candidate_sees_only_their_own_records(
    app, client, auth, make_candidate, make_course, today
):
    make_course("EII-101")
    alice = make_candidate("Alice Example", email="alice@example.org")
    bob = make_candidate("Bob Example", email="bob@example.org")
    _record(app, alice.id, today, courses=["EII-101"])
    auth.login("bob@example.org")
    page = client.get("/me/").get_data(as_text=True)
    assert "Bob Example" in page
    assert "Alice Example" not in page
    assert "No credits recorded yet." in page
    # Another candidate's records live only under /admin, which answers 404 to candidates.
    assert client.get(f"/admin/candidates/{alice.id}").status_code == 404
    assert client.get(f"/admin/candidates/{bob.id}").status_code == 404


def test_names_are_shown_exactly_and_escaped(client, auth, make_candidate):
    names = ["Αικατερίνη Παπαδοπούλου", "Дмитрий Иванов", "Nguyễn Thị Mai", "Þórður O'Brien"]
    for number, name in enumerate(names):
        make_candidate(name, email=f"n{number}@example.org")
        auth.login(f"n{number}@example.org")
        assert name in client.get("/me/").get_data(as_text=True).replace("&#39;", "'")
        auth.logout()
    make_candidate("<script>alert(1)</script>", email="x@example.org")
    auth.login("x@example.org")
    page = client.get("/me/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_nfd_input_is_stored_nfc(ctx, make_candidate):
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Mai")
    candidate = make_candidate(decomposed)
    assert candidate.full_name == "Nguyễn Thị Mai"
    assert unicodedata.is_normalized("NFC", candidate.full_name)


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/me/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_admins_have_no_portal(client, auth, make_admin):
    make_admin("office@example.org")
    auth.login("office@example.org")
    assert client.get("/me/").status_code == 404


def test_private_pages_are_not_cached(client, auth, make_candidate):
    make_candidate(email="c@example.org")
    auth.login("c@example.org")
    assert client.get("/me/").headers["Cache-Control"] == "no-store"
