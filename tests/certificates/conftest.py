from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from flask import Flask

from certification.auth.services import get_candidate
from certification.extensions import db
from certification.records.services import record_credit, record_result


@pytest.fixture
def eligible_candidate(
    app: Flask, make_candidate, make_course, make_assessment, make_programme, today
) -> Callable[..., int]:
    """A programme EII-C (10 ECTS + the Certificate examination) and a factory of
    candidates who meet it; returns the candidate's id."""
    make_course("EII-101", credits="5", domain="AI & Data Science")
    make_course("EII-102", credits="5", domain="Standards & Interoperability")
    make_assessment("CERT-EXAM", pass_mark="60")
    make_programme(
        "EII-C",
        min_total_credits="10",
        required_assessments=("CERT-EXAM",),
        validity_months=60,
        eqf_level=6,
    )
    counter = iter(range(1, 1000))

    def build(name: str = "Łukasz Wiśniewski", *, on: dt.date | None = None) -> int:
        number = next(counter)
        candidate = make_candidate(name, email=f"eligible{number}@example.org")
        with app.app_context():
            person = get_candidate(candidate.id)
            for course in ("EII-101", "EII-102"):
                record_credit(person, course, on or today, actor=None, today=today)
            record_result(person, "CERT-EXAM", Decimal(72), on or today, actor=None, today=today)
            db.session.commit()
        return candidate.id

    return build
