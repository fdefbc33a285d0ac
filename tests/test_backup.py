"""Back up, wipe, restore: every certificate still verifies and every PDF hash matches."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from certification import backup as backups
from certification import create_app
from certification.auth.services import get_candidate
from certification.catalogue.services import get_programme
from certification.certificates.models import Certificate, PartnerBody
from certification.certificates.services import (
    issue_certificate,
    revoke_certificate,
    verify_pdf,
)
from certification.extensions import db
from tests.certificates.test_admin_certificates import png
from tests.conftest import change_logo
from tests.test_cli import BRANDING_AS_FILES


@pytest.fixture
def instance_keys(app, tmp_path, seal_keys):
    """The seal keys inside this app's instance folder, as a deployment keeps them."""
    keys = Path(app.instance_path) / "keys"
    shutil.copytree(Path(seal_keys["SIGNING_TRUST_ROOTS"][0]).parent, keys)
    app.config.update(
        SEAL_KEYS={
            "EFRS": {"pkcs12": "keys/efrs-seal.p12", "passphrase": None},
            "EuSoMII": {"pkcs12": "keys/eusomii-seal.p12", "passphrase": None},
        },
        SIGNING_TRUST_ROOTS=["keys/demo-ca.pem"],
    )
    return keys


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_back_up_wipe_restore_and_every_certificate_still_verifies(
    app, runner, eligible_candidate, today, tmp_path, instance_keys
):
    names = ["Αικατερίνη Παπαδοπούλου", "Þórunn Guðmundsdóttir", "Дмитрий Шостакович"]
    holders = [eligible_candidate(name) for name in names]
    with app.app_context():
        body = change_logo("EFRS", png("teal", (60, 30)), None)
        certificates = [
            issue_certificate(get_candidate(h), get_programme("EII-C"), None, today=today)
            for h in holders
        ]
        revoke_certificate(certificates[2], "Issued in error.", None)
        db.session.commit()
        before = {c.code: (c.pdf_sha256, c.status_on(today).value) for c in certificates}
        logo = body.logo_image.content
    (Path(app.instance_path) / "config.py").write_text("SECRET_KEY = 'kept'\n")

    destination = tmp_path / "backup-1"
    made = runner.invoke(args=["backup", str(destination)])
    assert made.exit_code == 0, made.output
    assert "3 certificates" in made.output
    manifest = json.loads((destination / "manifest.json").read_text())
    assert {"certification.sqlite", "keys/efrs-seal.p12", "config.py"} <= set(manifest["files"])
    assert not any(name.startswith("branding/") for name in manifest["files"])  # in the database
    again = runner.invoke(args=["backup", str(destination)])
    assert again.exit_code != 0 and "not empty" in again.output

    # Wipe: the database (and with it the branding), the keys.
    database = Path(sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)
    with app.app_context():
        db.engine.dispose()
    for path in [database, *database.parent.glob(database.name + "-*")]:
        path.unlink()
    shutil.rmtree(instance_keys)

    restored = runner.invoke(args=["restore", str(destination)])
    assert restored.exit_code == 0, restored.output
    assert "3 certificates checked: every PDF matches its SHA-256 and both seals are valid" in (
        restored.output
    )
    with app.app_context():
        after = {
            c.code: (c.pdf_sha256, c.status_on(today).value)
            for c in db.session.scalars(sa.select(Certificate))
        }
        assert after == before  # revoked stays revoked
        for certificate in db.session.scalars(sa.select(Certificate)):
            verdict = verify_pdf(certificate.pdf, today)
            assert verdict.authentic, (certificate.code, verdict.reason)
        # The logo came back with the database.
        body = db.session.scalar(sa.select(PartnerBody).where(PartnerBody.short_name == "EFRS"))
        assert body.logo_image is not None and body.logo_image.content == logo
        db.session.rollback()
    refused = runner.invoke(args=["restore", str(destination)])
    assert refused.exit_code != 0 and "--replace" in refused.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_damaged_backup_restores_nothing(app, runner, tmp_path, instance_keys):
    destination = tmp_path / "backup"
    assert runner.invoke(args=["backup", str(destination)]).exit_code == 0
    (destination / "keys" / "efrs-seal.p12").write_bytes(b"damaged")
    result = runner.invoke(args=["restore", str(destination), "--replace"])
    assert result.exit_code != 0
    assert "keys/efrs-seal.p12 is missing or damaged" in result.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_changed_pdf_is_reported(app, runner, eligible_candidate, today, instance_keys):
    holder = eligible_candidate()
    with app.app_context():
        code = issue_certificate(
            get_candidate(holder), get_programme("EII-C"), None, today=today
        ).code
        db.session.commit()
        # The audit trail is append-only, the certificate row is not: simulate damage.
        certificate = db.session.scalar(sa.select(Certificate).where(Certificate.code == code))
        certificate.pdf = certificate.pdf[:-10] + b"0123456789"
        db.session.commit()
    result = runner.invoke(args=["check-certificates"])
    assert result.exit_code != 0
    assert f"{code}: the stored PDF does not match its SHA-256." in result.output


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_backups_say_how_to_dump_the_database(app, runner, tmp_path):
    result = runner.invoke(args=["backup", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert "pg_dump --format=custom" in result.output
    assert not (tmp_path / "b" / "certification.sqlite").exists()


def app_on(instance: Path, monkeypatch: pytest.MonkeyPatch, **config: object) -> Flask:
    """An installation of its own: this instance folder and a SQLite database inside it."""
    instance.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("INSTANCE_PATH", str(instance))
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'certification.sqlite'}",
            "QUEUE_URL": "memory://",
            **config,
        }
    )


def test_a_backup_made_when_logos_were_files_restores_them_into_the_database(
    tmp_path, monkeypatch, seal_keys
):
    # The installation backed up ran the release that kept logos as instance files, and
    # that release's backup copied the folder.
    old = app_on(tmp_path / "old", monkeypatch)
    assert old.test_cli_runner().invoke(args=["db", "upgrade", BRANDING_AS_FILES]).exit_code == 0
    (tmp_path / "old" / "branding").mkdir()
    (tmp_path / "old" / "branding" / "5f0c2a9e1d7b3c4a8e6f1b2d.png").write_bytes(png())
    with old.app_context():
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "UPDATE partner_body SET logo_file = '5f0c2a9e1d7b3c4a8e6f1b2d.png'"
                    " WHERE short_name = 'EFRS'"
                )
            )
        db.engine.dispose()
    with monkeypatch.context() as that_release:
        that_release.setattr(backups, "INSTANCE_ENTRIES", ("keys", "branding", "config.py"))
        made = old.test_cli_runner().invoke(args=["backup", str(tmp_path / "backup")])
    assert made.exit_code == 0, made.output
    assert (tmp_path / "backup" / "branding" / "5f0c2a9e1d7b3c4a8e6f1b2d.png").is_file()

    new = app_on(tmp_path / "new", monkeypatch, **seal_keys)
    runner = new.test_cli_runner()
    restored = runner.invoke(args=["restore", str(tmp_path / "backup")])
    assert restored.exit_code == 0, restored.output
    assert "from an earlier release: run `flask --app certification init-db`" in restored.output
    upgraded = runner.invoke(args=["init-db"])
    assert upgraded.exit_code == 0, upgraded.output
    checked = runner.invoke(args=["check-certificates"])
    assert checked.exit_code == 0, checked.output
    with new.app_context():
        body = db.session.scalar(sa.select(PartnerBody).where(PartnerBody.short_name == "EFRS"))
        assert body.logo_image is not None and body.logo_image.content == png()
        db.session.rollback()
        db.engine.dispose()
