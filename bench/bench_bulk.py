"""Bulk issuing throughput with 1 and 2 processes, and its peak memory.

Run: ``.venv/bin/python bench/bench_bulk.py`` (or ``make bench``). Not a test: it prints

1. certificates per second for a job issuing the award to 1,000 eligible candidates,
   rendering and sealing in 1 process (in the runner itself) and in a pool of 2, and the
   speed-up against the target of 1.7x;
2. the peak resident memory of the runner and of its pool processes, for 250 and for 5,000
   candidates (``--memory-candidates``): bulk issuing works in batches, so it should not
   grow with the candidates (target: at most 1.10x).

Each figure comes from a fresh process on a fresh copy of a seeded temporary SQLite
database (so peaks are not inherited from an earlier run). ``--candidates`` changes the
larger size. Everything lives in a temporary folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask

SIZES = (250, 1000)
MEMORY_SIZE = 5000
TARGET = 1.7
FLAT = 1.10
HERE = Path(__file__).resolve().parent


def open_app(folder: Path) -> Flask:
    """An app on the database and demo keys that ``bench_issue.build_app`` made in ``folder``."""
    from folder_app import app_in_folder, demo_seals

    return app_in_folder(
        folder,
        PUBLIC_BASE_URL="https://certificates.example.org",
        QUEUE_URL="memory://",
        **demo_seals(folder),
    )


# ------------------------------------------------------------------ in a child process


def seed_folder(folder: Path, count: int) -> None:
    """A database with the catalogue and ``count`` eligible candidates, and demo keys."""
    sys.path.insert(0, str(HERE))
    from bench_issue import build_app, seed

    from certification.extensions import db
    from certification.web import today

    app = build_app(folder)
    with app.test_request_context():
        day = today()
    seed(app, day, count)
    with app.app_context():
        db.engine.dispose()  # checkpoints the WAL, so that copying the file copies it all


class PeakWatcher:
    """Samples the peak resident memory (VmHWM) of this process's descendants: pool
    processes are children of the forkserver, so RUSAGE_CHILDREN does not see them."""

    def __init__(self) -> None:
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> PeakWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            for pid in _descendants(os.getpid()):
                peak = _peak_kib(pid)
                if peak:
                    self.peaks[pid] = max(self.peaks.get(pid, 0), peak)


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found.extend(children)
        frontier.extend(children)
    return found


def _peak_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_job(folder: Path, processes: int) -> dict[str, Any]:
    """Start and run the job in this process; timings and peak memory as a dict."""
    from certification.auth.models import User
    from certification.catalogue.services import get_programme
    from certification.certificates.bulk import run_issue_job, start_issue_job
    from certification.extensions import db
    from certification.web import today

    app = open_app(folder)
    with app.test_request_context():
        day = today()
    with app.app_context(), PeakWatcher() as watcher:
        admin = db.session.scalar(db.select(User).where(User.email == "bench@example.org"))
        began = time.perf_counter()
        job = start_issue_job(get_programme("EII-C"), admin, today=day, queue=False)
        db.session.commit()
        started = time.perf_counter()
        progress = run_issue_job(job.id, today=day, processes=processes)
        finished = time.perf_counter()
        db.engine.dispose()
    assert progress is not None
    return {
        "candidates": progress.total,
        "issued": progress.issued,
        "processes": processes,
        "start_seconds": started - began,
        "run_seconds": finished - started,
        "runner_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "waited_children_peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "pool_peak_mib": sum(watcher.peaks.values()) / 1024,
        "pool_processes": len(watcher.peaks),
    }


# ------------------------------------------------------------------ the orchestra


def child(*arguments: str) -> str:
    completed = subprocess.run(  # noqa: S603  (this script, fixed arguments)
        [sys.executable, __file__, *arguments], check=True, capture_output=True, text=True
    )
    return completed.stdout


def measure(template: Path, work: Path, processes: int) -> dict[str, Any]:
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(template, work)
    result: dict[str, Any] = json.loads(child("--run", str(work), str(processes)).splitlines()[-1])
    shutil.rmtree(work)
    return result


def main(large: int, memory_size: int) -> None:
    sys.path.insert(0, str(HERE))
    from machine import describe

    small = max(1, large // 4)
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as temporary:
        folder = Path(temporary)
        templates = {}
        for size in sorted({small, large, memory_size}):
            templates[size] = folder / f"seed-{size}"
            print(f"Seeding {size} eligible candidates…", file=sys.stderr, flush=True)
            child("--seed", str(templates[size]), str(size))
        runs = []
        for size, processes in ((large, 1), (large, 2), (small, 2), (memory_size, 2)):
            print(f"Issuing to {size} with {processes} process(es)…", file=sys.stderr, flush=True)
            runs.append(measure(templates[size], folder / "run", processes))

    from certification.config import ISSUE_BATCH_SIZE

    print(f"Bulk issuing: a job for N eligible candidates on SQLite, batches of {ISSUE_BATCH_SIZE}")
    print(f"Machine: {describe()}")
    print()
    header = (
        f"{'candidates':>10}  {'processes':>9}  {'start s':>8}  {'run s':>7}  "
        f"{'cert/s':>7}  {'runner MiB':>10}  {'pool MiB':>8}  {'total MiB':>9}"
    )
    print(header)
    for run in runs:
        total = run["runner_peak_mib"] + run["pool_peak_mib"]
        print(
            f"{run['candidates']:>10}  {run['processes']:>9}  {run['start_seconds']:8.2f}  "
            f"{run['run_seconds']:7.2f}  {run['issued'] / run['run_seconds']:7.1f}  "
            f"{run['runner_peak_mib']:10.1f}  {run['pool_peak_mib']:8.1f}  {total:9.1f}"
        )
    one, two = runs[0], runs[1]
    speedup = (two["issued"] / two["run_seconds"]) / (one["issued"] / one["run_seconds"])
    verdict = "pass" if speedup >= TARGET else "short"
    print()
    print(
        f"speed-up with 2 processes, {large} candidates: {speedup:.2f}x"
        f"   (target >= {TARGET}x: {verdict})"
    )
    small_two, most = runs[2], runs[3]
    grow = (most["runner_peak_mib"] + most["pool_peak_mib"]) / (
        small_two["runner_peak_mib"] + small_two["pool_peak_mib"]
    )
    print(
        f"peak memory, {memory_size} vs {small} candidates with 2 processes: {grow:.2f}x"
        f"   (target <= {FLAT:.2f}x, flat: {'pass' if grow <= FLAT else 'short'})"
    )
    print(
        "Peaks are VmHWM per process: the runner (getrusage RUSAGE_SELF) plus the sum of its"
        " pool processes' peaks (sampled from /proc)."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=SIZES[1])
    parser.add_argument("--memory-candidates", type=int, default=MEMORY_SIZE)
    parser.add_argument("--seed", nargs=2, metavar=("FOLDER", "COUNT"))
    parser.add_argument("--run", nargs=2, metavar=("FOLDER", "PROCESSES"))
    options = parser.parse_args()
    if options.seed:
        seed_folder(Path(options.seed[0]), int(options.seed[1]))
    elif options.run:
        print(json.dumps(run_job(Path(options.run[0]), int(options.run[1]))))
    else:
        main(options.candidates, options.memory_candidates)
