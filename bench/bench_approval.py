"""Bulk approval by both bodies against bulk issuing by the office, per certificate.

Run: ``.venv/bin/python bench/bench_approval.py`` (or ``make bench``). Not a test: it prints

1. the baseline, measured in the same run: a job issuing the award to 1,000 eligible
   candidates of a programme the office issues alone (render and seal in a pool of 2);
2. for the same 1,000 candidates of a jointly approved programme: the job requesting the
   award for all of them, EFRS's officer approving all 1,000 as a job (nothing to render:
   the other body has yet to approve), then EuSoMII's officer approving all 1,000 as a job
   (each approval completes a request: rendered, sealed by both bodies, stored);
3. the per-certificate cost of the approving job that issues (EuSoMII's) against the bulk
   issue's, with the target of at most 1.2x.

Each job runs in a fresh process on a fresh copy of a seeded temporary SQLite database.
``--candidates`` and ``--processes`` change the size and the pool.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGET = 1.2
CANDIDATES = 1000
PROCESSES = 2


def seed_folder(folder: Path, count: int, approval: str) -> None:
    """A database with EII-C (``approval``), ``count`` eligible candidates and demo keys;
    with both bodies, an officer of each."""
    sys.path.insert(0, str(HERE))
    from bench_issue import build_app, seed

    from certification.auth.models import Role
    from certification.auth.services import create_staff
    from certification.extensions import db
    from certification.web import today

    app = build_app(folder)
    with app.test_request_context():
        day = today()
    seed(app, day, count, approval=approval)
    with app.app_context():
        for body in ("EFRS", "EuSoMII"):
            create_staff(
                f"{body.lower()}@example.org", f"{body} Officer", "x" * 16, Role.OFFICER, body, None
            )
        db.session.commit()
        db.engine.dispose()  # checkpoints the WAL, so that copying the file copies it all


def run_jobs(folder: Path, steps: list[str], processes: int) -> list[dict[str, Any]]:
    """Run each step's job in this process: "issue" (the office's job for everyone
    eligible: issuing, or requesting for a joint award), or a body's name (its officer
    approving everything awaiting it). Timings as dicts."""
    sys.path.insert(0, str(HERE))
    from bench_bulk import open_app

    from certification.auth.models import User
    from certification.catalogue.services import get_programme
    from certification.certificates.bulk import (
        run_issue_job,
        start_approval_jobs,
        start_issue_job,
    )
    from certification.extensions import db
    from certification.web import today

    app = open_app(folder)
    with app.test_request_context():
        day = today()
    results = []
    with app.app_context():
        for step in steps:
            email = "bench@example.org" if step == "issue" else f"{step.lower()}@example.org"
            actor = db.session.scalar(db.select(User).where(User.email == email))
            began = time.perf_counter()
            if step == "issue":
                jobs = [start_issue_job(get_programme("EII-C"), actor, today=day, queue=False)]
            else:
                jobs = start_approval_jobs(actor, None, today=day, queue=False)
            db.session.commit()
            started = time.perf_counter()
            done = 0
            for job in jobs:
                progress = run_issue_job(job.id, today=day, processes=processes)
                assert progress is not None and progress.failed == 0, progress
                done += progress.issued
            finished = time.perf_counter()
            results.append(
                {
                    "step": step,
                    "done": done,
                    "start_seconds": started - began,
                    "run_seconds": finished - started,
                }
            )
        db.engine.dispose()
    return results


def child(*arguments: str) -> str:
    completed = subprocess.run(  # noqa: S603  (this script, fixed arguments)
        [sys.executable, __file__, *arguments], check=True, capture_output=True, text=True
    )
    return completed.stdout


def main(count: int, processes: int) -> None:
    sys.path.insert(0, str(HERE))
    from machine import describe

    with tempfile.TemporaryDirectory(prefix="bench-approval-") as temporary:
        folder = Path(temporary)
        runs: dict[str, list[dict[str, Any]]] = {}
        for approval, steps in (
            ("office", ["issue"]),
            ("both_bodies", ["issue", "EFRS", "EuSoMII"]),
        ):
            seeded = folder / approval
            print(f"Seeding {count} candidates ({approval})…", file=sys.stderr, flush=True)
            child("--seed", str(seeded), str(count), approval)
            print(f"Running {', '.join(steps)}…", file=sys.stderr, flush=True)
            output = child("--run", str(seeded), str(processes), *steps)
            runs[approval] = json.loads(output.splitlines()[-1])
            shutil.rmtree(seeded)

    print(f"Bulk approval: {count} candidates on SQLite, a pool of {processes} processes")
    print(f"Machine: {describe()}")
    print()
    print(f"{'job':<46}  {'done':>5}  {'start s':>8}  {'run s':>7}  {'ms each':>8}")
    names = {
        ("office", "issue"): "bulk issue, office alone (baseline)",
        ("both_bodies", "issue"): "bulk request, both bodies",
        ("both_bodies", "EFRS"): "EFRS approves all (first body)",
        ("both_bodies", "EuSoMII"): "EuSoMII approves all (last body: seals)",
    }
    for approval, results in runs.items():
        for run in results:
            each = 1000 * run["run_seconds"] / max(run["done"], 1)
            print(
                f"{names[(approval, run['step'])]:<46}  {run['done']:>5}  "
                f"{run['start_seconds']:8.2f}  {run['run_seconds']:7.2f}  {each:8.1f}"
            )
    baseline = runs["office"][0]
    last = runs["both_bodies"][-1]
    ratio = (last["run_seconds"] / last["done"]) / (baseline["run_seconds"] / baseline["done"])
    print()
    print(
        f"per certificate, last body's bulk approval / bulk issue: {ratio:.2f}x"
        f"   (target <= {TARGET}x: {'pass' if ratio <= TARGET else 'short'})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=CANDIDATES)
    parser.add_argument("--processes", type=int, default=PROCESSES)
    parser.add_argument("--seed", nargs=3, metavar=("FOLDER", "COUNT", "APPROVAL"))
    parser.add_argument("--run", nargs="+", metavar="FOLDER PROCESSES STEP")
    options = parser.parse_args()
    if options.seed:
        seed_folder(Path(options.seed[0]), int(options.seed[1]), options.seed[2])
    elif options.run:
        folder, processes, *steps = options.run
        print(json.dumps(run_jobs(Path(folder), steps, int(processes))))
    else:
        main(options.candidates, options.processes)
