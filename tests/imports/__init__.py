"""Tests of spreadsheet imports: the CSV reader, the services and the admin's pages."""

from __future__ import annotations

from typing import Any


def problem_places(found: Any) -> list[tuple[int, str]]:
    """Where a read table's or an import report's problems are: (row, column), in order."""
    return [(problem.row, problem.column) for problem in found.problems]
