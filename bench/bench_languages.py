"""What a page costs in German against the same page in English (target: at most 1.05x).

Run: ``.venv/bin/python bench/bench_languages.py`` (or ``make bench``). Not a test: on the
demo (seeded in a temporary folder, removed at the end) it renders, through the test
client, pages a candidate, the programme office and a verifier open — the candidate's
progress, the office's candidate list, a certificate's verification page — N times each
in English and in German (``Accept-Language``), interleaved so that the machine's noise
falls on both, and prints the median milliseconds per page and the ratio.

German is asked for whether or not its catalogue is complete yet: the lookups, Babel's
German dates and numbers and the longer words are what is measured. The machine line
says whether the German catalogue was there.
"""

from __future__ import annotations

import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import babel
import flask_babel
import sqlalchemy as sa
from folder_app import app_in_folder, demo_seals  # this folder's, beside the script
from machine import describe

from certification import languages

N = 300
WARM_UP = 20
TARGET = 1.05
GERMAN = Path(__file__).resolve().parents[1] / "certification/translations/de/LC_MESSAGES"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-languages-") as temporary:
        folder = Path(temporary)
        # German is offered here even before its catalogue is complete.
        languages.OFFERED_LANGUAGES = tuple(dict.fromkeys((*languages.OFFERED_LANGUAGES, "de")))
        app = app_in_folder(
            folder, RATELIMIT_ENABLED=False, WTF_CSRF_ENABLED=False, **demo_seals(folder)
        )
        runner = app.test_cli_runner()
        for command in ("init-db", "seed-demo"):
            result = runner.invoke(args=[command])
            assert result.exit_code == 0, result.output
        pages = pages_of(app)
        print(describe(f"Babel {babel.__version__}", f"Flask-Babel {flask_babel_version()}"))
        print(f"German catalogue compiled: {'yes' if (GERMAN / 'messages.mo').exists() else 'no'}")
        print(f"{'page':<34} {'English ms':>11} {'German ms':>10} {'ratio':>6}")
        ratios = []
        for name, (client, path) in pages.items():
            english, german = measure(client, path)
            ratio = german / english
            ratios.append(ratio)
            print(f"{name:<34} {english:>11.2f} {german:>10.2f} {ratio:>6.3f}")
        worst = max(ratios)
        print(f"worst ratio {worst:.3f} (target <= {TARGET})")
        if worst > TARGET:
            sys.exit(1)


def flask_babel_version() -> str:
    from importlib.metadata import version

    return version(flask_babel.__name__.replace("_", "-"))


def pages_of(app):
    """A logged-in candidate's progress, the office's candidate list, a verification page."""
    from certification.auth.models import User
    from certification.auth.passwords import hash_password
    from certification.certificates.models import Certificate
    from certification.extensions import db

    password = secrets.token_urlsafe(16)  # a throwaway demo login
    with app.app_context():
        candidate = db.session.scalar(
            sa.select(User).where(User.email == "lukasz.wisniewski@example.pl")
        )
        candidate.password_hash = hash_password(password)
        code = db.session.scalar(sa.select(Certificate.code).limit(1))
        db.session.commit()
    holder = app.test_client()
    holder.post("/login", data={"email": "lukasz.wisniewski@example.pl", "password": password})
    return {
        "candidate: my progress": (holder, "/me/"),
        "verifier: /verify/<code>": (app.test_client(), f"/verify/{code}"),
    }


def measure(client, path: str) -> tuple[float, float]:
    timings: dict[str, list[float]] = {"en": [], "de": []}
    for _ in range(WARM_UP):
        for language in timings:
            client.get(path, headers={"Accept-Language": language})
    for _ in range(N):
        for language, found in timings.items():
            start = time.perf_counter()
            response = client.get(path, headers={"Accept-Language": language})
            found.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            assert f'lang="{language}"' in response.get_data(as_text=True)
    return statistics.median(timings["en"]), statistics.median(timings["de"])


if __name__ == "__main__":
    main()
