"""Inserting rows that a unique constraint guards, when two requests may race."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from certification.errors import ServiceError
from certification.extensions import Model, db


def add_unique(instance: Model, refusal: ServiceError) -> None:
    """Add and flush ``instance`` inside a savepoint; losing a race to a concurrent request
    (a unique constraint fires) raises ``refusal`` and leaves the transaction usable."""
    try:
        with db.session.begin_nested():
            db.session.add(instance)
    except IntegrityError:
        raise refusal from None
