"""Fixtures: an app on a fresh database per test (SQLite, and PostgreSQL when available),
a client, a CLI runner, a login helper and factories that build data through the services."""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import datetime as dt
import functools
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from certification import create_app
from certification.auth.models import User
from certification.auth.passwords import use_cheap_hashing
from certification.auth.services import create_admin, create_candidate, get_candidate
from certification.catalogue.services import (
    AssessmentInput,
    CourseInput,
    ProgrammeInput,
    ProviderInput,
    create_assessment,
    create_course,
    create_programme,
    create_provider,
    find_provider,
    get_programme,
    programme_as_input,
    update_programme,
)
from certification.certificates.branding import (
    DEFAULT_PARTNER_BODIES,
    PartnerBodyInput,
    update_partner_body,
)
from certification.certificates.look_ups import counter as look_up_counter
from certification.certificates.models import PartnerBody
from certification.certificates.services import issue_certificate
from certification.extensions import db
from certification.records.services import record_credit, record_result

use_cheap_hashing()

P = ParamSpec("P")
T = TypeVar("T")

PASSWORD = "correct horse battery staple"
DEFAULT_POSTGRES_HINT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_postgres_schema_ready = False


_private_postgres_url: str | None = None


def _postgres_url() -> str:
    """A PostgreSQL database of this test process's own, made next to TEST_DATABASE_URL
    and named after the xdist worker and the process (``test_gw0_run_4242``).

    Parallel workers, and several runs (two developers, CI and a developer), then share one
    server without truncating each other's tables. Where the role may not create
    databases, the run uses TEST_DATABASE_URL itself (and should not run in parallel).
    """
    global _private_postgres_url
    if _private_postgres_url is not None:
        return _private_postgres_url
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip(f"PostgreSQL run skipped: set TEST_DATABASE_URL (e.g. {DEFAULT_POSTGRES_HINT})")
    base = sa.make_url(url)
    server = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    private = f"{base.database}_{worker}_run_{os.getpid()}"
    try:
        with server.connect() as connection:
            _drop_databases_of_dead_runs(connection, f"{base.database}_")
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{private}"'))
            connection.execute(sa.text(f'CREATE DATABASE "{private}"'))
    except sa.exc.OperationalError as error:
        server.dispose()
        pytest.skip(f"PostgreSQL run skipped: cannot connect to TEST_DATABASE_URL ({error.orig})")
    except sa.exc.ProgrammingError:  # no CREATEDB privilege: share the given database
        server.dispose()
        _private_postgres_url = url
        return url

    def drop_private_database() -> None:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{private}" WITH (FORCE)'))
        server.dispose()

    atexit.register(drop_private_database)
    _private_postgres_url = base.set(database=private).render_as_string(hide_password=False)
    return _private_postgres_url


def _drop_databases_of_dead_runs(connection: sa.Connection, prefix: str) -> None:
    """A run that was killed never dropped its databases: drop those whose process (on
    this machine) is gone, so that they do not pile up."""
    names = connection.execute(
        sa.text("SELECT datname FROM pg_database WHERE datname ~ :pattern"),
        {"pattern": f"^{re.escape(prefix)}(.*_)?run_[0-9]+$"},
    ).scalars()
    for name in list(names):
        pid = name.rpartition("_run_")[2]
        if pid.isdigit() and not _process_exists(int(pid)):
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _memoise_url_builders() -> None:
    """Build each URL rule's builder function once per process instead of once per app.

    Every test builds its own app, and werkzeug compiles two builder functions per rule
    as it binds (generated Python, through ``ast`` and ``compile``): 95 % of
    ``create_app``'s 80 ms, a minute or more of a run. The generated function depends only
    on the rule's text, its parsed parts and its defaults, and reaches the rule through its
    first argument, so rules with the same text share one safely. Should werkzeug change
    the method, this steps aside and apps are built as before, only slower.
    """
    from werkzeug.routing.rules import Rule

    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None or getattr(compile_builder, "memoised", False):
        return
    built: dict[tuple[Any, ...], Any] = {}

    def memoised(self: Rule, append_unknown: bool = True) -> Any:
        key = (
            self.rule,
            tuple(self._trace),
            repr(sorted((self.defaults or {}).items())),
            append_unknown,
        )
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    memoised.memoised = True  # type: ignore[attr-defined]
    Rule._compile_builder = memoised  # type: ignore[method-assign]


