"""The browser tests' shared fixtures (``server``, ``browser``), from browser.py. A test
module that uses ``server`` gives it a ``database_url`` fixture of its own."""

from tests.e2e.browser import browser, server

__all__ = ["browser", "server"]
