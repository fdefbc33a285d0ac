"""The joint approval's fixtures (the office's API and each body's officer), for every test
of credentials."""

from tests.certificates.test_approvals import bodies  # noqa: F401 - the fixture
