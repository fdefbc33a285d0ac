"""Build the scale dataset: 100,000 candidates, 50 courses, 1,000,000 credit records,
200,000 assessment attempts and about 20,000 certificates, on SQLite and on PostgreSQL.

Run: ``.venv/bin/python bench/make_dataset.py`` (``--scale 0.01`` for a quick trial,
``--sqlite-only`` or ``--postgres-only``, ``--rebuild``). Not a test: it builds what
``bench/bench_scale.py`` measures and prints the time of each step.

Where: the SQLite file ``bench/.data/scale.sqlite`` and the PostgreSQL database
``bench_scale`` (``--postgres-url``; it is dropped and created again, and no other name than
``bench_*`` is accepted). The schema is made by the app's own migrations, so the indexes are
the real ones. ``bench/.data/`` (git-ignored) also holds the instance folder (demo seal
keys), a secret key, the sample PDF and one manifest per database: a dataset built with the
same parameters is kept (``--rebuild`` builds it again); one built before a newer migration
is upgraded, and its standings worked out again.

What is in it, generated in memory from a fixed seed (the same rows every time, dates
counted back from the day of the build):

- the demo's catalogue (``certification.demo``): the awards EII-C (30 ECTS within 60 months,
  5 in each of the four domains, the Certificate examination) and EII-D (50 ECTS within
  84 months, the Diploma examination and project, EII-C first), the three assessments, and
  50 courses: the demo's 12 and 38 more over the same four domains, of 2.5 or 5 ECTS;
- 2 administrators, and the partner bodies' signatories as the demo names them;
- 100,000 candidates named as people are in 37 countries: Latin script with its diacritics
  (Polish, Czech, Turkish, Icelandic, Irish, Romanian, Hungarian, Baltic, Nordic...),
  Greek, Cyrillic (Bulgarian, Serbian, Ukrainian, Macedonian), Georgian and Armenian; with
  unique e-mails, a country (some live abroad, a few gave none) and ``name_key`` from
  ``name_search_key``, exactly as the services store it;
- 1,000,000 credit records: 0 to 20 distinct courses per candidate (10 on average), mostly
  planned to cover every domain, completed over the last seven years at each candidate's
  pace, so that the oldest have left the 60-month window;
- 200,000 assessment attempts, numbered 1, 2, 3 per candidate and assessment, never more
  than the assessment allows and no retake after a pass; scores come from each candidate's
  ability: a little over half of first attempts pass, and 70 to 80 % of those who sit an
  assessment have passed it;
- about 20,000 certificates (85 % EII-C, 15 % EII-D) for candidates who had met every
  requirement, issued some weeks after that day: valid, expired (issued over five years
  ago), revoked (3 %, with a reason) and superseded by a reissue with a corrected name
  (1.5 %), their snapshots computed as issuing computes them. Each certificate's row in
  ``certificate_pdf`` holds the same real sealed sample PDF (``sample_certificate``,
  rendered once), with ``pdf_sha256`` its hash: the table has its real size on disk, and a
  look-up never reads the PDF.

No audit events, e-mails or verifications are generated. The rows go in with executemany,
one transaction per table, on SQLite (no journal file, no fsync while loading; WAL after)
and with binary COPY on PostgreSQL; then ANALYZE, then ``refresh_standings(None, today)``
(each candidate's precomputed progress), timed as a step of its own. The progress engine
itself checks the result: at least 30 % of the candidates must be eligible for EII-C
today, so that page 500 of the "eligible for EII-C" list (50 a page) is full.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import hashlib
import json
import math
import os
import random
import secrets
import sqlite3
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask

from certification import config as default_config
from certification.certificates.codes import ALPHABET, RANDOM_SYMBOLS, check_symbol, format_code
from certification.demo import AI, EIW, SEC, SI
from certification.demo import COURSES as DEMO_COURSES
from certification.progress import (
    AssessmentRule,
    AttemptEntry,
    CreditEntry,
    ProgrammeRules,
    Transcript,
    evaluate_progress,
    subtract_months,
)
from certification.validation import name_search_key

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
INSTANCE = DATA / "instance"
SQLITE_FILE = DATA / "scale.sqlite"
SAMPLE_PDF = DATA / "sample-certificate.pdf"
SECRET_FILE = DATA / "secret-key"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_scale"
PUBLIC_BASE_URL = "https://certificates.example.org"

GENERATOR_VERSION = 2  # raise it when the generator changes what it builds
SEED = 20261202
FULL_SIZE = {
    "candidates": 100_000,
    "credit_records": 1_000_000,
    "assessment_attempts": 200_000,
    "certificates": 20_000,
}
MIN_ELIGIBLE_SHARE = 0.30  # of the candidates, eligible for EII-C today
DIPLOMA_SHARE = 0.15  # of the certificates
REVOKED_SHARE = 0.03
SUPERSEDED_SHARE = 0.015
ADMIN_IDS = (1, 2)
YEARS_BACK = 7.1

# ---------------------------------------------------------------- the catalogue

DOMAINS = (SI, AI, SEC, EIW)
NORTHERN = "Northern Imaging Academy"
BALTIC = "Baltic Health Informatics School"
LISBON = "Instituto de Informática Médica de Lisboa"
MUNICH = "Münchner Akademie für Bildgebung"
BOLOGNA = "Scuola di Imaging, Università di Bologna"
NORDIC = "Nordic Centre for Health Cybersecurity"
ROTTERDAM = "Rotterdam Academy of Imaging Operations"
MORE_COURSES = [
    ("EFRS-SI120", "HL7 FHIR for imaging workflows", "2.5", SI, "EFRS"),
    ("EUS-SI220", "DICOMweb and cloud imaging APIs", "5", SI, "EuSoMII"),
    ("EUS-SI230", "Structured reporting with DICOM SR and RadLex", "2.5", SI, "EuSoMII"),
    ("ACC-SI101", "IHE connectathon: integration hands-on", "5", SI, BALTIC),
    ("EFRS-SI130", "Modality worklists and MPPS in practice", "2.5", SI, "EFRS"),
    ("EUS-SI240", "SNOMED CT, LOINC and the RadLex Playbook", "2.5", SI, "EuSoMII"),
    ("ACC-SI110", "Interoperability testing and conformance statements", "2.5", SI, LISBON),
    ("EUS-SI250", "Cross-enterprise image sharing (XDS-I, XCA-I)", "5", SI, "EuSoMII"),
    ("EFRS-SI140", "DICOM RT objects in radiotherapy and nuclear medicine", "2.5", SI, "EFRS"),
    ("EUS-AI210", "Deep learning for image segmentation", "5", AI, "EuSoMII"),
    ("EUS-AI220", "Radiomics: from features to models", "5", AI, "EuSoMII"),
    ("EFRS-AI120", "AI in acquisition and protocolling", "2.5", AI, "EFRS"),
    ("EUS-AI230", "Regulating AI devices: the MDR and the EU AI Act", "2.5", AI, "EuSoMII"),
    ("ACC-AI101", "Python for medical image analysis", "5", AI, MUNICH),
    ("EUS-AI240", "Large language models in radiology reporting", "2.5", AI, "EuSoMII"),
    ("EUS-AI250", "Federated learning and privacy-preserving AI", "2.5", AI, "EuSoMII"),
    ("EFRS-AI130", "Monitoring AI performance after deployment", "2.5", AI, "EFRS"),
    ("ACC-AI110", "Statistics for diagnostic accuracy studies", "5", AI, BOLOGNA),
    ("EUS-AI260", "Dataset curation, annotation and bias", "2.5", AI, "EuSoMII"),
    ("EFRS-SEC110", "Cybersecurity of modalities and medical devices", "2.5", SEC, "EFRS"),
    ("EUS-SEC210", "Pseudonymisation and de-identification of DICOM data", "2.5", SEC, "EuSoMII"),
    ("EUS-SEC220", "Secondary use of imaging data in the EHDS", "5", SEC, "EuSoMII"),
    ("ACC-SEC101", "Incident response in hospital IT", "2.5", SEC, NORDIC),
    ("EFRS-SEC120", "Access control and audit trails in PACS", "2.5", SEC, "EFRS"),
    ("EUS-SEC230", "Ethics of imaging data sharing", "2.5", SEC, "EuSoMII"),
    ("ACC-SEC110", "Risk management under ISO 27001 and IEC 80001", "5", SEC, NORDIC),
    ("EFRS-SEC130", "Cloud security for imaging archives", "2.5", SEC, "EFRS"),
    ("EFRS-EIW120", "Enterprise imaging beyond radiology", "5", EIW, "EFRS"),
    ("EUS-EIW210", "Imaging informatics leadership and change", "2.5", EIW, "EuSoMII"),
    ("EFRS-EIW130", "Teleradiology operations", "2.5", EIW, "EFRS"),
    ("EUS-EIW220", "Dashboards and business intelligence for imaging", "2.5", EIW, "EuSoMII"),
    ("ACC-EIW101", "Procurement and vendor-neutral archive migration", "5", EIW, NORTHERN),
    ("EFRS-EIW140", "Downtime procedures and business continuity", "2.5", EIW, "EFRS"),
    ("EUS-EIW230", "Image quality and display calibration", "2.5", EIW, "EuSoMII"),
    ("ACC-EIW110", "Lean methods and process mining in radiology", "2.5", EIW, ROTTERDAM),
    ("EFRS-EIW150", "Patient portals and image access for patients", "2.5", EIW, "EFRS"),
    ("EUS-EIW240", "Orchestration engines and AI integration platforms", "5", EIW, "EuSoMII"),
    ("EUS-EIW250", "Clinical decision support for imaging referrals", "2.5", EIW, "EuSoMII"),
]
COURSES = [*DEMO_COURSES, *MORE_COURSES]
assert len(COURSES) == 50 and len({c[0] for c in COURSES}) == 50
COURSE_CODES = [c[0] for c in COURSES]
COURSE_DOMAIN = [DOMAINS.index(c[3]) for c in COURSES]
COURSE_TENTHS = [int(Decimal(c[2]) * 10) for c in COURSES]
# The demo's courses are the established ones: more candidates take them.
COURSE_WEIGHT = [2.5 if i < len(DEMO_COURSES) else 1.0 for i in range(len(COURSES))]


@dataclass(frozen=True)
class AssessmentSpec:
    code: str
    title: str
    pass_mark: Decimal
    max_attempts: int


ASSESSMENTS = (
    AssessmentSpec("CERT-EXAM", "Certificate examination", Decimal(60), 3),
    AssessmentSpec("DIPL-EXAM", "Diploma examination", Decimal(65), 3),
    AssessmentSpec("DIPL-PROJ", "Diploma capstone project", Decimal(50), 2),
)
ASSESSMENT = {a.code: a for a in ASSESSMENTS}


@dataclass(frozen=True)
class ProgrammeSpec:
    code: str
    title: str
    level: str
    eqf_level: int
    min_total_credits: Decimal
    domain_minimums: dict[str, Decimal]
    assessments: tuple[str, ...]
    prerequisite: str | None
    validity_months: int
    credit_window_months: int


# As certification.demo.seed_demo creates them.
CERTIFICATE = ProgrammeSpec(
    "EII-C",
    "European Certificate in Imaging Informatics",
    "certificate",
    6,
    Decimal(30),
    {SI: Decimal(5), AI: Decimal(5), SEC: Decimal(5), EIW: Decimal(5)},
    ("CERT-EXAM",),
    None,
    60,
    60,
)
DIPLOMA = ProgrammeSpec(
    "EII-D",
    "European Diploma in Imaging Informatics",
    "diploma",
    7,
    Decimal(50),
    {SI: Decimal(10), AI: Decimal(10), SEC: Decimal("7.5"), EIW: Decimal(10)},
    ("DIPL-EXAM", "DIPL-PROJ"),
    "EII-C",
    60,
    84,
)
PROGRAMMES = (CERTIFICATE, DIPLOMA)
CODE_PREFIX = {"certificate": "EIC", "diploma": "EID"}
SIGNATORIES = [("Dr Ingrid Halvorsen", "President"), ("Prof. Matteo Rinaldi", "President")]
ADMINS = [
    (ADMIN_IDS[0], "admin@efrs.example", "EFRS Programme Office"),
    (ADMIN_IDS[1], "admin@eusomii.example", "EuSoMII Programme Office"),
]
REVOCATION_REASONS = [
    "Issued before the examination board confirmed the result.",
    "A course counted towards it lost its accreditation for that session.",
    "Issued to a duplicate account; the certificate on the main account stands.",
    "Plagiarism found in the capstone project after issue.",
    "Withdrawn at the holder's request after an appeal.",
]

# ---------------------------------------------------------------- names


@dataclass(frozen=True)
class Names:
    female: tuple[str, ...]
    male: tuple[str, ...]
    family: tuple[tuple[str, str], ...]  # (a man's form, a woman's form)
    order: str = "western"  # western, family-first, or double (Spanish/Portuguese)
    joiner: str = " "  # between two given names


def names(female: str, male: str, family: str, order: str = "western", joiner: str = " ") -> Names:
    def split(text: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in text.split(",") if part.strip())

    pairs = []
    for entry in split(family):
        forms = entry.split("/")
        pairs.append((forms[0], forms[-1]))
    return Names(split(female), split(male), tuple(pairs), order, joiner)


NAMES = {
    "PL": names(
        "Agnieszka, Małgorzata, Katarzyna, Joanna, Zofia, Anna, Magdalena, Żaneta, Beata,"
        " Elżbieta, Jadwiga, Ewa",
        "Łukasz, Paweł, Michał, Grzegorz, Krzysztof, Tomasz, Piotr, Wojciech, Jędrzej,"
        " Bartłomiej, Maciej, Zbigniew",
        "Kowalski/Kowalska, Wiśniewski/Wiśniewska, Wójcik, Kowalczyk, Kamiński/Kamińska,"
        " Lewandowski/Lewandowska, Zieliński/Zielińska, Szymański/Szymańska, Woźniak,"
        " Dąbrowski/Dąbrowska, Kozłowski/Kozłowska, Mazur, Krawczyk, Grabowski/Grabowska,"
        " Nowak, Pawłowski/Pawłowska, Michalski/Michalska, Król, Wieczorek,"
        " Jabłoński/Jabłońska, Wróbel, Gołębiowski/Gołębiowska, Sójka, Chmielewski/Chmielewska",
    ),
    "CZ": names(
        "Jana, Petra, Lucie, Tereza, Kateřina, Markéta, Zdeňka, Šárka, Veronika, Radka",
        "Jiří, Petr, Tomáš, Lukáš, Ondřej, Radek, Vojtěch, Jan, Přemysl, Zbyněk",
        "Novák/Nováková, Svoboda/Svobodová, Dvořák/Dvořáková, Černý/Černá,"
        " Procházka/Procházková, Kučera/Kučerová, Veselý/Veselá, Horák/Horáková,"
        " Němec/Němcová, Pokorný/Pokorná, Růžička/Růžičková, Marek/Marková,"
        " Pospíšil/Pospíšilová, Hájek/Hájková, Jelínek/Jelínková, Král/Králová,"
        " Beneš/Benešová, Fiala/Fialová, Šťastný/Šťastná",
    ),
    "SK": names(
        "Zuzana, Mária, Ľubica, Katarína, Lenka, Martina, Jana, Dominika",
        "Ľubomír, Ján, Peter, Marek, Michal, Juraj, Ľudovít, Štefan",
        "Horváth/Horváthová, Kováč/Kováčová, Varga/Vargová, Tóth/Tóthová, Nagy/Nagyová,"
        " Baláž/Balážová, Molnár/Molnárová, Lukáč/Lukáčová, Šimko/Šimková, Kráľ/Kráľová",
    ),
    "TR": names(
        "Zeynep, Elif, Ayşe, Büşra, Gülşen, Özlem, Şule, Çiğdem, Ebru, Gözde",
        "Mehmet, Ahmet, Mustafa, Çağrı, Oğuz, İsmail, Gökhan, Barış, Tolga, Uğur",
        "Yılmaz, Kaya, Demir, Çelik, Şahin, Yıldız, Öztürk, Aydın, Özdemir, Arslan, Doğan,"
        " Kılıç, Çetin, Güneş, Koç, Kurt, Aslan, Yüksel, Şimşek",
    ),
    "IS": names(
        "Guðrún, Sigríður, Kristín, Þórunn, Helga, Anna, Ásta, Hildur, Ragnheiður, Jóhanna",
        "Jón, Sigurður, Guðmundur, Gunnar, Ólafur, Einar, Kristján, Þórður, Magnús, Stefán",
        "Jónsson/Jónsdóttir, Guðmundsson/Guðmundsdóttir, Sigurðsson/Sigurðardóttir,"
        " Gunnarsson/Gunnarsdóttir, Ólafsson/Ólafsdóttir, Þórðarson/Þórðardóttir,"
        " Einarsson/Einarsdóttir, Kristjánsson/Kristjánsdóttir, Stefánsson/Stefánsdóttir,"
        " Magnússon/Magnúsdóttir, Björnsson/Björnsdóttir, Árnason/Árnadóttir",
    ),
    "IE": names(
        "Siobhán, Aoife, Niamh, Caoimhe, Saoirse, Róisín, Órla, Clodagh, Gráinne, Sinéad",
        "Seán, Pádraig, Ciarán, Eoin, Cathal, Oisín, Dónal, Colm, Tadhg, Cian",
        "Ó Briain/Ní Bhriain, Ó Súilleabháin/Ní Shúilleabháin, Mac Cárthaigh/Nic Cárthaigh,"
        " Ó Ceallaigh/Ní Cheallaigh, Ó Murchú/Ní Mhurchú, O'Brien, O'Sullivan, Murphy,"
        " Kelly, Walsh, Byrne, Ryan, O'Connor, McCarthy, Doyle",
    ),
    "RO": names(
        "Ioana, Andreea, Elena, Mihaela, Alexandra, Cristina, Raluca, Simona, Oana, Ștefania",
        "Ștefan, Andrei, Mihai, Alexandru, Ionuț, Răzvan, Bogdan, Cătălin, Florin, Dragoș",
        "Popescu, Ionescu, Dumitrescu, Stănescu, Țurcanu, Răducanu, Constantinescu,"
        " Munteanu, Ștefănescu, Lupu, Bălan, Dobre, Neagu, Rădulescu, Căpraru, Mărgineanu",
    ),
    "GR": names(
        "Αικατερίνη, Μαρία, Ελένη, Γεωργία, Σοφία, Δήμητρα, Αναστασία, Βασιλική, Χριστίνα,"
        " Ευαγγελία",
        "Γιώργος, Δημήτριος, Κωνσταντίνος, Ιωάννης, Νικόλαος, Παναγιώτης, Χρήστος,"
        " Αθανάσιος, Μιχάλης, Σπυρίδων",
        "Παπαδόπουλος/Παπαδοπούλου, Παπαδάκης/Παπαδάκη, Γεωργίου, Νικολάου, Οικονόμου,"
        " Καραγιάννης/Καραγιάννη, Βασιλείου, Ιωάννου, Δημητρίου, Μακρής/Μακρή, Αντωνίου,"
        " Κωνσταντινίδης/Κωνσταντινίδου, Αλεξίου, Παππάς/Παππά, Χατζηδάκης/Χατζηδάκη,"
        " Σταυρόπουλος/Σταυροπούλου, Λαμπράκης/Λαμπράκη, Τσακίρης/Τσακίρη",
    ),
    "BG": names(
        "Мария, Ивана, Елена, Десислава, Цветелина, Гергана, Радостина, Йорданка, Милена, Теодора",
        "Димитър, Георги, Иван, Николай, Стоян, Христо, Любомир, Здравко, Йордан, Атанас",
        "Петров/Петрова, Иванов/Иванова, Георгиев/Георгиева, Димитров/Димитрова,"
        " Стоянов/Стоянова, Николов/Николова, Христов/Христова, Тодоров/Тодорова,"
        " Илиев/Илиева, Ангелов/Ангелова, Атанасов/Атанасова, Костадинов/Костадинова,"
        " Цветков/Цветкова, Йорданов/Йорданова",
    ),
    "RS": names(
        "Јелена, Марија, Ана, Милица, Драгана, Јована, Ивана, Сања, Љиљана, Бојана",
        "Никола, Марко, Стефан, Душан, Милош, Ђорђе, Небојша, Вук, Љубиша, Жељко",
        "Јовановић, Петровић, Николић, Марковић, Ђорђевић, Стојановић, Илић, Станковић,"
        " Павловић, Милошевић, Живковић, Томић, Ђурић, Љубичић, Вучковић",
    ),
    "MK": names(
        "Марија, Ана, Елена, Билјана, Ивана, Катерина",
        "Александар, Горан, Зоран, Ѓорѓи, Никола, Дејан",
        "Николовски/Николовска, Стојановски/Стојановска, Трајковски/Трајковска,"
        " Ѓорѓиевски/Ѓорѓиевска, Петровски/Петровска, Јовановски/Јовановска,"
        " Димитровски/Димитровска",
    ),
    "UA": names(
        "Олена, Оксана, Наталія, Ірина, Юлія, Тетяна, Катерина, Ганна, Мар'яна, Соломія",
        "Олександр, Андрій, Дмитро, Сергій, Богдан, Юрій, Тарас, Віталій, Євген, Ярослав",
        "Шевченко, Коваленко, Бондаренко, Ткаченко, Кравченко, Олійник, Шевчук, Мельник,"
        " Бойко, Ковальчук, Поліщук, Лисенко, Савченко, Руденко, Мороз, Петренко,"
        " Дем'яненко, Гнатюк",
    ),
    "HR": names(
        "Ana, Ivana, Marija, Petra, Lucija, Mateja, Željka, Dubravka",
        "Ivan, Marko, Luka, Josip, Tomislav, Krešimir, Goran, Željko, Dražen",
        "Horvat, Kovačević, Babić, Marić, Jurić, Novak, Knežević, Vuković, Pavlović, Šarić,"
        " Lovrić, Božić, Grgić, Đurić, Perić",
    ),
    "SI": names(
        "Špela, Nina, Maja, Urška, Tjaša, Mojca, Petra",
        "Luka, Matej, Žiga, Jure, Andrej, Rok, Blaž, Gašper",
        "Novak, Horvat, Krajnc, Zupančič, Kovačič, Potočnik, Mlakar, Kos, Vidmar, Golob,"
        " Turk, Božič, Kralj, Žagar",
    ),
    "HU": names(
        "Réka, Erzsébet, Zsófia, Dóra, Katalin, Ildikó, Orsolya, Boglárka",
        "László, Gergő, Bálint, Zoltán, Ádám, Péter, Gyula, Levente",
        "Nagy, Kovács, Tóth, Szabó, Horváth, Varga, Kiss, Molnár, Németh, Farkas, Balogh,"
        " Papp, Fekete, Szűcs, Lőrincz, Győri, Bíró, Pásztor",
        order="family-first",
    ),
    "DE": names(
        "Sophie, Anna, Käthe, Lea, Jana, Hannah, Lena, Mareike, Jördis, Brigitte",
        "Jürgen, Günter, Jörg, Lukas, Maximilian, Tobias, Matthias, Björn, Sören, Uwe",
        "Müller, Schäfer, Schröder, Köhler, Weiß, Groß, Schmidt, Becker, Hoffmann, Krüger,"
        " Strauß, Meyer, Wagner, Schulz, Fischer, Weber, Jäger, Hübner, Lößner",
    ),
    "FR": names(
        "Hélène, Chloé, Zoé, Léa, Cécile, Maëlle, Françoise, Anaïs, Noémie, Inès, Marie",
        "François, Jérôme, Loïc, Noël, Benoît, Sébastien, Hervé, Gaël, Théo, Raphaël, Jean",
        "Lefèvre, Dubois, Lemaître, Girard, Bérenger, Faure, Mérand, Moreau, Lambert,"
        " Rousseau, Laurent, Fontaine, Chevalier, Gauthier, Péron, Bénard, Lécuyer",
        joiner="-",
    ),
    "VI": names(  # Vietnamese families in France
        "Thị Mai, Thị Hương, Thị Lan, Thị Thảo, Ngọc Anh",
        "Văn An, Minh Đức, Văn Quang, Anh Tuấn, Văn Hùng",
        "Nguyễn, Trần, Lê, Phạm, Hoàng, Vũ, Đặng, Bùi",
        order="family-first",
    ),
    "IT": names(
        "Giulia, Chiara, Francesca, Alessia, Federica, Benedetta, Ilaria, Lucrezia",
        "Matteo, Lorenzo, Niccolò, Andrea, Gianluca, Davide, Nicolò, Pierpaolo",
        "Rossi, Russo, Ferrari, Esposito, Bianchi, Romano, Colombo, D'Angelo, Dell'Acqua,"
        " De Luca, Ricci, Marino, Greco, Bruno, Gallo, Conti, Mancini, Lombardi, Caruso",
    ),
    "ES": names(
        "María José, Lucía, Begoña, Nuria, Inés, Ainhoa, Pilar, Montserrat, Rocío, Itziar",
        "José Luis, Íñigo, Jesús, Álvaro, Sergio, Joaquín, Rubén, Óscar, Ramón, Xavier",
        "García, Pérez, Fernández, Núñez, Muñoz, Ibáñez, Martínez, Peña, Sánchez, Gómez,"
        " López, Rodríguez, Jiménez, Díaz, Álvarez, Romero, Gutiérrez, Castaño",
        order="double",
    ),
    "PT": names(
        "Conceição, Inês, Leonor, Joana, Beatriz, Mariana, Matilde, Francisca",
        "João, Gonçalo, Tomás, Rodrigo, Martim, Duarte, Simão, Afonso",
        "Gonçalves, Magalhães, Simões, Guimarães, Araújo, Brandão, Falcão, Fernandes,"
        " Rodrigues, Lopes, Sousa",
        order="double",
    ),
    "NL": names(
        "Sanne, Fleur, Maartje, Anouk, Lotte, Eline, Femke, Ilse",
        "Joost, Thijs, Sjoerd, Bram, Daan, Wouter, Gijs, Ruud",
        "van der Berg, de Vries, van Dijk, Bakker, Janssen, van 't Hof, de Jong, Visser,"
        " Smit, Meijer, de Boer, Mulder, van Leeuwen, IJzerman, Brouwer",
    ),
    "GB": names(
        "Olivia, Emily, Charlotte, Amelia, Siân, Rhiannon, Ffion, Eleanor, Sophie, Grace",
        "James, Thomas, Oliver, Harry, Dafydd, Rhys, William, George, Callum, Iain",
        "Smith, Jones, Taylor, Brown, Williams, Davies, Evans, Thomas, Wilson, Johnson,"
        " Roberts, Wright, Walker, Robinson, Llewellyn, MacLeod, Campbell, Fitzgerald",
    ),
    "LT": names(
        "Rūta, Eglė, Aušra, Dalia, Gintarė, Ieva, Jurgita",
        "Gediminas, Mindaugas, Darius, Žygimantas, Tomas, Vytautas, Arūnas",
        "Kazlauskas/Kazlauskienė, Jankauskas/Jankauskaitė, Petrauskas/Petrauskienė,"
        " Stankevičius/Stankevičiūtė, Vasiliauskas/Vasiliauskienė, Žukauskas/Žukauskaitė,"
        " Butkus/Butkutė, Paulauskas/Paulauskienė",
    ),
    "LV": names(
        "Līga, Ilze, Inese, Kristīne, Dace, Anete, Zane",
        "Jānis, Andris, Mārtiņš, Kārlis, Edgars, Raimonds, Ģirts",
        "Bērziņš/Bērziņa, Kalniņš/Kalniņa, Ozoliņš/Ozoliņa, Liepiņš/Liepiņa,"
        " Krūmiņš/Krūmiņa, Vītols/Vītola, Jansons/Jansone, Ozols/Ozola",
    ),
    "EE": names(
        "Mari, Kadri, Triin, Ülle, Kärt, Liis, Maarja",
        "Jüri, Tõnu, Märt, Andres, Rein, Priit, Toomas",
        "Tamm, Saar, Sepp, Mägi, Kask, Kukk, Rebane, Ilves, Pärn, Kõiv, Õunapuu, Lepik",
    ),
    "FI": names(
        "Aino, Eeva, Päivi, Sanna, Hanna, Riikka, Sirpa",
        "Jyrki, Matti, Antti, Mikko, Sakari, Jussi, Tuomas",
        "Korhonen, Mäkinen, Nieminen, Mäkelä, Hämäläinen, Järvinen, Heikkinen, Kärkkäinen,"
        " Virtanen, Lähteenmäki",
    ),
    "DK": names(
        "Mette, Karen, Signe, Ida, Freja, Birgitte",
        "Søren, Jørgen, Anders, Mads, Rasmus, Bjørn",
        "Jørgensen, Sørensen, Nielsen, Hansen, Møller, Kjær, Østergaard, Bækgaard, Pedersen",
    ),
    "NO": names(
        "Ingrid, Kjersti, Åse, Solveig, Ragnhild, Marte",
        "Øyvind, Bjørn, Ole, Håkon, Sindre, Ståle",
        "Ødegård, Bråten, Haugen, Løvås, Sæther, Bakken, Strøm, Solberg, Aasen",
    ),
    "SE": names(
        "Åsa, Märta, Karin, Linnéa, Elin, Maja",
        "Björn, Göran, Anders, Måns, Johan, Olof",
        "Lindström, Åberg, Öberg, Nyström, Sjögren, Löfgren, Bergström, Johansson, Håkansson",
    ),
    "MT": names(
        "Marija, Rita, Antonella, Rosanne, Graziella",
        "Ġorġ, Ġanni, Ċensu, Mario, Mark, Ġużeppi",
        "Borg, Camilleri, Vella, Farrugia, Zammit, Galea, Micallef, Mifsud, Xuereb, Caruana",
    ),
    "GE": names(
        "ნინო, თამარ, მარიამ, ანა, ეკატერინე, ნათია",
        "გიორგი, დავით, ლევან, ნიკოლოზ, ირაკლი, ზურაბ",
        "ბერიძე, კაპანაძე, გელაშვილი, მაისურაძე, ლომიძე, ჯაფარიძე, ხუციშვილი, გიორგაძე",
    ),
    "AM": names(
        "Անի, Մարիամ, Նարե, Լիլիթ, Արմինե, Սոնա",
        "Արամ, Տիգրան, Դավիթ, Գևորգ, Հայկ, Արմեն",
        "Հարությունյան, Գրիգորյան, Սարգսյան, Պետրոսյան, Հովհաննիսյան, Խաչատրյան, Մկրտչյան",
    ),
}

# Country: (share of candidates, e-mail domain after "example.", where the names come from).
COUNTRIES: dict[str, tuple[float, str, tuple[tuple[str, float], ...]]] = {
    "PL": (9, "pl", (("PL", 1),)),
    "DE": (9, "de", (("DE", 0.93), ("TR", 0.05), ("PL", 0.02))),
    "FR": (7.5, "fr", (("FR", 0.95), ("VI", 0.05))),
    "IT": (8, "it", (("IT", 1),)),
    "ES": (7, "es", (("ES", 1),)),
    "GB": (6, "co.uk", (("GB", 0.9), ("PL", 0.05), ("IE", 0.05))),
    "NL": (4, "nl", (("NL", 1),)),
    "BE": (2.5, "be", (("FR", 0.5), ("NL", 0.5))),
    "GR": (4.5, "gr", (("GR", 1),)),
    "CY": (0.8, "com.cy", (("GR", 1),)),
    "RO": (4, "ro", (("RO", 1),)),
    "TR": (4, "com.tr", (("TR", 1),)),
    "PT": (3, "pt", (("PT", 1),)),
    "CZ": (3, "cz", (("CZ", 1),)),
    "SK": (1.5, "sk", (("SK", 1),)),
    "BG": (2.5, "bg", (("BG", 1),)),
    "UA": (3, "com.ua", (("UA", 1),)),
    "HU": (2.5, "hu", (("HU", 1),)),
    "RS": (2, "rs", (("RS", 1),)),
    "HR": (1.8, "hr", (("HR", 1),)),
    "SI": (1, "si", (("SI", 1),)),
    "MK": (0.8, "mk", (("MK", 1),)),
    "SE": (2, "se", (("SE", 1),)),
    "DK": (1.3, "dk", (("DK", 1),)),
    "NO": (1.3, "no", (("NO", 1),)),
    "FI": (1.3, "fi", (("FI", 1),)),
    "IS": (0.4, "is", (("IS", 1),)),
    "IE": (1.8, "ie", (("IE", 1),)),
    "AT": (1.8, "at", (("DE", 1),)),
    "CH": (1.5, "ch", (("DE", 0.7), ("FR", 0.2), ("IT", 0.1))),
    "LU": (0.3, "lu", (("FR", 1),)),
    "LT": (1, "lt", (("LT", 1),)),
    "LV": (0.8, "lv", (("LV", 1),)),
    "EE": (0.7, "ee", (("EE", 1),)),
    "MT": (0.4, "com.mt", (("MT", 1),)),
    "GE": (0.8, "ge", (("GE", 1),)),
    "AM": (0.6, "am", (("AM", 1),)),
}
# Where those who work abroad live.
ABROAD = {"DE": 5, "GB": 4, "IE": 2, "NL": 2, "FR": 2, "BE": 2, "SE": 1, "NO": 1, "CH": 1}


def letters(script: str, latin: str) -> dict[str, str]:
    """Each letter of ``script`` and how it is written in Latin letters (space-separated)."""
    return dict(zip(script, latin.split(" "), strict=True))


_TRANSLITERATION = {
    # Greek (accents are gone by now: name_search_key strips them)
    **letters("αβγδεζηθικλμνξοπρστυφχψω", "a b g d e z i th i k l m n x o p r s t u f ch ps o"),
    # Cyrillic: Bulgarian, Serbian, Macedonian, Ukrainian
    **letters(
        "абвгґдеєжзиіїйклмнопрстуфхцчшщъьюяђјљњћџѓќѕ",
        "a b v g g d e ye zh z i i yi y k l m n o p r s t u f h ts ch sh sht a _ yu ya"
        " dj j lj nj c dz gj kj dz",
    ),
    # Georgian
    **letters(
        "აბგდევზთიკლმნოპჟრსტუფქღყშჩცძწჭხჯჰ",
        "a b g d e v z t i k l m n o p zh r s t u p k gh q sh ch ts dz ts ch kh j h",
    ),
    # Armenian
    **letters(
        "աբգդեզէըթժիլխծկհձղճմյնշոչպջռսվտրցւփքօֆ",
        "a b g d e z e y t zh i l kh ts k h dz gh ch m y n sh o ch p j r s v t r ts v p k o f",
    ),
}
_TRANSLITERATION["ь"] = ""


@functools.cache
def ascii_part(text: str) -> str:
    """``text`` as letters and digits an e-mail address would use."""
    folded = "".join(_TRANSLITERATION.get(ch, ch) for ch in name_search_key(text))
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())


class People:
    """Names, countries and unique e-mails, drawn from ``rng``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken: dict[str, int] = {}
        self.countries = list(COUNTRIES)
        self.weights = [COUNTRIES[c][0] for c in self.countries]

    def family_name(self, source: Names, female: bool) -> str:
        forms = self.rng.choice(source.family)
        return forms[1] if female else forms[0]

    def person(self) -> tuple[str, str, str | None]:
        rng = self.rng
        origin = rng.choices(self.countries, self.weights)[0]
        sources = COUNTRIES[origin][2]
        key = rng.choices([s for s, _ in sources], [w for _, w in sources])[0]
        source = NAMES[key]
        female = rng.random() < 0.62
        pool = source.female if female else source.male
        given = rng.choice(pool)
        if source.order == "western" and rng.random() < 0.1:
            second = rng.choice(pool)
            if second != given:
                given = f"{given}{source.joiner}{second}"
        family = self.family_name(source, female)
        if source.order == "double":
            other = self.family_name(source, female)
            if other != family:
                family = f"{family} {other}"
        elif source.order == "western" and rng.random() < 0.025:
            # A double-barrelled name, now and then across scripts.
            partner = NAMES[rng.choice(list(NAMES))] if rng.random() < 0.3 else source
            if partner.order == "western":
                second_family = self.family_name(partner, female)
                if second_family != family:
                    family = f"{family}-{second_family}"
        given, family = unicodedata.normalize("NFC", given), unicodedata.normalize("NFC", family)
        if source.order == "family-first":
            full_name = f"{family} {given}"
            given_for_email = given.split()[-1]
        else:
            full_name = f"{given} {family}"
            given_for_email = given.split()[0].split("-")[0]

        roll = rng.random()
        if roll < 0.015:
            country = None
        elif roll < 0.095:
            country = rng.choices(list(ABROAD), list(ABROAD.values()))[0]
        else:
            country = origin
        domain = "example." + COUNTRIES[country or origin][1]
        local = f"{ascii_part(given_for_email)}.{ascii_part(family)}".strip(".") or "candidate"
        base = f"{local}@{domain}"
        seen = self.taken.get(base, 0) + 1
        self.taken[base] = seen
        email = base if seen == 1 else f"{local}{seen}@{domain}"
        return full_name, email, country


