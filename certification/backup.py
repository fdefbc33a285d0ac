"""Backups that can be restored: the database (which holds the branding images too), the
seal keys and the instance configuration, copied while the application runs.

SQLite is copied with its online backup API, which gives a consistent snapshot even while
gunicorn workers write (WAL mode). A PostgreSQL database is backed up with ``pg_dump``
(the command prints how); this module still copies the files that live beside it. Each
backup has a manifest with every file's SHA-256, and a restore checks those before it
copies anything back, then checks every certificate: its stored PDF must still hash to the
SHA-256 recorded at issue, and both seals must still validate against the trust roots.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from certification.certificates.models import Certificate, CertificatePdf
from certification.certificates.services import expected_seal_fields, seals_hold
from certification.certificates.settings import current_settings, trust_roots
from certification.certificates.signing import check_seals
from certification.extensions import db
from certification.types import utcnow

MANIFEST = "manifest.json"
DATABASE_FILE = "certification.sqlite"
# What lives in the instance folder besides the database, and is needed to carry on.
INSTANCE_ENTRIES = ("keys", "config.py")
# Backups made while logos and signatures were files still carry them: restored beside
# that older database, `flask init-db` (its migration) moves them into the database.
OLD_INSTANCE_ENTRIES = ("branding",)


class BackupError(Exception):
    """A backup or restore that cannot be done as asked; nothing was changed."""


@dataclass
class BackupReport:
    folder: Path
    database: str  # "sqlite" or "postgresql"
    files: dict[str, str] = field(default_factory=dict)  # relative path -> SHA-256
    certificates: int = 0


def _sqlite_path() -> Path | None:
    url = sa.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory database cannot be backed up.")
    return Path(url.database)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup(destination: Path) -> BackupReport:
    """Copy everything needed to restore into ``destination`` (a new or empty folder)."""
    if destination.exists() and any(destination.iterdir()):
        raise BackupError(f"{destination} is not empty: choose a new folder for each backup.")
    destination.mkdir(parents=True, exist_ok=True)
    database = _sqlite_path()
    report = BackupReport(destination, "sqlite" if database else "postgresql")
    report.certificates = db.session.scalar(sa.select(sa.func.count(Certificate.id))) or 0
    db.session.rollback()  # no transaction of ours stays open while the copy runs
    if database is not None:
        target = destination / DATABASE_FILE
        source = sqlite3.connect(database)
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy)  # page by page, consistent even with writers active
        finally:
            copy.close()
            source.close()
    instance = Path(current_app.instance_path)
    for name in INSTANCE_ENTRIES:
        entry = instance / name
        if entry.is_dir():
            shutil.copytree(entry, destination / name)
        elif entry.is_file():
            shutil.copy2(entry, destination / name)
    for path in sorted(p for p in destination.rglob("*") if p.is_file()):
        report.files[str(path.relative_to(destination))] = _sha256(path)
    manifest = {
        "made_at": utcnow().isoformat(timespec="seconds"),
        "database": report.database,
        "certificates": report.certificates,
        "files": report.files,
    }
    (destination / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return report


def restore(source: Path, *, replace: bool = False) -> BackupReport:
    """Put a backup made by :func:`backup` back into this instance. Refuses to overwrite an
    existing database unless ``replace``; checks every file's SHA-256 first."""
    manifest_path = source / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{source} has no {MANIFEST}: it is not a backup made by this app.")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for relative, expected in manifest["files"].items():
        path = source / relative
        if not path.is_file() or _sha256(path) != expected:
            raise BackupError(f"{relative} is missing or damaged in the backup: nothing restored.")
    report = BackupReport(source, manifest["database"], dict(manifest["files"]))
    database = _sqlite_path()
    if manifest["database"] == "sqlite":
        if database is None:
            raise BackupError(
                "This backup holds a SQLite database, but this instance uses PostgreSQL."
            )
        if database.exists() and not replace:
            raise BackupError(f"{database} exists: pass --replace to overwrite it.")
        db.session.remove()
        db.engine.dispose()  # no pooled connection may keep the old file open
        for leftover in (database.with_name(database.name + s) for s in ("-wal", "-shm")):
            leftover.unlink(missing_ok=True)
        database.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / DATABASE_FILE, database)
    instance = Path(current_app.instance_path)
    for name in (*INSTANCE_ENTRIES, *OLD_INSTANCE_ENTRIES):
        entry = source / name
        if entry.is_dir():
            shutil.copytree(entry, instance / name, dirs_exist_ok=True)
        elif entry.is_file() and (replace or not (instance / name).exists()):
            shutil.copy2(entry, instance / name)
    return report


def database_is_behind() -> bool:
    """Whether the database was last migrated by an earlier release, as a restored backup
    of one is: it needs `init-db` before this release can read it. A database that was
    never migrated (built directly from the models, as the tests build theirs) is not."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = current_app.extensions["migrate"].migrate.get_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return bool(current) and current != heads


@dataclass(frozen=True)
class CertificateCheck:
    checked: int
    problems: tuple[str, ...]  # one sentence per certificate that does not check out


def check_certificates(batch: int = 200) -> CertificateCheck:
    """Every issued certificate's stored PDF hashes to its recorded SHA-256, and its seals
    (one per partner body) validate against the configured trust roots."""
    roots = trust_roots(current_settings().trust_root_paths)
    expected_seals = expected_seal_fields()
    problems: list[str] = []
    checked = 0
    last_id = 0
    while True:
        rows = db.session.execute(
            sa.select(Certificate.id, Certificate.code, CertificatePdf.pdf, Certificate.pdf_sha256)
            .join(CertificatePdf, CertificatePdf.certificate_id == Certificate.id, isouter=True)
            .where(Certificate.id > last_id)
            .order_by(Certificate.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        for certificate_id, code, pdf, recorded in rows:
            last_id = certificate_id
            checked += 1
            if pdf is None or hashlib.sha256(pdf).hexdigest() != recorded:
                problems.append(f"{code}: the stored PDF does not match its SHA-256.")
                continue
            if not seals_hold(check_seals(pdf, roots), expected_seals):
                problems.append(f"{code}: its seals do not validate against the trust roots.")
    return CertificateCheck(checked, tuple(problems))


def pg_dump_hint() -> str:
    url = sa.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    stamp = dt.date.today().isoformat()
    return (
        "PostgreSQL: back the database up with pg_dump, at the same time, e.g.\n"
        f"  pg_dump --format=custom --file=certification-{stamp}.dump"
        f" --host={url.host or 'localhost'} --username={url.username or 'postgres'}"
        f" {url.database}\n"
        "and restore it with pg_restore --clean --if-exists --dbname=... before running"
        " `restore` for the files."
    )