_memoise_url_builders()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with slow tests (browsers, real servers and workers) go first. Under
    ``--dist loadfile`` the workers take files in this order, so the long files start at
    once and the short ones fill in around them, instead of one long file running alone
    at the end while the other worker waits."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # a stable sort


_sqlite_template: Path | None = None


def _fresh_sqlite_database(folder: Path) -> str:
    """A new SQLite file with the schema and the two partner bodies, copied from one this
    process made once (``create_all`` on a new file is 40 ms a test)."""
    global _sqlite_template
    if _sqlite_template is None:
        template = Path(tempfile.mkdtemp(prefix="schema-")) / "template.sqlite"
        atexit.register(shutil.rmtree, template.parent, ignore_errors=True)
        maker = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test-secret-key-not-for-production",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{template}",
                "QUEUE_URL": "memory://",
            }
        )
        with maker.app_context():
            db.create_all()
            # The initial migration inserts the two partner bodies; create_all does not.
            db.session.add_all(PartnerBody(**body) for body in DEFAULT_PARTNER_BODIES)
            db.session.commit()
            db.session.remove()
            db.engine.dispose()  # the last connection to close folds the WAL into the file
        _sqlite_template = template
    database = folder / "test.sqlite"
    shutil.copyfile(_sqlite_template, database)
    return f"sqlite:///{database}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return _fresh_sqlite_database(tmp_path)
    return _postgres_url()


def demo_keys_settings(folder: Path, **made_with: Any) -> dict[str, Any]:
    """Make a demo certificate authority, both bodies' seals (``made_with``: e.g. their
    validity), its local time-stamping authority and CRL, and each body's credential key in
    ``folder``; the settings that name them."""
    from certification.certificates.signing import make_demo_keys
    from certification.credentials.keys import make_credential_key

    make_demo_keys(
        folder, {b["short_name"]: b["name"] for b in DEFAULT_PARTNER_BODIES}, **made_with
    )
    for name in ("efrs-2026", "eusomii-2026"):
        make_credential_key(folder / f"{name}.credential.pem")
    return {
        "CREDENTIAL_KEYS": {
            "EFRS": [{"id": "efrs-2026", "key": str(folder / "efrs-2026.credential.pem")}],
            "EuSoMII": [{"id": "eusomii-2026", "key": str(folder / "eusomii-2026.credential.pem")}],
        },
        "SEAL_KEYS": {
            "EFRS": {"pkcs12": str(folder / "efrs-seal.p12"), "passphrase": None},
            "EuSoMII": {"pkcs12": str(folder / "eusomii-seal.p12"), "passphrase": None},
        },
        "SIGNING_TRUST_ROOTS": [str(folder / "demo-ca.pem")],
        # The demo CA's local time-stamping authority and its CRL: every certificate the
        # tests issue carries its timestamps and validation data (PAdES B-LTA), as the
        # demo's and production's do.
        "TSA_LOCAL_KEY": str(folder / "demo-tsa.p12"),
        "SIGNING_CRLS": [str(folder / "demo-ca.crl")],
    }


