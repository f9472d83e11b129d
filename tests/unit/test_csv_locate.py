"""The line and column of a bad CSV record, found by walking it as csv's strict mode does."""

from __future__ import annotations

import csv
import io

import pytest

from d1tui.convert.readers.csv_locate import scan_record


def _scan(text: str, first: int = 1):
    return scan_record(io.StringIO(text, newline=""), first, ",", '"')


def test_field_starts_and_the_line_break_that_ends_the_record():
    scan = _scan('a,"b,c",,d\nnext,line\n')
    assert scan.starts == [(1, 1), (1, 3), (1, 9), (1, 10)]
    assert scan.end == (1, 11) and scan.error is None


def test_a_quoted_line_break_and_a_doubled_quote_stay_inside_the_field():
    scan = _scan('1,"two\nlines ""q""",x\r\n', first=7)
    assert scan.starts == [(7, 1), (7, 3), (8, 14)]
    assert scan.end == (8, 15) and scan.error is None


def test_a_character_after_a_closing_quote_is_the_error():
    assert _scan('2,"x"y,3\n').error == (1, 6)


def test_an_unclosed_quote_is_named_where_it_opens():
    scan = _scan('2,"never closed\n3,x\n')
    assert scan.error == (1, 3)


def test_the_end_of_the_file_ends_the_last_record():
    assert _scan("1,a,").starts == [(1, 1), (1, 3), (1, 5)]
    assert _scan("1,a").end == (1, 4)


@pytest.mark.parametrize(
    "text",
    ['a,"b"c\n', 'a,"b\n', '"x"\x01\n', 'a,b\n"c""d"e\n'],
)
def test_the_scan_finds_an_error_exactly_where_csv_raises(text):
    """Cross-check: every record csv's strict mode refuses has an error position here."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    with pytest.raises(csv.Error):
        list(reader)
    first = 2 if text.startswith("a,b\n") else 1
    lines = io.StringIO(text, newline="").readlines()[first - 1 :]
    assert scan_record(lines, first, ",", '"').error is not None


def test_a_quote_left_open_over_a_long_file_is_named_without_reading_it_all():
    lines = ['1,"open\n'] + ["x" * 999 + "\n"] * 100_000  # 100 MB after the quote
    scan = scan_record(iter(lines), 5, ",", '"')
    assert scan.error == (5, 3)
