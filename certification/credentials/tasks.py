"""Queue tasks of the credentials area: clearing the wallets' spent state.

Every reading of the wallet store leaves out what has expired, so nothing depends on this;
it keeps the tables from growing. Grants a wallet redeemed stay: their deliveries name them.
"""

from __future__ import annotations

from flask import current_app
from huey import crontab

from certification.credentials.wallet_store import DatabaseOID4VCIStore
from certification.queue import app_periodic_task
from certification.types import utcnow


@app_periodic_task(crontab(minute="41"))
def purge_expired_wallet_offers() -> None:
    store = DatabaseOID4VCIStore(str(current_app.config["SECRET_KEY"]))
    while store.purge_expired(now=utcnow()).more:
        pass
