"""The CSV reader on its own: the dialects real spreadsheets write, and what it refuses."""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certification.imports.csvfile import (
    CellError,
    DateFormat,
    Problem,
    normalise_header,
    parse_decimal,
    read_csv,
)
from tests.imports import problem_places

CANDIDATES = ("email", "full_name", "country")
CREDITS = ("email", "course_code", "completed_on")
RESULTS = ("email", "assessment_code", "score", "taken_on")


def credits_table(text: str, encoding: str = "utf-8"):
    return read_csv(text.encode(encoding), CREDITS, date_columns=("completed_on",))


def rows(table) -> list[tuple[int, dict[str, str]]]:
    return [(row.number, row.values) for row in table.rows()]


# ---------------------------------------------------------------- encodings


def test_utf8_without_bom():
    table = read_csv("email,full_name,country\na@x.org,Łukasz Wiśniewski,PL\n".encode(), CANDIDATES)
    assert table.problems == []
    assert table.encoding == "UTF-8"
    assert rows(table) == [
        (2, {"email": "a@x.org", "full_name": "Łukasz Wiśniewski", "country": "PL"})
    ]


def test_utf8_with_bom_does_not_hide_the_first_column():
    data = codecs.BOM_UTF8 + "email;full_name;country\na@x.org;Αικατερίνη;GR\n".encode()
    table = read_csv(data, CANDIDATES)
    assert table.problems == []
    assert table.encoding == "UTF-8 with BOM"
    assert rows(table)[0][1]["email"] == "a@x.org"


def test_windows_1252_when_the_bytes_are_not_utf8():
    text = "email;full_name;country\nf@x.fr;Françoise Müller;FR\no@x.no;Øyvind Ødegård;NO\n"
    table = read_csv(text.encode("cp1252"), CANDIDATES)
    assert table.problems == []
    assert table.encoding == "Windows-1252"
    assert [values["full_name"] for _, values in rows(table)] == [
        "Françoise Müller",
        "Øyvind Ødegård",
    ]


def test_names_windows_1252_cannot_hold_are_read_as_utf8():
    with pytest.raises(UnicodeEncodeError):
        "Łukasz".encode("cp1252")
    text = "email,full_name,country\nl@x.pl,Łukasz Müller,PL\n"
    table = read_csv(text.encode(), CANDIDATES)
    assert table.encoding == "UTF-8"
    assert rows(table)[0][1]["full_name"] == "Łukasz Müller"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"  \r\n\r\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV"),
        (b"PK\x03\x04\x14\x00\x06\x00", "workbook"),
        (codecs.BOM_UTF16_LE + "email,full_name".encode("utf-16-le"), "UTF-16"),
        (b"email,full_name,country\n\x81\x8d\x8f,\x90\x9d,PL\n", "neither UTF-8 nor Windows-1252"),
    ],
)
def test_files_that_are_not_csv_text_get_one_clear_problem(data, words):
    table = read_csv(data, CANDIDATES)
    assert len(table.problems) == 1
    assert table.problems[0].row == 1
    assert words in table.problems[0].message
    assert list(table.rows()) == []


# ---------------------------------------------------------------- delimiters and quoting


def test_semicolons_and_decimal_commas_as_european_excel_writes_them():
    text = "email;assessment_code;score;taken_on\na@x.org;CERT-EXAM;72,5;2024-05-31\n"
    table = read_csv(text.encode(), RESULTS, date_columns=("taken_on",))
    assert table.problems == []
    assert table.delimiter == ";"
    ((_, values),) = rows(table)
    assert parse_decimal(values["score"]) == Decimal("72.5")


