"""Dates and moments in the words pages, e-mails and the PDF use: "6 December 2026", and
"6 December 2026 at 14:05 UTC". CSV and JSON keep ISO 8601. English month names, spelt out,
so that no reader has to guess which of 06/12 and 12/06 is the month."""

from __future__ import annotations

import datetime as dt

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def format_long_date(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def format_long_datetime(moment: dt.datetime) -> str:
    """A moment as pages and e-mail show it: "6 December 2026 at 14:05 UTC" (CSV and JSON
    keep ISO 8601)."""
    moment = moment.astimezone(dt.UTC)
    return f"{format_long_date(moment.date())} at {moment:%H:%M} UTC"
