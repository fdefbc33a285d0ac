"""Several gunicorn workers on one SQLite file: under concurrent writes and reads, no
request ever answers "database is locked" (WAL mode and a busy timeout make writers wait
for each other instead)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from certification.auth.services import create_api_token, get_user_by_email
from certification.extensions import db

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
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    errors = tmp_path / "gunicorn.log"
    server = subprocess.Popen(  # noqa: S603  (our own server, fixed arguments)
        [
            str(GUNICORN),
            "--workers",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "--error-logfile",
            str(errors),
            "certification:create_app()",
        ],
        env={
            **os.environ,
            "INSTANCE_PATH": app.instance_path,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "load-test-secret-key-not-for-production",
        },
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if _request(f"{base}/openapi.json", token) == 200:
                    break
            except urllib.error.URLError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        statuses: Counter[int] = Counter()
        lock = threading.Lock()

        def work(candidate_id: int) -> None:
            for course in courses:
                answers = [
                    _request(
                        f"{base}/candidates/{candidate_id}/credits",
                        token,
                        {"course": course, "completed_on": "2025-03-01"},
                    ),
                    _request(f"{base}/candidates/{candidate_id}/progress", token),
                ]
                with lock:
                    statuses.update(answers)

        threads = [threading.Thread(target=work, args=(c,)) for c in candidates]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        server.terminate()
        server.wait(timeout=10)
    log = errors.read_text()
    assert "database is locked" not in log
    assert statuses == {201: THREADS * ROUNDS, 200: THREADS * ROUNDS}, (statuses, log[-3000:])