# ---------------------------------------------------------------- generating the rows


@dataclass
class Candidate:
    id: int
    full_name: str
    email: str
    country: str | None
    created_at: dt.datetime
    start: int  # the day (ordinal) they began
    plan_size: int = 0  # courses they mean to take; 0: only registered
    plan: list[int] = field(default_factory=list)  # course indices, in the order taken
    done: int = 0
    pace: float = 60.0
    credits: list[tuple[int, int]] = field(default_factory=list)  # (day, course index)
    attempts: dict[str, list[tuple[int, Decimal]]] = field(default_factory=dict)


@dataclass
class CertificateRow:
    candidate: Candidate
    programme: ProgrammeSpec
    code: str
    holder_name: str
    credits_total: Decimal
    credits_by_domain: dict[str, str]
    issued_at: dt.datetime
    issued_on: dt.date
    expires_on: dt.date
    issued_by: int
    revoked_at: dt.datetime | None = None
    revocation_reason: str | None = None
    revoked_by: int | None = None
    superseded_by: CertificateRow | None = None
    superseded_at: dt.datetime | None = None
    id: int = 0

    @property
    def is_current(self) -> bool:
        return self.revoked_at is None and self.superseded_by is None


@dataclass
class Dataset:
    today: dt.date
    candidates: list[Candidate]
    certificates: list[CertificateRow]
    eligible_today: dict[str, int]
    mismatches: int  # candidates the script's own eligibility test judged otherwise than the engine


