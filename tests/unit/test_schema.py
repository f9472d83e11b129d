"""schema: exact inference rules, CREATE TABLE text, overrides and mapping onto existing tables."""

from __future__ import annotations

import sqlite3

import pytest

from d1tui.convert.schema import (
    INTEGER,
    NULL,
    REAL,
    TARGET_D1_TABLE,
    TEXT,
    Column,
    TableSchema,
    build_schema,
    classify_text,
    classify_value,
    map_columns,
    unique_names,
)
from d1tui.errors import BadInputError


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", NULL),
        ("0", INTEGER),
        ("-12", INTEGER),
        ("9223372036854775807", INTEGER),
        ("9223372036854775808", TEXT),  # beyond 64 bits
        ("007", TEXT),
        ("02134", TEXT),
        ("1e3", REAL),
        ("1.5", REAL),
        (".5", REAL),
        ("007.5", TEXT),
        ("NaN", TEXT),
        ("inf", TEXT),
        ("1e999", TEXT),  # not finite as a double
        (" 1", TEXT),
        ("1_000", TEXT),
    ],
)
def test_text_classification(text: str, kind: int) -> None:
    assert classify_text(text)[0] == kind


def test_big_integers_flag_so_real_columns_become_text() -> None:
    assert classify_text("9007199254740993") == (INTEGER, True)
    assert classify_value(2**60) == (INTEGER, True)
    assert classify_value(2**70) == (TEXT, False)
    assert classify_value(True) == (INTEGER, False)
    assert classify_value({"a": 1}) == (TEXT, False)


def test_target_table_sql_runs_in_sqlite() -> None:
    sql = TARGET_D1_TABLE.create_sql()
    assert sql == (
        'CREATE TABLE IF NOT EXISTS "TargetD1Table" '
        '("id" INTEGER PRIMARY KEY, "text" TEXT, "date_added" TEXT);'
    )
    conn = sqlite3.connect(":memory:")
    conn.execute(sql)
    conn.execute(sql)  # IF NOT EXISTS


def test_create_sql_quotes_names_and_composite_keys() -> None:
    schema = TableSchema(
        'we"ird',
        (
            Column("a b", "TEXT", pk=True),
            Column("c", "INTEGER", pk=True),
            Column("d", "REAL", notnull=True, unique=True, default="0"),
        ),
    )
    sql = schema.create_sql(if_not_exists=False)
    assert sql.startswith('CREATE TABLE "we""ird" ("a b" TEXT, "c" INTEGER, "d" REAL NOT NULL')
    assert sql.endswith('PRIMARY KEY ("a b", "c"));')
    sqlite3.connect(":memory:").execute(sql)


def test_build_schema_overrides_and_limits() -> None:
    schema = build_schema(
        "t", ["id", "zip", "x"], [INTEGER, TEXT, NULL], types={"ZIP": "text"}, pk="id"
    )
    assert [(c.name, c.type, c.pk) for c in schema.columns] == [
        ("id", "INTEGER", True),
        ("zip", "TEXT", False),
        ("x", "TEXT", False),
    ]
    with pytest.raises(BadInputError, match="not a column type"):
        build_schema("t", ["a"], [TEXT], types={"a": "TEXT); DROP TABLE x; --"})
    with pytest.raises(BadInputError, match="no such column"):
        build_schema("t", ["a"], [TEXT], pk="b")
    with pytest.raises(BadInputError, match="101 columns"):
        build_schema("t", [f"c{i}" for i in range(101)], [TEXT] * 101)


def test_unique_names() -> None:
    names, warnings = unique_names(["a", "A", "", "a"])
    assert names == ["a", "A_2", "col3", "a_3"]
    assert len(warnings) == 3


def test_mapping_by_name_case_insensitive_reports_both_sides() -> None:
    m = map_columns(["TEXT", "extra", "Date_Added"], TARGET_D1_TABLE)
    assert m.pairs == ((0, "text"), (2, "date_added"))
    assert m.unmatched_source == ("extra",)
    assert m.missing_target == ("id",)  # the rowid alias fills itself
    assert any("extra" in w for w in m.warnings)


def test_mapping_refuses_required_columns_without_values() -> None:
    target = TableSchema("t", (Column("id", "TEXT", pk=True), Column("name", "TEXT", notnull=True)))
    with pytest.raises(BadInputError, match="requires a value for id, name"):
        map_columns(["other", "name2", "x"], TableSchema("t", (*target.columns, Column("x", ""))))
    ok = TableSchema("t", (Column("n", "TEXT", notnull=True, default="'?'"), Column("x", "")))
    assert map_columns(["x"], ok).missing_target == ("n",)
    with pytest.raises(BadInputError, match="no column of the file matches"):
        map_columns(["q"], ok)
