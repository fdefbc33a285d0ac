"""Counting verifiers' look-ups without a write per look-up.

Every look-up by a verifier is counted — its day and outcome, never who asked — so that a
holder and the administrators see "verified 12 times, last on 3 March". Writing a row and
committing on every look-up would make the busiest page of the site, the one every QR scan
opens, a write: on SQLite a lock that every worker queues for, and a flush to disk each
time on any database. So each process keeps the look-ups it answered in memory and writes
them all in one INSERT about a second later, in a transaction of its own, from a timer
thread (and at exit). The page itself only reads.

What this gives up: a process that is killed outright loses at most its last second of
counts (never a certificate or its status: those are only ever read here). A count shown
on a page is the database's plus the look-ups this process has not written yet; another
worker's last second may show a moment later.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app

from certification.certificates.models import Verification
from certification.extensions import db

log = logging.getLogger(__name__)

# How long a counted look-up may wait in memory before it is written.
WRITE_AFTER_SECONDS = 1.0
WAIT_FOR_A_WRITE_SECONDS = 0.5

# Per certificate id: how many look-ups, and when the last.
Counts = dict[int, tuple[int, dt.datetime | None]]


class LookUpCounter:
    """The look-ups one app in one process has answered and not yet written."""

    def __init__(self, app: Flask) -> None:
        # A weak reference: a test run makes hundreds of apps, and a pending write must
        # not keep each of them (and its database engine) alive.
        self._app = weakref.ref(app)
        self._lock = threading.Lock()  # guards the list and the timer
        self._writing = threading.Lock()  # held while rows are neither waiting nor written
        self._waiting: list[dict[str, Any]] = []
        self._timer: threading.Timer | None = None

    def count(self, certificate_id: int, outcome: str, channel: str, at: dt.datetime) -> None:
        row = {
            "certificate_id": certificate_id,
            "verified_at": at,
            "outcome": outcome,
            "channel": channel,
        }
        with self._lock:
            self._waiting.append(row)
            if self._timer is None:
                self._timer = threading.Timer(WRITE_AFTER_SECONDS, self.write)
                self._timer.daemon = True
                self._timer.start()

    def write(self) -> int:
        """Write every look-up waiting, in one transaction of its own; how many. (The timer
        calls it; so does whoever must see every count written now: an app shutting down.)"""
        with self._writing:
            with self._lock:
                rows, self._waiting, timer, self._timer = self._waiting, [], self._timer, None
            if timer is not None:
                timer.cancel()  # harmless from the timer's own thread: it has already fired
            app = self._app()
            if not rows or app is None:
                return 0
            try:
                with app.app_context(), db.engine.begin() as connection:
                    connection.execute(sa.insert(Verification), rows)
            except Exception:
                # Counts are statistics: losing them must never take a worker down with it.
                log.exception("%d verification look-ups could not be counted", len(rows))
                return 0
            return len(rows)

    def add_waiting(
        self, certificate_ids: Iterable[int], read_written: Callable[[], Counts]
    ) -> Counts:
        """The counts ``read_written`` reads from the database, plus the look-ups still
        waiting here: read while no write is under way, so that none is missed or counted
        twice. (Should a write be stuck — on SQLite, behind this very request's own write
        lock — the answer goes on after a moment without waiting for it.)"""
        wanted = set(certificate_ids)
        writing_paused = self._writing.acquire(timeout=WAIT_FOR_A_WRITE_SECONDS)
        try:
            counts = read_written()
            with self._lock:
                rows = [r for r in self._waiting if r["certificate_id"] in wanted]
        finally:
            if writing_paused:
                self._writing.release()
        for row in rows:
            written, last = counts.get(row["certificate_id"], (0, None))
            at = row["verified_at"]
            counts[row["certificate_id"]] = (written + 1, max(at, last) if last else at)
        return counts


_counters: weakref.WeakSet[LookUpCounter] = weakref.WeakSet()


def counter() -> LookUpCounter:
    """The current app's counter, made on first use."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found: LookUpCounter | None = app.extensions.get("look_up_counter")
    if found is None:
        found = app.extensions["look_up_counter"] = LookUpCounter(app)
        _counters.add(found)
    return found


@atexit.register
def _write_before_exit() -> None:
    # A worker stopped in good order (a deploy, gunicorn's max-requests) keeps every count.
    for pending in list(_counters):
        pending.write()