def tenths(value: Decimal) -> int:
    return int(value * 10)


@functools.cache
def window_start(day: int, months: int) -> int:
    return subtract_months(dt.date.fromordinal(day), months).toordinal()


class Rule:
    """A programme's own requirements (not its prerequisite) in whole tenths of credits: a
    quick test to find the day a candidate first met them. The engine has the last word."""

    def __init__(self, spec: ProgrammeSpec) -> None:
        self.spec = spec
        self.total = tenths(spec.min_total_credits)
        self.minimums = [(DOMAINS.index(d), tenths(m)) for d, m in spec.domain_minimums.items()]
        self.assessments = [(code, ASSESSMENT[code].pass_mark) for code in spec.assessments]
        self.window = spec.credit_window_months

    def credits_on(self, person: Candidate, day: int) -> tuple[int, list[int]]:
        earliest = window_start(day, self.window)
        total, by_domain = 0, [0] * len(DOMAINS)
        for completed, course in person.credits:
            if completed > day:
                break
            if completed >= earliest:
                total += COURSE_TENTHS[course]
                by_domain[COURSE_DOMAIN[course]] += COURSE_TENTHS[course]
        return total, by_domain

    def met_on(self, person: Candidate, day: int) -> bool:
        total, by_domain = self.credits_on(person, day)
        if total < self.total or any(by_domain[d] < m for d, m in self.minimums):
            return False
        return all(
            any(taken <= day and score >= mark for taken, score in person.attempts.get(code, ()))
            for code, mark in self.assessments
        )

    def first_met(self, person: Candidate, prerequisite: Callable[[int], bool]) -> int | None:
        """The first day ``person`` met these requirements (and the prerequisite), if ever."""
        passed_on = []
        for code, mark in self.assessments:
            days = [t for t, s in person.attempts.get(code, ()) if s >= mark]
            if not days:
                return None
            passed_on.append(min(days))
        ever = sum(COURSE_TENTHS[c] for _, c in person.credits)
        if ever < self.total:
            return None
        earliest_possible = max(passed_on, default=0)
        days = sorted(
            {t for t, _ in person.credits}
            | {t for attempts in person.attempts.values() for t, _ in attempts}
        )
        for day in days:
            if day >= earliest_possible and self.met_on(person, day) and prerequisite(day):
                return day
        return None


