"""preview_file: first rows, schema, warnings and first SQL from the head of a file only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from d1tui.convert.detect import ReadOptions
from d1tui.convert.prepare import Target
from d1tui.convert.preview import SQL_SHOWN, preview_file
from d1tui.convert.schema import TARGET_D1_TABLE
from d1tui.events import ColumnsSkipped

DATA = Path(__file__).parent.parent / "fixtures" / "data"


def test_new_table_preview_shows_types_rows_and_runnable_sql() -> None:
    preview = preview_file(
        DATA / "excel_utf8_bom_crlf.csv", ReadOptions(), Target("people", True), limit=2
    )
    assert preview.facts is not None and preview.facts.summary.startswith("CSV · UTF-8 with BOM")
    assert [(c.name, c.type) for c in preview.schema.columns] == [
        ("id", "INTEGER"),
        ("name", "TEXT"),
        ("zip", "TEXT"),
        ("price", "REAL"),
        ("joined", "TEXT"),
    ]
    assert preview.rows == [
        (1, "O'Brien, Pat", "02134", 19.99, "2024-01-05"),
        (2, 'Say "hi"\r\nsecond line', "00501", 5.0, "2024-02-29"),
    ]
    conn = sqlite3.connect(":memory:")
    conn.executescript(preview.first_sql)
    assert conn.execute("SELECT count(*) FROM people").fetchone() == (2,)


def test_preview_reads_only_the_head_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    lines = ["a,b"] + [f"{i},x" for i in range(5000)] + ["oops,x,extra"]
    path.write_text("\n".join(lines) + "\n")
    # The ragged last line is beyond the head: the preview does not reach it.
    preview = preview_file(path, ReadOptions(), Target("big", True), limit=3)
    assert preview.rows == [(0, "x"), (1, "x"), (2, "x")]
    assert any("first 1,000 rows" in w for w in preview.warnings)


def test_existing_table_preview_reports_the_mapping(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("Text,junk\nhello,1\n")
    target = Target("TargetD1Table", False, existing=TARGET_D1_TABLE)
    preview = preview_file(path, ReadOptions(), target)
    assert preview.mapping is not None
    assert preview.mapping.unmatched_source == ("junk",)
    assert preview.rows == [("hello",)]
    assert any("junk" in w for w in preview.warnings)
    assert not preview.first_sql.startswith("CREATE")
    assert preview.first_sql == 'INSERT INTO "TargetD1Table" ("text") VALUES (\'hello\');'


def test_the_preview_warns_with_the_event_the_cli_renders(tmp_path: Path) -> None:
    path = tmp_path / "m.ndjson"
    path.write_text('{"id": 1, "text": "hi", "mood": "ok", "Extra": 2}\n')
    target = Target("TargetD1Table", False, existing=TARGET_D1_TABLE)
    preview = preview_file(path, ReadOptions(), target)
    assert preview.mapping is not None
    skipped = preview.mapping.skipped
    assert skipped == ColumnsSkipped("TargetD1Table", ("mood", "Extra"))
    assert skipped.message == "not in table 'TargetD1Table', skipped: mood, Extra"
    assert skipped.message in preview.warnings


def test_long_first_statement_is_shortened(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_text("a\n" + "\n".join("x" * 500 for _ in range(50)) + "\n")
    preview = preview_file(path, ReadOptions(), Target("l", False))
    assert len(preview.first_sql) < SQL_SHOWN + 40
    assert preview.first_sql.endswith("characters)")
