"""The EFRS–EuSoMII European Certificate and Diploma in Imaging Informatics."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response

from certification import config as default_config
from certification.auth.sessions import CookieSessions
from certification.extensions import csrf, db, login_manager, migrate
from certification.verify.throttle import init_limiter

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints. Nothing else."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_object(default_config)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_mapping(default_config.from_environment(os.environ))
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "certification.sqlite"
        )
    _require_secret_key(app)

    app.session_interface = CookieSessions()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    # Templates get the user lazily (web.init_app): Flask-Login's own context processor
    # loads it for every page, a verifier's too.
    login_manager.init_app(app, add_context_processor=False)
    csrf.init_app(app)
    init_limiter(app)

    from certification import (
        database,
        models,  # noqa: F401  (registers every table, for Alembic)
        queue,
        security,
        web,
    )
    from certification.admin import bp as admin_bp
    from certification.api import bp as api_bp
    from certification.api import reference_bp as api_reference_bp
    from certification.auth.views import bp as auth_bp
    from certification.catalogue.wording import translations_in
    from certification.certificates.settings import seal_keys_from
    from certification.cli import register_commands

    # Listens for issued certificates, and signs each one's credential in that transaction.
    from certification.credentials import services as credential_services  # noqa: F401
    from certification.credentials.keys import check_setting
    from certification.portal import bp as portal_bp
    from certification.portal import notice_bp as privacy_notice_bp
    from certification.tasks import register_tasks
    from certification.verify import bp as verify_bp
    from certification.verify import credentials_bp

    database.init_app(app)
    queue.init_app(app)
    register_tasks()  # the receivers that queue work after a commit
    # The catalogue's translations reach the pages through i18n, which sits below it.
    web.init_app(app, catalogue_translations=translations_in)
    security.init_app(app)
    seal_keys_from(app.config["SEAL_KEYS"], Path)  # a malformed entry stops the app here
    check_setting(app.config["CREDENTIAL_KEYS"])
    app.register_blueprint(auth_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(privacy_notice_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_reference_bp)
    app.register_blueprint(verify_bp)
    app.register_blueprint(credentials_bp)
    register_commands(app)
    app.after_request(_no_store_for_private_pages)
    return app


def _require_secret_key(app: Flask) -> None:
    """Refuse to run in production without a real secret; make a throwaway one otherwise."""
    key = app.config.get("SECRET_KEY")
    if key and key not in default_config.PLACEHOLDER_SECRETS:
        return
    if app.debug or app.testing:
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        return
    raise RuntimeError(
        "SECRET_KEY is missing or a placeholder. Set it in instance/config.py or the SECRET_KEY"
        " environment variable, e.g. SECRET_KEY=$(python3 -c 'import secrets;"
        " print(secrets.token_hex(32))')."
    )


def _no_store_for_private_pages(response: Response) -> Response:
    # Pages behind a login carry personal data: never let a shared cache or the back button
    # of a shared computer keep them.
    from certification.auth.sessions import logged_in

    if logged_in():
        response.headers["Cache-Control"] = "no-store"
    return response
