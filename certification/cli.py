"""``flask --app certification ...`` commands. Each runs its services and commits once."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from certification.audit import record_event
from certification.auth.models import Role
from certification.auth.services import (
    create_admin,
    create_api_token,
    create_staff,
    get_user_by_email,
)
from certification.backup import CertificateCheck
from certification.catalogue.services import find_provider
from certification.errors import NotFound, ServiceError
from certification.extensions import db
from certification.imports.models import ImportKind
from certification.imports.services import (
    ImportRefused,
    ImportReport,
    commit_import,
    preview_import,
)
from certification.languages import LANGUAGE_NAMES
from certification.records.standings import refresh_standings, standings_missing


def register_commands(app: Flask) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(refresh_standings_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(create_api_token_command)
    app.cli.add_command(reset_second_factor_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(check_certificates_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(make_demo_keys_command)
    app.cli.add_command(issue_credentials_command)
    app.cli.add_command(sample_certificate_command)
    app.cli.add_command(issue_eligible_command)
    app.cli.add_command(import_csv_command)
    app.cli.add_command(set_approval_command)


def _fail(refusal: ServiceError) -> None:
    db.session.rollback()
    details = "".join(f"\n  {field}: {message}" for field, message in refusal.fields.items())
    raise click.ClickException(refusal.message + details)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database schema, or upgrade it to the latest migration. Safe to re-run."""
    from certification.web import today

    Path(current_app.instance_path).mkdir(parents=True, exist_ok=True)  # the SQLite file's home
    upgrade()
    if standings_missing():  # a register upgraded to the release that added them
        count = refresh_standings(None, today())
        db.session.commit()
        click.echo(f"Worked out the standings of {count} candidates.")
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


@click.command("refresh-standings")
@with_appcontext
def refresh_standings_command() -> None:
    """Work out every candidate's standing towards every programme again, from scratch.

    They are kept up to date on every write; this is for after changing the database
    behind the application's back."""
    from certification.web import today

    count = refresh_standings(None, today())
    db.session.commit()
    click.echo(f"Worked out the standings of {count} candidates.")


@click.command("create-admin")
@with_appcontext
@click.argument("email")
@click.option("--name", required=True, help="The administrator's full name.")
def create_admin_command(email: str, name: str) -> None:
    """Create a programme-office user (as ``create-user --role office``). Asks for the
    password twice, or reads it from piped stdin."""
    password = _new_password()
    try:
        user = create_admin(email, name, password, actor=None)
    except ServiceError as refusal:
        _fail(refusal)
    db.session.commit()
    click.echo(f"Administrator {user.email} created.")


def _new_password() -> str:
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


# The roles this command creates, and how the output names them. Course-provider staff
# ("provider", with --provider CODE) come with the providers themselves.
STAFF_ROLE_NAMES = {"office": Role.OFFICE, "officer": Role.OFFICER, "provider": Role.PROVIDER}
ROLE_WORDS = {
    Role.OFFICE: "Programme-office user",
    Role.OFFICER: "Officer",
    Role.PROVIDER: "Provider staff member",
}


def _partner_body_names() -> list[str]:
    from certification.certificates.branding import DEFAULT_PARTNER_BODIES

    return [str(body["short_name"]) for body in DEFAULT_PARTNER_BODIES]


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option(
    "--role",
    "role_name",
    required=True,
    type=click.Choice(list(STAFF_ROLE_NAMES)),
    help="office: the programme office; officer: an officer of one partner body; provider:"
    " staff of one course provider.",
)
@click.option("--name", required=True, help="The person's full name.")
@click.option(
    "--body",
    type=click.Choice(_partner_body_names(), case_sensitive=False),
    default=None,
    help="The officer's partner body (officers only).",
)
@click.option(
    "--provider",
    "provider_name",
    default=None,
    help="The course provider, by its name in the catalogue (provider staff only).",
)
def create_user_command(
    email: str, role_name: str, name: str, body: str | None, provider_name: str | None
) -> None:
    """Create a programme-office user, a partner body's officer or a course provider's
    staff member; all set up the second factor at their first login. Asks for the password
    twice, or reads it from piped stdin."""
    role = STAFF_ROLE_NAMES[role_name]
    provider = None
    if role is Role.PROVIDER:
        if not provider_name:
            raise click.UsageError("Provider staff belong to one provider: add --provider NAME.")
        provider = find_provider(provider_name)
        if provider is None:
            raise click.UsageError(
                f"There is no provider named {provider_name!r} in the catalogue"
                " (Catalogue › Providers lists them)."
            )
    elif provider_name:
        raise click.UsageError("--provider is for provider staff only.")
    if role is Role.OFFICER and body is None:
        raise click.UsageError(
            "An officer belongs to one partner body: add --body EFRS or EuSoMII."
        )
    if role is not Role.OFFICER and body is not None:
        raise click.UsageError(
            "--body is for officers only: the programme office serves both bodies."
        )
    password = _new_password()
    try:
        user = create_staff(
            email,
            name,
            password,
            role,
            body,
            actor=None,
            provider_id=provider.id if provider else None,
        )
    except ServiceError as refusal:
        _fail(refusal)
    db.session.commit()
    of_body = f" of {user.partner_body}" if user.partner_body else ""
    if provider is not None:
        of_body = f" of {provider.name}"
    click.echo(f"{ROLE_WORDS[role]}{of_body} {user.email} created.")


