"""How long a CSV import of 10,000 credit rows takes, against just reading the CSV.

Run: ``.venv/bin/python bench/bench_import.py``. Not a test: it prints seconds for

1. the BARE baseline: decoding the file and splitting it into cells with ``csv.reader``;
2. ``preview_import`` of 10,000 credit rows (2,000 candidates x 5 courses, semicolons,
   DD.MM.YYYY dates), on a temporary SQLite database;
3. ``commit_import`` of the same file, with the commit;
4. previewing the same file again (every row "already recorded");
5. for comparison, single entry: ``record_credit`` once per row for 1,000 rows, extrapolated
   to 10,000 (what an import that called it per row would cost);

then the peak memory traced while previewing and committing (tracemalloc, in a separate run
so that tracing does not slow the timings), and the verdict against the target of 10 s for
preview plus commit. Everything it makes lives in a temporary folder removed at the end.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask
from folder_app import app_in_folder  # this folder's, beside the script
from machine import describe

CANDIDATES = 2_000
COURSES = [f"EII-10{n}" for n in range(1, 6)]
TARGET_SECONDS = 10.0
PER_ROW_SAMPLE = 1_000
NAMES = [
    "Łukasz Wiśniewski",
    "Αικατερίνη Παπαδοπούλου",
    "Анастасия Кузнецова",
    "Þórunn Guðmundsdóttir",
]


def build_app(folder: Path) -> Flask:
    """An app on a fresh SQLite database in ``folder``, with five courses."""
    from certification.catalogue.services import CourseInput, create_course
    from certification.extensions import db

    app = app_in_folder(folder, QUEUE_URL="memory://")
    with app.app_context():
        db.create_all()
        for code in [*COURSES, "EII-199"]:
            create_course(CourseInput(code, "A course", Decimal(5), "AI", "EuSoMII"), None)
        db.session.commit()
    return app


def candidates_file() -> bytes:
    lines = ["email;full_name;country"]
    lines += [f"c{n}@example.org;{NAMES[n % len(NAMES)]};PL" for n in range(CANDIDATES)]
    return ("\n".join(lines) + "\n").encode()


def credits_file(today: dt.date) -> bytes:
    lines = ["Email;Course code;Completed on"]
    for n in range(CANDIDATES):
        for k, code in enumerate(COURSES):
            on = today - dt.timedelta(days=30 + (n + k) % 700)
            lines.append(f"c{n}@example.org;{code};{on:%d.%m.%Y}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def bare_parse(data: bytes) -> int:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";")
    return sum(1 for _ in reader)


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def traced_peak(work: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(folder: Path, *, trace: bool) -> dict[str, Any]:
    """One import on a fresh database: timings, or (``trace``) peak memory."""
    from certification.auth.services import get_user_by_email
    from certification.extensions import db
    from certification.imports.models import ImportKind
    from certification.imports.services import commit_import, preview_import
    from certification.records.services import record_credit
    from certification.web import today as programme_today

    app = build_app(folder)
    with app.test_request_context():
        today = programme_today()
    people, data = candidates_file(), credits_file(today)
    figures: dict[str, Any] = {"bytes": len(data)}
    with app.app_context():
        seconds, report = timed(
            lambda: commit_import(ImportKind.CANDIDATES, people, actor=None, today=today)
        )
        db.session.commit()
        assert report.new == CANDIDATES, report
        figures["candidates"] = seconds

    def preview() -> Any:
        with app.app_context():
            return preview_import(ImportKind.CREDITS, data, today=today)

    def commit() -> Any:
        with app.app_context():
            report = commit_import(ImportKind.CREDITS, data, actor=None, today=today)
            db.session.commit()
            return report

    if trace:
        figures["preview_peak"] = traced_peak(preview)
        figures["commit_peak"] = traced_peak(commit)
        app_engine_dispose(app)
        return figures

    figures["bare"], _ = timed(lambda: bare_parse(data))
    figures["preview"], report = timed(preview)
    assert report.ok and report.new == CANDIDATES * len(COURSES), report
    figures["rows"] = report.rows_read
    figures["commit"], report = timed(commit)
    figures["again"], report = timed(preview)
    assert report.new == 0 and report.already_recorded == figures["rows"], report

    with app.app_context():
        people_rows = [get_user_by_email(f"c{n}@example.org") for n in range(PER_ROW_SAMPLE)]

        def per_row() -> None:
            for person in people_rows:
                record_credit(person, "EII-199", today, actor=None, today=today)
            db.session.commit()

        seconds, _ = timed(per_row)
        figures["per_row_10k"] = seconds * figures["rows"] / PER_ROW_SAMPLE
    app_engine_dispose(app)
    return figures


def app_engine_dispose(app: Flask) -> None:
    from certification.extensions import db

    with app.app_context():
        db.engine.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-import-") as timing_folder:
        timings = run(Path(timing_folder), trace=False)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as memory_folder:
        memory = run(Path(memory_folder), trace=True)

    rows = timings["rows"]
    total = timings["preview"] + timings["commit"]
    print(f"CSV import of {rows:,} credit rows ({timings['bytes'] / 1024:.0f} KiB), SQLite")
    print(f"Machine: {describe(f'SQLite {sqlite3.sqlite_version}')}")
    print()
    lines = [
        ("bare: decode + csv.reader", timings["bare"]),
        ("preview_import", timings["preview"]),
        ("commit_import + commit", timings["commit"]),
        ("preview again (all already recorded)", timings["again"]),
        (f"(setup: {CANDIDATES:,} candidates imported)", timings["candidates"]),
        ("single entry, record_credit per row (est.)", timings["per_row_10k"]),
    ]
    width = max(len(name) for name, _ in lines)
    print(f"{'':<{width}}  {'seconds':>8}  {'rows/s':>9}")
    for name, seconds in lines:
        count = CANDIDATES if "candidates" in name else rows
        print(f"{name:<{width}}  {seconds:8.3f}  {count / seconds:9,.0f}")
    print()
    print(
        f"preview / bare = {timings['preview'] / timings['bare']:.1f}x;"
        f" commit / bare = {timings['commit'] / timings['bare']:.1f}x;"
        f" per-row single entry / (preview + commit) = {timings['per_row_10k'] / total:.1f}x"
    )
    for name in ("preview_peak", "commit_peak"):
        peak = memory[name]
        print(
            f"peak traced memory, {name.split('_')[0]}: {peak / 2**20:.1f} MiB"
            f" ({peak / rows:.0f} bytes per row; the file is {timings['bytes'] / rows:.0f})"
        )
    verdict = "pass" if total <= TARGET_SECONDS else "short"
    print(f"preview + commit = {total:.2f} s   (target <= {TARGET_SECONDS:.0f} s: {verdict})")


if __name__ == "__main__":
    main()
