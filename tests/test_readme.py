"""The README's configuration table names every setting the code reads, and only those:
an operator following it must find each one (issue: INSTANCE_PATH and RATELIMIT_ENABLED were
read but never named)."""

from __future__ import annotations

import re
from pathlib import Path

from certification import config

README = Path(__file__).resolve().parent.parent / "README.md"
# Read from the environment by the app factory itself, not through config.ENVIRONMENT_KEYS.
READ_BY_THE_FACTORY = {"DATABASE_URL", "INSTANCE_PATH"}


def _configuration_table() -> set[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        cells = line.split("|")
        if line.startswith("| `") and len(cells) > 2:
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[1]))
    return names


def test_the_configuration_table_names_every_setting_the_code_reads():
    read = set(config.ENVIRONMENT_KEYS) | READ_BY_THE_FACTORY
    documented = _configuration_table()
    assert sorted(read - documented) == [], "read by the code, missing from the README"
    assert sorted(documented - read) == [], "in the README, but nothing reads it"