@click.command("create-api-token")
@with_appcontext
@click.argument("email")
@click.option("--label", default="", help="What the token is for, e.g. the LMS's name.")
@click.option(
    "--valid-days",
    type=click.IntRange(min=1),
    default=None,
    help="Days until the token stops working (default: until it is revoked).",
)
def create_api_token_command(email: str, label: str, valid_days: int | None) -> None:
    """Create an API token for an office user or an officer and print it (the last line of
    output). The token may call what its user's role may."""
    user = get_user_by_email(email)
    if user is None or not user.is_staff:
        raise click.ClickException(
            f"There is no office user, officer or provider staff member with the e-mail {email}."
        )
    try:
        token = create_api_token(user, label, valid_days=valid_days)
    except ServiceError as refusal:
        _fail(refusal)
    db.session.commit()
    click.echo("Keep this token secret; it is shown only once:", err=True)
    click.echo(token)


@click.command("reset-second-factor")
@with_appcontext
@click.argument("email")
def reset_second_factor_command(email: str) -> None:
    """Forget an administrator's authenticator app and recovery codes (a lost phone); they
    set up a new one at their next login. Their sessions end."""
    from certification.auth.second_factor import reset_second_factor

    user = get_user_by_email(email)
    if user is None or not user.is_staff:
        raise click.ClickException(f"There is no administrator with the e-mail {email}.")
    reset_second_factor(user, None)
    db.session.commit()
    click.echo(f"{email} sets up a new authenticator at their next login.")


@click.command("backup")
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(destination: Path) -> None:
    """Copy the database (SQLite, online; it holds the branding images), the seal keys and
    the instance config into DESTINATION, a new folder, with a manifest of SHA-256 sums."""
    from certification.backup import BackupError, backup, pg_dump_hint

    try:
        report = backup(destination)
    except BackupError as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(
        f"Backed up {len(report.files)} files ({report.certificates} certificates) to"
        f" {report.folder}."
    )
    if report.database != "sqlite":
        click.echo(pg_dump_hint())


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite the database and config that exist.")
@with_appcontext
def restore_command(source: Path, replace: bool) -> None:
    """Put a backup back, then check that every certificate still verifies."""
    from certification.backup import BackupError, check_certificates, database_is_behind, restore

    try:
        restore(source, replace=replace)
    except BackupError as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(f"Restored from {source}.")
    if database_is_behind():
        click.echo(
            "Its database is from an earlier release: run `flask --app certification init-db`"
            " to bring it up to date, then `flask --app certification check-certificates`."
        )
        return
    _report_certificate_check(check_certificates())


@click.command("check-certificates")
@with_appcontext
def check_certificates_command() -> None:
    """Check every issued certificate: its PDF matches its SHA-256 and both seals validate."""
    from certification.backup import check_certificates

    _report_certificate_check(check_certificates())


def _report_certificate_check(check: CertificateCheck) -> None:
    for problem in check.problems:
        click.echo(f"  {problem}")
    if check.problems:
        raise click.ClickException(
            f"{len(check.problems)} of {check.checked} certificates do not check out."
        )
    click.echo(
        f"{check.checked} certificates checked: every PDF matches its SHA-256 and both seals"
        " are valid."
    )


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
    from certification.certificates.signing import SealKey, make_demo_keys

    settings = current_settings()
    made = _ensure_demo_credential_keys()
    wanted = [
        k.pkcs12_path
        for k in settings.seal_keys
        if isinstance(k, SealKey)  # not in an HSM
    ] + list(settings.trust_root_paths)
    config, instance = current_app.config, Path(current_app.instance_path)
    if not config.get("TSA_URL"):  # the demo's local timestamp authority and its CA's CRL
        local = [p for p in (config.get("TSA_LOCAL_KEY"), *config.get("SIGNING_CRLS", ())) if p]
        wanted += [Path(p) if Path(p).is_absolute() else instance / p for p in local]
    if all(path.exists() for path in wanted):
        return made
    folder = Path(current_app.instance_path) / "keys"
    make_demo_keys(folder, {str(b["short_name"]): str(b["name"]) for b in DEFAULT_PARTNER_BODIES})
    click.echo(f"Demo signing keys created in {folder} (a local CA: not for real certificates).")
    return True