def test_quoted_cells_may_hold_the_delimiter_and_line_breaks():
    text = (
        "email,full_name,country\n"
        '"a@x.org","Wiśniewski, Łukasz",PL\n'
        '"b@x.org","Anna\nKowalska",PL\n'
        "c@x.org,Jón Þórsson,IS\n"
    )
    table = read_csv(text.encode(), CANDIDATES)
    assert table.problems == []
    found = rows(table)
    assert found[0][1]["full_name"] == "Wiśniewski, Łukasz"
    assert found[1][1]["full_name"] == "Anna\nKowalska"
    # A spreadsheet shows the quoted line break inside one cell: Jón is on row 4.
    assert [number for number, _ in found] == [2, 3, 4]


def test_an_excel_separator_line_names_the_delimiter():
    table = read_csv(b"sep=;\r\nemail;full_name;country\r\na@x.org;Ana, Maria;PT\r\n", CANDIDATES)
    assert table.problems == []
    assert (table.delimiter, table.header_row) == (";", 2)
    assert rows(table)[0] == (3, {"email": "a@x.org", "full_name": "Ana, Maria", "country": "PT"})


def test_a_decimal_comma_in_a_comma_separated_file_needs_quotes():
    text = "email,assessment_code,score,taken_on\na@x.org,CERT-EXAM,72,5,2024-05-31\n"
    table = read_csv(text.encode(), RESULTS, date_columns=("taken_on",))
    assert table.problems[0].row == 2
    assert "5 cells" in table.problems[0].message
    assert "quotes" in table.problems[0].message
    assert table.bad_rows == {2}


def test_empty_lines_are_skipped_but_keep_their_row_numbers():
    text = (
        "email;course_code;completed_on\n"
        "\n"
        "a@x.org;EII-101;2024-05-31\n"
        ";;\n"
        "\n"
        "b@x.org;EII-102;2024-06-01\n"
    )
    table = credits_table(text)
    assert table.problems == []
    assert table.row_count == 2
    assert [number for number, _ in rows(table)] == [3, 6]


# ---------------------------------------------------------------- the header


def test_columns_in_any_order_and_headers_in_any_case():
    text = "Completed On ; Course Code;E-Mail\n2024-05-31;EII-101;a@x.org\n"
    table = credits_table(text)
    assert table.problems == []
    assert rows(table) == [
        (2, {"email": "a@x.org", "course_code": "EII-101", "completed_on": "2024-05-31"})
    ]


def test_extra_columns_are_reported_not_fatal():
    text = "email,Notes,course_code,completed_on,Grade,\na@x.org,late,EII-101,2024-05-31,B,\n"
    table = credits_table(text)
    assert table.problems == []
    assert table.extra_columns == ("Notes", "Grade")
    assert rows(table)[0][1]["course_code"] == "EII-101"


def test_a_missing_column_is_one_problem_on_row_1_naming_it():
    table = credits_table("email,course,completed_on\na@x.org,EII-101,2024-05-31\n")
    assert problem_places(table) == [(1, "course_code")]
    assert "course_code" in table.problems[0].message
    assert list(table.rows()) == []


def test_a_column_twice_is_a_problem():
    table = credits_table(
        "email,course_code,Email,completed_on\na@x.org,EII-101,b@x.org,2024-05-31\n"
    )
    assert problem_places(table) == [(1, "email")]


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("Email", "email"),
        (" E-mail ", "email"),
        ("\ufeffemail", "email"),
        ("Full  Name", "full_name"),
    ],
)
def test_header_names_are_matched_loosely(raw, name):
    assert normalise_header(raw) == name


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("cells", "date_format", "first"),
    [
        (("2024-05-31", "2024-06-01"), DateFormat.ISO, dt.date(2024, 5, 31)),
        (("31/05/2024", "01/06/2024"), DateFormat.DAY_MONTH_SLASH, dt.date(2024, 5, 31)),
        (("31.05.2024", "1.6.2024"), DateFormat.DAY_MONTH_DOT, dt.date(2024, 5, 31)),
        # Nobody writes month-first with dots: DD.MM.YYYY needs no day above 12.
        (("01.02.2024", "03.04.2024"), DateFormat.DAY_MONTH_DOT, dt.date(2024, 2, 1)),
    ],
)
def test_the_file_s_date_format_is_found(cells, date_format, first):
    text = "email;course_code;completed_on\n" + "".join(
        f"a@x.org;C{i};{c}\n" for i, c in enumerate(cells)
    )
    table = credits_table(text)
    assert table.problems == []
    assert table.date_format is date_format
    assert table.parse_date(cells[0]) == first


