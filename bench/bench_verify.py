"""Verification throughput and a web worker's memory, against a bare Flask app.

Run: ``.venv/bin/python bench/bench_verify.py`` (or ``make bench``). Not a test: it prints
figures measured in one run on this machine, each beside its target.

For each database (SQLite in a temporary folder, and PostgreSQL at BENCH_DATABASE_URL,
default postgresql+psycopg://postgres@127.0.0.1:5432/bench_verify, made and dropped
here; skipped if no server answers):

1. a demo register (``flask init-db`` + ``flask seed-demo``) and its valid certificate;
2. gunicorn serving the application, and gunicorn serving ``bench/bare_app.py`` (one
   route, "ok"), with the same settings: WORKERS sync workers (default: 2 per core + 1);
3. wrk from this machine, 2 threads and 16 connections, on the bare ``GET /ok``, then
   ``GET /api/v1/verify/<code>`` (JSON) and ``GET /verify/<code>`` (the page), taken in
   turn ROUNDS times so that the machine's other work falls on all three alike; the
   median of each is reported with its p99 latency and its errors (any answer not 200,
   any socket error);
4. then at least 50,000 more look-ups, and the peak resident memory (VmHWM) of each web
   worker before and after them.

The rate limit is on, raised so that it never refuses (every look-up still counts against
it), kept in Redis when one answers at REDIS_URL (as several workers need: memory:// is
per process), else in memory. Targets: the JSON answer at least 50 % of the bare app's
rate, the page at least 35 %, p99 under 20 ms at 16 connections, no error.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# gunicorn's own advice for sync workers: two per core, and one more.
WORKERS = int(os.environ.get("WORKERS", 2 * (os.cpu_count() or 1) + 1))
CONNECTIONS = 16
SECONDS = int(os.environ.get("SECONDS_PER_RUN", 8))
ROUNDS = int(os.environ.get("ROUNDS", 3))
LOOK_UPS_FOR_MEMORY = 50_000
POSTGRES_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_verify"
)
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
TARGETS = {"json": 0.50, "html": 0.35}
P99_TARGET_MS = 20.0


@dataclass(frozen=True)
class Run:
    requests_per_second: float
    p99_ms: float
    requests: int
    errors: int


def wrk(url: str, seconds: int) -> Run:
    """One wrk run against ``url``."""
    out = subprocess.run(  # noqa: S603
        [  # noqa: S607  (wrk from the system's packages, found on PATH)
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--latency",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99[2]]
    total = int(re.search(r"(\d+) requests in", out)[1])
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(found[1])
    return Run(rate, float(p99[1]) * scale, total, errors)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(app: str, environment: dict[str, str], *options: str) -> Iterator[tuple[str, int]]:
    """gunicorn serving ``app``; yields its base URL and the master's pid."""
    port = free_port()
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
    server = subprocess.Popen(  # noqa: S603
        [
            str(BIN / "gunicorn"),
            *options,
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            app,
        ],
        env={**os.environ, **environment},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/ok" if "bare" in app else base + "/verify"):  # noqa: S310
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"gunicorn did not start:\n{log.read()[-3000:]}") from None
                time.sleep(0.1)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        os.unlink(log.name)


def workers_of(master: int) -> list[int]:
    found = subprocess.run(  # noqa: S603
        ["pgrep", "-P", str(master)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [int(pid) for pid in found.split()]


def peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status)[1]) / 1024


def prepare(folder: Path, database_url: str | None) -> tuple[dict[str, str], str]:
    """A demo register in ``folder`` (on ``database_url``, else SQLite there); the
    environment that serves it and the code of its valid certificate."""
    instance = folder / "instance"
    instance.mkdir(parents=True)
    environment = {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": secrets.token_hex(32),
        "VERIFY_RATE_LIMIT": "1000000000 per minute",
    }
    if database_url:
        environment["DATABASE_URL"] = database_url
    if redis_answers():
        environment["RATELIMIT_STORAGE_URI"] = REDIS_URL
        environment["RATELIMIT_KEY_PREFIX"] = f"bench-verify-{secrets.token_hex(4)}"
    env = {**os.environ, **environment}
    flask = [str(BIN / "flask"), "--app", "certification"]
    subprocess.run([*flask, "init-db"], env=env, check=True, capture_output=True)  # noqa: S603
    seeded = subprocess.run(  # noqa: S603
        [*flask, "seed-demo"], env=env, check=True, capture_output=True, text=True
    ).stdout
    code = re.search(r"(EIC-[A-Z0-9-]+)\s+valid", seeded)[1]
    return environment, code


def redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


def forget_rate_limit_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)


