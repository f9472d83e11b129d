"""Readers on files shaped like real producers, and the errors malformed files give."""

from __future__ import annotations

from pathlib import Path

import pytest

from d1tui.convert.detect import Format, ReadOptions, detect
from d1tui.convert.readers.by_format import open_rows
from d1tui.errors import BadInputError

DATA = Path(__file__).parent.parent / "fixtures" / "data"


def _read(path: Path, options: ReadOptions | None = None) -> tuple[list[str], list[tuple]]:
    options = options or ReadOptions()
    with open_rows(detect(path, options), options) as source:
        return source.columns, list(source.rows)


def test_excel_csv_with_bom_crlf_and_quoted_newline() -> None:
    columns, rows = _read(DATA / "excel_utf8_bom_crlf.csv")
    assert columns == ["id", "name", "zip", "price", "joined"]  # BOM not in the first name
    assert rows == [
        (2, ["1", "O'Brien, Pat", "02134", "19.99", "2024-01-05"]),
        (3, ["2", 'Say "hi"\r\nsecond line', "00501", "5", "2024-02-29"]),
        (5, ["3", "Zoë 😀", "90210", "", "2023-12-31"]),  # its line counts the quoted break
    ]


def test_tsv_keeps_leading_zero_codes_as_text() -> None:
    columns, rows = _read(DATA / "export.tsv")
    assert columns == ["code", "label", "qty"]
    assert [r for _, r in rows] == [["007", "agent", "1"], ["010", "ten", "-2"]]


def test_utf16_with_bom_is_transcoded() -> None:
    facts = detect(DATA / "unicode_text_utf16.txt")
    assert facts.format == Format.TSV
    assert facts.summary == "TSV · UTF-16 LE with BOM · tab · CRLF · header"
    columns, rows = _read(DATA / "unicode_text_utf16.txt")
    assert columns == ["name", "city"]
    assert [r for _, r in rows] == [["José", "Málaga"], ["李", "北京"]]


def test_undecodable_bytes_name_file_line_column_and_offset() -> None:
    path = DATA / "latin1.csv"
    with pytest.raises(BadInputError) as info:
        _read(path)
    where = info.value.where
    assert where is not None
    assert (where.path, where.line, where.column, where.byte_offset) == (path, 3, 6, 18)
    assert "e9" in info.value.detail
    assert "latin1.csv, line 3, column 6, byte 18" in str(info.value)
    # With the encoding given, the same file reads.
    _, rows = _read(path, ReadOptions(encoding="cp1252"))
    assert rows[-1][1] == ["2", "café"]


def test_ragged_rows_name_the_first_line_and_the_next_ones() -> None:
    with pytest.raises(BadInputError) as info:
        _read(DATA / "ragged.csv")
    assert info.value.where is not None and info.value.where.line == 3
    assert "2 fields where the header has 3" in info.value.detail
    assert "also lines 5 (4), 6 (2)" in info.value.detail


def test_malformed_quoting_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text('a,b\n1,2\n3,"x"y\n')
    with pytest.raises(BadInputError, match="malformed CSV") as info:
        _read(path)
    assert info.value.where is not None and info.value.where.line == 3


def test_no_header_names_columns_and_keeps_the_first_row(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_text("1,a\n2,b\n")
    assert detect(path).has_header is False  # a number in the first row
    columns, rows = _read(path)
    assert columns == ["col1", "col2"]
    assert [r for _, r in rows] == [["1", "a"], ["2", "b"]]
    columns, rows = _read(path, ReadOptions(has_header=True))
    assert columns == ["1", "a"]


def test_semicolon_dialect_is_sniffed_and_blank_lines_skipped(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("name;amount\nx;1,5\n\ny;2,25\n")
    assert detect(path).delimiter == ";"
    assert [r for _, r in _read(path)[1]] == [["x", "1,5"], ["y", "2,25"]]


def test_ndjson_bad_line_is_named_with_its_column() -> None:
    path = DATA / "people.ndjson"  # line 4 lacks its closing brace
    with pytest.raises(BadInputError, match="invalid JSON") as info:
        open_rows(detect(path))
    assert info.value.where is not None
    assert (info.value.where.line, info.value.where.column) == (4, 22)


def test_ndjson_rows_know_their_lines_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "p.ndjson"
    path.write_text('{"id": 1, "tags": ["x"]}\n\n{"id": 2, "extra": {"k": null}}\n')
    columns, rows = _read(path)
    assert columns == ["id", "tags", "extra"]
    assert rows == [(1, {"id": 1, "tags": ["x"]}), (3, {"id": 2, "extra": {"k": None}})]


def test_ndjson_head_error_raises_at_open(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(BadInputError, match="not a JSON object") as info:
        open_rows(detect(path))
    assert info.value.where is not None and info.value.where.line == 2


def test_json_object_is_not_an_array() -> None:
    facts = detect(DATA / "object.json")
    assert facts.format == Format.JSON  # pretty-printed: not one object per line
    with pytest.raises(BadInputError, match="an object, not an array"):
        open_rows(facts)


def test_json_array_keeps_exact_values_and_collects_keys() -> None:
    columns, rows = _read(DATA / "array.json")
    assert columns == ["id", "n", "big", "ok", "nested"]
    assert rows[0][1]["big"] == 123456789012345678901234567890
    assert rows[0][1]["nested"] == {"a": [1, 2]}


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[\n {"a": 1},\n {"a": 2,,}\n]\n')
    with pytest.raises(BadInputError, match="invalid JSON") as info:
        open_rows(detect(path))
    assert info.value.where is not None
    assert (info.value.where.line, info.value.where.column) == (3, 10)


def test_json_array_of_scalars_names_the_element(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('[{"a": 1}, 2]')
    with pytest.raises(BadInputError, match="element 2 is a number") as info:
        open_rows(detect(path))
    assert info.value.where is not None and info.value.where.row == 2