@pytest.mark.parametrize(
    ("rows", "cell", "day"),
    [
        # 25/03 can only be day-first, so the file's 03/04 is 3 April.
        ("a@x.org;C1;25/03/2024\na@x.org;C2;03/04/2024\n", "03/04/2024", dt.date(2024, 4, 3)),
        # A whole cohort sat on 5 May: 05/05/2025 is that day whichever way round it is read.
        ("a@x.org;C1;05/05/2025\nb@x.org;C1;11/11/2025\n", "05/05/2025", dt.date(2025, 5, 5)),
    ],
)
def test_slashed_dates_that_can_mean_one_day_only_are_no_problem(rows, cell, day):
    table = credits_table("email;course_code;completed_on\n" + rows)
    assert table.problems == []
    assert table.parse_date(cell) == day


def test_slashes_that_could_be_either_way_round_are_a_problem():
    table = credits_table(
        "email;course_code;completed_on\na@x.org;C1;03/04/2024\na@x.org;C2;05/06/2024\n"
    )
    assert problem_places(table) == [(1, "completed_on")]
    assert "03/04/2024 (row 2) could mean either of two days" in table.problems[0].message
    assert "YYYY-MM-DD" in table.problems[0].message
    assert table.date_format is None


def test_month_first_dates_are_a_problem():
    table = credits_table("email;course_code;completed_on\na@x.org;C1;03/25/2024\n")
    assert "month-first" in table.problems[0].message
    assert table.date_format is None


def test_mixed_date_formats_point_at_the_odd_rows():
    text = (
        "email;course_code;completed_on\n"
        + "a@x.org;C1;2024-05-31\n" * 3
        + "a@x.org;C2;31.05.2024\n"
    )
    table = credits_table(text)
    assert table.date_format is DateFormat.ISO
    assert problem_places(table) == [(5, "completed_on")]
    assert "DD.MM.YYYY" in table.problems[0].message
    # The row is still checked for its other cells; only this date is known to be wrong.
    assert table.bad_rows == set()
    assert table.flagged_cells == {(5, "completed_on")}


@pytest.mark.parametrize("text", ["31/02/2024", "yesterday", "2024-13-01"])
def test_a_date_that_is_not_one_says_so(text):
    table = credits_table("email;course_code;completed_on\na@x.org;C1;25/03/2024\n")
    with pytest.raises(CellError):
        table.parse_date(text)


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "number"), [("72,5", "72.5"), ("72.5", "72.5"), (" 80 ", "80"), (",5", "0.5")]
)
def test_numbers_with_a_point_or_a_comma(text, number):
    assert parse_decimal(text) == Decimal(number)


@pytest.mark.parametrize("text", ["1.000,5", "seventy", "", "7e2", "NaN"])
def test_what_is_not_a_number_is_refused(text):
    with pytest.raises(CellError):
        parse_decimal(text)


# ---------------------------------------------------------------- never anything but a problem


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=400)
    | st.text(alphabet="email,course_code;completed_on\n\"'\r 0123/.-ŁΑ\x00", max_size=200).map(
        str.encode
    )
)
def test_any_bytes_give_rows_or_problems_never_an_exception(data):
    table = read_csv(data, CREDITS, date_columns=("completed_on",))
    for row in table.rows():
        assert set(row.values) == set(CREDITS)
        with contextlib.suppress(CellError):
            table.parse_date(row.values["completed_on"])
    assert all(isinstance(p, Problem) for p in table.problems)
