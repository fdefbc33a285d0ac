"""Every module that defines queue tasks, imported in one place so that workers (and
``run_pending`` in tests) know each task by name."""

from __future__ import annotations


def register_tasks() -> None:
    # Areas add their task modules here.
    from certification import idempotency  # noqa: F401
    from certification.certificates import tasks as certificate_tasks  # noqa: F401
    from certification.mail import tasks as mail_tasks  # noqa: F401
    from certification.reports import tasks as report_tasks  # noqa: F401