def _ensure_demo_credential_keys() -> bool:
    """Make each body's signing key for credentials where its configured file is missing."""
    from certification.credentials.keys import make_credential_key

    instance = Path(current_app.instance_path)
    made = False
    for entries in current_app.config["CREDENTIAL_KEYS"].values():
        path = Path(entries[0]["key"])
        path = path if path.is_absolute() else instance / path
        if not path.exists():
            make_credential_key(path)
            click.echo(f"Demo credential key created: {path} (not for real credentials).")
            made = True
    return made


@click.command("issue-credentials")
@with_appcontext
def issue_credentials_command() -> None:
    """Sign a credential for each current certificate issued before credentials were."""
    from certification.credentials.services import issue_missing_credentials

    made = issue_missing_credentials()
    db.session.commit()
    click.echo(f"{made} credentials issued.")


@click.command("make-demo-keys")
@with_appcontext
def make_demo_keys_command() -> None:
    """Create a demo certificate authority and a seal per partner body in instance/keys."""
    if not _ensure_demo_keys():
        click.echo("The configured seal keys exist already; nothing to do.")


@click.command("set-approval")
@with_appcontext
@click.argument("programme_code")
@click.argument("policy", type=click.Choice(["both_bodies", "office"]))
@click.option(
    "--decision",
    required=True,
    help="Where both bodies decided it (a reference kept in the audit trail).",
)
def set_approval_command(programme_code: str, policy: str, decision: str) -> None:
    """Record the partner bodies' decision on who approves a programme's certificates:
    both_bodies (each body before its seal) or office (delegated to the programme office).
    Nobody sets office through the web or the API."""
    from certification.catalogue.services import get_programme, programme_as_input, update_programme
    from certification.web import today

    try:
        programme = get_programme(programme_code)
        data = dataclasses.replace(programme_as_input(programme), approval=policy)
        update_programme(programme, data, None, today=today())
        record_event(
            None,
            "programme.approval_set",
            "programme",
            programme.code,
            after={"approval": policy, "decision": decision},
        )
    except ServiceError as refusal:
        _fail(refusal)
    db.session.commit()
    click.echo(f"{programme.code}: certificates are now approved by {policy.replace('_', ' ')}.")


@click.command("sample-certificate")
@click.argument("output", type=click.Path(dir_okay=False, writable=True))
@click.option("--name", default="Αικατερίνη Παπαδοπούλου-Wiśniewska", help="The holder's name.")
@click.option(
    "--language",
    type=click.Choice(list(LANGUAGE_NAMES)),
    default="en",
    show_default=True,
    help="The holder's language, printed beside English (any catalogue, complete or not).",
)
@with_appcontext
def sample_certificate_command(output: str, name: str, language: str) -> None:
    """Render a sample certificate to OUTPUT (nothing is stored), sealed with throwaway keys
    made for it: never with the bodies' own."""
    from certification.certificates.services import sample_certificate

    sample = sample_certificate(name, language=language)
    Path(output).write_bytes(sample.pdf)
    click.echo(f"Sample certificate {sample.code} written to {output} (a sample; not stored).")


