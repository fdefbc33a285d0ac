"""The entry point of queue workers: ``huey_consumer certification.worker.huey``.

It builds the app once per worker process (configuration, database, queue storage);
``create_app`` imports every module that defines tasks, so the consumer knows them all.
"""

from __future__ import annotations

from certification import create_app
from certification.queue import huey, set_worker_app

app = create_app()
set_worker_app(app)

__all__ = ["app", "huey"]