class Generator:
    def __init__(self, scale: float, seed: int, today: dt.date, now: dt.datetime) -> None:
        self.rng = random.Random(seed)
        self.scale = scale
        self.today = today
        self.today_day = today.toordinal()
        self.now = now
        self.zone = ZoneInfo(default_config.APP_TIMEZONE)
        self.sizes = {key: max(1, round(value * scale)) for key, value in FULL_SIZE.items()}
        self.codes: set[str] = set()

    # -- helpers

    def moment(self, day: int) -> dt.datetime:
        """A moment in office hours (programme time) on ``day``, in UTC, never in the future."""
        local = dt.datetime.combine(
            dt.date.fromordinal(min(day, self.today_day)),
            dt.time(8, 0),
            tzinfo=self.zone,
        ) + dt.timedelta(seconds=self.rng.randrange(10 * 3600))
        moment = local.astimezone(dt.UTC)
        if moment > self.now:
            moment = self.now - dt.timedelta(seconds=self.rng.randrange(60, 3600))
        return moment

    def score(self, ability: float, spread: float) -> Decimal:
        halves = round(min(100.0, max(0.0, self.rng.gauss(ability, spread))) * 2)
        return Decimal(halves) / 2

    def new_code(self, prefix: str) -> str:
        while True:
            body = "".join(self.rng.choice(ALPHABET) for _ in range(RANDOM_SYMBOLS))
            code = format_code(prefix, body + check_symbol(body))
            if code not in self.codes:
                self.codes.add(code)
                return code

    # -- candidates

    def candidates(self) -> list[Candidate]:
        rng, people = self.rng, People(self.rng)
        horizon = int(YEARS_BACK * 365)
        made = []
        for _ in range(self.sizes["candidates"]):
            full_name, email, country = people.person()
            # More candidates began recently than long ago: the programme grows.
            started_ago = int(horizon * (1 - math.sqrt(rng.random())))
            start = self.today_day - started_ago
            created = self.moment(start - rng.randrange(0, 30))
            person = Candidate(0, full_name, email, country, created, start)
            if rng.random() >= 0.07:  # the others have only registered
                size = min(20, max(1, round(rng.gauss(12.5, 4.5))))
                person.pace = rng.uniform(30, 110)
                person.done = min(size, started_ago // int(person.pace) + 1)
                person.plan_size = size
            made.append(person)
        made.sort(key=lambda p: p.created_at)
        for number, person in enumerate(made, start=len(ADMINS) + 1):
            person.id = number
        return made

    def fit_credit_total(self, people: list[Candidate]) -> None:
        """Add or take away completed courses until there are exactly as many as asked."""
        rng, target = self.rng, self.sizes["credit_records"]
        total = sum(p.done for p in people)
        active = [p for p in people if p.plan_size]
        if not active:
            return
        while total != target:
            person = rng.choice(active)
            if total < target and person.done < 20:
                person.done += 1
                total += 1
            elif total > target and person.done > 1:
                person.done -= 1
                total -= 1

    def choose_courses(self, person: Candidate) -> None:
        rng = self.rng
        size = max(person.plan_size, person.done)
        # Candidates order the catalogue by taste (weighted: popular courses first).
        keyed = sorted(
            ((rng.random() ** (1.0 / COURSE_WEIGHT[c]), c) for c in range(len(COURSES))),
            reverse=True,
        )
        order = [c for _, c in keyed]
        chosen: list[int] = []
        if rng.random() < 0.85:  # most plan to cover every domain the award asks for
            spec = DIPLOMA if size >= 14 else CERTIFICATE
            for domain, minimum in spec.domain_minimums.items():
                need, index = tenths(minimum), DOMAINS.index(domain)
                for course in order:
                    if need <= 0:
                        break
                    if COURSE_DOMAIN[course] == index and course not in chosen:
                        chosen.append(course)
                        need -= COURSE_TENTHS[course]
        for course in order:
            if len(chosen) >= size:
                break
            if course not in chosen:
                chosen.append(course)
        rng.shuffle(chosen)
        person.plan = chosen[:size]

        # Completion days: one course after another at the candidate's pace, squeezed into
        # the time since they began when the pace would run past today.
        offsets, elapsed = [], 0.0
        for _ in range(person.done):
            elapsed += person.pace * rng.uniform(0.5, 1.5)
            offsets.append(elapsed)
        available = self.today_day - person.start
        if offsets and offsets[-1] > available:
            squeeze = available * rng.uniform(0.8, 1.0) / offsets[-1]
            offsets = [o * squeeze for o in offsets]
        person.credits = [
            (min(self.today_day, person.start + int(o)), course)
            for o, course in zip(offsets, person.plan, strict=False)
        ]

    # -- assessments

    def sit(
        self,
        person: Candidate,
        code: str,
        first: int,
        ability: float,
        spread: float,
        retake: float,
    ) -> None:
        assessment = ASSESSMENT[code]
        attempts: list[tuple[int, Decimal]] = []
        day = first
        while len(attempts) < assessment.max_attempts and day <= self.today_day:
            score = self.score(ability, spread)
            attempts.append((day, score))
            if score >= assessment.pass_mark or self.rng.random() > retake:
                break
            day += self.rng.randint(45, 150)
        if attempts:
            person.attempts[code] = attempts

    def passed_on(self, person: Candidate, code: str) -> int | None:
        mark = ASSESSMENT[code].pass_mark
        return next((day for day, score in person.attempts.get(code, ()) if score >= mark), None)

    def day_reaching(self, person: Candidate, credits: Decimal) -> int:
        """The day the candidate's credits reached ``credits`` (or their last credit's)."""
        total = 0
        for day, course in person.credits:
            total += COURSE_TENTHS[course]
            if total >= tenths(credits):
                return day
        return person.credits[-1][0]

    def assessments(self, person: Candidate) -> None:
        rng = self.rng
        ever = Decimal(sum(COURSE_TENTHS[c] for _, c in person.credits)) / 10
        if ever >= 10 and rng.random() < 0.96:
            first = self.day_reaching(person, Decimal(20)) + rng.randint(14, 120)
            self.sit(person, "CERT-EXAM", first, rng.gauss(60, 10), 10, 0.9)
        certified = self.passed_on(person, "CERT-EXAM")
        if certified is None:
            return
        if ever >= 25 and rng.random() < 0.95:
            first = max(certified, self.day_reaching(person, Decimal(35))) + rng.randint(20, 150)
            self.sit(person, "DIPL-EXAM", first, rng.gauss(67, 10), 10, 0.9)
        if ever >= 30 and rng.random() < 0.9:
            first = max(certified, self.day_reaching(person, Decimal(40))) + rng.randint(40, 200)
            self.sit(person, "DIPL-PROJ", first, rng.gauss(58, 12), 10, 0.9)

    def fit_attempt_total(self, people: list[Candidate]) -> None:
        """Take away last attempts, or add retakes, until there are exactly as many as asked."""
        rng, target = self.rng, self.sizes["assessment_attempts"]
        total = sum(len(a) for p in people for a in p.attempts.values())
        sittings = [(p, code) for p in people for code in p.attempts]
        while total > target and sittings:
            index = rng.randrange(len(sittings))
            person, code = sittings[index]
            attempts = person.attempts[code]
            attempts.pop()
            total -= 1
            if not attempts:
                del person.attempts[code]
                sittings[index] = sittings[-1]
                sittings.pop()
        # Too few: retakes after a failed attempt, then first sittings of the Certificate
        # examination, for candidates who have attempts or credits to spare.
        retakes = [
            (p, code)
            for p, code in sittings
            if len(p.attempts[code]) < ASSESSMENT[code].max_attempts
            and p.attempts[code][-1][1] < ASSESSMENT[code].pass_mark
        ]
        newcomers = [p for p in people if p.credits and "CERT-EXAM" not in p.attempts]
        rng.shuffle(retakes)
        rng.shuffle(newcomers)
        while total < target:
            if retakes:
                person, code = retakes.pop()
                after = person.attempts[code][-1][0]
            elif newcomers:
                person, code = newcomers.pop(), "CERT-EXAM"
                after = person.credits[-1][0]
            else:
                raise RuntimeError("cannot make enough attempts: ask for fewer")
            day = min(self.today_day, after + rng.randint(45, 150))
            mark = float(ASSESSMENT[code].pass_mark)
            person.attempts.setdefault(code, []).append((day, self.score(mark, 12)))
            total += 1

    # -- certificates

    def snapshot_credits(self, person: Candidate, spec: ProgrammeSpec, day: int) -> dict[str, str]:
        _total, by_domain = Rule(spec).credits_on(person, day)
        return {
            DOMAINS[d]: str(Decimal(t).scaleb(-1))
            for d, t in sorted(enumerate(by_domain), key=lambda item: DOMAINS[item[0]])
            if t
        }

    def issue(self, person: Candidate, spec: ProgrammeSpec, day: int) -> CertificateRow:
        by_domain = self.snapshot_credits(person, spec, day)
        issued_on = dt.date.fromordinal(day)
        return CertificateRow(
            candidate=person,
            programme=spec,
            code=self.new_code(CODE_PREFIX[spec.level]),
            holder_name=person.full_name,
            credits_total=sum((Decimal(v) for v in by_domain.values()), Decimal(0)),
            credits_by_domain=by_domain,
            issued_at=self.moment(day),
            issued_on=issued_on,
            expires_on=subtract_months(issued_on, -spec.validity_months),
            issued_by=self.rng.choice(ADMIN_IDS),
        )

    def pick(self, pool: list[tuple[Candidate, int]], count: int) -> list[tuple[Candidate, int]]:
        """``count`` of the pool, those eligible for longer more likely (they had time to
        be issued), by weighted sampling without replacement."""
        rng = self.rng
        keyed = []
        for person, since in pool:
            weight = 0.15 + min(1.0, (self.today_day - since) / 365)
            keyed.append((rng.random() ** (1.0 / weight), person.id, person, since))
        keyed.sort(reverse=True)
        chosen = [(person, since) for _, _, person, since in keyed[:count]]
        chosen.sort(key=lambda item: item[0].id)
        return chosen

    def certificates(self, people: list[Candidate]) -> list[CertificateRow]:
        rng = self.rng
        certificate_rule, diploma_rule = Rule(CERTIFICATE), Rule(DIPLOMA)
        wanted = self.sizes["certificates"]
        issued: list[CertificateRow] = []
        held_since: dict[int, int] = {}

        def issue_day(since: int, rule: Rule, person: Candidate) -> int:
            day = min(self.today_day, since + 3 + int(rng.expovariate(1 / 40)))
            return day if rule.met_on(person, day) else since

        eligible_once = []
        for person in people:
            since = certificate_rule.first_met(person, lambda _day: True)
            if since is not None:
                eligible_once.append((person, since))
        for person, since in self.pick(eligible_once, round(wanted * (1 - DIPLOMA_SHARE))):
            row = self.issue(person, CERTIFICATE, issue_day(since, certificate_rule, person))
            issued.append(row)
            held_since[person.id] = row.issued_on.toordinal()

        diploma_once = []
        for person in people:

            def prerequisite(day: int, person: Candidate = person) -> bool:
                held = held_since.get(person.id)
                return (held is not None and held <= day) or certificate_rule.met_on(person, day)

            since = diploma_rule.first_met(person, prerequisite)
            if since is not None:
                diploma_once.append((person, since))
        for person, since in self.pick(diploma_once, round(wanted * DIPLOMA_SHARE)):
            issued.append(self.issue(person, DIPLOMA, issue_day(since, diploma_rule, person)))

        replacements = []
        for row in issued:
            roll = rng.random()
            if roll < REVOKED_SHARE:
                row.revoked_at = min(
                    row.issued_at + dt.timedelta(days=rng.randint(1, 400)),
                    self.now - dt.timedelta(hours=1),
                )
                row.revocation_reason = rng.choice(REVOCATION_REASONS)
                row.revoked_by = rng.choice(ADMIN_IDS)
            elif roll < REVOKED_SHARE + SUPERSEDED_SHARE:
                # A name printed wrongly, corrected by a reissue: same award, credits, dates.
                moment = min(
                    row.issued_at + dt.timedelta(days=rng.randint(2, 240)),
                    self.now - dt.timedelta(minutes=30),
                )
                replacement = CertificateRow(
                    candidate=row.candidate,
                    programme=row.programme,
                    code=self.new_code(CODE_PREFIX[row.programme.level]),
                    holder_name=row.candidate.full_name,
                    credits_total=row.credits_total,
                    credits_by_domain=dict(row.credits_by_domain),
                    issued_at=moment,
                    issued_on=row.issued_on,
                    expires_on=row.expires_on,
                    issued_by=rng.choice(ADMIN_IDS),
                )
                row.holder_name = misspelt(row.holder_name, rng)
                row.superseded_by, row.superseded_at = replacement, moment
                replacements.append(replacement)
        every = sorted([*issued, *replacements], key=lambda r: (r.issued_at, r.code))
        for number, row in enumerate(every, start=1):
            row.id = number
        return every

    # -- everything

    def build(self) -> Dataset:
        people = self.candidates()
        self.fit_credit_total(people)
        for person in people:
            if person.plan_size:
                self.choose_courses(person)
                if person.credits:
                    self.assessments(person)
        self.fit_attempt_total(people)
        for person in people:
            for attempts in person.attempts.values():
                attempts.sort()
        certificates = self.certificates(people)
        eligible, mismatches = engine_check(people, certificates, self.today)
        return Dataset(self.today, people, certificates, eligible, mismatches)


def misspelt(name: str, rng: random.Random) -> str:
    """How a name was first printed before a correction: without its accents, or (where
    there are none) with two letters of the family name swapped."""
    stripped = "".join(
        ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)
    )
    if stripped != name:
        return unicodedata.normalize("NFC", stripped)
    head, _, tail = name.rpartition(" ")
    if len(tail) > 3:
        i = rng.randrange(1, len(tail) - 2)
        tail = tail[:i] + tail[i + 1] + tail[i] + tail[i + 2 :]
    return f"{head} {tail}".strip()


