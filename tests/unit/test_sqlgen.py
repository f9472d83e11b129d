"""sqlgen: literals, identifiers and packed INSERTs, checked by running them in real SQLite."""

from __future__ import annotations

import math
import random
import re
import sqlite3
import struct
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from d1tui.convert.sql.inserts import (
    ROW_LIMIT,
    STATEMENT_LIMIT,
    InsertWriter,
    float_literal,
    quote_identifier,
    sql_literal,
)
from d1tui.errors import BadInputError, Location

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
NASTY = st.sampled_from(list("'\"\\\n\r\t\x00;,()😀é中\u2028\ufeff"))
TEXT = st.text(alphabet=st.one_of(NASTY, st.characters(exclude_categories=["Cs"])))
VALUE = st.one_of(
    st.none(),
    st.booleans(),
    INT64,
    st.sampled_from([2**63 - 1, -(2**63), 0, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([-0.0, 5e-324, 2.2250738585072014e-308, 1e308, 1.7976931348623157e308]),
    TEXT,
    st.binary(),
)


def _kind(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    if isinstance(value, bool | int):
        return "integer"
    if isinstance(value, float):
        return "real"
    if isinstance(value, str):
        return "text"
    return "blob"


def _same(expected: object, got: object) -> bool:
    if isinstance(expected, float) and not math.isnan(expected):
        return isinstance(got, float) and struct.pack("<d", expected) == struct.pack("<d", got)
    if isinstance(expected, float):
        return got is None
    if isinstance(expected, bool):
        return got == int(expected)
    return type(got) is type(expected) and got == expected


def _round_trip(
    rows: Sequence[Sequence[object]], *, limit: int = STATEMENT_LIMIT, key: str | None = None
) -> list[bytes]:
    """Write rows, run every statement alone in SQLite, assert values, types and sizes."""
    ncols = len(rows[0])
    columns = [f'c"{i}' for i in range(ncols)]
    statements: list[bytes] = []
    writer = InsertWriter(statements.append, 'my "table"', columns, key_column=key, limit=limit)
    for row in rows:
        writer.add_row(row)
    writer.close()
    assert writer.rows == len(rows)
    assert writer.statements == len(statements)
    assert writer.bytes_written == sum(map(len, statements))
    conn = sqlite3.connect(":memory:")
    cols_sql = ",".join(quote_identifier(c) for c in columns)
    conn.execute(f'CREATE TABLE "my ""table""" ({cols_sql})')
    for stmt in statements:
        assert stmt.endswith(b";\n")
        assert len(stmt) - 1 <= limit, f"statement of {len(stmt) - 1} bytes"
        conn.execute(stmt.decode("utf-8"))
    select = ",".join(f"{q}, typeof({q})" for q in map(quote_identifier, columns))
    got = conn.execute(f'SELECT {select} FROM "my ""table""" ORDER BY rowid').fetchall()
    assert len(got) == len(rows)
    for row, back in zip(rows, got, strict=True):
        for i, value in enumerate(row):
            assert back[2 * i + 1] == _kind(value), (value, back[2 * i + 1])
            assert _same(value, back[2 * i]), (value, back[2 * i])
    return statements


@given(st.integers(1, 6).flatmap(lambda n: st.lists(st.tuples(*[VALUE] * n), min_size=1)))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_rows_round_trip_exactly(rows: list[tuple[object, ...]]) -> None:
    _round_trip(rows)


@given(
    st.lists(
        st.tuples(INT64, st.one_of(TEXT, st.binary()), st.one_of(TEXT, st.binary(), st.none())),
        min_size=1,
        max_size=6,
    ),
    st.booleans(),
)
@settings(max_examples=100, deadline=None)
def test_small_limit_exercises_packing_and_long_rows(
    rows: list[tuple[object, ...]], by_key: bool
) -> None:
    # A 200-byte limit makes ordinary values "long": the UPDATE path runs on most examples.
    if by_key:
        rows = [(i, *row[1:]) for i, row in enumerate(rows)]  # a unique key
    _round_trip(rows, limit=200, key='c"0' if by_key else None)


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("é'😀\n" * 30_000, None),  # ~240 KB text, multi-byte characters at every split
        ("'" * 150_000, 'c"0'),  # every byte doubles when quoted
        ("a\x00b" * 200_000, None),  # NUL-holding text: CAST(X'…' AS TEXT) pieces
        (bytes(range(256)) * 4_000, 'c"0'),  # ~1 MB blob
        ("x" * (ROW_LIMIT - 8 - 5), None),  # exactly at the row limit with 7 and "short"
    ],
    ids=["multibyte", "quotes", "nul-text", "blob", "row-limit"],
)
def test_long_rows_round_trip_under_the_real_limit(value: object, key: str | None) -> None:
    statements = _round_trip([(7, value, "short"), (8, "next", None)], key=key)
    assert any(s.startswith(b"UPDATE ") for s in statements)


def test_rows_over_the_row_limit_are_refused_with_their_number() -> None:
    writer = InsertWriter(lambda b: None, "t", ["a", "b"])
    writer.add_row((1, "ok"))
    with pytest.raises(BadInputError, match=r"row 2 of table 't'.*2,000,001 bytes"):
        writer.add_row((2, "x" * (ROW_LIMIT + 1 - 8)))
    where = Location(path=Path("f.csv"), line=9)
    with pytest.raises(BadInputError) as info:
        writer.add_row((3, b"\x00" * (ROW_LIMIT + 1)), where=where)
    assert info.value.where == where
    assert "f.csv, line 9" in str(info.value)


def test_packing_is_greedy_and_byte_exact() -> None:
    prefix = 'INSERT INTO "t" ("a") VALUES '
    rows = [("x" * 10,)] * 50
    out: list[bytes] = []
    row_len = len("('xxxxxxxxxx')")
    limit = len(prefix) + 3 * row_len + 2 + 1  # exactly three rows, commas and ';'
    writer = InsertWriter(out.append, "t", ["a"], limit=limit)
    for row in rows:
        writer.add_row(row)
    writer.close()
    assert [len(s) - 1 for s in out[:-1]] == [limit] * (len(out) - 1)
    assert out[0] == (prefix + ",".join(["('xxxxxxxxxx')"] * 3) + ";\n").encode()


def test_canonical_statement_form() -> None:
    out: list[bytes] = []
    writer = InsertWriter(out.append, "t", ["a", "b"])
    writer.add_row((1, "x"))
    writer.add_row((2, None))
    writer.close()
    assert out == [b'INSERT INTO "t" ("a","b") VALUES (1,\'x\'),(2,NULL);\n']


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (None, "NULL"),
        (True, "1"),
        (False, "0"),
        (-(2**63), "-9223372036854775808"),
        (2**64, "'18446744073709551616'"),
        ("it's", "'it''s'"),
        ("a\x00", "CAST(X'6100' AS TEXT)"),
        (b"\x00\xff", "X'00ff'"),
        (3.0, "3.0"),
        (-0.0, "-0.0"),
        (0.5, "(5.0/10)"),
        (2855.63, "(285563.0/100)"),
        (-0.0001, "(-1.0/10000)"),
        (123456789012345.0, "123456789012345.0"),
        (2.0**53 - 1, "9007199254740991.0"),
        (0.1 + 0.2, "(1351079888211149.0/4503599627370496)"),  # 17 digits: binary
        (1e-05, "(5902958103587057.0/4611686018427387904/128)"),  # an exponent: binary
        (float("inf"), "9e999"),
        (float("-inf"), "-9e999"),
        (float("nan"), "NULL"),
        (2.0**60, "(1.0*1152921504606846976)"),
    ],
)
def test_literals(value: object, literal: str) -> None:
    assert sql_literal(value) == literal


