"""SQLite files → SQL: parents first, exact rows and types, schema objects, clear errors."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from d1tui.convert.readers.sqlite_file import convert_sqlite, is_sqlite_file, sqlite_tables
from d1tui.convert.sql.inserts import STATEMENT_LIMIT
from d1tui.errors import BadInputError

BIG_TEXT = "long 'text' é🎉\n" * 20_000  # ~340 KB: needs the long-row path
BIG_BLOB = bytes(range(256)) * 600  # 150 KB


def _source(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER NOT NULL
            REFERENCES customers(id), total REAL, doubled REAL GENERATED ALWAYS AS (total * 2));
        CREATE TABLE order_lines(order_id INTEGER REFERENCES orders(id), n INTEGER,
            sku TEXT, PRIMARY KEY (order_id, n)) WITHOUT ROWID;
        CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT NOT NULL,
            referred_by INTEGER REFERENCES customers(id), photo BLOB, notes TEXT);
        CREATE TABLE a(id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b(id));
        CREATE TABLE b(id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id));
        CREATE TABLE audit(id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT);
        CREATE TABLE _cf_KV(key TEXT PRIMARY KEY, value BLOB);
        CREATE VIRTUAL TABLE docs USING fts5(body);
        CREATE INDEX orders_customer ON orders(customer);
        CREATE UNIQUE INDEX customers_name ON customers(name);
        CREATE TRIGGER orders_audit AFTER INSERT ON orders BEGIN
            INSERT INTO audit(what) VALUES ('order; ' || new.id); END;
        CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 10;
        """
    )
    conn.executemany(
        "INSERT INTO customers VALUES (?, ?, ?, ?, ?)",
        [
            (1, 'O\'Brien "Jr"', 2, b"\x00\x01", None),
            (2, "Zoë 名前 🎉", 1, None, BIG_TEXT),
            (3, "nul\x00inside", None, BIG_BLOB, "x"),
            (4, "edge", 4, b"", ""),
        ],
    )
    conn.executemany(
        "INSERT INTO orders(id, customer, total) VALUES (?, ?, ?)",
        [(i, 1 + i % 4, v) for i, v in enumerate([0.1, -0.0, 1e308, 5e-324, 12.5, 2**53 + 1.0])],
    )
    conn.executemany(
        "INSERT INTO order_lines VALUES (?, ?, ?)", [(i % 6, i, f"sku-{i}") for i in range(300)]
    )
    conn.executescript(
        "INSERT INTO a VALUES (1, NULL); INSERT INTO b VALUES (1, 1); UPDATE a SET b_id = 1;"
        "INSERT INTO _cf_KV VALUES ('k', x'00'); INSERT INTO docs VALUES ('find me');"
        "INSERT INTO orders(id, customer, total) VALUES (99, 2, 9223372036854775807);"
    )
    conn.commit()
    conn.close()
    return path


def _convert(path: Path, **kw: object) -> tuple[str, object]:
    buf = io.BytesIO()
    report = convert_sqlite(path, buf.write, **kw)  # type: ignore[arg-type]
    return buf.getvalue().decode(), report


def _load_like_d1(sql: str) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.executescript("BEGIN;\n" + sql + "\nCOMMIT;")
    return conn


def _dump(conn: sqlite3.Connection, table: str) -> list[tuple[object, ...]]:
    cols = [r[1] for r in conn.execute(f'PRAGMA table_xinfo("{table}")')]
    select = ", ".join(f'"{c}", typeof("{c}")' for c in cols)
    return sorted(conn.execute(f'SELECT {select} FROM "{table}"'), key=repr)


def test_foreign_keys_order_rows_types_and_schema_objects(tmp_path: Path) -> None:
    src = _source(tmp_path / "shop.db")
    sql, report = _convert(src)
    assert sql.startswith("PRAGMA defer_foreign_keys=true;\n")
    creates = [line.split("(")[0] for line in sql.splitlines() if line.startswith("CREATE TABLE")]
    assert creates.index("CREATE TABLE IF NOT EXISTS customers") < creates.index(
        "CREATE TABLE IF NOT EXISTS orders"
    )
    assert creates.index("CREATE TABLE IF NOT EXISTS orders") < creates.index(
        "CREATE TABLE IF NOT EXISTS order_lines"
    )
    assert "_cf_KV" not in sql and "docs" not in sql and "sqlite_sequence" not in sql
    for statement in sql.split(";\n"):
        assert len(statement.encode()) + 1 <= STATEMENT_LIMIT
    loaded = _load_like_d1(sql)
    original = sqlite3.connect(src)
    for table in ("customers", "orders", "order_lines", "a", "b", "audit"):
        assert _dump(loaded, table) == _dump(original, table), table
    assert report.rows == {  # type: ignore[attr-defined]
        "customers": 4,
        "orders": 7,
        "order_lines": 300,
        "a": 1,
        "b": 1,
        "audit": 7,
    }
    objects = {r[0] for r in loaded.execute("SELECT name FROM sqlite_master")}
    assert {"orders_customer", "customers_name", "orders_audit", "big_orders"} <= objects
    assert loaded.execute("PRAGMA foreign_key_check").fetchall() == []
    assert any("docs" in n for n in report.notes)  # type: ignore[attr-defined]


def test_chosen_tables_only_with_a_note_for_missing_parents(tmp_path: Path) -> None:
    src = _source(tmp_path / "shop.db")
    sql, report = _convert(src, tables=["ORDERS"])
    assert report.rows == {"orders": 7}  # type: ignore[attr-defined]
    assert "customers" not in sql.split("CREATE INDEX")[0].replace("REFERENCES customers", "")
    notes = " ".join(report.notes)  # type: ignore[attr-defined]
    assert "'customers'" in notes and "big_orders" in notes
    assert "CREATE TRIGGER IF NOT EXISTS orders_audit" in sql
    with pytest.raises(BadInputError, match="no table 'nope'"):
        _convert(src, tables=["nope"])


def test_table_list_for_choosing(tmp_path: Path) -> None:
    src = _source(tmp_path / "shop.db")
    tables = {t.name: t for t in sqlite_tables(src)}
    assert set(tables) == {"orders", "order_lines", "customers", "a", "b", "audit"}
    assert tables["orders"].columns == ("id", "customer", "total")
    assert tables["orders"].parents == ("customers",)
    assert tables["order_lines"].without_rowid


def test_not_a_database_and_corrupt_files_are_bad_input(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("hello")
    assert not is_sqlite_file(text)
    with pytest.raises(BadInputError, match="not an SQLite 3 database"):
        _convert(text)
    src = _source(tmp_path / "shop.db")
    data = bytearray(src.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page + 100 : len(data)] = b"\xff" * (len(data) - page - 100)  # wreck all but page 1
    broken = tmp_path / "broken.db"
    broken.write_bytes(bytes(data))
    with pytest.raises(BadInputError) as err:
        _convert(broken)
    assert err.value.where is not None and err.value.where.path == broken
    assert "cannot be read" in str(err.value)