def engine_rules() -> dict[str, ProgrammeRules]:
    def rules(spec: ProgrammeSpec, prerequisite: ProgrammeRules | None) -> ProgrammeRules:
        return ProgrammeRules(
            code=spec.code,
            title=spec.title,
            min_total_credits=spec.min_total_credits,
            domain_minimums=dict(spec.domain_minimums),
            required_assessments=tuple(
                AssessmentRule(a.code, a.title, a.pass_mark, a.max_attempts)
                for a in (ASSESSMENT[code] for code in spec.assessments)
            ),
            prerequisite=prerequisite,
            credit_window_months=spec.credit_window_months,
        )

    certificate = rules(CERTIFICATE, None)
    return {"EII-C": certificate, "EII-D": rules(DIPLOMA, certificate)}


def engine_check(
    people: list[Candidate], certificates: list[CertificateRow], today: dt.date
) -> tuple[dict[str, int], int]:
    """Who is eligible today for each award, as the progress engine itself judges, and how
    many candidates the script's own quick test judged otherwise for EII-C (should be 0)."""
    rules = engine_rules()
    quick = Rule(CERTIFICATE)
    held: dict[int, set[str]] = {}
    for row in certificates:
        if row.is_current and row.expires_on >= today:
            held.setdefault(row.candidate.id, set()).add(row.programme.code)
    credit_entries: dict[tuple[int, int], CreditEntry] = {}
    eligible = dict.fromkeys(rules, 0)
    mismatches = 0
    for person in people:
        entries = []
        for day, course in person.credits:
            entry = credit_entries.get((day, course))
            if entry is None:
                entry = CreditEntry(
                    COURSE_CODES[course],
                    DOMAINS[COURSE_DOMAIN[course]],
                    Decimal(COURSE_TENTHS[course]).scaleb(-1),
                    dt.date.fromordinal(day),
                )
                credit_entries[(day, course)] = entry
            entries.append(entry)
        transcript = Transcript(
            credits=tuple(entries),
            attempts=tuple(
                AttemptEntry(code, score, dt.date.fromordinal(day))
                for code, attempts in person.attempts.items()
                for day, score in attempts
            ),
            held_awards=frozenset(held.get(person.id, ())),
        )
        for code, programme_rules in rules.items():
            if evaluate_progress(programme_rules, transcript, today).eligible:
                eligible[code] += 1
                if code == "EII-C" and not quick.met_on(person, today.toordinal()):
                    mismatches += 1
            elif code == "EII-C" and quick.met_on(person, today.toordinal()):
                mismatches += 1
    return eligible, mismatches