@pytest.fixture(scope="session")
def seal_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A demo certificate authority and both bodies' seals, made once per test run."""
    return demo_keys_settings(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def app(
    database_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, seal_keys: dict[str, Any]
) -> Iterator[Flask]:
    global _postgres_schema_ready
    # Keep a developer's own instance/config.py and environment out of the tests.
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    for key in ("DATABASE_URL", "SECRET_KEY"):
        monkeypatch.delenv(key, raising=False)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "PUBLIC_BASE_URL": "https://certificates.example.org",
            # Queued tasks wait in memory; a test runs them with the `run_queue` fixture.
            "QUEUE_URL": "memory://",
            **seal_keys,
        }
    )
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            if not _postgres_schema_ready:
                db.drop_all()
                with db.engine.begin() as connection:
                    connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
                db.create_all()
                _postgres_schema_ready = True
            # The initial migration inserts the two partner bodies; create_all does not.
            db.session.add_all(PartnerBody(**body) for body in DEFAULT_PARTNER_BODIES)
            db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        # Look-ups counted in the last second go in now, not into the next test's database.
        look_up_counter().write()
        if db.engine.dialect.name == "postgresql":
            _empty_postgres_database()
        db.engine.dispose()


def _empty_postgres_database() -> None:
    """Empty the tables a test wrote to and restart the sequences it used, as a new
    database would be. DELETE, not TRUNCATE: a TRUNCATE costs 50–100 ms whatever the
    tables hold, a DELETE of a few rows next to nothing. Replica mode switches off the
    triggers for this transaction: the foreign keys' (so the order does not matter) and the
    audit trail's, which refuses deletions. Only a superuser may switch it: any other role
    truncates everything."""
    tables = [t.name for t in db.metadata.sorted_tables]
    written = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in tables
    )
    used_sequences = "SELECT sequencename FROM pg_sequences WHERE last_value IS NOT NULL"
    try:
        with db.engine.begin() as connection:
            connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
            for name in connection.execute(sa.text(written)).scalars().all():
                connection.execute(sa.text(f'DELETE FROM "{name}"'))
            for sequence in connection.execute(sa.text(used_sequences)).scalars().all():
                connection.execute(sa.text(f'ALTER SEQUENCE "{sequence}" RESTART'))
    except sa.exc.ProgrammingError:  # not a superuser
        names = ", ".join(f'"{name}"' for name in tables)
        with db.engine.begin() as connection:
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def close_app(app: Flask) -> None:
    """What a worker does as it stops: write the look-ups it counted (else its timer would
    write them into the next test's database), and close its database connections."""
    with app.app_context():
        look_up_counter().write()
        db.engine.dispose()


def another_app(app: Flask, **config: Any) -> Flask:
    """A second app on ``app``'s database, as another worker or host would run it: the
    test settings, then ``config``."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "WTF_CSRF_ENABLED": False,
            **config,
        }
    )


@pytest.fixture
def second_app(app: Flask) -> Iterator[Callable[..., Flask]]:
    """A factory of second apps on the same database, each with its own settings (rate
    limits on, a proxy in front…), as another worker or host would run."""
    from certification.extensions import limiter

    made: list[Flask] = []

    def build(**config: Any) -> Flask:
        other = another_app(app, **{"QUEUE_URL": "memory://", **config})
        with other.app_context():
            limiter.reset()
        made.append(other)
        return other

    yield build
    for other in made:
        with other.app_context():
            limiter.reset()
        close_app(other)


@pytest.fixture
def rate_limited_app(second_app: Callable[..., Flask]) -> Flask:
    """A second app with rate limits on, as in production (memory storage: one process)."""
    return second_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def run_queue(app: Flask) -> Callable[[], int]:
    """Run every queued task now, as a worker would; returns how many ran."""
    from certification.queue import run_pending
    from certification.tasks import register_tasks

    register_tasks()

    def run() -> int:
        with app.app_context():
            return run_pending()

    return run


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An application context, for tests that call services directly."""
    with app.app_context():
        yield


def totp_code(app: Flask, email: str) -> str:
    """The code an administrator's authenticator app shows now.

    Each code is accepted once, and tests log in many times a second: the step last used
    is forgotten first, a test's stand-in for waiting 30 seconds."""
    import pyotp

    from certification.auth.second_factor import _secret_of

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        user.totp_last_step = None
        db.session.commit()
        secret = _secret_of(user)
        assert secret is not None, f"{email} has no authenticator"
        return pyotp.TOTP(secret).now()