@click.command("import-csv")
# An attendance list needs its event stated, which the office does on the imports page.
@click.argument(
    "kind",
    type=click.Choice([kind.value for kind in ImportKind if kind is not ImportKind.ATTENDANCE]),
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--commit", is_flag=True, help="Write the rows: all of them, or none if any is bad.")
@click.option(
    "--invite/--no-invite",
    default=True,
    show_default=True,
    help="With --commit, e-mail each new candidate a link to set their password.",
)
@with_appcontext
def import_csv_command(kind: str, file: Path, commit: bool, invite: bool) -> None:
    """Import candidates, credits or results from a CSV FILE.

    Without --commit, a preview: every problem is listed and nothing is written. The exit
    status is 1 when any row is bad, and then nothing is imported.
    """
    from certification.web import today

    data = file.read_bytes()
    try:
        if commit:
            report = commit_import(
                ImportKind(kind),
                data,
                actor=None,
                today=today(),
                filename=file.name,
                invite=invite,  # only an import of candidates creates anyone to invite
            )
        else:
            report = preview_import(ImportKind(kind), data, today=today())
    except ImportRefused as refusal:
        db.session.rollback()
        _echo_import_report(refusal.report)
        raise click.ClickException(refusal.message) from None
    _echo_import_report(report)
    if not report.ok:
        raise click.ClickException(
            f"{len(report.problems)} {'problem' if len(report.problems) == 1 else 'problems'};"
            " nothing was imported."
        )
    if commit:
        db.session.commit()
        click.echo(f"Imported {file.name}: {report.counts}.")
    else:
        click.echo(
            f"Preview of {file.name}, nothing written: {report.counts}."
            " Run again with --commit to import."
        )


def _echo_import_report(report: ImportReport) -> None:
    read_as = [
        report.encoding,
        report.delimiter and f"{report.delimiter}-separated",
        report.date_format and f"dates as {report.date_format}",
    ]
    details = ", ".join(part for part in read_as if part)
    click.echo(f"{report.rows_read} rows read" + (f" ({details})." if details else "."))
    if report.extra_columns:
        click.echo(f"Columns left out: {', '.join(report.extra_columns)}.")
    for problem in report.problems:
        where = f"row {problem.row}, {problem.column}" if problem.column else f"row {problem.row}"
        click.echo(f"  {where}: {problem.message}")


@click.command("issue-eligible")
@click.argument("programme_code")
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=None,
    help="Processes that render and seal (default: ISSUE_PROCESSES, every core).",
)
@with_appcontext
def issue_eligible_command(programme_code: str, processes: int | None) -> None:
    """Issue the award PROGRAMME_CODE to every eligible candidate who does not hold it, or,
    for an award both partner bodies approve, request it for them (each request then awaits
    an officer of each body).

    The same job as "Issue to everyone eligible" on the administrators' pages, run here
    with a progress bar; an unfinished job for the award is carried on. Each batch of
    certificates is committed as it is done.
    """
    from certification.catalogue.models import ApprovalPolicy
    from certification.catalogue.services import get_programme
    from certification.certificates import bulk
    from certification.certificates.models import IssueJobStatus
    from certification.web import today

    try:
        programme = get_programme(programme_code)
        job = bulk.start_issue_job(programme, None, today=today(), queue=False)
    except bulk.JobAlreadyRunning as running:
        db.session.rollback()
        job = bulk.get_issue_job(running.job_id)
        click.echo(f"Job {job.id} for this award is unfinished: carrying on with it.")
    except NotFound as refusal:
        _fail(refusal)
    except ServiceError as refusal:  # nobody is waiting: nothing to do, and no error
        db.session.rollback()
        click.echo(refusal.message)
        return
    else:
        db.session.commit()
        if programme.approval is ApprovalPolicy.BOTH_BODIES:
            click.echo(
                f"Job {job.id}: requesting the {programme.title} for {job.total} candidates;"
                " each request then awaits approval by both partner bodies."
            )
        else:
            click.echo(f"Job {job.id}: issuing the {programme.title} to {job.total} candidates.")
    # "requested" for an award both bodies approve: nothing is issued before they do.
    done = "requested" if job.programme.approval is ApprovalPolicy.BOTH_BODIES else "issued"
    job_id, total = job.id, job.total
    seen = bulk.job_progress(job, failures=0).settled
    label = "Requesting" if done == "requested" else "Issuing"
    with click.progressbar(length=total, label=label, show_pos=True) as bar:
        bar.update(seen)

        def advance(progress: bulk.JobProgress) -> None:
            nonlocal seen
            bar.label = f"{progress.issued} {done}, {progress.failed + progress.skipped} not"
            bar.update(progress.settled - seen)
            seen = progress.settled

        outcome = bulk.run_issue_job(
            job_id, today=today(), processes=processes, on_progress=advance
        )
    skipped = "already held, requested or on hold" if done == "requested" else "already held"
    if outcome is None:
        raise click.ClickException(
            f"Job {job_id} is being run by a queue worker right now; follow it on"
            f" /admin/jobs/{job_id}."
        )
    click.echo(
        f"Job {job_id}: {outcome.issued} {done}, {outcome.failed} not {done},"
        f" {outcome.skipped} skipped ({skipped}), {outcome.remaining} remaining,"
        f" of {outcome.total}."
    )
    for failure in outcome.failures:
        click.echo(f"  {failure.candidate_name}: {failure.reason}")
    if outcome.status is IssueJobStatus.FAILED:
        raise click.ClickException(outcome.error or "The job stopped.")
