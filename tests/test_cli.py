"""The flask commands, on a database they create themselves through the migrations."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from certification import create_app
from certification.extensions import db
from tests.certificates.test_admin_certificates import png, printed_images
from tests.conftest import _postgres_url

# The last revision in which logos and signatures were files in instance/branding.
BRANDING_AS_FILES = "c4e8f0a1b2d3"


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
        assert count == 12  # with the two officers and the academy's staff member


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
        assert admin.is_office
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


def test_the_upgrade_moves_logo_files_into_the_database_and_skips_a_missing_one(
    empty_app, tmp_path
):
    from certification.certificates.services import partner_bodies

    runner = empty_app.test_cli_runner()
    old = runner.invoke(args=["db", "upgrade", BRANDING_AS_FILES])
    assert old.exit_code == 0, old.output
    # An installation of that release: the EFRS logo uploaded, its signature file lost.
    folder = Path(empty_app.instance_path) / "branding"
    folder.mkdir(parents=True)
    (folder / "5f0c2a9e1d7b3c4a8e6f1b2d.png").write_bytes(png())
    with empty_app.app_context(), db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE partner_body SET logo_file = '5f0c2a9e1d7b3c4a8e6f1b2d.png',"
                " signature_file = '9a8b7c6d5e4f3a2b1c0d9e8f.png' WHERE short_name = 'EFRS'"
            )
        )

    upgraded = runner.invoke(args=["init-db"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "The signature of EFRS" in upgraded.output
    assert "9a8b7c6d5e4f3a2b1c0d9e8f.png, is missing" in upgraded.output
    with empty_app.app_context():
        efrs, eusomii = partner_bodies()
        assert efrs.logo_image is not None
        assert efrs.logo_image.content == png()
        assert efrs.logo_image.sha256 == hashlib.sha256(png()).hexdigest()
        assert efrs.logo_image.media_type == "image/png"
        assert efrs.signature_image is None
        assert (eusomii.logo_image, eusomii.signature_image) == (None, None)
    # The files are no longer needed: certificates print the logo from the database.
    (folder / "5f0c2a9e1d7b3c4a8e6f1b2d.png").unlink()
    sample = runner.invoke(args=["sample-certificate", str(tmp_path / "sample.pdf")])
    assert sample.exit_code == 0, sample.output
    assert printed_images((tmp_path / "sample.pdf").read_bytes()) == [((60, 40), (0, 0, 128))]

    # Going back to that release writes the logo in use back as a file it can read.
    back = runner.invoke(args=["db", "downgrade", BRANDING_AS_FILES])
    assert back.exit_code == 0, back.output
    with empty_app.app_context(), db.engine.connect() as connection:
        names = connection.execute(
            sa.text("SELECT logo_file, signature_file FROM partner_body ORDER BY position")
        ).all()
    written_back = hashlib.sha256(png()).hexdigest() + ".png"
    assert [tuple(row) for row in names] == [(written_back, None), (None, None)]
    assert (folder / written_back).read_bytes() == png()