def log_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    """Log in as a person would: the password, then (administrators) the code."""
    response = client.post("/login", data={"email": email, "password": password})
    if response.status_code == 302 and response.headers["Location"].endswith("/login/code"):
        app = client.application
        response = client.post("/login/code", data={"code": totp_code(app, email)})
    return response


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, email: str, password: str = PASSWORD) -> Any:
        return log_in(self._client, email, password)

    def logout(self) -> Any:
        return self._client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


def enrol_authenticator(user: User) -> list[str]:
    """Set up ``user``'s authenticator as the first login would; the recovery codes."""
    import pyotp

    from certification.auth.second_factor import begin_enrolment, confirm_enrolment

    secret = begin_enrolment(user)
    return confirm_enrolment(user, pyotp.TOTP(secret).now())


def committed(app: Flask, build: Callable[P, T]) -> Callable[P, T]:
    """``build`` as a test calls it, from outside any app context: it runs in one of its
    own and commits. A row it returns comes back with every column loaded and out of the
    session, usable after the context closes."""

    @functools.wraps(build)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        with app.app_context():
            made = build(*args, **kwargs)
            db.session.commit()
            if isinstance(made, db.Model):
                db.session.refresh(made)
                db.session.expunge(made)
            return made

    return run


@pytest.fixture
def make_admin(app: Flask) -> Callable[..., User]:
    """Administrators with an authenticator set up (``second_factor=False``: not yet)."""
    numbers = itertools.count(1)

    def build(
        email: str | None = None, full_name: str = "Ada Admin", *, second_factor: bool = True
    ) -> User:
        user = create_admin(email or f"admin{next(numbers)}@example.org", full_name, PASSWORD, None)
        if second_factor:
            enrol_authenticator(user)
            user.totp_last_step = None
        return user

    return committed(app, build)


@pytest.fixture
def make_officer(app: Flask) -> Callable[..., User]:
    """Officers of a partner body (``body``: EFRS or EuSoMII), authenticator set up."""
    numbers = itertools.count(1)

    def build(
        body: str = "EFRS", email: str | None = None, full_name: str = "Olga Officer"
    ) -> User:
        from certification.auth.models import Role
        from certification.auth.services import create_staff

        email = email or f"officer{next(numbers)}@{body.lower()}.example"
        user = create_staff(email, full_name, PASSWORD, Role.OFFICER, body, None)
        enrol_authenticator(user)
        user.totp_last_step = None
        return user

    return committed(app, build)


@pytest.fixture
def make_provider_staff(app: Flask) -> Callable[..., User]:
    """Staff of a course provider (by its id), authenticator set up."""
    numbers = itertools.count(1)

    def build(provider_id: int, email: str | None = None, full_name: str = "Niamh Byrne") -> User:
        from certification.auth.models import Role
        from certification.auth.services import create_staff

        email = email or f"staff{next(numbers)}@provider.example"
        user = create_staff(
            email, full_name, PASSWORD, Role.PROVIDER, None, None, provider_id=provider_id
        )
        enrol_authenticator(user)
        user.totp_last_step = None
        return user

    return committed(app, build)


@pytest.fixture
def make_candidate(app: Flask) -> Callable[..., User]:
    numbers = itertools.count(1)

    def build(
        full_name: str = "Łukasz Wiśniewski",
        email: str | None = None,
        country: str | None = "PL",
        password: str | None = PASSWORD,
    ) -> User:
        from certification.auth.passwords import hash_password

        user = create_candidate(
            email or f"candidate{next(numbers)}@example.org", full_name, country, None
        )
        if password:
            user.password_hash = hash_password(password)
        return user

    return committed(app, build)


def _new_course(
    code: str = "EII-101",
    credits: str = "5",
    domain: str = "AI & Data Science",
    title: str = "Foundations of AI in imaging",
    provider: str = "EuSoMII",
) -> str:
    if provider and find_provider(provider) is None:
        create_provider(ProviderInput(provider, "", None, None), None)
    create_course(CourseInput(code, title, Decimal(credits), domain, provider), None)
    return code


