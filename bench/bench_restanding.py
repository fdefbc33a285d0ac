"""Saving a programme's rules at 100,000 candidates: the request, and the standing job.

Run ``.venv/bin/python bench/make_dataset.py`` first, then
``.venv/bin/python bench/bench_restanding.py`` (``--sqlite-only`` / ``--postgres-only``).
Not a test: it prints figures and exits 0.

For each database: the first administrator logs in with the test client (password, then a
TOTP code), opens the Certificate's (EII-C) edit page and saves it with one ECTS credit
more, then with the original figure again, alternating; each POST is timed whole (form,
service, commit, redirect), against a target of 1 s. Each save replaces the job the last
one queued. Then the last job is run as a queue worker runs it (chunks of 2,000
candidates, each committed with the job's cursor), timed, and the figures it leaves are
compared with the baseline measured in the same run: working out every standing of the
programme in one transaction, as a save did inside the request before the job existed.
The dataset ends with its original rules and the standings they give.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_dataset  # this folder's generator: its paths and settings
from bench_scale import csrf_token, log_in, prepare_administrator
from machine import describe

PROGRAMME = "EII-C"
EDIT_URL = f"/admin/programmes/{PROGRAMME}/edit"
SAVES = 6
TARGET_SECONDS = 1.0


class FormFields(HTMLParser):
    """The values a browser would send for the first form with a submit button on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        name = found.get("name")
        if tag == "input" and name:
            kind = found.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in found:
                return
            if kind not in ("submit", "button", "file"):
                self.fields.append((name, found.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in found:
            self.fields.append((self._select, found.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)


def form_of(page: str) -> list[tuple[str, str]]:
    parser = FormFields()
    parser.feed(page)
    return parser.fields


def with_value(fields: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(key, value if key == name else old) for key, old in fields]


def measure_database(kind: str, url: str) -> dict[str, float]:
    from certification.catalogue.services import get_programme
    from certification.extensions import db
    from certification.records.models import StandingJob
    from certification.records.standings import (
        active_standing_job,
        refresh_standings,
        run_standing_job,
    )

    label = "SQLite" if kind == "sqlite" else "PostgreSQL"
    app = make_dataset.open_app(url)
    email, password, secret = prepare_administrator(app)
    admin = app.test_client()
    log_in(admin, email, password, secret)
    today = make_dataset.programme_today(app)

    page = admin.get(EDIT_URL)
    if page.status_code != 200:
        raise SystemExit(f"{label}: {EDIT_URL} answered {page.status_code}")
    fields = form_of(page.get_data(as_text=True))
    original = dict(fields)["min_total_credits"]
    stricter = str(int(float(original.replace(",", "."))) + 1)
    with app.app_context():
        candidates = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM (SELECT candidate_id FROM credit_record"
                " UNION SELECT candidate_id FROM assessment_attempt) AS recorded"
            )
        )
    print(f"\n{label}: {candidates:,} candidates with records; {PROGRAMME} needs {original} ECTS")

    saves: list[float] = []
    for number in range(SAVES):
        value = stricter if number % 2 == 0 else original  # ends on the original rules
        token = csrf_token(admin.get(EDIT_URL))
        body = with_value(with_value(fields, "min_total_credits", value), "csrf_token", token)
        started = time.perf_counter()
        answer = admin.post(EDIT_URL, data=MultiDict(body))
        saves.append(time.perf_counter() - started)
        if answer.status_code != 303 and answer.status_code != 302:
            text = re.sub(r"\s+", " ", answer.get_data(as_text=True))[:400]
            raise SystemExit(f"{label}: saving answered {answer.status_code}: {text}")
    print(
        f"  save the rules (POST, whole request), n={SAVES}: min {min(saves) * 1000:.0f} ms,"
        f" median {statistics.median(saves) * 1000:.0f} ms, max {max(saves) * 1000:.0f} ms"
        f" (target < {TARGET_SECONDS * 1000:.0f} ms)"
        f" {'pass' if max(saves) < TARGET_SECONDS else 'short'}"
    )

    with app.app_context():
        job = active_standing_job(get_programme(PROGRAMME))
        assert job is not None, "the last save queued no job"
        job_id = job.id
        replaced = db.session.scalar(
            sa.select(sa.func.count(StandingJob.id)).where(
                StandingJob.status == "superseded", StandingJob.id > job_id - SAVES
            )
        )
        db.session.rollback()
        chunks: list[float] = []
        last = time.perf_counter()

        def tick(_job: StandingJob) -> None:
            nonlocal last
            now = time.perf_counter()
            chunks.append(now - last)
            last = now

        started = time.perf_counter()
        finished = run_standing_job(job_id, today, after_chunk=tick)
        job_seconds = time.perf_counter() - started
        assert finished is not None and finished.status == "done", finished
        total = finished.total  # counted by the job as it started
        print(
            f"  standing job: {total:,} candidates in {job_seconds:.1f} s"
            f" ({total / job_seconds:,.0f} a second), {len(chunks) - 1} chunks of up to 2,000:"
            f" median {statistics.median(chunks[:-1] or chunks) * 1000:.0f} ms,"
            f" max {max(chunks) * 1000:.0f} ms a chunk; {replaced} earlier jobs replaced"
        )

        started = time.perf_counter()
        refresh_standings(None, today, [get_programme(PROGRAMME)])
        db.session.commit()
        baseline = time.perf_counter() - started
        print(
            f"  baseline, every standing in one transaction (the old save): {baseline:.1f} s;"
            f" the job takes {job_seconds / baseline:.2f}x that, off the request path"
        )
    return {"save_max": max(saves), "job": job_seconds, "baseline": baseline}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    make_dataset.add_database_options(parser)
    args = parser.parse_args()
    print("Saving a programme's rules at scale: the request, and the job it queues")
    print(f"Machine: {describe(f'SQLAlchemy {sa.__version__}')}")
    for kind, url in make_dataset.built_databases(args):
        measure_database(kind, url)


if __name__ == "__main__":
    main()
