"""The line each bench prints about the machine it ran on, so that figures from different
hosts are never compared as if they were one; and how a bench times one piece of work."""

from __future__ import annotations

import gc
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path


def measure(work: Callable[[], object], runs: int, warm_up: int) -> list[float]:
    """Milliseconds per call, over ``runs`` calls after ``warm_up`` (garbage collection off)."""
    for _ in range(warm_up):
        work()
    timings = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(runs):
            start = time.perf_counter()
            work()
            timings.append((time.perf_counter() - start) * 1000)
    finally:
        gc.enable()
    return timings


def describe(*versions: str) -> str:
    """CPU model, cores, Python, and the ``versions`` of what the bench exercises."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    python = f"Python {platform.python_version()} ({platform.python_implementation()})"
    return "; ".join(
        (f"{model}", f"{os.cpu_count()} logical cores ({usable} usable)", python, *versions)
    )