def _new_assessment(
    code: str = "CERT-EXAM",
    pass_mark: str = "60",
    max_score: str = "100",
    max_attempts: int = 3,
    title: str = "Certificate examination",
) -> str:
    numbers = AssessmentInput(code, title, Decimal(pass_mark), Decimal(max_score), max_attempts)
    create_assessment(numbers, None)
    return code


def _new_programme(
    code: str = "EII-C",
    *,
    title: str = "European Certificate in Imaging Informatics",
    level: str = "certificate",
    min_total_credits: str = "10",
    domain_minimums: dict[str, str] | None = None,
    required_assessments: tuple[str, ...] = (),
    prerequisite: str | None = None,
    approval: str = "office",
    **extra: Any,
) -> str:
    """A programme. Issued by the office alone unless ``approval="both_bodies"`` (the
    product's default): most tests are about issuing itself, and approval by both bodies
    has tests of its own (tests/certificates/test_approvals.py)."""
    from certification.web import today as web_today

    create_programme(
        ProgrammeInput(
            code=code,
            title=title,
            level=level,
            min_total_credits=Decimal(min_total_credits),
            domain_minimums={k: Decimal(v) for k, v in (domain_minimums or {}).items()},
            required_assessments=required_assessments,
            prerequisite=prerequisite,
            approval=approval,
            **extra,
        ),
        None,
        today=web_today(),
    )
    return code


@pytest.fixture
def make_course(app: Flask) -> Callable[..., str]:
    return committed(app, _new_course)


def _new_provider(
    name: str = "EuSoMII",
    country: str = "",
    accredited_from: dt.date | None = None,
    accredited_until: dt.date | None = None,
) -> int:
    provider = create_provider(
        ProviderInput(name, country, accredited_from, accredited_until), None
    )
    return provider.id


@pytest.fixture
def make_provider(app: Flask) -> Callable[..., int]:
    """A course provider in the catalogue; its id."""
    return committed(app, _new_provider)


@pytest.fixture
def make_assessment(app: Flask) -> Callable[..., str]:
    return committed(app, _new_assessment)


@pytest.fixture
def make_programme(app: Flask) -> Callable[..., str]:
    """Programmes, created on today's date in the programme's calendar."""
    return committed(app, _new_programme)


def programme_today(app: Flask) -> dt.date:
    """Today in the programme's calendar, as the app's faces take it."""
    from certification.web import today as web_today

    with app.app_context():
        return web_today()


@pytest.fixture
def today(app: Flask) -> dt.date:
    return programme_today(app)


def certificate_catalogue(
    make_course: Callable[..., str],
    make_assessment: Callable[..., str],
    make_programme: Callable[..., str],
    courses: dict[str, tuple[str, str]],
    *,
    exam: str = "CERT-EXAM",
    **rules: Any,
) -> None:
    """The ``courses`` (``{code: (credits, domain)}``), an examination with pass mark 60 and
    programme EII-C, which requires it, with ``rules``."""
    for code, (credits, domain) in courses.items():
        make_course(code, credits=credits, domain=domain)
    make_assessment(exam, pass_mark="60")
    make_programme("EII-C", required_assessments=(exam,), **rules)


@pytest.fixture
def make_catalogue(make_course, make_assessment, make_programme) -> Callable[..., None]:
    """:func:`certificate_catalogue` with this test's factories."""
    return functools.partial(certificate_catalogue, make_course, make_assessment, make_programme)


