"""The revocation journey of test_revocation_journey.py, on PostgreSQL. A file of its own:
the suite gives each file to one worker, so this runs beside the SQLite journey instead of
after it."""

from __future__ import annotations

import pytest

from tests.e2e.test_revocation_journey import (  # noqa: F401 (the fixtures and the test)
    MARKS,
    database_url,
    shots,
    test_revoked_award_stays_on_hold_until_the_office_lifts_it,
    windows,
)

pytestmark = [
    *MARKS,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True, scope="module"),
]
