"""Where a verification look-up's time goes inside gunicorn, sampled by py-spy under load.

Run: ``.venv/bin/python bench/profile_verify.py [--route json|html] [--seconds 15]`` (needs
py-spy in the virtual environment, ``.tools/bin/uv pip install --python .venv py-spy``, and
``wrk``; not part of ``make bench``).

The same setup as ``bench_verify.py`` on SQLite (its demo register, 5 sync workers, the
rate limit raised and kept in Redis), loaded by ``wrk -t2 -c16`` while py-spy samples every
worker. Prints the share of samples by the function that was running (the leaf of each
stack), and the share spent under a few chosen functions (inclusive). py-spy counts a
worker waiting for Redis or the database as busy: these are shares of wall time.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from bench_verify import BIN, gunicorn, prepare, workers_of, wrk

# Inclusive: a sample counts for each of these that is on its stack.
UNDER = {
    "gunicorn's own work (accept, parse, write)": r"gunicorn/workers/sync\.py|gunicorn/http/",
    "Flask's dispatch of the request": r"\bwsgi_app \(flask/app\.py",
    "the rate-limit count (limits + redis-py)": r"\bcount_look_up \(",
    "the certificate's read (PreparedRead)": r"\bfirst \(certification/database\.py",
    "templates (render_template)": r"\brender_template \(",
    "the look-up counted for writing": r"\brecord_verification \(",
}


def leaf_of(frame: str) -> str:
    """'function (path/to/file.py:12)' -> 'function (file.py)', paths cut to the package."""
    found = re.match(r"(.*) \((.*?):\d+\)$", frame)
    if not found:
        return frame
    function, path = found[1], found[2]
    path = re.sub(r".*site-packages/", "", path)
    path = re.sub(r".*/lib/python3\.\d+/", "", path)
    path = re.sub(r".*/(certification|templates)/", r"\1/", path)
    return f"{function} ({path})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--route", choices=["json", "html"], default="json")
    parser.add_argument("--seconds", type=int, default=15)
    options = parser.parse_args()
    spy = BIN / "py-spy"
    if not spy.exists() or shutil.which("wrk") is None:
        sys.exit(
            "needs py-spy in the virtual environment"
            " (.tools/bin/uv pip install --python .venv py-spy) and wrk"
        )
    with tempfile.TemporaryDirectory(prefix="profile-verify-") as tmp:
        environment, code = prepare(Path(tmp), None)
        options_ = ("-c", "python:certification.gunicorn_conf")
        with gunicorn("certification:create_app()", environment, *options_) as (base, master):
            path = f"/api/v1/verify/{code}" if options.route == "json" else f"/verify/{code}"
            wrk(base + path, 2)  # warm up
            out = Path(tmp) / "stacks.txt"
            sampler = threading.Thread(
                target=subprocess.run,
                args=(
                    [
                        str(spy),
                        "record",
                        "--format",
                        "raw",
                        "--rate",
                        "200",
                        "--duration",
                        str(options.seconds),
                        "--output",
                        str(out),
                        "--pid",
                        str(master),
                        "--subprocesses",
                        "--nonblocking",
                    ],
                ),
                kwargs={"capture_output": True, "check": True},
            )
            sampler.start()
            run = wrk(base + path, options.seconds)
            sampler.join()
            workers = len(workers_of(master))
        leaves: collections.Counter[str] = collections.Counter()
        under: collections.Counter[str] = collections.Counter()
        total = 0
        for line in out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = stack.split(";")
            if not any("wsgi" in f or "gunicorn" in f for f in frames):
                continue  # the master, or a worker between requests outside gunicorn's loop
            samples = int(count)
            total += samples
            leaves[leaf_of(frames[-1])] += samples
            for name, pattern in UNDER.items():
                if re.search(pattern, stack):
                    under[name] += samples
    print(f"GET {path.replace(code, '<code>')}: {run.requests_per_second:.0f} req/s over")
    print(f"{workers} workers; {total:,} py-spy samples of the workers at 200 per second\n")
    print("Where the samples were (the function running, at the leaf of the stack):")
    for name, samples in leaves.most_common(14):
        print(f"  {samples / total:6.1%}  {name}")
    print("\nUnder (inclusive):")
    for name in UNDER:
        print(f"  {under[name] / total:6.1%}  {name}")


if __name__ == "__main__":
    main()
