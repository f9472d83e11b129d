"""Fake rows: seeded, preview equals the head of the import, keys unique, plausible values, SQL."""

from __future__ import annotations

import io
import ipaddress
import re
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Sequence

import pytest

from d1tui.convert.fake import rows as fake
from d1tui.convert.fake.rows import column_kinds, fake_rows, write_fake_sql
from d1tui.convert.schema import TARGET_D1_TABLE, Column, TableSchema
from d1tui.convert.sql.inserts import STATEMENT_LIMIT, InsertWriter
from d1tui.errors import BadInputError

SIX = TableSchema(
    "people",
    (
        Column("id", "INTEGER", pk=True),
        Column("name", "TEXT", notnull=True),
        Column("email", "TEXT", notnull=True, unique=True),
        Column("score", "REAL"),
        Column("created_at", "TEXT", notnull=True),
        Column("note", "TEXT"),
    ),
)
WIDE = TableSchema(
    "wide",
    (
        Column("code", "TEXT", pk=True),
        Column("username", "VARCHAR(40)", unique=True),
        Column("guid", "TEXT", unique=True),
        Column("ticket", "INTEGER", unique=True, notnull=True),
        Column("first_name", "TEXT"),
        Column("lastName", "TEXT"),
        Column("phone", "TEXT"),
        Column("street_address", "TEXT"),
        Column("city", "TEXT"),
        Column("country", "TEXT"),
        Column("company", "TEXT"),
        Column("website", "TEXT"),
        Column("ip_address", "TEXT"),
        Column("title", "TEXT"),
        Column("price", "REAL", notnull=True),
        Column("amount", "INTEGER"),
        Column("lat", "REAL"),
        Column("lng", "DOUBLE"),
        Column("birthday", "DATE"),
        Column("updated_at", "INTEGER"),
        Column("is_active", "BOOLEAN"),
        Column("payload", "BLOB"),
        Column("ratio", "NUMERIC"),
        Column("mystery", ""),
        Column("it's", "TEXT"),
    ),
)


def _reference_sql(schema: TableSchema, rows: Sequence[tuple[object, ...]], key: str) -> bytes:
    buf = io.BytesIO()
    writer = InsertWriter(buf.write, schema.name, [c.name for c in schema.columns], key_column=key)
    for row in rows:
        writer.add_row(row)
    writer.close()
    return buf.getvalue()


def _load(schema: TableSchema, sql: bytes) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.executescript("BEGIN;\n" + schema.create_sql() + "\n" + sql.decode() + "COMMIT;")
    return conn


@pytest.mark.parametrize("schema", [TARGET_D1_TABLE, SIX, WIDE], ids=lambda s: s.name)
def test_sql_is_byte_identical_to_insert_writer_and_loads(schema: TableSchema) -> None:
    key = schema.columns[0].name
    rows = list(fake_rows(schema, 3_001, seed=11, start_ids={key: 41} if key == "id" else None))
    buf = io.BytesIO()
    report = write_fake_sql(
        schema, 3_001, buf.write, seed=11, start_ids={key: 41} if key == "id" else None
    )
    sql = buf.getvalue()
    assert sql == _reference_sql(schema, rows, key)
    assert report.rows == 3_001 and report.bytes_written == len(sql)
    statements = sql.split(b";\n")[:-1]
    assert report.statements == len(statements) > 1
    assert all(len(s) + 1 <= STATEMENT_LIMIT for s in statements)
    conn = _load(schema, sql)
    assert conn.execute(f'SELECT count(*) FROM "{schema.name}"').fetchone() == (3_001,)
    got = conn.execute(f'SELECT * FROM "{schema.name}" ORDER BY rowid LIMIT 50').fetchall()
    assert [tuple(r) for r in got] == [
        tuple(float(v) if isinstance(v, float) else v for v in row) for row in rows[:50]
    ]


def test_same_seed_same_rows_and_preview_is_the_head_of_the_import() -> None:
    full = list(fake_rows(SIX, 10_000, seed=11))
    assert list(fake_rows(SIX, 10_000, seed=11)) == full
    for head in (1, 50, 4_097):
        assert list(fake_rows(SIX, head, seed=11)) == full[:head]
    assert list(fake_rows(SIX, 50, seed=12)) != full[:50]
    preview = io.BytesIO()
    write_fake_sql(SIX, 51, preview.write, seed=11)
    assert _load(SIX, preview.getvalue()).execute("SELECT * FROM people").fetchall() == full[:51]


def test_keys_unique_and_after_the_current_max() -> None:
    rows = list(fake_rows(SIX, 20_000, seed=11, start_ids={"id": 1_000}))
    ids = [r[0] for r in rows]
    assert ids == list(range(1_001, 21_001))
    emails = [r[2] for r in rows]
    assert len(set(emails)) == len(emails)
    wide = list(fake_rows(WIDE, 20_000, seed=11))
    for i in (0, 1, 2, 3):  # text pk, unique username, unique guid, unique integer
        column = [r[i] for r in wide]
        assert None not in column and len(set(column)) == len(column), WIDE.columns[i].name
    uuid.UUID(str(wide[0][2]))


