"""The header says who is logged in, on every page, public ones included: a verifier sees
how to log in, a candidate their progress and name, an administrator the admin areas."""

from __future__ import annotations

import re

from flask import Flask

from tests.conftest import log_in
from tests.test_admin import page_text


def header(app: Flask, email: str | None, path: str) -> str:
    client = app.test_client()
    if email is not None:
        log_in(client, email)
    response = client.get(path)
    assert response.status_code == 200, path
    found = re.search(r"<header.*?</header>", page_text(response), re.DOTALL)
    assert found, f"{path} has no header"
    return found[0]


def test_the_header_follows_who_is_logged_in(app, make_admin, make_candidate) -> None:
    make_admin("chair@efrs.example", full_name="Αικατερίνη Παπαδοπούλου")
    make_candidate("Zoë Ødegård-Kowalczyk", email="zoe@example.org")

    anonymous = header(app, None, "/verify")
    assert "Log in" in anonymous
    assert "Log out" not in anonymous and "My progress" not in anonymous

    candidate = header(app, "zoe@example.org", "/verify")
    assert "Zoë Ødegård-Kowalczyk" in candidate and "My progress" in candidate
    assert "Log out" in candidate and "Candidates" not in candidate

    admin = header(app, "chair@efrs.example", "/admin/candidates")
    assert "Αικατερίνη Παπαδοπούλου" in admin and "Candidates" in admin
    assert "My progress" not in admin and "Log in<" not in admin
