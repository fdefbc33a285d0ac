"""Reading the CSV files people export from spreadsheets. Pure: bytes in, rows and problems out.

Real files come from Excel and LibreOffice across Europe, so this module accepts what they
write: UTF-8 with or without a byte-order mark, Windows-1252 when the bytes are not UTF-8,
a comma or a semicolon between cells (European Excel writes semicolons), ISO dates or
day-first dates when the whole file uses them unambiguously, and decimal commas.

Row numbers are those a spreadsheet shows: the header is row 1 and an empty line still
takes a row number, so "row 7" is where a person would look.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import enum
import io
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from flask_babel import gettext, ngettext

DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_CHECK_CHUNK = 1 << 20  # bytes decoded at a time when checking an encoding
_SNIFF_BYTES = 1 << 16
# Excel reads, and some tools write, a first line "sep=;" naming the delimiter.
_SEPARATOR_HINT = re.compile(r"^sep=([,;\t])\s*$", re.MULTILINE)
_HEADER_ALIASES = {"e_mail": "email", "mail": "email"}
# Digits with at most one decimal point or comma: "72.5", "72,5", "80". Thousands separators
# are refused rather than guessed at ("1.000,5" is a typo more often than not).
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")


class Problem(NamedTuple):
    """One thing wrong with a file: the spreadsheet row, the column ("" for the row or the
    whole file) and what to do about it."""

    row: int
    column: str
    message: str


class CellError(ValueError):
    """A cell whose text cannot be read as the value its column holds."""


class DateFormat(enum.Enum):
    ISO = "YYYY-MM-DD"
    DAY_MONTH_SLASH = "DD/MM/YYYY"
    DAY_MONTH_DOT = "DD.MM.YYYY"

    @property
    def example(self) -> str:
        return EXAMPLE_DATE.strftime(_STRFTIME[self])


EXAMPLE_DATE = dt.date(2024, 5, 31)
_STRFTIME = {
    DateFormat.ISO: "%Y-%m-%d",
    DateFormat.DAY_MONTH_SLASH: "%d/%m/%Y",
    DateFormat.DAY_MONTH_DOT: "%d.%m.%Y",
}
_DATE_PATTERNS = {
    DateFormat.ISO: re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    DateFormat.DAY_MONTH_SLASH: re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"),
    DateFormat.DAY_MONTH_DOT: re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"),
}


class CsvRow(NamedTuple):
    number: int
    values: dict[str, str]


@dataclass
class CsvTable:
    """A decoded CSV file with a known header. ``rows()`` streams it again on each call.

    ``problems`` holds what is wrong with the file as a whole (row 1, the header) and with
    rows whose shape is wrong (too many cells, a date in another format than the rest);
    ``bad_rows`` the numbers of rows that cannot be read, so that callers skip them, and
    ``flagged_cells`` the (row, column) of cells whose problem is already noted.
    """

    data: bytes
    codec: str
    encoding: str
    delimiter: str
    columns: dict[str, int] = field(default_factory=dict)
    extra_columns: tuple[str, ...] = ()
    problems: list[Problem] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)
    flagged_cells: set[tuple[int, str]] = field(default_factory=set)
    row_count: int = 0
    date_format: DateFormat | None = DateFormat.ISO
    readable: bool = False
    header_row: int = 1
    header_width: int = 0

    def rows(self) -> Iterator[CsvRow]:
        """Every non-empty data row, with the values of the wanted columns, trimmed."""
        if not self.readable:
            return
        for number, cells in self._records():
            if number <= self.header_row or not _has_content(cells):
                continue
            yield CsvRow(
                number,
                {
                    name: cells[index].strip() if index < len(cells) else ""
                    for name, index in self.columns.items()
                },
            )

    def parse_date(self, text: str) -> dt.date:
        """The date ``text`` names in this file's date format; CellError if it names none."""
        date_format = self.date_format or DateFormat.ISO
        found = _DATE_PATTERNS[date_format].match(text.strip())
        if found is None:
            raise CellError(
                gettext(
                    "Enter a date as %(format)s, such as %(example)s (the format the rest of"
                    " this file uses).",
                    format=date_format.value,
                    example=date_format.example,
                )
                if text.strip()
                else gettext(
                    "Enter a date as %(format)s, such as %(example)s.",
                    format=date_format.value,
                    example=date_format.example,
                )
            )
        parts = [int(part) for part in found.groups()]
        year, month, day = parts if date_format is DateFormat.ISO else parts[::-1]
        try:
            return dt.date(year, month, day)
        except ValueError:
            raise CellError(
                gettext("%(text)s is not a date on the calendar.", text=text.strip())
            ) from None

    def _records(self, *, report_errors: bool = False) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) for every record, empty ones included, streamed."""
        stream = io.TextIOWrapper(io.BytesIO(self.data), encoding=self.codec, newline="")
        reader = csv.reader(stream, delimiter=self.delimiter)
        number = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                if report_errors:
                    self.add_problem(
                        Problem(
                            number + 1,
                            "",
                            gettext("This row cannot be read as CSV (%(error)s).", error=error),
                        )
                    )
                return
            number += 1
            yield number, cells

    def add_problem(self, problem: Problem, *, whole_row: bool = True) -> None:
        """Note a problem; a row that cannot be read at all is left out of ``rows()``'s
        callers' checks, while a row with one odd cell is still checked for the others."""
        self.problems.append(problem)
        if problem.row == self.header_row:
            return
        if whole_row:
            self.bad_rows.add(problem.row)
        else:
            self.flagged_cells.add((problem.row, problem.column))