# ---------------------------------------------------------------- the tables, as rows


@dataclass
class Table:
    name: str
    layout: str  # "column:kind ..."; kinds: int, str, date, datetime, decimal, bool, json, bytes
    rows: Callable[[], Iterable[tuple[Any, ...]]]
    count: int

    @property
    def columns(self) -> list[str]:
        return [part.split(":")[0] for part in self.layout.split(" ")]

    @property
    def kinds(self) -> list[str]:
        return [part.split(":")[1] for part in self.layout.split(" ")]


def tables(
    data: Dataset,
    ids: dict[str, dict[str, int]],
    issuers: list[dict[str, Any]],
    pdf: bytes,
) -> list[Table]:
    """The rows of every bulk-loaded table, in load order, with their database ids."""
    rng = random.Random(SEED + 1)
    course_id = [ids["course"][code] for code in COURSE_CODES]
    assessment_id = ids["assessment"]
    programme_id = ids["programme"]
    today = data.today.toordinal()
    zone = ZoneInfo(default_config.APP_TIMEZONE)
    now = dt.datetime.now(dt.UTC)

    def recorded(day: int) -> dt.datetime:
        moment = dt.datetime.combine(
            dt.date.fromordinal(min(today, day + rng.randrange(0, 15))),
            dt.time(8, 0),
            tzinfo=zone,
        ) + dt.timedelta(seconds=rng.randrange(10 * 3600))
        moment = moment.astimezone(dt.UTC)
        return moment if moment <= now else now - dt.timedelta(seconds=rng.randrange(60, 7200))

    def recorder() -> int | None:
        return rng.choice(ADMIN_IDS) if rng.random() < 0.95 else None

    # Ids follow the order things were recorded in, as they would in a live register: a
    # candidate's records lie scattered over the table, not side by side.
    credits = sorted(
        (recorded(day), person.id, course_id[course], dt.date.fromordinal(day), recorder())
        for person in data.candidates
        for day, course in person.credits
    )
    attempts = sorted(
        (
            recorded(day),
            person.id,
            assessment_id[code],
            number,
            score,
            dt.date.fromordinal(day),
            recorder(),
        )
        for person in data.candidates
        for code, sittings in person.attempts.items()
        for number, (day, score) in enumerate(sittings, start=1)
    )
    digest = hashlib.sha256(pdf).hexdigest()
    issuers_json = json.dumps(issuers)

    def candidate_rows() -> Iterator[tuple[Any, ...]]:
        for p in data.candidates:
            name_key = name_search_key(p.full_name)
            yield (
                p.id,
                p.email,
                p.full_name,
                name_key,
                p.country,
                "candidate",
                True,
                p.created_at,
                0,
            )

    def credit_rows() -> Iterator[tuple[Any, ...]]:
        for number, (at, candidate, course, completed_on, by) in enumerate(credits, start=1):
            yield (number, candidate, course, completed_on, at, by)

    def attempt_rows() -> Iterator[tuple[Any, ...]]:
        for number, (at, candidate, assessment, attempt, score, taken_on, by) in enumerate(
            attempts, start=1
        ):
            yield (number, candidate, assessment, attempt, score, taken_on, at, by)

    def certificate_rows() -> Iterator[tuple[Any, ...]]:
        for c in data.certificates:
            spec = c.programme
            yield (
                c.id,
                c.code,
                c.candidate.id,
                programme_id[spec.code],
                c.is_current,
                c.holder_name,
                spec.title,
                spec.level,
                spec.eqf_level,
                c.credits_total,
                json.dumps(c.credits_by_domain),
                issuers_json,
                c.issued_at,
                c.issued_on,
                c.expires_on,
                f"{PUBLIC_BASE_URL}/verify/{c.code}",
                digest,
                c.issued_by,
                c.revoked_at,
                c.revocation_reason,
                c.revoked_by,
                c.superseded_by.id if c.superseded_by else None,
                c.superseded_at,
            )

    return [
        Table(
            "user_account",
            "id:int email:str full_name:str name_key:str country:str role:str active:bool"
            " created_at:datetime session_epoch:int",
            candidate_rows,
            len(data.candidates),
        ),
        Table(
            "credit_record",
            "id:int candidate_id:int course_id:int completed_on:date recorded_at:datetime"
            " recorded_by_id:int",
            credit_rows,
            len(credits),
        ),
        Table(
            "assessment_attempt",
            "id:int candidate_id:int assessment_id:int attempt_number:int score:decimal"
            " taken_on:date recorded_at:datetime recorded_by_id:int",
            attempt_rows,
            len(attempts),
        ),
        Table(
            "certificate",
            "id:int code:str candidate_id:int programme_id:int is_current:bool holder_name:str"
            " award_title:str level:str eqf_level:int credits_total:decimal"
            " credits_by_domain:json issuers:json issued_at:datetime issued_on:date"
            " expires_on:date verify_url:str pdf_sha256:str issued_by_id:int"
            " revoked_at:datetime revocation_reason:str revoked_by_id:int superseded_by_id:int"
            " superseded_at:datetime",
            certificate_rows,
            len(data.certificates),
        ),
        Table(
            "certificate_pdf",
            "certificate_id:int pdf:bytes",
            lambda: ((c.id, pdf) for c in data.certificates),
            len(data.certificates),
        ),
    ]


