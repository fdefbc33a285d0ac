"""One transaction per request: what a failed request wrote is gone, savepoints included."""

from __future__ import annotations

import sqlalchemy as sa

from certification.auth.services import create_api_token, get_user_by_email
from certification.extensions import db
from certification.idempotency import IdempotencyKey


def test_a_refused_api_call_keeps_no_idempotency_key(app, make_admin):
    make_admin("i@example.org")
    with app.app_context():
        token = create_api_token(get_user_by_email("i@example.org"), "x")
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "retry-1"}
    body = {"course": "EII-101", "completed_on": "2024-05-31"}
    # The first call records the token's use (a write); the next ones start with the claim.
    for _ in range(3):
        answer = client.post("/api/v1/candidates/999999/credits", json=body, headers=headers)
        assert answer.status_code == 404
    changed = client.post(
        "/api/v1/candidates/999999/credits", json={**body, "course": "X"}, headers=headers
    )
    assert changed.status_code == 404  # not "key reused": the refused calls claimed nothing
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)) == 0
