"""The demo: both awards, a dozen courses, the examinations, two programme-office users, an
officer of each partner body and candidates at different stages. Built through the same
services as real data."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from certification.auth.models import Role, User
from certification.auth.passwords import hash_password
from certification.auth.services import create_admin, create_candidate, create_staff
from certification.catalogue.services import (
    AssessmentInput,
    CourseInput,
    ProgrammeInput,
    ProviderInput,
    create_assessment,
    create_course,
    create_programme,
    create_provider,
)
from certification.catalogue.services import get_programme as programme_by_code
from certification.catalogue.wording import save_translations, translatable_languages
from certification.certificates.approvals import approve_request, request_award, revoke_award
from certification.certificates.models import AwardRequest, Certificate
from certification.certificates.services import partner_bodies
from certification.extensions import db
from certification.records.models import CpdSource
from certification.records.services import record_cpd, record_credit, record_result

DEMO_LOGINS_FILE = "demo-logins.txt"

# The demo catalogue's wording in the other languages (English → translation, by language).
DEMO_TRANSLATIONS = Path(__file__).with_name("demo_translations.json")

SI = "Standards & Interoperability"
AI = "AI & Data Science"
SEC = "Information Security & Data Protection"
EIW = "Enterprise Imaging & Workflow"
# Both awards renew with 20 CPD points in their five years, 5 of them in security and data
# protection, and may be renewed up to 6 months after they lapse.
RENEWAL_BY_CPD: dict[str, Any] = {
    "renewal_cpd_points": Decimal(20),
    "renewal_domain_minimums": {SEC: Decimal(5)},
    "renewal_grace_months": 6,
}

COURSES = [
    ("EFRS-SI101", "DICOM and HL7 FHIR fundamentals", "5", SI, "EFRS"),
    ("EUS-SI201", "IHE integration profiles for radiology", "2.5", SI, "EuSoMII"),
    ("EUS-SI210", "Terminologies and structured reporting", "2.5", SI, "EuSoMII"),
    ("EUS-AI101", "Foundations of AI in medical imaging", "5", AI, "EuSoMII"),
    ("EUS-AI201", "Evaluating and validating AI algorithms", "5", AI, "EuSoMII"),
    ("EFRS-AI110", "AI for radiographers: clinical integration", "2.5", AI, "EFRS"),
    ("EFRS-SEC101", "Information security in the imaging department", "5", SEC, "EFRS"),
    ("EUS-SEC201", "GDPR and data protection in imaging research", "2.5", SEC, "EuSoMII"),
    ("EFRS-EIW101", "PACS, VNA and enterprise imaging", "5", EIW, "EFRS"),
    ("EUS-EIW201", "Workflow orchestration and reporting", "5", EIW, "EuSoMII"),
    ("EFRS-EIW110", "Radiation dose monitoring and registries", "2.5", EIW, "EFRS"),
    (
        "ACC-QA101",
        "Quality management of imaging IT",
        "2.5",
        EIW,
        "Northern Imaging Academy",
    ),
]


# The providers the courses name: country, accredited from, accredited until (None: open).
PROVIDERS = [
    ("EFRS", "NL", dt.date(2024, 1, 1), None),
    ("EuSoMII", "AT", dt.date(2024, 1, 1), None),
    (
        "Northern Imaging Academy",
        "IE",
        dt.date(2025, 9, 1),
        dt.date(2028, 8, 31),
    ),
]


def database_is_empty() -> bool:
    return not db.session.scalar(sa.select(sa.func.count(User.id)))


def seed_demo(today: dt.date | None = None) -> str:
    """Create the demo through the services and return the logins, as text to print."""
    today = today or dt.date.today()

    def ago(days: int) -> dt.date:
        return today - dt.timedelta(days=days)

    logins: list[tuple[str, str, str]] = []

    def login_for(user: User, note: str) -> None:
        password = "-".join(secrets.token_hex(3) for _ in range(3))
        user.password_hash = hash_password(password)
        logins.append((user.email, password, note))

    efrs = create_admin("admin@efrs.example", "EFRS Programme Office", secrets.token_hex(16), None)
    login_for(efrs, "programme office")
    eusomii = create_admin(
        "admin@eusomii.example", "EuSoMII Programme Office", secrets.token_hex(16), None
    )
    login_for(eusomii, "programme office")
    officers = []
    for short_name, name in [("EFRS", "Sofia Andersson"), ("EuSoMII", "Tomasz Nowak")]:
        officer = create_staff(
            f"officer@{short_name.lower()}.example",
            name,
            secrets.token_hex(16),
            Role.OFFICER,
            short_name,
            None,
        )
        login_for(
            officer,
            f"officer of {short_name}: approves, rejects and revokes for {short_name}, edits"
            f" its branding",
        )
        officers.append(officer)

    for name, country, accredited_from, accredited_until in PROVIDERS:
        academy_provider = create_provider(
            ProviderInput(name, country, accredited_from, accredited_until), efrs
        )
    # The last provider's staff: they record credits on its course (ACC-QA101) only.
    academy = create_staff(
        "staff@northern-imaging.example",
        "Niamh Byrne",
        secrets.token_hex(16),
        Role.PROVIDER,
        None,
        None,
        provider_id=academy_provider.id,
    )
    login_for(academy, f"provider staff of {academy_provider.name}: records credits on its courses")
    for code, title, credits, domain, provider in COURSES:
        create_course(CourseInput(code, title, Decimal(credits), domain, provider), efrs)
    create_assessment(
        AssessmentInput("CERT-EXAM", "Certificate examination", Decimal(60), Decimal(100), 3), efrs
    )
    create_assessment(
        AssessmentInput("DIPL-EXAM", "Diploma examination", Decimal(65), Decimal(100), 3), eusomii
    )
    create_assessment(
        AssessmentInput("DIPL-PROJ", "Diploma capstone project", Decimal(50), Decimal(100), 2),
        eusomii,
    )
    create_programme(
        ProgrammeInput(
            code="EII-C",
            title="European Certificate in Imaging Informatics",
            description=(
                "The joint certificate of EFRS and EuSoMII for radiographers, radiologists and"
                " IT staff who run imaging systems: standards and interoperability, AI and data"
                " science, information security and data protection, enterprise imaging and"
                " workflow, at EQF level 6."
            ),
            level="certificate",
            eqf_level=6,
            min_total_credits=Decimal(30),
            domain_minimums={SI: Decimal(5), AI: Decimal(5), SEC: Decimal(5), EIW: Decimal(5)},
            required_assessments=["CERT-EXAM"],
            validity_months=60,
            credit_window_months=60,
            **RENEWAL_BY_CPD,
        ),
        efrs,
        today=today,
    )
    create_programme(
        ProgrammeInput(
            code="EII-D",
            title="European Diploma in Imaging Informatics",
            description=(
                "The advanced joint diploma for those who lead imaging informatics in a"
                " department or a hospital: further study in each of the four domains, an"
                " examination and a capstone project, at EQF level 7. The certificate comes"
                " first."
            ),
            level="diploma",
            eqf_level=7,
            min_total_credits=Decimal(50),
            domain_minimums={
                SI: Decimal(10),
                AI: Decimal(10),
                SEC: Decimal("7.5"),
                EIW: Decimal(10),
            },
            required_assessments=["DIPL-EXAM", "DIPL-PROJ"],
            prerequisite="EII-C",
            validity_months=60,
            credit_window_months=84,
            **RENEWAL_BY_CPD,
        ),
        eusomii,
        today=today,
    )

    # The catalogue in the other languages, as the office would translate it.
    for language, texts in json.loads(DEMO_TRANSLATIONS.read_text(encoding="utf-8")).items():
        if language in translatable_languages():
            save_translations(language, {e: t for e, t in texts.items() if t}, efrs)

    def candidate(
        email: str,
        name: str,
        country: str,
        courses: list[str],
        results: list[tuple[str, int]],
        note: str,
    ) -> User:
        person = create_candidate(email, name, country, efrs)
        for offset, course in enumerate(courses):
            record_credit(person, course, ago(400 - offset * 25), actor=efrs, today=today)
        for offset, (assessment, score) in enumerate(results):
            record_result(
                person,
                assessment,
                Decimal(score),
                ago(60 - offset * 20),
                actor=eusomii,
                today=today,
            )
        login_for(person, note)  # every demo candidate can log in and see their page
        return person

    certificate_courses = [
        "EFRS-SI101",
        "EUS-SI201",
        "EUS-AI101",
        "EFRS-AI110",
        "EFRS-SEC101",
        "EUS-SEC201",
        "EFRS-EIW101",
        "EFRS-EIW110",
        "ACC-QA101",
    ]
    candidate(
        "lukasz.wisniewski@example.pl",
        "Łukasz Wiśniewski",
        "PL",
        certificate_courses,
        [("CERT-EXAM", 52), ("CERT-EXAM", 74)],
        "candidate: meets every Certificate requirement",
    )
    candidate(
        "aikaterini.papadopoulou@example.gr",
        "Αικατερίνη Παπαδοπούλου",
        "GR",
        ["EFRS-SI101", "EUS-AI101", "EUS-AI201", "EFRS-EIW101", "EUS-SEC201"],
        [("CERT-EXAM", 41)],
        "candidate: part of the way, exam not yet passed",
    )
    dimitar = candidate(
        "dimitar.petrov@example.bg",
        "Димитър Петров",
        "BG",
        [*certificate_courses, "EUS-SI210", "EUS-AI201", "EUS-EIW201"],
        [("CERT-EXAM", 81), ("DIPL-EXAM", 70)],
        "candidate: holds the Certificate, working towards the Diploma",
    )
    zeynep = candidate(
        "zeynep.celik@example.tr",
        "Zeynep Çelik",
        "TR",
        certificate_courses,
        [("CERT-EXAM", 66)],
        "candidate: Certificate revoked by both bodies, on hold until the office lifts it",
    )
    candidate(
        "jon.thordarson@example.is",
        "Jón Þórðarson",
        "IS",
        ["EFRS-SI101", "EUS-AI101", "EFRS-SEC101"],
        [],
        "candidate: three courses, no examination yet",
    )
    candidate(
        "mai.nguyen@example.fr",
        "Nguyễn Thị Mai",
        "FR",
        ["EFRS-EIW101", "EUS-EIW201"],
        [],
        "candidate: two courses, both in one domain",
    )
    candidate(
        "siobhan.obrien@example.ie",
        "Siobhán O'Brien",
        "IE",
        [],
        [],
        "candidate: just registered, nothing recorded yet",
    )

    # The signatories are fictional; administrators set the real ones under Branding.
    # Their title in the other languages (a woman's and a man's: "Präsidentin", "Präsident").
    president = {
        "de": "Präsident",
        "fr": "Président",
        "es": "Presidente",
        "it": "Presidente",
        "pt": "Presidente",
        "pl": "Prezes",
        "nl": "Voorzitter",
        "el": "Πρόεδρος",
    }
    presidente = {**president, "de": "Präsidentin", "fr": "Présidente", "es": "Presidenta"}
    for body, (signatory, title, titles) in zip(
        partner_bodies(),
        [
            ("Dr Ingrid Halvorsen", "President", presidente),
            ("Prof. Matteo Rinaldi", "President", president),
        ],
        strict=True,
    ):
        body.signatory_name, body.signatory_title = signatory, title
        body.signatory_titles = titles
    award = programme_by_code("EII-C")

    def approved_by_both(person: User) -> Certificate:
        """Requested by the office, approved by each body's officer: sealed and issued."""
        request = request_award(person, award, efrs, today=today)
        assert isinstance(request, AwardRequest)  # noqa: S101 - EII-C is jointly approved
        for officer in officers:
            approve_request(request, officer, today=today)
        assert request.certificate is not None  # noqa: S101 - both bodies approved
        return request.certificate

    valid = approved_by_both(dimitar)
    # Dimitar has started on his renewal: the portal's renewal bar shows 7 of 20 points.
    activities: list[tuple[str, str, Decimal, str | None]] = [
        ("EuSoMII webinar: AI regulation in imaging", "EuSoMII", Decimal(2), AI),
        ("EFRS webinar: cyber security in the imaging department", "EFRS", Decimal(3), SEC),
        ("ECR 2026 informatics sessions", "European Society of Radiology", Decimal(2), None),
    ]
    for activity, organiser, points, activity_domain in activities:
        record_cpd(
            dimitar,
            title=activity,
            organiser=organiser,
            activity_on=today,
            points=points,
            domain=activity_domain,
            source=CpdSource.OFFICE,
            actor=efrs,
            today=today,
        )
    revoked = approved_by_both(zeynep)
    reason = (
        "Issued before the examination board confirmed the result; to be reissued after it meets."
    )
    for officer in reversed(officers):  # EuSoMII asks (suspended), EFRS agrees (revoked)
        revoke_award(revoked, reason, officer)

    width = max(len(email) for email, _, _ in logins)
    lines = ["Demo logins (each password was generated when the demo was created):"]
    lines += [f"  {email:<{width}}  {password}  {note}" for email, password, note in logins]
    lines += [
        "The office, the officers and provider staff also give a code from an authenticator",
        "app: the first login shows a QR code to scan, and the key as text. Without a phone,",
        "the current code for a key is",
        '  .venv/bin/python -c "import pyotp, sys; print(pyotp.TOTP(sys.argv[1]).now())" KEY',
        "Demo certificates (open /verify and type one):",
        f"  {valid.code}  valid, held by {valid.holder_name}",
        f"  {revoked.code}  revoked",
    ]
    return "\n".join(lines) + "\n"
