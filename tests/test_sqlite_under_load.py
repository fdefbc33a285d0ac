"""Several gunicorn workers on one SQLite file: under concurrent writes and reads, no
request ever answers "database is locked" (WAL mode and a busy timeout make writers wait
for each other instead)."""

from __future__ import annotations

import json
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from certification.auth.services import create_api_token, get_user_by_email
from certification.extensions import db
from tests.conftest import gunicorn_serving

pytestmark = pytest.mark.slow  # real servers, workers or data at scale

GUNICORN = Path(sys.executable).with_name("gunicorn")
THREADS = 8
ROUNDS = 12


def _request(url: str, token: str, body: dict | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310  (loopback, our own server)
        url,
        data=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status
    except urllib.error.HTTPError as refusal:
        return refusal.code


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_concurrent_workers_never_answer_database_is_locked(
    app, tmp_path, make_admin, make_candidate, make_course
):
    make_admin("integrator@example.org")
    courses = [make_course(f"LOAD-{n:02d}") for n in range(ROUNDS)]
    candidates = [
        make_candidate(f"Kandidát {n}", email=f"load{n}@example.org").id for n in range(THREADS)
    ]
    with app.app_context():
        token = create_api_token(get_user_by_email("integrator@example.org"), "load")
        db.session.commit()
    errors = tmp_path / "gunicorn.log"
    with gunicorn_serving(app, "--workers", "4", "--error-logfile", str(errors)) as base:
        statuses: Counter[int] = Counter()
        lock = threading.Lock()

        def work(candidate_id: int) -> None:
            for course in courses:
                answers = [
                    _request(
                        f"{base}/api/v1/candidates/{candidate_id}/credits",
                        token,
                        {"course": course, "completed_on": "2025-03-01"},
                    ),
                    _request(f"{base}/api/v1/candidates/{candidate_id}/progress", token),
                ]
                with lock:
                    statuses.update(answers)

        threads = [threading.Thread(target=work, args=(c,)) for c in candidates]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    log = errors.read_text()
    assert "database is locked" not in log
    assert statuses == {201: THREADS * ROUNDS, 200: THREADS * ROUNDS}, (statuses, log[-3000:])
