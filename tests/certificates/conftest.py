"""Fixtures shared by the certificates' tests: ``bodies`` (an award approved by both bodies,
the office's and each officer's API clients) for the tests beside its own module."""

from tests.certificates.test_approvals import bodies  # noqa: F401 - the fixture