def test_not_null_honoured_and_nullable_columns_get_some_nulls() -> None:
    rows = list(fake_rows(SIX, 20_000, seed=11))
    columns = list(zip(*rows, strict=True))
    for i, column in enumerate(SIX.columns):
        share = columns[i].count(None) / len(rows)
        if column.notnull or column.pk or column.unique:
            assert share == 0, column.name
        else:
            assert 0.04 <= share <= 0.10, (column.name, share)


def test_values_are_plausible_for_the_column_names() -> None:
    rows = list(fake_rows(WIDE, 2_000, seed=11))
    by_name = {c.name: [r[i] for r in rows if r[i] is not None] for i, c in enumerate(WIDE.columns)}
    assert all(re.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]+", e) for e in _emails())
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", str(v)) for v in by_name["birthday"])
    assert all(isinstance(v, int) and v > 1_500_000_000 for v in by_name["updated_at"])
    assert all(isinstance(v, float) and 1 <= v <= 1000 for v in by_name["price"])
    assert all(round(v, 2) == v for v in by_name["price"])  # type: ignore[call-overload]
    assert all(-90 <= v <= 90 for v in by_name["lat"])  # type: ignore[operator]
    assert all(-180 <= v <= 180 for v in by_name["lng"])  # type: ignore[operator]
    assert all(str(v).startswith("https://") for v in by_name["website"])
    assert all(ipaddress.ip_address(str(v)) for v in by_name["ip_address"])
    assert all(sum(ch.isdigit() for ch in str(v)) >= 7 for v in by_name["phone"])
    assert set(by_name["is_active"]) == {0, 1}
    assert all(isinstance(v, bytes) and len(v) == 16 for v in by_name["payload"])
    assert all(isinstance(v, int) for v in by_name["amount"])
    stamps = [r[4] for r in fake_rows(SIX, 500, seed=11)]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", str(s)) for s in stamps)
    kinds = column_kinds(WIDE)
    assert kinds["lastName"] == "last_name" and kinds["street_address"] == "address"
    assert kinds["mystery"] == "words" and kinds["it's"] == "words"


def _emails() -> list[str]:
    return [str(r[2]) for r in fake_rows(SIX, 2_000, seed=9)]


def test_ten_thousand_distinct_values_per_text_column_over_100k_rows() -> None:
    for schema, text_columns in ((TARGET_D1_TABLE, (1, 2)), (SIX, (1, 2, 4, 5))):
        columns = list(zip(*fake_rows(schema, 100_000, seed=11), strict=True))
        for i in text_columns:
            distinct = len(set(columns[i]) - {None})
            assert distinct >= 10_000, (schema.columns[i].name, distinct)


def test_locale_changes_values_and_unknown_locale_is_bad_input() -> None:
    schema = TableSchema("p", (Column("first_name", "TEXT", notnull=True),))
    german = {r[0] for r in fake_rows(schema, 300, seed=1, locale="de_DE")}
    english = {r[0] for r in fake_rows(schema, 300, seed=1)}
    assert german != english
    with pytest.raises(BadInputError, match="locale"):
        list(fake_rows(schema, 1, seed=1, locale="xx_NOPE"))


def test_faker_is_imported_only_when_rows_are_made() -> None:
    code = "import sys, d1tui.convert.fake.rows; print('faker' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_rows_do_not_depend_on_what_was_generated_before() -> None:
    mixed = TableSchema(
        "mixed",
        tuple(Column(n, "TEXT") for n in ("first_name", "title", "phone")),
    )
    first = list(fake_rows(mixed, 20, seed=11))
    fake._parts.cache_clear()  # as in a fresh process: pools rebuilt...
    fake._pool.cache_clear()
    other = TableSchema("other", (Column("note", "TEXT"), Column("last_name", "TEXT")))
    list(fake_rows(other, 20, seed=11))  # ...after another table used the same Faker
    assert list(fake_rows(mixed, 20, seed=11)) == first


@pytest.mark.parametrize(
    ("name", "type_", "kind"),
    [
        ("Email Address", "TEXT", "email"),
        ("createdAt", "TEXT", "timestamp"),
        ("when", "INTEGER", "epoch"),
        ("created", "DATETIME", "timestamp"),
        ("price", "INT", "cents"),
        ("total", "DECIMAL(10,2)", "money"),
        ("ok", "BOOLEAN", "bool"),
        ("score", "REAL", "rating"),
        ("user_id", "INTEGER", "integer"),
        ("data", "JSON", "words"),
        ("body", "", "paragraph"),
        ("photo", "BLOB", "blob"),
        ("zip_code", "TEXT", "postcode"),
        ("longitude", "REAL", "lng"),
    ],
)
def test_kind_from_name_then_type(name: str, type_: str, kind: str) -> None:
    assert column_kinds(TableSchema("t", (Column(name, type_),)))[name] == kind
