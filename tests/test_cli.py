"""The flask commands, on a database they create themselves through the migrations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from certification import create_app
from certification.extensions import db
from tests.conftest import _postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_app(request, tmp_path, monkeypatch) -> Iterator[Flask]:
    """An app on an empty database: no tables until `init-db` makes them."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    admin_engine = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    else:
        base = sa.make_url(_postgres_url())
        migration_database = f"{base.database}_migrations"
        admin_engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as connection:
            connection.execute(
                sa.text(f"DROP DATABASE IF EXISTS {migration_database} WITH (FORCE)")
            )
            connection.execute(sa.text(f"CREATE DATABASE {migration_database}"))
        url = base.set(database=migration_database).render_as_string(hide_password=False)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": url,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()
    if admin_engine is not None:
        with admin_engine.connect() as connection:
            connection.execute(
                sa.text(f"DROP DATABASE IF EXISTS {migration_database} WITH (FORCE)")
            )
        admin_engine.dispose()


def test_init_db_builds_the_schema_the_models_describe_and_is_safe_twice(empty_app):
    runner = empty_app.test_cli_runner()
    first = runner.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    assert "Database ready" in first.output
    second = runner.invoke(args=["init-db"])
    assert second.exit_code == 0, second.output
    with empty_app.app_context(), db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == [], "the migrations and the models disagree; run `flask db migrate`"


def test_the_migrated_database_refuses_to_change_audit_rows(empty_app):
    from tests.test_audit import assert_audit_rows_cannot_change

    assert empty_app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    assert_audit_rows_cannot_change(empty_app)


def test_seed_demo_fills_an_empty_database_once_and_prints_logins(empty_app):
    from certification.auth.services import get_user_by_email
    from certification.records.services import candidate_progress
    from certification.web import today

    runner = empty_app.test_cli_runner()
    runner.invoke(args=["init-db"])
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "admin@efrs.example" in first.output
    assert "lukasz.wisniewski@example.pl" in first.output
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0
    assert "Demo data created" not in again.output
    assert "admin@efrs.example" in again.output  # the logins are shown every time
    with empty_app.test_request_context():
        lukasz = get_user_by_email("lukasz.wisniewski@example.pl")
        assert lukasz.full_name == "Łukasz Wiśniewski"
        reports = {r.programme_code: r for r in candidate_progress(lukasz, today())}
        assert reports["EII-C"].eligible
        assert not reports["EII-D"].eligible
        count = db.session.scalar(sa.text("SELECT count(*) FROM user_account"))
        assert count == 9


def test_create_admin_reads_a_piped_password(empty_app):
    from certification.auth.services import authenticate

    runner = empty_app.test_cli_runner()
    runner.invoke(args=["init-db"])
    result = runner.invoke(
        args=["create-admin", "Office@EFRS.example", "--name", "Zoë Ødegård"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "office@efrs.example" in result.output
    with empty_app.app_context():
        admin = authenticate("office@efrs.example", "a long enough password")
        assert admin is not None
        assert admin.is_admin
        assert admin.full_name == "Zoë Ødegård"


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("office@example.org", "short", "at least 12 characters"),
        ("not-an-email", "a long enough password", "email"),
    ],
)
def test_create_admin_refuses_bad_input(empty_app, email, password, message):
    runner = empty_app.test_cli_runner()
    runner.invoke(args=["init-db"])
    result = runner.invoke(args=["create-admin", email, "--name", "X"], input=password + "\n")
    assert result.exit_code != 0
    assert message in result.output