@pytest.fixture
def eligible_candidate(app: Flask, make_candidate, make_catalogue, today) -> Callable[..., int]:
    """A programme EII-C (10 ECTS + the Certificate examination) and a factory of
    candidates who meet it; returns the candidate's id. Each candidate logs in as
    ``eligible<n>@example.org`` with :data:`PASSWORD`."""
    courses = {
        "EII-101": ("5", "AI & Data Science"),
        "EII-102": ("5", "Standards & Interoperability"),
    }
    make_catalogue(courses, min_total_credits="10", validity_months=60, eqf_level=6)
    numbers = itertools.count(1)

    def build(name: str = "Łukasz Wiśniewski", *, on: dt.date | None = None) -> int:
        candidate = make_candidate(name, email=f"eligible{next(numbers)}@example.org")
        person = get_candidate(candidate.id)
        for course in ("EII-101", "EII-102"):
            record_credit(person, course, on or today, actor=None, today=today)
        record_result(person, "CERT-EXAM", Decimal(72), on or today, actor=None, today=today)
        return candidate.id

    return committed(app, build)


def issue_by_service(app: Flask, candidate_id: int, today: dt.date) -> str:
    """Issue EII-C through the service (as another administrator did earlier); its code."""
    with app.app_context():
        certificate = issue_certificate(
            get_candidate(candidate_id), get_programme("EII-C"), None, today=today
        )
        db.session.commit()
        return certificate.code


def assert_pdf_download(response: Any, code: str) -> None:
    """Certificate ``code``'s PDF as the app sends it: an attachment named after the code,
    never kept by a cache."""
    assert response.status_code == 200
    assert response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{code}.pdf"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"%PDF-")


def change_logo(short_name: str, image: bytes, actor: User | None) -> PartnerBody:
    """Give partner body ``short_name`` the logo ``image`` through the service, keeping its
    name and signatory; the body."""
    body = db.session.scalar(sa.select(PartnerBody).where(PartnerBody.short_name == short_name))
    same_but_logo = PartnerBodyInput(body.name, body.signatory_name, body.signatory_title, image)
    update_partner_body(body, same_but_logo, actor)
    return body


def change_rules(code: str, today: dt.date, **changes: Any) -> None:
    """Change programme ``code``'s rules through the service, keeping the rest as they are."""
    programme = get_programme(code)
    rules = dataclasses.replace(programme_as_input(programme), **changes)
    update_programme(programme, rules, None, today=today)


CONSUMER = Path(sys.executable).with_name("huey_consumer")


def worker_environment(app: Flask, folder: Path, **settings: str) -> dict[str, str]:
    """The environment of a real queue worker on the test app's database, instance and seal
    keys, with a queue file of its own in ``folder``, and ``settings`` on top."""
    return {
        **os.environ,
        "INSTANCE_PATH": app.instance_path,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "worker-test-secret-key-not-for-production",
        "QUEUE_URL": f"sqlite:///{folder / 'queue.sqlite'}",
        "PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
        "SEAL_KEYS": json.dumps(app.config["SEAL_KEYS"]),
        "CREDENTIAL_KEYS": json.dumps(app.config["CREDENTIAL_KEYS"]),
        "SIGNING_TRUST_ROOTS": json.dumps(app.config["SIGNING_TRUST_ROOTS"]),
        "TSA_LOCAL_KEY": app.config["TSA_LOCAL_KEY"],
        "SIGNING_CRLS": json.dumps(app.config["SIGNING_CRLS"]),
        **settings,
    }


