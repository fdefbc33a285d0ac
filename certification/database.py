"""How the database is used per request: one transaction, committed once, and SQLite tuned
so that several gunicorn workers can share one file."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response
from sqlalchemy import event

from certification.extensions import db


def init_app(app: Flask) -> None:
    app.after_request(_commit_or_rollback)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _tune_sqlite)
            event.listen(db.engine, "savepoint", _begin_before_first_savepoint)


def _commit_or_rollback(response: Response) -> Response:
    """Commit what the request's services flushed, unless the answer reports a failure."""
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers go on while one worker writes; the busy timeout makes a second
    # writer wait for the first instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_before_first_savepoint(connection: Any, _name: Any) -> None:
    # Python's sqlite3 opens a transaction only before an INSERT, UPDATE or DELETE. A
    # SAVEPOINT sent first (a service's begin_nested before any write) would then be a
    # transaction of its own, and its RELEASE would commit at once: a request that fails
    # afterwards could not roll it back. Open the outer transaction first.
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")
