"""Dump cleaning: real sqlite3/wrangler-style dumps become SQL that loads in one transaction."""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from d1tui.convert.sql import split as sqlsplit
from d1tui.convert.sql.dump import clean_dump
from d1tui.convert.sql.inserts import STATEMENT_LIMIT
from d1tui.convert.sql.split import split_sql
from d1tui.errors import BadInputError
from d1tui.events import PrepareProgress

FIXTURES = Path(__file__).parent.parent / "fixtures" / "dumps"


def _clean(path: Path) -> tuple[str, object]:
    buf = io.BytesIO()
    report = clean_dump(path, buf.write)
    return buf.getvalue().decode(), report


def _load_like_d1(sql: str) -> sqlite3.Connection:
    """Run ``sql`` as D1's import does: one transaction, foreign keys enforced."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("BEGIN")
    for statement in split_sql(sql):
        conn.execute(statement.text)
    conn.execute("COMMIT")
    return conn


def _tables(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name"
        )
    ]
    return {n: sorted(conn.execute(f'SELECT * FROM "{n}"'), key=repr) for n in names}


def _original(dump: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.executescript(dump.read_text())
    return conn


def test_sqlite3_shell_dump_fixture_loads_with_identical_data() -> None:
    dump = FIXTURES / "sqlite3_dump.sql"
    sql, report = _clean(dump)
    assert "BEGIN" not in sql.split("CREATE TRIGGER")[0]
    assert "COMMIT" not in sql and "_cf_KV" not in sql and "sqlite_sequence" not in sql
    assert sql.startswith("PRAGMA defer_foreign_keys=true;\n")
    loaded = _load_like_d1(sql)
    assert _tables(loaded) == _tables(_original(dump))
    assert report.rows == {"authors": 3, "books": 3}  # type: ignore[attr-defined]
    assert report.created_tables == ["authors", "books", "log"]  # type: ignore[attr-defined]
    notes = report.notes  # type: ignore[attr-defined]
    assert any("BEGIN/COMMIT" in n for n in notes)
    assert any("defer_foreign_keys" in n for n in notes)
    assert any("internal tables" in n for n in notes)
    # The trigger survived in one piece and works after the import.
    loaded.execute("INSERT INTO books VALUES (9, 1, 'new;one', 1.0, NULL)")
    assert loaded.execute("SELECT msg FROM log").fetchall() == [("added; new;one",)]


def test_fresh_shell_dump_with_cf_kv_round_trips(tmp_path: Path) -> None:
    db = tmp_path / "src.db"
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE _cf_KV(key TEXT PRIMARY KEY, value BLOB);"
        "INSERT INTO _cf_KV VALUES ('k', x'00');"
        "CREATE TABLE p(id INTEGER PRIMARY KEY, v TEXT);"
        "CREATE TABLE c(id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id), x REAL);"
    )
    conn.executemany("INSERT INTO p VALUES (?, ?)", [(i, f"v'{i};\n") for i in range(50)])
    conn.executemany("INSERT INTO c VALUES (?, ?, ?)", [(i, i % 50, i / 7) for i in range(200)])
    conn.commit()
    dump = tmp_path / "dump.sql"
    shell = shutil.which("sqlite3")
    if shell:
        dump.write_bytes(
            subprocess.run([shell, str(db), ".dump"], check=True, capture_output=True).stdout
        )
    else:  # the same shape (BEGIN/COMMIT around CREATE + INSERT) from Python itself
        dump.write_text("\n".join(conn.iterdump()))
    assert "BEGIN TRANSACTION" in dump.read_text()
    sql, report = _clean(dump)
    assert _tables(_load_like_d1(sql)) == _tables(conn)
    assert report.rows == {"p": 50, "c": 200}  # type: ignore[attr-defined]


def test_wrangler_export_style_dump(tmp_path: Path) -> None:
    dump = tmp_path / "export.sql"
    dump.write_text(
        "PRAGMA defer_foreign_keys=TRUE;\n"
        'CREATE TABLE "users" ("id" INTEGER PRIMARY KEY, "name" TEXT);\n'
        'CREATE TABLE "orders" ("id" INTEGER PRIMARY KEY, "user_id" INTEGER REFERENCES '
        '"users"("id"), "note" TEXT);\n'
        'INSERT INTO "orders" ("id","user_id","note") VALUES(1,2,\'child first; ok\');\n'
        'INSERT INTO "users" ("id","name") VALUES(2,\'Ann "A" O\'\'Neil\');\n'
        'INSERT INTO "users" ("id","name") VALUES(3,NULL);\n'
        "CREATE TABLE _cf_METADATA (key INTEGER PRIMARY KEY, value BLOB);\n"
        "INSERT INTO \"_cf_METADATA\" VALUES(2,X'01');\n"
    )
    sql, report = _clean(dump)
    assert sql.splitlines()[0] == "PRAGMA defer_foreign_keys=TRUE;"
    assert "_cf_" not in sql
    loaded = _load_like_d1(sql)
    assert loaded.execute("SELECT * FROM users ORDER BY id").fetchall() == [
        (2, 'Ann "A" O\'Neil'),
        (3, None),
    ]
    assert loaded.execute("SELECT * FROM orders").fetchall() == [(1, 2, "child first; ok")]
    assert report.rows == {"orders": 1, "users": 2}  # type: ignore[attr-defined]
    assert report.statements == 6
    assert report.created_tables == ["users", "orders"]  # type: ignore[attr-defined]  # type: ignore[attr-defined]


def test_long_multi_row_insert_is_split_under_the_limit(tmp_path: Path) -> None:
    rows = [f"({i},'row {i}: ''quoted''; é🎉 {'x' * (i % 90)}')" for i in range(4000)]
    dump = tmp_path / "big.sql"
    dump.write_text(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT);\n"
        "INSERT INTO t VALUES " + ",\n".join(rows) + ";\n"
    )
    assert dump.stat().st_size > 2 * STATEMENT_LIMIT
    seen: list[PrepareProgress] = []
    buf = io.BytesIO()
    report = clean_dump(dump, buf.write, progress=seen.append)
    statements = buf.getvalue().split(b";\n")[:-1]
    assert len(statements) >= 3
    assert all(len(s) + 1 <= STATEMENT_LIMIT for s in statements)
    assert report.rows == {"t": 4000}
    assert report.inserts_split == 1
    assert seen[-1].statements == report.statements == len(statements)
    loaded = _load_like_d1(buf.getvalue().decode())
    assert _tables(loaded) == _tables(_original(dump))


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("PRAGMA journal_mode=WAL;", "PRAGMA journal_mode is not allowed"),
        ("PRAGMA main.synchronous = 0;", "PRAGMA synchronous is not allowed"),
        ("ATTACH DATABASE 'x.db' AS x;", "ATTACH"),
        ("  VACUUM;", "VACUUM"),
        ("ROLLBACK; -- due to errors", "ROLLBACK"),
        (".mode csv", "sqlite3 shell command"),
        ("PRAGMA writable_schema=ON;", "virtual tables"),
    ],
)
def test_rejected_statements_name_file_and_line(
    tmp_path: Path, statement: str, message: str
) -> None:
    dump = tmp_path / "bad.sql"
    dump.write_text("CREATE TABLE t(a);\nINSERT INTO t VALUES(';');\n\n" + statement + "\n")
    out = io.BytesIO()
    with pytest.raises(BadInputError) as err:
        clean_dump(dump, out.write)
    assert message in str(err.value)
    assert err.value.where is not None
    assert (err.value.where.path, err.value.where.line) == (dump, 4)


def test_allowed_pragmas_kept_and_foreign_keys_on_dropped(tmp_path: Path) -> None:
    dump = tmp_path / "p.sql"
    dump.write_text(
        "PRAGMA foreign_keys = 0;\nPRAGMA case_sensitive_like=ON;\nPRAGMA optimize;\n"
        "PRAGMA foreign_keys=ON;\n"
    )
    sql, report = _clean(dump)
    assert sql == (
        "PRAGMA defer_foreign_keys=true;\nPRAGMA case_sensitive_like=ON;\nPRAGMA optimize;\n"
    )
    assert report.pragmas_dropped == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("one_line", [True, False])
def test_huge_insert_is_written_while_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_line: bool
) -> None:
    """A multi-row INSERT far over the limit (one line or many) is drained as it is read."""
    monkeypatch.setattr(sqlsplit, "PIECE", 4096)  # read long lines in small pieces
    monkeypatch.setattr(sqlsplit, "DRAIN_AT", 50_000)  # and drain long statements early
    rows = [f"({i}, 'row -- {i}; /* it''s */ ' || char(10), X'{i:06x}')" for i in range(6000)]
    dump = tmp_path / "huge.sql"
    dump.write_text(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT, b BLOB);\n"
        "INSERT INTO t VALUES " + ("," if one_line else ",\n").join(rows) + ";\nSELECT 1;\n"
    )
    sql, report = _clean(dump)
    statements = sql.split(";\n")[:-1]
    assert len(statements) > 3
    assert all(len(s.encode()) + 1 <= STATEMENT_LIMIT for s in statements)
    assert report.rows == {"t": 6000} and report.inserts_split == 1  # type: ignore[attr-defined]
    assert _tables(_load_like_d1(sql)) == _tables(_original(dump))


def test_huge_insert_ending_in_an_upsert_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlsplit, "DRAIN_AT", 10_000)
    dump = tmp_path / "upsert.sql"
    rows = ",\n".join(f"({i})" for i in range(5000))
    dump.write_text(
        f"CREATE TABLE t(a PRIMARY KEY);\nINSERT INTO t VALUES {rows}\nON CONFLICT DO NOTHING;\n"
    )
    with pytest.raises(BadInputError, match="must end with its last row"):
        clean_dump(dump, io.BytesIO().write)


def test_rows_over_the_limit_are_inserted_in_parts(tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT, data BLOB, n REAL)")
    body = "it's\nlong é🎉 " * 12_000  # ~200 KB, newlines: .dump writes replace(..., char(10))
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?)",
        [(1, body, bytes(range(256)) * 500, 0.1), (2, "small", None, None)],
    )
    conn.commit()
    dump = tmp_path / "big.sql"
    shell = shutil.which("sqlite3")
    if shell:
        dump.write_bytes(
            subprocess.run([shell, str(db), ".dump"], check=True, capture_output=True).stdout
        )
    else:
        dump.write_text("\n".join(conn.iterdump()))
    sql, report = _clean(dump)
    assert all(len(s.encode()) + 1 <= STATEMENT_LIMIT for s in sql.split(";\n"))
    assert report.long_rows == 1 and report.rows == {"t": 2}  # type: ignore[attr-defined]
    assert any("in parts" in n for n in report.notes)  # type: ignore[attr-defined]
    assert _tables(_load_like_d1(sql)) == _tables(conn)


def test_unreadable_long_row_names_its_line(tmp_path: Path) -> None:
    dump = tmp_path / "wide.sql"
    dump.write_text(
        "CREATE TABLE t(a);\nINSERT INTO t VALUES\n('small'),\n(nosuch || '"
        + "y" * 120_000
        + "');\n"
    )
    with pytest.raises(BadInputError) as err:
        clean_dump(dump, io.BytesIO().write)
    assert err.value.where is not None and err.value.where.line == 4
    assert "100,000" in str(err.value)


def test_counts_are_withheld_when_the_file_deletes_or_upserts(tmp_path: Path) -> None:
    dump = tmp_path / "mixed.sql"
    dump.write_text(
        "CREATE TABLE t(a PRIMARY KEY);\nINSERT INTO t VALUES(1),(2);\n"
        "INSERT OR REPLACE INTO t VALUES(2);\nDELETE FROM t WHERE a = 1;\n"
    )
    sql, report = _clean(dump)
    assert report.rows == {} and report.rows_known is False  # type: ignore[attr-defined]
    assert _tables(_load_like_d1(sql)) == {"t": [(2,)]}
