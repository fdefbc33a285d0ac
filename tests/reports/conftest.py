"""A known data set for the reports and exports, built through the services.

Six candidates in three countries, two awards (a certificate, and a diploma that requires
it), certificates issued in two different months, one revoked, one reissued (superseded),
one expiring within 90 days, and assessment attempts with known scores.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from certification.auth.services import get_candidate
from certification.catalogue.services import get_programme
from certification.certificates.services import (
    issue_certificate,
    reissue_certificate,
    revoke_certificate,
)
from certification.extensions import db
from certification.progress import subtract_months
from certification.records.services import record_credit, record_result

NAMES = {
    "anna": ("-Anna Kowalska", "PL"),
    "lukasz": ("+Łukasz Wiśniewski", "PL"),
    "chloe": ("Χλόη Παπαδοπούλου", "GR"),
    "dmytro": ("Дмитро Шевченко", "UA"),
    "eleni": ('=HYPERLINK("http://x")', "GR"),
    "zoe": ("@Zoë Müller", "PL"),
}


@dataclass
class KnownData:
    today: dt.date
    ids: dict[str, int]
    codes: dict[str, str]  # anna, lukasz, chloe (the original), chloe2 (its replacement)
    eleven_months_ago: dt.date
    last_month: dt.date


@pytest.fixture
def known(app, make_course, make_assessment, make_programme, make_candidate, today) -> KnownData:
    make_course("A1", credits="5", domain="AI")
    make_course("S1", credits="5", domain="Standards")
    make_course("D1", credits="5", domain="Advanced")
    make_assessment("EXAM", pass_mark="60", max_score="100", max_attempts=3)
    make_assessment("DEXAM", pass_mark="50", max_score="80", max_attempts=3, title="Diploma exam")
    make_programme(
        "EII-C", min_total_credits="10", required_assessments=("EXAM",), validity_months=12
    )
    make_programme(
        "EII-D",
        title="European Diploma in Imaging Informatics",
        level="diploma",
        min_total_credits="5",
        domain_minimums={"Advanced": "5"},
        required_assessments=("DEXAM",),
        prerequisite="EII-C",
    )
    ids = {
        key: make_candidate(name, email=f"{key}@example.org", country=country).id
        for key, (name, country) in NAMES.items()
    }
    long_ago = today - dt.timedelta(days=400)
    eleven_months_ago = subtract_months(today, 11)
    last_month = subtract_months(today, 1)
    with app.app_context():

        def credits(key: str, *courses: str) -> None:
            for course in courses:
                record_credit(get_candidate(ids[key]), course, long_ago, actor=None, today=today)

        def scores(key: str, assessment: str, *values: str) -> None:
            for value in values:
                record_result(
                    get_candidate(ids[key]),
                    assessment,
                    Decimal(value),
                    long_ago,
                    actor=None,
                    today=today,
                )

        credits("anna", "A1", "S1", "D1")
        scores("anna", "EXAM", "72")
        scores("anna", "DEXAM", "40")
        credits("lukasz", "A1", "S1")
        scores("lukasz", "EXAM", "55", "65")
        credits("chloe", "A1", "S1", "D1")
        scores("chloe", "EXAM", "90")
        scores("chloe", "DEXAM", "80")
        credits("dmytro", "A1")
        scores("dmytro", "EXAM", "30")
        credits("zoe", "A1", "S1")
        scores("zoe", "EXAM", "60")
        certificate = get_programme("EII-C")

        def issue(key: str, on: dt.date) -> str:
            return issue_certificate(get_candidate(ids[key]), certificate, None, today=on).code

        codes = {
            "anna": issue("anna", eleven_months_ago),
            "lukasz": issue("lukasz", last_month),
            "chloe": issue("chloe", last_month),
        }
        from certification.certificates.services import find_certificate

        revoke_certificate(find_certificate(codes["lukasz"]), "Issued in error", None)
        codes["chloe2"] = reissue_certificate(find_certificate(codes["chloe"]), None).code
        db.session.commit()
    return KnownData(today, ids, codes, eleven_months_ago, last_month)
