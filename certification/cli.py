"""``flask --app certification ...`` commands. Each runs its services and commits once."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from certification.auth.services import create_admin, create_api_token, get_user_by_email
from certification.errors import ServiceError
from certification.extensions import db


def register_commands(app: Flask) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(create_api_token_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(make_demo_keys_command)
    app.cli.add_command(sample_certificate_command)


def _fail(refusal: ServiceError) -> None:
    db.session.rollback()
    details = "".join(f"\n  {field}: {message}" for field, message in refusal.fields.items())
    raise click.ClickException(refusal.message + details)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database schema, or upgrade it to the latest migration. Safe to re-run."""
    Path(current_app.instance_path).mkdir(parents=True, exist_ok=True)  # the SQLite file's home
    upgrade()
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


@click.command("create-admin")
@with_appcontext
@click.argument("email")
@click.option("--name", required=True, help="The administrator's full name.")
def create_admin_command(email: str, name: str) -> None:
    """Create an administrator. Asks for the password twice, or reads it from piped stdin."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = create_admin(email, name, password, actor=None)
    except ServiceError as refusal:
        _fail(refusal)
    db.session.commit()
    click.echo(f"Administrator {user.email} created.")


@click.command("create-api-token")
@with_appcontext
@click.argument("email")
@click.option("--label", default="", help="What the token is for, e.g. the LMS's name.")
def create_api_token_command(email: str, label: str) -> None:
    """Create an API token for an administrator and print it (the last line of output)."""
    user = get_user_by_email(email)
    if user is None or not user.is_admin:
        raise click.ClickException(f"There is no administrator with the e-mail {email}.")
    try:
        token = create_api_token(user, label)
    except ServiceError as refusal:
        _fail(refusal)
    db.session.commit()
    click.echo("Keep this token secret; it is shown only once:", err=True)
    click.echo(token)


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Fill an empty database with a realistic demo and print its logins."""
    from certification.demo import DEMO_LOGINS_FILE, database_is_empty, seed_demo
    from certification.web import today

    logins = Path(current_app.instance_path) / DEMO_LOGINS_FILE
    logins.parent.mkdir(parents=True, exist_ok=True)
    _ensure_demo_keys()
    if database_is_empty():
        written = seed_demo(today())
        db.session.commit()
        logins.write_text(written, encoding="utf-8")
        logins.chmod(0o600)
        click.echo("Demo data created.")
    if logins.exists():
        click.echo(logins.read_text(encoding="utf-8"))
    else:
        click.echo("The database already has data; no demo logins to show.")


def _ensure_demo_keys() -> bool:
    """Make the demo CA and seals unless every configured key file exists already."""
    from certification.certificates.branding import DEFAULT_PARTNER_BODIES
    from certification.certificates.settings import current_settings
    from certification.certificates.signing import make_demo_keys

    settings = current_settings()
    wanted = [k.pkcs12_path for k in settings.seal_keys] + list(settings.trust_root_paths)
    if all(path.exists() for path in wanted):
        return False
    folder = Path(current_app.instance_path) / "keys"
    make_demo_keys(folder, {str(b["short_name"]): str(b["name"]) for b in DEFAULT_PARTNER_BODIES})
    click.echo(f"Demo signing keys created in {folder} (a local CA: not for real certificates).")
    return True


@click.command("make-demo-keys")
@with_appcontext
def make_demo_keys_command() -> None:
    """Create a demo certificate authority and a seal per partner body in instance/keys."""
    if not _ensure_demo_keys():
        click.echo("The configured seal keys exist already; nothing to do.")


@click.command("sample-certificate")
@click.argument("output", type=click.Path(dir_okay=False, writable=True))
@click.option("--name", default="Αικατερίνη Παπαδοπούλου-Wiśniewska", help="The holder's name.")
@with_appcontext
def sample_certificate_command(output: str, name: str) -> None:
    """Render and seal a sample certificate to OUTPUT (nothing is stored)."""
    from certification.certificates.services import sample_certificate

    _ensure_demo_keys()
    sample = sample_certificate(name)
    Path(output).write_bytes(sample.pdf)
    click.echo(f"Sample certificate {sample.code} written to {output} (a sample; not stored).")
