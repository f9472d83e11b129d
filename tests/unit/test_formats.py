"""detect(): magic bytes, BOMs, extensions, content, dialect and the summary line."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from d1tui.convert.detect import HEAD_BYTES, Format, ReadOptions, detect
from d1tui.errors import BadInputError

DATA = Path(__file__).parent.parent / "fixtures" / "data"


def test_excel_csv_summary() -> None:
    facts = detect(DATA / "excel_utf8_bom_crlf.csv")
    assert facts.format == Format.CSV
    assert facts.encoding == "utf-8-sig"
    assert (facts.delimiter, facts.newline, facts.has_header) == (",", "\r\n", True)
    assert facts.summary == 'CSV · UTF-8 with BOM · "," · CRLF · header'


def test_sqlite_magic_wins_over_extension(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    sqlite3.connect(path).execute("CREATE TABLE t (a)").connection.commit()
    facts = detect(path)
    assert facts.format == Format.SQLITE
    assert facts.summary == "SQLite database"
    with pytest.raises(BadInputError, match="not an SQLite database"):
        detect(DATA / "export.tsv", ReadOptions(format=Format.SQLITE))


@pytest.mark.parametrize(
    ("name", "content", "fmt"),
    [
        ("a.txt", b"  [\n{}]", Format.JSON),
        ("a.txt", b'{"a": 1}\n{"a": 2}\n', Format.NDJSON),
        ("a.json", b'{"a": 1}\n{"a": 2}\n', Format.NDJSON),  # JSON Lines saved as .json
        ("a.json", b'{\n "a": 1\n}\n', Format.JSON),  # one pretty object: JSON (an error later)
        ("dump", b"-- comment\nPRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n", Format.SQL),
        ("dump", b"/* x */ create table t(a);", Format.SQL),
        ("a.sql", b"anything", Format.SQL),
        ("a.jsonl", b"\n", Format.NDJSON),
        ("data", b"a\tb\n1\t2\n", Format.TSV),
        ("data", b"a,b\n1,2\n", Format.CSV),
    ],
)
def test_format_from_extension_and_content(
    tmp_path: Path, name: str, content: bytes, fmt: Format
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert detect(path).format == fmt


def test_options_override_detection(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"a|b\r1|2\r")
    facts = detect(path, ReadOptions(delimiter="|", has_header=False))
    assert (facts.delimiter, facts.has_header, facts.newline) == ("|", False, "\r")
    assert facts.summary == 'CSV · UTF-8 · "|" · CR · no header'


def test_utf16_be_and_explicit_utf8_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "be.csv"
    path.write_bytes("\ufeffa,b\n1,2\n".encode("utf-16-be"))
    assert detect(path).summary == 'CSV · UTF-16 BE with BOM · "," · LF · header'
    assert detect(DATA / "excel_utf8_bom_crlf.csv", ReadOptions(encoding="UTF8")).encoding == (
        "utf-8-sig"
    )


def test_only_the_head_is_read_and_a_cut_character_is_harmless(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    head = b"name,n\n" + b"x" * (HEAD_BYTES - 8) + b",1\n"
    path.write_bytes(head[: HEAD_BYTES - 1] + "é".encode() + b"\xff" * 1000)
    facts = detect(path)  # the invalid tail is beyond the head: found by the reader instead
    assert facts.format == Format.CSV and facts.encoding == "utf-8"


def test_missing_file_and_unknown_encoding(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="cannot read"):
        detect(tmp_path / "nope.csv")
    with pytest.raises(BadInputError, match="unknown encoding"):
        detect(DATA / "export.tsv", ReadOptions(encoding="klingon"))


def test_a_header_starting_with_an_sql_word_is_still_csv(tmp_path: Path) -> None:
    path = tmp_path / "export"
    path.write_bytes(b"Update,Count\nyes,1\n")
    assert detect(path).format == Format.CSV


def test_an_empty_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(BadInputError, match="the file is empty"):
        detect(path)


def test_random_bytes_are_binary_not_csv(tmp_path: Path) -> None:
    path = tmp_path / "noise.csv"
    rng = random.Random(3)
    path.write_bytes(bytes(rng.getrandbits(8) for _ in range(5000)))
    with pytest.raises(BadInputError, match="binary data, not text"):
        detect(path)


def test_a_folder_is_a_folder_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="is a folder, not a file"):
        detect(tmp_path)


def test_latin1_text_is_not_taken_for_binary(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_bytes(b"id,name\n" + "1,café naïve Ærø\n".encode("cp1252") * 200)
    assert detect(path).format == Format.CSV
