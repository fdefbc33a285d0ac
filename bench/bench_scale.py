"""How fast the pages that grow with the register answer at scale, on SQLite and PostgreSQL.

Run: ``.venv/bin/python bench/make_dataset.py`` first (it builds the datasets: 100,000
candidates, 1,000,000 credit records, 200,000 attempts, about 20,000 certificates), then
``.venv/bin/python bench/bench_scale.py`` (``--sqlite-only`` / ``--postgres-only``;
``--diagnose`` profiles one request of every page that falls short). Not a test: it prints
a table and exits 0 even when pages fall short.

The pages, each against a target of 100 ms at the 95th percentile:

1. the administrators' candidate list filtered by "eligible for the Certificate"
   (``/admin/candidates?eligible_for=EII-C``), page 1;
2. the same, page 500 (at a smaller ``--scale``, its last page);
3. a candidate's page (``/admin/candidates/<id>``), over 45 candidates with 9 to 11 credit
   records (a typical transcript);
4. the reports dashboard (``/admin/reports``);
5. a public verification look-up (``/verify/<code>``), anonymous, over 45 certificates of
   every status; each counts as a verification, however the app records it;

and, as baselines measured in the same run, the verification form (``/verify``: the cost
of a request through the whole stack with no query) and the unfiltered candidate list,
page 1 (the same template and 50 rows, without the eligibility filter).

How: for each database, the app is made on it (rate limits off, CSRF on), the first
administrator is given a fresh password and authenticator, and logs in with the test
client as a person does (password, then a TOTP code). Each figure is a full GET through
the test client (routing, view, queries, template), timed with ``time.perf_counter``:
5 warm-up requests, then N=40 timed, garbage collection on as in production. Every answer
must be 200 and show what the page is for (a full page of 50 candidates, the candidate's
name, the table of stages, the certificate's code and holder): an error page, however fast,
counts as an error, never a pass. A page whose requests take seconds is timed fewer times
(at least 3) within a budget (``--budget``, per page and database), and its n says so; one
whose single request outlasts the whole budget is timed once. The look-ups add their
verifications to the dataset (the row counts printed may not show the last ones yet) and
the login replaces the administrator's password and authenticator; nothing else is written.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import os
import pstats
import random
import re
import secrets
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, got_request_exception
from flask.testing import FlaskClient
from markupsafe import escape
from werkzeug.test import TestResponse

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_dataset  # this folder's generator: its paths, settings and manifests
from machine import describe

N = 40
WARM_UP = 5
MIN_SAMPLES = 3
TARGET_MS = 100.0
PER_PAGE = 50
DEEP_PAGE = 500
SAMPLES = WARM_UP + N
LIST_URL = "/admin/candidates?eligible_for=EII-C"
CANDIDATE_LINK = re.compile(r'href="/admin/candidates/(\d+)"')
MATCHING = re.compile(r"(\d+) matching candidates?")
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE = re.compile(r'value="([^"]*)"')


@dataclass
class Result:
    page: str
    database: str
    timings: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    errors: int = 0
    baseline: bool = False
    url: str = ""  # one of its URLs, to diagnose
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.timings) if self.timings else math.nan

    @property
    def p95(self) -> float:
        if len(self.timings) < 2:
            return self.timings[0] if self.timings else math.nan
        return statistics.quantiles(self.timings, n=20, method="inclusive")[-1]

    @property
    def verdict(self) -> str:
        if self.errors:
            return "ERROR"
        if self.baseline:
            return "baseline"
        return "pass" if self.p95 <= TARGET_MS else "short"


Check = Callable[[TestResponse, int], str | None]


# ---------------------------------------------------------------- setting up


def prepare_administrator(app: Flask) -> tuple[str, str, str]:
    """Give the first administrator a fresh password and authenticator: (e-mail, password,
    TOTP secret). As `reset-second-factor` followed by a first login would."""
    import pyotp

    from certification.auth.models import Role, User
    from certification.auth.passwords import hash_password
    from certification.auth.second_factor import begin_enrolment, confirm_enrolment
    from certification.extensions import db

    with app.app_context():
        admin = db.session.scalar(
            sa.select(User).where(User.role == Role.OFFICE).order_by(User.id).limit(1)
        )
        if admin is None:
            raise SystemExit("The dataset has no administrator: build it with make_dataset.py.")
        password = secrets.token_urlsafe(18)
        admin.password_hash = hash_password(password)
        admin.totp_secret = admin.totp_enabled_at = admin.totp_last_step = None
        secret = begin_enrolment(admin)
        confirm_enrolment(admin, pyotp.TOTP(secret).now())
        admin.totp_last_step = None  # the login below may fall in the same 30-second step
        db.session.commit()
        email = admin.email
        db.session.remove()
    return email, password, secret


def csrf_token(response: TestResponse) -> str:
    tag = CSRF.search(response.get_data(as_text=True))
    value = VALUE.search(tag.group(0)) if tag else None
    if value is None:
        raise SystemExit(f"No CSRF token on {response.request.path}")
    return value.group(1)


def log_in(client: FlaskClient, email: str, password: str, secret: str) -> None:
    import pyotp

    page = client.get("/login")
    answer = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(page)}
    )
    if answer.status_code != 302 or not answer.headers["Location"].endswith("/login/code"):
        raise SystemExit(f"Logging in failed at the password: {answer.status_code}")
    page = client.get("/login/code")
    answer = client.post(
        "/login/code",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(page)},
    )
    if answer.status_code != 302 or "/login" in answer.headers["Location"]:
        raise SystemExit(f"Logging in failed at the code: {answer.status_code}")


def typical_candidates(app: Flask, count: int) -> list[tuple[int, str]]:
    """(id, full name) of ``count`` candidates with 9 to 11 credit records, fixed by seed."""
    from certification.auth.models import User
    from certification.extensions import db
    from certification.records.models import CreditRecord

    with app.app_context():
        ids = list(
            db.session.scalars(
                sa.select(CreditRecord.candidate_id)
                .group_by(CreditRecord.candidate_id)
                .having(sa.func.count().between(9, 11))
                .order_by(CreditRecord.candidate_id)
            )
        )
        chosen = random.Random(make_dataset.SEED).sample(ids, min(count, len(ids)))
        names = dict(
            db.session.execute(sa.select(User.id, User.full_name).where(User.id.in_(chosen))).all()
        )
        db.session.remove()
    return [(i, names[i]) for i in chosen]


def some_certificates(app: Flask, count: int) -> list[tuple[str, str]]:
    """(code, holder name) of ``count`` certificates, fixed by seed."""
    from certification.certificates.models import Certificate
    from certification.extensions import db

    with app.app_context():
        rows = [
            (code, holder)
            for code, holder in db.session.execute(
                sa.select(Certificate.code, Certificate.holder_name).order_by(Certificate.id)
            )
        ]
        db.session.remove()
    return random.Random(make_dataset.SEED).sample(rows, min(count, len(rows)))


def row_counts(app: Flask) -> list[tuple[str, int]]:
    from certification.extensions import db

    today = make_dataset.programme_today(app)
    queries = [
        ("candidates", "SELECT count(*) FROM user_account WHERE role = 'candidate'"),
        ("administrators", "SELECT count(*) FROM user_account WHERE role = 'admin'"),
        ("courses", "SELECT count(*) FROM course"),
        ("credit records", "SELECT count(*) FROM credit_record"),
        ("assessment attempts", "SELECT count(*) FROM assessment_attempt"),
        ("certificates", "SELECT count(*) FROM certificate"),
        ("  valid", "SELECT count(*) FROM certificate WHERE is_current AND expires_on >= :today"),
        ("  expired", "SELECT count(*) FROM certificate WHERE is_current AND expires_on < :today"),
        ("  revoked", "SELECT count(*) FROM certificate WHERE revoked_at IS NOT NULL"),
        ("  superseded", "SELECT count(*) FROM certificate WHERE superseded_by_id IS NOT NULL"),
        ("programme standings", "SELECT count(*) FROM programme_standing"),
        ("verifications", "SELECT count(*) FROM verification"),
    ]
    counts = []
    with app.app_context():
        for label, query in queries:
            try:
                counts.append((label, db.session.scalar(sa.text(query), {"today": today}) or 0))
            except sa.exc.DBAPIError:  # a table this version of the app does not have
                db.session.rollback()
                counts.append((label, -1))
        db.session.remove()
    return counts


# ---------------------------------------------------------------- measuring


def measure(
    result: Result,
    client: FlaskClient,
    url_of: Callable[[int], str],
    check: Check,
    budget: float,
    failures: list[str],
) -> Result:
    """Time GETs of ``url_of(i)``: warm-up first, then up to N, within ``budget`` seconds."""
    began = time.perf_counter()
    result.url = url_of(WARM_UP)

    def one(i: int) -> float:
        url = url_of(i)
        failures.clear()
        start = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - start) * 1000
        problem: str | None
        if response.status_code != 200:
            problem = f"status {response.status_code}" + (f" ({failures[0]})" if failures else "")
        else:
            problem = check(response, i)
        if problem:
            result.errors += 1
            if len(result.problems) < 3:
                result.problems.append(f"{url}: {problem}")
        return elapsed

    for i in range(WARM_UP):
        elapsed = one(i)
        if elapsed > budget * 1000:  # one request outlasts the budget: that is the figure
            result.timings.append(elapsed)
            result.note = "timed once: a single request took longer than the budget"
            return result
        if time.perf_counter() - began > budget / 4:
            break
    for i in range(N):
        if len(result.timings) >= MIN_SAMPLES and time.perf_counter() - began > budget:
            break
        result.timings.append(one(WARM_UP + i))
    return result


def candidate_ids_on(response: TestResponse) -> set[str]:
    return set(CANDIDATE_LINK.findall(response.get_data(as_text=True)))


def list_check(expected_rows: int) -> Check:
    def check(response: TestResponse, _i: int) -> str | None:
        found = len(candidate_ids_on(response))
        return None if found == expected_rows else f"{found} candidates listed, not {expected_rows}"

    return check


def contains(*wanted: str) -> Check:
    def check(response: TestResponse, _i: int) -> str | None:
        text = response.get_data(as_text=True)
        missing = [w for w in wanted if w not in text]
        return f"does not show {missing[0]!r}" if missing else None

    return check


def measure_database(kind: str, url: str, args: argparse.Namespace) -> list[Result]:
    from certification.extensions import db

    label = "SQLite" if kind == "sqlite" else "PostgreSQL"
    app = make_dataset.open_app(url)
    failures: list[str] = []

    def remember(_sender: Flask, exception: BaseException, **_: Any) -> None:
        failures.append(f"{type(exception).__name__}: {str(exception).splitlines()[0][:200]}")

    got_request_exception.connect(remember, app)
    email, password, secret = prepare_administrator(app)
    admin = app.test_client()
    log_in(admin, email, password, secret)
    anonymous = app.test_client()
    candidates = typical_candidates(app, SAMPLES)
    certificates = some_certificates(app, SAMPLES)
    manifest = make_dataset.read_manifest(kind) or {}
    today = make_dataset.programme_today(app)

    # Page 1 once, to read how many candidates the list says are eligible.
    first = admin.get(LIST_URL)
    total = None
    if first.status_code == 200 and (found := MATCHING.search(first.get_data(as_text=True))):
        total = int(found.group(1))
    expected_total = manifest.get("eligible_today", {}).get("EII-C")
    if total is None:
        print(f"  {label}: the filtered list answered {first.status_code} before timing")
    elif total < PER_PAGE * DEEP_PAGE:
        print(f"  {label}: only {total:,} eligible for EII-C; the deep page is the last one")
    deep_page = min(DEEP_PAGE, math.ceil(total / PER_PAGE)) if total else DEEP_PAGE
    deep_rows = min(PER_PAGE, total - (deep_page - 1) * PER_PAGE) if total else PER_PAGE
    first_check = list_check(min(PER_PAGE, total) if total is not None else PER_PAGE)
    if (
        total is not None
        and expected_total is not None
        and manifest.get("built_on") == today.isoformat()
    ):
        # The list must count who the progress engine says is eligible (same day, same data).
        listed_check = first_check

        def first_check(response: TestResponse, i: int) -> str | None:
            text = response.get_data(as_text=True)
            found = MATCHING.search(text)
            if found is None or int(found.group(1)) != expected_total:
                said = found.group(1) if found else "no count"
                return f"says {said} eligible; the progress engine says {expected_total}"
            return listed_check(response, i)

    budget = args.budget
    results = [
        measure(
            Result("baseline: verification form", label, baseline=True),
            anonymous,
            lambda _i: "/verify",
            contains("Check a certificate", "By certificate code"),
            budget,
            failures,
        ),
        measure(
            Result("baseline: candidate list, unfiltered, page 1", label, baseline=True),
            admin,
            lambda _i: "/admin/candidates",
            list_check(PER_PAGE),
            budget,
            failures,
        ),
        measure(
            Result("candidates eligible for EII-C, page 1", label),
            admin,
            lambda _i: LIST_URL,
            first_check,
            budget,
            failures,
        ),
        measure(
            Result(f"candidates eligible for EII-C, page {deep_page}", label),
            admin,
            lambda _i: f"{LIST_URL}&page={deep_page}",
            list_check(deep_rows),
            budget,
            failures,
        ),
        measure(
            Result("candidate page", label),
            admin,
            lambda i: f"/admin/candidates/{candidates[i % len(candidates)][0]}",
            lambda response, i: contains(
                str(escape(candidates[i % len(candidates)][1])), "ECTS credits recorded"
            )(response, i),
            budget,
            failures,
        ),
        measure(
            Result("reports dashboard", label),
            admin,
            lambda _i: "/admin/reports",
            contains("Candidates by stage", "EII-C", "EII-D"),
            budget,
            failures,
        ),
        measure(
            Result("verification look-up", label),
            anonymous,
            lambda i: f"/verify/{certificates[i % len(certificates)][0]}",
            lambda response, i: contains(
                certificates[i % len(certificates)][0],
                str(escape(certificates[i % len(certificates)][1])),
            )(response, i),
            budget,
            failures,
        ),
    ]
    if args.diagnose:
        for result in results:
            if result.verdict in ("short", "ERROR") or args.diagnose == "all":
                client = anonymous if result.url.startswith("/verify") else admin
                diagnose(app, client, result, kind)
    counts = row_counts(app)
    print(
        f"\n{label} dataset: " + ", ".join(f"{n:,} {what.strip()}" for what, n in counts if n >= 0)
    )
    size = manifest.get("size_bytes")
    if size:
        print(f"  {make_dataset.human(size)} on disk, built on {manifest.get('built_on')}")
    work_behind_the_pages(app, kind, url)
    got_request_exception.disconnect(remember, app)
    with app.app_context():
        db.engine.dispose()
    return results


def work_behind_the_pages(app: Flask, kind: str, url: str) -> None:
    """What keeps the pages fast costs time elsewhere: print it. The dashboard's figures, as
    a queue worker computes them every few minutes; and every candidate's standing towards
    the Certificate, worked out again in one go, the work a change of its rules queues
    (rolled back after)."""
    from certification.catalogue.models import Programme
    from certification.extensions import db
    from certification.records.standings import refresh_standings
    from certification.reports.services import refresh_dashboard

    today = make_dataset.programme_today(app)
    with app.app_context():
        began = time.perf_counter()
        refresh_dashboard(today)
        db.session.commit()
        figures = time.perf_counter() - began
        programme = db.session.scalar(sa.select(Programme).where(Programme.code == "EII-C"))
        began = time.perf_counter()
        count = refresh_standings(None, today, [programme])
        standings = time.perf_counter() - began
        db.session.rollback()
    if kind == "postgresql":
        # The rolled-back rows are dead tuples until a vacuum; autovacuum would come by.
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text("VACUUM ANALYZE programme_standing"))
        engine.dispose()
    print(f"  the dashboard's figures computed (a queue worker's job): {figures:.1f} s")
    print(
        f"  every standing towards EII-C worked out again in one transaction (the work a"
        f" change of its rules queues; bench_restanding.py times the job):"
        f" {standings:.1f} s for {count:,} candidates"
    )


# ---------------------------------------------------------------- where the time goes


PLACEHOLDERS = re.compile(r"((?:\?|%\(\w+\)s|:\w+)(?:, (?:\?|%\(\w+\)s|:\w+)){9,})")


def shorten(statement: str, limit: int = 900) -> str:
    text = " ".join(statement.split())
    text = PLACEHOLDERS.sub(lambda m: f"<{m.group(1).count(',') + 1} parameters>", text)
    return text if len(text) <= limit else text[:limit] + " …"


def diagnose(app: Flask, client: FlaskClient, result: Result, kind: str) -> None:
    """One request of ``result``'s page under cProfile, with every SQL statement timed; the
    project's slowest functions, and the slowest statements with their plans."""
    from certification.extensions import db

    with app.app_context():
        engine = db.engine
    statements: list[tuple[float, str, Any]] = []
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((time.perf_counter() - started.pop(), statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    response = client.get(result.url)
    profiler.disable()
    wall = (time.perf_counter() - began) * 1000
    sa.event.remove(engine, "before_cursor_execute", before)
    sa.event.remove(engine, "after_cursor_execute", after)

    sql_ms = sum(s[0] for s in statements) * 1000
    print(f"\n--- {result.page} on {result.database}: GET {result.url}")
    print(
        f"    status {response.status_code}; {wall:.0f} ms under the profiler, of which"
        f" {sql_ms:.0f} ms in {len(statements)} SQL statements (driver time)"
    )
    stats = pstats.Stats(profiler)
    own = []
    for (path, line, function), (_cc, calls, total, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]  # not in typeshed
        if "/certification/" in path or path.endswith(".html"):
            short = path.split("/certification/")[-1] if "/certification/" in path else path
            own.append((cumulative, total, calls, f"{short}:{line} {function}"))
    own.sort(reverse=True)
    print("    the project's functions by cumulative time (ms cumulative / own, calls):")
    for cumulative, total, calls, where in own[:12]:
        print(f"      {cumulative * 1000:9.1f} {total * 1000:9.1f} {calls:>9}  {where}")
    slowest = sorted(statements, key=lambda s: s[0], reverse=True)[:3]
    for seconds, statement, parameters in slowest:
        print(f"    {seconds * 1000:.1f} ms: {shorten(statement)}")
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            for line in explain(engine, kind, statement, parameters):
                print(f"        {line}")


def explain(engine: sa.Engine, kind: str, statement: str, parameters: Any) -> list[str]:
    prefix = "EXPLAIN QUERY PLAN " if kind == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(prefix + statement, parameters).all()
    except sa.exc.DBAPIError as error:
        return [f"(no plan: {str(error.orig).splitlines()[0][:200]})"]
    if kind == "sqlite":
        depth: dict[int, int] = {0: 0}
        lines = []
        for node, parent, _unused, detail in rows:
            depth[node] = depth.get(parent, 0) + 1
            lines.append("  " * (depth[node] - 1) + detail)
        return lines
    return [row[0] if len(row[0]) <= 200 else row[0][:200] + " …" for row in rows]


# ---------------------------------------------------------------- the report


def print_table(results: list[Result]) -> None:
    width = max(len(r.page) for r in results)
    print(
        f"\n{'page':<{width}}  {'database':<10}  {'n':>3}  {'median ms':>9}  {'p95 ms':>9}"
        f"  {'target':>6}  verdict"
    )
    for r in results:
        target = "" if r.baseline else f"{TARGET_MS:.0f}"
        print(
            f"{r.page:<{width}}  {r.database:<10}  {len(r.timings):>3}  {r.median:9.1f}"
            f"  {r.p95:9.1f}  {target:>6}  {r.verdict}"
        )
    for r in results:
        if r.note:
            print(f"  {r.page} on {r.database}: {r.note}")
        for problem in r.problems:
            print(f"  {r.page} on {r.database}: {problem}")
        if r.errors > len(r.problems):
            print(f"  {r.page} on {r.database}: {r.errors} answers in all were wrong")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    make_dataset.add_database_options(parser)
    parser.add_argument(
        "--budget", type=float, default=120.0, help="seconds per page and database (120)"
    )
    parser.add_argument(
        "--diagnose",
        nargs="?",
        const="short",
        choices=["short", "all"],
        help="profile one request of each page that falls short (or of all)",
    )
    args = parser.parse_args()

    print(f"Pages at scale: milliseconds per full GET, N={N} after {WARM_UP} warm-up requests")
    versions = (f"SQLite {sqlite3.sqlite_version}", f"SQLAlchemy {sa.__version__}")
    print(f"Machine: {describe(*versions)}")
    print("Load average at the start (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    results: list[Result] = []
    for kind, url in make_dataset.built_databases(args):
        results += measure_database(kind, url, args)
    if results:
        print_table(results)
        print(
            "Load average at the end (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
        )


if __name__ == "__main__":
    main()