def test_identifier_quotes_are_doubled() -> None:
    assert quote_identifier('a"b') == '"a""b"'
    with pytest.raises(BadInputError):
        quote_identifier("a\x00b")


def test_big_integers_become_exact_text() -> None:
    conn = sqlite3.connect(":memory:")
    assert conn.execute(f"SELECT {sql_literal(-(2**70))}").fetchone() == (str(-(2**70)),)


def test_unsupported_types_and_lone_surrogates_are_refused() -> None:
    with pytest.raises(TypeError):
        sql_literal(object())
    writer = InsertWriter(lambda b: None, "t", ["a"])
    with pytest.raises(BadInputError, match="surrogate"):
        writer.add_row(("\ud800",))


def test_decimal_text_would_not_be_exact_but_float_literal_is() -> None:
    # SQLite's own decimal parser is not correctly rounded: the reason for the fraction forms.
    conn = sqlite3.connect(":memory:")
    for x in (51.27239282695, 0.000401419, 8.1162e-17, 5e-324, 1.7976931348623157e308):
        (back,) = conn.execute(f"SELECT {float_literal(x)}").fetchone()
        assert struct.pack("<d", back) == struct.pack("<d", x)


def test_a_prerendered_long_row_needs_its_values() -> None:
    writer = InsertWriter(lambda b: None, "t", ["a"], limit=100)
    with pytest.raises(ValueError, match="must come with its values"):
        writer.add_rendered(b"('" + b"x" * 200 + b"')", ())


@given(
    st.integers(100_000, ROW_LIMIT - 100),
    st.sampled_from(["a", "'", "é", "😀", "\x00", "a'\n"]),
    st.sampled_from(["text", "blob"]),
    st.booleans(),
)
@settings(max_examples=8, deadline=None)
def test_long_values_up_to_the_row_limit_round_trip(
    size: int, unit: str, kind: str, by_key: bool
) -> None:
    text = unit * (size // len(unit.encode()))
    value: object = text if kind == "text" else text.encode()
    _round_trip([(1, value), (2, "next")], key='c"0' if by_key else None)


def test_short_decimals_become_exact_decimal_fractions() -> None:
    """20,000 short decimals: most are written (<digits>.0/<10**f>), each reads back bit for bit."""
    rng = random.Random(7)
    values = [round(rng.uniform(-1e6, 1e6), rng.randint(0, 12)) for _ in range(10_000)]
    values += [rng.randint(-(10**15), 10**15) / 10 ** rng.randint(0, 19) for _ in range(10_000)]
    conn = sqlite3.connect(":memory:")
    decimal = 0
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        literals = [float_literal(v) for v in chunk]
        decimal += sum(bool(re.fullmatch(r"\(-?[1-9][0-9]*\.0/10*\)", lit)) for lit in literals)
        got = conn.execute("SELECT " + ",".join(literals)).fetchone()
        assert [struct.pack("<d", g) for g in got] == [struct.pack("<d", v) for v in chunk]
    assert decimal > 15_000
