"""`d1tui convert` and `d1tui fake`: their SQL loads into real SQLite, every value intact."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from d1tui.cli import main


def load(sql_file: Path) -> sqlite3.Connection:
    con = sqlite3.connect(":memory:")
    con.executescript(sql_file.read_text(encoding="utf-8"))
    return con


def test_convert_csv_round_trips_quotes_unicode_and_newlines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "people.csv"
    src.write_text(
        'name,quote,age\r\n"O\'Brien","said ""hi""; then\nleft",42\r\nZoë 🚀,,7\r\n',
        encoding="utf-8",
    )
    out = tmp_path / "people.sql"
    assert main(["convert", str(src), "-o", str(out), "--table", "people", "--create"]) == 0
    assert "✔ Wrote" in capsys.readouterr().err
    con = load(out)
    assert con.execute("SELECT name, quote, age FROM people ORDER BY age").fetchall() == [
        ("Zoë 🚀", None, 7),
        ("O'Brien", 'said "hi"; then\nleft', 42),
    ]
    text = out.read_text()
    assert "BEGIN" not in text.upper().split("CREATE")[0]


def test_convert_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "n.ndjson"
    src.write_text('{"a": 1, "b": "x"}\n{"a": 2, "b": null}\n')
    assert main(["convert", str(src), "--table", "n", "--create"]) == 0
    sql = capsys.readouterr().out
    con = sqlite3.connect(":memory:")
    con.executescript(sql)
    assert con.execute("SELECT a, b FROM n ORDER BY a").fetchall() == [(1, "x"), (2, None)]


def test_convert_bad_input_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "broken.ndjson"
    src.write_text('{"a": 1}\n{"a": 2}\n{"a": \n')
    assert main(["convert", str(src), "-o", str(tmp_path / "o.sql"), "--table", "t"]) == 3
    err = capsys.readouterr().err
    assert "broken.ndjson" in err and "line 3" in err
    assert not (tmp_path / "o.sql").exists()


def test_fake_default_table_is_reproducible_and_loads(tmp_path: Path) -> None:
    a, b = tmp_path / "a.sql", tmp_path / "b.sql"
    assert main(["fake", "--rows", "50", "--seed", "3", "-o", str(a)]) == 0
    assert main(["fake", "--rows", "50", "--seed", "3", "-o", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()
    con = load(a)
    assert con.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM TargetD1Table").fetchone() == (
        50,
        50,
    )
    cols = [r[1] for r in con.execute("PRAGMA table_info(TargetD1Table)")]
    assert cols == ["id", "text", "date_added"]


def test_fake_schema_from_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "app.sqlite"
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, city TEXT)"
    )
    con.close()
    out = tmp_path / "people.sql"
    argv = ["fake", "--table", "people", "--rows", "30", "--schema-from", str(db), "-o", str(out)]
    assert main(argv) == 0
    got = load(out).execute("SELECT COUNT(*), COUNT(DISTINCT email) FROM people").fetchone()
    assert got == (30, 30)


def test_reader_flags_delimiter_no_headers_type_and_pk(tmp_path: Path) -> None:
    src = tmp_path / "raw.txt"
    src.write_text("7;007;x\n8;010;y\n", encoding="latin-1")
    out = tmp_path / "raw.sql"
    argv = [
        "convert",
        str(src),
        "-o",
        str(out),
        "--table",
        "raw",
        "--create",
        "--format",
        "csv",
        "--delimiter",
        ";",
        "--no-headers",
        "--type",
        "col1=TEXT",
        "--pk",
        "col2",
        "--encoding",
        "latin-1",
    ]
    assert main(argv) == 0
    con = load(out)
    cols = con.execute("PRAGMA table_info(raw)").fetchall()
    assert [(c[1], c[2]) for c in cols] == [("col1", "TEXT"), ("col2", "TEXT"), ("col3", "TEXT")]
    assert [c[1] for c in cols if c[5]] == ["col2"]
    assert con.execute("SELECT col1, col2, col3 FROM raw ORDER BY 1").fetchall() == [
        ("7", "007", "x"),
        ("8", "010", "y"),
    ]


def test_bad_type_flag_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "a.csv"
    src.write_text("a\n1\n")
    assert main(["convert", str(src), "--type", "a"]) == 2
    assert "COL=TYPE" in capsys.readouterr().err