# ---------------------------------------------------------------- the app and the schema


def secret_key() -> str:
    """The bench folder's own SECRET_KEY (it encrypts the administrators' TOTP secrets)."""
    DATA.mkdir(parents=True, exist_ok=True)
    if not SECRET_FILE.exists():
        SECRET_FILE.write_text(secrets.token_hex(32))
        SECRET_FILE.chmod(0o600)
    return SECRET_FILE.read_text().strip()


def open_app(database_url: str, **config: Any) -> Flask:
    """The app on ``database_url``, with the bench folder as its instance folder."""
    from certification import create_app

    INSTANCE.mkdir(parents=True, exist_ok=True)
    os.environ["INSTANCE_PATH"] = str(INSTANCE)
    return create_app(
        {
            "SECRET_KEY": secret_key(),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "QUEUE_URL": "memory://",
            "RATELIMIT_ENABLED": False,
            **config,
        }
    )


def sqlite_url() -> str:
    return f"sqlite:///{SQLITE_FILE}"


def check_postgres_url(url: str) -> sa.URL:
    parsed = sa.make_url(url)
    if not (parsed.database or "").startswith("bench_"):
        raise SystemExit(
            f"Refusing to drop and rebuild {parsed.database!r}: the dataset's database must be"
            " named bench_something."
        )
    return parsed


def programme_today(app: Flask) -> dt.date:
    return dt.datetime.now(ZoneInfo(app.config["APP_TIMEZONE"])).date()


def migration_heads(app: Flask) -> set[str]:
    from alembic.script import ScriptDirectory

    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        return set(ScriptDirectory.from_config(config).get_heads())


def database_revisions(app: Flask) -> set[str]:
    from certification.extensions import db

    with app.app_context():
        try:
            return set(db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))
        except sa.exc.DBAPIError:
            return set()
        finally:
            db.session.remove()


def ensure_demo_keys() -> None:
    from certification.certificates.branding import DEFAULT_PARTNER_BODIES
    from certification.certificates.signing import make_demo_keys
    from certification.credentials.keys import make_credential_key

    keys = INSTANCE / "keys"
    if not (keys / "demo-ca.pem").exists():
        make_demo_keys(keys, {str(b["short_name"]): str(b["name"]) for b in DEFAULT_PARTNER_BODIES})
    for key_id in ("efrs-2026", "eusomii-2026"):  # where the default CREDENTIAL_KEYS look
        if not (keys / f"{key_id}.credential.pem").exists():
            make_credential_key(keys / f"{key_id}.credential.pem")


def create_schema_and_catalogue(
    app: Flask,
) -> tuple[dict[str, dict[str, int]], list[dict[str, Any]]]:
    """Migrations, then the catalogue, the administrators and the signatories; the ids of
    what was made and the issuers as a certificate issued now prints them."""
    from flask_migrate import upgrade

    from certification.auth.models import Role, User
    from certification.auth.passwords import hash_password
    from certification.catalogue.models import (
        Assessment,
        Course,
        DomainMinimum,
        Level,
        Programme,
        Provider,
    )
    from certification.certificates.models import PartnerBody
    from certification.certificates.services import current_issuers
    from certification.extensions import db

    with app.app_context():
        upgrade()
        for admin_id, email, full_name in ADMINS:
            db.session.add(
                User(
                    id=admin_id,
                    email=email,
                    full_name=full_name,
                    name_key=name_search_key(full_name),
                    role=Role.OFFICE,
                    # A throwaway password; bench_scale sets its own before it logs in.
                    password_hash=hash_password(secrets.token_urlsafe(24)),
                )
            )
        providers: dict[str, Provider] = {}
        for number, (code, title, credits, domain, provider) in enumerate(COURSES, start=1):
            if provider not in providers:
                providers[provider] = Provider(name=provider)
            db.session.add(
                Course(
                    id=number,
                    code=code,
                    title=title,
                    credits=Decimal(credits),
                    domain=domain,
                    provided_by=providers[provider],
                )
            )
        assessments = {}
        for number, exam in enumerate(ASSESSMENTS, start=1):
            assessments[exam.code] = Assessment(
                id=number,
                code=exam.code,
                title=exam.title,
                pass_mark=exam.pass_mark,
                max_score=Decimal(100),
                max_attempts=exam.max_attempts,
            )
            db.session.add(assessments[exam.code])
        programmes: dict[str, Programme] = {}
        for number, spec in enumerate(PROGRAMMES, start=1):
            programmes[spec.code] = Programme(
                id=number,
                code=spec.code,
                title=spec.title,
                level=Level(spec.level),
                eqf_level=spec.eqf_level,
                min_total_credits=spec.min_total_credits,
                prerequisite=programmes[spec.prerequisite] if spec.prerequisite else None,
                validity_months=spec.validity_months,
                credit_window_months=spec.credit_window_months,
                domain_minimums=[
                    DomainMinimum(domain=d, min_credits=m) for d, m in spec.domain_minimums.items()
                ],
                required_assessments=[assessments[code] for code in spec.assessments],
            )
            db.session.add(programmes[spec.code])
        bodies = db.session.scalars(sa.select(PartnerBody).order_by(PartnerBody.position))
        for body, (signatory, title) in zip(bodies, SIGNATORIES, strict=True):
            body.signatory_name, body.signatory_title = signatory, title
        db.session.commit()
        issuers = current_issuers()
        ids = {
            "course": {code: number for number, code in enumerate(COURSE_CODES, start=1)},
            "assessment": {a.code: a.id for a in assessments.values()},
            "programme": {p.code: p.id for p in programmes.values()},
        }
        db.session.remove()
        db.engine.dispose()
    return ids, issuers


def sample_pdf(app: Flask) -> bytes:
    """One real sealed certificate PDF, rendered once and kept in the bench folder."""
    if SAMPLE_PDF.exists():
        return SAMPLE_PDF.read_bytes()
    from certification.certificates.services import sample_certificate
    from certification.extensions import db

    ensure_demo_keys()
    with app.app_context():
        pdf = sample_certificate("Αικατερίνη Παπαδοπούλου-Wiśniewska").pdf
        db.session.remove()
        db.engine.dispose()
    SAMPLE_PDF.write_bytes(pdf)
    return pdf


# ---------------------------------------------------------------- loading


def sqlite_value(kind: str) -> Callable[[Any], Any] | None:
    """How SQLAlchemy writes a value of ``kind`` into SQLite (None: as it is)."""
    writers: dict[str, Callable[[Any], Any]] = {
        "date": dt.date.isoformat,
        # UTCDateTime keeps naive UTC, written as SQLAlchemy's SQLite DATETIME writes it.
        "datetime": lambda v: (
            v.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        ),
        "decimal": str,  # ExactDecimal binds text on SQLite
        "bool": int,
    }
    return writers.get(kind)


def converted(
    rows: Iterable[tuple[Any, ...]], kinds: Sequence[str], convert: Callable[[str], Any]
) -> Iterator[tuple[Any, ...]]:
    steps = [(i, f) for i, kind in enumerate(kinds) if (f := convert(kind)) is not None]
    for row in rows:
        values = list(row)
        for i, function in steps:
            if values[i] is not None:
                values[i] = function(values[i])
        yield tuple(values)


def load_sqlite(path: Path, loads: list[Table], timings: dict[str, float]) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=MEMORY")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-1000000")  # 1 GB while loading
        connection.execute("PRAGMA temp_store=MEMORY")
        for table in loads:
            began = time.perf_counter()
            marks = ", ".join("?" * len(table.columns))
            statement = f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({marks})"  # noqa: S608 - this script's own table and column names
            connection.execute("BEGIN")
            connection.executemany(statement, converted(table.rows(), table.kinds, sqlite_value))
            connection.execute("COMMIT")
            step(timings, f"load {table.name} ({table.count:,} rows)", began)
        began = time.perf_counter()
        connection.execute("ANALYZE")
        connection.execute("PRAGMA journal_mode=WAL")
        step(timings, "ANALYZE", began)
    finally:
        connection.close()


# How each kind of value travels in a binary COPY (JSON arrives already as text).
POSTGRES_TYPES = {
    "int": "int4",
    "str": "text",
    "date": "date",
    "datetime": "timestamptz",
    "decimal": "numeric",
    "bool": "bool",
    "json": "text",
    "bytes": "bytea",
}