def parse_decimal(text: str) -> Decimal:
    """A number as a European might type it, ``72.5`` or ``72,5``."""
    text = text.strip()
    if not _NUMBER.match(text):
        raise CellError(gettext("Enter a number, such as 72.5 or 72,5."))
    return Decimal(text.replace(",", "."))


def normalise_header(name: str) -> str:
    """``email`` for `` E-Mail ``, ``full_name`` for ``Full name``: how a header is matched."""
    key = re.sub(r"[\s_\-]+", "_", name.replace("\ufeff", "").strip().casefold()).strip("_")
    return _HEADER_ALIASES.get(key, key)


def read_csv(
    data: bytes,
    columns: Sequence[str],
    *,
    date_columns: Sequence[str] = (),
    optional: Sequence[str] = (),
    aliases: Mapping[str, str] | None = None,
) -> CsvTable:
    """Decode ``data``, find its delimiter and header, and scan it once for problems of shape.
    ``optional`` columns are read when the header has them (a row's value is then there,
    perhaps empty) and not missed when it does not. ``aliases`` maps other names of a column,
    normalised (``duration_(minutes)``), to the column (``minutes``): the names other
    programs' exports give it.

    Never raises on bad input: what is wrong comes back as ``CsvTable.problems``.
    """
    encoding = _encoding_of(data)
    if isinstance(encoding, Problem):
        return CsvTable(data, "utf-8", "", ",", problems=[encoding])
    codec, label = encoding
    text_start = data[:_SNIFF_BYTES].decode(codec, errors="ignore")
    hint = _SEPARATOR_HINT.match(text_start.lstrip())
    aliases = aliases or {}
    delimiter = hint.group(1) if hint else _delimiter_of(text_start, columns, aliases)
    table = CsvTable(data, codec, label, delimiter)
    _read_header(table, columns, optional, aliases)
    if table.readable:
        _scan_rows(table, date_columns)
    return table


# ------------------------------------------------------------------ encoding and delimiter


def _encoding_of(data: bytes) -> tuple[str, str] | Problem:
    """The codec to read ``data`` with and its name for people, or why it is not text."""
    if not data.strip():
        return Problem(1, "", gettext("The file is empty."))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Problem(
            1,
            "",
            gettext(
                "This file is UTF-16 text (Excel's “Unicode Text”). Save it as “CSV UTF-8” instead."
            ),
        )
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return Problem(
            1,
            "",
            gettext(
                "This is a spreadsheet workbook, not a CSV file. Save it as “CSV UTF-8” first."
            ),
        )
    if b"\x00" in data[:_SNIFF_BYTES] or data.startswith(b"%PDF"):
        return Problem(1, "", gettext("This file is not a CSV text file."))
    if data.startswith(codecs.BOM_UTF8):
        return ("utf-8-sig", "UTF-8 with BOM") if _decodes(data, "utf-8") else _not_text()
    if _decodes(data, "utf-8"):
        return "utf-8", "UTF-8"
    if _decodes(data, "cp1252"):
        return "cp1252", "Windows-1252"
    return _not_text()