def wait_for(condition: Callable[[], bool], seconds: float, what: str, log: Path) -> None:
    """Poll ``condition`` until it holds; past ``seconds``, fail with the end of ``log``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out waiting for {what}. Worker log:\n{log.read_text()[-4000:]}")
        time.sleep(0.02)


def start_queue_worker(
    environment: dict[str, str], log: Path, threads: int = 1
) -> subprocess.Popen[bytes]:
    """A real ``huey_consumer`` in a process group of its own, its output added to ``log``."""
    with log.open("ab") as output:
        return subprocess.Popen(  # noqa: S603  (our own consumer, fixed arguments)
            [
                str(CONSUMER),
                "certification.worker.huey",
                "--delay",
                "0.1",
                "--workers",
                str(threads),
            ],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerDidNotStart(Exception):
    """A test server that exited or never answered; the message ends with its output."""


@contextlib.contextmanager
def gunicorn_server(
    environment: dict[str, str], port: int, *options: str, timeout: float = 30
) -> Iterator[str]:
    """A real gunicorn on ``port``, configured by ``environment`` as in production, and
    answering; yields its base URL. ``options`` go to gunicorn (``--workers 4``…).

    Its output goes to a file, so that a server which exits or does not answer within
    ``timeout`` seconds fails the test with the end of that output (a refused
    configuration, a traceback) rather than with a bare timeout."""
    with tempfile.TemporaryDirectory(prefix="gunicorn-") as folder:
        output = Path(folder) / "output.log"
        with output.open("wb") as sink:
            server = subprocess.Popen(  # noqa: S603  (our own server, fixed arguments)
                [
                    str(Path(sys.executable).with_name("gunicorn")),
                    "-c",
                    "python:certification.gunicorn_conf",
                    "--bind",
                    f"127.0.0.1:{port}",
                    *options,
                    "certification:create_app()",
                ],
                env={**os.environ, **environment},
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_answering(server, f"{base}/login", output, timeout)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_answering(
    server: subprocess.Popen[bytes], url: str, output: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url):  # noqa: S310  (loopback)
                return
        except OSError as error:
            if server.poll() is not None:
                problem = f"gunicorn exited (status {server.returncode}) before answering {url}"
            elif time.monotonic() > deadline:
                problem = f"gunicorn did not answer {url} within {timeout:g} s ({error})"
            else:
                time.sleep(0.1)
                continue
        raise ServerDidNotStart(f"{problem}. The end of its output:\n{_tail(output)}")


def _tail(path: Path, lines: int = 40) -> str:
    text = path.read_bytes().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:]) or "(nothing)"


def gunicorn_serving(app: Flask, *options: str) -> contextlib.AbstractContextManager[str]:
    """The test app's instance and database served by a real gunicorn."""
    environment = {
        "INSTANCE_PATH": app.instance_path,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "gunicorn-test-secret-key-not-for-production",
    }
    return gunicorn_server(environment, free_port(), *options)


# ------------------------------------------------------------------ the JSON API (v1)

API_ADMIN_EMAIL = "integrator@example.org"


class Api:
    """A test client that speaks to /api/v1 with a bearer token."""

    def __init__(self, client: Any, token: str | None) -> None:
        self.client = client
        self.token = token

    def headers(self, **extra: str) -> dict[str, str]:
        found = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**found, **extra}

    def get(self, path: str) -> Any:
        return self.client.get("/api/v1" + path, headers=self.headers())

    def post(self, path: str, body: Any) -> Any:
        return self.client.post("/api/v1" + path, json=body, headers=self.headers())

    def post_raw(self, path: str, data: bytes | str, content_type: str = "application/json") -> Any:
        return self.client.post(
            "/api/v1" + path, data=data, headers=self.headers(**{"Content-Type": content_type})
        )


def assert_error(response: Any, status: int, slug: str, fields: set[str] | None = None) -> dict:
    """The API's refusal: this status, ``{"error": slug, "message": ...}`` and, when given,
    exactly these ``fields`` at fault."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert body["error"] == slug
    assert isinstance(body["message"], str) and body["message"]
    if fields is not None:
        assert set(body.get("fields", {})) == fields, body
    return body


def count_rows(app: Flask, model: Any) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


@pytest.fixture
def make_api_token(app: Flask) -> Callable[..., str]:
    """API tokens for an existing administrator, as an integrator would hold them."""

    def build(email: str = API_ADMIN_EMAIL, label: str = "test LMS") -> str:
        from certification.auth.services import create_api_token, get_user_by_email

        return create_api_token(get_user_by_email(email), label)

    return committed(app, build)


@pytest.fixture
def api_admin(make_admin: Callable[..., User]) -> User:
    """The administrator whose token ``api`` sends."""
    return make_admin(API_ADMIN_EMAIL)


@pytest.fixture
def api_token(api_admin: User, make_api_token: Callable[..., str]) -> str:
    return make_api_token()


@pytest.fixture
def api(client: FlaskClient, api_token: str) -> Api:
    return Api(client, api_token)
