"""How the database is used per request: one transaction, committed once, and SQLite tuned
so that several gunicorn workers can share one file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
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
    if not db.session.registry.has():  # the request never used the database
        return response
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


class PreparedRead:
    """One SELECT, compiled once per database, run on a pooled DBAPI connection without a
    Session, its values converted by the columns' own types.

    For the busiest read of the site only (the public look-up of a certificate, once per
    verifier's request): a Session query costs about 1.4 million instructions there, this
    0.25 million (callgrind, bench/bench_verify.py). It reads committed rows in a short
    transaction of its own, and writes nothing.

    While anything listens to the engine's statements (a tracer, Flask-SQLAlchemy's query
    recording, the test that counts statements per page), the same SQL goes through an
    engine connection instead, so that the read is seen like every other.
    """

    def __init__(self, statement: sa.Select[*tuple[Any, ...]]) -> None:
        self._statement = statement
        self._compiled: dict[str, _Compiled] = {}
        self._converters: dict[str, tuple[Any, ...]] = {}

    def first(self, **params: Any) -> dict[str, Any] | None:
        """The first row, by column name, or None."""
        engine = db.engine
        dialect = engine.dialect
        compiled = self._compiled.get(dialect.name) or self._compile(dialect)
        if engine.dispatch.before_cursor_execute or engine.dispatch.after_cursor_execute:
            return self._first_observed(engine, compiled, params)
        connection = engine.raw_connection()
        # One statement needs no transaction: psycopg would open one (BEGIN) and the pool
        # close it (ROLLBACK), two more round trips to the server. SQLAlchemy's own ping
        # does the same. (Python's sqlite3 opens none before a SELECT.)
        autocommit = dialect.name == "postgresql"
        try:
            if autocommit:
                connection.dbapi_connection.autocommit = True  # type: ignore[union-attr]
            cursor = connection.cursor()
            try:
                cursor.execute(compiled.sql, compiled.arguments(params))
                row = cursor.fetchone()
                converters = self._converters.get(dialect.name)
                if converters is None:
                    converters = self._learn_converters(dialect, cursor.description)
            finally:
                cursor.close()
                if autocommit:
                    connection.dbapi_connection.autocommit = False  # type: ignore[union-attr]
        finally:
            connection.close()  # back to the pool
        return self._by_name(compiled, converters, row)

    def _first_observed(
        self, engine: sa.Engine, compiled: _Compiled, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        with engine.connect() as connection:
            result = connection.exec_driver_sql(compiled.sql, compiled.arguments(params))
            converters = self._converters.get(engine.dialect.name)
            if converters is None:
                converters = self._learn_converters(engine.dialect, result.cursor.description)
            row = result.fetchone()
        return self._by_name(compiled, converters, row)

    @staticmethod
    def _by_name(
        compiled: _Compiled, converters: tuple[Any, ...], row: Any
    ) -> dict[str, Any] | None:
        if row is None:
            return None
        return {
            name: convert(value) if convert else value
            for name, convert, value in zip(compiled.names, converters, row, strict=True)
        }

    def _compile(self, dialect: sa.Dialect) -> _Compiled:
        compiled = self._statement.compile(dialect=dialect)
        found = _Compiled(
            sql=compiled.string,
            positions=tuple(compiled.positiontup) if compiled.positiontup else None,
            binds={
                name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                for name, bind in compiled.binds.items()
            },
            names=tuple(str(column.key) for column in self._statement.selected_columns),
        )
        self._compiled[dialect.name] = found
        return found

    def _learn_converters(self, dialect: sa.Dialect, description: Any) -> tuple[Any, ...]:
        # Some drivers' converters depend on the type code the cursor reports (psycopg's
        # numerics), so they are made from the first answer's description.
        converters = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, described[1])
            for column, described in zip(self._statement.selected_columns, description, strict=True)
        )
        self._converters[dialect.name] = converters
        return converters


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positions: tuple[str, ...] | None  # the order of the parameters, for qmark (SQLite)
    binds: dict[str, Any]
    names: tuple[str, ...]

    def arguments(self, params: dict[str, Any]) -> Any:
        values = {
            name: (convert(value) if (convert := self.binds.get(name)) else value)
            for name, value in params.items()
        }
        if self.positions is None:
            return values
        return tuple(values[name] for name in self.positions)