def _not_text() -> Problem:
    return Problem(
        1,
        "",
        gettext("This file is neither UTF-8 nor Windows-1252 text. Save it as “CSV UTF-8”."),
    )


def _decodes(data: bytes, codec: str) -> bool:
    """Whether all of ``data`` decodes, checked a chunk at a time (no decoded copy is kept)."""
    decoder = codecs.getincrementaldecoder(codec)()
    view = memoryview(data)
    try:
        for start in range(0, len(view), _CHECK_CHUNK):
            decoder.decode(view[start : start + _CHECK_CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _delimiter_of(text_start: str, columns: Sequence[str], aliases: Mapping[str, str]) -> str:
    """The delimiter that splits the header line into the most known column names."""
    header = next((line for line in text_start.splitlines() if line.strip()), "")
    wanted = set(columns) | set(aliases)

    def score(delimiter: str) -> tuple[int, int]:
        cells = next(csv.reader([header], delimiter=delimiter), [])
        return sum(normalise_header(c) in wanted for c in cells), len(cells)

    return max(DELIMITERS, key=score)  # on a tie, the first: a comma


# ------------------------------------------------------------------ header and shape


def _read_header(
    table: CsvTable,
    columns: Sequence[str],
    optional: Sequence[str] = (),
    aliases: Mapping[str, str] | None = None,
) -> None:
    names: list[str] = []
    for number, cells in table._records():
        if _has_content(cells) and not _SEPARATOR_HINT.match(table.delimiter.join(cells)):
            table.header_row, names = number, cells
            break
    if not names:
        table.problems.append(Problem(1, "", gettext("The file has no header row and no data.")))
        return
    found: dict[str, int] = {}
    seen: set[str] = set()
    extra: list[str] = []
    for index, raw in enumerate(names):
        name = normalise_header(raw)
        name = (aliases or {}).get(name, name)
        if not name:
            continue  # a trailing delimiter makes an unnamed, empty column
        if name in seen:
            table.problems.append(
                Problem(table.header_row, name, gettext("This column appears twice in the header."))
            )
        seen.add(name)
        if name in columns or name in optional:
            found[name] = index
        else:
            extra.append(raw.strip().replace("\ufeff", ""))
    missing = [name for name in columns if name not in found]
    for name in missing:
        table.problems.append(
            Problem(
                table.header_row,
                name,
                gettext(
                    "The header has no column “%(name)s”. The file needs the columns"
                    " %(columns)s (in any order); the first row is the header and it has:"
                    " %(found)s.",
                    name=name,
                    columns=", ".join(columns),
                    found=", ".join(c.strip() for c in names if c.strip()) or gettext("nothing"),
                ),
            )
        )
    table.columns = {name: found[name] for name in (*columns, *optional) if name in found}
    table.header_width = max(i + 1 for i, cell in enumerate(names) if cell.strip())
    table.extra_columns = tuple(extra)
    table.readable = not table.problems


def _has_content(cells: list[str]) -> bool:
    return any(cell.strip() for cell in cells)


@dataclass
class _DateEvidence:
    """What the date cells of a file say about their format, gathered in one pass."""

    rows: dict[DateFormat, list[tuple[int, str]]] = field(default_factory=dict)
    day_first: tuple[int, str] | None = None  # 25/03/2024 can only be day first
    month_first: tuple[int, str] | None = None  # 03/25/2024 can only be month first
    either_way: tuple[int, str] | None = None  # 03/04/2024 reads as two different days

    def note(self, number: int, column: str, text: str) -> None:
        for date_format, pattern in _DATE_PATTERNS.items():
            if found := pattern.match(text):
                self.rows.setdefault(date_format, []).append((number, column))
                if date_format is DateFormat.DAY_MONTH_SLASH:
                    first, second = int(found.group(1)), int(found.group(2))
                    if first > 12 and self.day_first is None:
                        self.day_first = (number, text)
                    if second > 12 and self.month_first is None:
                        self.month_first = (number, text)
                    if first <= 12 and second <= 12 and first != second:
                        self.either_way = self.either_way or (number, text)
                return


def _scan_rows(table: CsvTable, date_columns: Sequence[str]) -> None:
    """One pass: rows with too many cells, the row count and the file's date format."""
    evidence = _DateEvidence()
    dates = [(name, table.columns[name]) for name in date_columns if name in table.columns]
    for number, cells in table._records(report_errors=True):
        if number <= table.header_row or not _has_content(cells):
            continue
        table.row_count += 1
        used = len(cells)
        while used and not cells[used - 1].strip():
            used -= 1
        if used > table.header_width:
            message = (
                ngettext(
                    "This row has %(num)d cell but the header names %(width)d. A decimal comma"
                    " inside a comma-separated file needs quotes around the number.",
                    "This row has %(num)d cells but the header names %(width)d. A decimal comma"
                    " inside a comma-separated file needs quotes around the number.",
                    used,
                    width=table.header_width,
                )
                if table.delimiter == ","
                else ngettext(
                    "This row has %(num)d cell but the header names %(width)d.",
                    "This row has %(num)d cells but the header names %(width)d.",
                    used,
                    width=table.header_width,
                )
            )
            table.add_problem(Problem(number, "", message))
            continue
        for name, index in dates:
            if index < len(cells) and (text := cells[index].strip()):
                evidence.note(number, name, text)
    _settle_date_format(table, evidence, [name for name, _ in dates])


def _settle_date_format(table: CsvTable, evidence: _DateEvidence, date_columns: list[str]) -> None:
    if not evidence.rows:
        return
    counts = Counter({f: len(rows) for f, rows in evidence.rows.items()})
    chosen = counts.most_common(1)[0][0]
    table.date_format = chosen
    for other, rows in evidence.rows.items():
        if other is chosen:
            continue
        for number, column in rows:
            table.add_problem(
                Problem(
                    number,
                    column,
                    gettext(
                        "This date is written as %(format)s but the rest of the file uses"
                        " %(chosen)s. Use one date format throughout, best YYYY-MM-DD.",
                        format=other.value,
                        chosen=chosen.value,
                    ),
                ),
                whole_row=False,
            )
    if chosen is not DateFormat.DAY_MONTH_SLASH:
        return
    column = date_columns[0] if date_columns else ""
    if evidence.month_first is not None:
        row, text = evidence.month_first
        message = (
            gettext(
                "The dates look month-first (row %(row)d has %(text)s), yet row %(other_row)d"
                " has %(other_text)s, day first. Write them as DD/MM/YYYY or, best,"
                " YYYY-MM-DD.",
                row=row,
                text=text,
                other_row=evidence.day_first[0],
                other_text=evidence.day_first[1],
            )
            if evidence.day_first
            else gettext(
                "The dates look month-first (row %(row)d has %(text)s). Write them as"
                " DD/MM/YYYY or, best, YYYY-MM-DD.",
                row=row,
                text=text,
            )
        )
        table.problems.append(Problem(table.header_row, column, message))
        table.date_format = None
    elif evidence.day_first is None and evidence.either_way is not None:
        # (When every date reads the same both ways, 05/05/2025 say, there is no doubt.)
        row, text = evidence.either_way
        table.problems.append(
            Problem(
                table.header_row,
                column,
                gettext(
                    "These dates could be DD/MM/YYYY or MM/DD/YYYY: no day in the file is above"
                    " 12, so %(text)s (row %(row)d) could mean either of two days."
                    " Write them as YYYY-MM-DD.",
                    text=text,
                    row=row,
                ),
            )
        )
        table.date_format = None


def read_codes(data: bytes) -> tuple[list[str], list[Problem]]:
    """The certificate codes in ``data``, as typed: the column ``code`` of a CSV file (any
    other columns left out), or else the first cell of every non-empty line (codes one per
    line, no header). Encoding and delimiter are found as for any import."""
    table = read_csv(data, ["code"])
    if table.readable:
        return [row.values["code"] for row in table.rows() if row.values["code"]], []
    if not table.encoding:  # not text at all: the reason is the file's only problem
        return [], table.problems
    text = data.decode(table.codec)
    codes = []
    for cells in csv.reader(io.StringIO(text), delimiter=table.delimiter):
        first = next((cell.strip() for cell in cells if cell.strip()), "")
        if first and not _SEPARATOR_HINT.match(first):
            codes.append(first)
    return codes, []