@contextmanager
def postgres_database(url: str) -> Iterator[str | None]:
    """A fresh PostgreSQL database at ``url`` for the run, dropped after; None if no server."""
    import sqlalchemy as sa

    target = sa.make_url(url)
    server = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    except sa.exc.OperationalError:
        server.dispose()
        yield None
        return
    try:
        yield url
    finally:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        server.dispose()


def measure(label: str, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        environment, code = prepare(Path(tmp), database_url)
        app_options = ("-c", "python:certification.gunicorn_conf")
        bare_options = ("--chdir", str(ROOT / "bench"))
        try:
            with (
                gunicorn("bare_app:app", {}, *bare_options) as (bare, _),
                gunicorn("certification:create_app()", environment, *app_options) as (ours, master),
            ):
                urls = {
                    "bare": f"{bare}/ok",
                    "json": f"{ours}/api/v1/verify/{code}",
                    "html": f"{ours}/verify/{code}",
                }
                for url in urls.values():  # warm up: imports, templates, connections
                    wrk(url, 2)
                before = {pid: peak_rss_mib(pid) for pid in workers_of(master)}
                runs: dict[str, list[Run]] = {name: [] for name in urls}
                for _ in range(ROUNDS):
                    for name, url in urls.items():
                        runs[name].append(wrk(url, SECONDS))
                served = sum(r.requests for name in ("json", "html") for r in runs[name])
                while served < LOOK_UPS_FOR_MEMORY:
                    for name in ("json", "html"):
                        served += wrk(urls[name], 5).requests
                after = {pid: peak_rss_mib(pid) for pid in workers_of(master)}
        finally:
            if prefix := environment.get("RATELIMIT_KEY_PREFIX"):
                forget_rate_limit_keys(prefix)
    report(label, environment, runs, before, after, served)


def report(
    label: str,
    environment: dict[str, str],
    runs: dict[str, list[Run]],
    before: dict[int, float],
    after: dict[int, float],
    served: int,
) -> None:
    storage = "Redis" if "RATELIMIT_STORAGE_URI" in environment else "memory"
    print(
        f"\n{label}: {WORKERS} sync workers each; wrk -t2 -c{CONNECTIONS}, {ROUNDS} x {SECONDS} s;"
    )
    print(f"rate limit on (raised), kept in {storage}\n")
    rate = {name: statistics.median(r.requests_per_second for r in rs) for name, rs in runs.items()}
    print(f"{'':34} {'req/s':>8} {'of bare':>8} {'target':>7} {'p99 ms':>7} {'errors':>7}  mark")
    names = {
        "bare": "bare Flask, GET /ok",
        "json": "GET /api/v1/verify/<code> (JSON)",
        "html": "GET /verify/<code> (page)",
    }
    for name, title in names.items():
        p99 = max(r.p99_ms for r in runs[name])
        errors = sum(r.errors for r in runs[name])
        share = rate[name] / rate["bare"]
        if name == "bare":
            print(f"{title:34} {rate[name]:8.0f} {share:8.0%} {'':>7} {p99:7.1f} {errors:7d}")
            continue
        ok = share >= TARGETS[name] and p99 < P99_TARGET_MS and errors == 0
        target = f">={TARGETS[name]:.0%}"
        print(
            f"{title:34} {rate[name]:8.0f} {share:8.0%} {target:>7} {p99:7.1f} {errors:7d}"
            f"  {'pass' if ok else 'short'}"
        )
    print(f"\n(p99: the worst of {ROUNDS} runs; targets: p99 < {P99_TARGET_MS:.0f} ms, no error)")
    print(f"\nPeak RSS of each web worker, after warm-up and after {served:,} look-ups more:")
    for pid in sorted(after):
        start, end = before.get(pid, float("nan")), after[pid]
        print(f"  worker {pid}: {start:.1f} MiB -> {end:.1f} MiB ({end / start:.2f}x)")
    growth = max(after[pid] / before[pid] for pid in after if pid in before)
    print(f"  flat (at most 1.10x): {'pass' if growth <= 1.10 else 'short'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    sys.path.insert(0, str(ROOT / "bench"))
    from machine import describe

    # "wrk debian/4.1.0-3+b2 [epoll] ..." (and an exit status of 1, which says nothing)
    about_wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)  # noqa: S607
    wrk_version = about_wrk.stdout.split()[:2]
    print(f"Machine: {describe(' '.join(wrk_version))}")
    print(f"Load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if options.database in ("sqlite", "both"):
        measure("SQLite (one file, WAL)", None)
    if options.database in ("postgresql", "both"):
        with postgres_database(POSTGRES_URL) as url:
            if url is None:
                print(f"\nPostgreSQL skipped: no server at {POSTGRES_URL}")
            else:
                measure("PostgreSQL", url)


if __name__ == "__main__":
    main()
