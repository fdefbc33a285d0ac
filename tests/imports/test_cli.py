"""``flask import-csv KIND FILE [--commit]``: a preview by default, exit 1 on any bad row."""

from __future__ import annotations

import sqlalchemy as sa

from certification.extensions import db
from certification.records.models import CreditRecord

GOOD = (
    "email;course_code;completed_on\n"
    "wisniewski@example.org;EII-101;31.05.2024\n"
    "papadopoulou@example.org;EII-101;01.06.2024\n"
)


def credits_in(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(CreditRecord))


def test_preview_lists_every_problem_exits_1_and_writes_nothing(
    app, runner, tmp_path, make_course, make_candidate
):
    make_course("EII-101")
    make_candidate(email="wisniewski@example.org")
    path = tmp_path / "credits.csv"
    path.write_text(GOOD + "nobody@example.org;EII-101;2024-06-01\n", encoding="cp1252")
    for options in ([], ["--commit"]):
        result = runner.invoke(args=["import-csv", "credits", str(path), *options])
        assert result.exit_code == 1, result.output
        assert "row 3, email: No candidate with this e-mail." in result.output
        assert "row 4, completed_on: This date is written as YYYY-MM-DD" in result.output
        assert "row 4, email: No candidate with this e-mail." in result.output
        assert "nothing was imported" in result.output.lower()
    assert credits_in(app) == 0


def test_commit_writes_and_a_second_run_says_already_recorded(
    app, runner, tmp_path, make_course, make_candidate
):
    make_course("EII-101")
    make_candidate(email="wisniewski@example.org")
    make_candidate("Αικατερίνη Παπαδοπούλου", email="papadopoulou@example.org", country="GR")
    path = tmp_path / "credits.csv"
    path.write_bytes(GOOD.encode())

    preview = runner.invoke(args=["import-csv", "credits", str(path)])
    assert preview.exit_code == 0, preview.output
    assert "0 already recorded, 2 new" in preview.output
    assert "--commit" in preview.output
    assert credits_in(app) == 0

    committed = runner.invoke(args=["import-csv", "credits", str(path), "--commit"])
    assert committed.exit_code == 0, committed.output
    assert "Imported credits.csv: 0 already recorded, 2 new." in committed.output
    assert credits_in(app) == 2

    again = runner.invoke(args=["import-csv", "credits", str(path), "--commit"])
    assert again.exit_code == 0, again.output
    assert "2 already recorded, 0 new" in again.output
    assert credits_in(app) == 2


def test_a_file_that_is_not_csv_is_refused_clearly(runner, tmp_path):
    path = tmp_path / "scan.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = runner.invoke(args=["import-csv", "candidates", str(path)])
    assert result.exit_code == 1
    assert "row 1: This file is not a CSV text file." in result.output
    assert "Traceback" not in result.output


def test_imported_candidates_are_invited_unless_told_not_to(app, runner, tmp_path, run_queue):
    from certification.mail.models import OutgoingEmail

    def invitations() -> list[str]:
        with app.app_context():
            return sorted(db.session.scalars(sa.select(OutgoingEmail.recipient)))

    first = tmp_path / "first.csv"
    first.write_text("email,full_name,country\nanna@example.pl,Anna Kowalska,PL\n")
    result = runner.invoke(args=["import-csv", "candidates", str(first), "--commit"])
    assert result.exit_code == 0, result.output
    assert "Imported first.csv: 0 already recorded, 1 new, 1 invitation queued." in result.output
    assert invitations() == ["anna@example.pl"]
    assert run_queue() == 1

    second = tmp_path / "second.csv"
    second.write_text("email,full_name,country\nolof@example.se,Olof Åberg,SE\n")
    result = runner.invoke(
        args=["import-csv", "candidates", str(second), "--commit", "--no-invite"]
    )
    assert result.exit_code == 0, result.output
    assert "Imported second.csv: 0 already recorded, 1 new." in result.output
    assert invitations() == ["anna@example.pl"]