def load_postgres(url: sa.URL, loads: list[Table], timings: dict[str, float]) -> None:
    import psycopg

    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:
        for table in loads:
            began = time.perf_counter()
            columns = ", ".join(table.columns)
            statement = f"COPY {table.name} ({columns}) FROM STDIN (FORMAT BINARY)"
            with connection.cursor() as cursor, cursor.copy(statement) as copy:
                copy.set_types([POSTGRES_TYPES[kind] for kind in table.kinds])
                for row in table.rows():
                    copy.write_row(row)
            connection.commit()
            step(timings, f"load {table.name} ({table.count:,} rows)", began)
        with connection.cursor() as cursor:
            with_ids = (t.name for t in loads if t.columns[0] == "id")
            names = dict.fromkeys(["course", "assessment", "programme", *with_ids])
            for name in names:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'),"  # noqa: S608 - this script's own table names
                    f" (SELECT coalesce(max(id), 1) FROM {name}))"
                )
        connection.commit()
    began = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
    step(timings, "VACUUM ANALYZE", began)


def step(timings: dict[str, float], name: str, began: float) -> None:
    seconds = time.perf_counter() - began
    timings[name] = round(seconds, 2)
    print(f"  {name:<52} {seconds:8.1f} s", flush=True)


def refresh_all_standings(app: Flask, timings: dict[str, float]) -> bool:
    """Work out every candidate's standing, if the app can (another engineer's work)."""
    from certification.extensions import db

    try:
        from certification.records.standings import refresh_standings
    except ImportError as missing:
        print(f"  standings: not refreshed ({missing}); carrying on without them")
        return False
    began = time.perf_counter()
    with app.app_context():
        refresh_standings(None, programme_today(app))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # The standings are written after the load's vacuum: until one comes by, the
            # eligible lists' index-only scans visit the table for every row (page 500 took
            # 110-130 ms, not 20-40), and a checkpoint would still be writing the load out
            # while the first bench runs.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(sa.text("VACUUM (ANALYZE) programme_standing"))
                c.execute(sa.text("CHECKPOINT"))
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    step(timings, "refresh_standings(None, today), then vacuum or ANALYZE", began)
    return True


# ---------------------------------------------------------------- manifests and sizes


def manifest_path(kind: str) -> Path:
    return DATA / f"manifest-{kind}.json"


def read_manifest(kind: str) -> dict[str, Any] | None:
    path = manifest_path(kind)
    if not path.exists():
        return None
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except ValueError:
        return None
    return manifest


def write_manifest(kind: str, manifest: dict[str, Any]) -> None:
    manifest_path(kind).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def size_on_disk(kind: str, url: str) -> int:
    if kind == "sqlite":
        return sum(
            p.stat().st_size for p in SQLITE_FILE.parent.glob(SQLITE_FILE.name + "*") if p.is_file()
        )
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(sa.text("SELECT pg_database_size(current_database())")))
    finally:
        engine.dispose()


def exists(kind: str, url: str) -> bool:
    if kind == "sqlite":
        return SQLITE_FILE.exists()
    parsed = sa.make_url(url)
    server = sa.create_engine(parsed.set(database="postgres"))
    try:
        with server.connect() as connection:
            found = connection.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": parsed.database},
            )
            return found is not None
    except sa.exc.OperationalError:
        return False
    finally:
        server.dispose()


# ---------------------------------------------------------------- the command line


def add_database_options(parser: argparse.ArgumentParser) -> None:
    """``--sqlite-only`` or ``--postgres-only``, and ``--postgres-url``: the dataset's
    databases a command works on."""
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true")
    only.add_argument("--postgres-only", action="store_true")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help=f"default {DEFAULT_POSTGRES_URL}",
    )


def chosen_databases(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(kind, URL) of each database the options chose: SQLite, PostgreSQL, or both."""
    chosen = []
    if not args.postgres_only:
        chosen.append(("sqlite", sqlite_url()))
    if not args.sqlite_only:
        chosen.append(("postgresql", args.postgres_url))
    return chosen


def built_databases(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """The chosen databases that hold a dataset, to measure; a line for each that does not."""
    for kind, url in chosen_databases(args):
        if exists(kind, url):
            yield kind, url
        else:
            print(f"\nNo {kind} dataset: build it with .venv/bin/python bench/make_dataset.py")


def human(size: float) -> str:
    for unit in ("bytes", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


# ---------------------------------------------------------------- building


def fresh_database(kind: str, url: str) -> None:
    if kind == "sqlite":
        DATA.mkdir(parents=True, exist_ok=True)
        for path in SQLITE_FILE.parent.glob(SQLITE_FILE.name + "*"):
            path.unlink()
        return
    parsed = check_postgres_url(url)
    server = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        server.dispose()


def build(kind: str, url: str, data: Dataset, parameters: dict[str, Any]) -> dict[str, Any]:
    label = "SQLite" if kind == "sqlite" else "PostgreSQL"
    print(f"\n{label}: {sa.make_url(url).render_as_string(hide_password=True)}", flush=True)
    timings: dict[str, float] = {}
    total_began = time.perf_counter()

    began = time.perf_counter()
    fresh_database(kind, url)
    app = open_app(url)
    ids, issuers = create_schema_and_catalogue(app)
    step(timings, "schema (migrations), catalogue, administrators", began)

    began = time.perf_counter()
    pdf = sample_pdf(app)
    step(timings, f"sample sealed PDF ({len(pdf):,} bytes)", began)

    loads = tables(data, ids, issuers, pdf)
    if kind == "sqlite":
        load_sqlite(SQLITE_FILE, loads, timings)
    else:
        load_postgres(check_postgres_url(url), loads, timings)

    standings = refresh_all_standings(app, timings)
    total = time.perf_counter() - total_began
    size = size_on_disk(kind, url)
    print(f"  {'total':<52} {total:8.1f} s   size on disk {human(size)}", flush=True)
    manifest = {
        "parameters": parameters,
        "built_on": data.today.isoformat(),
        "eligible_today": data.eligible_today,
        "rows": {t.name: t.count for t in loads},
        "migrations": sorted(migration_heads(app)),
        "standings_refreshed": standings,
        "timings_seconds": {**timings, "total": round(total, 1)},
        "size_bytes": size,
    }
    write_manifest(kind, manifest)
    return manifest


def bring_up_to_date(kind: str, url: str, manifest: dict[str, Any]) -> None:
    """A kept dataset: apply newer migrations, and work out standings that are missing."""
    from flask_migrate import upgrade

    from certification.extensions import db

    app = open_app(url)
    heads, current = migration_heads(app), database_revisions(app)
    timings: dict[str, float] = {}
    changed = heads != current
    if changed:
        began = time.perf_counter()
        with app.app_context():
            upgrade()
            db.session.remove()
            db.engine.dispose()
        step(timings, f"upgraded the schema to {', '.join(sorted(heads))}", began)
    if changed or not manifest.get("standings_refreshed"):
        manifest["standings_refreshed"] = refresh_all_standings(app, timings)
    if timings:
        manifest["migrations"] = sorted(heads)
        manifest["size_bytes"] = size_on_disk(kind, url)
        manifest.setdefault("timings_seconds", {}).update(timings)
        write_manifest(kind, manifest)


def generate(scale: float, today: dt.date) -> Dataset:
    began = time.perf_counter()
    data = Generator(scale, SEED, today, dt.datetime.now(dt.UTC)).build()
    credits = sum(len(p.credits) for p in data.candidates)
    attempts = sum(len(a) for p in data.candidates for a in p.attempts.values())
    print(
        f"Generated in {time.perf_counter() - began:.1f} s: {len(data.candidates):,} candidates,"
        f" {credits:,} credit records, {attempts:,} assessment attempts,"
        f" {len(data.certificates):,} certificates",
        flush=True,
    )
    statuses: dict[str, int] = {}
    for row in data.certificates:
        if row.revoked_at:
            status = "revoked"
        elif row.superseded_by:
            status = "superseded"
        elif row.expires_on < today:
            status = "expired"
        else:
            status = "valid"
        statuses[status] = statuses.get(status, 0) + 1
    print(
        "  certificates: "
        + ", ".join(f"{n:,} {s}" for s, n in sorted(statuses.items()))
        + f"; eligible today (progress engine): {data.eligible_today['EII-C']:,} for EII-C,"
        f" {data.eligible_today['EII-D']:,} for EII-D",
        flush=True,
    )
    if data.mismatches:
        print(
            f"  note: the quick eligibility test disagreed with the engine {data.mismatches} times"
        )
    needed = math.ceil(MIN_ELIGIBLE_SHARE * len(data.candidates))
    if data.eligible_today["EII-C"] < needed:
        raise SystemExit(
            f"Only {data.eligible_today['EII-C']:,} candidates are eligible for EII-C today;"
            f" the dataset needs at least {needed:,}."
        )
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 is the full size (default)")
    parser.add_argument("--rebuild", action="store_true", help="build even if one is there")
    add_database_options(parser)
    args = parser.parse_args()
    if not 0 < args.scale <= 1:
        parser.error("--scale is a fraction of the full size, above 0 and at most 1")
    check_postgres_url(args.postgres_url)

    parameters = {
        "generator_version": GENERATOR_VERSION,
        "seed": SEED,
        "scale": args.scale,
        "sizes": {k: max(1, round(v * args.scale)) for k, v in FULL_SIZE.items()},
    }
    today = dt.datetime.now(ZoneInfo(default_config.APP_TIMEZONE)).date()

    data: Dataset | None = None
    for kind, url in chosen_databases(args):
        manifest = read_manifest(kind)
        kept = (
            not args.rebuild
            and manifest is not None
            and manifest.get("parameters") == parameters
            and exists(kind, url)
        )
        if kept:
            assert manifest is not None
            print(
                f"\n{kind}: the dataset built on {manifest['built_on']} with these parameters is"
                " there; kept (--rebuild to build it again)"
            )
            bring_up_to_date(kind, url, manifest)
            continue
        if data is None:
            data = generate(args.scale, today)
        build(kind, url, data, parameters)


if __name__ == "__main__":
    main()
